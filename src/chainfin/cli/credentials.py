"""``chainfin credential …``, ``chainfin books …``, ``chainfin rates lpr …`` and
``chainfin calendar …``: the operator's and integrators' view of credentials, books,
reference rates and the working-day calendar.

Credential commands act for an enterprise (``--as USCC``) or a bank (``--bank CODE``), the
way that party's user would through the API; every command takes ``--json``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from chainfin.cli.common import (
    Col,
    fail,
    fields,
    group,
    jsonable,
    money,
    name_of,
    named,
    operator_session,
    out,
    print_json,
    print_page,
    progress,
    remember_names,
    show_any,
    table,
)
from chainfin.domain.access import SYSTEM, Principal, PrincipalKind, Scope
from chainfin.domain.errors import ChainfinError, FieldError, ValidationFailed
from chainfin.domain.money import Money

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from chainfin.domain.pricing import LprFixing
    from chainfin.resources.books import AccountStatementOut, TrialBalanceOut
    from chainfin.resources.credentials import (
        CredentialPaymentOut,
        CredentialTreeOut,
        LprFixingOut,
        TransferOut,
    )

# Every import above is light: the database, the services and the resources are imported
# inside the commands that need them (tests/test_cli_start.py).

app = group("Digital payable credentials")
books_app = group("Double-entry books: trial balance, statements")
rates_app = group("Reference rates")
lpr_app = group("Loan Prime Rate fixings")
calendar_app = group("The Chinese working-day calendar")
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
    from chainfin.services import registry

    if as_uscc and bank:
        raise ValidationFailed(
            [FieldError("--as/--bank", "give one of them")], code="option_choice_required"
        )
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
            raise ValidationFailed([FieldError("--bank", f"no bank {bank!r}")], code="bank_unknown")
        return Principal(PrincipalKind.STAFF, "cli", bank_id=row.id, scopes=BANK_SCOPES)
    return SYSTEM


def _run(
    as_json: bool,
    as_uscc: str | None,
    bank: str | None,
    work: Callable[[Session, Principal], Any],
    show: Callable[[Any], None] | None = None,
    *,
    slow: str | None = None,
) -> None:
    """One transaction as the party named (see ``chainfin.cli.lending._run``): the resource
    with ``--json`` (a list as ``{"items", "next_cursor"}``), else ``show`` or every field
    with names for the ids; ``slow`` puts up a progress bar."""
    try:
        with (
            progress(slow or "", enabled=slow is not None and not as_json),
            operator_session() as session,
        ):
            result = jsonable(work(session, _actor(session, as_uscc, bank)))
            if not as_json:
                remember_names(session, result)
    except ChainfinError as exc:
        fail(exc, as_json)
    if as_json:
        if isinstance(result, list):
            print_page(result)
        else:
            print_json(result)
    else:
        (show or show_any)(result)


def _amount(r: dict[str, Any], name: str) -> str:
    return money(r[name], r["currency"])


def _show_piece(p: dict[str, Any]) -> None:
    fields(
        [
            ("piece", p["id"]),
            ("holder", name_of(p["holder_id"])),
            ("amount", _amount(p, "amount")),
            ("tier", p["tier"]),
            ("status", p["status"]),
        ]
    )


def _show_tree(c: dict[str, Any]) -> None:
    provisional = " (provisional calendar)" if c["payment_provisional"] else ""
    fields(
        [
            ("credential", c["id"]),
            ("status", c["status"]),
            ("face", _amount(c, "face")),
            ("settled", _amount(c, "settled")),
            ("matures", c["maturity_on"]),
            ("paid on", f"{c['payment_on']}{provisional}"),
        ]
    )
    pieces = c.get("pieces", [])
    if pieces:
        table(
            "pieces",
            [
                Col("holder"),
                Col("amount", "amount"),
                Col("tier", "number", drop=1),
                Col("status"),
                Col("id", "id"),
            ],
            [
                [
                    "· " * len(p["lineage"]) + name_of(p["holder_id"]),
                    {"amount": p["amount"], "currency": c["currency"]},
                    p["tier"],
                    p["status"],
                    p["id"],
                ]
                for p in pieces
            ],
            empty="no pieces you may see",
        )


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
    from chainfin.resources.credentials import ProgrammeOut
    from chainfin.services import credentials

    _run(
        as_json,
        None,
        bank,
        lambda s, a: ProgrammeOut.build(
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
    fields(
        [
            ("invitation", i["id"]),
            ("status", i["status"]),
            ("bank", i["bank_code"]),
            ("invited by", i["lead_bank_code"]),
            ("programme", f"{i['programme_name']} ({i['programme_id']})"),
            ("line", _amount(i, "line") if i.get("line") else None),
        ]
    )


def _show_invitations(rows: list[dict[str, Any]]) -> None:
    table(
        "invitations",
        [
            Col("bank", "code"),
            Col("lead", "code", drop=2),
            Col("programme"),
            Col("status"),
            Col("line", "amount", drop=1),
            Col("id", "id"),
        ],
        [
            [
                i["bank_code"],
                i["lead_bank_code"],
                i["programme_name"],
                i["status"],
                {"amount": i["line"], "currency": i["currency"]} if i.get("line") else None,
                i["id"],
            ]
            for i in rows
        ],
        empty="no invitations",
    )


@app.command("invite")
def invite_cmd(
    programme: Annotated[str, typer.Argument(help="programme id")],
    invited: Annotated[str, typer.Argument(help="code of the bank invited to fund it")],
    bank: Annotated[str, typer.Option("--bank", help="the programme's lead bank (code)")],
    as_json: JsonOpt = False,
) -> None:
    """The lead bank invites another bank to fund its programme; the core enterprise
    approves, then the invited bank accepts with its line."""
    from chainfin.resources.credentials import InvitationOut
    from chainfin.services import credentials

    _run(
        as_json,
        None,
        bank,
        lambda s, a: InvitationOut.build(
            credentials.invitation_view(s, credentials.invite(s, a, programme, bank=invited))
        ),
        _show_invitation,
    )


@app.command("invitations")
def invitations_cmd(as_uscc: AsOpt = None, bank: BankOpt = None, as_json: JsonOpt = False) -> None:
    """Invitations you are a party to: as the lead or invited bank, or as the core."""
    from chainfin.resources.credentials import InvitationOut
    from chainfin.services import credentials
    from chainfin.services.pagination import MAX_LIMIT

    _run(
        as_json,
        as_uscc,
        bank,
        lambda s, a: [
            InvitationOut.build(v)
            for v in credentials.invitation_views(
                s, credentials.invitations(s, a, limit=MAX_LIMIT).items
            )
        ],
        _show_invitations,
    )


@app.command("approve-invitation")
def approve_invitation_cmd(
    invitation: Annotated[str, typer.Argument(help="invitation id")],
    as_uscc: Annotated[str, typer.Option("--as", help="the programme's core enterprise (USCC)")],
    as_json: JsonOpt = False,
) -> None:
    """The core enterprise approves the lead bank's invitation."""
    from chainfin.resources.credentials import InvitationOut
    from chainfin.services import credentials

    _run(
        as_json,
        as_uscc,
        None,
        lambda s, a: InvitationOut.build(
            credentials.invitation_view(s, credentials.approve_invitation(s, a, invitation))
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
    from chainfin.resources.credentials import InvitationOut
    from chainfin.services import credentials

    _run(
        as_json,
        None,
        bank,
        lambda s, a: InvitationOut.build(
            credentials.invitation_view(
                s,
                credentials.accept_invitation(s, a, invitation, line=Money.parse(line, currency)),
            )
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
    from chainfin.resources.credentials import InvitationOut
    from chainfin.services import credentials

    _run(
        as_json,
        as_uscc,
        bank,
        lambda s, a: InvitationOut.build(
            credentials.invitation_view(s, credentials.decline_invitation(s, a, invitation))
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
    from chainfin.resources.credentials import ConfirmationOut
    from chainfin.services import credentials

    _run(
        as_json,
        as_uscc,
        None,
        lambda s, a: ConfirmationOut.build(
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
        raise ValidationFailed(
            [FieldError(field, f"{text!r} is not a date YYYY-MM-DD")], code="date_invalid"
        ) from None


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
    from chainfin.resources.credentials import CredentialTreeOut
    from chainfin.services import credentials

    def work(s: Session, a: Principal) -> CredentialTreeOut:
        row = credentials.issue(
            s,
            a,
            programme_id=programme,
            confirmation_ids=confirmation,
            amount=Money.parse(amount, currency),
            maturity_on=_date(maturity_on, "maturity_on"),
            issued_on=_date(issued_on, "issued_on") if issued_on else None,
        )
        return CredentialTreeOut.build(row, credentials.tree(s, a, row.id))

    _run(as_json, as_uscc, None, work, _show_tree)


@app.command("accept")
def accept_cmd(piece: str, as_uscc: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Accept an offered piece."""
    from chainfin.resources.credentials import CredentialPieceOut
    from chainfin.services import credentials

    _run(
        as_json,
        as_uscc,
        None,
        lambda s, a: CredentialPieceOut.build(credentials.accept(s, a, piece)),
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
    from chainfin.resources.credentials import CredentialPieceOut
    from chainfin.services import credentials

    _run(
        as_json,
        as_uscc,
        None,
        lambda s, a: CredentialPieceOut.build(credentials.reject(s, a, piece, reason=reason)),
        _show_piece,
    )


@app.command("cancel")
def cancel_cmd(credential: str, as_uscc: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Withdraw a credential before its first holder accepts."""
    from chainfin.resources.credentials import CredentialOut
    from chainfin.services import credentials

    _run(
        as_json,
        as_uscc,
        None,
        lambda s, a: CredentialOut.build(credentials.cancel(s, a, credential)),
    )


@app.command("split")
def split_cmd(
    piece: str,
    amounts: Annotated[list[str], typer.Argument(help="the new pieces' amounts")],
    as_uscc: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Split a held piece into pieces of the given amounts."""
    from chainfin.resources.credentials import SplitOut
    from chainfin.services import credentials

    def work(s: Session, a: Principal) -> SplitOut:
        currency = credentials.held_currency(s, a, piece)
        parts = [Money.parse(x, currency) for x in amounts]
        return SplitOut.build(credentials.split(s, a, piece, parts))

    def show(body: dict[str, Any]) -> None:
        table(
            "pieces",
            [Col("amount", "amount"), Col("status"), Col("holder"), Col("id", "id")],
            [
                [
                    {"amount": p["amount"], "currency": p["currency"]},
                    p["status"],
                    name_of(p["holder_id"]),
                    p["id"],
                ]
                for p in body["pieces"]
            ],
            empty="no pieces",
        )

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
    from chainfin.resources.credentials import TransferOut
    from chainfin.services import credentials

    def work(s: Session, a: Principal) -> TransferOut:
        currency = credentials.held_currency(s, a, piece)
        moved = credentials.transfer(
            s, a, piece, to=to, amount=Money.parse(amount, currency) if amount else None
        )
        return TransferOut.build(moved)

    _run(as_json, as_uscc, None, work, lambda r: _show_piece(r["offered"]))


def _show_quote(q: dict[str, Any]) -> None:
    fx = q["fixing"]
    fields(
        [
            ("quote", q["id"]),
            ("face", _amount(q, "face")),
            ("days", f"{q['days']} ({q['day_count']})"),
            ("base", f"{q['base']} {q['base_rate_pct']} % (fixing of {fx['fixed_on']})"),
            ("discount rate", f"{q['discount_rate_pct']} % (base + {q['spread_bp']} bp)"),
            ("interest", _amount(q, "discount_interest")),
            *(
                (f"fee {fee['name']}", f"{money(fee['amount'], q['currency'])} ({fee['basis']})")
                for fee in q["fees"]
            ),
            ("net proceeds", _amount(q, "net_proceeds")),
            ("all-in cost", f"{q['all_in_rate_pct']} % a year"),
        ]
    )
    for w in q["warnings"]:
        out.print(f"  [yellow]warning[/yellow] {escape(w)}", soft_wrap=False)


@app.command("quote")
def quote_cmd(
    piece: str,
    bank: Annotated[str, typer.Argument(help="funder bank code")],
    as_uscc: AsOpt = None,
    as_of: Annotated[str | None, typer.Option(help="value date YYYY-MM-DD")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask a funder bank for a discount quote on a held piece."""
    from chainfin.resources.credentials import QuoteOut
    from chainfin.services import credentials

    _run(
        as_json,
        as_uscc,
        None,
        lambda s, a: QuoteOut.build(
            credentials.quote(
                s, a, piece, bank=bank, as_of=_date(as_of, "as_of") if as_of else None
            )
        ),
        _show_quote,
    )


@app.command("finance")
def finance_cmd(quote: str, as_uscc: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Accept a quote: the bank funds and takes the piece (idempotent)."""
    from chainfin.resources.credentials import FinancingOut
    from chainfin.services import credentials

    _run(as_json, as_uscc, None, lambda s, a: FinancingOut.build(credentials.finance(s, a, quote)))


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
    from chainfin.resources.credentials import CredentialPaymentOut
    from chainfin.services import credentials

    def work(s: Session, a: Principal) -> CredentialPaymentOut:
        currency = credentials.get(s, a, credential).currency
        payment = credentials.settle(
            s,
            a,
            credential,
            amount=Money.parse(amount, currency),
            payment_ref=payment_ref,
            paid_on=_date(paid_on, "paid_on") if paid_on else None,
        )
        return CredentialPaymentOut.build(payment)

    _run(as_json, as_uscc, None, work)


@app.command("overdue-scan")
def overdue_cmd(
    as_of: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    as_json: JsonOpt = False,
) -> None:
    """Move credentials unpaid past payment date + grace days to overdue; raise alerts."""
    from chainfin.resources.credentials import CredentialOut
    from chainfin.services import credentials

    _run(
        as_json,
        None,
        None,
        lambda s, a: [
            CredentialOut.build(c) for c in credentials.mark_overdue(s, a, _date(as_of, "as_of"))
        ],
        _show_overdue,
        slow="scanning credentials",
    )


def _show_overdue(rows: list[dict[str, Any]]) -> None:
    table(
        "credentials now overdue",
        [
            Col("face", "amount"),
            Col("paid on", "date"),
            Col("status"),
            Col("id", "id"),
        ],
        [
            [
                {"amount": c["face"], "currency": c["currency"]},
                c["payment_on"],
                c["status"],
                c["id"],
            ]
            for c in rows
        ],
        empty="no credential fell overdue",
    )


@app.command("show")
def show_cmd(
    credential: str, as_uscc: AsOpt = None, bank: BankOpt = None, as_json: JsonOpt = False
) -> None:
    """One credential."""
    from chainfin.resources.credentials import CredentialOut
    from chainfin.services import credentials

    _run(
        as_json,
        as_uscc,
        bank,
        lambda s, a: CredentialOut.build(credentials.get(s, a, credential)),
        _show_tree,
    )


@app.command("tree")
def tree_cmd(
    credential: str, as_uscc: AsOpt = None, bank: BankOpt = None, as_json: JsonOpt = False
) -> None:
    """A credential's pieces that you may see, by lineage."""
    from chainfin.resources.credentials import CredentialTreeOut
    from chainfin.services import credentials

    def work(s: Session, a: Principal) -> CredentialTreeOut:
        row = credentials.get(s, a, credential)
        return CredentialTreeOut.build(row, credentials.tree(s, a, credential))

    _run(as_json, as_uscc, bank, work, _show_tree)


# ---------------------------------------------------------------------------- books


def tb_body(session: Session, actor: Principal, book: str) -> TrialBalanceOut:
    from chainfin.resources.books import TrialBalanceOut
    from chainfin.services import books

    return TrialBalanceOut.build(book, books.trial_balance(session, actor, book))


def print_trial_balance(body: dict[str, Any]) -> None:
    rows = [
        [
            r["account"],
            named(r["name"]),
            {"amount": r["debit"], "currency": r["currency"]},
            {"amount": r["credit"], "currency": r["currency"]},
        ]
        for r in body["rows"]
    ]
    rows += [
        [
            "",
            f"total {c}",
            {"amount": t["debit"], "currency": c},
            {"amount": t["credit"], "currency": c},
        ]
        for c, t in body["totals"].items()
    ]
    table(
        f"trial balance — {body['book']}",
        [Col("account", "code"), Col("name"), Col("debit", "amount"), Col("credit", "amount")],
        rows if body["rows"] else [],
        empty=f"trial balance — {body['book']}: every account is at zero",
    )
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
    from chainfin.resources.books import AccountStatementOut
    from chainfin.services import books

    def work(s: Session, a: Principal) -> AccountStatementOut:
        start = _date(since, "since") if since else None
        end = _date(until, "until") if until else None
        spec, opening, lines = books.statement(
            s, a, book, account, since=start, until=end, currency=currency
        )
        return AccountStatementOut.build(
            book, spec, currency, opening, lines, since=start, until=end
        )

    def show(body: dict[str, Any]) -> None:
        cur = body["currency"]
        out.print(f"{body['account']} {escape(body['name'])}  opening {_amount(body, 'opening')}")
        table(
            f"{body['account']} {body['name']} ({cur})",
            [
                Col("value on", "date"),
                Col("kind", drop=2),
                Col("amount", "amount"),
                Col("balance", "amount"),
                Col("memo", drop=1),
            ],
            [
                [
                    ln["value_on"],
                    ln["kind"],
                    {"amount": ln["amount"], "currency": cur},
                    {"amount": ln["balance"], "currency": cur},
                    ln["memo"],
                ]
                for ln in body["lines"]
            ],
            empty="no movements",
        )

    _run(as_json, None, None, work, show)


@books_app.command("reverse")
def reverse_cmd(
    journal: str,
    reason: Annotated[str, typer.Option(help="why (kept on the reversal)")],
    as_json: JsonOpt = False,
) -> None:
    """Undo a journal by posting its mirror image."""
    from chainfin.resources.books import JournalOut
    from chainfin.services import books

    _run(
        as_json,
        None,
        None,
        lambda s, a: JournalOut.build(books.reverse(s, a, journal, reason=reason)),
    )


@books_app.command("accrue")
def accrue_cmd(
    as_of: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    as_json: JsonOpt = False,
) -> None:
    """Recognise unearned discount as interest income through a date (daily job)."""
    from chainfin.services import credentials

    _run(
        as_json,
        None,
        None,
        lambda s, a: {"journals": credentials.accrue(s, a, _date(as_of, "as_of"))},
        lambda b: out.print(f"{b['journals']:,} accrual journal(s) posted"),
        slow="accruing discount",
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
    from chainfin.resources.credentials import LprFixingOut
    from chainfin.services import rates

    def work(s: Session, a: Principal) -> dict[str, Any]:
        (fixing,) = parse_lpr_csv(f"date,lpr_1y,lpr_5y\n{fixed_on},{rate_1y},{rate_5y}\n")
        _, new = rates.set_fixing(s, a, fixing, source="chainfin rates lpr set")
        return {"fixing": LprFixingOut.build(fixing), "new": new}

    _run(as_json, None, None, work)


@lpr_app.command("load")
def lpr_load_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    as_json: JsonOpt = False,
) -> None:
    """Load fixings from a CSV ``date,lpr_1y,lpr_5y`` (the NIFC export shape)."""
    from chainfin.services import rates

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
    from chainfin.resources.credentials import LprFixingOut
    from chainfin.services import rates

    def work(s: Session, a: Principal) -> LprFixingOut | None:
        fixing: LprFixing | None
        if on:
            fixing = rates.in_force(s, _date(on, "on"))
        else:
            table = rates.fixings(s)
            fixing = table[-1] if table else None
        return LprFixingOut.build(fixing) if fixing else None

    _run(as_json, None, None, work)


# ---------------------------------------------------------------------------- calendar


@calendar_app.command("load")
def calendar_load_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    as_json: JsonOpt = False,
) -> None:
    """Load an official schedule (JSON or CSV ``date,kind``) and recompute every
    provisional payment date; maturity dates never change."""
    from chainfin.services import credentials, workcal

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
    from chainfin.services import credentials

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
    from chainfin.services import workcal

    def work(s: Session, a: Principal) -> dict[str, Any]:
        try:
            rolled = workcal.calendar(s).roll(_date(day, "date"), convention)
        except ValueError as exc:
            raise ValidationFailed(
                [FieldError("convention", str(exc))], code="day_count_convention_invalid"
            ) from None
        return {
            "date": rolled.date.isoformat(),
            "provisional": rolled.provisional,
            "moved": rolled.moved,
            "convention": rolled.convention,
        }

    _run(as_json, None, None, work)
