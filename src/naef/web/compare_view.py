"""The portal's comparison of the runs it holds: ``GET /compare?runs=ID,ID[,ID...]`` (the page: the same
``compare.html`` as ``naef compare`` writes, :mod:`naef.report.compare`) and ``GET /api/compare?runs=...`` (its
``compare.json``). Runs are the portal's finished Monte Carlo runs (``GET /api/runs``); a run id the portal does not
hold is 404, an unfinished run 409, fewer than two ids 400 — one JSON error, nothing computed."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from naef.web.config import ApiError
from naef.web.deps import web_state

__all__ = ["router"]

router = APIRouter()


def _comparison(request: Request, runs: str) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    from naef.studies.compare import ComparedRun, CompareInput, compare_results
    from naef.studies.settings import RunSettings

    state = web_state(request)
    ids = [r.strip() for r in runs.split(",") if r.strip()]
    if len(ids) < 2:
        raise ApiError(400, "bad_request", "runs: give at least two run ids, comma-separated")
    if len(set(ids)) != len(ids):
        raise ApiError(400, "bad_request", "runs: a run id is given twice")
    compared = []
    for run_id in ids:
        job = state.jobs.get(run_id)  # 404 naming the id
        if job.state != "done" or job.result is None:
            raise ApiError(409, "not_finished", f"runs: run {run_id!r} is {job.state}, not finished")
        doc = job.result
        mc = doc.get("monte_carlo")
        pct = doc.get("percentiles")
        item = CompareInput(label=f"{job.scenario} · run {run_id[:8]}", source=f"run {run_id}",
                            scenario=state.scenario(job.scenario))
        compared.append(ComparedRun(input=item, summary=mc if mc is not None else doc["deterministic"],
                                    deterministic_summary=doc["deterministic"],
                                    percentiles=pd.DataFrame(pct) if pct else None))
    seeds = {j.seed for j in (state.jobs.get(i) for i in ids)}
    settings = RunSettings(paths=max(state.jobs.get(i).paths for i in ids), seed=min(seeds))
    result = compare_results(compared, settings)
    return result.summary, result.tables()


@router.get("/api/compare")
def compare_json(request: Request, runs: Annotated[str, Query(max_length=1000)]) -> JSONResponse:
    """The comparison of the portal's runs ``runs`` (comma-separated ids) as ``compare.json``."""
    from naef.web.results import jsonable

    doc, _ = _comparison(request, runs)
    return JSONResponse(jsonable(doc))


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, runs: Annotated[str, Query(max_length=1000)]) -> HTMLResponse:
    """The comparison of the portal's runs as a page (``naef compare``'s compare.html)."""
    from naef.report.compare import render_compare

    doc, tables = _comparison(request, runs)
    return HTMLResponse(render_compare(doc, tables))
