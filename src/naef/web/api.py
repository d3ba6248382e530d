"""The JSON API (``/api/...``; OpenAPI at ``/api/openapi.json``).

Reads: runs and their results, the ledger (entries, checkpoints, inclusion and consistency proofs), proposals,
the MDF's projects, disclosure downloads. Writes — propose, approve, execute — need a request signed by a
stakeholder registered in the ledger's governance (:mod:`naef.web.signing`) and are rate-limited, like run
requests. Every error is ``{"error": {"status", "code", "message"}}`` (``docs/web.md``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from naef import __version__
from naef.ledger.approvals import Approval, SignedProposal
from naef.ledger.errors import LedgerError
from naef.ledger.proofs import ConsistencyProof, InclusionProof
from naef.web import disclosures
from naef.web.api_models import (
    ERRORS,
    WRITE_ERRORS,
    ApprovalMessage,
    AuditOut,
    CheckpointOut,
    CheckpointsPage,
    ConsistencyProofOut,
    DisclosureFormat,
    EntriesPage,
    EntryOut,
    ErrorBody,
    ExecuteRequest,
    Health,
    InclusionProofOut,
    LedgerInfo,
    ProposalsPage,
    RunRequest,
    RunsPage,
    RunStatus,
    ScenarioList,
    SigningScheme,
    WriteResult,
)
from naef.web.auth import SignedWrite, Signer, signed_write
from naef.web.config import ApiError
from naef.web.deps import State, client_address, web_state
from naef.web.ledger_view import checkpoint_json, entry_json
from naef.web.mdf_view import MdfJson
from naef.web.results import RunDocument
from naef.web.signing import (
    ALGORITHM,
    HEADER_CONTENT_DIGEST,
    HEADER_SIGNATURE,
    HEADER_SIGNATURE_INPUT,
    REQUIRED_COMPONENTS,
    SCHEME,
    SigningError,
)
from naef.web.state import WebState

__all__ = ["MAX_INDEX", "MAX_PAGE", "cached_json", "client_address", "router", "web_state"]

router = APIRouter(prefix="/api")
MAX_INDEX = 2**62


# ------------------------------------------------------------------------------------------------ pagination

MAX_PAGE = 500
"""Most items one list request returns (``limit``'s upper bound)."""
Offset = Annotated[int, Query(ge=0, le=MAX_INDEX, description="Items to skip.")]


def _limit(default: int) -> Any:
    return Query(ge=1, le=MAX_PAGE, description=f"Items per page (default {default}, at most {MAX_PAGE}).")


def _paged(request: Request, response: Response, *, total: int, offset: int, limit: int, key: str,
           items: list[Any]) -> dict[str, Any]:
    """A page of a list: ``total``, ``offset``, ``limit``, ``next`` (URL or null) and the items under ``key``;
    the next page's URL also goes in a ``Link: <…>; rel="next"`` header (RFC 8288)."""
    nxt = None
    if offset + limit < total:
        query = {k: v for k, v in request.query_params.items() if k not in ("offset", "limit")}
        query.update(offset=str(offset + limit), limit=str(limit))
        nxt = f"{request.url.path}?{urlencode(query)}"
        response.headers["Link"] = f'<{nxt}>; rel="next"'
    return {"total": total, "offset": offset, "limit": limit, "next": nxt, key: items}


# ------------------------------------------------------------------------------------------------ health, runs


@router.get("/health", response_model=Health, tags=["server"])
def health(state: State) -> Health:
    """Liveness, version, scenario, whether a ledger is attached and its size."""
    size = state.ledger.ledger.size() if state.ledger is not None else None
    return Health(status="ok", naef_version=__version__, scenario=state.scenario_label,
                  ledger=state.ledger is not None, ledger_size=size)


@router.get("/scenarios", response_model=ScenarioList, tags=["runs"])
def scenarios(state: State) -> ScenarioList:
    """The scenarios a run may name (the server's own first; uploads are not accepted)."""
    return ScenarioList(server_scenario=state.scenario_label, runnable=state.scenario_names())


@router.post("/runs", response_model=RunStatus, status_code=202, tags=["runs"],
             responses={**ERRORS, 403: {"model": ErrorBody, "description": "Cross-site request (Origin)"}})
def start_run(body: RunRequest, request: Request, state: State, response: Response) -> RunStatus:
    """Start a Monte Carlo run as a job; follow it at ``/api/runs/{id}``. Rate-limited per client address."""
    try:
        state.run_limiter.take(f"ip:{client_address(request)}", what="runs")
    except SigningError as exc:
        raise ApiError(exc.status, exc.code, exc.message, headers={"Retry-After": str(exc.retry_after_s)}) from None
    job = state.start_run(scenario=body.scenario, paths=body.paths, seed=body.seed)
    response.headers["Location"] = f"/api/runs/{job.id}"
    return job.status()


@router.get("/runs", response_model=RunsPage, responses=ERRORS, tags=["runs"])
def list_runs(state: State, request: Request, response: Response, offset: Offset = 0,
              limit: Annotated[int, _limit(50)] = 50) -> dict[str, Any]:
    """Runs kept by this server, newest first, a page at a time."""
    jobs = state.jobs.jobs()
    return _paged(request, response, total=len(jobs), offset=offset, limit=limit, key="runs",
                  items=[j.status() for j in jobs[offset:offset + limit]])


@router.get("/runs/{run_id}", response_model=RunStatus, responses=ERRORS, tags=["runs"])
def run_status(run_id: Annotated[str, Path(max_length=64)], state: State) -> RunStatus:
    """A run's state and progress (share of paths done)."""
    return state.jobs.get(run_id).status()


@router.get("/runs/{run_id}/result", responses={**ERRORS, 409: {"model": ErrorBody, "description": "Not done"}},
            tags=["runs"])
def run_result(run_id: Annotated[str, Path(max_length=64)], state: State) -> RunDocument:
    """A finished run: deterministic summary and Sankey, stress rows, Monte Carlo summary and percentiles."""
    job = state.jobs.get(run_id)
    if job.state != "done" or job.result is None:
        detail = f" ({job.error})" if job.error else ""
        raise ApiError(409, "not_done", f"run {run_id}: {job.state}{detail}; no result")
    return job.result


@router.get("/results/latest", responses=ERRORS, tags=["runs"])
def latest_result(state: State) -> dict[str, Any]:
    """The latest finished run, or (before any) the overview: the server scenario's deterministic run and stress
    replay. ``source`` says which."""
    source, doc = state.latest_document()
    if doc is None:
        raise ApiError(503, "computing", "results: the overview is still being computed; retry in a few seconds",
                       headers={"Retry-After": "3"})
    return {"source": source, **doc}


# ------------------------------------------------------------------------------------------------ ledger reads


def _ledger_call(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except LedgerError as exc:
        raise ApiError(400, "bad_request", exc.message) from None


@router.get("/ledger", response_model=LedgerInfo, responses=ERRORS, tags=["ledger"])
def ledger_info(state: State) -> dict[str, Any]:
    """Size, root hash, origin, the log key and witness keys, the latest checkpoint's size."""
    return state.require_ledger().info()


@router.get("/ledger/audit", response_model=AuditOut, responses=ERRORS, tags=["ledger"])
def ledger_audit(state: State) -> dict[str, Any]:
    """The log replayed under the control system's rules (as ``naef ledger audit``): ok, or the first entry that
    breaks a rule; the MDF's received, disbursed and balance."""
    return state.require_ledger().audit_status()


@router.get("/ledger/entries", response_model=EntriesPage, responses=ERRORS, tags=["ledger"])
def ledger_entries(
    state: State,
    response: Response,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX, description="First index (the cursor).")] = 0,
    limit: Annotated[int, _limit(50)] = 50,
    type: Annotated[str | None, Query(pattern=r"^[a-z0-9_]{1,64}$", description="Only this entry type.")] = None,
) -> dict[str, Any]:
    """Entries from ``start`` (index order), at most ``limit``, optionally of one type; ``next_start`` is the
    cursor of the next page and ``next`` its URL."""
    size, rows = state.require_ledger().entries(start=start, limit=limit, entry_type=type)
    nxt = rows[-1].index + 1 if rows and rows[-1].index + 1 < size else None
    link = None
    if nxt is not None:
        link = "/api/ledger/entries?" + urlencode({"start": nxt, "limit": limit, **({"type": type} if type else {})})
        response.headers["Link"] = f'<{link}>; rel="next"'
    return {"size": size, "start": start, "entries": [entry_json(e) for e in rows], "next_start": nxt,
            "next": link}


@router.get("/ledger/entries/{index}", response_model=EntryOut, responses=ERRORS, tags=["ledger"])
def ledger_entry(index: Annotated[int, Path(ge=0, le=MAX_INDEX)], state: State) -> dict[str, Any]:
    """One entry."""
    return entry_json(state.require_ledger().entry(index))


@router.get("/ledger/checkpoints", response_model=CheckpointsPage, responses=ERRORS, tags=["ledger"])
def ledger_checkpoints(state: State, request: Request, response: Response, offset: Offset = 0,
                       limit: Annotated[int, _limit(100)] = 100) -> dict[str, Any]:
    """The stored signed checkpoints, smallest size first, a page at a time."""
    cps = state.require_ledger().checkpoints()
    return _paged(request, response, total=len(cps), offset=offset, limit=limit, key="checkpoints",
                  items=[checkpoint_json(cp) for cp in cps[offset:offset + limit]])


@router.get("/ledger/checkpoints/latest", response_model=CheckpointOut, responses=ERRORS, tags=["ledger"])
def ledger_latest_checkpoint(state: State, request: Request) -> Response:
    """The latest signed checkpoint (strong ``ETag``, ``no-cache``: a later checkpoint or a witness's cosignature
    changes it; ``If-None-Match`` answers 304 while it has not)."""
    cp = state.require_ledger().ledger.latest_checkpoint()
    if cp is None:
        raise ApiError(404, "no_checkpoint", "ledger: no signed checkpoint yet")
    return cached_json(request, _dumps(checkpoint_json(cp)), immutable=False)


@router.get("/ledger/checkpoints/{size}", response_model=CheckpointOut, responses=ERRORS, tags=["ledger"])
def ledger_checkpoint(size: Annotated[int, Path(ge=0, le=MAX_INDEX)], state: State, request: Request) -> Response:
    """The stored checkpoint of ``size`` (404 if none). Its size and root never change, but a witness may add a
    cosignature to its note, so it is served with a strong ``ETag`` and ``no-cache``, never ``immutable``."""
    cp = state.require_ledger().checkpoint(size)
    if cp is None:
        raise ApiError(404, "no_checkpoint", f"size: no checkpoint of size {size}")
    return cached_json(request, _dumps(checkpoint_json(cp)), immutable=False)


IMMUTABLE = "public, max-age=31536000, immutable"
"""``Cache-Control`` of an answer that can never change (RFC 8246 ``immutable``; a year, RFC 9111 §5.2.2.1)."""
REVALIDATE = "no-cache"
"""``Cache-Control`` of an answer that may change: caches keep it but ask again, with ``If-None-Match``, each time
(RFC 9111 §5.2.2.4)."""


def _etag_matches(request: Request, etag: str) -> bool:
    """RFC 9110 §13.1.2: does ``If-None-Match`` name ``etag`` (or ``*``)? Weak comparison, as the RFC asks there."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def cached_json(request: Request, body: bytes, *, immutable: bool) -> Response:
    """A JSON answer with a strong ``ETag`` (the SHA-256 of its bytes, RFC 9110 §8.8.3) and ``Cache-Control``:
    ``immutable`` when the answer can never change, else ``no-cache``; ``304 Not Modified`` without a body when
    ``If-None-Match`` names the ETag (RFC 9110 §15.4.5)."""
    etag = strong_etag(body)
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE if immutable else REVALIDATE}
    if _etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)


def _dumps(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def strong_etag(body: bytes) -> str:
    """A strong ``ETag`` for ``body``: the first 128 bits of its SHA-256 in hex, quoted (RFC 9110 §8.8.3)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def proof_json_bytes(proof: InclusionProof | ConsistencyProof) -> bytes:
    """The bytes the proof routes answer with (also :mod:`naef.web.fastpath`'s, which must be the same)."""
    return _dumps(proof.to_json())


@router.get("/ledger/proofs/inclusion", response_model=InclusionProofOut, responses=ERRORS, tags=["ledger"])
def inclusion_proof(
    state: State,
    request: Request,
    index: Annotated[int, Query(ge=0, le=MAX_INDEX)],
    size: Annotated[int | None, Query(ge=1, le=MAX_INDEX, description="Tree size (default: now).")] = None,
) -> Response:
    """RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` entries (hex hashes).

    With ``size`` given the answer can never change (``Cache-Control: immutable``); without it, it is the proof in
    today's tree (``no-cache``). Either way a strong ``ETag``; ``If-None-Match`` with it answers 304."""
    view = state.require_ledger()
    proof = _ledger_call(view.ledger.inclusion_proof, index, size)
    return cached_json(request, proof_json_bytes(proof), immutable=size is not None)


@router.get("/ledger/proofs/consistency", response_model=ConsistencyProofOut, responses=ERRORS, tags=["ledger"])
def consistency_proof(
    state: State,
    request: Request,
    from_size: Annotated[int, Query(ge=0, le=MAX_INDEX)],
    size: Annotated[int | None, Query(ge=0, le=MAX_INDEX, description="Tree size (default: now).")] = None,
) -> Response:
    """RFC 9162 consistency proof from ``from_size`` to ``size`` (hex hashes); caching as for inclusion proofs."""
    view = state.require_ledger()
    proof = _ledger_call(view.ledger.consistency_proof, from_size, size)
    return cached_json(request, proof_json_bytes(proof), immutable=size is not None)


# ------------------------------------------------------------------------------------------------ governance, MDF


@router.get("/governance", responses=ERRORS, tags=["governance"])
def governance(state: State) -> dict[str, Any]:
    """The stakeholders (names, roles, public keys) and the quorum in force."""
    return state.require_ledger().governance_json()


@router.get("/proposals", response_model=ProposalsPage, responses=ERRORS, tags=["governance"])
def proposals(state: State, request: Request, response: Response, offset: Offset = 0,
              limit: Annotated[int, _limit(100)] = 100) -> dict[str, Any]:
    """Disbursement proposals in the order they were made, with their approvals, status and what execution still
    needs, a page at a time."""
    total, items = state.require_ledger().proposals_page(offset=offset, limit=limit)
    return _paged(request, response, total=total, offset=offset, limit=limit, key="proposals", items=items)


@router.get("/proposals/{proposal_id:path}", responses=ERRORS, tags=["governance"])
def proposal(proposal_id: str, state: State) -> dict[str, Any]:
    """One proposal (ids may contain ``/``)."""
    return state.require_ledger().proposal(proposal_id)


@router.get("/approval-message", response_model=ApprovalMessage, responses=ERRORS, tags=["governance"])
def approval_message(
    state: State,
    proposal_id: Annotated[str, Query(max_length=100)],
    justification: Annotated[str | None, Query(max_length=10_000)] = None,
) -> ApprovalMessage:
    """The exact bytes an approver signs for this proposal and justification (``naef disbursement approval v1``).

    Review the proposal first; sign on your own machine (docs/web.md)."""
    j = justification if justification else None
    msg = state.require_ledger().approval_message(proposal_id, j)
    return ApprovalMessage(proposal_id=proposal_id, justification=j,
                           message_b64=base64.b64encode(msg).decode("ascii"),
                           message_sha256=hashlib.sha256(msg).hexdigest())


@router.get("/mdf", responses=ERRORS, tags=["mdf"])
def mdf(state: State) -> MdfJson:
    """The MDF's projects from the ledger: by sector and by state, status, proposed and disbursed amounts."""
    return state.require_ledger().mdf().as_json()


# ------------------------------------------------------------------------------------------------ disclosures


@router.get("/disclosures", response_model=list[DisclosureFormat], tags=["disclosure"])
def disclosure_formats() -> list[DisclosureFormat]:
    """The downloads this server offers (IATI, OC4IDS and EITI only when naef.disclosure is installed)."""
    avail = disclosures.available()
    return [
        DisclosureFormat(name=name, media_type=media, file_name=fname, description=what, available=avail[name],
                         url=f"/api/disclosures/{name}")
        for name, (media, fname, what) in disclosures.FORMATS.items()
    ]


DisclosureName = Literal["ledger.jsonl", "checkpoint.txt", "iati", "oc4ids", "eiti"]


@router.get("/disclosures/{name}", responses={**ERRORS, 501: {"model": ErrorBody, "description": "Not installed"}},
            tags=["disclosure"], response_class=Response)
def disclosure(name: DisclosureName, state: State) -> Response:
    """Download a disclosure made at the latest signed checkpoint."""
    content, media, filename = disclosures.export(state.require_ledger(), name)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if isinstance(content, bytes):
        return Response(content, media_type=media, headers=headers)
    stream: Iterator[bytes] = content
    return StreamingResponse(stream, media_type=media, headers=headers)


# ------------------------------------------------------------------------------------------------ signed writes


def _same(who: Signer, claimed: str, what: str) -> None:
    if who.name != claimed:
        raise ApiError(403, "forbidden", f"{what}: {claimed!r} must sign this request, not {who.name!r}")


_B = TypeVar("_B", bound=BaseModel)


def _propose(state: WebState, body: SignedProposal, who: Signer) -> WriteResult:
    _same(who, body.proposal.proposer, "proposal.proposer")
    return WriteResult(indexes=state.require_ledger().propose(body), signer=who.name)


def _approve(state: WebState, body: Approval, who: Signer) -> WriteResult:
    _same(who, body.signer, "signer")
    return WriteResult(indexes=[state.require_ledger().approve(body)], signer=who.name)


def _execute(state: WebState, body: ExecuteRequest, who: Signer) -> WriteResult:
    if who.role == "observer":
        raise ApiError(403, "forbidden", f"{who.name}: observers do not execute disbursements")
    return WriteResult(indexes=[state.require_ledger().execute(body.proposal_id)], signer=who.name)


async def _written(done: SignedWrite[WriteResult], state: WebState, body: _B,
                   action: Callable[[WebState, _B, Signer], WriteResult]) -> WriteResult:
    """The write's result: done already by the dependency (:func:`naef.web.auth.signed_write`), or now, when the
    dependency left the body to FastAPI's validation."""
    if done.result is not None:
        return done.result
    return await run_in_threadpool(action, state, body, done.signer)


@router.post("/proposals", response_model=WriteResult, status_code=201, responses=WRITE_ERRORS, tags=["governance"])
async def post_proposal(
    body: SignedProposal, done: Annotated[SignedWrite[WriteResult], Depends(signed_write(SignedProposal, _propose))],
    state: State,
) -> WriteResult:
    """Record a proposal signed by its proposer (``proposal_message``), in a request signed by the same
    stakeholder. A benchmark flag is recorded with it when the unit cost is out of range."""
    return await _written(done, state, body, _propose)


@router.post("/approvals", response_model=WriteResult, status_code=201, responses=WRITE_ERRORS, tags=["governance"])
async def post_approval(
    body: Approval, done: Annotated[SignedWrite[WriteResult], Depends(signed_write(Approval, _approve))],
    state: State,
) -> WriteResult:
    """Record an approval (an Ed25519 signature over ``approval_message``), in a request signed by the approver.
    A refused approval is recorded too and answered 409 with the refusal's index."""
    return await _written(done, state, body, _approve)


@router.post("/executions", response_model=WriteResult, status_code=201, responses=WRITE_ERRORS,
             tags=["governance"])
async def post_execution(
    body: ExecuteRequest, done: Annotated[SignedWrite[WriteResult], Depends(signed_write(ExecuteRequest, _execute))],
    state: State,
) -> WriteResult:
    """Execute a disbursement whose approvals meet the quorum; the request must be signed by a stakeholder with
    an approving role. A refusal (e.g. quorum not met) is recorded and answered 409."""
    return await _written(done, state, body, _execute)


@router.get("/signing", response_model=SigningScheme, tags=["governance"])
def signing_scheme(state: State) -> SigningScheme:
    """How to sign a write request (docs/web.md): RFC 9421 with Ed25519, what must be covered, the clock."""
    return SigningScheme(
        scheme=SCHEME,
        origin=state.ledger.origin if state.ledger is not None else None,
        algorithm=ALGORITHM,
        headers=[HEADER_CONTENT_DIGEST, HEADER_SIGNATURE_INPUT, HEADER_SIGNATURE],
        covered_components=list(REQUIRED_COMPONENTS),
        parameters=["keyid", "created", "expires", "nonce", "tag"],
        max_skew_s=state.replay.max_skew_s,
        server_time=int(time.time()),
        not_before=state.replay.started_at,
        docs="docs/web.md#signed-requests",
    )
