"""Where the tests' data live: ``tests/data/`` (copies of the standards' own files, each with its source and
licence in ``tests/data/README.md``) and the package's shipped data (``naef/data/``). Nothing here reads outside
the repository."""

from __future__ import annotations

from pathlib import Path

from naef.resources import data_dir

TEST_DATA = Path(__file__).resolve().parent / "data"
EIA = data_dir("eia")  # U.S. EIA Brent and WTI spot prices, shipped with naef
BRENT_MONTHLY = EIA / "brent-monthly.csv"
BODS_EXAMPLES = TEST_DATA / "bods-0.4" / "examples"
CT_TREE_VECTORS = TEST_DATA / "ct-merkle" / "tree-vectors.json"
C2SP = TEST_DATA / "c2sp"
IATI_DIR = TEST_DATA / "iati-2.03"
OC4IDS_DIR = TEST_DATA / "oc4ids-0.9.4"
