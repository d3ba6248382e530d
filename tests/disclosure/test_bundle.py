"""Bundles: exported from the demo ledger and verified offline; any change to a published value, an entry or a
proof fails and is named; bundles of one log at two sizes are consistent; a forked log is detected."""

from __future__ import annotations

import base64
import copy
import csv
import hashlib
import io
import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from openpyxl import load_workbook

from naef.demo import demo_key
from naef.disclosure import (
    BundleError,
    BundleVerificationError,
    DisclosureError,
    eiti,
    export_bundle,
    iati,
    oc4ids,
    verify_bundle,
)
from naef.disclosure.bundle import CHECKPOINT_FILE, ENTRIES_FILE, MANIFEST_FILE
from naef.ledger.keys import SIG_COSIGNATURE_V1, SignerKey, VerifierKey, generate_key

from .conftest import DemoLayout, LedgerFactory

CopyOf = Callable[[str], Path]


@pytest.fixture(scope="module")
def bundles(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One bundle per format from the demo ledger (read only: tests copy before changing)."""
    root = tmp_path_factory.mktemp("bundles")
    return {fmt: export_bundle(demo_url, fmt, root / fmt).folder for fmt in ("iati", "oc4ids", "eiti")}


@pytest.fixture
def copy_of(bundles: dict[str, Path], tmp_path: Path) -> CopyOf:
    def make(fmt: str) -> Path:
        target = tmp_path / f"copy-{fmt}"
        shutil.copytree(bundles[fmt], target)
        return target

    return make


def fails(
    folder: Path, key: VerifierKey, older: Path | None = None, witnesses: Sequence[VerifierKey] = ()
) -> BundleVerificationError:
    with pytest.raises(BundleVerificationError) as exc:
        verify_bundle(folder, key, older=older, witnesses=witnesses)
    assert "\n" not in exc.value.message
    return exc.value


@pytest.mark.parametrize("fmt", ["iati", "oc4ids", "eiti"])
def test_demo_bundles_verify_offline(
    bundles: dict[str, Path], log_vkey: VerifierKey, demo_layout: DemoLayout, fmt: str
) -> None:
    report = verify_bundle(bundles[fmt], log_vkey)
    manifest = json.loads((bundles[fmt] / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert report.format == fmt
    assert report.records == len(manifest["records"])
    assert report.entries == len(manifest["entries"]) > 0
    assert report.checkpoint.size == manifest["checkpoint"]["size"] == demo_layout.size
    assert report.cosigners == ()
    witnesses = [demo_key(name).verifier(SIG_COSIGNATURE_V1) for name in ("controller", "observer-1")]
    assert verify_bundle(bundles[fmt], log_vkey, witnesses=witnesses).cosigners == ("controller", "observer-1")
    stranger = generate_key("stranger").verifier(SIG_COSIGNATURE_V1)
    assert "no cosignature by the witness(es) stranger" in fails(bundles[fmt], log_vkey, witnesses=[stranger]).message
    for i in manifest["entries"]:
        assert (bundles[fmt] / "proofs" / "inclusion" / f"{i}.json").is_file()
    consistency = sorted(int(p.stem) for p in (bundles[fmt] / "proofs" / "consistency").iterdir())
    assert consistency == list(demo_layout.sizes[:-1])
    assert report.line().startswith(f"ok: {fmt} bundle")


def test_a_bundle_needs_no_database(make_ledger: LedgerFactory, log_vkey: VerifierKey, tmp_path: Path) -> None:
    url = make_ledger("gone", [("revenue_collected", {"period": "2031Q1", "amount_usd": "9.00", "source": "PEMEX"}),
                               ("checkpoint", {})])
    export_bundle(url, "eiti", tmp_path / "b")
    Path(url).unlink()
    assert verify_bundle(tmp_path / "b", log_vkey).entries == 1


# ---------------------------------------------------------------------------------------------- any value


def _record_of_xml(el: etree._Element) -> str:
    node: etree._Element | None = el
    while node is not None and node.tag != "iati-activity":
        node = node.getparent()
    if node is None:
        return "iati-activities header"
    return f"iati-activity {node.findtext('iati-identifier')}"


def test_changing_any_value_of_the_iati_file_fails_and_names_the_activity(
    copy_of: CopyOf, log_vkey: VerifierKey
) -> None:
    folder = copy_of("iati")
    path = folder / iati.FILE
    original = path.read_bytes()
    places: list[tuple[int, str | None]] = []  # (element number, attribute name or None for the text)
    for n, el in enumerate(etree.fromstring(original).iter()):
        places += [(n, name) for name in el.attrib]
        if (el.text or "").strip():
            places.append((n, None))
    assert len(places) > 300
    for n, name in places:
        root = etree.fromstring(original)
        el = list(root.iter())[n]
        record = _record_of_xml(el)
        if name is None:
            el.text = (el.text or "") + "9"
        else:
            el.set(name, el.get(name, "") + "9")
        path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
        error = fails(folder, log_vkey)
        where = f"{el.tag} {name or 'text'}"
        assert error.records == (record,), where
        assert error.failures[0].startswith(record), where
    path.write_bytes(original)
    verify_bundle(folder, log_vkey)


def _json_places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _json_places(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _json_places(v, (*path, i))
    else:
        yield path


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    return f"{value}9"


def test_changing_any_value_of_the_oc4ids_package_fails_and_names_the_project(
    copy_of: CopyOf, log_vkey: VerifierKey
) -> None:
    folder = copy_of("oc4ids")
    path = folder / oc4ids.FILE
    original = json.loads(path.read_text(encoding="utf-8"))
    places = list(_json_places(original))
    assert len(places) > 200
    for place in places:
        data = copy.deepcopy(original)
        target = data
        for key in place[:-1]:
            target = target[key]
        target[place[-1]] = _changed(target[place[-1]])
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        error = fails(folder, log_vkey)
        record = f"project {original['projects'][place[1]]['id']}" if place[0] == "projects" else "package header"
        assert error.records == (record,), place
        assert error.failures[0].startswith(record), place


def test_changing_any_cell_of_the_eiti_csv_fails_and_names_the_row(copy_of: CopyOf, log_vkey: VerifierKey) -> None:
    folder = copy_of("eiti")
    path = folder / eiti.CSV_FILE
    original = path.read_text(encoding="utf-8")
    table = list(csv.reader(io.StringIO(original)))
    for r in (1, len(table) // 2, len(table) - 1):
        for c in range(len(table[0])):
            changed = copy.deepcopy(table)
            changed[r][c] += "9"
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(changed)
            path.write_text(out.getvalue(), encoding="utf-8")
            error = fails(folder, log_vkey)
            record = f"row {table[r][0]}"
            assert record in error.failures[0], (r, c)
            if c > 0:  # changing the record id itself makes the row unknown and the real one missing
                assert error.records == (record,), (r, c)
                assert f"{eiti.CSV_FILE}: {table[0][c]}: the file has" in error.failures[0]


def test_changing_a_workbook_cell_fails_and_names_the_row_and_sheet(copy_of: CopyOf, log_vkey: VerifierKey) -> None:
    folder = copy_of("eiti")
    path = folder / eiti.XLSX_FILE
    wb = load_workbook(path)
    ws = wb["pemex_to_naef"]
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index("amount_usd") + 1)
    record = f"row {ws.cell(row=2, column=1).value}"
    cell.value = float(cell.value) + 0.01  # type: ignore[arg-type]
    wb["by_period"].cell(row=3, column=5).value = 1.0
    wb.save(path)
    error = fails(folder, log_vkey)
    assert any(f.startswith(record) and "sheet pemex_to_naef: amount_usd" in f for f in error.failures)
    assert any(f.startswith("period total ") and "sheet by_period" in f for f in error.failures)
    assert record in error.records


# ---------------------------------------------------------------------------------------------- entries, proofs


def test_an_entry_changed_in_the_bundle_is_not_in_the_signed_checkpoint(
    copy_of: CopyOf, log_vkey: VerifierKey, demo_layout: DemoLayout
) -> None:
    folder = copy_of("iati")
    executed = demo_layout.executed["MDF-0001"]
    paid_on = demo_layout.paid_on["MDF-0001"]
    lines = (folder / ENTRIES_FILE).read_text(encoding="utf-8").splitlines()
    changed = []
    for line in lines:
        obj = json.loads(line)
        if obj["index"] == executed:  # the execution of MDF-0001
            assert '"amount_usd":"60000000.00"' in obj["entry"]
            obj["entry"] = obj["entry"].replace('"amount_usd":"60000000.00"', '"amount_usd":"70000000.00"')
        changed.append(json.dumps(obj, ensure_ascii=False, sort_keys=True))
    (folder / ENTRIES_FILE).write_text("\n".join(changed) + "\n", encoding="utf-8")
    # ... and the published file changed to match it: the entry still fails its inclusion proof
    xml = (folder / iati.FILE).read_text(encoding="utf-8")
    (folder / iati.FILE).write_text(
        xml.replace(f'<value currency="USD" value-date="{paid_on}">60000000.00</value>\n      <description>\n'
                    "        <narrative>disbursement",
                    f'<value currency="USD" value-date="{paid_on}">70000000.00</value>\n      <description>\n'
                    "        <narrative>disbursement", 1),
        encoding="utf-8",
    )
    error = fails(folder, log_vkey)
    assert error.failures[0].startswith(
        f"ledger entry {executed}: not in the signed checkpoint of size {demo_layout.size}"
    )
    assert "bytes in entries.jsonl were changed" in error.failures[0]
    assert "iati-activity XE-EXAMPLE-NAEF-MDF-road-oaxaca-coast" in error.failures[0]
    assert "iati-activity XE-EXAMPLE-NAEF-MDF-road-oaxaca-coast" in error.records


def test_a_changed_proof_fails_and_names_the_entry(
    copy_of: CopyOf, log_vkey: VerifierKey, demo_layout: DemoLayout
) -> None:
    folder = copy_of("oc4ids")
    executed = demo_layout.executed["MDF-0002"]
    proof_path = folder / "proofs" / "inclusion" / f"{executed}.json"
    proof = json.loads(proof_path.read_text(encoding="utf-8"))
    proof["inclusion_path"][0] = "00" * 32
    proof_path.write_text(json.dumps(proof), encoding="utf-8")
    error = fails(folder, log_vkey)
    assert error.failures[0].startswith(f"ledger entry {executed}: not in the signed checkpoint")
    assert "inclusion proof does not lead to the signed root" in error.failures[0]
    assert error.records == ("project oc4ids-naefmdf-port-veracruz-terminal",)


def test_a_missing_proof_cannot_be_checked(copy_of: CopyOf, log_vkey: VerifierKey, demo_layout: DemoLayout) -> None:
    folder = copy_of("iati")
    executed = demo_layout.executed["MDF-0001"]
    (folder / "proofs" / "inclusion" / f"{executed}.json").unlink()
    with pytest.raises(BundleError, match=rf"proofs/inclusion/{executed}\.json is missing: the inclusion proof of "
                                          rf"ledger entry {executed}, used by "
                                          r"iati-activity XE-EXAMPLE-NAEF-MDF-road-oaxaca-coast"):
        verify_bundle(folder, log_vkey)


def test_manifest_leaves_must_be_the_records_entries(copy_of: CopyOf, log_vkey: VerifierKey) -> None:
    folder = copy_of("iati")
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["records"][1]["leaves"] = manifest["records"][1]["leaves"][:-1]
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    error = fails(folder, log_vkey)
    assert any(f.startswith("iati-activity XE-EXAMPLE-NAEF-MDF-road-oaxaca-coast") and "manifest.json names" in f
               for f in error.failures)


def test_the_checkpoint_must_be_signed_by_the_trusted_key(
    copy_of: CopyOf, log_vkey: VerifierKey, demo_layout: DemoLayout
) -> None:
    folder = copy_of("eiti")
    impostor = generate_key(log_vkey.name).verifier()  # same name, another key
    error = fails(folder, impostor)
    assert error.failures == (f"{CHECKPOINT_FILE}: note: no signature by a known key",)
    note = (folder / CHECKPOINT_FILE).read_text(encoding="utf-8")
    size = demo_layout.size
    (folder / CHECKPOINT_FILE).write_text(note.replace(f"\n{size}\n", f"\n{size - 1}\n", 1), encoding="utf-8")
    assert fails(folder, log_vkey).failures[0].startswith(f"{CHECKPOINT_FILE}: ")


def test_records_added_or_removed_are_named(copy_of: CopyOf, log_vkey: VerifierKey) -> None:
    folder = copy_of("iati")
    root = etree.fromstring((folder / iati.FILE).read_bytes())
    activities = root.findall("iati-activity")
    root.remove(activities[1])
    extra = copy.deepcopy(activities[0])
    ident = extra.find("iati-identifier")
    assert ident is not None
    ident.text = "XE-EXAMPLE-NAEF-MDF-invented"
    root.insert(0, extra)
    (folder / iati.FILE).write_bytes(etree.tostring(root))
    failures = fails(folder, log_vkey).failures
    assert any(f.startswith("iati-activity XE-EXAMPLE-NAEF-MDF-port-veracruz-terminal") and "missing from" in f
               for f in failures)
    invented = "iati-activity XE-EXAMPLE-NAEF-MDF-invented: in iati-activities.xml but not derived from the ledger"
    assert invented in failures


def test_the_rfc_6962_procedure_by_hand(bundles: dict[str, Path]) -> None:
    """docs/disclosure.md "by hand": only hashlib, base64 and json, no naef code."""
    folder = bundles["iati"]
    note = (folder / CHECKPOINT_FILE).read_text(encoding="utf-8")
    _origin, size_text, root_b64 = note.split("\n")[:3]
    size, root = int(size_text), base64.b64decode(root_b64)
    lines = [json.loads(line) for line in (folder / ENTRIES_FILE).read_text(encoding="utf-8").splitlines()]
    # completeness: the whole log is there, and its RFC 9162 §2.1.1 tree hash MTH(D[n]) is the signed root
    assert [obj["index"] for obj in lines] == list(range(size))

    def mth(leaves: list[bytes]) -> bytes:
        if len(leaves) == 1:
            return hashlib.sha256(b"\x00" + leaves[0]).digest()
        k = 1 << ((len(leaves) - 1).bit_length() - 1)  # the largest power of two smaller than n
        return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()

    assert mth([obj["entry"].encode("utf-8") for obj in lines]) == root
    used = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))["entries"]
    for obj in (lines[i] for i in used):
        index = obj["index"]
        proof = json.loads((folder / "proofs" / "inclusion" / f"{index}.json").read_text(encoding="utf-8"))
        r = hashlib.sha256(b"\x00" + obj["entry"].encode("utf-8")).digest()
        fn, sn = index, size - 1
        for p_hex in proof["inclusion_path"]:
            p = bytes.fromhex(p_hex)
            if fn % 2 == 1 or fn == sn:
                r = hashlib.sha256(b"\x01" + p + r).digest()
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
            else:
                r = hashlib.sha256(b"\x01" + r + p).digest()
            fn, sn = fn >> 1, sn >> 1
        assert sn == 0
        assert r == root, index


# ---------------------------------------------------------------------------------------------- consistency, forks


def test_bundles_of_one_ledger_at_two_sizes_are_consistent(
    demo_url: str, bundles: dict[str, Path], log_vkey: VerifierKey, demo_layout: DemoLayout, tmp_path: Path
) -> None:
    previous = demo_layout.sizes[-2]
    older = export_bundle(demo_url, "iati", tmp_path / "older", size=previous).folder
    assert verify_bundle(older, log_vkey).checkpoint.size == previous
    report = verify_bundle(bundles["iati"], log_vkey, older=older)
    assert report.older_size == previous
    assert f"consistent with the older bundle (size {previous})" in report.line()
    # consistency is about the log, not the format
    assert verify_bundle(bundles["eiti"], log_vkey, older=older).older_size == previous
    assert verify_bundle(bundles["oc4ids"], log_vkey, older=bundles["iati"]).older_size == demo_layout.size
    backwards = fails(older, log_vkey, older=bundles["iati"])
    assert "is newer than this bundle's" in backwards.failures[0]


def revenue(n: int, amount: str = "100.00") -> tuple[str, dict[str, Any]]:
    return ("revenue_collected", {"period": f"2031Q{n % 4 + 1}", "amount_usd": amount, "source": "PEMEX"})


def test_a_ledger_grown_after_a_bundle_is_consistent_with_it(
    make_ledger: LedgerFactory, log_signer: SignerKey, log_vkey: VerifierKey, tmp_path: Path
) -> None:
    from naef.ledger.log import Ledger

    url = make_ledger("grows", [revenue(0), revenue(1), ("checkpoint", {})])
    first = export_bundle(url, "eiti", tmp_path / "first").folder
    with Ledger.open(url) as ledger:
        for n in range(2, 7):
            ledger.append(*revenue(n), time="2031-06-30T00:00:00Z")
        ledger.checkpoint(log_signer)
    second = export_bundle(url, "eiti", tmp_path / "second").folder
    assert verify_bundle(second, log_vkey, older=first).older_size == 2


def test_a_forked_ledger_of_the_same_size_is_detected(
    make_ledger: LedgerFactory, log_vkey: VerifierKey, tmp_path: Path
) -> None:
    history = [revenue(n) for n in range(5)]
    forked = [*history[:3], revenue(3, "999.00"), history[4]]
    a = export_bundle(make_ledger("a", [*history, ("checkpoint", {})]), "eiti", tmp_path / "a").folder
    b = export_bundle(make_ledger("b", [*forked, ("checkpoint", {})]), "eiti", tmp_path / "b").folder
    # each is signed by the log key and verifies alone: only the comparison shows the fork
    assert verify_bundle(a, log_vkey).checkpoint.size == verify_bundle(b, log_vkey).checkpoint.size == 5
    error = fails(b, log_vkey, older=a)
    assert error.failures[0].startswith("fork: this bundle's checkpoint and the older bundle's both have size 5")


def test_a_fork_that_grew_further_is_detected(
    make_ledger: LedgerFactory, log_vkey: VerifierKey, tmp_path: Path
) -> None:
    history = [revenue(n) for n in range(5)]
    forked = [revenue(0), revenue(1, "1.00"), *history[2:]]
    a = export_bundle(make_ledger("a", [*history, ("checkpoint", {})]), "eiti", tmp_path / "a").folder
    b_url = make_ledger("b", [*forked, ("checkpoint", {}), revenue(5), revenue(6), ("checkpoint", {})])
    b = export_bundle(b_url, "eiti", tmp_path / "b").folder
    assert "fork or rewritten history" in fails(b, log_vkey, older=a).failures[0]
    # a fork that never signed a checkpoint at the older size has no proof to offer
    c_url = make_ledger("c", [*forked, revenue(5), ("checkpoint", {})])
    c = export_bundle(c_url, "eiti", tmp_path / "c").folder
    assert "has no consistency proof from size 5" in fails(c, log_vkey, older=a).failures[0]


def test_an_older_bundle_of_another_log_is_refused(
    make_ledger: LedgerFactory, log_vkey: VerifierKey, tmp_path: Path
) -> None:
    from naef.ledger.log import Ledger

    other_key = generate_key("other.example/log")
    other_url = str(tmp_path / "other.db")
    with Ledger.init(other_url, other_key.verifier()) as ledger:
        ledger.append(*revenue(0))
        ledger.checkpoint(other_key)
    other = export_bundle(other_url, "eiti", tmp_path / "other").folder
    mine = export_bundle(make_ledger("mine", [revenue(0), ("checkpoint", {})]), "eiti", tmp_path / "mine").folder
    failure = fails(mine, log_vkey, older=other).failures[0]
    assert failure == f"older bundle {other}: {CHECKPOINT_FILE}: note: no signature by a known key"


# ---------------------------------------------------------------------------------------------- export input


def test_export_at_an_unknown_size_or_without_checkpoint(make_ledger: LedgerFactory, tmp_path: Path) -> None:
    url = make_ledger("nocp", [revenue(0)])
    with pytest.raises(DisclosureError, match="no signed checkpoint to export from"):
        export_bundle(url, "eiti", tmp_path / "x")
    url = make_ledger("cp", [revenue(0), ("checkpoint", {})])
    with pytest.raises(DisclosureError, match=r"--size: no stored checkpoint of size 7 \(stored sizes: 1\)"):
        export_bundle(url, "eiti", tmp_path / "x", size=7)
    assert not (tmp_path / "x").exists()


def test_export_replaces_a_folder_only_with_force(make_ledger: LedgerFactory, tmp_path: Path) -> None:
    url = make_ledger("force", [revenue(0), ("checkpoint", {})])
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(DisclosureError, match="exists and is not empty"):
        export_bundle(url, "eiti", out)
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    export_bundle(url, "eiti", out, force=True)
    assert not (out / "old.txt").exists()
    assert (out / eiti.CSV_FILE).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["force.db", "force.db-writer.lock", "out"]
