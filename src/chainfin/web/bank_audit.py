"""The auditor's desk (/audit): the ledger explorer — the latest signed checkpoints with the
log's signature and each witness's cosignature as the server found them, and the entries
the auditor's bank is a party to; one entry with its canonical bytes and its inclusion
proof, verified in the auditor's browser (static/ledger_verify.js: SHA-256 and Ed25519 with
WebCrypto, against the log key printed on the page); consistency between two checkpoints,
verified the same way; the bank's audit trail by actor, object and time; and an export for
``chainfin ledger verify-export``.

Reads only: every one goes through services/ledger_audit.py, which scopes them as the
ledger API does (an entry is read by its parties). See docs/workbench.md."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from chainfin.api.deps import SessionDep
from chainfin.api.inputs import Index
from chainfin.config import Settings
from chainfin.domain import clock
from chainfin.domain.access import Principal
from chainfin.domain.bounds import INT64_MAX
from chainfin.domain.errors import ChainfinError, Forbidden, NotFound
from chainfin.services import identity, ledger_audit
from chainfin.web.i18n import N_
from chainfin.web.render import PagePrincipal, language_of, render, whoami

router = APIRouter(include_in_schema=False)

SECTIONS = (
    ("explorer", "/audit", N_("Ledger explorer")),
    ("consistency", "/audit/consistency", N_("Consistency")),
    ("trail", "/audit/trail", N_("Audit trail")),
    ("export", "/audit/export", N_("Export")),
)
NOT_AUDITOR = N_("The ledger explorer and the audit trail are for your bank's auditors.")
NO_ENTRY = N_("No ledger entry with this index is open to your bank.")
NO_CHECKPOINT = N_("No signed checkpoint has this tree size.")
PAGE_SIZE = 25
TRAIL_PAGE = 50

# What the browser's verifier says; "{name}" is filled in by ledger_verify.js.
VERIFY_TEXT = {
    "mark_ok": N_("Checked:"),
    "mark_failed": N_("Failed:"),
    "bytes_same": N_(
        "The entry's bytes fetched for the check ({n} bytes) are the ones shown on this page."
    ),
    "bytes_differ": N_("The bytes fetched for the check differ from the entry shown on this page."),
    "leaf_hash": N_("Leaf hash SHA-256(0x00 ‖ entry) computed in your browser: {hash}"),
    "path_root": N_("Root computed from the audit path of {n} hashes (RFC 9162 §2.1.3.2): {root}"),
    "checkpoint_signed": N_(
        "Checkpoint {which} (tree size {size}) carries a valid Ed25519 signature by the log"
        " key {key} ({id})."
    ),
    "cosigned": N_("Checkpoint {which}: the cosignature of witness {name} is valid."),
    "cosignature_bad": N_("Checkpoint {which}: the cosignature of witness {name} does not verify."),
    "root_matches": N_("The computed root is the root signed in checkpoint {size}."),
    "inclusion_verified": N_(
        "Verified in your browser: entry {index} is in the log, against checkpoint {size},"
        " root {root} ({witnesses} witness cosignatures checked)."
    ),
    "consistency_ok": N_(
        "The consistency proof of {n} hashes (RFC 9162 §2.1.4.2) leads to both signed roots."
    ),
    "consistency_verified": N_(
        "Verified in your browser: the tree of {second} entries (root {root2}) extends the tree"
        " of {first} entries (root {root1}); nothing was removed or rewritten."
    ),
    "failed_because": N_("Verification FAILED: {reason}"),
    "root_mismatch": N_("the proof leads to root {got}, but the checkpoint signs root {want}."),
    "root1_mismatch": N_("the proof leads to old root {got}, but checkpoint 1 signs {want}."),
    "root2_mismatch": N_("the proof leads to new root {got}, but checkpoint 2 signs {want}."),
    "size_mismatch": N_("the checkpoint is for tree size {have}, the proof for {want}."),
    "wrong_proof_size": N_("the proof has {have} hashes; this position needs {want}."),
    "bad_hash_size": N_("{what} is {size} bytes, not 32."),
    "bad_hex": N_("a hash in the proof is not hexadecimal: {value}"),
    "bad_base64": N_("the entry or a signature is not valid base64."),
    "index_out_of_range": N_("index {index} is not in a tree of {size} entries."),
    "invalid_sizes": N_("no consistency from size {first} to size {second}."),
    "empty_tree": N_("a consistency proof from the empty tree proves nothing."),
    "bad_note": N_("the checkpoint is not a well-formed signed note."),
    "bad_checkpoint": N_("the checkpoint's body is not origin, tree size and root hash."),
    "bad_key": N_("the key {key} shown on this page is not a valid verifier key."),
    "bad_signature": N_("the checkpoint's signature by the log key {key} does not verify."),
    "no_log_signature": N_(
        "the checkpoint carries no signature by the log key shown on this page."
    ),
    "fetch_failed": N_("the proof could not be fetched (HTTP {status})."),
    "no_webcrypto": N_("this browser has no WebCrypto: nothing could be checked."),
    "unexpected": N_("an unexpected error: {message}"),
}
EVENT_WORDS = {
    "user.create": N_("created a user"),
    "user.roles_changed": N_("changed a user's roles"),
    "user.deactivated": N_("deactivated a user"),
    "user.reactivated": N_("reactivated a user"),
    "user.activated": N_("activated a user"),
    "user.locked": N_("locked a user"),
    "user.unlocked": N_("unlocked a user"),
    "user.password_changed": N_("changed a password"),
    "user.sign_in": N_("signed in"),
    "user.sign_in_failed": N_("failed to sign in"),
    "user.session_ended": N_("ended a session"),
    "client.create": N_("created an API client"),
    "client.revoked": N_("revoked an API client"),
    "client.secret_rotated": N_("rotated an API client's secret"),
    "alert.acknowledge": N_("acknowledged an alert"),
    "alert.resolve": N_("resolved an alert"),
    "application.submit": N_("submitted a loan application"),
    "application.condition": N_("set conditions on an application"),
    "authority.grant": N_("granted an approval authority"),
    "cap.set": N_("set a cap"),
    "line.open": N_("opened a credit line"),
    "line.sublimit": N_("set a sub-limit"),
    "loan.disburse": N_("disbursed a loan"),
    "loan.repay": N_("recorded a repayment"),
    "loan.prepay": N_("recorded a prepayment"),
    "loan.extend": N_("extended a loan"),
    "loan.buy_back": N_("recorded a buy-back"),
    "loan.release_goods": N_("released goods"),
    "loan.collateral_observe": N_("recorded a collateral observation"),
    "journal.reverse": N_("reversed a journal entry"),
    "product.define": N_("defined a product"),
    "programme.open": N_("opened a credential programme"),
    "piece.quote": N_("quoted a discount"),
    "piece.finance": N_("financed a credential"),
    "statement.import": N_("imported a bank statement"),
    "chain.create": N_("created a chain"),
    "chain.recompute": N_("recomputed a chain"),
    "enterprise.import": N_("imported enterprises"),
    "enterprise.update": N_("updated an enterprise"),
    "relation.import": N_("imported relations"),
    "consent.grant": N_("granted a consent"),
    "consent.revoke": N_("revoked a consent"),
    "receivable.register": N_("registered a receivable"),
    "receivable.release": N_("released a receivable"),
    "model.register": N_("registered a model"),
    "model.promote": N_("promoted a model"),
    "model.monitor": N_("monitored a model"),
    "document.confirm": N_("confirmed a document"),
    "document.ingest": N_("submitted documents"),
    "credential.issue": N_("issued a credential"),
    "credential.settle": N_("settled a credential"),
}
TARGET_WORDS = {
    "user": N_("user"),
    "client": N_("API client"),
    "alert": N_("alert"),
    "application": N_("application"),
    "loan": N_("loan"),
    "line": N_("credit line"),
    "product": N_("product"),
    "programme": N_("programme"),
    "quote": N_("quote"),
    "financing": N_("financing"),
    "document": N_("document"),
    "credential": N_("credential"),
    "piece": N_("credential piece"),
    "consent": N_("consent"),
    "chain": N_("chain"),
    "enterprise": N_("enterprise"),
    "model": N_("model"),
    "statement": N_("statement"),
    "receivable": N_("receivable"),
    # the kinds of record on the log (services/ledger_records.py KINDS)
    "approval": N_("approval"),
    "authority": N_("approval authority"),
    "bank": N_("bank"),
    "bank_customer": N_("bank customer"),
    "calendar_year": N_("working-day calendar"),
    "cap": N_("cap"),
    "cap_member": N_("cap member"),
    "chain_head": N_("hash chain head"),
    "chain_members": N_("chain members"),
    "commodity_price": N_("commodity price"),
    "confirmation": N_("debtor confirmation"),
    "device": N_("device"),
    "disbursement_file": N_("disbursement file"),
    "funder": N_("funder"),
    "goods_release": N_("goods release"),
    "invitation": N_("invitation"),
    "journal": N_("journal entry"),
    "lpr_fixing": N_("LPR fixing"),
    "model_monitoring": N_("model monitoring"),
    "payable": N_("payable"),
    "payment": N_("payment"),
    "platform": N_("platform"),
    "platform_member": N_("platform member"),
    "price_source": N_("price source"),
    "relation": N_("relation"),
    "repayment": N_("repayment"),
    "reservation": N_("limit reservation"),
    "risk_model": N_("risk model"),
    "statement_entry": N_("statement entry"),
    "statement_import": N_("statement import"),
    "sublimit": N_("sub-limit"),
    "supplier_invitation": N_("supplier invitation"),
    "task": N_("due-diligence task"),
    "task_attachment": N_("task attachment"),
}


# ---------------------------------------------------------------------------- helpers


def _refused(request: Request, me: identity.Identity | None, exc: ChainfinError) -> Response:
    if isinstance(exc, NotFound):
        reason = NO_CHECKPOINT if exc.code == "checkpoint_not_found" else NO_ENTRY
        return render(request, "error.html", {"reason": reason}, me=me, status_code=404)
    return render(request, "error.html", {"reason": NOT_AUDITOR}, me=me, status_code=403)


def _page(
    request: Request, me: identity.Identity, page: str, section: str, context: dict[str, Any]
) -> Response:
    values = {"nav": "audit", "sections": SECTIONS, "section": section, **context}
    return render(request, page, values, me=me)


def _int(text: str | None, field: str, errors: dict[str, str], low: int = 0) -> int | None:
    if text is None or not text.strip():
        return None
    try:
        value = int(text.strip())
    except ValueError:
        value = None
    if value is None or value < low or value > 2**62:
        errors[field] = N_("Enter a whole number.") if value is None else N_("Out of range.")
        return None
    return value


FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)  # the trail's searchable days


def _day(text: str | None, field: str, errors: dict[str, str]) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        errors[field] = N_("Enter a date as YYYY-MM-DD.")
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        errors[field] = N_("Enter a date between 1900 and 9998.")
        return None
    return day


def _keys(session: Session) -> dict[str, Any]:
    """The public keys the browser checks signatures against, printed on the page so the
    auditor can compare them with the keys obtained out of band."""
    import hashlib

    logs = ledger_audit.log_vkeys(session)
    witnesses = ledger_audit.witness_rows(session)
    fingerprints = {v: hashlib.sha256(v.encode()).hexdigest() for v in logs}
    return {
        "log_vkeys": logs,
        "fingerprints": fingerprints,
        "witnesses": witnesses,
        "witness_vkeys": [w.vkey for w in witnesses if w.active],
    }


def _verify_text(request: Request) -> dict[str, str]:
    language, _ = language_of(request)
    return {k: language.gettext(v) for k, v in VERIFY_TEXT.items()}


def _json_refusal(exc: ChainfinError) -> JSONResponse:
    status = 404 if isinstance(exc, NotFound) else exc.status
    return JSONResponse({"code": exc.code, "detail": exc.message}, status_code=status)


# ---------------------------------------------------------------------------- explorer


@router.get("/audit")
def explorer(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    kind: str | None = None,
    obj: Annotated[str | None, Query(alias="object")] = None,
    before: str | None = None,
) -> Response:
    """The latest checkpoints and the entries the auditor's bank is a party to."""
    me = whoami(session, principal)
    errors: dict[str, str] = {}
    kind = (kind or "").strip()[:64] or None
    object_id = (obj or "").strip()[:100] or None
    start = _int(before, "before", errors)
    try:
        cps = ledger_audit.checkpoints(session, principal)
        kinds = ledger_audit.entry_kinds(session, principal)
        if kind and kind not in kinds:
            errors["kind"] = N_("Choose a kind from the list.")
            kind = None
        page = ledger_audit.entries(
            session, principal, kind=kind, object_id=object_id, before=start, limit=PAGE_SIZE
        )
    except ChainfinError as exc:
        return _refused(request, me, exc)
    names = identity.party_names(
        session,
        principal,
        {p for e in page.items for p in e.parties}
        | {s.owner_id or "" for c in cps for s in c.signatures},
    )
    context = {
        "checkpoints": cps,
        "kinds": kinds,
        "kind": kind or "",
        "object_id": object_id or "",
        "page": page,
        "names": names,
        "errors": errors,
        "first_page": start is None,
        "target_words": TARGET_WORDS,
        **_keys(session),
    }
    return _page(request, me, "bank_audit.html", "explorer", context)


def _principal_refusal(principal: Principal) -> ChainfinError | None:
    try:
        ledger_audit.require_auditor(principal)
    except Forbidden as exc:
        return exc
    return None


@router.get("/audit/entries/{index}")
def entry_page(
    index: Index, request: Request, session: SessionDep, principal: PagePrincipal
) -> Response:
    """One entry: its canonical bytes, what they say, and its inclusion proof checked in
    the browser."""
    me = whoami(session, principal)
    try:
        view = ledger_audit.entry(session, principal, index)
        proof = ledger_audit.inclusion(session, principal, index)
    except ChainfinError as exc:
        return _refused(request, me, exc)
    names = identity.party_names(session, principal, set(view.parties))
    context = {
        "entry": view,
        "covered": proof is not None,
        "tree_size": proof.tree_size if proof else None,
        "names": names,
        "verify_text": _verify_text(request),
        "target_words": TARGET_WORDS,
        **_keys(session),
    }
    return _page(request, me, "bank_audit_entry.html", "explorer", context)


@router.get("/audit/entries/{index}/proof")
def entry_proof(index: Index, session: SessionDep, principal: PagePrincipal) -> Response:
    """What the browser checks: the entry's exact bytes, its audit path and the signed
    checkpoint the path leads to."""
    try:
        proof = ledger_audit.inclusion(session, principal, index)
    except ChainfinError as exc:
        return _json_refusal(exc)
    if proof is None:
        return JSONResponse(
            {"code": "entry_not_yet_checkpointed", "detail": "not yet in a signed checkpoint"},
            status_code=404,
        )
    return JSONResponse(proof.as_json(), headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------------------- consistency


@router.get("/audit/consistency")
def consistency_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    first: str | None = None,
    second: str | None = None,
) -> Response:
    """Choose two checkpoints; the browser checks the newer extends the older."""
    me = whoami(session, principal)
    errors: dict[str, str] = {}
    one = _int(first, "first", errors, low=1)
    two = _int(second, "second", errors, low=1)
    try:
        sizes = ledger_audit.checkpoint_sizes(session, principal)
    except ChainfinError as exc:
        return _refused(request, me, exc)
    if one is not None and one not in sizes:
        errors["first"] = NO_CHECKPOINT
    if two is not None and two not in sizes:
        errors["second"] = NO_CHECKPOINT
    if one is not None and two is not None and not errors and one > two:
        errors["second"] = N_("Choose a newer checkpoint than the first (a larger tree).")
    if one is None and two is None and len(sizes) >= 2 and not errors:
        one, two = sizes[1], sizes[0]  # the two latest: what a witness checks next
    chosen = one is not None and two is not None and not errors
    context = {
        "sizes": sizes,
        "first": one,
        "second": two,
        "chosen": chosen,
        "errors": errors,
        "cosigned": ledger_audit.cosigned_sizes(session, sizes[:50]),
        "verify_text": _verify_text(request),
        **_keys(session),
    }
    status = 422 if errors else 200
    response = _page(request, me, "bank_audit_consistency.html", "consistency", context)
    response.status_code = status
    return response


@router.get("/audit/consistency/proof")
def consistency_proof(
    session: SessionDep,
    principal: PagePrincipal,
    first: Annotated[int, Query(ge=1, le=INT64_MAX)] = 1,
    second: Annotated[int, Query(ge=1, le=INT64_MAX)] = 1,
) -> Response:
    try:
        data = ledger_audit.consistency(session, principal, first, second)
    except ChainfinError as exc:
        return _json_refusal(exc)
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------------------- audit trail


@router.get("/audit/trail")
def trail_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cursor: str | None = None,
) -> Response:
    """The bank's audit trail, newest first, each event in words."""
    me = whoami(session, principal)
    errors: dict[str, str] = {}
    day_from = _day(since, "since", errors)
    day_to = _day(until, "until", errors)
    if day_from and day_to and day_to < day_from:
        errors["until"] = N_("The end date is before the start date.")
    filters = ledger_audit.TrailFilter(
        actor=(actor or "").strip()[:100] or None,
        target_type=(target_type or "").strip()[:32] or None,
        target_id=(target_id or "").strip()[:64] or None,
        since=clock.at_local(day_from) if day_from and not errors else None,
        until=clock.at_local(day_to + timedelta(days=1)) if day_to and not errors else None,
    )
    try:
        types = ledger_audit.trail_target_types(session, principal)
        page = ledger_audit.trail(
            session, principal, filters, cursor=(cursor or None), limit=TRAIL_PAGE
        )
    except Forbidden as exc:
        return _refused(request, me, exc)
    except ChainfinError:
        errors["form"] = N_("This page of the list no longer exists; start again.")
        page = ledger_audit.trail(session, principal, filters, limit=TRAIL_PAGE)
    query = {
        "actor": filters.actor or "",
        "target_type": filters.target_type or "",
        "target_id": filters.target_id or "",
        "since": since or "",
        "until": until or "",
    }
    context = {
        "page": page,
        "types": types,
        "query": query,
        "errors": errors,
        "event_words": EVENT_WORDS,
        "target_words": TARGET_WORDS,
    }
    response = _page(request, me, "bank_audit_trail.html", "trail", context)
    if errors:
        response.status_code = 422
    return response


# ---------------------------------------------------------------------------- export


@router.get("/audit/export")
def export_page(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    me = whoami(session, principal)
    refusal = _principal_refusal(principal)
    if refusal is not None:
        return _refused(request, me, refusal)
    return _page(request, me, "bank_audit_export.html", "export", _keys(session))


@router.get("/audit/export/download")
def export_download(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    """The zip ``chainfin ledger verify-export`` reads once unpacked."""
    settings: Settings = request.app.state.settings
    try:
        out = ledger_audit.export(session, principal, settings.ledger_origin)
    except ChainfinError as exc:
        return _refused(request, whoami(session, principal), exc)
    day = clock.today().isoformat()
    return Response(
        out.content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="chainfin-ledger-export-{day}.zip"',
            "Cache-Control": "no-store",
            "X-Entries": str(out.entries),
            "X-Withheld": str(out.withheld),
        },
    )
