"""The ``chainfin`` command.

Operator commands act as the platform operator (no tenant restriction) on the database named
by ``CHAINFIN_DATABASE_URL`` (default: SQLite under ./var/). Errors print what went wrong
and what to do, and exit non-zero.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from sqlalchemy.orm import Session

from chainfin.adapters.db import migrate
from chainfin.adapters.db.crypto import FieldCipher
from chainfin.adapters.db.engine import make_engine
from chainfin.adapters.formats.tabular import TabularFormat, read_rows, write_rows
from chainfin.adapters.formats.ubl import parse_ubl
from chainfin.api.routers.credentials import trial_balance_out
from chainfin.cli import auth as auth_cli
from chainfin.cli import credentials as credentials_cli
from chainfin.cli import iot as iot_cli
from chainfin.cli import ledger as ledger_cli
from chainfin.cli import lending as lending_cli
from chainfin.cli.common import database_url, err, fail, operator_session, out
from chainfin.cli.risk import risk_app
from chainfin.config import get_settings, install_clock_from_environment
from chainfin.demo import credential_story, lending_story, risk_story
from chainfin.demo import seed as demo_seed
from chainfin.demo.synthetic import RegionKey, Scale, SyntheticRegion, generate
from chainfin.demo.timeline import Timeline
from chainfin.demo.trade_history import (
    TradeHistory,
    generate_history,
    read_truth,
    score,
    write_truth,
)
from chainfin.domain import clock
from chainfin.domain.access import SYSTEM, OwnerKind, Principal, PrincipalKind, Scope
from chainfin.domain.anomalies import AnomalyKind
from chainfin.domain.errors import ChainfinError
from chainfin.domain.registry_input import ENTERPRISE_FIELDS, RELATION_FIELDS
from chainfin.domain.uscc import check_uscc
from chainfin.services import auth, chains, checks, documents, ledger, registry
from chainfin.services.ubl_documents import ubl_to_row

app = typer.Typer(help="chainfin: industrial-internet finance platform", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations", no_args_is_help=True)
check_app = typer.Typer(help="Validate identifiers", no_args_is_help=True)
users_app = typer.Typer(help="Staff and enterprise users", no_args_is_help=True)
clients_app = typer.Typer(help="OAuth2 API clients", no_args_is_help=True)
registry_app = typer.Typer(help="Enterprises and supply relations", no_args_is_help=True)
chains_app = typer.Typer(help="Industrial chains", no_args_is_help=True)
demo_app = typer.Typer(help="Synthetic region and demo story", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (check_app, "check"),
    (users_app, "users"),
    (clients_app, "clients"),
    (registry_app, "registry"),
    (chains_app, "chains"),
    (demo_app, "demo"),
):
    app.add_typer(sub, name=name)
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(auth_cli.app, name="auth")
users_app.command("unlock")(auth_cli.users_unlock)
users_app.command("passwd")(auth_cli.users_passwd)
app.add_typer(credentials_cli.app, name="credential")
app.add_typer(credentials_cli.books_app, name="books")
app.add_typer(credentials_cli.rates_app, name="rates")
app.add_typer(credentials_cli.calendar_app, name="calendar")
app.add_typer(lending_cli.line_app, name="line")
app.add_typer(lending_cli.product_app, name="product")
app.add_typer(lending_cli.loan_app, name="loan")
app.add_typer(risk_app, name="risk")
app.add_typer(iot_cli.app, name="iot")


@app.callback()
def _start() -> None:
    """chainfin: industrial-internet finance platform."""
    try:
        setting = install_clock_from_environment()
    except ValueError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    if setting:
        err.print(
            f"clock: {clock.local_now():%Y-%m-%d %H:%M} China Standard Time from CHAINFIN_CLOCK="
            f"{setting}, not the system clock"
        )


class Kind(StrEnum):
    ENTERPRISES = "enterprises"
    RELATIONS = "relations"


class RegionChoice(StrEnum):
    YRD = "yrd"
    GBA = "gba"
    JJJ = "jjj"
    ALL = "all"


# ------------------------------------------------------------------ db


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (SQLite or PostgreSQL, from CHAINFIN_DATABASE_URL)."""
    migrate.upgrade(database_url(), revision)
    engine = make_engine(database_url())
    out.print(f"database at revision {migrate.current_revision(engine)}")
    engine.dispose()


@db_app.command("current")
def db_current() -> None:
    """Show the applied and the latest revision."""
    engine = make_engine(database_url())
    out.print(f"current {migrate.current_revision(engine)} · head {migrate.head_revision()}")
    engine.dispose()


@app.command("new-data-key")
def new_data_key(key_id: Annotated[str, typer.Option(help="alphanumeric key id")] = "k1") -> None:
    """Print a new field-encryption key for CHAINFIN_DATA_KEYS. To rotate, put the new key
    first and keep the old ones after it: new rows use the first, old rows stay readable."""
    print(FieldCipher.new_spec(key_id))  # noqa: T201 - the output is the key


# ------------------------------------------------------------------ check


@check_app.command("uscc")
def check_uscc_cmd(
    codes: Annotated[list[str], typer.Argument(help="统一社会信用代码, one or more")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Validate 统一社会信用代码 (GB 32100-2015). Exit 0 only if all are valid."""
    results = [check_uscc(c) for c in codes]
    if as_json:
        rows = [
            {
                "code": r.code,
                "input": c,
                "valid": r.valid,
                "reason": r.reason or None,
                "org_code_valid": r.org_code_valid,
                "region_code": r.region_code,
            }
            for c, r in zip(codes, results, strict=True)
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=1))  # noqa: T201
    else:
        for code, r in zip(codes, results, strict=True):
            verdict = "valid" if r.valid else f"invalid: {r.reason}"
            note = "" if r.org_code_valid is not False else " (advisory: GB 11714 check fails)"
            print(f"{code}\t{verdict}{note}")  # noqa: T201
    raise typer.Exit(0 if all(r.valid for r in results) else 1)


# ------------------------------------------------------------------ serve


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """Serve the API and pages (OpenAPI at /openapi.json, docs at /docs)."""
    import uvicorn

    out.print(f"chainfin serving on http://{host}:{port}  (database: {_redact(database_url())})")
    if workers > 1 and get_settings().rate_limit_storage.startswith("memory"):
        err.print(
            "[yellow]warning[/yellow]: each worker keeps its own sign-in throttles with "
            "memory://; set CHAINFIN_RATE_LIMIT_STORAGE=redis://HOST:6379 to share them"
        )
    uvicorn.run(
        "chainfin.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


def _redact(url: str) -> str:
    head, sep, tail = url.partition("@")
    return f"{head.split(':')[0]}://***@{tail}" if sep else url


# ------------------------------------------------------------------ users and clients


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="login name")],
    role: Annotated[list[str], typer.Option(help="repeat for several roles")],
    bank: Annotated[str | None, typer.Option(help="bank code, for bank staff")] = None,
    enterprise: Annotated[str | None, typer.Option(help="USCC, for enterprise users")] = None,
    display_name: Annotated[str | None, typer.Option()] = None,
    password: Annotated[
        str | None, typer.Option(envvar="CHAINFIN_NEW_PASSWORD", help="prompted when omitted")
    ] = None,
) -> None:
    """Create bank staff (roles: relationship_manager, risk_officer, approver, admin, auditor),
    an enterprise user (roles: enterprise_admin, finance_staff), or, with neither --bank nor
    --enterprise, one of the platform operator's people (roles: platform_operator, who writes
    the platform's price sources; platform_auditor, who reads every ledger entry)."""
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        with operator_session() as session:
            user = auth.create_user(
                session,
                SYSTEM,
                username=username,
                password=password,
                roles=role,
                bank_code=bank,
                enterprise_uscc=enterprise,
                display_name=display_name,
            )
            done = f"created {user.kind} user {user.username} ({user.id}) roles {user.roles}"
    except ChainfinError as exc:
        fail(exc)
    out.print(done)  # only once the transaction has committed


@clients_app.command("create")
def clients_create(
    name: Annotated[str, typer.Option(help="what the client is")],
    scope: Annotated[list[str], typer.Option(help="repeat: registry:read, registry:write, ...")],
    bank: Annotated[str | None, typer.Option(help="owner: bank code")] = None,
    enterprise: Annotated[str | None, typer.Option(help="owner: enterprise USCC")] = None,
    platform: Annotated[str | None, typer.Option(help="owner: platform code")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Register an OAuth2 client-credentials client. The secret is printed once."""
    owners = [
        (OwnerKind.BANK, bank),
        (OwnerKind.ENTERPRISE, enterprise),
        (OwnerKind.PLATFORM, platform),
    ]
    given = [(k, v) for k, v in owners if v]
    if len(given) != 1:
        err.print("give exactly one owner: --bank, --enterprise or --platform")
        raise typer.Exit(2)
    try:
        with operator_session() as session:
            client = auth.create_client(
                session,
                SYSTEM,
                name=name,
                owner_kind=given[0][0],
                owner=given[0][1] or "",
                scopes=scope,
            )
    except ChainfinError as exc:
        fail(exc, as_json)
    body = {
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "scopes": sorted(s.value for s in client.scopes),
    }
    if as_json:
        print(json.dumps(body))  # noqa: T201
    else:
        out.print(f"client_id     {body['client_id']}\nclient_secret {body['client_secret']}")
        out.print("[yellow]store the secret now: it is not shown again[/yellow]")


# ------------------------------------------------------------------ registry


@registry_app.command("import")
def registry_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    kind: Annotated[Kind, typer.Option(help="what the file holds")],
    fmt: Annotated[TabularFormat | None, typer.Option("--format")] = None,
    bank: Annotated[str | None, typer.Option(help="link enterprises to this bank")] = None,
    platform: Annotated[str | None, typer.Option(help="link enterprises to this platform")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import enterprises or relations from CSV / JSON / JSON Lines, all or nothing."""
    fmt = fmt or TabularFormat.from_filename(file.name)
    try:
        rows = read_rows(file.read_bytes(), fmt)
        with operator_session() as session:
            if kind is Kind.ENTERPRISES:
                records = registry.parse_enterprise_rows(rows.rows, first_row=rows.first_row)
                bank_id = registry.bank_by_code(session, bank).id if bank else None
                platform_id = registry.platform_by_code(session, platform).id if platform else None
                report = registry.import_enterprises(
                    session,
                    SYSTEM,
                    records,
                    first_row=rows.first_row,
                    link_bank_id=bank_id,
                    link_platform_id=platform_id,
                )
            else:
                rels = registry.parse_relation_rows(rows.rows, first_row=rows.first_row)
                report = registry.import_relations(session, SYSTEM, rels, first_row=rows.first_row)
    except ChainfinError as exc:
        fail(exc, as_json)
    body = report.as_dict()
    if as_json:
        print(json.dumps(body, ensure_ascii=False, indent=1))  # noqa: T201
    else:
        out.print(
            f"{kind.value}: {body['created']} created, {body['linked']} linked, "
            f"{body['unchanged']} unchanged"
        )


@registry_app.command("export")
def registry_export(
    kind: Annotated[Kind, typer.Option()],
    fmt: Annotated[TabularFormat, typer.Option("--format")] = TabularFormat.CSV,
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
) -> None:
    """Export everything in the import format (to stdout unless -o)."""
    with operator_session() as session:
        if kind is Kind.ENTERPRISES:
            data = write_rows(registry.export_enterprises(session, SYSTEM), fmt, ENTERPRISE_FIELDS)
        else:
            data = write_rows(registry.export_relations(session, SYSTEM), fmt, RELATION_FIELDS)
    if output:
        output.write_bytes(data)
        out.print(f"wrote {output}")
    else:
        sys.stdout.buffer.write(data)


# ------------------------------------------------------------------ documents


class IngestFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    JSON = "json"
    UBL = "ubl"


@app.command("ingest")
def ingest_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    as_uscc: Annotated[str, typer.Option("--as", help="the submitting enterprise's USCC")],
    fmt: Annotated[IngestFormat | None, typer.Option("--format")] = None,
    partial: Annotated[bool, typer.Option(help="write the good rows, report the bad")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingest trade documents (CSV, JSON, JSON Lines, or one UBL 2.1 / Peppol XML) as an
    enterprise. All or nothing unless --partial; exit 1 if any document was rejected."""
    suffix = file.suffix.lower().lstrip(".")
    chosen = fmt or (
        IngestFormat.UBL
        if suffix == "xml"
        else IngestFormat(suffix)
        if suffix in {"csv", "jsonl", "json"}
        else None
    )
    if chosen is None:
        err.print(f"cannot tell the format of {file.name}; use --format csv|jsonl|json|ubl")
        raise typer.Exit(2)
    data = file.read_bytes()
    try:
        if chosen is IngestFormat.UBL:
            rows, first = [ubl_to_row(parse_ubl(data))], 1
        else:
            parsed = read_rows(data, TabularFormat(chosen.value))
            rows, first = parsed.rows, parsed.first_row
        with operator_session() as session:
            enterprise = registry.enterprise_by_uscc(session, as_uscc)
            actor = Principal(
                PrincipalKind.ENTERPRISE_USER,
                "cli",
                enterprise_id=enterprise.id,
                scopes=frozenset({Scope.DOCUMENTS_WRITE, Scope.DOCUMENTS_READ}),
            )
            report = documents.ingest(
                session, actor, documents.parse_rows(rows, first_row=first), partial=partial
            )
    except ChainfinError as exc:
        fail(exc, as_json)
    body = report.as_dict()
    if as_json:
        print(json.dumps(body, ensure_ascii=False, indent=1))  # noqa: T201
    else:
        for row in report.rows:
            if row.status == "rejected":
                for e in row.errors:
                    out.print(f"row {row.row}: [red]rejected[/red] {escape(str(e))}")
            else:
                out.print(f"row {row.row}: {row.status} {row.key} ({row.document_id})")
        out.print(
            f"{body['accepted']} accepted, {body['unchanged']} unchanged, "
            f"{body['rejected']} rejected"
        )
    raise typer.Exit(1 if body["rejected"] else 0)


checks_app = typer.Typer(help="Authenticity and fraud checks", no_args_is_help=True)
app.add_typer(checks_app, name="checks")


@checks_app.command("run")
def checks_run(
    truth: Annotated[Path | None, typer.Option(help="score against a ground-truth file")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run every check over every document on file; with --truth, print precision and
    recall per kind against planted anomalies."""
    t0 = time.perf_counter()
    with operator_session() as session:
        findings = checks.run(session)
    seconds = time.perf_counter() - t0
    counts = Counter(f.kind.value for f in findings)
    scores = score(findings, read_truth(truth)) if truth else {}
    if as_json:
        print(  # noqa: T201 - machine output
            json.dumps(
                {
                    "findings": len(findings),
                    "seconds": round(seconds, 2),
                    "by_kind": counts,
                    "scores": {
                        k.value: {
                            "planted": s.planted,
                            "precision": round(s.precision, 4),
                            "recall": round(s.recall, 4),
                        }
                        for k, s in scores.items()
                    },
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    out.print(f"{len(findings):,} findings in {seconds:.1f}s")
    for kind in AnomalyKind:
        line = f"  {kind.value:<26} {counts.get(kind.value, 0):>6}"
        if kind in scores:
            s = scores[kind]
            line += f"   planted {s.planted:>5}  precision {s.precision:.3f}  recall {s.recall:.3f}"
        if kind is AnomalyKind.DOUBLE_FINANCING and scores:
            line += "  (the registry refuses a second registration, so none reach the books)"
        out.print(line)


# ------------------------------------------------------------------ chains


@chains_app.command("list")
def chains_list() -> None:
    """Every chain with its members per side and tier."""
    with operator_session() as session:
        _print_chains(session)


def _print_chains(session: Session) -> None:
    """One block per chain: the banks that defined it, and members per side and tier (from
    the database, so what is printed is what the API serves)."""
    page = chains.list_chains(session, SYSTEM, limit=500)
    banks = {b.id: b.code for b in registry.list_banks(session, SYSTEM)}
    grouped: dict[tuple[str, tuple[str, ...]], list[chains.ChainSummary]] = {}
    for s in page.items:
        grouped.setdefault((s.chain.name, tuple(s.core_ids)), []).append(s)
    out.print(f"[bold]{len(grouped)} chains[/bold] ({len(page.items)} bank views)")
    for (name, cores), views in grouped.items():
        s = views[0]
        codes = ", ".join(sorted(banks.get(v.chain.bank_id, "?") for v in views))
        tiers = [
            f"{side} " + " ".join(f"T{t}:{n}" for t, n in sorted(s.members_by_tier[side].items()))
            for side in ("upstream", "downstream")
            if s.members_by_tier.get(side)
        ]
        out.print(f"  {name}  [dim](banks {codes})[/dim]")
        core_word = "cores" if len(cores) > 1 else "core"
        parts = [f"{len(cores)} {core_word}", *tiers, f"{s.member_count} members"]
        out.print("    " + " · ".join(parts))


@chains_app.command("recompute")
def chains_recompute() -> None:
    """Recompute every chain's tiers from the current relations."""
    with operator_session() as session:
        rows = chains.recompute_tiers(session)
    out.print(f"{rows} member rows")


# ------------------------------------------------------------------ demo


def _regions(choice: RegionChoice) -> list[RegionKey]:
    return list(RegionKey) if choice is RegionChoice.ALL else [RegionKey(choice.value)]


@demo_app.command("seed")
def demo_seed_cmd(
    region: Annotated[RegionChoice, typer.Option()] = RegionChoice.ALL,
    scale: Annotated[Scale, typer.Option()] = Scale.SMALL,
    seed: Annotated[int, typer.Option()] = 42,
    users: Annotated[bool, typer.Option(help="create demo users and a client")] = True,
    history: Annotated[bool, typer.Option(help="add a year of trade documents")] = False,
    truth: Annotated[
        Path, typer.Option(help="where the planted anomalies' ground truth is written")
    ] = Path("var/ground_truth.jsonl"),
) -> None:
    """Generate a deterministic synthetic region and load it (one transaction); with
    --history also a year of trade with planted anomalies, whose ground truth goes to a
    file, never into the database."""
    _, data = _seed(region, scale, seed, users)
    if history:
        _seed_history(data, seed, truth)


def _seed_history(data: SyntheticRegion, seed: int, truth: Path) -> TradeHistory:
    t0 = time.perf_counter()
    trade = generate_history(data, seed=seed)
    truth.parent.mkdir(parents=True, exist_ok=True)
    write_truth(trade.truth, truth)
    try:
        with operator_session() as session:
            report = demo_seed.load_history(session, trade)
    except ChainfinError as exc:
        fail(exc)
    out.print(
        f"trade history: {report.documents:,} documents, {report.registrations:,} receivables "
        f"registered ({report.refused_registrations} second registrations refused by the "
        f"registry), {report.planted} planted anomalies → {truth} "
        f"in {time.perf_counter() - t0:.1f}s"
    )
    return trade


def _seed(
    region: RegionChoice, scale: Scale, seed: int, users: bool
) -> tuple[demo_seed.SeedReport, SyntheticRegion]:
    t0 = time.perf_counter()
    data = generate(_regions(region), scale, seed)
    generated = time.perf_counter() - t0
    try:
        with operator_session() as session:
            report = demo_seed.seed(session, data, with_users=users)
    except ChainfinError as exc:
        fail(exc)
    total = time.perf_counter() - t0
    out.print(
        f"seeded {report.enterprises} enterprises, {report.relations} relations, "
        f"{report.banks} banks, {report.chains} chains ({report.chain_members} member rows) "
        f"in {total:.1f}s (generate {generated:.1f}s; "
        + ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items())
        + ")"
    )
    return report, data


@demo_app.command("run")
def demo_run(
    region: Annotated[RegionChoice, typer.Option()] = RegionChoice.ALL,
    scale: Annotated[Scale, typer.Option()] = Scale.SMALL,
    seed: Annotated[int, typer.Option()] = 42,
    clock_file: Annotated[
        Path | None,
        typer.Option(help="write the instant the story ends at here (make demo serves from it)"),
    ] = None,
) -> None:
    """Seed the region, then tell the stories: trade, payable credentials, lending, risk and
    the credential's maturity. The stories start today and run ahead of it, each step on the
    day it happens; the last lines say how far."""
    timeline = Timeline(clock.FixedClock(clock.utcnow()))
    with clock.using(timeline.clock):
        _demo_stories(region, scale, seed, timeline)
    ahead, ended = timeline.days_ahead, timeline.now().isoformat(timespec="seconds")
    if ahead:
        out.print(
            f"[bold]the story ran ahead of today[/bold]: it began on {timeline.started_on} and "
            f"ended on {timeline.today}, {ahead} days later, so the platform's clock stands at "
            f"{timeline.today} for this database: serve it with CHAINFIN_CLOCK="
            f"{ended} (make demo does); on the system clock, "
            "what happened after today would not have happened yet"
        )
    if clock_file is not None:
        clock_file.parent.mkdir(parents=True, exist_ok=True)
        clock_file.write_text(ended + "\n")


def _demo_stories(region: RegionChoice, scale: Scale, seed: int, timeline: Timeline) -> None:
    report, data = _seed(region, scale, seed, True)
    by_role = Counter(role.value for e in data.enterprises for role in e.roles)
    out.print("enterprises by role: " + ", ".join(f"{r} {n}" for r, n in by_role.most_common()))
    truth = get_settings().var_dir / "ground_truth.jsonl"
    trade = _seed_history(data, seed, truth)
    with operator_session() as session:
        _print_chains(session)
        findings = Counter(f.kind.value for f in checks.run(session))
    out.print(
        "[bold]authenticity checks[/bold] on the year of trade: "
        + ", ".join(f"{k} {n}" for k, n in sorted(findings.items()))
        + f"  (score them: chainfin checks run --truth {truth})"
    )
    with operator_session() as session:
        story = credential_story.run(session, timeline)
        before = [trial_balance_out(title, tb) for title, tb in story.trial_balances.items()]
    out.print(f"[bold]payable credentials[/bold] ({timeline.today})")
    _print_story(story.lines, before)
    started = timeline.today
    with operator_session() as session:
        lending = lending_story.run(
            session,
            timeline,
            out_dir=lending_story.files_dir(database_url(), get_settings().var_dir),
        )
        lending_balances = [trial_balance_out(t, tb) for t, tb in lending.trial_balances.items()]
    out.print(f"[bold]supply-chain lending[/bold] ({started} to {timeline.today})")
    _print_story(lending.lines, lending_balances)
    with operator_session() as session:
        risk = risk_story.run(session, timeline, region=data, history=trade, seed=seed)
    out.print(f"[bold]risk[/bold] ({timeline.today})")
    _print_story(risk.lines, [])
    told, debited, scanned = len(story.lines), len(lending.lines), timeline.today
    with operator_session() as session:
        lending_story.direct_debits(session, timeline, lending, through=story.payment_on)
    out.print(f"[bold]repayments[/bold] ({scanned} to {story.payment_on})")
    _print_story(lending.lines[debited:], [])
    with operator_session() as session:
        credential_story.mature(session, timeline, story)
        after = [
            trial_balance_out(title, tb)
            for title, tb in story.trial_balances.items()
            if "after maturity" in title
        ]
    out.print(f"[bold]the credential matures[/bold] ({timeline.today})")
    _print_story(story.lines[told:], after)
    told = len(lending.lines)
    with operator_session() as session:
        lending_story.close(session, timeline, lending)
        closing = [
            trial_balance_out(title, tb)
            for title, tb in lending.trial_balances.items()
            if "last day" in title
        ]
    out.print(f"[bold]loans on the last day[/bold] ({timeline.today})")
    _print_story(lending.lines[told:], closing)
    with operator_session() as session:
        ledger.sequence(session, get_settings().ledger_origin)
        latest = ledger.latest_checkpoint(session)
    if latest is not None:
        out.print(
            f"[bold]ledger[/bold]: {latest.tree_size} entries record the region; "
            "latest signed checkpoint:"
        )
        out.print(escape(latest.note), end="")
        out.print(
            f"verify it: CHAINFIN_DATABASE_URL={database_url()} .venv/bin/chainfin ledger verify"
        )
    out.print(f"[bold]demo users[/bold] (password: {demo_seed.DEMO_PASSWORD})")
    for username, what in report.users:
        out.print(f"  {username:<18} {what}")
    for client_id, secret, owner in report.clients:
        out.print(f"API client for {owner}: client_id={client_id} client_secret={secret}")
    out.print(
        "try: curl -s -d grant_type=client_credentials -d client_id=... -d client_secret=... "
        "http://127.0.0.1:8000/oauth/token"
    )


def _print_story(lines: list[str], balances: list[dict[str, Any]]) -> None:
    for line in lines:
        out.print("  " + escape(line))
    for body in balances:
        credentials_cli.print_trial_balance(body)


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()


if __name__ == "__main__":
    main()
