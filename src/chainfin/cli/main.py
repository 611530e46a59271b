"""The ``chainfin`` command.

Operator commands act as the platform operator (no tenant restriction) on the database named
by ``CHAINFIN_DATABASE_URL`` (default: SQLite under ./var/). Errors print what went wrong
and what to do, and exit non-zero.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from chainfin.adapters.formats.tabular import TabularFormat
from chainfin.cli import auth as auth_cli
from chainfin.cli import credentials as credentials_cli
from chainfin.cli import iot as iot_cli
from chainfin.cli import ledger as ledger_cli
from chainfin.cli import lending as lending_cli
from chainfin.cli import strategy as strategy_cli
from chainfin.cli.common import (
    ChainfinGroup,
    JsonOpt,
    database_url,
    err,
    fail,
    group,
    operator_session,
    out,
    print_json,
    print_page,
    progress,
    remember_names,
    require_database,
    where,
)
from chainfin.cli.risk import risk_app
from chainfin.domain import clock
from chainfin.domain.errors import ChainfinError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from chainfin.demo.synthetic import RegionKey, SyntheticRegion
    from chainfin.demo.timeline import Timeline
    from chainfin.demo.trade_history import TradeHistory

# Every import above is light: the database, the services, the demo and the modelling
# libraries are imported inside the commands that need them (tests/test_cli_start.py).

GROUPS = typer.Typer()
"""The command groups of ``chainfin``, added here rather than to ``app``: the root
(:class:`ChainfinGroup`) builds a group, and in it a command, only when it is invoked, where
Typer would build all ~140 on every start."""


class Chainfin(ChainfinGroup):
    groups = GROUPS


app = group("chainfin: industrial-internet finance platform", cls=Chainfin)
db_app = group("Database migrations")
check_app = group("Validate identifiers")
users_app = group("Staff and enterprise users")
clients_app = group("OAuth2 API clients")
registry_app = group("Enterprises and supply relations")
chains_app = group("Industrial chains")
demo_app = group("Synthetic region and demo story")
for sub, name in (
    (db_app, "db"),
    (check_app, "check"),
    (users_app, "users"),
    (clients_app, "clients"),
    (registry_app, "registry"),
    (chains_app, "chains"),
    (demo_app, "demo"),
):
    GROUPS.add_typer(sub, name=name)
GROUPS.add_typer(ledger_cli.app, name="ledger")
GROUPS.add_typer(auth_cli.app, name="auth")
users_app.command("unlock")(auth_cli.users_unlock)
users_app.command("activate")(auth_cli.users_activate)
users_app.command("passwd")(auth_cli.users_passwd)
GROUPS.add_typer(credentials_cli.app, name="credential")
GROUPS.add_typer(credentials_cli.books_app, name="books")
GROUPS.add_typer(credentials_cli.rates_app, name="rates")
GROUPS.add_typer(credentials_cli.calendar_app, name="calendar")
GROUPS.add_typer(lending_cli.line_app, name="line")
GROUPS.add_typer(lending_cli.product_app, name="product")
GROUPS.add_typer(lending_cli.loan_app, name="loan")
GROUPS.add_typer(risk_app, name="risk")
GROUPS.add_typer(strategy_cli.app, name="strategy")
GROUPS.add_typer(iot_cli.app, name="iot")


@app.callback()
def _start() -> None:
    """chainfin: industrial-internet finance platform."""
    if not os.environ.get(clock.ENV_VAR, "").strip():
        return  # the system clock; the settings (and pydantic) are not needed to say so
    from chainfin.config import install_clock_from_environment

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
    """``chainfin.demo.synthetic.RegionKey`` and ``all``, named here so that ``--help`` does
    not load the generator (tests/test_cli_start.py checks the two agree)."""

    YRD = "yrd"
    GBA = "gba"
    JJJ = "jjj"
    ALL = "all"


class Scale(StrEnum):
    """``chainfin.demo.synthetic.Scale``, named here for the same reason."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


# ------------------------------------------------------------------ db


@db_app.command("upgrade")
def db_upgrade(revision: str = "head", as_json: JsonOpt = False) -> None:
    """Create the database if it does not exist and apply migrations (SQLite or
    PostgreSQL, from CHAINFIN_DATABASE_URL)."""
    from chainfin.adapters.db import migrate
    from chainfin.adapters.db.engine import make_engine

    url = database_url()
    migrate.upgrade(url, revision)
    engine = make_engine(url)
    current = migrate.current_revision(engine)
    engine.dispose()
    if as_json:
        print_json({"database": where(url), "revision": current})
    else:
        out.print(f"database at {escape(where(url))} is at revision {current}")


@db_app.command("current")
def db_current(as_json: JsonOpt = False) -> None:
    """Show the applied and the latest revision."""
    from chainfin.adapters.db import migrate
    from chainfin.adapters.db.engine import make_engine

    url = database_url()
    require_database(url)
    engine = make_engine(url)
    current = migrate.current_revision(engine)
    engine.dispose()
    head = migrate.head_revision()
    if as_json:
        print_json({"database": where(url), "revision": current, "head": head})
        return
    out.print(f"database at {escape(where(url))}: current {current} · head {head}")
    if current != head:
        out.print("behind the code: run `chainfin db upgrade`")


@app.command("new-data-key")
def new_data_key(key_id: Annotated[str, typer.Option(help="alphanumeric key id")] = "k1") -> None:
    """Print a new field-encryption key for CHAINFIN_DATA_KEYS. To rotate, put the new key
    first and keep the old ones after it: new rows use the first, old rows stay readable."""
    from chainfin.adapters.db.crypto import FieldCipher

    print(FieldCipher.new_spec(key_id))  # noqa: T201 - the output is the key


# ------------------------------------------------------------------ check


@check_app.command("uscc")
def check_uscc_cmd(
    codes: Annotated[list[str], typer.Argument(help="统一社会信用代码, one or more")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Validate 统一社会信用代码 (GB 32100-2015). Exit 0 only if all are valid."""
    from chainfin.domain.uscc import check_uscc

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
        print_json(rows)
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

    from chainfin.config import get_settings

    url = database_url()
    require_database(url)
    out.print(f"chainfin serving on http://{host}:{port}  (database: {escape(where(url))})")
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
    as_json: JsonOpt = False,
) -> None:
    """Create bank staff (roles: relationship_manager, risk_officer, approver, admin, auditor),
    an enterprise user (roles: enterprise_admin, finance_staff), or, with neither --bank nor
    --enterprise, one of the platform operator's people (roles: platform_operator, who writes
    the platform's price sources; platform_auditor, who reads every ledger entry)."""
    from chainfin.domain.access import SYSTEM
    from chainfin.services import auth

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
            body: dict[str, Any] = {
                "id": user.id,
                "username": user.username,
                "kind": user.kind,
                "roles": list(user.roles),
                "bank": bank,
                "enterprise": enterprise,
            }
    except ChainfinError as exc:
        fail(exc, as_json)
    if as_json:  # only once the transaction has committed
        print_json(body)
    else:
        out.print(
            f"created {body['kind']} user {escape(body['username'])} ({body['id']}) "
            f"roles {', '.join(body['roles'])}"
        )


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
    from chainfin.domain.access import SYSTEM, OwnerKind
    from chainfin.services import auth

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
        print_json(body)
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
    from chainfin.adapters.formats.tabular import read_rows

    fmt = fmt or TabularFormat.from_filename(file.name)
    try:
        with progress(f"importing {file.name}", enabled=not as_json):
            rows = read_rows(file.read_bytes(), fmt)
            report = _import_registry(rows, kind, bank, platform)
    except ChainfinError as exc:
        fail(exc, as_json)
    from chainfin.resources.registry import ImportOut

    body = ImportOut.build(report).model_dump(mode="json")
    if as_json:
        print_json(body)
    else:
        out.print(
            f"{kind.value}: {body['created']} created, {body['linked']} linked, "
            f"{body['unchanged']} unchanged"
        )


def _import_registry(rows: Any, kind: Kind, bank: str | None, platform: str | None) -> Any:
    from chainfin.domain.access import SYSTEM
    from chainfin.services import registry

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
    return report


@registry_app.command("export")
def registry_export(
    kind: Annotated[Kind, typer.Option()],
    fmt: Annotated[TabularFormat, typer.Option("--format")] = TabularFormat.CSV,
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
) -> None:
    """Export everything in the import format (to stdout unless -o)."""
    from chainfin.adapters.formats.tabular import write_rows
    from chainfin.domain.access import SYSTEM
    from chainfin.domain.registry_input import ENTERPRISE_FIELDS, RELATION_FIELDS
    from chainfin.services import registry

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
    try:
        with progress(f"ingesting {file.name}", enabled=not as_json):
            report = _ingest(file.read_bytes(), chosen, as_uscc, partial)
    except ChainfinError as exc:
        fail(exc, as_json)
    from chainfin.resources.documents import SubmissionOut

    body = SubmissionOut.build(report).model_dump(mode="json")
    if as_json:
        print_json(body)
    else:
        for row in report.rows:
            if row.status == "rejected":
                for e in row.errors:
                    out.print(f"row {row.row}: [red]rejected[/red] {escape(str(e))}")
            else:
                out.print(f"row {row.row}: {row.status} {escape(row.key)} ({row.document_id})")
        out.print(
            f"{body['accepted']} accepted, {body['unchanged']} unchanged, "
            f"{body['rejected']} rejected"
        )
    raise typer.Exit(1 if body["rejected"] else 0)


def _ingest(data: bytes, chosen: IngestFormat, as_uscc: str, partial: bool) -> Any:
    from chainfin.adapters.formats.tabular import read_rows
    from chainfin.domain.access import Principal, PrincipalKind, Scope
    from chainfin.services import documents, registry

    if chosen is IngestFormat.UBL:
        from chainfin.adapters.formats.ubl import parse_ubl
        from chainfin.services.ubl_documents import ubl_to_row

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
    return report


checks_app = group("Authenticity and fraud checks")
GROUPS.add_typer(checks_app, name="checks")


@checks_app.command("run")
def checks_run(
    truth: Annotated[Path | None, typer.Option(help="score against a ground-truth file")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run every check over every document on file; with --truth, print precision and
    recall per kind against planted anomalies."""
    from chainfin.demo.trade_history import read_truth, score
    from chainfin.domain.anomalies import AnomalyKind
    from chainfin.services import checks

    t0 = time.perf_counter()
    with progress("checking every document", enabled=not as_json), operator_session() as session:
        findings = checks.run(session)
    seconds = time.perf_counter() - t0
    counts = Counter(f.kind.value for f in findings)
    scores = score(findings, read_truth(truth)) if truth else {}
    if as_json:
        print_json(
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
            }
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
def chains_list(as_json: JsonOpt = False) -> None:
    """Every chain with its members per side and tier."""
    with operator_session() as session:
        chains = _chains(session)
    if as_json:
        print_page(chains)
    else:
        _print_chains(chains)


def _chains(session: Session) -> list[dict[str, Any]]:
    """Every chain as the API shows it (``ChainOut``), with its bank's code added as
    ``bank`` for people."""
    from chainfin.domain.access import SYSTEM
    from chainfin.resources.chains import ChainOut
    from chainfin.services import chains, registry

    banks: dict[str, str] = {}
    bank_page = registry.list_banks(session, SYSTEM, limit=500)
    while True:
        banks.update((b.id, b.code) for b in bank_page.items)
        if bank_page.next_cursor is None:
            break
        bank_page = registry.list_banks(session, SYSTEM, limit=500, cursor=bank_page.next_cursor)
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = chains.list_chains(session, SYSTEM, limit=500, cursor=cursor)
        for s in page.items:
            body = ChainOut.build(s).model_dump(mode="json")
            found.append({**body, "bank": banks.get(body["bank_id"], body["bank_id"])})
        cursor = page.next_cursor
        if cursor is None:
            return found


def _print_chains(views: list[dict[str, Any]]) -> None:
    """One block per chain: the banks that defined it, and members per side and tier (from
    the database, so what is printed is what the API serves)."""
    grouped: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    for v in views:
        grouped.setdefault((v["name"], tuple(v["core_ids"])), []).append(v)
    out.print(f"[bold]{len(grouped)} chains[/bold] ({len(views)} bank views)")
    for (name, cores), same in grouped.items():
        v = same[0]
        codes = ", ".join(sorted(x["bank"] for x in same))
        tiers = [
            f"{side} "
            + " ".join(f"T{t['tier']}:{t['members']}" for t in v["tiers"] if t["side"] == side)
            for side in ("upstream", "downstream")
            if any(t["side"] == side for t in v["tiers"])
        ]
        out.print(f"  {escape(name)}  [dim](banks {escape(codes)})[/dim]")
        core_word = "cores" if len(cores) > 1 else "core"
        parts = [f"{len(cores)} {core_word}", *tiers, f"{v['member_count']:,} members"]
        out.print("    " + " · ".join(parts))


@chains_app.command("recompute")
def chains_recompute(as_json: JsonOpt = False) -> None:
    """Recompute every chain's tiers from the current relations."""
    from chainfin.services import chains

    with progress("recomputing tiers", enabled=not as_json), operator_session() as session:
        rows = chains.recompute_tiers(session)
    if as_json:
        print_json({"member_rows": rows})
    else:
        out.print(f"{rows:,} member rows")


# ------------------------------------------------------------------ demo


def _regions(choice: RegionChoice) -> list[RegionKey]:
    from chainfin.demo.synthetic import RegionKey

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
    as_json: JsonOpt = False,
) -> None:
    """Generate a deterministic synthetic region and load it (one transaction); with
    --history also a year of trade with planted anomalies, whose ground truth goes to a
    file, never into the database."""
    report, data = _seed(region, scale, seed, users, as_json)
    body: dict[str, Any] = {"seeded": report}
    if history:
        body["history"] = _seed_history(data, seed, truth, as_json)[1]
    if as_json:
        print_json(body)


def _seed_history(
    data: SyntheticRegion, seed: int, truth: Path, as_json: bool = False
) -> tuple[TradeHistory, Any]:
    from chainfin.demo import seed as demo_seed
    from chainfin.demo import strategy_market
    from chainfin.demo.trade_history import generate_history, write_truth

    t0 = time.perf_counter()
    with progress("a year of trade", total=2, enabled=not as_json) as step:
        trade = generate_history(data, seed=seed)
        truth.parent.mkdir(parents=True, exist_ok=True)
        write_truth(trade.truth, truth)
        step("loading the trade history")
        try:
            with operator_session() as session:
                report = demo_seed.load_history(session, trade)
                # each bank's market data for the regional chain analysis (chainfin strategy)
                strategy_market.import_markets(session, data, trade, seed=seed)
        except ChainfinError as exc:
            fail(exc, as_json)
    if as_json:
        return trade, report
    out.print(
        f"trade history: {report.documents:,} documents, {report.registrations:,} receivables "
        f"registered ({report.refused_registrations} second registrations refused by the "
        f"registry), {report.planted} planted anomalies → {truth} "
        f"in {time.perf_counter() - t0:.1f}s",
        soft_wrap=False,
    )
    return trade, report


def _seed(
    region: RegionChoice, scale: Scale, seed: int, users: bool, as_json: bool = False
) -> tuple[Any, SyntheticRegion]:
    from chainfin.demo import seed as demo_seed
    from chainfin.demo import synthetic

    t0 = time.perf_counter()
    with progress("generating the region", total=2, enabled=not as_json) as step:
        data = synthetic.generate(_regions(region), synthetic.Scale(scale.value), seed)
        generated = time.perf_counter() - t0
        step("loading the region")
        try:
            with operator_session() as session:
                report = demo_seed.seed(session, data, with_users=users)
        except ChainfinError as exc:
            fail(exc, as_json)
    total = time.perf_counter() - t0
    if as_json:
        return report, data
    out.print(
        f"seeded {report.enterprises} enterprises, {report.relations} relations, "
        f"{report.banks} banks, {report.chains} chains ({report.chain_members} member rows) "
        f"in {total:.1f}s (generate {generated:.1f}s; "
        + ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items())
        + ")",
        soft_wrap=False,
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
    from chainfin.demo.timeline import Timeline

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
            "what happened after today would not have happened yet",
            soft_wrap=False,
        )
    if clock_file is not None:
        clock_file.parent.mkdir(parents=True, exist_ok=True)
        clock_file.write_text(ended + "\n")


def _demo_stories(region: RegionChoice, scale: Scale, seed: int, timeline: Timeline) -> None:
    from chainfin.config import get_settings
    from chainfin.demo import (
        credential_story,
        lending_story,
        portal_story,
        risk_story,
        strategy_story,
    )
    from chainfin.demo import seed as demo_seed
    from chainfin.services import checks, ledger

    report, data = _seed(region, scale, seed, True)
    by_role = Counter(role.value for e in data.enterprises for role in e.roles)
    out.print(
        "enterprises by role: " + ", ".join(f"{r} {n}" for r, n in by_role.most_common()),
        soft_wrap=False,
    )
    truth = get_settings().var_dir / "ground_truth.jsonl"
    trade, _ = _seed_history(data, seed, truth)
    with progress("authenticity checks"), operator_session() as session:
        chains = _chains(session)
        findings = Counter(f.kind.value for f in checks.run(session))
    _print_chains(chains)
    out.print(
        "[bold]authenticity checks[/bold] on the year of trade: "
        + ", ".join(f"{k} {n}" for k, n in sorted(findings.items()))
        + f"  (score them: chainfin checks run --truth {truth})",
        soft_wrap=False,
    )
    with progress("payable credentials"), operator_session() as session:
        story = credential_story.run(session, timeline)
        before = [_trial_balance(title, tb) for title, tb in story.trial_balances.items()]
        remember_names(session, before)
    out.print(f"[bold]payable credentials[/bold] ({timeline.today})")
    _print_story(story.lines, before)
    started = timeline.today
    with progress("supply-chain lending"), operator_session() as session:
        lending = lending_story.run(
            session,
            timeline,
            out_dir=lending_story.files_dir(database_url(), get_settings().var_dir),
        )
        lending_balances = [_trial_balance(t, tb) for t, tb in lending.trial_balances.items()]
        remember_names(session, lending_balances)
    out.print(f"[bold]supply-chain lending[/bold] ({started} to {timeline.today})")
    _print_story(lending.lines, lending_balances)
    with progress("risk"), operator_session() as session:
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
            _trial_balance(title, tb)
            for title, tb in story.trial_balances.items()
            if "after maturity" in title
        ]
        remember_names(session, after)
    out.print(f"[bold]the credential matures[/bold] ({timeline.today})")
    _print_story(story.lines[told:], after)
    told = len(lending.lines)
    with operator_session() as session:
        lending_story.close(session, timeline, lending)
        closing = [
            _trial_balance(title, tb)
            for title, tb in lending.trial_balances.items()
            if "last day" in title
        ]
        remember_names(session, closing)
    out.print(f"[bold]loans on the last day[/bold] ({timeline.today})")
    _print_story(lending.lines[told:], closing)
    with progress("the portal's firms"), operator_session() as session:
        portal = portal_story.run(session, timeline)
    out.print(f"[bold]the portal's firms[/bold] ({timeline.today})")
    _print_story(portal.lines, [])
    with progress("regional chain strategy"), operator_session() as session:
        strategy = strategy_story.run(session, lending.bank_code)
    out.print(
        f"[bold]regional chain strategy[/bold]: {lending.bank_name}'s head office ranks each "
        "region's chains (TOPSIS on entropy weights; rank interval over 500 draws; quadrant; "
        f"why), then the first chain's leads; sign in as {strategy.username} for /strategy"
    )
    for line in strategy.lines:
        out.print(f"  {escape(line)}", soft_wrap=True)
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
    story_bank = f"{lending.bank_code.lower()}-"
    for username, what in sorted(report.users, key=lambda u: not u[0].startswith(story_bank)):
        out.print(f"  {username:<18} {what}")
    out.print(
        f"[bold]the bank workbench[/bold]: the story lends from {lending.bank_name}; its staff "
        "have work waiting (same password, docs/workbench.md)"
    )
    for suffix, what in WORKBENCH_TRIES:
        out.print(f"  {story_bank + suffix:<18} {what}", soft_wrap=True)
    out.print(
        "[bold]the story's firms in the enterprise portal[/bold] (same password; sign in at "
        "the address `make demo` serves, ?lang=en for English)"
    )
    for username, what in portal.users:
        out.print(f"  {username:<18} {what}", soft_wrap=False)
    out.print(
        f"  to invite a supplier not yet on the platform, tier2 can use USCC "
        f"{portal.invite_example}",
        soft_wrap=False,
    )
    for client_id, secret, owner in report.clients:
        out.print(f"API client for {owner}: client_id={client_id} client_secret={secret}")
    out.print(
        "try: curl -s -d grant_type=client_credentials -d client_id=... -d client_secret=... "
        "http://127.0.0.1:8000/oauth/token"
    )


WORKBENCH_TRIES = (
    ("rm", "customers and the chain map (客户), a firm's page, alerts to acknowledge (预警)"),
    ("approver", "the credit desk (融资申请): what a firm applies for lands in its queue"),
    ("risk", "portfolio risk (组合风险): exposure, limits, ageing, sectors, a contagion run"),
    ("admin", "operations (运营): lines, a limit change for a colleague to approve; staff"),
    ("auditor", "ledger and audit (账本与审计): an entry's proof verified in the browser"),
    (
        "strategy",
        "chain strategy (产业链策略): each region's chains ranked, a chain's map and "
        "leads, the committee's PDF",
    ),
)


def _trial_balance(title: str, tb: Any) -> dict[str, Any]:
    from chainfin.resources.books import TrialBalanceOut

    return TrialBalanceOut.build(title, tb).model_dump(mode="json")


def _print_story(lines: list[str], balances: list[dict[str, Any]]) -> None:
    for line in lines:
        out.print("  " + escape(line), soft_wrap=False)
    for body in balances:
        credentials_cli.print_trial_balance(body)


FIRST_COLLECTION = 1_000_000
"""How many objects a command makes before Python's cycle collector first runs (see main)."""


def main() -> None:
    """Run ``chainfin`` (the console script).

    Python's cycle collector runs every 700 new objects and, as objects pile up, scans all of
    them again: a simple read makes ~150,000 (modules, classes, the ORM's mappers, pydantic's
    schemas) that live until the process ends, and scanning them over and over took ~0.09 s,
    the collection at interpreter exit ~0.17 s more (``bench/cli_start.py``). So a command
    runs with the first collection put off until FIRST_COLLECTION more objects exist than
    were freed (a read never gets there; a command that keeps objects or cyclic garbage, such
    as ``serve`` or a large seed, does, and from then on collects as usual), and at exit
    everything is frozen: the OS frees the memory without a last scan (objects left in
    reference cycles are then not finalised at exit, which Python never promises anyway)."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    usual = gc.get_threshold()

    def as_usual(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and gc.get_threshold()[0] == FIRST_COLLECTION:
            gc.set_threshold(*usual)

    gc.set_threshold(FIRST_COLLECTION, *usual[1:])
    gc.callbacks.append(as_usual)
    try:
        app()
    finally:
        gc.freeze()


if __name__ == "__main__":
    main()
