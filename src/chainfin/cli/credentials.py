"""``chainfin credential …``, ``chainfin books …``, ``chainfin rates lpr …`` and
``chainfin calendar …``: the operator's and integrators' view of credentials, books,
reference rates and the working-day calendar.

Credential commands act for an enterprise (``--as USCC``) or a bank (``--bank CODE``), the
way that party's user would through the API; every command takes ``--json``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from fastapi.encoders import jsonable_encoder
from rich.table import Table
from sqlalchemy.orm import Session

from chainfin.api.routers.credentials import (
    confirmation_out,
    credential_out,
    financing_out,
    payment_out,
    piece_out,
    programme_out,
    quote_out,
    trial_balance_out,
)
from chainfin.cli.common import fail, operator_session, out, print_json
from chainfin.domain.access import SYSTEM, Principal, PrincipalKind, Scope
from chainfin.domain.errors import ChainfinError, FieldError, ValidationFailed
from chainfin.domain.money import Money
from chainfin.domain.pricing import LprFixing
from chainfin.services import books, credentials, rates, registry, workcal

app = typer.Typer(help="Digital payable credentials", no_args_is_help=True)
books_app = typer.Typer(help="Double-entry books: trial balance, statements", no_args_is_help=True)
rates_app = typer.Typer(help="Reference rates", no_args_is_help=True)
lpr_app = typer.Typer(help="Loan Prime Rate fixings", no_args_is_help=True)
calendar_app = typer.Typer(help="The Chinese working-day calendar", no_args_is_help=True)
rates_app.add_typer(lpr_app, name="lpr")

AsOpt = Annotated[str | None, typer.Option("--as", help="act as this enterprise (USCC)")]
BankOpt = Annotated[str | None, typer.Option("--bank", help="act as this bank's staff (code)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
CurOpt = Annotated[str, typer.Option("--currency")]

ENTERPRISE_SCOPES = frozenset(
    {Scope.CREDENTIALS_READ, Scope.CREDENTIALS_WRITE, Scope.DOCUMENTS_READ, Scope.REGISTRY_READ}
)
BANK_SCOPES = frozenset(
    {Scope.CREDENTIALS_READ, Scope.FINANCING_WRITE, Scope.BOOKS_READ, Scope.REGISTRY_READ}
)


def _actor(session: Session, as_uscc: str | None, bank: str | None) -> Principal:
    if as_uscc and bank:
        raise ValidationFailed([FieldError("--as/--bank", "give one of them")])
    if as_uscc:
        enterprise = registry.enterprise_by_uscc(session, as_uscc)
        return Principal(
            PrincipalKind.ENTERPRISE_USER,
            "cli",
            enterprise_id=enterprise.id,
            scopes=ENTERPRISE_SCOPES,
        )
    if bank:
        from sqlalchemy import select

        from chainfin.adapters.db.models import Bank

        row = session.scalar(select(Bank).where(Bank.code == bank))
        if row is None:
            raise ValidationFailed([FieldError("--bank", f"no bank {bank!r}")])
        return Principal(PrincipalKind.STAFF, "cli", bank_id=row.id, scopes=BANK_SCOPES)
    return SYSTEM


def _run(
    as_json: bool,
    as_uscc: str | None,
    bank: str | None,
    work: Callable[[Session, Principal], Any],
    show: Callable[[Any], None] | None = None,
) -> None:
    try:
        with operator_session() as session:
            result = jsonable_encoder(work(session, _actor(session, as_uscc, bank)))
    except ChainfinError as exc:
        fail(exc, as_json)
    if as_json or show is None:
        print_json(result)
    else:
        show(result)


def _amount(a: dict[str, str]) -> str:
    return f"{a['amount']} {a['currency']}"


def _show_piece(p: dict[str, Any]) -> None:
    out.print(
        f"{p['id']}  tier {p['tier']}  {_amount(p['amount'])}  {p['status']}  "
        f"holder {p['holder_id']}"
    )


def _show_tree(c: dict[str, Any]) -> None:
    out.print(
        f"credential {c['id']}  face {_amount(c['face'])}  settled {_amount(c['settled'])}  "
        f"{c['status']}\nmatures {c['maturity_on']}, paid {c['payment_on']}"
        + (" (provisional calendar)" if c["payment_provisional"] else "")
    )
    for p in c.get("pieces", []):
        out.print("  " * (len(p["lineage"]) + 1), end="")
        _show_piece(p)


@app.command("programme")
def programme_cmd(
    core: Annotated[str, typer.Argument(help="core enterprise USCC")],
    line: Annotated[str, typer.Argument(help="the bank's line, e.g. 10000000.00")],
    bank: Annotated[str, typer.Option("--bank", help="funder bank code")],
    rating: Annotated[str, typer.Option(help="core enterprise rating")] = "AA",
    name: Annotated[str, typer.Option()] = "supplier credential programme",
    tenor_cap_months: Annotated[int, typer.Option()] = 6,
    roll: Annotated[str, typer.Option(help="following, modified_following, …")] = "following",
    min_piece: Annotated[str, typer.Option()] = "100.00",
    currency: CurOpt = "CNY",
    as_json: JsonOpt = False,
) -> None:
    """Open a credential programme for a core enterprise, backed by the bank's line."""
    _run(
        as_json,
        None,
        bank,
        lambda s, a: programme_out(
            credentials.create_programme(
                s,
                a,
                core=core,
                name=name,
                line=Money.parse(line, currency),
                rating=rating,
                tenor_cap_months=tenor_cap_months,
                roll_convention=roll,
                min_piece=Money.parse(min_piece, currency),
            )
        ),
    )


def _show_invitation(i: dict[str, Any]) -> None:
    line = f"  line {_amount(i['line'])}" if i.get("line") else ""
    out.print(
        f"{i['id']}  {i['status']}  {i['bank_code']} invited by {i['lead_bank_code']} to "
        f"{i['programme_id']} ({i['programme_name']}){line}"
    )


def _show_invitations(rows: list[dict[str, Any]]) -> None:
    for i in rows:
        _show_invitation(i)


@app.command("invite")
def invite_cmd(
    programme: Annotated[str, typer.Argument(help="programme id")],
    invited: Annotated[str, typer.Argument(help="code of the bank invited to fund it")],
    bank: Annotated[str, typer.Option("--bank", help="the programme's lead bank (code)")],
    as_json: JsonOpt = False,
) -> None:
    """The lead bank invites another bank to fund its programme; the core enterprise
    approves, then the invited bank accepts with its line."""
    _run(
        as_json,
        None,
        bank,
        lambda s, a: credentials.invitation_out(
            s, credentials.invite(s, a, programme, bank=invited)
        ),
        _show_invitation,
    )


@app.command("invitations")
def invitations_cmd(as_uscc: AsOpt = None, bank: BankOpt = None, as_json: JsonOpt = False) -> None:
    """Invitations you are a party to: as the lead or invited bank, or as the core."""
    _run(
        as_json,
        as_uscc,
        bank,
        lambda s, a: [credentials.invitation_out(s, i) for i in credentials.invitations(s, a)],
        _show_invitations,
    )


@app.command("approve-invitation")
def approve_invitation_cmd(
    invitation: Annotated[str, typer.Argument(help="invitation id")],
    as_uscc: Annotated[str, typer.Option("--as", help="the programme's core enterprise (USCC)")],
    as_json: JsonOpt = False,
) -> None:
    """The core enterprise approves the lead bank's invitation."""
    _run(
        as_json,
        as_uscc,
        None,
        lambda s, a: credentials.invitation_out(
            s, credentials.approve_invitation(s, a, invitation)
        ),
        _show_invitation,
    )


@app.command("accept-invitation")
def accept_invitation_cmd(
    invitation: Annotated[str, typer.Argument(help="invitation id")],
    line: Annotated[str, typer.Argument(help="your bank's line, e.g. 5000000.00")],
    bank: Annotated[str, typer.Option("--bank", help="the invited bank (code)")],
    currency: CurOpt = "CNY",
    as_json: JsonOpt = False,
) -> None:
    """The invited bank accepts an approved invitation with its line and joins."""
    _run(
        as_json,
        None,
        bank,
        lambda s, a: credentials.invitation_out(
            s,
            credentials.accept_invitation(s, a, invitation, line=Money.parse(line, currency)),
        ),
        _show_invitation,
    )


@app.command("decline-invitation")
def decline_invitation_cmd(
    invitation: Annotated[str, typer.Argument(help="invitation id")],
    as_uscc: AsOpt = None,
    bank: BankOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Close an open invitation: the invited bank declines, the core refuses, the lead bank
    withdraws."""
    _run(
        as_json,
        as_uscc,
        bank,
        lambda s, a: credentials.invitation_out(
            s, credentials.decline_invitation(s, a, invitation)
        ),
        _show_invitation,
    )


@app.command("confirm")
def confirm_cmd(
    supplier: Annotated[str, typer.Argument(help="supplier USCC")],
    amount: Annotated[str, typer.Argument()],
    due_on: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    as_uscc: AsOpt = None,
    document: Annotated[list[str] | None, typer.Option("--document", help="document id")] = None,
    trade_case: Annotated[str | None, typer.Option("--trade-case", help="case key")] = None,
    currency: CurOpt = "CNY",
    as_json: JsonOpt = False,
) -> None:
    """Confirm a payable to a supplier (确权), on confirmed documents or a matched case."""
    _run(
        as_json,
        as_uscc,
        None,
        lambda s, a: confirmation_out(
            credentials.confirm(
                s,
                a,
                supplier=supplier,
                amount=Money.parse(amount, currency),
                due_on=_date(due_on, "due_on"),
                document_ids=document or [],
                trade_case_key=trade_case,
            )
        ),
    )


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed([FieldError(field, f"{text!r} is not a date YYYY-MM-DD")]) from None


@app.command("issue")
def issue_cmd(
    programme: Annotated[str, typer.Argument(help="programme id")],
    amount: Annotated[str, typer.Argument()],
    maturity_on: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    confirmation: Annotated[list[str], typer.Option("--confirmation", help="confirmation id")],
    as_uscc: AsOpt = None,
    issued_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")] = None,
    currency: CurOpt = "CNY",
    as_json: JsonOpt = False,
) -> None:
    """Issue a credential against confirmed payables."""

    def work(s: Session, a: Principal) -> dict[str, Any]:
        row = credentials.issue(
            s,
            a,
            programme_id=programme,
            confirmation_ids=confirmation,
            amount=Money.parse(amount, currency),
            maturity_on=_date(maturity_on, "maturity_on"),
            issued_on=_date(issued_on, "issued_on") if issued_on else None,
        )
        body = credential_out(row)
        body["pieces"] = [piece_out(p) for p in credentials.tree(s, a, row.id)]
        return body

    _run(as_json, as_uscc, None, work, _show_tree)


@app.command("accept")
def accept_cmd(piece: str, as_uscc: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Accept an offered piece."""
    _run(
        as_json,
        as_uscc,
        None,
        lambda s, a: piece_out(credentials.accept(s, a, piece)),
        _show_piece,
    )


@app.command("reject")
def reject_cmd(
    piece: str,
    as_uscc: AsOpt = None,
    reason: Annotated[str, typer.Option()] = "",
    as_json: JsonOpt = False,
) -> None:
    """Reject an offered piece (it returns to the sender)."""
    _run(
        as_json,
        as_uscc,
        None,
        lambda s, a: piece_out(credentials.reject(s, a, piece, reason=reason)),
        _show_piece,
    )


@app.command("cancel")
def cancel_cmd(credential: str, as_uscc: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Withdraw a credential before its first holder accepts."""
    _run(as_json, as_uscc, None, lambda s, a: credential_out(credentials.cancel(s, a, credential)))


@app.command("split")
def split_cmd(
    piece: str,
    amounts: Annotated[list[str], typer.Argument(help="the new pieces' amounts")],
    as_uscc: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Split a held piece into pieces of the given amounts."""

    def work(s: Session, a: Principal) -> list[dict[str, Any]]:
        currency = credentials.held_currency(s, a, piece)
        parts = [Money.parse(x, currency) for x in amounts]
        return [piece_out(p) for p in credentials.split(s, a, piece, parts)]

    def show(rows: list[dict[str, Any]]) -> None:
        for p in rows:
            _show_piece(p)

    _run(as_json, as_uscc, None, work, show)


@app.command("transfer")
def transfer_cmd(
    piece: str,
    to: Annotated[str, typer.Argument(help="the supplier's USCC")],
    as_uscc: AsOpt = None,
    amount: Annotated[str | None, typer.Option(help="part of the piece (default all)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Offer a held piece, or part of it, to one of the holder's suppliers."""

    def work(s: Session, a: Principal) -> dict[str, Any]:
        currency = credentials.held_currency(s, a, piece)
        moved = credentials.transfer(
            s, a, piece, to=to, amount=Money.parse(amount, currency) if amount else None
        )
        return {
            "offered": piece_out(moved.offered),
            "kept": piece_out(moved.kept) if moved.kept else None,
        }

    _run(as_json, as_uscc, None, work, lambda r: _show_piece(r["offered"]))


def _show_quote(q: dict[str, Any]) -> None:
    fx = q["fixing"]
    out.print(
        f"quote {q['id']}  {_amount(q['face'])}  {q['days']} days ({q['day_count']})\n"
        f"  base {q['base']} {q['base_rate']}% (fixing of {fx['fixed_on']}) "
        f"+ {q['spread_bp']} bp = discount rate {q['discount_rate']}%\n"
        f"  discount interest {_amount(q['discount_interest'])}"
    )
    for fee in q["fees"]:
        out.print(f"  fee {fee['name']}: {_amount(fee['amount'])}  ({fee['basis']})")
    out.print(
        f"  net proceeds {_amount(q['net_proceeds'])}  all-in cost {q['all_in_rate']}% a year"
    )
    for w in q["warnings"]:
        out.print(f"  [yellow]warning[/yellow] {w}")


@app.command("quote")
def quote_cmd(
    piece: str,
    bank: Annotated[str, typer.Argument(help="funder bank code")],
    as_uscc: AsOpt = None,
    as_of: Annotated[str | None, typer.Option(help="value date YYYY-MM-DD")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask a funder bank for a discount quote on a held piece."""
    _run(
        as_json,
        as_uscc,
        None,
        lambda s, a: quote_out(
            credentials.quote(
                s, a, piece, bank=bank, as_of=_date(as_of, "as_of") if as_of else None
            )
        ),
        _show_quote,
    )


@app.command("finance")
def finance_cmd(quote: str, as_uscc: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Accept a quote: the bank funds and takes the piece (idempotent)."""
    _run(as_json, as_uscc, None, lambda s, a: financing_out(credentials.finance(s, a, quote)))


@app.command("settle")
def settle_cmd(
    credential: str,
    amount: Annotated[str, typer.Argument()],
    payment_ref: Annotated[str, typer.Option("--ref", help="payment reference (idempotency)")],
    as_uscc: AsOpt = None,
    paid_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Pay a credential; each current holder is paid its piece."""

    def work(s: Session, a: Principal) -> dict[str, Any]:
        currency = credentials.get(s, a, credential).currency
        payment = credentials.settle(
            s,
            a,
            credential,
            amount=Money.parse(amount, currency),
            payment_ref=payment_ref,
            paid_on=_date(paid_on, "paid_on") if paid_on else None,
        )
        return payment_out(payment)

    _run(as_json, as_uscc, None, work)


@app.command("overdue-scan")
def overdue_cmd(
    as_of: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    as_json: JsonOpt = False,
) -> None:
    """Move credentials unpaid past payment date + grace days to overdue; raise alerts."""
    _run(
        as_json,
        None,
        None,
        lambda s, a: [
            credential_out(c) for c in credentials.mark_overdue(s, a, _date(as_of, "as_of"))
        ],
    )


@app.command("show")
def show_cmd(
    credential: str, as_uscc: AsOpt = None, bank: BankOpt = None, as_json: JsonOpt = False
) -> None:
    """One credential."""
    _run(
        as_json,
        as_uscc,
        bank,
        lambda s, a: credential_out(credentials.get(s, a, credential)),
        _show_tree,
    )


@app.command("tree")
def tree_cmd(
    credential: str, as_uscc: AsOpt = None, bank: BankOpt = None, as_json: JsonOpt = False
) -> None:
    """A credential's pieces that you may see, by lineage."""

    def work(s: Session, a: Principal) -> dict[str, Any]:
        body = credential_out(credentials.get(s, a, credential))
        body["pieces"] = [piece_out(p) for p in credentials.tree(s, a, credential)]
        return body

    _run(as_json, as_uscc, bank, work, _show_tree)


# ---------------------------------------------------------------------------- books


def tb_body(session: Session, actor: Principal, book: str) -> dict[str, Any]:
    return trial_balance_out(book, books.trial_balance(session, actor, book))


def print_trial_balance(body: dict[str, Any]) -> None:
    table = Table(title=f"trial balance — {body['book']}")
    for col in ("account", "name", "cur", "debit", "credit"):
        table.add_column(col, justify="right" if col in ("debit", "credit") else "left")
    for r in body["rows"]:
        table.add_row(r["account"], r["name"], r["currency"], r["debit"], r["credit"])
    for c, t in body["totals"].items():
        table.add_row("", "[b]total[/b]", c, f"[b]{t['debit']}[/b]", f"[b]{t['credit']}[/b]")
    if body["rows"]:
        out.print(table)
    else:
        out.print(f"trial balance — {body['book']}: every account is at zero")
    out.print("balanced" if body["balanced"] else "[red]NOT BALANCED[/red]")


@books_app.command("trial-balance")
def trial_balance_cmd(
    book: Annotated[str, typer.Argument(help="bank code, or 'platform'")],
    as_json: JsonOpt = False,
) -> None:
    """Trial balance of a bank's book or of the platform's credential sub-ledger."""
    _run(as_json, None, None, lambda s, a: tb_body(s, a, book), print_trial_balance)


@books_app.command("statement")
def statement_cmd(
    book: str,
    account: str,
    since: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    currency: CurOpt = "CNY",
    as_json: JsonOpt = False,
) -> None:
    """An account's movements in one currency with the running balance."""

    def work(s: Session, a: Principal) -> dict[str, Any]:
        spec, opening, lines = books.statement(
            s,
            a,
            book,
            account,
            since=_date(since, "since") if since else None,
            until=_date(until, "until") if until else None,
            currency=currency,
        )
        return {
            "account": spec.code,
            "name": spec.name,
            "opening_minor": opening,
            "lines": [ln.__dict__ for ln in lines],
        }

    def show(body: dict[str, Any]) -> None:
        out.print(f"{body['account']} {body['name']}  opening {body['opening_minor']}")
        for ln in body["lines"]:
            out.print(
                f"{ln['value_on']}  {ln['kind']:<20} {ln['amount_minor']:>16} "
                f"{ln['balance_minor']:>16}  {ln['memo']}"
            )

    _run(as_json, None, None, work, show)


@books_app.command("reverse")
def reverse_cmd(
    journal: str,
    reason: Annotated[str, typer.Option(help="why (kept on the reversal)")],
    as_json: JsonOpt = False,
) -> None:
    """Undo a journal by posting its mirror image."""
    _run(
        as_json,
        None,
        None,
        lambda s, a: {
            "id": (posted := books.reverse(s, a, journal, reason=reason)).journal.id,
            "reverses_id": posted.journal.reverses_id,
            "lines": [[p.account, p.amount.amount_minor] for p in posted.postings],
        },
    )


@books_app.command("accrue")
def accrue_cmd(
    as_of: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    as_json: JsonOpt = False,
) -> None:
    """Recognise unearned discount as interest income through a date (daily job)."""
    _run(
        as_json,
        None,
        None,
        lambda s, a: {"journals": credentials.accrue(s, a, _date(as_of, "as_of"))},
    )


# ---------------------------------------------------------------------------- rates


@lpr_app.command("set")
def lpr_set_cmd(
    fixed_on: Annotated[str, typer.Argument(metavar="DATE")],
    rate_1y: Annotated[str, typer.Argument(metavar="RATE_1Y", help="percent, e.g. 3.00")],
    rate_5y: Annotated[str, typer.Argument(metavar="RATE_5Y", help="percent, e.g. 3.50")],
    as_json: JsonOpt = False,
) -> None:
    """Record a month's LPR fixing."""
    from chainfin.domain.pricing import parse_lpr_csv

    def work(s: Session, a: Principal) -> dict[str, Any]:
        (fixing,) = parse_lpr_csv(f"date,lpr_1y,lpr_5y\n{fixed_on},{rate_1y},{rate_5y}\n")
        _, new = rates.set_fixing(s, a, fixing, source="chainfin rates lpr set")
        return {"fixing": fixing.to_dict(), "new": new}

    _run(as_json, None, None, work)


@lpr_app.command("load")
def lpr_load_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    as_json: JsonOpt = False,
) -> None:
    """Load fixings from a CSV ``date,lpr_1y,lpr_5y`` (the NIFC export shape)."""
    text = file.read_text("utf-8")
    _run(
        as_json,
        None,
        None,
        lambda s, a: {"added": rates.load_csv(s, a, text, source=file.name)},
    )


@lpr_app.command("show")
def lpr_show_cmd(
    on: Annotated[str | None, typer.Option(help="the fixing in force on this date")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The fixing in force (latest, or on a date)."""

    def work(s: Session, a: Principal) -> dict[str, Any] | None:
        fixing: LprFixing | None
        if on:
            fixing = rates.in_force(s, _date(on, "on"))
        else:
            table = rates.fixings(s)
            fixing = table[-1] if table else None
        return fixing.to_dict() if fixing else None

    _run(as_json, None, None, work)


# ---------------------------------------------------------------------------- calendar


@calendar_app.command("load")
def calendar_load_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    as_json: JsonOpt = False,
) -> None:
    """Load an official schedule (JSON or CSV ``date,kind``) and recompute every
    provisional payment date; maturity dates never change."""
    text = file.read_text("utf-8")

    def work(s: Session, a: Principal) -> dict[str, Any]:
        years = workcal.load(s, a, text, file.name)
        changed = credentials.recompute_payment_dates(s, a)
        return {
            "years": [y.year for y in years],
            "payment_dates_changed": [
                {"credential_id": c.id, "payment_on": c.payment_on.isoformat()} for c in changed
            ],
        }

    _run(as_json, None, None, work)


@calendar_app.command("refresh")
def calendar_refresh_cmd(as_json: JsonOpt = False) -> None:
    """Recompute provisional payment dates against the calendar as it is now (after
    upgrading the chinesecalendar package to one that knows a new year)."""
    _run(
        as_json,
        None,
        None,
        lambda s, a: [
            {"credential_id": c.id, "payment_on": c.payment_on.isoformat()}
            for c in credentials.recompute_payment_dates(s, a)
        ],
    )


@calendar_app.command("roll")
def calendar_roll_cmd(
    day: Annotated[str, typer.Argument(metavar="DATE")],
    convention: Annotated[str, typer.Option()] = "following",
    as_json: JsonOpt = False,
) -> None:
    """Roll a date to a working day; says whether the result is provisional."""

    def work(s: Session, a: Principal) -> dict[str, Any]:
        try:
            rolled = workcal.calendar(s).roll(_date(day, "date"), convention)
        except ValueError as exc:
            raise ValidationFailed([FieldError("convention", str(exc))]) from None
        return {
            "date": rolled.date.isoformat(),
            "provisional": rolled.provisional,
            "moved": rolled.moved,
            "convention": rolled.convention,
        }

    _run(as_json, None, None, work)
