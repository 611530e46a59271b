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
from typing import Annotated, Any

import typer
from fastapi.encoders import jsonable_encoder
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Bank,
    CommodityPrice,
    CreditLine,
    CreditSublimit,
    DisbursementFile,
    ExposureCap,
    GoodsRelease,
    Loan,
    User,
)
from chainfin.adapters.formats.tabular import TabularFormat, write_rows
from chainfin.cli.common import fail, operator_session, out, print_json
from chainfin.cli.credentials import books_app
from chainfin.domain import clock
from chainfin.domain.access import SYSTEM, Principal, PrincipalKind, Scope, StaffRole
from chainfin.domain.errors import ChainfinError, FieldError, ValidationFailed
from chainfin.domain.money import Money, MoneyError
from chainfin.services import books, registry
from chainfin.services.lending import applications, lines, loans, products, statements, tasks
from chainfin.services.lending import prices as prices_service
from chainfin.services.lending.applications import Payment
from chainfin.services.lending.underlying import set_price

line_app = typer.Typer(help="Credit lines, sub-limits and exposure caps", no_args_is_help=True)
product_app = typer.Typer(help="Loan products and credit authority", no_args_is_help=True)
loan_app = typer.Typer(help="Loan applications, disbursement and servicing", no_args_is_help=True)
price_app = typer.Typer(help="Prices of pledged goods", no_args_is_help=True)
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

Actor = Callable[[Session], Principal]


# ---------------------------------------------------------------------------- actors


def _bank_row(session: Session, code: str) -> Bank:
    row = session.scalar(select(Bank).where(Bank.code == code))
    if row is None:
        raise ValidationFailed([FieldError("--bank", f"no bank {code!r}")])
    return row


def _enterprise(session: Session, uscc: str) -> Principal:
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
            raise ValidationFailed([FieldError("--as/--bank", "give one of them")])
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

    def actor(session: Session) -> Principal:
        bank = _bank_row(session, code)
        user = session.scalar(select(User).where(User.username == username))
        if user is None or user.bank_id != bank.id or user.kind != "staff":
            raise ValidationFailed(
                [FieldError("--user", f"no staff member {username!r} at {code}")]
            )
        if not user.active:
            raise ValidationFailed([FieldError("--user", f"{username!r} is deactivated")])
        roles = [StaffRole(r) for r in user.roles if r in STAFF_ROLES]
        return Principal.staff(user.id, bank_id=bank.id, roles=roles)

    return actor


def _run(
    as_json: bool,
    actor: Actor,
    work: Callable[[Session, Principal], Any],
    show: Callable[[Any], None] | None = None,
) -> Any:
    """One transaction: resolve the actor, do the work, print the result (JSON, or ``show``
    for people). Errors print what went wrong and what to do, and exit 1; nothing is written."""
    try:
        with operator_session() as session:
            result = jsonable_encoder(work(session, actor(session)))
    except ChainfinError as exc:
        fail(exc, as_json)
    if as_json or show is None:
        print_json(result)
    else:
        show(result)
    return result


# ---------------------------------------------------------------------------- parsing


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed([FieldError(field, f"{text!r} is not a date YYYY-MM-DD")]) from None


def _opt_date(text: str | None, field: str) -> date | None:
    return _date(text, field) if text else None


def _money(text: str, field: str, currency: str = "CNY") -> Money:
    try:
        return Money.parse(text, currency)
    except MoneyError as exc:
        raise ValidationFailed([FieldError(field, exc.message)]) from None


def _json_file(path: Path, field: str) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(
            [FieldError(field, f"{path.name}: not readable JSON ({exc})")]
        ) from None


def _text_file(path: Path, field: str) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            [FieldError(field, f"{path.name}: not readable text ({exc})")]
        ) from None


# ---------------------------------------------------------------------------- shapes


def _a(amount: Mapping[str, str]) -> str:
    return f"{amount['amount']} {amount['currency']}"


def sublimit_out(sub: CreditSublimit, currency: str) -> dict[str, Any]:
    return {
        "id": sub.id,
        "line_id": sub.line_id,
        "product_kind": sub.product_kind,
        "member_id": sub.member_id,
        "limit": Money(sub.limit_minor, currency).as_dict(),
        "pending": Money(sub.pending_minor, currency).as_dict(),
        "posted": Money(sub.posted_minor, currency).as_dict(),
        "available": Money(
            sub.limit_minor - sub.pending_minor - sub.posted_minor, currency
        ).as_dict(),
    }


def _sublimits(session: Session, line: CreditLine) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(CreditSublimit)
        .where(CreditSublimit.line_id == line.id)
        .order_by(CreditSublimit.created_at, CreditSublimit.id)
    )
    return [sublimit_out(s, line.currency) for s in rows]


def cap_out(session: Session, cap: ExposureCap) -> dict[str, Any]:
    cur = cap.currency
    return {
        "id": cap.id,
        "bank_id": cap.bank_id,
        "kind": cap.kind,
        "name": cap.name,
        "core_id": cap.core_id,
        "members": sorted(lines.cap_members(session, cap.id)),
        "cap": Money(cap.cap_minor, cur).as_dict(),
        "used": Money(cap.used_minor, cur).as_dict(),
        "available": Money(cap.cap_minor - cap.used_minor, cur).as_dict(),
        "created_by": cap.created_by,
        "created_at": cap.created_at.isoformat(),
    }


def disbursement_out(session: Session, row: DisbursementFile, path: Path) -> dict[str, Any]:
    paid = session.scalars(
        select(Loan).where(Loan.disbursement_id == row.id).order_by(Loan.created_at)
    )
    return {
        "id": row.id,
        "message_id": row.message_id,
        "execution_on": row.execution_on.isoformat(),
        "count": row.count,
        "total": Money(row.total_minor, row.currency).as_dict(),
        "digest": row.digest,
        "file": str(path),
        "loans": [
            {
                "id": loan.id,
                "end_to_end_id": loan.end_to_end_id,
                "principal": Money(loan.principal_minor, loan.currency).as_dict(),
                "payee_name": loan.payee_name,
            }
            for loan in paid
        ],
    }


def release_out(row: GoodsRelease) -> dict[str, Any]:
    return {
        "id": row.id,
        "loan_id": row.loan_id,
        "value": Money(row.value_minor, row.currency).as_dict(),
        "note": row.note,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
    }


def price_out(row: CommodityPrice) -> dict[str, Any]:
    return {
        "id": row.id,
        "owner": row.owner,
        "item": row.item,
        "on": row.on.isoformat(),
        "version": row.version,
        "price": Money(row.price_minor, row.currency).as_dict(),
        "unit": row.unit,
        "source": row.source,
        "note": row.note,
    }


# ---------------------------------------------------------------------------- people's views


def _table(title: str, columns: list[str], rows: list[list[str]], empty: str) -> None:
    if not rows:
        out.print(empty)
        return
    table = Table(title=title)
    for n, col in enumerate(columns):
        table.add_column(col, no_wrap=n == 0)  # the id stays whole, to copy and paste
    for row in rows:
        table.add_row(*(escape(str(c)) for c in row))
    out.print(table)


def _show_line(line: dict[str, Any]) -> None:
    out.print(
        f"line {line['id']}  {line['status']}  limit {_a(line['limit'])}  "
        f"reserved {_a(line['pending'])}  drawn {_a(line['posted'])}  "
        f"available {_a(line['available'])}\n"
        f"  obligor {line['obligor_id']}  core {line['core_id']}"
        + (f"  guarantor {line['guarantor_id']}" if line["guarantor_id"] else "")
        + f"\n  {line['starts_on']} to {line['expires_on']}, "
        + ("revolving" if line["revolving"] else "one-off")
        + (f"  ({escape(line['status_reason'])})" if line["status_reason"] else "")
    )
    for sub in line.get("sublimits", []):
        _show_sublimit(sub)


def _show_sublimit(sub: dict[str, Any]) -> None:
    what = " ".join(
        x
        for x in (
            sub["product_kind"] or "",
            f"member {sub['member_id']}" if sub["member_id"] else "",
        )
        if x
    )
    out.print(
        f"  sub-limit {sub['id']}  {what}  limit {_a(sub['limit'])}  "
        f"available {_a(sub['available'])}"
    )


def _show_lines(rows: list[dict[str, Any]]) -> None:
    _table(
        "credit lines",
        ["id", "status", "obligor", "limit", "available", "expires"],
        [
            [
                r["id"],
                r["status"],
                r["obligor_id"],
                _a(r["limit"]),
                _a(r["available"]),
                r["expires_on"],
            ]
            for r in rows
        ],
        "no credit lines",
    )


def _show_cap(cap: dict[str, Any]) -> None:
    who = f"core {cap['core_id']}" if cap["core_id"] else f"group {', '.join(cap['members'])}"
    out.print(
        f"cap {cap['id']}  {escape(cap['name'])}  {who}  cap {_a(cap['cap'])}  "
        f"used {_a(cap['used'])}  available {_a(cap['available'])}"
    )


def _show_caps(rows: list[dict[str, Any]]) -> None:
    _table(
        "exposure caps",
        ["id", "name", "kind", "cap", "used", "available"],
        [
            [r["id"], r["name"], r["kind"], _a(r["cap"]), _a(r["used"]), _a(r["available"])]
            for r in rows
        ],
        "no exposure caps",
    )


def _show_products(rows: list[dict[str, Any]]) -> None:
    _table(
        "loan products",
        ["code", "name", "kind", "status", "id"],
        [[r["code"], r["name"], r["kind"], r["status"], r["id"]] for r in rows],
        "no loan products",
    )


def _show_application(app: dict[str, Any]) -> None:
    decision = app["decision"] or {}
    out.print(
        f"application {app['id']}  {app['status']}  {_a(app['amount'])}  "
        f"{app['tenor_months']} months {app['method']}\n"
        f"  underlying {app['underlying']['kind']} {app['underlying']['ref']} "
        f"worth {_a(app['underlying']['value'])}  score {decision.get('score', {}).get('points')}"
    )
    for reason in decision.get("reasons", []):
        out.print(
            f"  {reason.get('outcome', '')} {reason.get('code', '')}: "
            f"{escape(str(reason.get('message', '')))}"
        )
    for task in app["tasks"]:
        out.print(f"  task {task['id']}  {task['kind']}  {task['state']}")
    for step in app["approvals"]:
        out.print(
            f"  {step['step']} {step['action']} by {step['user_id']} (level {step['level']}): "
            f"{escape(step['note'])}"
        )
    for n, cond in enumerate(app["conditions"], 1):
        out.print(f"  condition {n}: {escape(cond['text'])}  {'met' if cond['met'] else 'open'}")
    if app["loan_id"]:
        out.print(f"  loan {app['loan_id']}")


def _show_applications(rows: list[dict[str, Any]]) -> None:
    _table(
        "loan applications",
        ["id", "status", "applicant", "amount", "underlying", "loan"],
        [
            [
                r["id"],
                r["status"],
                r["applicant_id"],
                _a(r["amount"]),
                f"{r['underlying']['kind']} {r['underlying']['ref']}",
                r["loan_id"] or "",
            ]
            for r in rows
        ],
        "no applications",
    )


def _show_task(task: dict[str, Any]) -> None:
    out.print(
        f"task {task['id']}  {task['kind']}  {task['state']}  "
        f"application {task['application_id']}  because {', '.join(task['reasons'])}"
    )
    result = task["result"] or {}
    for concern in result.get("concerns", []):
        out.print(f"  [yellow]concern[/yellow] {escape(concern)}")
    for finding in result.get("findings", []) if isinstance(result.get("findings"), list) else []:
        out.print(f"  {finding['severity']} {finding['code']}: {escape(finding['message'])}")


def _show_tasks(rows: list[dict[str, Any]]) -> None:
    _table(
        "due-diligence tasks",
        ["id", "kind", "state", "application", "reasons"],
        [
            [r["id"], r["kind"], r["state"], r["application_id"], ", ".join(r["reasons"])]
            for r in rows
        ],
        "no tasks",
    )


def _show_loan(loan: dict[str, Any]) -> None:
    out.print(
        f"loan {loan['id']} ({loan['reference']})  {loan['status']}  {loan['category']}  "
        f"{_a(loan['principal'])} at {loan['annual_rate']}% ({loan['day_count']})  "
        f"{loan['product_kind']}\n"
        f"  {loan['term_months']} months {loan['method']}, "
        f"{loan['start_on'] or 'not disbursed'} to {loan['maturity_on'] or '-'}  "
        f"dpd {loan['dpd']}" + (f"  flags {', '.join(loan['flags'])}" if loan["flags"] else "")
    )
    if loan["schedule"]:
        table = Table(title="schedule")
        for col in ("#", "from", "due", "principal", "interest", "balance after"):
            table.add_column(col, justify="right" if col not in ("from", "due") else "left")
        for r in loan["schedule"]:
            table.add_row(
                str(r["number"]),
                r["starts_on"],
                r["due_on"],
                r["principal"]["amount"],
                r["interest"]["amount"],
                r["balance_after"]["amount"],
            )
        out.print(table)
    paid = loan["paid"]
    out.print(
        f"  paid: principal {_a(paid['principal'])}, prepaid {_a(paid['prepaid'])}, "
        f"interest {_a(paid['interest'])}, penalty {_a(paid['penalty'])}"
    )
    if "position" in loan:
        pos = loan["position"]
        out.print(
            f"  as of {pos['as_of']}: outstanding {_a(pos['principal_outstanding'])}; due "
            f"principal {_a(pos['principal_due'])}, interest {_a(pos['interest_due'])}, "
            f"penalty {_a(pos['penalty_due'])}, total {_a(pos['total_due'])}; dpd {pos['dpd']}"
        )
    for r in loan.get("repayments", []):
        _show_repayment(r)


def _show_loans(rows: list[dict[str, Any]]) -> None:
    _table(
        "loans",
        ["id", "status", "borrower", "principal", "kind", "start", "maturity", "dpd"],
        [
            [
                r["id"],
                r["status"],
                r["borrower_id"],
                _a(r["principal"]),
                r["product_kind"],
                r["start_on"] or "",
                r["maturity_on"] or "",
                str(r["dpd"]),
            ]
            for r in rows
        ],
        "no loans",
    )


def _show_repayment(r: dict[str, Any]) -> None:
    out.print(
        f"  repayment {r['id']} on {r['value_on']}: {_a(r['amount'])} = penalty "
        f"{r['penalty']['amount']} + interest {r['interest']['amount']} + principal "
        f"{r['principal']['amount']} + prepaid {r['prepaid']['amount']} + excess "
        f"{r['excess']['amount']}  ({r['source']})"
    )


def _show_disbursement(body: dict[str, Any]) -> None:
    out.print(
        f"wrote {escape(body['file'])}: pain.001 {body['message_id']}, {body['count']} "
        f"payment(s), {_a(body['total'])}, execution {body['execution_on']}"
    )
    for loan in body["loans"]:
        out.print(
            f"  {loan['id']}  {loan['end_to_end_id']}  {_a(loan['principal'])}  "
            f"to {escape(loan['payee_name'])}"
        )


def _show_import(body: dict[str, Any]) -> None:
    out.print(
        f"statement import {body['id']} ({body['version']}): {len(body['matched'])} matched, "
        f"{len(body['unmatched'])} unmatched"
    )
    for m in body["matched"]:
        out.print(
            f"  entry {m['entry']}  [green]{m['kind']}[/green]  {_a(m['amount'])}  "
            f"loan {m['loan_id']}  ({escape(m['basis'])})"
        )
    for u in body["unmatched"]:
        side = "credit" if u["credit"] else "debit"
        out.print(
            f"  entry {u['entry']}  [yellow]{u['reason']}[/yellow]  {side} {_a(u['amount'])} "
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
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: lines.line_out(
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
def line_list_cmd(as_uscc: AsOpt = None, bank: BankOpt = None, as_json: JsonOpt = False) -> None:
    """The bank's lines, or the lines an enterprise is party to."""
    _run(
        as_json,
        _either(as_uscc, bank),
        lambda s, a: [lines.line_out(x) for x in lines.lines(s, a)],
        _show_lines,
    )


@line_app.command("show")
def line_show_cmd(
    line: Annotated[str, typer.Argument(help="line id")],
    as_uscc: AsOpt = None,
    bank: BankOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One line with its sub-limits."""

    def work(s: Session, a: Principal) -> dict[str, Any]:
        row = lines.line_for(s, a, line)
        return {**lines.line_out(row), "sublimits": _sublimits(s, row)}

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

    def work(s: Session, a: Principal) -> dict[str, Any]:
        row = lines.line_for(s, a, line)
        sub = lines.add_sublimit(
            s,
            a,
            line,
            limit=_money(limit, "limit", row.currency),
            product_kind=product_kind,
            member=member,
        )
        return sublimit_out(sub, row.currency)

    _run(as_json, _as_bank(bank), work, _show_sublimit)


def _set_status(line: str, bank: str, status: str, reason: str, as_json: bool) -> None:
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: lines.line_out(lines.set_status(s, a, line, status=status, reason=reason)),
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
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: {"expired": lines.expire(s, a, _date(as_of, "as_of"))},
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
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: cap_out(
            s,
            lines.set_cap(
                s, a, name=name, cap=_money(cap, "cap", currency), core=core, members=member or []
            ),
        ),
        _show_cap,
    )


@line_app.command("caps")
def line_caps_cmd(bank: BankReq, as_json: JsonOpt = False) -> None:
    """The bank's exposure caps and what they have used."""
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: [cap_out(s, c) for c in lines.caps(s, a)],
        _show_caps,
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
    """Define a loan product from a kind's template, or from a configuration file."""

    def work(s: Session, a: Principal) -> dict[str, Any]:
        if (kind is None) == (config is None):
            raise ValidationFailed([FieldError("--kind/--config", "give one of them")])
        body: Any = {"kind": kind} if config is None else _json_file(config, "config")
        return products.product_out(products.define(s, a, code=code, name=name, config=body))

    _run(
        as_json,
        _as_bank(bank),
        work,
        lambda p: out.print(f"product {p['code']} ({p['kind']}) defined: {p['id']}"),
    )


@product_app.command("list")
def product_list_cmd(bank: BankReq, as_json: JsonOpt = False) -> None:
    """A bank's loan products."""
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: [products.product_out(p) for p in products.products(s, a)],
        _show_products,
    )


@product_app.command("authority")
def product_authority_cmd(
    bank: BankReq,
    user: Annotated[str, typer.Option(help="staff username")],
    level: Annotated[int, typer.Option(help="1 to 9")],
    as_json: JsonOpt = False,
) -> None:
    """Delegate credit authority of a level to one of the bank's staff (an admin's act)."""

    def work(s: Session, a: Principal) -> dict[str, Any]:
        products.grant_authority(s, a, user=user, level=level)
        person = s.scalar(select(User).where(User.username == user)) or s.get(User, user)
        user_id = person.id if person is not None else user
        return {
            "bank": bank,
            "user": user,
            "user_id": user_id,
            "level": products.authority_level(s, a.bank_id or "", user_id),
        }

    _run(
        as_json,
        _as_bank(bank, Scope.USERS_ADMIN),
        work,
        lambda b: out.print(
            f"{b['user']} ({b['user_id']}) holds credit authority level {b['level']}"
        ),
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
    _run(
        as_json,
        _as_enterprise(as_uscc),
        lambda s, a: applications.application_out(
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
    as_json: JsonOpt = False,
) -> None:
    """Applications to a bank, or an enterprise's own."""
    _run(
        as_json,
        _either(as_uscc, bank),
        lambda s, a: [
            applications.application_out(s, x)
            for x in applications.applications(s, a, status=status)
        ],
        _show_applications,
    )


@loan_app.command("application")
def loan_application_cmd(
    application: Annotated[str, typer.Argument(help="application id")],
    as_uscc: AsOpt = None,
    bank: BankOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One application with its decision, tasks, approvals and conditions."""
    _run(
        as_json,
        _either(as_uscc, bank),
        lambda s, a: applications.application_out(
            s, applications.application_for(s, a, application)
        ),
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
    _run(
        as_json,
        _as_staff(bank, user),
        lambda s, a: applications.application_out(
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
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: applications.application_out(
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
    _run(
        as_json,
        _as_enterprise(as_uscc),
        lambda s, a: applications.application_out(s, applications.withdraw(s, a, application)),
        _show_application,
    )


# ---------------------------------------------------------------------------- due diligence


@loan_app.command("tasks")
def loan_tasks_cmd(
    bank: BankReq,
    state: Annotated[str | None, typer.Option(help="open, completed, cancelled")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The bank's due-diligence tasks."""
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: [tasks.task_out(t) for t in tasks.tasks(s, a, state=state)],
        _show_tasks,
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

    def work(s: Session, a: Principal) -> dict[str, Any]:
        data = _json_file(checklist, "checklist")
        if not isinstance(data, dict):
            raise ValidationFailed([FieldError("checklist", "must be a JSON object")])
        return tasks.task_out(tasks.complete_site_visit(s, a, task, data))

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
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: tasks.task_out(
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
            raise ValidationFailed([FieldError("out", f"cannot write {out_file}: {exc}")]) from None
        return disbursement_out(s, row, out_file)

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
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: statements.import_out(statements.import_statement(s, a, file.read_bytes())),
        _show_import,
    )


# ---------------------------------------------------------------------------- loans


@loan_app.command("list")
def loan_list_cmd(
    bank: BankOpt = None,
    as_uscc: AsOpt = None,
    status: Annotated[str | None, typer.Option(help="approved, disbursed, current, …")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A bank's loans, or an enterprise's."""
    _run(
        as_json,
        _either(as_uscc, bank),
        lambda s, a: [loans.loan_out(x) for x in loans.loans(s, a, status=status)],
        _show_loans,
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

    def work(s: Session, a: Principal) -> dict[str, Any]:
        day = _date(as_of, "as_of") if as_of else clock.today()
        row = loans.loan_for(s, a, loan)
        body = loans.loan_out(row, day)
        body["repayments"] = [loans.repayment_out(r) for r in loans.repayments(s, row)]
        return body

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

    def work(s: Session, a: Principal) -> dict[str, Any]:
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
        return loans.repayment_out(row)

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

    def work(s: Session, a: Principal) -> dict[str, Any]:
        currency = loans.loan_for(s, a, loan).currency
        row = loans.prepay(
            s,
            a,
            loan,
            principal=_money(principal, "principal", currency),
            on=_date(on, "on"),
            option=option.value,
        )
        return loans.repayment_out(row)

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
    _run(
        as_json,
        _as_staff(bank, user),
        lambda s, a: loans.loan_out(loans.extend(s, a, loan, months=months, on=_date(on, "on"))),
        _show_loan,
    )


@loan_app.command("accrue")
def loan_accrue_cmd(bank: BankReq, as_of: DateOpt, as_json: JsonOpt = False) -> None:
    """Accrue interest on every active loan through a date (daily job)."""
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: {"journals": loans.accrue(s, a, _date(as_of, "as_of"))},
        lambda b: out.print(f"{b['journals']} accrual journal(s) posted"),
    )


@loan_app.command("scan")
def loan_scan_cmd(bank: BankReq, as_of: DateOpt, as_json: JsonOpt = False) -> None:
    """Days past due, five-category classification and alerts (daily job)."""
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: loans.scan(s, a, _date(as_of, "as_of")),
        lambda b: out.print(", ".join(f"{k} {v}" for k, v in b.items())),
    )


@loan_app.command("lapse")
def loan_lapse_cmd(bank: BankReq, as_json: JsonOpt = False) -> None:
    """Cancel approvals whose limit hold expired undrawn, releasing line and registry."""
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: {"lapsed": applications.lapse(s, a)},
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

    def work(s: Session, a: Principal) -> dict[str, Any]:
        currency = loans.loan_for(s, a, loan).currency
        row = loans.release_goods(s, a, loan, value=_money(value, "value", currency), note=note)
        return release_out(row)

    _run(
        as_json,
        _as_bank(bank),
        work,
        lambda b: out.print(f"released goods worth {_a(b['value'])} on loan {b['loan_id']}"),
    )


@loan_app.command("buy-back")
def loan_buy_back_cmd(
    loan: Annotated[str, typer.Argument(help="loan id")],
    bank: BankReq,
    on: DateOpt,
    as_json: JsonOpt = False,
) -> None:
    """Call the core's buy-back guarantee on an overdue dealer loan."""
    _run(
        as_json,
        _as_bank(bank),
        lambda s, a: loans.repayment_out(loans.buy_back(s, a, loan, on=_date(on, "on"))),
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
    _run(
        as_json,
        _price_owner(bank, platform_source),
        lambda s, a: price_out(
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
            f"{escape(p['item'])} on {p['on']} (version {p['version']}): {_a(p['price'])} per "
            f"{escape(p['unit'])} ({escape(p['source'])})"
        ),
    )


def _show_prices(rows: list[dict[str, Any]]) -> None:
    for p in rows:
        out.print(
            f"{escape(p['item'])} on {p['on']} v{p['version']}: {_a(p['price'])} per "
            f"{escape(p['unit'])} ({escape(p['source'])})"
        )


@price_app.command("list")
def loan_price_list_cmd(
    bank: BankOpt = None,
    platform_source: PlatformSourceOpt = None,
    item: Annotated[str | None, typer.Option(help="one item only")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A bank's own prices (--bank) or a platform source's, every version, latest first."""
    _run(
        as_json,
        _price_owner(bank, platform_source),
        lambda s, a: [
            price_out(r)
            for r in prices_service.prices(s, a, item=item, platform_source=platform_source)
        ],
        _show_prices,
    )


@price_app.command("source")
def loan_price_source_cmd(
    code: Annotated[str, typer.Argument(help="e.g. SHFE")],
    name: Annotated[str, typer.Option(help="e.g. Shanghai Futures Exchange settlement")],
    as_json: JsonOpt = False,
) -> None:
    """Create a named platform price source (the operator); a product names it as its
    ``price_source`` to value collateral at its prices."""
    _run(
        as_json,
        lambda s: SYSTEM,
        lambda s, a: {
            "code": (row := prices_service.create_source(s, a, code=code, name=name)).code,
            "name": row.name,
        },
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
