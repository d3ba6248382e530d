"""Complete bundles: a bundle holds the whole log up to its checkpoint, so leaving out one entry — or one fact of
it from a published file — fails and is named; a stale bundle is refused with --not-older-than (issue 20, item 1).

The attacks are the ones a review ran on the demo ledger: the schools project's benchmark flag left out of the
IATI bundle, the port's disbursement and the payee's beneficial owner left out of the OC4IDS bundle, and an old
checkpoint (size 73) passed off as current.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from naef.demo import demo_key
from naef.disclosure import BundleVerificationError, export_bundle, verify_bundle
from naef.disclosure.bundle import ENTRIES_FILE, FORMATS, MANIFEST_FILE
from naef.disclosure.common import ExportCheckpoint
from naef.disclosure.completeness import parse_instant
from naef.disclosure.errors import DisclosureError
from naef.disclosure.orgid import publisher
from naef.ledger.entries import decode_entry
from naef.ledger.keys import SIG_COSIGNATURE_V1, VerifierKey
from naef.ledger.log import StoredEntry
from naef.ledger.merkle import inclusion_proof, root_hash

from .conftest import DemoLayout, read_ledger


@pytest.fixture(scope="module")
def bundles(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("complete")
    return {fmt: export_bundle(demo_url, fmt, root / fmt).folder for fmt in ("iati", "oc4ids", "eiti")}


def _log(folder: Path) -> list[StoredEntry]:
    out = []
    for line in (folder / ENTRIES_FILE).read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        e = decode_entry(obj["entry"].encode("utf-8"))
        out.append(StoredEntry(obj["index"], e.type, e.time, e.payload, e.canonical, e.leaf_hash))
    return out


def _index(folder: Path, test: Callable[[StoredEntry], bool]) -> int:
    found = [e.index for e in _log(folder) if test(e)]
    assert len(found) == 1, found
    return found[0]


def _rerender(folder: Path, *, drop: int, keep_in_log: bool) -> None:
    """What a dishonest publisher does: re-render the format's files (and the manifest's records) from the log
    without entry ``drop``; the entry stays in ``entries.jsonl`` when ``keep_in_log``."""
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    module = FORMATS[manifest["format"]]
    cp = manifest["checkpoint"]
    checkpoint = ExportCheckpoint(cp["origin"], cp["size"], bytes.fromhex(cp["root_hash"]), cp["note"])
    log = _log(folder)
    pub = replace(publisher(manifest["publisher"]), as_of=manifest["as_of"])
    rendered = module.render(
        [e for e in log if e.index != drop and e.type in module.INPUT_TYPES], checkpoint, publisher=pub
    )
    for name, data in rendered.files.items():
        (folder / name).write_bytes(data)
    manifest["records"] = [r.to_json() for r in rendered.records]
    manifest["entries"] = sorted({i for r in rendered.records for i in r.leaves})
    leaves = [e.leaf_hash for e in log]
    for i in manifest["entries"]:  # the publisher holds the log: it can prove any entry the new records use
        path = folder / "proofs" / "inclusion" / f"{i}.json"
        if not path.exists():
            nodes = inclusion_proof(i, len(leaves), lambda want: {
                (lv, k): root_hash(leaves[k << lv:(k + 1) << lv]) for lv, k in want})
            path.write_text(json.dumps({"index": i, "size": len(leaves), "leaf_hash": leaves[i].hex(),
                                        "root_hash": cp["root_hash"], "inclusion_path": [h.hex() for h in nodes]}))
    if not keep_in_log:
        manifest["log"]["counts"][next(e.type for e in log if e.index == drop)] -= 1
        lines = (folder / ENTRIES_FILE).read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if json.loads(line)["index"] != drop]
        (folder / ENTRIES_FILE).write_text("\n".join(kept) + "\n", encoding="utf-8")
        (folder / "proofs" / "inclusion" / f"{drop}.json").unlink(missing_ok=True)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _fails(folder: Path, key: VerifierKey, **kw: object) -> BundleVerificationError:
    with pytest.raises(BundleVerificationError) as exc:
        verify_bundle(folder, key, **kw)  # type: ignore[arg-type]
    assert "\n" not in exc.value.message
    return exc.value


def _copy(bundles: dict[str, Path], fmt: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundles[fmt], tmp_path / fmt))


def _is_flag(e: StoredEntry) -> bool:
    return e.type == "benchmark_flag" and e.payload.get("proposal_id") == "MDF-0003"


def _is_port_execution(e: StoredEntry) -> bool:
    return e.type == "disbursement_executed" and e.payload.get("proposal_id") == "MDF-0002"


def _is_owner(e: StoredEntry) -> bool:
    st = e.payload.get("statement", {})
    return e.type == "beneficial_ownership_statement" and st.get("recordType") == "person"


def test_the_bundle_holds_the_whole_log_and_the_manifest_counts_it(
    demo_url: str, bundles: dict[str, Path], log_vkey: VerifierKey
) -> None:
    all_entries, cp = read_ledger(demo_url)
    for fmt, folder in bundles.items():
        log = _log(folder)
        assert [e.index for e in log] == list(range(cp.size)), fmt
        assert [e.canonical for e in log] == [e.canonical for e in all_entries], fmt
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        counts: dict[str, int] = {}
        for e in all_entries:
            counts[e.type] = counts.get(e.type, 0) + 1
        assert manifest["log"] == {"size": cp.size, "counts": dict(sorted(counts.items()))}
        verify_bundle(folder, log_vkey)


@pytest.mark.parametrize(
    ("fmt", "which", "record"),
    [
        ("iati", _is_flag, "iati-activity"),
        ("oc4ids", _is_owner, "project"),
        ("oc4ids", _is_port_execution, "project"),
    ],
    ids=["iati-without-the-benchmark-flag", "oc4ids-without-the-owner", "oc4ids-without-the-disbursement"],
)
def test_an_entry_left_out_of_the_bundle_is_named(
    bundles: dict[str, Path], log_vkey: VerifierKey, tmp_path: Path, fmt: str,
    which: Callable[[StoredEntry], bool], record: str,
) -> None:
    folder = _copy(bundles, fmt, tmp_path)
    index = _index(folder, which)
    _rerender(folder, drop=index, keep_in_log=False)
    error = _fails(folder, log_vkey)
    assert f"ledger entry {index} missing from {ENTRIES_FILE}" in error.failures[0]


@pytest.mark.parametrize(
    ("fmt", "which", "what"),
    [
        ("iati", _is_flag, "iati-activity XE-EXAMPLE-NAEF-MDF-schools-chihuahua"),
        ("oc4ids", _is_owner, "project oc4ids-naefmdf-port-veracruz-terminal"),
        ("oc4ids", _is_port_execution, "project oc4ids-naefmdf-port-veracruz-terminal"),
    ],
    ids=["iati-flag", "oc4ids-owner", "oc4ids-disbursement"],
)
def test_a_fact_left_out_of_the_files_is_named_even_with_the_whole_log(
    bundles: dict[str, Path], log_vkey: VerifierKey, tmp_path: Path, fmt: str,
    which: Callable[[StoredEntry], bool], what: str,
) -> None:
    folder = _copy(bundles, fmt, tmp_path)
    _rerender(folder, drop=_index(folder, which), keep_in_log=True)
    error = _fails(folder, log_vkey)
    assert what in error.records
    assert any(f.startswith(what) for f in error.failures)


def test_a_changed_count_names_the_type(bundles: dict[str, Path], log_vkey: VerifierKey, tmp_path: Path) -> None:
    folder = _copy(bundles, "eiti", tmp_path)
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["log"]["counts"]["benchmark_flag"] = 0
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    error = _fails(folder, log_vkey)
    assert error.failures == ("manifest.json: log.counts: benchmark_flag: the manifest says 0, the log holds 1",)


def test_an_entry_of_another_log_in_place_of_one_fails_the_tree_hash(
    bundles: dict[str, Path], log_vkey: VerifierKey, tmp_path: Path
) -> None:
    folder = _copy(bundles, "eiti", tmp_path)
    lines = (folder / ENTRIES_FILE).read_text(encoding="utf-8").splitlines()
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    unused = next(i for i in range(len(lines)) if i not in manifest["entries"])
    a = json.loads(lines[unused])
    a["entry"] = a["entry"].replace('"time":"', '"time":"1', 1)
    lines[unused] = json.dumps(a)
    (folder / ENTRIES_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    error = _fails(folder, log_vkey)
    assert any("entries do not hash to the signed root" in f for f in error.failures)


def test_a_stale_bundle_is_refused_and_its_times_are_shown(
    demo_url: str, bundles: dict[str, Path], log_vkey: VerifierKey, demo_layout: DemoLayout, tmp_path: Path
) -> None:
    old = export_bundle(demo_url, "iati", tmp_path / "old", size=demo_layout.sizes[-2]).folder
    witnesses = [demo_key(n).verifier(SIG_COSIGNATURE_V1) for n in ("controller", "observer-1")]
    report = verify_bundle(old, log_vkey, witnesses=witnesses)
    log = _log(old)
    assert report.as_of == log[-1].time
    assert report.as_of.startswith("20")
    assert len(report.cosigned_at) == 2
    line = report.line()
    assert f"last entry recorded {report.as_of}" in line
    assert "cosigned by controller at 20" in line
    assert "observer-1 at 20" in line
    current = verify_bundle(bundles["iati"], log_vkey)
    limit = parse_instant(current.as_of)
    assert verify_bundle(bundles["iati"], log_vkey, not_older_than=limit).checkpoint.size == demo_layout.size
    error = _fails(old, log_vkey, not_older_than=limit)
    assert error.failures[0].startswith(f"stale: the bundle's freshest time is {report.as_of[:19]}Z (the log's last")
    assert f"older than --not-older-than {current.as_of[:19]}" in error.failures[0]
    # the witnesses' cosignatures count as evidence of freshness (they are signed with their times)
    newest_cosig = max(t for _, t in report.cosigned_at)
    fresh = datetime.fromtimestamp(newest_cosig, UTC)
    verify_bundle(old, log_vkey, witnesses=witnesses, not_older_than=fresh)
    with pytest.raises(BundleVerificationError):
        verify_bundle(old, log_vkey, not_older_than=fresh)


def test_not_older_than_takes_a_date_or_a_time() -> None:
    assert parse_instant("2031-12-31") == datetime(2031, 12, 31, tzinfo=UTC)
    assert parse_instant("2031-12-31T23:00:00Z") == datetime(2031, 12, 31, 23, tzinfo=UTC)
    with pytest.raises(DisclosureError, match=r"--not-older-than: 'yesterday' is not a date"):
        parse_instant("yesterday")


@pytest.mark.parametrize("fmt", ["oc4ids", "iati"])
def test_a_changed_or_missing_bods_package_is_named(
    bundles: dict[str, Path], log_vkey: VerifierKey, tmp_path: Path, fmt: str
) -> None:
    """Both bundles rely on the BODS statements (OC4IDS beneficial owners; IATI payees' identities and the
    conflict-of-interest chains), so both carry them as a BODS 0.4 package."""
    folder = _copy(bundles, fmt, tmp_path)
    path = folder / "bods-statements.json"
    statements = json.loads(path.read_text(encoding="utf-8"))
    statements[2]["recordDetails"]["names"][0]["fullName"] = "Someone Else"
    path.write_text(json.dumps(statements), encoding="utf-8")
    error = _fails(folder, log_vkey)
    assert "bods package" in error.records
    assert any(f.startswith("bods package (ledger entries 5, 6, 7, 8, 9, 10, 11, 12): bods-statements.json: "
                            "/2/recordDetails/names") for f in error.failures)
    path.unlink()
    assert "bods-statements.json is missing" in _fails(folder, log_vkey).failures[0]
