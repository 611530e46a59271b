"""The last line behind the state machines: before every flush, each new row of a stateful
model must start in an initial state of its machine, and each changed state column must be a
move of the machine's table (some event leads from the stored state to the new one).

The services change states only through ``chainfin.services.states``; this guard makes a
write that bypasses it (``loan.status = "current"`` on a settled loan) fail loudly with
:class:`~chainfin.domain.states.IllegalTransition` instead of reaching the database. Bulk
``UPDATE`` statements do not pass through a flush: the services' guarded compare-and-swap
checks those, and the database's CHECK constraints keep every value to the machine's states.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.models import (
    Alert,
    Base,
    Credential,
    CredentialPiece,
    CredentialProgramme,
    CreditLine,
    DueDiligenceTask,
    IotDevice,
    LineChange,
    LineReservation,
    Loan,
    LoanApplication,
    LoanProduct,
    ProgrammeInvitation,
    RiskModel,
    SupplierInvitation,
)
from chainfin.domain import states
from chainfin.domain.states import StateMachine

STATEFUL: Mapping[type[Base], StateMachine[Any]] = MappingProxyType(
    {
        CredentialPiece: states.CREDENTIAL_PIECE,
        Credential: states.CREDENTIAL,
        CredentialProgramme: states.CREDENTIAL_PROGRAMME,
        ProgrammeInvitation: states.PROGRAMME_INVITATION,
        CreditLine: states.CREDIT_LINE,
        LineReservation: states.LINE_RESERVATION,
        LoanProduct: states.LOAN_PRODUCT,
        LoanApplication: states.LOAN_APPLICATION,
        DueDiligenceTask: states.DUE_DILIGENCE_TASK,
        Loan: states.LOAN,
        Alert: states.ALERT,
        IotDevice: states.IOT_DEVICE,
        RiskModel: states.RISK_MODEL,
        SupplierInvitation: states.SUPPLIER_INVITATION,
        LineChange: states.LINE_CHANGE,
    }
)
"""Each stateful model with its machine (the machine's ``column`` names the state column)."""


def machine_of(model: type[Any]) -> StateMachine[Any]:
    """The machine of a stateful model; a model without one is a programming error."""
    found = STATEFUL.get(model)
    if found is None:
        raise TypeError(f"{model.__name__} has no state machine")
    return found


def _stored_state(session: Session, obj: Any, machine: StateMachine[Any]) -> str | None:
    """The state the database holds for ``obj`` when the session no longer knows it (the
    attribute was expired, by a refresh or a rolled-back savepoint, before it was set)."""
    state = inspect(obj)
    if state.identity is None:
        return None
    mapper = state.mapper
    column = getattr(mapper.class_, machine.column)
    where = [c == v for c, v in zip(mapper.primary_key, state.identity, strict=True)]
    value: str | None = session.connection().scalar(select(column).where(*where))
    return value


def check_flush(session: Session, _context: Any, _instances: Iterable[Any] | None) -> None:
    """``before_flush``: refuse a new row outside its initial states and any change of state
    that is not one move of its machine's table."""
    for obj in session.new:
        machine = STATEFUL.get(type(obj))
        if machine is not None:
            machine.check_initial(getattr(obj, machine.column), subject=obj.id)
    for obj in session.dirty:
        machine = STATEFUL.get(type(obj))
        if machine is None:
            continue
        history = inspect(obj).attrs[machine.column].history
        if not history.added:
            continue
        after = history.added[0]
        before = history.deleted[0] if history.deleted else _stored_state(session, obj, machine)
        if before is None or before == after:
            continue
        machine.event_to(before, after, subject=obj.id)


def install(factory: sessionmaker[Session]) -> None:
    """Guard every session ``factory`` makes (once per factory).

    The mark is on the factory itself, not ``event.contains``: SQLAlchemy keys listeners by
    ``id(target)``, and a new factory allocated where a freed one lived (whose session class
    the cycle collector has not reclaimed yet) would look guarded and be left unguarded."""
    if getattr(factory, _GUARDED, False):
        return
    event.listen(factory, "before_flush", check_flush)
    setattr(factory, _GUARDED, True)


_GUARDED = "_chainfin_state_guard"
