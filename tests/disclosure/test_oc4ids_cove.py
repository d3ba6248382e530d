"""The demo's OC4IDS package through the Open Contracting Partnership's own checker, lib-cove-oc4ids
(``libcoveoc4ids``, the library behind the OC4IDS Data Review Tool): zero schema errors, zero codelist errors and
zero additional-check warnings (empty values, amounts without a currency, organisation references without a party,
project identifier prefix).

The checker fetches the schema and codelists over HTTP; here it reads the official OC4IDS 0.9.4 files shipped in
``tests/data/oc4ids-0.9.4`` instead (schema host = that folder; the codelist loader answered from the same
folder), so the test runs offline and checks the schema version the export claims."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from naef.disclosure import oc4ids

from .conftest import OC4IDS_DIR, read_ledger

cove_api = pytest.importorskip("libcoveoc4ids.api", reason="libcoveoc4ids is in the test extra")


class _LocalResponse:
    """What libcove reads of a ``requests`` response, from a local file."""

    def __init__(self, path: Path) -> None:
        self._data = path.read_bytes()
        self.text = self._data.decode("utf-8")

    def raise_for_status(self) -> None:
        return None

    def iter_lines(self) -> list[bytes]:
        return self._data.splitlines()

    def json(self, **kwargs: Any) -> Any:
        return json.loads(self.text, **kwargs)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Any:
    import libcove.lib.common as common
    from libcoveoc4ids.config import LibCoveOC4IDSConfig

    def local(url: str, config: Any = None, force_cache: bool = False) -> _LocalResponse:
        name = url.rsplit("/", 1)[-1]
        path = OC4IDS_DIR / ("codelists" if name.endswith(".csv") else "") / name
        if not path.is_file():
            raise AssertionError(f"lib-cove asked for {url}, not shipped in {OC4IDS_DIR}")
        return _LocalResponse(path)

    monkeypatch.setattr(common, "get_request", local)
    common.load_core_codelists.cache_clear()
    host = f"{OC4IDS_DIR}/"
    return LibCoveOC4IDSConfig({
        "schema_version": "0.9.4",
        "schema_version_choices": {"0.9.4": ("0.9.4", host)},
        "schema_host": host,
        "schema_codelists": {"0.9": "https://local/codelists/"},
    })


def test_the_demo_package_passes_lib_cove_oc4ids(demo_url: str, tmp_path: Path, offline: Any) -> None:
    entries, checkpoint = read_ledger(demo_url, oc4ids.INPUT_TYPES)
    package = json.loads(oc4ids.render(entries, checkpoint).files[oc4ids.FILE])
    result = cove_api.oc4ids_json_output(str(tmp_path), json_data=package, lib_cove_oc4ids_config=offline)
    assert result["version_used"] == "0.9.4"
    assert result["validation_errors"] == []
    assert result["conformance_checks"] == []  # project identifier prefix
    assert result["additional_checks"] == []  # empty values, missing currency, org references without a party
    assert result["additional_closed_codelist_values"] == {}
    # open codelists may be extended (a note, not a warning): the gazetteer scheme ISO3166-2 and the cost
    # classification scheme naef-unit-cost, both documented in docs/disclosure.md
    open_values = result["additional_open_codelist_values"]
    assert {k: v["values"] for k, v in open_values.items()} == {
        "projects/locations/gazetteer/scheme": ["ISO3166-2"],
        "projects/costMeasurements/costGroups/costs/classification/scheme": ["naef-unit-cost"],
    }
    # the fields outside the schema are the ledger references, nothing else
    assert {field for _, field, _ in result["data_only"]} == {
        "naefLedgerCheckpoint", "naefLedgerEntries", "naefLedgerEntry"}


def test_lib_cove_oc4ids_does_flag_a_broken_package(demo_url: str, tmp_path: Path, offline: Any) -> None:
    entries, checkpoint = read_ledger(demo_url, oc4ids.INPUT_TYPES)
    package = json.loads(oc4ids.render(entries, checkpoint).files[oc4ids.FILE])
    first = package["projects"][0]
    first["status"] = "not-a-status"
    first["description"] = " "
    first["budget"]["amount"].pop("currency")
    first["publicAuthority"]["id"] = "nobody"
    first["budget"]["amount"]["amount"] = "lots"
    result = cove_api.oc4ids_json_output(str(tmp_path), json_data=package, lib_cove_oc4ids_config=offline)
    assert result["validation_errors"]
    assert "projects/status" in result["additional_closed_codelist_values"]
    checks = result["additional_checks"]
    assert {"missing-values", "missing-currency", "missing-org-refs"} <= {c["check_id"] for c in checks}
