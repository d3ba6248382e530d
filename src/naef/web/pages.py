"""The public portal: server-rendered pages (Jinja2) that read without JavaScript; charts (Plotly, served by the
app) and the in-browser proof check are the only scripted parts.

Pages: ``/`` the system at a glance (Sankey of the latest run), ``/risk`` (fan charts, tranche table, stress;
a form to start a run), ``/mdf`` (projects by sector and state), ``/ledger`` (entries, checkpoints, approvals),
``/ledger/entries/{i}`` (one entry and its in-browser inclusion check), ``/sign`` and ``/sign/{proposal}`` (review
a proposal, submit a locally made signature).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

import naef.format as fmt
from naef import __version__
from naef.ledger.errors import LedgerError
from naef.ledger.log import StoredEntry
from naef.web.api import MAX_INDEX, client_address, web_state
from naef.web.config import ApiError
from naef.web.ledger_view import checkpoint_json, entry_json, unreadable_json
from naef.web.paging import MAX_HTML_PAGE, HtmlOffset, PageWindow, html_limit
from naef.web.results import fan_series
from naef.web.signing import SigningError
from naef.web.state import WebState

__all__ = ["router", "templates"]

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


def _number_or_none(x: Any) -> float | Decimal | None:
    """A template value as a number: ledger amounts arrive as decimal strings, results as JSON numbers."""
    if isinstance(x, Decimal) or (isinstance(x, int | float) and not isinstance(x, bool)):
        return x
    if isinstance(x, str):
        try:
            return Decimal(x)
        except InvalidOperation:
            return None
    return None


def _lenient(f: Callable[..., str]) -> Callable[..., str]:
    """A formatter of ``naef.format`` as a template filter: strings and Decimals read as numbers, anything
    else as missing ("—")."""
    def filt(x: Any, *args: Any) -> str:
        v = _number_or_none(x)
        if isinstance(v, Decimal):
            v = float(v) if f is not fmt.usd else v
        return f(v, *args)

    return filt


#: every number on the portal goes through naef.format, as in report.html and the workbook
templates.env.filters.update(
    usd_bn=_lenient(fmt.usd_bn), bn=_lenient(fmt.bn), usd_m=_lenient(fmt.usd_m), usd=_lenient(fmt.usd),
    num=_lenient(fmt.number), pct=_lenient(fmt.pct), rate=_lenient(fmt.rate), times=_lenient(fmt.times),
)


def _page(request: Request, name: str, http_status: int = 200, **context: Any) -> HTMLResponse:
    state = web_state(request)
    base = {"version": __version__, "scenario": state.scenario_label, "has_ledger": state.ledger is not None}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=http_status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An HTML error page (for portal paths; the API answers JSON)."""
    return _page(request, "error.html", http_status=status, title=f"Error {status}", status=status, message=message)


def _ledger_summary(state: WebState) -> dict[str, Any] | None:
    if state.ledger is None:
        return None
    info = state.ledger.info()
    latest = state.ledger.ledger.latest_checkpoint()
    info["latest_checkpoint"] = None if latest is None else checkpoint_json(latest)
    info["audit"] = state.ledger.audit_status()
    return info


# ------------------------------------------------------------------------------------------------ at a glance


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """The system at a glance: the study's diagram as a Sankey with the latest run's amounts."""
    state = web_state(request)
    source, doc = state.latest_document(wait_s=20.0)
    return _page(request, "index.html", title="The system at a glance", source=source, doc=doc,
                 ledger=_ledger_summary(state), charts=doc is not None, refresh=None if doc is not None else 3)


# ------------------------------------------------------------------------------------------------ risk


def _yearly(series: dict[str, list[Any]], ppy: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(0, len(series["period_start"]), max(ppy, 1)):
        rows.append({k: v[i] for k, v in series.items()})
    return rows


@router.api_route("/risk", methods=["GET", "HEAD"], response_class=HTMLResponse)
def risk(request: Request, run: Annotated[str | None, Query(max_length=64)] = None) -> HTMLResponse:
    """Fan charts of price, DSCR and MDF inflows; the tranche table; stress results; a form to start a run."""
    state = web_state(request)
    job = None
    if run is not None:
        try:
            job = state.jobs.get(run)
        except ApiError as exc:
            return error_page(request, exc.status, exc.message)
        doc = job.result
        source = f"run {job.id}"
    else:
        source, doc = state.latest_document(wait_s=20.0)
    fans: list[dict[str, Any]] = []
    if doc is not None and doc.get("percentiles"):
        ppy = int(doc["scenario"]["periods_per_year"])
        for v in doc["fan_variables"]:
            column, title, unit, scale = v["column"], v["title"], v["unit"], float(v["scale"])
            series = fan_series(doc["percentiles"], column, scale)
            fans.append({"id": f"fan-{column}", "column": column, "title": title, "unit": unit, "scale": scale,
                         "yearly": _yearly(series, ppy)})
    running = job is not None and job.state in ("queued", "running")
    return _page(request, "risk.html", title="Risk", source=source, doc=doc, job=job, fans=fans,
                 charts=bool(fans), refresh=2 if running or (doc is None and job is None) else None,
                 default_paths=state.config.default_paths, max_paths=state.config.max_paths,
                 scenarios=state.scenario_names())


@router.post("/runs")
async def start_run_form(request: Request) -> Response:
    """The run form without JavaScript (``application/x-www-form-urlencoded``): start a run, then show it."""
    state = web_state(request)
    body = (await request.body())[:4096].decode("utf-8", "replace")
    form = {k: v[0] for k, v in parse_qs(body).items()}
    try:
        paths = int(form.get("paths") or state.config.default_paths)
        seed = int(form.get("seed") or 1)
    except ValueError:
        return error_page(request, 400, "paths and seed must be whole numbers")
    scenario = form.get("scenario") or None
    try:
        state.run_limiter.take(f"ip:{client_address(request)}", what="runs")
        job = state.start_run(scenario=scenario, paths=paths, seed=seed)
    except SigningError as exc:
        return error_page(request, exc.status, exc.message)
    except ApiError as exc:
        return error_page(request, exc.status, exc.message)
    return RedirectResponse(f"/risk?run={job.id}", status_code=303)


# ------------------------------------------------------------------------------------------------ MDF


@router.api_route("/mdf", methods=["GET", "HEAD"], response_class=HTMLResponse)
def mdf(request: Request) -> HTMLResponse:
    """The MDF's projects by sector and by state, with status and money disbursed (from the ledger)."""
    state = web_state(request)
    summary = state.ledger.mdf().as_json() if state.ledger is not None else None
    return _page(request, "mdf.html", title="The Mexican Development Fund", mdf=summary,
                 charts=bool(summary and summary["projects"]))


# ------------------------------------------------------------------------------------------------ ledger


EntriesLimit = Annotated[int | None, html_limit("Entries")]
CHECKPOINTS_PER_PAGE = 20
PROPOSALS_PER_PAGE = 50


@router.api_route("/ledger", methods=["GET", "HEAD"], response_class=HTMLResponse)
def ledger(
    request: Request,
    offset: HtmlOffset = None,
    limit: EntriesLimit = None,
    start: HtmlOffset = None,
    checkpoints_offset: HtmlOffset = None,
    checkpoints_limit: Annotated[int, html_limit("Checkpoints")] = CHECKPOINTS_PER_PAGE,
    proposals_offset: HtmlOffset = None,
    proposals_limit: Annotated[int, html_limit("Proposals")] = PROPOSALS_PER_PAGE,
) -> HTMLResponse:
    """Entries (a page at a time, the newest page first; ``offset``/``limit``, ``start`` the older name of
    ``offset``), checkpoints (newest first; ``checkpoints_offset``/``checkpoints_limit``), proposals and approvals
    (in the order made; ``proposals_offset``/``proposals_limit``)."""
    state = web_state(request)
    if state.ledger is None:
        return _page(request, "ledger.html", title="The ledger", ledger=None)
    view = state.ledger
    info = _ledger_summary(state)
    size = int(info["size"]) if info else 0
    page = min(limit or state.config.page_size, MAX_HTML_PAGE)
    chosen = offset if offset is not None else start
    entries_window = PageWindow.check(
        total=size, offset=max(0, size - page) if chosen is None else chosen, limit=page, what="entries"
    )
    rows = view.entries_or_faults(start=entries_window.offset, limit=page)
    all_checkpoints = view.checkpoints()[::-1]
    cp_window = PageWindow.check(total=len(all_checkpoints), offset=checkpoints_offset or 0,
                                 limit=checkpoints_limit, param="checkpoints_", what="checkpoints")
    n_proposals, proposals = view.proposals_page(offset=proposals_offset or 0, limit=proposals_limit)
    p_window = PageWindow.check(total=n_proposals, offset=proposals_offset or 0, limit=proposals_limit,
                                param="proposals_", what="proposals")
    return _page(
        request, "ledger.html", title="The ledger", ledger=info,
        entries=[entry_json(e) if isinstance(e, StoredEntry) else unreadable_json(e) for e in rows],
        entries_page=entries_window.links(request),
        latest_url=f"{request.url.path}?{urlencode({'limit': page})}" if limit else request.url.path,
        checkpoints=[checkpoint_json(cp) for cp in all_checkpoints[cp_window.offset:cp_window.stop]],
        checkpoints_page=cp_window.links(request),
        proposals=proposals, proposals_page=p_window.links(request), unreadable=view.unreadable(),
    )


@router.api_route("/ledger/entries/{index}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def ledger_entry(request: Request, index: Annotated[int, PathParam(ge=0, le=MAX_INDEX)]) -> HTMLResponse:
    """One entry, its inclusion proof in the latest signed checkpoint, and the in-browser check."""
    state = web_state(request)
    if state.ledger is None:
        return error_page(request, 503, "ledger: this server runs without a ledger")
    view = state.ledger
    try:
        entry = view.entry(index)
    except ApiError as exc:
        return error_page(request, exc.status, exc.message)
    cp = view.covering_checkpoint(index)
    proof = None
    if cp is not None:
        try:
            proof = view.ledger.inclusion_proof(index, cp.size).to_json()
        except LedgerError as exc:
            return error_page(request, 400, exc.message)
    info = view.info()
    return _page(request, "entry.html", title=f"Entry {index}", entry=entry_json(entry),
                 checkpoint=None if cp is None else checkpoint_json(cp), proof=proof, info=info)


# ------------------------------------------------------------------------------------------------ signer


@router.api_route("/sign", methods=["GET", "HEAD"], response_class=HTMLResponse)
def sign_list(
    request: Request,
    offset: HtmlOffset = None,
    limit: Annotated[int, html_limit("Proposals")] = PROPOSALS_PER_PAGE,
) -> HTMLResponse:
    """Proposals a stakeholder may review and sign, in the order made, a page at a time."""
    state = web_state(request)
    if state.ledger is None:
        return _page(request, "sign_list.html", title="Sign", proposals=None)
    total, proposals = state.ledger.proposals_page(offset=offset or 0, limit=limit)
    window = PageWindow.check(total=total, offset=offset or 0, limit=limit, what="proposals")
    return _page(request, "sign_list.html", title="Sign", proposals=proposals, proposals_page=window.links(request))


@router.api_route("/sign/{proposal_id:path}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def sign(request: Request, proposal_id: str,
         justification: Annotated[str | None, Query(max_length=10_000)] = None) -> HTMLResponse:
    """Review one proposal, see the exact bytes to sign, submit a signature made on your own machine."""
    state = web_state(request)
    if state.ledger is None:
        return error_page(request, 503, "ledger: this server runs without a ledger")
    view = state.ledger
    try:
        prop = view.proposal(proposal_id)
        message = view.approval_message(proposal_id, justification or None)
    except ApiError as exc:
        return error_page(request, exc.status, exc.message)
    return _page(request, "sign.html", title=f"Review {proposal_id}", p=prop, justification=justification or "",
                 message_b64=base64.b64encode(message).decode("ascii"),
                 message_text=message.decode("utf-8"), message_sha256=hashlib.sha256(message).hexdigest(),
                 origin=view.origin, stakeholders=[s.model_dump(mode="json") for s in view.stakeholders()],
                 max_skew_s=state.replay.max_skew_s)
