"""The figures of docs/baseline.md parts 2-4 and docs/risk.md ("the answer", issue 13 item 8): what the shipped
baseline (the study's USD 75 bn) is rated, what binds, what the MDF receives at P10/P50/P90, and what can be raised
at investment grade under the study's design.

Runs, all with seed 1 (common random numbers across variants):

1. the baseline's Monte Carlo (``--paths``, default 20,000): each tranche's PD, EL, structural and implied ratings
   (EL and PD bases) and what binds; the rating cap; the MDF's inflows P10/P50/P90 (nominal and PV);
2. ``naef size --target-rating Baa3 --basis both`` on the programme (``--size-paths``, default 4,000): the largest
   programme whose every tranche is Baa3 or better, naming the binding basis or the cap;
3. the same two with PEMEX rated at the sovereign (``originator.rating = "Baa2"``, as if fully supported by Mexico),
   to separate what the structure supports from what the originator's credit allows.

Usage::

    .venv/bin/python benchmarks/credit_answer.py [--paths 20000] [--size-paths 4000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import naef
from naef.analysis.sizing import size_search


def _mc(sc: naef.Scenario, paths: int) -> dict[str, Any]:
    s = naef.monte_carlo(sc, naef.RunSettings(seed=1, paths=paths)).summary
    return {
        "rating_cap": s["rating_cap"],
        "originator_default": s["originator_default"],
        "warnings": s["warnings"],
        "tranches": [{k: t[k] for k in ("name", "size_usd", "pd", "pd_se", "expected_loss", "expected_loss_se",
                                        "wal_years", "structural_rating", "structural_rating_pd", "implied_rating",
                                        "implied_rating_binds", "implied_rating_pd", "implied_rating_pd_binds")}
                     for t in s["tranches"]],
        "mdf_nominal_usd": s["mdf"]["nominal_usd"],
        "mdf_pv_usd": s["mdf"]["pv_usd"],
        "event_of_default": s["event_of_default"],
    }


def _size(sc: naef.Scenario, paths: int) -> dict[str, Any]:
    r = size_search(sc, target_rating="Baa3", basis="both", n_paths=paths, seed=1, rel_tol=0.01)
    d = r.to_dict()
    return {k: d.get(k) for k in ("size_usd", "binding", "rating_cap", "implied_rating")} | {
        "el_size_usd": (d.get("el") or {}).get("size_usd"), "pd_size_usd": (d.get("pd") or {}).get("size_usd"),
        "evaluations": len(d["evaluations"]) + len((d.get("el") or {}).get("evaluations", []))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=20_000)
    ap.add_argument("--size-paths", type=int, default=4_000)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    base = naef.load_scenario("baseline")
    supported = base.with_changes({"originator.rating": "Baa2"})
    out: dict[str, Any] = {"naef_version": naef.__version__, "paths": a.paths, "size_paths": a.size_paths}
    t0 = time.perf_counter()
    for name, sc in (("baseline", base), ("pemex_at_sovereign", supported)):
        out[name] = {"monte_carlo": _mc(sc, a.paths), "size_baa3": _size(sc, a.size_paths)}
        print(json.dumps({name: out[name]}, indent=1, default=str), flush=True)
    out["seconds"] = time.perf_counter() - t0
    if a.json:
        with open(a.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
