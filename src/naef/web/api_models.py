"""The JSON API's request and response models and its documented error answers (``/api/openapi.json``).

Every error is ``{"error": {"status", "code", "message"}}`` (``docs/web.md``); :data:`ERRORS` and
:data:`WRITE_ERRORS` are the ``responses=`` of the routes in :mod:`naef.web.api`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PROPOSAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$"
"""A proposal id: a letter or digit, then up to 99 of letters, digits and ``._:/-``."""



class ErrorDetail(BaseModel):
    status: int
    code: str = Field(description="Machine-readable reason, e.g. not_found, bad_signature, rate_limited.")
    message: str = Field(description="One line naming the input and the reason.")
    refusal_index: int | None = Field(default=None, description="Ledger entry recording a refusal (409 only).")


class ErrorBody(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "Bad input (names the field and the reason)"),
        (404, "Not found"),
        (422, "Request does not match the schema"),
        (429, "Rate limited or queue full (see Retry-After)"),
        (503, "Not available on this server (no ledger configured)"),
    )
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    401: {"model": ErrorBody, "description": "Missing, malformed, stale, replayed or invalid request signature"},
    403: {"model": ErrorBody, "description": "The signer may not make this request, or a cross-site request"},
    409: {"model": ErrorBody, "description": "Refused by the control system's rules; the refusal is recorded"},
}


class Health(BaseModel):
    status: Literal["ok"]
    naef_version: str
    scenario: str
    ledger: bool
    ledger_size: int | None


class ScenarioList(BaseModel):
    server_scenario: str
    runnable: list[str]


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: int | None = Field(default=None, ge=1, le=100_000_000,
                              description="Monte Carlo paths (the server caps them; default 2,000).")
    seed: int = Field(default=1, ge=0, le=2**63 - 1, description="Seed of every random stream.")
    scenario: str | None = Field(default=None, max_length=200,
                                 description="A scenario this server offers (GET /api/scenarios); default: its own.")


class RunStatus(BaseModel):
    id: str
    kind: str
    scenario: str
    paths: int
    seed: int
    state: Literal["queued", "running", "done", "failed"]
    progress: float = Field(description="Share of paths done, 0 to 1.")
    paths_done: int
    paths_total: int
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    error: str | None
    result_url: str | None


class LedgerInfo(BaseModel):
    origin: str
    size: int
    root_hash: str
    log_key: str = Field(description="The log's Ed25519 verifier key (C2SP vkey) as stored; pin a published copy.")
    witness_keys: list[str]
    latest_checkpoint_size: int | None


class AuditFaultOut(BaseModel):
    index: int | None
    type: str
    rule: str = Field(description="The rule's code, e.g. quorum_not_met, bad_signature, insufficient_funds.")
    message: str


class AuditOut(BaseModel):
    ok: bool
    size: int = Field(description="Entries audited: 0 to size - 1.")
    governed_entries: int
    faults: int
    first_fault: AuditFaultOut | None
    received_usd: str
    disbursed_usd: str
    balance_usd: str


class EntryOut(BaseModel):
    index: int
    type: str
    time: str
    payload: dict[str, Any]
    canonical: str = Field(description="The entry's RFC 8785 canonical JSON; its UTF-8 bytes are the leaf.")
    leaf_hash: str


class EntriesPage(BaseModel):
    size: int
    start: int
    entries: list[EntryOut]
    next_start: int | None
    next: str | None = Field(description="URL of the next page (also in the Link header), or null on the last.")


class PageInfo(BaseModel):
    total: int = Field(description="Items in the whole list.")
    offset: int
    limit: int
    next: str | None = Field(description="URL of the next page (also in the Link header), or null on the last.")


class SignatureLine(BaseModel):
    name: str
    key_id: str


class CheckpointOut(BaseModel):
    size: int
    root_hash: str
    note: str = Field(description="The signed checkpoint (C2SP signed note), cosignatures included.")
    created_at: str
    signature_lines: list[SignatureLine]


class CheckpointsPage(PageInfo):
    checkpoints: list[CheckpointOut]


class RunsPage(PageInfo):
    runs: list[RunStatus]


class ProposalsPage(PageInfo):
    proposals: list[dict[str, Any]]


class InclusionProofOut(BaseModel):
    index: int
    size: int
    leaf_hash: str
    root_hash: str
    inclusion_path: list[str]


class ConsistencyProofOut(BaseModel):
    size1: int
    size2: int
    root1: str
    root2: str
    consistency_path: list[str]


class ApprovalMessage(BaseModel):
    proposal_id: str
    justification: str | None
    message_b64: str = Field(description="The exact bytes to sign (base64).")
    message_sha256: str


class ExecuteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    proposal_id: str = Field(pattern=PROPOSAL_ID_PATTERN)


class WriteResult(BaseModel):
    indexes: list[int] = Field(description="Ledger indexes of the entries appended.")
    signer: str


class SigningScheme(BaseModel):
    scheme: str
    origin: str | None = Field(description="The ledger's origin: the `tag` parameter every signature must carry.")
    algorithm: str
    headers: list[str]
    covered_components: list[str] = Field(description="Components every signature must cover (at least).")
    parameters: list[str] = Field(description="Signature parameters every signature must carry.")
    max_skew_s: int
    server_time: int
    not_before: int
    docs: str


class DisclosureFormat(BaseModel):
    name: str
    media_type: str
    file_name: str
    description: str
    available: bool
    url: str
