"""Issuance sizing: the largest tranche (or programme) whose implied rating is at least a target.

Method
    The size is ``s × base size`` (one tranche, or every tranche pro rata for the programme). For each ``s`` the
    scenario is re-prepared (schedules, reserve targets and sculpting follow the new sizes) and run on the SAME
    paths: the random numbers depend only on the seed and the path's index (``naef.engine.montecarlo``), never on
    the sizes, so every evaluation sees identical prices, production and costs (common random numbers). A larger
    programme is then paid less on most paths, and EL and PD rise with the size — but this is not a theorem of the
    structure, and three of its features can make them fall a little where the size grows (docs/risk.md, "Why it is
    nearly monotone"): the construction account's release (unspent proceeds paid into the waterfall at the end of
    construction, path by path: on paths whose capex comes in low this acts well below the base case's s ≈ 0.96, and
    it can also put an event of default off), the event of default (where it comes sooner, the acceleration stops
    the payments to the MDF: on seed 4's path 51 a programme 0.24 % bigger defaults at period 28 instead of 48 and
    every tranche is repaid in full, lowering every tranche's EL on 512 paths at the same PD) and the DSCR cash trap
    (a more leveraged structure traps cash that a less leveraged one releases to the MDF, and that cash later
    covers a shortfall). Without the trap, on the baseline's 512 paths, no fall of EL or PD was found between sizes
    0.01 apart (scales 0.20 to 0.95); tests/engine/test_montecarlo.py checks the sizes 0.05 apart and pins the
    example above. The largest passing ``s`` is bracketed (doubling or halving from ``s = 1``) and then bisected to
    a relative tolerance; every evaluation is returned so that a reader can check the monotonicity on the run
    itself.

Progress bound
    The search knows how many evaluations it can still make (``progress_total`` is told the number of simulations
    made plus that bound after every evaluation, and the number made at the end): bracketing from ``s = 1`` makes at
    most ``1 + log2(max_scale)`` evaluations upwards or ``1 + log2(1 / min_scale)`` downwards (7 or 11 with the
    defaults), and bisecting ``[lo, hi]`` to ``hi - lo <= rel_tol × lo`` at most ``ceil(log2((hi - lo) / (rel_tol ×
    lo)))`` (9 from a doubling bracket at ``rel_tol = 0.002``; ``lo`` only grows, so the bound only tightens). With
    ``basis="both"`` the second search's evaluations may be the first's (no new simulation): the bound shrinks.

The rating is the expected-loss rating (EL at the tranche's WAL against Moody's idealized EL table) with
``basis="el"``, the default-probability rating (PD at the legal final against the idealized default rates) with
``basis="pd"``, or both (``basis="both"``, the default of ``naef size``): the two searches share their evaluations
(the same paths give both ratings at each size), each finds its largest size, and the smaller one binds — see
``naef.analysis.ratings`` and ``naef.analysis.mc_summary.tranche_risk``.

Both ratings are implied ratings, capped by the originator's rating plus its uplift and by the country ceiling
(``[originator]``, ``[sovereign]``): when that cap is below the target no size can reach it, and the result
names the cap as binding (``binding = "cap"``, ``best = None``); the same search is then run on the structural
ratings (before the cap) and reported beside it as ``structural`` — what the structure alone would support on each
basis, which is what a stronger originator or sponsor would unlock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Literal

from naef.analysis.mc_summary import TrancheRisk, tranche_risk
from naef.analysis.montecarlo import simulate_paths
from naef.analysis.ratings import (
    MOODYS_RATINGS,
    RatingCap,
    RatingError,
    load_table,
    rating_at_least,
    rating_cap,
)
from naef.engine.montecarlo import prepare
from naef.engine.run_arguments import check_run_arguments
from naef.errors import NaefError
from naef.parallel.runner import Runner
from naef.scenario.models import Scenario

__all__ = ["SizeEvaluation", "SizeResult", "SizingError", "max_evaluations", "scale_sizes", "size_search"]


class SizingError(NaefError):
    """Bad sizing arguments (unknown tranche, unknown rating) or no size reaching the target."""


@dataclass(frozen=True)
class SizeEvaluation:
    """One evaluated scale: the tranche's (or programme's) size, its PD, EL and implied rating."""

    scale: float
    size_usd: float
    pd: float
    pd_se: float
    expected_loss: float
    expected_loss_se: float
    implied_rating: str
    passes: bool


@dataclass(frozen=True)
class SizeResult:
    """The largest passing size and every evaluation of the search (in the order made)."""

    target_rating: str
    tranche: str | None
    basis: str
    best: SizeEvaluation | None
    evaluations: tuple[SizeEvaluation, ...]
    #: with ``basis="both"``: the EL-basis and the PD-basis results, and which one binds (the smaller size)
    el: SizeResult | None = None
    pd: SizeResult | None = None
    #: "el" or "pd" with both bases; "cap" when the rating cap (originator + uplift, country ceiling) is below
    #: the target, so that no size can reach it
    binding: str | None = None
    #: the rating cap (``naef.analysis.ratings.RatingCap``): implied ratings never exceed it
    cap: RatingCap | None = None
    #: with ``binding = "cap"``: what the structure alone supports, the same search on the structural ratings
    #: (before the cap; both bases when ``basis = "both"``) — a figure beside the answer, never the answer
    structural: SizeResult | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (``naef size --json``, ``size.json``); with both bases, the binding basis's figures at
        the top level and each basis's result under ``el`` and ``pd``."""
        extra: dict[str, object] = {"rating_cap": None if self.cap is None else self.cap.to_dict()}
        if self.el is not None and self.pd is not None:
            extra |= {"binding": self.binding, "el": self.el.to_dict(), "pd": self.pd.to_dict()}
        elif self.binding == "cap":
            extra["binding"] = "cap"
        if self.structural is not None:
            extra["structural"] = self.structural.to_dict()
        return {
            "target_rating": self.target_rating,
            "tranche": self.tranche,
            "basis": self.basis,
            "size_usd": None if self.best is None else self.best.size_usd,
            "scale": None if self.best is None else self.best.scale,
            "pd": None if self.best is None else self.best.pd,
            "pd_se": None if self.best is None else self.best.pd_se,
            "expected_loss": None if self.best is None else self.best.expected_loss,
            "expected_loss_se": None if self.best is None else self.best.expected_loss_se,
            "implied_rating": None if self.best is None else self.best.implied_rating,
            "evaluations": [asdict(e) for e in self.evaluations],
            **extra,
        }


def scale_sizes(scenario: Scenario, *, scale: float, tranche: str | None) -> Scenario:
    """The scenario with one tranche's size (or every tranche's, pro rata) multiplied by ``scale``."""
    data = scenario.model_dump()
    for t in data["tranches"]:
        if tranche is None or t["name"] == tranche:
            t["size_usd"] = t["size_usd"] * scale
    return Scenario.model_validate(data)


def size_search(
    scenario: Scenario,
    *,
    target_rating: str,
    tranche: str | None = None,
    basis: Literal["el", "pd", "both"] = "both",
    n_paths: int = 4000,
    seed: int = 1,
    chunk_size: int = 20_000,
    rel_tol: float = 0.002,
    max_scale: float = 64.0,
    min_scale: float = 1.0 / 1024.0,
    progress: Callable[[int], None] | None = None,
    runner: Runner | None = None,
    progress_total: Callable[[int], None] | None = None,
) -> SizeResult:
    """Largest size whose implied rating is at least ``target_rating`` (module docstring)."""
    check_run_arguments(n_paths=n_paths, seed=seed, chunk_size=chunk_size)
    if target_rating not in MOODYS_RATINGS:
        raise SizingError(f"--target-rating: unknown rating {target_rating!r} (Moody's scale: "
                          f"{', '.join(MOODYS_RATINGS)})")
    if basis not in ("el", "pd", "both"):
        raise SizingError(f"--basis: unknown basis {basis!r} (choose 'el', 'pd' or 'both')")
    base_size = sum(t.size_usd for t in scenario.tranches if tranche is None or t.name == tranche)
    for table in ("moodys_idealized_el", "moodys_idealized_pd"):
        load_table(table)  # both bases read them: a broken install says so before anything is decided
    names = [t.name for t in scenario.tranches]
    if tranche is not None and tranche not in names:
        raise SizingError(f"--tranche: no tranche {tranche!r} in the scenario (tranches: {', '.join(names)})")
    cap = rating_cap(scenario)
    capped = not rating_at_least(cap.cap, target_rating)
    cache: dict[float, list[TrancheRisk]] = {}

    def rows_at(scale: float) -> list[TrancheRisk]:
        if scale not in cache:
            setup = prepare(scale_sizes(scenario, scale=scale, tranche=tranche))
            mt, _, _, _ = simulate_paths(setup, n_paths=n_paths, seed=seed, chunk_size=chunk_size, runner=runner)
            cache[scale] = [r for r in tranche_risk(setup, mt) if tranche is None or r["name"] == tranche]
            if progress is not None:
                progress(1)
        return cache[scale]

    def search(one: Literal["el", "pd"]) -> SizeResult:
        # under a binding cap the search runs on the structural ratings: what the structure alone would support
        key: Literal["structural_rating", "structural_rating_pd", "implied_rating", "implied_rating_pd"]
        if capped:
            key = "structural_rating" if one == "el" else "structural_rating_pd"
        else:
            key = "implied_rating" if one == "el" else "implied_rating_pd"
        evaluations: list[SizeEvaluation] = []

        def evaluate(scale: float) -> SizeEvaluation:
            chosen = rows_at(scale)
            # the programme passes when every tranche does; report the worst tranche's figures
            worst = max(chosen, key=lambda r: _rank(r[key]))
            try:
                ok = rating_at_least(worst[key], target_rating)
            except RatingError as exc:  # pragma: no cover - ratings come from the shipped tables
                raise SizingError(str(exc)) from None
            e = SizeEvaluation(scale, base_size * scale, worst["pd"], worst["pd_se"], worst["expected_loss"],
                               worst["expected_loss_se"], worst[key], ok)
            evaluations.append(e)
            return e

        def bound(remaining: int) -> None:
            if progress_total is not None:
                progress_total(len(cache) + remaining + searches_after[0] * per_search)

        best = _bracket_and_bisect(evaluate, rel_tol=rel_tol, max_scale=max_scale, min_scale=min_scale,
                                   bound=bound)
        searches_after[0] = max(0, searches_after[0] - 1)
        return SizeResult(target_rating, tranche, one, best, tuple(evaluations))

    per_search = max_evaluations(rel_tol=rel_tol, max_scale=max_scale, min_scale=min_scale)
    searches_after = [1 if basis == "both" else 0]  # searches still to run after the current one
    if basis != "both":
        result = replace(search(basis), cap=cap)
    else:
        el, pd = search("el"), search("pd")
        el_size = el.best.size_usd if el.best is not None else -1.0
        pd_size = pd.best.size_usd if pd.best is not None else -1.0
        bind = el if el_size <= pd_size else pd
        result = SizeResult(target_rating, tranche, "both", bind.best, bind.evaluations, el=el, pd=pd,
                            binding=bind.basis, cap=cap)
    if progress_total is not None:
        progress_total(len(cache))
    if capped:
        # no size reaches the target: every implied rating is at most the cap, whatever the structure
        return SizeResult(target_rating, tranche, basis, None, (), binding="cap", cap=cap,
                          structural=result)
    return result


def _bisections(lo: float, hi: float, rel_tol: float) -> int:
    """Most bisections of ``[lo, hi]`` until ``hi - lo <= rel_tol × lo`` (``lo`` only grows: a bound)."""
    width, k = hi - lo, 0
    while width > rel_tol * lo:
        width *= 0.5
        k += 1
    return k


def _halvings(start: float, stop: float, factor: float) -> int:
    """Evaluations of a bracket walking from ``start`` by ``factor`` while within ``stop`` (inclusive)."""
    n, scale = 0, start
    while (scale <= stop) if factor > 1 else (scale >= stop):
        n += 1
        scale *= factor
    return n


def max_evaluations(*, rel_tol: float, max_scale: float, min_scale: float) -> int:
    """The most evaluations one search makes: 1 + the longer bracket walk + the bisections of a doubling
    bracket (20 with the defaults: 1 + 10 halvings + 9 bisections)."""
    walk = max(_halvings(2.0, max_scale, 2.0), _halvings(0.5, min_scale, 0.5))
    return 1 + walk + _bisections(1.0, 2.0, rel_tol)


def _bracket_and_bisect(
    evaluate: Callable[[float], SizeEvaluation], *, rel_tol: float, max_scale: float, min_scale: float,
    bound: Callable[[int], None] | None = None,
) -> SizeEvaluation | None:
    """The largest passing scale: bracket from 1 by doubling or halving, then bisect to ``rel_tol``; ``bound`` is
    told after every evaluation how many more this search can make at most."""
    tell = bound if bound is not None else (lambda n: None)
    bracket_bisections = _bisections(1.0, 2.0, rel_tol)
    first = evaluate(1.0)
    if first.passes:
        lo, hi = first, None
        scale = 2.0
        tell(_halvings(scale, max_scale, 2.0) + bracket_bisections)
        while scale <= max_scale:
            e = evaluate(scale)
            if not e.passes:
                hi = e
                break
            lo = e
            scale *= 2.0
            tell(_halvings(scale, max_scale, 2.0) + bracket_bisections)
        if hi is None:
            tell(0)
            return lo
    else:
        lo_found: SizeEvaluation | None = None
        hi = first
        scale = 0.5
        tell(_halvings(scale, min_scale, 0.5) + bracket_bisections)
        while scale >= min_scale:
            e = evaluate(scale)
            if e.passes:
                lo_found = e
                break
            hi = e
            scale /= 2.0
            tell(_halvings(scale, min_scale, 0.5) + bracket_bisections)
        if lo_found is None:
            tell(0)
            return None
        lo = lo_found
    tell(_bisections(lo.scale, hi.scale, rel_tol))
    while (hi.scale - lo.scale) > rel_tol * lo.scale:
        mid = evaluate(0.5 * (lo.scale + hi.scale))
        if mid.passes:
            lo = mid
        else:
            hi = mid
        tell(_bisections(lo.scale, hi.scale, rel_tol))
    return lo


def _rank(rating: str) -> int:
    order = (*MOODYS_RATINGS, "Caa-C")
    return order.index(rating)
