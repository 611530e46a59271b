"""Helpers shared by the credential services: lookups, conditional state moves, new pieces."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Bank,
    Credential,
    CredentialPiece,
    CredentialProgramme,
    Enterprise,
)
from chainfin.domain import credentials as rules
from chainfin.domain.access import Principal
from chainfin.domain.clock import utcnow
from chainfin.domain.credentials import CredentialStatus, PieceStatus
from chainfin.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from chainfin.domain.ids import new_ids
from chainfin.services import states
from chainfin.services.ledger import Change
from chainfin.services.ledger_records import row_of

_M = TypeVar("_M")


# ---------------------------------------------------------------------------- helpers


def _enterprise_of(actor: Principal) -> str:
    if actor.enterprise_id is None:
        raise Forbidden("this is done by an enterprise user", code="enterprise_user_only")
    return actor.enterprise_id


def _resolve_enterprise(session: Session, ref: str, field: str) -> Enterprise:
    if ref.startswith("ent_"):
        ent = session.get(Enterprise, ref)
    else:
        ent = session.scalar(select(Enterprise).where(Enterprise.uscc == ref.strip().upper()))
    if ent is None:
        raise ValidationFailed(
            [FieldError(field, f"{ref!r} is not a registered enterprise")],
            code="enterprise_unknown",
        )
    return ent


def _resolve_bank(session: Session, ref: str, field: str = "bank") -> Bank:
    bank = session.get(Bank, ref) or session.scalar(select(Bank).where(Bank.code == ref))
    if bank is None:
        raise ValidationFailed(
            [FieldError(field, f"{ref!r} is not a bank on the platform")], code="bank_unknown"
        )
    return bank


def _get(session: Session, model: type[_M], key: Any) -> _M:
    """A row that must exist (the schema's foreign keys say so)."""
    row = session.get(model, key)
    if row is None:
        raise AssertionError(f"{model.__name__} {key!r} is missing")
    return row


def _within(
    column: Any, start: date | None, end: date | None, name: str
) -> list[ColumnElement[bool]]:
    """A list filter's date range, both ends included (``{name}_from`` .. ``{name}_to``)."""
    if start is not None and end is not None and start > end:
        raise ValidationFailed(
            [FieldError(f"{name}_from", f"is after {name}_to")], code="period_invalid"
        )
    return [
        *([column >= start] if start is not None else []),
        *([column <= end] if end is not None else []),
    ]


def _change(kind: str, obj: Any) -> Change:
    return Change(kind, row_of(obj))


def _bank_enterprise(session: Session, bank_id: str) -> str:
    bank = _get(session, Bank, bank_id)
    return bank.enterprise_id


def _move(
    session: Session,
    piece: CredentialPiece,
    event: str,
    *,
    holder_id: str | None = None,
    **values: Any,
) -> None:
    """Move a piece by ``event`` if it is still in the state we read it in (and held by
    ``holder_id``); otherwise someone else moved it first and this request conflicts."""
    held_by = [CredentialPiece.holder_id == holder_id] if holder_id is not None else []
    if not states.swap(session, piece, event, *held_by, updated_at=utcnow(), **values):
        raise Conflict(
            f"piece {piece.id} changed while this request ran; reload and retry",
            code="concurrent_change",
        )


def _children(
    session: Session,
    parent: CredentialPiece,
    amounts: Sequence[int],
    *,
    holders: Sequence[str],
    tiers: Sequence[int],
    statuses: Sequence[PieceStatus],
    actor: Principal,
    senders: Sequence[str | None] | None = None,
) -> list[CredentialPiece]:
    now = utcnow()
    ids = new_ids("piece", len(amounts))
    out = []
    for n, amount in enumerate(amounts):
        piece = CredentialPiece(
            id=ids[n],
            credential_id=parent.credential_id,
            parent_id=parent.id,
            lineage=[*parent.lineage, parent.id],
            tier=tiers[n],
            currency=parent.currency,
            amount_minor=amount,
            settled_minor=0,
            holder_id=holders[n],
            sender_id=senders[n] if senders is not None else None,
            status=statuses[n].value,
            financing_id=None,
            created_by=actor.label,
            created_at=now,
            updated_at=now,
        )
        session.add(piece)
        out.append(piece)
    session.flush()
    return out


# ---------------------------------------------------------------------------- offers


def _piece_for_holder(session: Session, actor: Principal, piece_id: str) -> CredentialPiece:
    piece = session.get(CredentialPiece, piece_id)
    me = actor.enterprise_id
    if piece is None or (not actor.is_system and piece.holder_id != me):
        raise NotFound(f"no piece {piece_id!r} held by you", code="piece_not_found")
    return piece


# ---------------------------------------------------------------------------- split, transfer


def _programme_of(
    session: Session, piece: CredentialPiece
) -> tuple[Credential, CredentialProgramme]:
    credential = _get(session, Credential, piece.credential_id)
    programme = _get(session, CredentialProgramme, credential.programme_id)
    return credential, programme


def _check_live_credential(credential: Credential) -> None:
    if credential.status != CredentialStatus.ACTIVE.value:
        raise rules.IllegalTransition(
            f"credential {credential.id} is {credential.status}", code="credential_not_live"
        )


# ---------------------------------------------------------------------------- settle


def _live_pieces(session: Session, credential_id: str) -> list[CredentialPiece]:
    live = [s.value for s in rules.LIVE]
    return list(
        session.scalars(
            select(CredentialPiece)
            .where(CredentialPiece.credential_id == credential_id, CredentialPiece.status.in_(live))
            .order_by(CredentialPiece.tier, CredentialPiece.id)
        )
    )
