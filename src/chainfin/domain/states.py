"""Every stateful resource's states, the named events that move it, and the refusal of any
other move.

A :class:`StateMachine` is a :class:`~enum.StrEnum` of states (their values are what the
database stores, and the database's CHECK constraint is generated from them by
:meth:`StateMachine.check_sql`), the states a new row may start in, and a transition table
keyed ``(state, event) -> next state``. Events are verbs (``accept``, ``freeze``,
``disburse``); a state with no event is final. Asking for an event the table does not list
raises :class:`IllegalTransition`, which names the machine, the current state, the event and
the events that would have been allowed.

The services never write a state column themselves: ``chainfin.services.states`` moves a row
by an event through its machine, and a flush-time guard in ``chainfin.adapters.db`` refuses
any other change. :data:`MACHINES` lists every machine; ``python -m chainfin.domain.states``
prints the reference in docs/states.md.

>>> LOAN.next("approved", "disburse")
<LoanStatus.DISBURSED: 'disbursed'>
>>> LOAN.allowed_events("overdue")
('catch_up', 'settle', 'write_off')
>>> LOAN.is_final("settled")
True
>>> CREDIT_LINE.check_sql("status")
"status IN ('active','frozen','expired','closed')"
>>> try:
...     LOAN.next("settled", "disburse", subject="loan_1")
... except IllegalTransition as exc:
...     print(exc.code, "|", exc.message)
illegal_transition | loan loan_1 is settled; it cannot disburse (settled is final)
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from chainfin.domain.errors import Conflict

S = TypeVar("S", bound=StrEnum)

_NAME = re.compile(r"^[a-z][a-z_]*[a-z]$")


class IllegalTransition(Conflict):
    """A resource was asked for an event its current state does not allow.

    ``machine``, ``current``, ``event`` and ``allowed`` say which machine refused, in which
    state, what was asked and what would have been accepted (empty when the state is final).
    """

    code = "illegal_transition"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: str | None = None,
        machine: str | None = None,
        current: str | None = None,
        event: str | None = None,
        allowed: Iterable[str] = (),
    ) -> None:
        super().__init__(message, hint=hint, code=code)
        self.machine = machine
        self.current = current
        self.event = event
        self.allowed = tuple(allowed)

    def details(self) -> dict[str, object]:
        facts: dict[str, object] = {
            "machine": self.machine,
            "current": self.current,
            "event": self.event,
            "allowed": list(self.allowed),
        }
        return {k: v for k, v in facts.items() if v is not None}


class IllegalLoanTransition(IllegalTransition):
    """A loan was asked to move to a state its current state does not lead to."""


@dataclass(frozen=True)
class StateMachine(Generic[S]):
    """One resource's states and moves. Build it with :func:`machine`."""

    name: str  # snake_case, e.g. "credit_line"; the noun in messages is "credit line"
    states: type[S]
    initial: frozenset[S]
    table: Mapping[tuple[S, str], S]
    meaning: Mapping[S, str]  # what each state means, for people (docs/states.md)
    about: str  # one paragraph on the resource and who moves it
    column: str = "status"
    error: type[IllegalTransition] = IllegalTransition
    _events_of: Mapping[S, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError(f"state machine {self.name!r}: " + "; ".join(problems))
        events_of: dict[S, tuple[str, ...]] = {
            s: tuple(e for (state, e) in self.table if state is s) for s in self.states
        }
        object.__setattr__(self, "_events_of", MappingProxyType(events_of))

    @property
    def noun(self) -> str:
        return self.name.replace("_", " ")

    @property
    def events(self) -> tuple[str, ...]:
        """Every event of the table, each once, in the order the table lists them."""
        return tuple(dict.fromkeys(event for _, event in self.table))

    @property
    def start(self) -> S:
        """The one state a new row starts in (for machines with a single initial state)."""
        if len(self.initial) != 1:
            raise ValueError(f"a new {self.noun} starts in one of several states: name it")
        (only,) = self.initial
        return only

    def state(self, value: str, *, subject: str = "") -> S:
        """``value`` as a state of this machine; an unknown value is refused."""
        try:
            return self.states(value)
        except ValueError:
            known = ", ".join(s.value for s in self.states)
            raise self.error(
                f"{self._who(subject)} is in unknown state {value!r} (known: {known})",
                machine=self.name,
                current=str(value),
            ) from None

    def allowed_events(self, state: str) -> tuple[str, ...]:
        """The events ``state`` accepts, in table order; empty for a final state."""
        return self._events_of[self.state(state)]

    def is_final(self, state: str) -> bool:
        return not self.allowed_events(state)

    def targets(self, state: str) -> frozenset[S]:
        """The states one event can move ``state`` to."""
        now = self.state(state)
        return frozenset(self.table[now, e] for e in self._events_of[now])

    def can_move(self, current: str, target: str) -> bool:
        """Whether some event moves ``current`` to ``target`` in one step."""
        return self.state(target) in self.targets(current)

    def next(self, current: str, event: str, *, subject: str = "") -> S:
        """The state ``event`` moves ``current`` to, or :class:`IllegalTransition`."""
        now = self.state(current, subject=subject)
        after = self.table.get((now, event))
        if after is None:
            allowed = self._events_of[now]
            raise self.error(
                f"{self._who(subject)} is {now.value}; it cannot {event} ({self._left(now)})",
                hint=self._hint(now),
                machine=self.name,
                current=now.value,
                event=event,
                allowed=allowed,
            )
        return after

    def event_to(self, current: str, target: str, *, subject: str = "") -> str:
        """The event that moves ``current`` to ``target`` (the first the table lists), for a
        state derived from facts rather than asked for (a loan restated after a repayment)."""
        now = self.state(current, subject=subject)
        goal = self.state(target, subject=subject)
        for event in self._events_of[now]:
            if self.table[now, event] is goal:
                return event
        reachable = ", ".join(sorted(t.value for t in self.targets(now)))
        raise self.error(
            f"{self._who(subject)} is {now.value}; it cannot become {goal.value}",
            hint=f"from {now.value} a {self.noun} can become: {reachable or 'nothing (final)'}",
            machine=self.name,
            current=now.value,
            allowed=self._events_of[now],
        )

    def check_initial(self, state: str, *, subject: str = "") -> S:
        """``state`` if a new row may start in it, else :class:`IllegalTransition`."""
        now = self.state(state, subject=subject)
        if now not in self.initial:
            starts = ", ".join(sorted(s.value for s in self.initial))
            raise self.error(
                f"a new {self.noun} {subject}".rstrip()
                + f" cannot start {now.value}; it starts {starts}",
                hint=f"a new {self.noun} starts in: {starts}",
                machine=self.name,
                current=now.value,
                event="create",
                allowed=(),
            )
        return now

    def check_sql(self, column: str | None = None) -> str:
        """The text of the CHECK constraint that keeps ``column`` to this machine's states."""
        values = ",".join(f"'{s.value}'" for s in self.states)
        return f"{column or self.column} IN ({values})"

    # ------------------------------------------------------------------ messages

    def _who(self, subject: str) -> str:
        return f"{self.noun} {subject}" if subject else f"the {self.noun}"

    def _left(self, now: S) -> str:
        allowed = self._events_of[now]
        if not allowed:
            return f"{now.value} is final"
        return f"from {now.value} it can: {', '.join(allowed)}"

    def _hint(self, now: S) -> str:
        allowed = self._events_of[now]
        if not allowed:
            return f"a {now.value} {self.noun} takes no further event"
        return f"from {now.value} a {self.noun} can: {', '.join(allowed)}"


def _problems(m: StateMachine[S]) -> list[str]:
    states: set[S] = set(m.states)
    out = [] if _NAME.match(m.name) else [f"bad name {m.name!r}"]
    out += [f"state {s.value!r} is not snake_case" for s in states if not _NAME.match(s.value)]
    out += ["no initial state"] if not m.initial else []
    out += [f"initial {s!r} is not a state" for s in m.initial if s not in states]
    for (state, event), after in m.table.items():
        if state not in states or after not in states:
            out.append(f"({state!r}, {event!r}) -> {after!r} leaves the machine's states")
        if not _NAME.match(event):
            out.append(f"event {event!r} is not a snake_case verb")
    out += [f"state {s.value!r} has no meaning" for s in states if s not in m.meaning]
    return out


def machine(
    name: str,
    states: type[S],
    *,
    initial: Iterable[S],
    moves: Mapping[S, Mapping[str, S]],
    meaning: Mapping[S, str],
    about: str,
    column: str = "status",
    error: type[IllegalTransition] = IllegalTransition,
) -> StateMachine[S]:
    """A machine from a readable table: ``moves[state][event]`` is the next state; states
    missing from ``moves`` are final."""
    table = {(state, event): after for state, row in moves.items() for event, after in row.items()}
    return StateMachine(
        name=name,
        states=states,
        initial=frozenset(initial),
        table=MappingProxyType(table),
        meaning=MappingProxyType(dict(meaning)),
        about=" ".join(about.split()),
        column=column,
        error=error,
    )


# ------------------------------------------------------------------ credentials


class PieceStatus(StrEnum):
    OFFERED = "offered"  # sent to its holder, who has not accepted yet
    HELD = "held"
    SPLIT = "split"  # replaced by its children
    TRANSFERRED = "transferred"  # passed on to the next holder (a child piece)
    FINANCED = "financed"  # held by the bank that discounted it
    OVERDUE = "overdue"  # not (fully) paid by its payment date
    SETTLED = "settled"
    REJECTED = "rejected"  # the offered holder refused; a return piece goes back to the sender
    CANCELLED = "cancelled"  # the issuer withdrew it before first acceptance


_P = PieceStatus
CREDENTIAL_PIECE = machine(
    "credential_piece",
    PieceStatus,
    initial=(_P.OFFERED, _P.HELD, _P.FINANCED),
    moves={
        _P.OFFERED: {"accept": _P.HELD, "reject": _P.REJECTED, "cancel": _P.CANCELLED},
        _P.HELD: {
            "split": _P.SPLIT,
            "transfer": _P.TRANSFERRED,
            "finance": _P.TRANSFERRED,
            "fall_due": _P.OVERDUE,
            "settle": _P.SETTLED,
        },
        _P.FINANCED: {"fall_due": _P.OVERDUE, "settle": _P.SETTLED},
        _P.OVERDUE: {"settle": _P.SETTLED},
    },
    meaning={
        _P.OFFERED: "Sent to its holder, who has not accepted it yet: the root piece of a new "
        "credential, or a piece passed on to a supplier.",
        _P.HELD: "Accepted and held: the holder may split it, pass it on or have it financed.",
        _P.SPLIT: "Replaced by its children (same holder, same tier); it holds nothing.",
        _P.TRANSFERRED: "Passed on to the next holder, or to the bank that financed it, as a "
        "child piece; it holds nothing.",
        _P.FINANCED: "Held by the bank that discounted it (created so by a financing).",
        _P.OVERDUE: "Not (fully) paid by the credential's payment date plus grace.",
        _P.SETTLED: "Paid in full.",
        _P.REJECTED: "The offered holder refused it; for a passed-on piece a return piece goes "
        "back to the sender.",
        _P.CANCELLED: "Withdrawn before acceptance: by the issuer before the first holder "
        "accepted, or at payment while a transfer was still offered.",
    },
    about="""A credential lives as a tree of pieces; only leaves are live. New pieces start
    offered (an issue, a transfer), held (the children of a split, a return piece) or financed
    (the bank's piece of a financing).""",
)


class CredentialStatus(StrEnum):
    OFFERED = "offered"  # issued, waiting for the first holder to accept
    ACTIVE = "active"
    OVERDUE = "overdue"
    SETTLED = "settled"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


_C = CredentialStatus
CREDENTIAL = machine(
    "credential",
    CredentialStatus,
    initial=(_C.OFFERED,),
    moves={
        _C.OFFERED: {"accept": _C.ACTIVE, "reject": _C.REJECTED, "cancel": _C.CANCELLED},
        _C.ACTIVE: {"fall_due": _C.OVERDUE, "settle": _C.SETTLED},
        _C.OVERDUE: {"settle": _C.SETTLED},
    },
    meaning={
        _C.OFFERED: "Issued by the core enterprise, waiting for the first holder to accept.",
        _C.ACTIVE: "Accepted: its pieces circulate until the payment date.",
        _C.OVERDUE: "Not paid in full by its payment date plus the programme's grace days.",
        _C.SETTLED: "Paid in full by the issuer.",
        _C.REJECTED: "The first holder refused it; the programme and confirmations were released.",
        _C.CANCELLED: "The issuer withdrew it before the first acceptance.",
    },
    about="""The core enterprise's promise to pay its face on the payment date. Its state
    follows its root piece's acceptance and then the issuer's payment.""",
)


class ProgrammeStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


_G = ProgrammeStatus
CREDENTIAL_PROGRAMME = machine(
    "credential_programme",
    ProgrammeStatus,
    initial=(_G.ACTIVE,),
    moves={
        _G.ACTIVE: {"suspend": _G.SUSPENDED, "close": _G.CLOSED},
        _G.SUSPENDED: {"resume": _G.ACTIVE, "close": _G.CLOSED},
    },
    meaning={
        _G.ACTIVE: "Open: the core enterprise issues credentials within its limit.",
        _G.SUSPENDED: "Issuing is paused; credentials already issued run on.",
        _G.CLOSED: "Ended for good; credentials already issued run on.",
    },
    about="""A core enterprise's credential programme with its lead bank: the limit its
    credentials draw on, the funders that may discount them.""",
)


class InvitationStatus(StrEnum):
    INVITED = "invited"
    APPROVED = "approved"
    ACCEPTED = "accepted"
    DECLINED = "declined"


_I = InvitationStatus
PROGRAMME_INVITATION = machine(
    "programme_invitation",
    InvitationStatus,
    initial=(_I.INVITED,),
    moves={
        _I.INVITED: {"approve": _I.APPROVED, "decline": _I.DECLINED},
        _I.APPROVED: {"accept": _I.ACCEPTED, "decline": _I.DECLINED},
    },
    meaning={
        _I.INVITED: "The programme's lead bank invited another bank to fund it.",
        _I.APPROVED: "The core enterprise approved; waiting for the invited bank's line.",
        _I.ACCEPTED: "The invited bank accepted with its line and now funds the programme.",
        _I.DECLINED: "Withdrawn by the lead bank, refused by the core or declined by the "
        "invited bank; the lead bank may invite again.",
    },
    about="""Another bank joins a credential programme only by the owners' acts: the lead
    bank invites, the core enterprise approves, the invited bank accepts.""",
)


class SupplierInvitationStatus(StrEnum):
    INVITED = "invited"
    REGISTERED = "registered"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


_V = SupplierInvitationStatus
SUPPLIER_INVITATION = machine(
    "supplier_invitation",
    SupplierInvitationStatus,
    initial=(_V.INVITED,),
    moves={
        _V.INVITED: {"register": _V.REGISTERED, "expire": _V.EXPIRED, "cancel": _V.CANCELLED},
    },
    meaning={
        _V.INVITED: "A holder invited a supplier not yet on the platform; its registration "
        "link works until the invitation's expiry.",
        _V.REGISTERED: "The invited firm registered through the link: its administrator "
        "exists and answers the piece offered to it.",
        _V.EXPIRED: "Not used before its expiry; the link no longer works.",
        _V.CANCELLED: "Withdrawn by the inviting firm; the link no longer works.",
    },
    about="""A firm's invitation of one of its suppliers that is not yet on the platform,
    by a registration link (how a credential reaches tier 3 and beyond). The link is
    used once.""",
)


# ------------------------------------------------------------------ lending


class LineStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    EXPIRED = "expired"
    CLOSED = "closed"


_L = LineStatus
CREDIT_LINE = machine(
    "credit_line",
    LineStatus,
    initial=(_L.ACTIVE,),
    moves={
        _L.ACTIVE: {"freeze": _L.FROZEN, "close": _L.CLOSED, "expire": _L.EXPIRED},
        _L.FROZEN: {"unfreeze": _L.ACTIVE, "close": _L.CLOSED, "expire": _L.EXPIRED},
    },
    meaning={
        _L.ACTIVE: "Takes new reservations up to its limit until its expiry date.",
        _L.FROZEN: "Takes no new reservations; loans already drawn run on.",
        _L.EXPIRED: "Past its expiry date: takes no new reservations; loans drawn run on.",
        _L.CLOSED: "Closed by the bank: takes no new reservations; loans drawn run on.",
    },
    about="""A bank's credit line to a core enterprise or a chain member. Every loan draws
    through it in two phases (see line reservation).""",
)


class ReservationState(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


_R = ReservationState
LINE_RESERVATION = machine(
    "line_reservation",
    ReservationState,
    initial=(_R.PENDING,),
    moves={_R.PENDING: {"post": _R.POSTED, "void": _R.VOIDED, "expire": _R.EXPIRED}},
    meaning={
        _R.PENDING: "An approved application holds this amount on the line, its sub-limits "
        "and caps.",
        _R.POSTED: "The loan was disbursed: the hold became drawn (repaid principal is "
        "released from it).",
        _R.VOIDED: "The approval was withdrawn or declined before disbursement: the hold was "
        "given back.",
        _R.EXPIRED: "Never drawn within the hold's time: the approval lapsed and the hold was "
        "given back.",
    },
    about="""Phase one of a two-phase limit: reserve when approved, then post when disbursed,
    void when cancelled, or expire when never drawn.""",
    column="state",
)


class ProductStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


LOAN_PRODUCT = machine(
    "loan_product",
    ProductStatus,
    initial=(ProductStatus.ACTIVE,),
    moves={ProductStatus.ACTIVE: {"retire": ProductStatus.RETIRED}},
    meaning={
        ProductStatus.ACTIVE: "Offered: applications may name it.",
        ProductStatus.RETIRED: "No longer offered; loans made under it run on.",
    },
    about="A bank's loan product: its kind, rules, pricing and approval authorities.",
)


class ApplicationStatus(StrEnum):
    REFERRED = "referred"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    DISBURSED = "disbursed"
    CANCELLED = "cancelled"


_A = ApplicationStatus
LOAN_APPLICATION = machine(
    "loan_application",
    ApplicationStatus,
    initial=(_A.REFERRED,),
    moves={
        _A.REFERRED: {"approve": _A.APPROVED, "decline": _A.DECLINED, "withdraw": _A.WITHDRAWN},
        _A.APPROVED: {"disburse": _A.DISBURSED, "withdraw": _A.WITHDRAWN, "lapse": _A.CANCELLED},
    },
    meaning={
        _A.REFERRED: "Submitted and not decided yet: every application starts here; the rules "
        "decide at once or refer it to the bank's people (maker, then checker).",
        _A.APPROVED: "Approved by the rules or the checker: the limit is held and the loan "
        "waits for disbursement.",
        _A.DECLINED: "Declined by the rules, the maker or the checker.",
        _A.WITHDRAWN: "The applicant withdrew it before disbursement.",
        _A.DISBURSED: "Its loan was paid out.",
        _A.CANCELLED: "The approval lapsed undrawn: its hold expired and its loan was cancelled.",
    },
    about="""An enterprise's request for a loan under a bank's product, on an underlying
    (a credential piece, a receivable, goods) and a credit line.""",
)


class TaskState(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


_T = TaskState
DUE_DILIGENCE_TASK = machine(
    "due_diligence_task",
    TaskState,
    initial=(_T.OPEN,),
    moves={_T.OPEN: {"complete": _T.COMPLETED, "cancel": _T.CANCELLED}},
    meaning={
        _T.OPEN: "Offline work a rule asked for (a site visit, a financial analysis), not done "
        "yet; the checker cannot approve while one is open.",
        _T.COMPLETED: "Done, with its result recorded.",
        _T.CANCELLED: "No longer needed: its application was declined, withdrawn or lapsed.",
    },
    about="Offline work a decision rule asked for before an application can be approved.",
    column="state",
)


class LoanStatus(StrEnum):
    APPROVED = "approved"  # approved, not yet disbursed
    CANCELLED = "cancelled"  # approval withdrawn or lapsed before disbursement
    DISBURSED = "disbursed"  # funds paid out; nothing has fallen due yet
    CURRENT = "current"  # something has fallen due and everything due is paid
    OVERDUE = "overdue"  # something due is unpaid
    SETTLED = "settled"  # repaid in full
    WRITTEN_OFF = (
        "written_off"  # 核销: off the books; recoveries are booked as they come (账销案存)
    )


_N = LoanStatus
LOAN = machine(
    "loan",
    LoanStatus,
    initial=(_N.APPROVED,),
    moves={
        _N.APPROVED: {"disburse": _N.DISBURSED, "cancel": _N.CANCELLED},
        _N.DISBURSED: {"fall_due": _N.CURRENT, "fall_behind": _N.OVERDUE, "settle": _N.SETTLED},
        _N.CURRENT: {"fall_behind": _N.OVERDUE, "settle": _N.SETTLED},
        _N.OVERDUE: {"catch_up": _N.CURRENT, "settle": _N.SETTLED, "write_off": _N.WRITTEN_OFF},
    },
    meaning={
        _N.APPROVED: "Approved, not yet disbursed.",
        _N.CANCELLED: "The approval was withdrawn or lapsed before disbursement.",
        _N.DISBURSED: "Funds paid out; nothing has fallen due yet.",
        _N.CURRENT: "Something has fallen due and everything due is paid.",
        _N.OVERDUE: "Something due is unpaid (days past due above zero).",
        _N.SETTLED: "Repaid in full.",
        _N.WRITTEN_OFF: "Written off (核销): off the books; recoveries are booked as they come "
        "(账销案存).",
    },
    about="""A loan from approval to repayment. After disbursement its state is restated from
    its position whenever money moves or days pass: fall_due, fall_behind, catch_up and settle
    name what the position showed.""",
    error=IllegalLoanTransition,
)


# ------------------------------------------------------------------ risk and monitoring


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


_E = AlertState
ALERT = machine(
    "alert",
    AlertState,
    initial=(_E.OPEN,),
    moves={
        _E.OPEN: {"acknowledge": _E.ACKNOWLEDGED, "resolve": _E.RESOLVED},
        _E.ACKNOWLEDGED: {"resolve": _E.RESOLVED},
    },
    meaning={
        _E.OPEN: "Raised and not acknowledged; escalates when left too long.",
        _E.ACKNOWLEDGED: "Someone is on it.",
        _E.RESOLVED: "Closed with a note of what was found and done; the same condition "
        "raises a new alert.",
    },
    about="""Something a person must look at, raised once per subject and kind while it is
    open or acknowledged.""",
    column="state",
)


class DeviceState(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


IOT_DEVICE = machine(
    "iot_device",
    DeviceState,
    initial=(DeviceState.ACTIVE,),
    moves={DeviceState.ACTIVE: {"retire": DeviceState.RETIRED}},
    meaning={
        DeviceState.ACTIVE: "Registered: its messages are read and applied.",
        DeviceState.RETIRED: "Its messages are dead letters from now on; its readings are kept.",
    },
    about="A scale, RFID reader, GPS or temperature sensor watching pledged goods or a shipment.",
    column="state",
)


class ModelStatus(StrEnum):
    CHALLENGER = "challenger"
    CHAMPION = "champion"
    RETIRED = "retired"


_M = ModelStatus
RISK_MODEL = machine(
    "risk_model",
    ModelStatus,
    initial=(_M.CHALLENGER,),
    moves={
        _M.CHALLENGER: {"promote": _M.CHAMPION},
        _M.CHAMPION: {"retire": _M.RETIRED},
        _M.RETIRED: {"promote": _M.CHAMPION},
    },
    meaning={
        _M.CHALLENGER: "Registered; scored beside the champion on request.",
        _M.CHAMPION: "The version that scores for its name (one per bank and name).",
        _M.RETIRED: "Replaced by another champion; it may be promoted again (a rollback).",
    },
    about="""A version of a bank's scorecard. Promoting a version retires the name's
    champion in the same transaction.""",
)


class LineChangeState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


_LC = LineChangeState
LINE_CHANGE = machine(
    "line_change",
    LineChangeState,
    initial=(_LC.PENDING,),
    moves={_LC.PENDING: {"approve": _LC.APPROVED, "reject": _LC.REJECTED}},
    meaning={
        _LC.PENDING: "A change to a credit line (open, limit, sub-limit, cap, freeze) one "
        "person proposed; it waits for another person's decision.",
        _LC.APPROVED: "A second person approved it and the change was applied to the line "
        "in the same transaction.",
        _LC.REJECTED: "A second person turned it down, with a reason; the line is unchanged.",
    },
    about="""Maker-checker on credit lines: the proposer never decides their own change.""",
)


MACHINES: Mapping[str, StateMachine[Any]] = MappingProxyType(
    {
        m.name: m
        for m in (
            CREDENTIAL_PIECE,
            CREDENTIAL,
            CREDENTIAL_PROGRAMME,
            PROGRAMME_INVITATION,
            SUPPLIER_INVITATION,
            CREDIT_LINE,
            LINE_RESERVATION,
            LOAN_PRODUCT,
            LOAN_APPLICATION,
            DUE_DILIGENCE_TASK,
            LOAN,
            ALERT,
            IOT_DEVICE,
            RISK_MODEL,
            LINE_CHANGE,
        )
    }
)
"""Every state machine by name."""


# ------------------------------------------------------------------ reference


def reference() -> str:
    """docs/states.md: one section per machine with its meanings and its table."""
    out = [
        "# States",
        "",
        "Generated by `python -m chainfin.domain.states > docs/states.md` from "
        "`chainfin.domain.states.MACHINES`; a test fails when this file and the machines "
        "differ.",
        "",
        "Every stateful resource moves only by the events of its table. Any other event is "
        "refused with the problem code `illegal_transition` (HTTP 409), which names the "
        "current state and the events it allows. A new row starts in one of its machine's "
        "initial states, the database refuses any value outside the listed states (a CHECK "
        "constraint generated from the same enum), and a flush-time guard refuses any change "
        "of state that is not a move of the table. A state with no event is final.",
        "",
    ]
    for m in MACHINES.values():
        out += _section(m)
    return "\n".join(out)


def _section(m: StateMachine[Any]) -> list[str]:
    firsts = [f"`{s.value}`" for s in m.states if s in m.initial]
    starts = " or ".join([", ".join(firsts[:-1]), firsts[-1]] if len(firsts) > 1 else firsts)
    lines = [
        f"## {m.noun.capitalize()}",
        "",
        m.about,
        "",
        f"Column `{m.column}`. A new {m.noun} starts {starts}.",
        "",
        "| state | meaning |",
        "| --- | --- |",
    ]
    for s in m.states:
        final = " (final)" if m.is_final(s) else ""
        lines.append(f"| `{s.value}`{final} | {m.meaning[s]} |")
    lines += ["", "| state | event | next state |", "| --- | --- | --- |"]
    lines += [f"| `{s.value}` | `{e}` | `{after.value}` |" for (s, e), after in m.table.items()]
    lines.append("")
    return lines


if __name__ == "__main__":
    sys.stdout.write(reference())
