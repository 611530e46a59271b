"""Data-use consent: grants, revocations, the check every bank-side read makes, and the access
log the enterprise can see. Grants and revocations go on the ledger; the access log is
hash-chained and the chain anchored on the ledger (services/ledger_chains.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.engine import on_rollback
from chainfin.adapters.db.models import Bank, ConsentGrant, DataAccess, Enterprise
from chainfin.domain.access import Principal, Scope
from chainfin.domain.clock import ensure_utc, utcnow
from chainfin.domain.consent import DataCategory, Grant, Purpose, decide
from chainfin.domain.errors import (
    ChainfinError,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from chainfin.domain.ids import new_id
from chainfin.services import audit, ledger, ledger_chains, scoping
from chainfin.services.ledger import Change
from chainfin.services.ledger_records import row_of
from chainfin.services.pagination import (
    DEFAULT_LIMIT,
    Page,
    check_limit,
    decode_cursor,
    encode_cursor,
    paginate,
)

MAX_TERM_DAYS = 3 * 366


class ConsentRefused(ChainfinError):
    """The enterprise has not consented (or no longer consents) to this use of its data."""

    code = "consent_refused"
    status = 403


def _enterprise_of(actor: Principal) -> str:
    if actor.enterprise_id is None or not actor.has(Scope.CONSENT_MANAGE):
        raise Forbidden(
            "consent is granted and revoked by the enterprise whose data it is",
            hint="Sign in as the enterprise's administrator.",
            code="enterprise_user_only",
        )
    return actor.enterprise_id


def _parse(
    values: Sequence[str], enum: type[DataCategory] | type[Purpose], field: str
) -> list[str]:
    out = []
    for value in values:
        try:
            out.append(enum(value).value)
        except ValueError:
            known = ", ".join(e.value for e in enum)
            raise ValidationFailed(
                [FieldError(field, f"{value!r} is not one of {known}")],
                code="consent_terms_invalid",
            ) from None
    if not out:
        raise ValidationFailed(
            [FieldError(field, "at least one is required")], code="consent_terms_invalid"
        )
    return sorted(set(out))


def grant(
    session: Session,
    actor: Principal,
    *,
    bank_code: str,
    categories: Sequence[str],
    purposes: Sequence[str],
    expires_at: datetime,
    valid_from: datetime | None = None,
) -> ConsentGrant:
    enterprise_id = _enterprise_of(actor)
    cats = _parse(categories, DataCategory, "categories")
    purps = _parse(purposes, Purpose, "purposes")
    now = utcnow()
    start = ensure_utc(valid_from) if valid_from else now
    end = ensure_utc(expires_at)
    if end <= max(start, now):
        raise ValidationFailed(
            [FieldError("expires_at", "must be in the future and after valid_from")],
            code="consent_period_invalid",
        )
    if (end - start).days > MAX_TERM_DAYS:
        raise ValidationFailed(
            [FieldError("expires_at", f"at most {MAX_TERM_DAYS} days after valid_from")],
            code="consent_period_invalid",
        )
    bank = session.scalar(select(Bank).where(Bank.code == bank_code))
    if bank is None:
        raise ValidationFailed(
            [FieldError("bank", f"no bank with code {bank_code!r}")], code="bank_unknown"
        )
    row = ConsentGrant(
        id=new_id("consent"),
        enterprise_id=enterprise_id,
        bank_id=bank.id,
        categories=cats,
        purposes=purps,
        valid_from=start,
        expires_at=end,
        granted_by=actor.label,
        revoked_at=None,
        revoked_by=None,
        created_at=now,
    )
    session.add(row)
    session.flush()
    ledger.one(session, actor, "consent.granted", Change("consent", row_of(row)))
    audit.record(session, actor, "consent.grant", "consent", row.id, {"bank_id": bank.id})
    return row


def revoke(session: Session, actor: Principal, consent_id: str) -> ConsentGrant:
    """Effective immediately: the next read under this grant is refused."""
    enterprise_id = _enterprise_of(actor)
    row = session.get(ConsentGrant, consent_id, with_for_update=True)
    if row is None or row.enterprise_id != enterprise_id:
        raise NotFound(f"no consent {consent_id!r}", code="consent_not_found")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = utcnow(), actor.label
        session.flush()
        ledger.one(session, actor, "consent.revoked", Change("consent", row_of(row)))
        audit.record(session, actor, "consent.revoke", "consent", row.id, {})
    return row


def list_grants(
    session: Session,
    actor: Principal,
    *,
    state: str | None = None,
    bank_id: str | None = None,
    enterprise_id: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[ConsentGrant]:
    """An enterprise sees the grants it gave; a bank the grants it holds; newest first.
    ``state``: one of :data:`STATES` now; ``bank_id``/``enterprise_id``: the counterparty."""
    actor.require(Scope.REGISTRY_READ)
    query = select(ConsentGrant)
    if actor.is_system:
        pass
    elif actor.enterprise_id is not None:
        query = query.where(ConsentGrant.enterprise_id == actor.enterprise_id)
    elif actor.bank_id is not None:
        query = query.where(ConsentGrant.bank_id == actor.bank_id)
    else:
        query = query.where(false())
    if bank_id is not None:
        query = query.where(ConsentGrant.bank_id == bank_id)
    if enterprise_id is not None:
        query = query.where(ConsentGrant.enterprise_id == enterprise_id)
    if state is not None:
        query = query.where(_in_state(state, utcnow()))
    return paginate(session, query, ConsentGrant.id, cursor=cursor, limit=limit, descending=True)


STATES = ("active", "not yet valid", "expired", "revoked")
"""Where a grant stands at an instant (:meth:`chainfin.domain.consent.Grant.state_at`)."""


def _in_state(state: str, now: datetime) -> ColumnElement[bool]:
    live = ConsentGrant.revoked_at.is_(None)
    conditions = {
        "revoked": ConsentGrant.revoked_at.is_not(None),
        "not yet valid": and_(live, ConsentGrant.valid_from > now),
        "expired": and_(live, ConsentGrant.valid_from <= now, ConsentGrant.expires_at <= now),
        "active": and_(live, ConsentGrant.valid_from <= now, ConsentGrant.expires_at > now),
    }
    if state not in conditions:
        raise ValidationFailed(
            [FieldError("state", f"one of {', '.join(STATES)}")], code="state_unknown"
        )
    return conditions[state]


def _grants(session: Session, enterprise_id: str, bank_id: str) -> list[Grant]:
    return [
        Grant(
            g.id,
            frozenset(DataCategory(c) for c in g.categories),
            frozenset(Purpose(p) for p in g.purposes),
            ensure_utc(g.valid_from),
            ensure_utc(g.expires_at),
            ensure_utc(g.revoked_at) if g.revoked_at else None,
        )
        for g in session.scalars(
            select(ConsentGrant).where(
                ConsentGrant.enterprise_id == enterprise_id, ConsentGrant.bank_id == bank_id
            )
        )
    ]


def has_active_grant(session: Session, enterprise_id: str, bank_id: str) -> bool:
    """Whether the enterprise has a grant in force to the bank (any category, any purpose):
    its own act toward that bank, which is what lets the bank take it on as a customer."""
    now = utcnow()
    return any(g.state_at(now) == "active" for g in _grants(session, enterprise_id, bank_id))


def require(
    session: Session,
    actor: Principal,
    *,
    enterprise_id: str,
    category: DataCategory,
    purpose: Purpose,
    resource: str,
    not_found: str = "enterprise_data_not_found",
) -> str:
    """The gate every bank-side read of an enterprise's data passes. Returns the consent id;
    raises :class:`ConsentRefused` otherwise. Either way the access is logged — a refused one
    even though the caller's transaction rolls back. A caller that may not know the data
    exists gets ``NotFound`` with the code ``not_found`` (the one the caller's own lookup
    gives, so the two cannot be told apart)."""
    if actor.enterprise_id == enterprise_id or actor.is_system:
        return "own-data"
    if actor.bank_id is None:
        # another enterprise, a platform, the operator's people: not their tenant's data
        raise NotFound(f"no {resource}", code=not_found)
    if session.get(Enterprise, enterprise_id) is None:
        # no such enterprise, so no one whose access log this read would go in
        raise NotFound(f"no {resource}", code=not_found)
    now = utcnow()
    grants = _grants(session, enterprise_id, actor.bank_id)
    decision = decide(grants, category, purpose, now)
    # A bank the enterprise has no relationship with (not its customer, never granted it
    # anything) is not told that the data exists: 404 instead of consent_refused.
    stranger = not grants and not scoping.is_customer(session, actor.bank_id, enterprise_id)
    entry = {
        "id": new_id("access"),
        "enterprise_id": enterprise_id,
        "bank_id": actor.bank_id,
        "actor": actor.label,
        "category": category.value,
        "purpose": purpose.value,
        "resource": resource[:200],
        "allowed": decision.allowed,
        "consent_id": decision.consent_id,
        "reason": decision.reason[:300],
        "occurred_at": now,
    }
    if decision.allowed:
        session.add(ledger_chains.stamp(session, DataAccess(**entry)))
        return str(decision.consent_id)
    on_rollback(session, lambda s: s.add(ledger_chains.stamp(s, DataAccess(**entry))))
    if stranger:
        raise NotFound(f"no {resource}", code=not_found)
    raise ConsentRefused(
        f"{decision.reason}; the enterprise must grant {category.value} for {purpose.value}",
        hint="Ask the enterprise to grant consent to your bank.",
    )


def access_log(
    session: Session, actor: Principal, *, limit: int = 50, cursor: str | None = None
) -> Page[DataAccess]:
    """The enterprise's view of who read its data, when, why and under which consent."""
    if actor.enterprise_id is None and not actor.is_system:
        raise Forbidden(
            "the access log belongs to the enterprise whose data was read",
            code="enterprise_user_only",
        )
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    query = select(DataAccess)
    if actor.enterprise_id is not None:
        query = query.where(DataAccess.enterprise_id == actor.enterprise_id)
    if after:
        query = query.where(DataAccess.id > after)
    rows = list(session.scalars(query.order_by(DataAccess.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if more and rows else None)


def missing_for_bank(
    session: Session,
    *,
    enterprise_id: str,
    bank_id: str,
    actor_label: str,
    categories: Iterable[str],
    purpose: Purpose,
    resource: str,
) -> list[str]:
    """The categories ``enterprise_id`` has not consented to share with ``bank_id`` for
    ``purpose`` now (an application's automated check: a gap is a decline reason, not an
    error). Each category read is logged for the enterprise to see, allowed or not."""
    now = utcnow()
    grants = _grants(session, enterprise_id, bank_id)
    missing: list[str] = []
    for category in categories:
        decision = decide(grants, DataCategory(category), purpose, now)
        if not decision.allowed:
            missing.append(category)
        access = DataAccess(
            id=new_id("access"),
            enterprise_id=enterprise_id,
            bank_id=bank_id,
            actor=actor_label,
            category=category,
            purpose=purpose.value,
            resource=resource[:200],
            allowed=decision.allowed,
            consent_id=decision.consent_id,
            reason=decision.reason[:300],
            occurred_at=now,
        )
        session.add(ledger_chains.stamp(session, access))
    return missing
