"""``chainfin line …``, ``chainfin product …``, ``chainfin loan …`` and ``chainfin books gl``:
the bank's lending desk from a terminal — credit lines and caps, loan products and credit
authority, applications and their review, due diligence, disbursement files, statements,
servicing and the general-ledger export.

Commands act for an enterprise (``--as USCC``) or a bank (``--bank CODE``), the way that
party's user would through the API; credit decisions (``loan review``, ``loan extend``) are
taken by a named member of the bank's staff (``--user USERNAME``), with that person's roles
and delegated authority. Every command takes ``--json`` (the services' shapes); amounts are
decimal strings, dates ``YYYY-MM-DD``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from chainfin.cli.common import (
    Col,
    CursorOpt,
    LimitOpt,
    fail,
    fields,
    group,
    jsonable,
    money,
    more,
    name_of,
    operator_session,
    out,
    page_of,
    print_json,
    print_page,
    progress,
    remember_names,
    show_any,
    table,
)
from chainfin.cli.credentials import books_app
from chainfin.domain import clock
from chainfin.domain.access import SYSTEM, Principal, PrincipalKind, Scope, StaffRole
from chainfin.domain.errors import ChainfinError, FieldError, ValidationFailed
from chainfin.domain.money import Money, MoneyError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from chainfin.adapters.db.models import Bank

# Every import above is light: the database, the services and the resources are imported
# inside the commands that need them (tests/test_cli_start.py).

line_app = group("Credit lines, sub-limits and exposure caps")
product_app = group("Loan products and credit authority")
loan_app = group("Loan applications, disbursement and servicing")
price_app = group("Prices of pledged goods")
loan_app.add_typer(price_app, name="price")

AsOpt = Annotated[str | None, typer.Option("--as", help="act as this enterprise (USCC)")]
BankOpt = Annotated[str | None, typer.Option("--bank", help="act as this bank's staff (code)")]
BankReq = Annotated[str, typer.Option("--bank", help="act as this bank's staff (code)")]
UserOpt = Annotated[str, typer.Option("--user", help="the deciding staff member's username")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
CurOpt = Annotated[str, typer.Option("--currency")]
DateOpt = Annotated[str, typer.Option(metavar="DATE", help="YYYY-MM-DD")]

ENTERPRISE_SCOPES = frozenset(
    {Scope.LOANS_APPLY, Scope.LOANS_READ, Scope.DOCUMENTS_READ, Scope.REGISTRY_READ}
)
BANK_SCOPES = frozenset(
    {
        Scope.LOANS_READ,
        Scope.LOANS_WRITE,
        Scope.BOOKS_READ,
        Scope.REGISTRY_READ,
        Scope.DOCUMENTS_READ,
        Scope.CREDENTIALS_READ,
    }
)
STAFF_ROLES = frozenset(r.value for r in StaffRole)

Actor = Callable[["Session"], Principal]


# ---------------------------------------------------------------------------- actors


def _bank_row(session: Session, code: str) -> Bank:
    from sqlalchemy import select

    from chainfin.adapters.db.models import Bank

    row = session.scalar(select(Bank).where(Bank.code == code))
    if row is None:
        raise ValidationFailed([FieldError("--bank", f"no bank {code!r}")], code="bank_unknown")
    return row


def _enterprise(session: Session, uscc: str) -> Principal:
    from chainfin.services import registry

    enterprise = registry.enterprise_by_uscc(session, uscc)
    return Principal(
        PrincipalKind.ENTERPRISE_USER, "cli", enterprise_id=enterprise.id, scopes=ENTERPRISE_SCOPES
    )


def _bank(session: Session, code: str, *extra: Scope) -> Principal:
    row = _bank_row(session, code)
    return Principal(
        PrincipalKind.STAFF, "cli", bank_id=row.id, scopes=BANK_SCOPES | frozenset(extra)
    )


def _either(as_uscc: str | None, bank: str | None) -> Actor:
    """An enterprise, a bank, or (neither) the operator."""

    def actor(session: Session) -> Principal:
        if as_uscc and bank:
            raise ValidationFailed(
                [FieldError("--as/--bank", "give one of them")], code="option_choice_required"
            )
        if as_uscc:
            return _enterprise(session, as_uscc)
        if bank:
            return _bank(session, bank)
        return SYSTEM

    return actor


def _as_bank(code: str | None, *extra: Scope) -> Actor:
    return lambda s: _bank(s, code, *extra) if code else SYSTEM


def _as_enterprise(uscc: str) -> Actor:
    return lambda s: _enterprise(s, uscc)


def _as_staff(code: str, username: str) -> Actor:
    """A real member of the bank's staff, with the roles (and so the scopes) on their user
    row: credit decisions are recorded against the person who took them."""
    from sqlalchemy import select

    from chainfin.adapters.db.models import User

    def actor(session: Session) -> Principal:
        bank = _bank_row(session, code)
        user = session.scalar(select(User).where(User.username == username))
        if user is None or user.bank_id != bank.id or user.kind != "staff":
            raise ValidationFailed(
                [FieldError("--user", f"no staff member {username!r} at {code}")],
                code="user_unknown",
            )
        if not user.active:
            raise ValidationFailed(
                [FieldError("--user", f"{username!r} is deactivated")], code="user_deactivated"
            )
        roles = [StaffRole(r) for r in user.roles if r in STAFF_ROLES]
        return Principal.staff(user.id, bank_id=bank.id, roles=roles)

    return actor


def _run(
    as_json: bool,
    actor: Actor,
    work: Callable[[Session, Principal], Any],
    show: Callable[[Any], None] | None = None,
    *,
    slow: str | None = None,
) -> Any:
    """One transaction: resolve the actor, do the work, print the result once it has
    committed — with ``--json`` the resource (a list as ``{"items", "next_cursor"}``), else
    ``show`` (or every field, :func:`show_any`) with names for the ids. ``slow`` says what
    runs, for a progress bar on work that can take more than two seconds. Errors print what
    went wrong and what to do, and exit 1; nothing is written."""
    try:
        with (
            progress(slow or "", enabled=slow is not None and not as_json),
            operator_session() as session,
        ):
            result = jsonable(work(session, actor(session)))
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
    return result


# ---------------------------------------------------------------------------- parsing


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            [FieldError(field, f"{text!r} is not a date YYYY-MM-DD")], code="date_invalid"
        ) from None


def _opt_date(text: str | None, field: str) -> date | None:
    return _date(text, field) if text else None


def _money(text: str, field: str, currency: str = "CNY") -> Money:
    try:
        return Money.parse(text, currency)
    except MoneyError as exc:
        raise ValidationFailed([FieldError(field, exc.message)], code="invalid_money") from None


def _json_file(path: Path, field: str) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(
            [FieldError(field, f"{path.name}: not readable JSON ({exc})")], code="file_unreadable"
        ) from None


def _text_file(path: Path, field: str) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            [FieldError(field, f"{path.name}: not readable text ({exc})")], code="file_unreadable"
        ) from None


# ---------------------------------------------------------------------------- shapes


def _a(amount: Mapping[str, str] | str | None, currency: str | None = None) -> str:
    return money(amount, currency)


# ---------------------------------------------------------------------------- people's views


def _paged(show: Callable[[list[dict[str, Any]]], None]) -> Callable[[dict[str, Any]], None]:
    """A list's view for a page: its rows, then how to get the next page."""

    def show_page(body: dict[str, Any]) -> None:
        show(body["items"])
        more(body)

    return show_page


def _show_line(line: dict[str, Any]) -> None:
    cur = line["currency"]
    reason = f" ({line['status_reason']})" if line["status_reason"] else ""
    fields(
        [
            ("line", line["id"]),
            ("status", line["status"] + reason),
            ("obligor", name_of(line["obligor_id"])),
            ("core", name_of(line["core_id"])),
            ("guarantor", name_of(line["guarantor_id"])),
            ("limit", _a(line["limit"], cur)),
            ("reserved", _a(line["pending"], cur)),
            ("drawn", _a(line["posted"], cur)),
            ("available", _a(line["available"], cur)),
            ("runs", f"{line['starts_on']} to {line['expires_on']}, "
             + ("revolving" if line["revolving"] else "one-off")),
        ]
    )  # fmt: skip
    subs = line.get("sublimits", [])
    if subs:
        table(
            "sub-limits",
            [
                Col("for"),
                Col("limit", "amount"),
                Col("available", "amount"),
                Col("id", "id", drop=1),
            ],
            [
                [
                    _sublimit_for(sub),
                    {"amount": sub["limit"], "currency": sub["currency"]},
                    {"amount": sub["available"], "currency": sub["currency"]},
                    sub["id"],
                ]
                for sub in subs
            ],
            empty="no sub-limits",
        )


def _sublimit_for(sub: dict[str, Any]) -> str:
    member = name_of(sub["member_id"])
    return " ".join(x for x in (sub["product_kind"] or "", member) if x) or "any"


def _show_sublimit(sub: dict[str, Any]) -> None:
    cur = sub["currency"]
    fields(
        [
            ("sub-limit", sub["id"]),
            ("for", _sublimit_for(sub)),
            ("limit", _a(sub["limit"], cur)),
            ("available", _a(sub["available"], cur)),
        ]
    )


def _show_lines(rows: list[dict[str, Any]]) -> None:
    table(
        "credit lines",
        [
            Col("obligor"),
            Col("limit", "amount"),
            Col("available", "amount"),
            Col("status", drop=2),
            Col("expires", "date", drop=1),
            Col("id", "id"),
        ],
        [
            [
                name_of(r["obligor_id"]),
                r["limit"],
                r["available"],
                r["status"],
                r["expires_on"],
                r["id"],
            ]
            for r in rows
        ],
        empty="no credit lines",
    )


def _show_cap(cap: dict[str, Any]) -> None:
    cur = cap["currency"]
    fields(
        [
            ("cap", f"{cap['name']} ({cap['id']})"),
            (
                "on",
                f"the chain of {name_of(cap['core_id'])}"
                if cap["core_id"]
                else ", ".join(name_of(m) for m in cap["members"]),
            ),
            ("cap", _a(cap["cap"], cur)),
            ("used", _a(cap["used"], cur)),
            ("available", _a(cap["available"], cur)),
        ]
    )


def _show_caps(rows: list[dict[str, Any]]) -> None:
    table(
        "exposure caps",
        [
            Col("name"),
            Col("cap", "amount"),
            Col("used", "amount"),
            Col("available", "amount", drop=1),
            Col("kind", drop=2),
            Col("id", "id"),
        ],
        [[r["name"], r["cap"], r["used"], r["available"], r["kind"], r["id"]] for r in rows],
        empty="no exposure caps",
    )


def _show_products(rows: list[dict[str, Any]]) -> None:
    table(
        "loan products",
        [
            Col("code", "code"),
            Col("name"),
            Col("kind", drop=2),
            Col("status", drop=1),
            Col("id", "id"),
        ],
        [[r["code"], r["name"], r["kind"], r["status"], r["id"]] for r in rows],
        empty="no loan products",
    )


def _show_application(app: dict[str, Any]) -> None:
    decision = app["decision"] or {}
    cur = app["currency"]
    fields(
        [
            ("application", app["id"]),
            ("applicant", name_of(app["applicant_id"])),
            ("status", app["status"]),
            ("amount", _a(app["amount"], cur)),
            ("terms", f"{app['tenor_months']} months, {app['method']}"),
            ("underlying", f"{app['underlying']['kind']} {app['underlying']['ref']}"),
            ("worth", _a(app["underlying"]["value"], cur)),
            ("score", (decision.get("score") or {}).get("points")),
            ("loan", app["loan_id"]),
        ]
    )
    for reason in decision.get("reasons", []):
        out.print(
            f"  {reason.get('outcome', '')} {reason.get('code', '')}: "
            f"{escape(str(reason.get('message', '')))}",
            soft_wrap=False,
        )
    for task in app["tasks"]:
        out.print(f"  task {task['id']}  {task['kind']}  {task['state']}", soft_wrap=False)
    for step in app["approvals"]:
        out.print(
            f"  {step['step']} {step['action']} by {escape(name_of(step['user_id']))} "
            f"(level {step['level']}): {escape(step['note'])}",
            soft_wrap=False,
        )
    for cond in app["conditions"]:
        met = "met" if cond["met"] else "open"
        out.print(f"  condition {cond['number']}: {escape(cond['text'])}  {met}", soft_wrap=False)


def _show_applications(rows: list[dict[str, Any]]) -> None:
    table(
        "loan applications",
        [
            Col("applicant"),
            Col("amount", "amount"),
            Col("status"),
            Col("underlying", drop=2),
            Col("loan", "id", drop=1),
            Col("id", "id"),
        ],
        [
            [
                name_of(r["applicant_id"]),
                r["amount"],
                r["status"],
                f"{r['underlying']['kind']} {r['underlying']['ref']}",
                r["loan_id"] or "",
                r["id"],
            ]
            for r in rows
        ],
        empty="no applications",
    )


def _show_task(task: dict[str, Any]) -> None:
    fields(
        [
            ("task", task["id"]),
            ("kind", task["kind"]),
            ("state", task["state"]),
            ("application", task["application_id"]),
            ("because", ", ".join(task["reasons"])),
        ]
    )
    result = task["result"] or {}
    for concern in result.get("concerns", []):
        out.print(f"  [yellow]concern[/yellow] {escape(concern)}", soft_wrap=False)
    for finding in result.get("findings", []) if isinstance(result.get("findings"), list) else []:
        out.print(
            f"  {finding['severity']} {finding['code']}: {escape(finding['message'])}",
            soft_wrap=False,
        )


def _show_tasks(rows: list[dict[str, Any]]) -> None:
    table(
        "due-diligence tasks",
        [
            Col("kind"),
            Col("state"),
            Col("reasons", drop=2),
            Col("application", "id", drop=1),
            Col("id", "id"),
        ],
        [
            [r["kind"], r["state"], ", ".join(r["reasons"]), r["application_id"], r["id"]]
            for r in rows
        ],
        empty="no tasks",
    )


def _show_loan(loan: dict[str, Any]) -> None:
    cur = loan["currency"]
    fields(
        [
            ("loan", f"{loan['id']} ({loan['reference']})"),
            ("borrower", name_of(loan["borrower_id"])),
            ("status", f"{loan['status']}, {loan['category']}, dpd {loan['dpd']}"),
            ("principal", _a(loan["principal"], cur)),
            ("rate", f"{loan['annual_rate_pct']} % a year ({loan['day_count']})"),
            ("product", loan["product_kind"]),
            ("term", f"{loan['term_months']} months, {loan['method']}"),
            (
                "runs",
                f"{loan['start_on']} to {loan['maturity_on']}"
                if loan["start_on"]
                else "not disbursed",
            ),
            ("flags", ", ".join(loan["flags"])),
        ]
    )
    if loan["schedule"]:
        table(
            "schedule",
            [
                Col("#", "number"),
                Col("from", "date", drop=1),
                Col("due", "date"),
                Col("principal", "amount"),
                Col("interest", "amount"),
                Col("balance after", "amount"),
            ],
            [
                [
                    r["number"],
                    r["starts_on"],
                    r["due_on"],
                    {"amount": r["principal"], "currency": cur},
                    {"amount": r["interest"], "currency": cur},
                    {"amount": r["balance_after"], "currency": cur},
                ]
                for r in loan["schedule"]
            ],
            empty="no schedule",
        )
    paid = loan["paid"]
    pairs = [
        (f"paid {k}", _a(paid[k], cur)) for k in ("principal", "prepaid", "interest", "penalty")
    ]
    if loan.get("position"):
        pos = loan["position"]
        pairs += [
            (f"as of {pos['as_of']}", f"dpd {pos['dpd']}"),
            ("  outstanding", _a(pos["principal_outstanding"], cur)),
            ("  principal due", _a(pos["principal_due"], cur)),
            ("  interest due", _a(pos["interest_due"], cur)),
            ("  penalty due", _a(pos["penalty_due"], cur)),
            ("  total due", _a(pos["total_due"], cur)),
        ]
    fields(pairs)
    for r in loan.get("repayments", []):
        _show_repayment(r)


def _show_loans(rows: list[dict[str, Any]]) -> None:
    table(
        "loans",
        [
            Col("borrower"),
            Col("principal", "amount"),
            Col("status", drop=2),
            Col("maturity", "date", drop=1),
            Col("dpd", "number", drop=3),
            Col("kind", drop=5),
            Col("start", "date", drop=4),
            Col("id", "id"),
        ],
        [
            [
                name_of(r["borrower_id"]),
                r["principal"],
                r["status"],
                r["maturity_on"],
                r["dpd"],
                r["product_kind"],
                r["start_on"],
                r["id"],
            ]
            for r in rows
        ],
        empty="no loans",
    )


def _show_repayment(r: dict[str, Any]) -> None:
    cur = r["currency"]
    out.print(
        f"repayment {r['id']} on {r['value_on']} ({escape(r['source'])}): {_a(r['amount'], cur)}"
    )
    parts = ("penalty", "interest", "principal", "prepaid", "excess")
    fields([(f"  {k}", _a(r[k], cur)) for k in parts if Decimal(r[k])])


def _show_disbursement(body: dict[str, Any]) -> None:
    out.print(
        f"wrote {escape(body['file'])}: pain.001 {body['message_id']}, {body['count']} "
        f"payment(s), {_a(body['total'], body['currency'])}, execution {body['execution_on']}"
    )
    for loan in body["loans"]:
        out.print(
            f"  {loan['id']}  {loan['end_to_end_id']}  {_a(loan['principal'], body['currency'])}  "
            f"to {escape(loan['payee_name'])}"
        )


def _show_import(body: dict[str, Any]) -> None:
    out.print(
        f"statement import {body['id']} ({body['version']}): {len(body['matched'])} matched, "
        f"{len(body['unmatched'])} unmatched"
    )
    for m in body["matched"]:
        out.print(
            f"  entry {m['entry']}  [green]{m['kind']}[/green]  {_a(m['amount'], m['currency'])}  "
            f"loan {m['loan_id']}  ({escape(m['basis'])})"
        )
    for u in body["unmatched"]:
        side = "credit" if u["credit"] else "debit"
        out.print(
            f"  entry {u['entry']}  [yellow]{u['reason']}[/yellow]  {side} "
            f"{_a(u['amount'], u['currency'])} "
            f"on {u['value_on']}: {escape(u['detail'])}  (key {escape(u['key'])})"
        )


# ---------------------------------------------------------------------------- line


@line_app.command("open")
def line_open_cmd(
    bank: BankReq,
    obligor: Annotated[str, typer.Option(help="the borrower's USCC")],
    limit: Annotated[str, typer.Option(help="e.g. 20000000.00")],
    starts: DateOpt,
    expires: DateOpt,
    core: Annotated[str | None, typer.Option(help="the member's core enterprise (USCC)")] = None,
    guarantor: Annotated[str | None, typer.Option(help="guarantor USCC")] = None,
    one_off: Annotated[bool, typer.Option("--one-off", help="not revolving")] = False,
    currency: CurOpt = "CNY",
    as_json: JsonOpt = False,
) -> None:
    """Open a credit line to a core enterprise, or to a member under its core's credit."""
    from chainfin.resources.lending import CreditLineOut
    from chainfin.services.lending import lines

    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: CreditLineOut.build(
            lines.open_line(
                s,
                a,
                obligor=obligor,
                limit=_money(limit, "limit", currency),
                starts_on=_date(starts, "starts_on"),
                expires_on=_date(expires, "expires_on"),
                core=core,
                guarantor=guarantor,
                revolving=not one_off,
            )
        ),
        _show_line,
    )


@line_app.command("list")
def line_list_cmd(
    as_uscc: AsOpt = None,
    bank: BankOpt = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The bank's lines, or the lines an enterprise is party to."""
    from chainfin.resources.lending import CreditLineOut
    from chainfin.services.lending import lines

    _run(
        as_json,
        _either(as_uscc, bank),
        lambda s, a: page_of(lines.lines(s, a, cursor=cursor, limit=limit), CreditLineOut.build),
        _paged(_show_lines),
    )


@line_app.command("show")
def line_show_cmd(
    line: Annotated[str, typer.Argument(help="line id")],
    as_uscc: AsOpt = None,
    bank: BankOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One line with its sub-limits."""
    from chainfin.resources.lending import CreditLineDetailOut
    from chainfin.services.lending import lines

    def work(s: Session, a: Principal) -> CreditLineDetailOut:
        row = lines.line_for(s, a, line)
        return CreditLineDetailOut.build_with(row, lines.sublimits(s, a, row))

    _run(as_json, _either(as_uscc, bank), work, _show_line)


@line_app.command("sublimit")
def line_sublimit_cmd(
    line: Annotated[str, typer.Argument(help="line id")],
    bank: BankReq,
    limit: Annotated[str, typer.Option()],
    product_kind: Annotated[str | None, typer.Option(help="e.g. receivable_financing")] = None,
    member: Annotated[str | None, typer.Option(help="chain member USCC")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Carve a sub-limit out of a line for a product kind, a member, or both."""
    from chainfin.resources.lending import SublimitOut
    from chainfin.services.lending import lines

    def work(s: Session, a: Principal) -> SublimitOut:
        row = lines.line_for(s, a, line)
        sub = lines.add_sublimit(
            s,
            a,
            line,
            limit=_money(limit, "limit", row.currency),
            product_kind=product_kind,
            member=member,
        )
        return SublimitOut.build(sub, row.currency)

    _run(as_json, _as_bank(bank), work, _show_sublimit)


def _set_status(line: str, bank: str, status: str, reason: str, as_json: bool) -> None:
    from chainfin.resources.lending import CreditLineOut
    from chainfin.services.lending import lines

    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: CreditLineOut.build(
            lines.set_status(s, a, line, status=status, reason=reason)
        ),
        _show_line,
    )


ReasonOpt = Annotated[str, typer.Option(help="why (kept on the line)")]
LineArg = Annotated[str, typer.Argument(help="line id")]


@line_app.command("freeze")
def line_freeze_cmd(
    line: LineArg, bank: BankReq, reason: ReasonOpt, as_json: JsonOpt = False
) -> None:
    """Stop new reservations on a line; drawn loans run on."""
    _set_status(line, bank, "frozen", reason, as_json)


@line_app.command("unfreeze")
def line_unfreeze_cmd(
    line: LineArg, bank: BankReq, reason: ReasonOpt, as_json: JsonOpt = False
) -> None:
    """Make a frozen line active again."""
    _set_status(line, bank, "active", reason, as_json)


@line_app.command("close")
def line_close_cmd(
    line: LineArg, bank: BankReq, reason: ReasonOpt, as_json: JsonOpt = False
) -> None:
    """Close a line for good."""
    _set_status(line, bank, "closed", reason, as_json)


@line_app.command("expire")
def line_expire_cmd(as_of: DateOpt, bank: BankOpt = None, as_json: JsonOpt = False) -> None:
    """Expire lines past their expiry date (daily job; every bank's unless --bank)."""
    from chainfin.resources.lending import LinesExpiredOut
    from chainfin.services.lending import lines

    def work(s: Session, a: Principal) -> LinesExpiredOut:
        day = _date(as_of, "as_of")
        return LinesExpiredOut(as_of=day, expired=lines.expire(s, a, day))

    _run(
        as_json,
        _as_bank(bank),
        work,
        lambda body: out.print(f"{body['expired']} line(s) expired"),
    )


@line_app.command("cap")
def line_cap_cmd(
    bank: BankReq,
    name: Annotated[str, typer.Option(help="what the cap is")],
    cap: Annotated[str, typer.Option(help="the most the bank may have out, e.g. 50000000.00")],
    core: Annotated[str | None, typer.Option(help="cap the chain of this core (USCC)")] = None,
    member: Annotated[
        list[str] | None, typer.Option("--member", help="a related party (USCC); repeat")
    ] = None,
    currency: CurOpt = "CNY",
    as_json: JsonOpt = False,
) -> None:
    """Cap the bank's exposure to a core's chain or to a group of related parties."""
    from chainfin.resources.lending import ExposureCapOut
    from chainfin.services.lending import lines

    def work(s: Session, a: Principal) -> ExposureCapOut:
        row = lines.set_cap(
            s, a, name=name, cap=_money(cap, "cap", currency), core=core, members=member or []
        )
        return ExposureCapOut.build(row, lines.cap_members(s, row.id))

    _run(as_json, _as_bank(bank), work, _show_cap)


@line_app.command("caps")
def line_caps_cmd(
    bank: BankReq,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The bank's exposure caps and what they have used."""
    from chainfin.resources.lending import ExposureCapOut
    from chainfin.services.lending import lines

    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: page_of(
            lines.caps(s, a, cursor=cursor, limit=limit),
            lambda c: ExposureCapOut.build(c, lines.cap_members(s, c.id)),
        ),
        _paged(_show_caps),
    )


# ---------------------------------------------------------------------------- product


@product_app.command("define")
def product_define_cmd(
    bank: BankReq,
    code: Annotated[str, typer.Option(help="the bank's code for it")],
    name: Annotated[str, typer.Option()],
    kind: Annotated[str | None, typer.Option(help="the template: receivable_financing, …")] = None,
    config: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="JSON: kind plus overrides of its template"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Define a loan product from a kind's template, or from a configuration file (the
    API's ``config``: rates as ``spread_bp`` and ``*_pct``)."""
    from chainfin.resources.lending import LoanProductOut, ProductConfigIn
    from chainfin.services.lending import products

    def work(s: Session, a: Principal) -> LoanProductOut:
        if (kind is None) == (config is None):
            raise ValidationFailed(
                [FieldError("--kind/--config", "give one of them")], code="option_choice_required"
            )
        body: Any = {"kind": kind} if config is None else _json_file(config, "config")
        wanted = ProductConfigIn.parse(body)
        with ProductConfigIn.interface_names():
            row = products.define(s, a, code=code, name=name, config=wanted.to_domain())
        return LoanProductOut.build(row, a)

    _run(
        as_json,
        _as_bank(bank),
        work,
        lambda p: out.print(f"product {p['code']} ({p['kind']}) defined: {p['id']}"),
    )


@product_app.command("list")
def product_list_cmd(
    bank: BankReq,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A bank's loan products."""
    from chainfin.resources.lending import LoanProductOut
    from chainfin.services.lending import products

    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: page_of(
            products.products(s, a, cursor=cursor, limit=limit),
            lambda p: LoanProductOut.build(p, a),
        ),
        _paged(_show_products),
    )


@product_app.command("authority")
def product_authority_cmd(
    bank: BankReq,
    user: Annotated[str, typer.Option(help="staff username")],
    level: Annotated[int, typer.Option(help="1 to 9")],
    as_json: JsonOpt = False,
) -> None:
    """Delegate credit authority of a level to one of the bank's staff (an admin's act)."""
    from chainfin.resources.lending import ApprovalAuthorityOut
    from chainfin.services.lending import products

    _run(
        as_json,
        _as_bank(bank, Scope.USERS_ADMIN),
        lambda s, a: ApprovalAuthorityOut.build(
            products.grant_authority(s, a, user=user, level=level)
        ),
        lambda b: out.print(f"{user} ({b['user_id']}) holds credit authority level {b['level']}"),
    )


# ---------------------------------------------------------------------------- applications


@loan_app.command("apply")
def loan_apply_cmd(
    as_uscc: Annotated[str, typer.Option("--as", help="the applying enterprise (USCC)")],
    bank: Annotated[str, typer.Option("--bank", help="the lending bank's code")],
    product: Annotated[str, typer.Option(help="product code or id")],
    amount: Annotated[str, typer.Option()],
    tenor_months: Annotated[int, typer.Option()],
    underlying_kind: Annotated[str, typer.Option(help="invoice, purchase_order, …")],
    underlying: Annotated[str, typer.Option(help="the underlying's id or reference")],
    payee_name: Annotated[str, typer.Option()],
    payee_account: Annotated[str, typer.Option(help="account number, 8-32 digits")],
    payee_agent: Annotated[str, typer.Option(help="the payee bank's 12-digit CNAPS code")],
    method: Annotated[str, typer.Option(help="bullet, equal_instalment, …")] = "bullet",
    line: Annotated[str | None, typer.Option(help="the credit line (default: found)")] = None,
    on: Annotated[str | None, typer.Option(help="application date (default today)")] = None,
    currency: CurOpt = "CNY",
    as_json: JsonOpt = False,
) -> None:
    """Apply for a loan; the rules decide at once (approve, refer, decline, with reasons)."""
    from chainfin.resources.lending import LoanApplicationOut
    from chainfin.services.lending import applications
    from chainfin.services.lending.applications import Payment

    _run(
        as_json,
        _as_enterprise(as_uscc),
        lambda s, a: LoanApplicationOut.build(
            s,
            applications.submit(
                s,
                a,
                bank=bank,
                product=product,
                amount=_money(amount, "amount", currency),
                tenor_months=tenor_months,
                method=method,
                underlying_kind=underlying_kind,
                underlying_ref=underlying,
                payee=Payment(payee_name, payee_account, payee_agent),
                line=line,
                on=_opt_date(on, "on"),
            ),
        ),
        _show_application,
    )


@loan_app.command("applications")
def loan_applications_cmd(
    status: Annotated[str | None, typer.Option(help="referred, approved, …")] = None,
    as_uscc: AsOpt = None,
    bank: BankOpt = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Applications to a bank, or an enterprise's own."""
    from chainfin.resources.lending import LoanApplicationOut
    from chainfin.services.lending import applications

    only = applications.ApplicationFilter(status=status)
    _run(
        as_json,
        _either(as_uscc, bank),
        lambda s, a: page_of(
            applications.applications(s, a, only, cursor=cursor, limit=limit),
            lambda x: LoanApplicationOut.build(s, x),
        ),
        _paged(_show_applications),
    )


@loan_app.command("application")
def loan_application_cmd(
    application: Annotated[str, typer.Argument(help="application id")],
    as_uscc: AsOpt = None,
    bank: BankOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One application with its decision, tasks, approvals and conditions."""
    from chainfin.resources.lending import LoanApplicationOut
    from chainfin.services.lending import applications

    _run(
        as_json,
        _either(as_uscc, bank),
        lambda s, a: LoanApplicationOut.build(s, applications.application_for(s, a, application)),
        _show_application,
    )


class Action(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"


@loan_app.command("review")
def loan_review_cmd(
    application: Annotated[str, typer.Argument(help="application id")],
    bank: BankReq,
    user: UserOpt,
    action: Annotated[Action, typer.Option()],
    note: Annotated[str, typer.Option(help="the credit memo")],
    condition: Annotated[
        list[str] | None, typer.Option("--condition", help="to meet before paying; repeat")
    ] = None,
    on: Annotated[str | None, typer.Option(help="decision date (default today)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A maker's, then a checker's step on a referred application (four eyes, within the
    checker's delegated authority, after due diligence)."""
    from chainfin.resources.lending import LoanApplicationOut
    from chainfin.services.lending import applications

    _run(
        as_json,
        _as_staff(bank, user),
        lambda s, a: LoanApplicationOut.build(
            s,
            applications.review(
                s,
                a,
                application,
                action=action.value,
                note=note,
                conditions=condition or [],
                on=_opt_date(on, "on"),
            ),
        ),
        _show_application,
    )


@loan_app.command("condition-met")
def loan_condition_met_cmd(
    application: Annotated[str, typer.Argument(help="application id")],
    number: Annotated[int, typer.Argument(metavar="N", help="the condition's number, from 1")],
    bank: BankReq,
    note: Annotated[str, typer.Option(help="how it was met")],
    as_json: JsonOpt = False,
) -> None:
    """Mark an approval condition met."""
    from chainfin.resources.lending import LoanApplicationOut
    from chainfin.services.lending import applications

    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: LoanApplicationOut.build(
            s, applications.meet_condition(s, a, application, number, note=note)
        ),
        _show_application,
    )


@loan_app.command("withdraw")
def loan_withdraw_cmd(
    application: Annotated[str, typer.Argument(help="application id")],
    as_uscc: Annotated[str, typer.Option("--as", help="the applicant (USCC)")],
    as_json: JsonOpt = False,
) -> None:
    """The applicant withdraws before disbursement; an approval's hold is given back."""
    from chainfin.resources.lending import LoanApplicationOut
    from chainfin.services.lending import applications

    _run(
        as_json,
        _as_enterprise(as_uscc),
        lambda s, a: LoanApplicationOut.build(s, applications.withdraw(s, a, application)),
        _show_application,
    )


# ---------------------------------------------------------------------------- due diligence


@loan_app.command("tasks")
def loan_tasks_cmd(
    bank: BankReq,
    state: Annotated[str | None, typer.Option(help="open, completed, cancelled")] = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The bank's due-diligence tasks."""
    from chainfin.resources.lending import DueDiligenceTaskOut
    from chainfin.services.lending import tasks

    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: page_of(
            tasks.tasks(s, a, state=state, cursor=cursor, limit=limit), DueDiligenceTaskOut.build
        ),
        _paged(_show_tasks),
    )


@loan_app.command("site-visit")
def loan_site_visit_cmd(
    task: Annotated[str, typer.Argument(help="task id")],
    bank: BankReq,
    checklist: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="JSON checklist of the visit")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Record a site visit from its checklist (premises, stock, production, findings, GPS,
    time, attachment digests)."""
    from chainfin.resources.lending import DueDiligenceTaskOut
    from chainfin.services.lending import tasks

    def work(s: Session, a: Principal) -> DueDiligenceTaskOut:
        data = _json_file(checklist, "checklist")
        if not isinstance(data, dict):
            raise ValidationFailed(
                [FieldError("checklist", "must be a JSON object")], code="body_invalid"
            )
        return DueDiligenceTaskOut.build(tasks.complete_site_visit(s, a, task, data))

    _run(as_json, _as_bank(bank), work, _show_task)


@loan_app.command("financial-analysis")
def loan_financial_analysis_cmd(
    task: Annotated[str, typer.Argument(help="task id")],
    bank: BankReq,
    statements_file: Annotated[
        Path,
        typer.Option("--statements", exists=True, dir_okay=False, help="CSV item,amount or JSON"),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Analyse the applicant's financial statements: ratios, consistency, and reported
    revenue against the sales seen on the platform."""
    from chainfin.resources.lending import DueDiligenceTaskOut
    from chainfin.services.lending import tasks

    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: DueDiligenceTaskOut.build(
            tasks.complete_financial_analysis(s, a, task, _text_file(statements_file, "statements"))
        ),
        _show_task,
    )


# ---------------------------------------------------------------------------- money movements


@loan_app.command("disburse")
def loan_disburse_cmd(
    bank: BankReq,
    debtor_name: Annotated[str, typer.Option(help="the bank's settlement account name")],
    debtor_account: Annotated[str, typer.Option(help="the bank's settlement account")],
    debtor_agent: Annotated[str, typer.Option(help="the bank's 12-digit CNAPS code")],
    execution_on: DateOpt,
    out_file: Annotated[Path, typer.Option("--out", dir_okay=False, help="where the XML goes")],
    loan: Annotated[
        list[str] | None, typer.Option("--loan", help="only these loans; repeat")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write one pain.001.001.09 file paying every approved loan ready to go (or those named);
    the loans start on the execution date. The file is written in the same transaction: if
    it cannot be written, nothing is disbursed."""
    from chainfin.resources.lending import DisbursementFileOut
    from chainfin.services.lending import loans

    def work(s: Session, a: Principal) -> dict[str, Any]:
        row = loans.disburse(
            s,
            a,
            debtor_name=debtor_name,
            debtor_account=debtor_account,
            debtor_agent=debtor_agent,
            execution_on=_date(execution_on, "execution_on"),
            loan_ids=loan or None,
        )
        try:
            out_file.write_bytes(row.xml)
        except OSError as exc:
            raise ValidationFailed(
                [FieldError("out", f"cannot write {out_file}: {exc}")], code="file_unwritable"
            ) from None
        written = DisbursementFileOut.build(row, loans.disbursed_by(s, row))
        return {**written.model_dump(mode="json"), "file": str(out_file)}

    _run(as_json, _as_bank(bank), work, _show_disbursement)


@loan_app.command("statement-import")
def loan_statement_import_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="camt.053 XML")],
    bank: BankReq,
    as_json: JsonOpt = False,
) -> None:
    """Import the bank's account statement: confirm disbursements, apply repayments, and list
    every entry that did not match, with the reason (importing the same file again is a
    no-op)."""
    from chainfin.resources.lending import StatementImportOut
    from chainfin.services.lending import statements

    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: StatementImportOut.build(statements.import_statement(s, a, file.read_bytes())),
        _show_import,
        slow=f"importing {file.name}",
    )


# ---------------------------------------------------------------------------- loans


@loan_app.command("list")
def loan_list_cmd(
    bank: BankOpt = None,
    as_uscc: AsOpt = None,
    status: Annotated[str | None, typer.Option(help="approved, disbursed, current, …")] = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A bank's loans, or an enterprise's."""
    from chainfin.resources.lending import LoanOut
    from chainfin.services.lending import loans

    only = loans.LoanFilter(status=status)
    _run(
        as_json,
        _either(as_uscc, bank),
        lambda s, a: page_of(loans.loans(s, a, only, cursor=cursor, limit=limit), LoanOut.build),
        _paged(_show_loans),
    )


@loan_app.command("show")
def loan_show_cmd(
    loan: Annotated[str, typer.Argument(help="loan id")],
    bank: BankOpt = None,
    as_uscc: AsOpt = None,
    as_of: Annotated[str | None, typer.Option(help="position on this date (default today)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """One loan: schedule, what has been paid, where it stands on a day, its repayments."""
    from chainfin.resources.lending import LoanOut, RepaymentOut
    from chainfin.services.lending import loans
    from chainfin.services.pagination import MAX_LIMIT

    def work(s: Session, a: Principal) -> dict[str, Any]:
        day = _date(as_of, "as_of") if as_of else clock.today()
        row = loans.loan_for(s, a, loan)
        body = LoanOut.build(row, loans.position(row, day) if row.start_on else None)
        paid = loans.repayments(s, row, limit=MAX_LIMIT).items
        return {
            **body.model_dump(mode="json"),
            "repayments": [RepaymentOut.build(r).model_dump(mode="json") for r in paid],
        }

    _run(as_json, _either(as_uscc, bank), work, _show_loan)


@loan_app.command("repay")
def loan_repay_cmd(
    loan: Annotated[str, typer.Argument(help="loan id")],
    bank: BankReq,
    amount: Annotated[str, typer.Option()],
    value_on: DateOpt,
    source_ref: Annotated[
        str | None, typer.Option(help="statement entry key: applied once only")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply money received: penalty, interest, then principal; any excess is held."""
    from chainfin.resources.lending import RepaymentOut
    from chainfin.services.lending import loans

    def work(s: Session, a: Principal) -> RepaymentOut:
        currency = loans.loan_for(s, a, loan).currency
        row = loans.repay(
            s,
            a,
            loan,
            amount=_money(amount, "amount", currency),
            value_on=_date(value_on, "value_on"),
            source="manual",
            source_ref=source_ref,
        )
        return RepaymentOut.build(row)

    _run(as_json, _as_bank(bank), work, _show_repayment)


class PrepayOption(StrEnum):
    REDUCE_INSTALMENT = "reduce_instalment"
    SHORTEN_TERM = "shorten_term"


@loan_app.command("prepay")
def loan_prepay_cmd(
    loan: Annotated[str, typer.Argument(help="loan id")],
    bank: BankReq,
    principal: Annotated[str, typer.Option(help="principal repaid early")],
    on: DateOpt,
    option: Annotated[PrepayOption, typer.Option()] = PrepayOption.REDUCE_INSTALMENT,
    as_json: JsonOpt = False,
) -> None:
    """Repay principal early with interest on it to date; the rest is re-amortised."""
    from chainfin.resources.lending import RepaymentOut
    from chainfin.services.lending import loans

    def work(s: Session, a: Principal) -> RepaymentOut:
        currency = loans.loan_for(s, a, loan).currency
        row = loans.prepay(
            s,
            a,
            loan,
            principal=_money(principal, "principal", currency),
            on=_date(on, "on"),
            option=option.value,
        )
        return RepaymentOut.build(row)

    _run(as_json, _as_bank(bank), work, _show_repayment)


@loan_app.command("extend")
def loan_extend_cmd(
    loan: Annotated[str, typer.Argument(help="loan id")],
    bank: BankReq,
    user: UserOpt,
    months: Annotated[int, typer.Option()],
    on: DateOpt,
    as_json: JsonOpt = False,
) -> None:
    """Extend a loan once (展期), a credit decision by staff with approval authority."""
    from chainfin.resources.lending import LoanOut
    from chainfin.services.lending import loans

    _run(
        as_json,
        _as_staff(bank, user),
        lambda s, a: LoanOut.build(loans.extend(s, a, loan, months=months, on=_date(on, "on"))),
        _show_loan,
    )


@loan_app.command("accrue")
def loan_accrue_cmd(bank: BankReq, as_of: DateOpt, as_json: JsonOpt = False) -> None:
    """Accrue interest on every active loan through a date (daily job)."""
    from chainfin.resources.lending import AccrualRunOut
    from chainfin.services.lending import loans

    def work(s: Session, a: Principal) -> AccrualRunOut:
        day = _date(as_of, "as_of")
        return AccrualRunOut(as_of=day, journals=loans.accrue(s, a, day))

    _run(
        as_json,
        _as_bank(bank),
        work,
        lambda b: out.print(f"{b['journals']:,} accrual journal(s) posted"),
        slow="accruing interest",
    )


@loan_app.command("scan")
def loan_scan_cmd(bank: BankReq, as_of: DateOpt, as_json: JsonOpt = False) -> None:
    """Days past due, five-category classification and alerts (daily job)."""
    from chainfin.resources.lending import LoanScanOut
    from chainfin.services.lending import loans

    def work(s: Session, a: Principal) -> LoanScanOut:
        day = _date(as_of, "as_of")
        return LoanScanOut(as_of=day, **loans.scan(s, a, day))

    _run(
        as_json,
        _as_bank(bank),
        work,
        lambda b: out.print(", ".join(f"{k} {v:,}" for k, v in b.items() if isinstance(v, int))),
        slow="scanning loans",
    )


@loan_app.command("lapse")
def loan_lapse_cmd(bank: BankReq, as_json: JsonOpt = False) -> None:
    """Cancel approvals whose limit hold expired undrawn, releasing line and registry."""
    from chainfin.resources.lending import LapseRunOut
    from chainfin.services.lending import applications

    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: LapseRunOut(lapsed=applications.lapse(s, a)),
        lambda b: out.print(f"{b['lapsed']} approval(s) lapsed"),
    )


@loan_app.command("release-goods")
def loan_release_goods_cmd(
    loan: Annotated[str, typer.Argument(help="loan id")],
    bank: BankReq,
    value: Annotated[str, typer.Option(help="value of the goods released")],
    note: Annotated[str, typer.Option()],
    as_json: JsonOpt = False,
) -> None:
    """Dealer financing: release goods in step with what the dealer has repaid."""
    from chainfin.resources.lending import GoodsReleaseOut
    from chainfin.services.lending import loans

    def work(s: Session, a: Principal) -> GoodsReleaseOut:
        currency = loans.loan_for(s, a, loan).currency
        row = loans.release_goods(s, a, loan, value=_money(value, "value", currency), note=note)
        return GoodsReleaseOut.build(row)

    _run(
        as_json,
        _as_bank(bank),
        work,
        lambda b: out.print(
            f"released goods worth {_a(b['value'], b['currency'])} on loan {b['loan_id']}"
        ),
    )


@loan_app.command("buy-back")
def loan_buy_back_cmd(
    loan: Annotated[str, typer.Argument(help="loan id")],
    bank: BankReq,
    on: DateOpt,
    as_json: JsonOpt = False,
) -> None:
    """Call the core's buy-back guarantee on an overdue dealer loan."""
    from chainfin.resources.lending import RepaymentOut
    from chainfin.services.lending import loans

    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: RepaymentOut.build(loans.buy_back(s, a, loan, on=_date(on, "on"))),
        _show_repayment,
    )


PlatformSourceOpt = Annotated[
    str | None,
    typer.Option("--platform-source", help="a platform price source's code (the operator)"),
]


def _price_owner(bank: str | None, platform_source: str | None) -> Actor:
    if (bank is None) == (platform_source is None):
        raise typer.BadParameter("give one of --bank (its own prices) or --platform-source")
    return _as_bank(bank) if bank else lambda s: SYSTEM


@price_app.command("set")
def loan_price_set_cmd(
    item: Annotated[str, typer.Option(help="e.g. copper foil")],
    on: DateOpt,
    price: Annotated[str, typer.Option(help="per unit")],
    unit: Annotated[str, typer.Option(help="e.g. t")],
    source: Annotated[str, typer.Option(help="e.g. SHFE settlement")],
    bank: BankOpt = None,
    platform_source: PlatformSourceOpt = None,
    note: Annotated[str | None, typer.Option(help="why, for a correction")] = None,
    currency: CurOpt = "CNY",
    as_json: JsonOpt = False,
) -> None:
    """Record a price of pledged goods: the bank's own (--bank), or, as the operator, a
    platform source's (--platform-source). A different price for the same item and day is
    a correction, recorded as the next version."""
    from chainfin.resources.lending import CommodityPriceOut
    from chainfin.services.lending.underlying import set_price

    _run(
        as_json,
        _price_owner(bank, platform_source),
        lambda s, a: CommodityPriceOut.build(
            set_price(
                s,
                a,
                item=item,
                on=_date(on, "on"),
                price=_money(price, "price", currency),
                unit=unit,
                source=source,
                platform_source=platform_source,
                note=note,
            )
        ),
        lambda p: out.print(
            f"{escape(p['item'])} on {p['on']} (version {p['version']}): "
            f"{_a(p['price'], p['currency'])} per "
            f"{escape(p['unit'])} ({escape(p['source'])})"
        ),
    )


def _show_prices(rows: list[dict[str, Any]]) -> None:
    table(
        "prices of pledged goods",
        [
            Col("item"),
            Col("on", "date"),
            Col("v", "number"),
            Col("price", "amount"),
            Col("per", "code"),
            Col("source", drop=1),
        ],
        [
            [
                p["item"],
                p["on"],
                p["version"],
                {"amount": p["price"], "currency": p["currency"]},
                p["unit"],
                p["source"],
            ]
            for p in rows
        ],
        empty="no prices",
    )


@price_app.command("list")
def loan_price_list_cmd(
    bank: BankOpt = None,
    platform_source: PlatformSourceOpt = None,
    item: Annotated[str | None, typer.Option(help="one item only")] = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A bank's own prices (--bank) or a platform source's, every version, in the order
    recorded."""
    from chainfin.resources.lending import CommodityPriceOut
    from chainfin.services.lending import prices as prices_service

    _run(
        as_json,
        _price_owner(bank, platform_source),
        lambda s, a: page_of(
            prices_service.prices(
                s, a, item=item, platform_source=platform_source, cursor=cursor, limit=limit
            ),
            CommodityPriceOut.build,
        ),
        _paged(_show_prices),
    )


@price_app.command("source")
def loan_price_source_cmd(
    code: Annotated[str, typer.Argument(help="e.g. SHFE")],
    name: Annotated[str, typer.Option(help="e.g. Shanghai Futures Exchange settlement")],
    as_json: JsonOpt = False,
) -> None:
    """Create a named platform price source (the operator); a product names it as its
    ``price_source`` to value collateral at its prices."""
    from chainfin.resources.lending import PriceSourceOut
    from chainfin.services.lending import prices as prices_service

    _run(
        as_json,
        lambda s: SYSTEM,
        lambda s, a: PriceSourceOut.build(prices_service.create_source(s, a, code=code, name=name)),
        lambda r: out.print(f"price source {escape(r['code'])}: {escape(r['name'])}"),
    )


# ---------------------------------------------------------------------------- books gl


class GlFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


def _gl_summary(rows: list[dict[str, str]]) -> dict[str, Any]:
    totals: dict[str, dict[str, Decimal]] = {}
    for r in rows:
        t = totals.setdefault(r["currency"], {"debit": Decimal(0), "credit": Decimal(0)})
        t["debit"] += Decimal(r["debit"])
        t["credit"] += Decimal(r["credit"])
    return {
        "rows": len(rows),
        "journals": len({r["journal_id"] for r in rows}),
        "totals": {
            c: {"debit": str(t["debit"]), "credit": str(t["credit"])}
            for c, t in sorted(totals.items())
        },
        "balanced": all(t["debit"] == t["credit"] for t in totals.values()),
    }


@books_app.command("gl")
def books_gl_cmd(
    bank: BankReq,
    since: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    fmt: Annotated[GlFormat | None, typer.Option("--format", help="csv (default) or json")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", dir_okay=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """The bank's general-ledger export: every journal line in value-date order, debit and
    credit in their own columns. To stdout (JSON with --json), or to --out with a summary."""
    from chainfin.adapters.formats.tabular import TabularFormat, write_rows
    from chainfin.services import books

    chosen = fmt or (GlFormat.JSON if as_json else GlFormat.CSV)

    def work(s: Session, a: Principal) -> list[dict[str, str]]:
        return books.gl_rows(
            books.general_ledger(
                s, a, bank, since=_opt_date(since, "since"), until=_opt_date(until, "until")
            )
        )

    try:
        with operator_session() as session:
            rows = work(session, _bank(session, bank))
    except ChainfinError as exc:
        fail(exc, as_json)
    data = write_rows(rows, TabularFormat(chosen.value), books.GL_COLUMNS)
    if out_file is None:
        typer.echo(data.decode("utf-8"), nl=False)
        return
    try:
        out_file.write_bytes(data)
    except OSError as exc:
        fail(ValidationFailed([FieldError("out", f"cannot write {out_file}: {exc}")]), as_json)
    summary = {"file": str(out_file), "format": chosen.value, **_gl_summary(rows)}
    if as_json:
        print_json(summary)
    else:
        totals = ", ".join(
            f"{c} Dr {t['debit']} Cr {t['credit']}" for c, t in summary["totals"].items()
        )
        out.print(
            f"wrote {escape(str(out_file))}: {summary['rows']} lines of {summary['journals']} "
            f"journals ({totals}) "
            + ("balanced" if summary["balanced"] else "[red]NOT BALANCED[/red]")
        )


# For the other command modules that act as a bank the same way (``chainfin risk …``).
run_as = _run
bank_actor = _as_bank
