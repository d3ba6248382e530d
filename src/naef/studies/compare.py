"""The comparison study: two or more designs side by side (``naef compare A B [C ...]``, the portal's comparison).

Each input is a scenario (a TOML file or a shipped scenario's name; run here as a Monte Carlo of ``settings.paths``
paths with ``settings.seed``, beside its deterministic run) or the folder of an earlier ``naef run`` (its
``run.json``, which holds the scenario's inputs, and its ``summary.json`` / ``percentiles.csv``, read back, not
re-run). The result holds:

* the inputs that differ: every key path (tables by dots, arrays by ``[i]``, as the scenario's errors name keys)
  whose value is not the same in all the scenarios, with each one's value;
* the headline results of each: issuance (USD), per tranche the implied rating (EL basis), PD (to the legal
  final), EL, WAL (years) and the P50 of the minimum DSCR; the MDF's inflows P10 / P50 / P90 (nominal) and P50 in
  present value; PEMEX's capex funding (the deterministic run's capex the proceeds do not fund, and the Monte
  Carlo's mean); and the binding constraint: the tranche with the highest expected loss, which is the one that
  limits the programme's size at a target rating when the programme is sized pro rata (``naef size``'s
  default), or, for a deterministic run, the tranche with the lowest minimum DSCR;
* whether the Monte Carlos used common random numbers: all run with the same seed, so path *k* of each draws
  the same random numbers (``naef.engine.montecarlo``: random numbers belong to paths), and a difference between
  two designs is the designs' and not the draws' (Glasserman, *Monte Carlo Methods in Financial Engineering*,
  2004, §4.1, common random numbers).

Bad input (an unknown name, a folder that is not a run, a run written with another scenario schema, fewer than
two inputs) raises :class:`CompareError` naming the argument; nothing is run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd
from pydantic import ValidationError

from naef.errors import NaefError
from naef.scenario.errors import ScenarioError, first_error
from naef.scenario.load import content_hash, load_scenario, scenario_identity, shipped_scenarios
from naef.scenario.models import Scenario
from naef.studies.common import Files, json_text
from naef.studies.runs import RUN_FILE, RunFolderError, read_run
from naef.studies.settings import RunSettings
from naef.version import __version__

__all__ = ["BindingHeadline", "CompareError", "CompareInput", "CompareResult", "ComparedRun", "Difference", "Headline",
           "HeadlineMdf", "HeadlineTranche", "compare", "compare_results",
           "compare_units", "differences", "flatten", "headline", "resolve_input"]


class CompareError(NaefError):
    """A bad input of the comparison (its message names the argument and the reason)."""


@dataclass(frozen=True)
class CompareInput:
    """One thing to compare: a scenario to run, or an earlier run's folder read back."""

    label: str
    source: str
    scenario: Scenario
    folder: Path | None = None
    summary: Mapping[str, Any] | None = None
    deterministic_summary: Mapping[str, Any] | None = None
    percentiles: pd.DataFrame | None = None


@dataclass(frozen=True)
class ComparedRun:
    """One input's results: its summary (Monte Carlo or deterministic), the deterministic run's, percentiles."""

    input: CompareInput
    summary: Mapping[str, Any]
    deterministic_summary: Mapping[str, Any] | None
    percentiles: pd.DataFrame | None


@dataclass
class CompareResult:
    """The comparison (module docstring); :attr:`summary` is ``compare.json``."""

    runs: tuple[ComparedRun, ...]
    summary: dict[str, object] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {r.input.label: r.percentiles for r in self.runs if r.percentiles is not None}

    def files(self) -> Files:
        return {"compare.json": json_text(self.summary)}


def _label(source: str, taken: set[str]) -> str:
    base = Path(source).name if ("/" in source or source.endswith(".toml")) else source
    base = base.removesuffix(".toml") or source
    if Path(source).name == "latest":
        base = f"{Path(source).parent.name}/latest"
    label, n = base, 2
    while label in taken:
        label, n = f"{base} ({n})", n + 1
    taken.add(label)
    return label


def _run_folder(path: Path) -> Path:
    """A run folder, following a ``latest`` text pointer (where symbolic links could not be made)."""
    if path.is_file() and path.name == "latest":
        return path.parent / path.read_text(encoding="utf-8").strip()
    return path


def resolve_input(source: str, label: str, changes: Mapping[str, object] | None = None) -> CompareInput:
    """``source`` as a :class:`CompareInput`: a run folder (read back), a shipped scenario's name or a TOML file
    (``changes`` applied, as ``--set``); CompareError naming it otherwise."""
    path = _run_folder(Path(source))
    if path.is_dir():
        try:
            record = read_run(path)
        except RunFolderError as exc:
            raise CompareError(f"compare: {source}: {exc}") from None
        if record is None:
            raise CompareError(f"compare: {source}: a folder without {RUN_FILE} (not a naef run folder)")
        if record.kind not in ("run", "montecarlo"):
            raise CompareError(f"compare: {source}: a {record.kind} folder; compare runs (naef run, with or without "
                               "--paths)")
        inputs = record.document.get("scenario_inputs")
        version = record.document.get("naef_version", "?")
        if not isinstance(inputs, dict):
            raise CompareError(f"compare: {source}: its run.json (naef {version}) holds no scenario inputs; run it "
                               "again with this naef")
        try:
            scenario = Scenario.model_validate(inputs)
        except ValidationError as exc:
            key, msg = first_error(exc)
            raise CompareError(f"compare: {source}: written with another scenario schema (naef {version}): {key}: "
                               f"{msg}") from None
        summary = _read_json(path / "summary.json", source)
        named = (summary.get("scenario") or {}).get("content_hash_sha256")
        if named != content_hash(scenario):
            raise CompareError(f"compare: {source}: summary.json's scenario hash does not match its run.json's "
                               "inputs (written with another scenario schema or edited)")
        percentiles = None
        if (path / "percentiles.csv").is_file():
            percentiles = pd.read_csv(path / "percentiles.csv")
        return CompareInput(label=label, source=source, scenario=scenario, folder=path, summary=summary,
                            percentiles=percentiles)
    if source not in shipped_scenarios() and not Path(source).is_file():
        raise CompareError(f"compare: {source}: not a scenario file, a shipped scenario (shipped: "
                           f"{', '.join(shipped_scenarios())}) or a run folder")
    scenario = load_scenario(source)
    if changes:
        try:
            scenario = scenario.with_changes(changes)
        except ScenarioError as exc:
            raise ScenarioError(f"--set: {source}: {exc}", path=exc.path) from None
    return CompareInput(label=label, source=source, scenario=scenario)


def _read_json(path: Path, source: str) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CompareError(f"compare: {source}: no {path.name} in the run folder") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CompareError(f"compare: {source}: {path.name} cannot be read ({exc})") from None
    if not isinstance(doc, dict):
        raise CompareError(f"compare: {source}: {path.name} is not a summary")
    return doc


def flatten(doc: object, prefix: str = "") -> dict[str, object]:
    """A scenario's JSON as key path → value: tables by dots, arrays of tables by ``[i]``; an array of plain
    values is one value (``capex_usd``)."""
    out: dict[str, object] = {}
    if isinstance(doc, Mapping):
        for k, v in doc.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(doc, list | tuple) and doc and all(isinstance(v, Mapping) for v in doc):
        for i, v in enumerate(doc):
            out.update(flatten(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = list(doc) if isinstance(doc, list | tuple) else doc
    return out


_MISSING = object()


class Difference(TypedDict):
    """An input that differs: its key path and each scenario's value (``None`` where it has no such key)."""

    key: str
    values: list[object]


def differences(scenarios: Sequence[Scenario]) -> list[Difference]:
    """The key paths whose values differ between ``scenarios``: ``{"key", "values"}`` (``None`` where a
    scenario has no such key), in the order the keys first appear."""
    flat = [flatten(s.model_dump(mode="json")) for s in scenarios]
    keys: dict[str, None] = {}
    for f in flat:
        keys.update(dict.fromkeys(f))
    out: list[Difference] = []
    for key in keys:
        values = [f.get(key, _MISSING) for f in flat]
        if any(v != values[0] for v in values[1:]):
            out.append({"key": key, "values": [None if v is _MISSING else v for v in values]})
    return out


def _get(doc: Mapping[str, Any] | None, *keys: str) -> Any:
    node: Any = doc
    for k in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(k)
    return node


class HeadlineTranche(TypedDict):
    """A tranche's headline: size (US$), implied rating (EL basis), PD and EL (fractions; Monte Carlo only), WAL
    (years) and the P50 of the minimum DSCR (the deterministic run's minimum for a deterministic input)."""

    name: str | None
    seniority: int | None
    size_usd: float | None
    implied_rating: str | None
    pd: float | None
    expected_loss: float | None
    wal_years: float | None
    min_dscr_p50: float | None


class HeadlineMdf(TypedDict):
    """The MDF's inflows (US$): P10/P50/P90 nominal and P50 in present value at ``discount_rate``."""

    nominal_p10_usd: float | None
    nominal_p50_usd: float | None
    nominal_p90_usd: float | None
    pv_p50_usd: float | None
    discount_rate: float | None


class BindingHeadline(TypedDict):
    """The tranche that limits the programme and why (``basis``)."""

    tranche: str | None
    basis: str
    implied_rating: str | None
    expected_loss: float | None


class Headline(TypedDict):
    """One input's headline results (module docstring)."""

    kind: str
    seed: int | None
    paths: int | None
    issuance_usd: float | None
    tranches: list[HeadlineTranche]
    mdf: HeadlineMdf
    pemex_capex_funding_usd: float | None
    pemex_capex_funding_usd_mean: float | None
    binding_constraint: BindingHeadline | None


def headline(summary: Mapping[str, Any], deterministic: Mapping[str, Any] | None) -> Headline:
    """The headline results of one run (module docstring) from its summary (Monte Carlo or deterministic) and
    its deterministic run's summary."""
    run_kind = _get(summary, "run", "kind")
    mc = run_kind == "monte_carlo"
    det = summary if run_kind == "deterministic" else deterministic
    tranches: list[HeadlineTranche] = []
    for tr in summary.get("tranches") or []:
        d = tr.get("min_dscr")
        tranches.append({
            "name": tr.get("name"), "seniority": tr.get("seniority"), "size_usd": tr.get("size_usd"),
            "implied_rating": tr.get("implied_rating") if mc else None,
            "pd": tr.get("pd") if mc else None, "expected_loss": tr.get("expected_loss") if mc else None,
            "wal_years": tr.get("wal_years"),
            "min_dscr_p50": d.get("p50") if isinstance(d, Mapping) else d,
        })
    mdf: HeadlineMdf
    if mc:
        mdf = {"nominal_p10_usd": _get(summary, "mdf", "nominal_usd", "p10"),
               "nominal_p50_usd": _get(summary, "mdf", "nominal_usd", "p50"),
               "nominal_p90_usd": _get(summary, "mdf", "nominal_usd", "p90"),
               "pv_p50_usd": _get(summary, "mdf", "pv_usd", "p50"),
               "discount_rate": _get(summary, "mdf", "discount_rate")}
    else:
        mdf = {"nominal_p10_usd": None, "nominal_p50_usd": _get(summary, "totals", "to_mdf_usd"),
               "nominal_p90_usd": None, "pv_p50_usd": _get(summary, "totals", "to_mdf_pv_usd"),
               "discount_rate": _get(summary, "totals", "discount_rate")}
    issuance = summary.get("issuance_usd")
    if issuance is None:
        issuance = sum(float(t.get("size_usd") or 0.0) for t in summary.get("tranches") or [])
    binding: BindingHeadline | None
    if mc and tranches:
        worst = max(tranches, key=lambda t: (t["expected_loss"] or 0.0, t["seniority"] or 0))
        binding = {"tranche": worst["name"], "basis": "highest expected loss",
                   "implied_rating": worst["implied_rating"], "expected_loss": worst["expected_loss"]}
    elif tranches:
        worst = min(tranches, key=lambda t: (t["min_dscr_p50"] if t["min_dscr_p50"] is not None else float("inf")))
        binding = {"tranche": worst["name"], "basis": "lowest minimum DSCR (deterministic run)",
                   "implied_rating": None, "expected_loss": None}
    else:
        binding = None
    return {
        "kind": "monte_carlo" if mc else "deterministic",
        "seed": _get(summary, "run", "seed") if mc else None,
        "paths": _get(summary, "run", "paths") if mc else None,
        "issuance_usd": issuance,
        "tranches": tranches,
        "mdf": mdf,
        "pemex_capex_funding_usd": _get(det, "sources_and_uses", "capex_funded_by_pemex_usd"),
        "pemex_capex_funding_usd_mean": summary.get("pemex_capex_funding_usd_mean") if mc else None,
        "binding_constraint": binding,
    }


def compare(sources: Sequence[str], settings: RunSettings | None = None, *,
            changes: Mapping[str, object] | None = None,
            progress: Callable[[int], None] | None = None) -> CompareResult:
    """Compare ``sources`` (module docstring): scenarios run as Monte Carlos with ``settings`` (``changes``
    applied to each, as ``--set``), run folders read back. ``progress(n)`` is called as paths finish."""
    from naef.engine.simulate import simulate
    from naef.studies.monte_carlo import monte_carlo

    if len(sources) < 2:
        raise CompareError("compare: give at least two scenarios or run folders to compare")
    chosen = settings if settings is not None else RunSettings()
    taken: set[str] = set()
    inputs = [resolve_input(s, _label(s, taken), changes) for s in sources]
    runs = []
    for item in inputs:
        if item.summary is not None:
            det = simulate(item.scenario).summary if _get(item.summary, "run", "kind") != "deterministic" else None
            runs.append(ComparedRun(input=item, summary=item.summary, deterministic_summary=det,
                                    percentiles=item.percentiles))
            continue
        study = monte_carlo(item.scenario, chosen, progress=progress)
        runs.append(ComparedRun(input=item, summary=study.summary, deterministic_summary=study.deterministic.summary,
                                percentiles=study.percentiles))
    result = CompareResult(runs=tuple(runs))
    result.summary = _document(result, chosen)
    return result


def compare_results(runs: Sequence[ComparedRun], settings: RunSettings | None = None) -> CompareResult:
    """The comparison of runs already made (the portal's runs): the same document as :func:`compare`."""
    if len(runs) < 2:
        raise CompareError("compare: give at least two runs to compare")
    result = CompareResult(runs=tuple(runs))
    result.summary = _document(result, settings if settings is not None else RunSettings())
    return result


def compare_units(sources: Sequence[str], settings: RunSettings) -> int:
    """An upper bound of the paths :func:`compare` runs (its ``progress`` total): every input run here, with and
    without hedges."""
    return 2 * settings.paths * len(sources)


def _document(result: CompareResult, settings: RunSettings) -> dict[str, object]:
    heads = [headline(r.summary, r.deterministic_summary) for r in result.runs]
    seeds = [h["seed"] for h in heads]
    mc = [h for h in heads if h["kind"] == "monte_carlo"]
    same_seed = len(mc) == len(heads) and len({h["seed"] for h in mc}) == 1
    if same_seed:
        crn = (f"yes: every Monte Carlo ran with seed {mc[0]['seed']}, so path k of each draws the same random "
               "numbers (common random numbers); differences are the designs', not the draws'")
    elif len(mc) < len(heads):
        crn = "no: some inputs are deterministic runs (no paths drawn)"
    else:
        crn = (f"no: the seeds differ ({', '.join(str(s) for s in seeds)}); differences include Monte Carlo noise "
               "(see each figure's standard error in the runs' summaries)")
    return {
        "naef_version": __version__,
        "kind": "compare",
        "settings": {"paths": settings.paths, "seed": settings.seed},
        "common_random_numbers": same_seed,
        "common_random_numbers_note": crn,
        "inputs": [{"label": r.input.label, "source": r.input.source,
                    "folder": str(r.input.folder) if r.input.folder is not None else None,
                    "scenario": scenario_identity(r.input.scenario)} for r in result.runs],
        "differences": differences([r.input.scenario for r in result.runs]),
        "results": [{"label": r.input.label, **h} for r, h in zip(result.runs, heads, strict=True)],
    }
