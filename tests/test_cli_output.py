"""What ``chainfin`` prints, from a bank user's terminal: tables that fit 80 columns with
names and full amounts, JSON only with ``--json`` (lists as the API pages them), and reads
that write nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from chainfin.adapters.db.engine import transaction
from chainfin.cli import app
from chainfin.config import get_settings
from chainfin.domain.money import Money
from chainfin.services.lending import applications, loans
from credit_world import uscc
from lending_world import PAYEE, TODAY, LendingWorld, build_lending
from testkeys import TEST_DATA_KEYS

runner = CliRunner()
LINE = "30000000.00"


@pytest.fixture
def lw(
    database_url: str,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[LendingWorld]:
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", database_url)
    monkeypatch.setenv("CHAINFIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHAINFIN_DATA_KEYS", TEST_DATA_KEYS)
    get_settings.cache_clear()
    world = build_lending(session_factory, line=Money.parse(LINE))
    with transaction(session_factory) as s:
        applications.submit(
            s, world.ent("t1"), bank="BKA", product="receivable_financing",
            amount=Money.parse("400000.00"), tenor_months=3, method="bullet",
            underlying_kind="invoice", underlying_ref=world.docs["INV-T1-2"], payee=PAYEE,
        )  # fmt: skip
        loans.disburse(
            s, world.staff("rm"), debtor_name="bank A", debtor_account="110000000000000001",
            debtor_agent="102100099996", execution_on=TODAY,
        )  # fmt: skip
    yield world
    get_settings.cache_clear()


def cli(*args: str, columns: int = 80) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def widest(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.splitlines()), default=0)


def test_tables_fit_80_columns_with_names_and_full_amounts(lw: LendingWorld) -> None:
    cap = cli(
        "line", "cap", "--bank", "BKA", "--name", "core group", "--cap", "3000000.00",
        "--core", uscc(3),
    )  # fmt: skip
    assert "3,000,000.00 CNY" in cap
    screens = {
        "lines": cli("line", "list", "--bank", "BKA"),
        "caps": cli("line", "caps", "--bank", "BKA"),
        "loans": cli("loan", "list", "--bank", "BKA"),
        "products": cli("product", "list", "--bank", "BKA"),
        "tasks": cli("loan", "tasks", "--bank", "BKA"),
        "trial balance": cli("books", "trial-balance", "BKA"),
        "line": cli("line", "show", lw.line_id, "--bank", "BKA"),
        "applications": cli("loan", "applications", "--bank", "BKA"),
        "prices": cli("loan", "price", "list", "--bank", "BKA"),
    }
    for name, screen in screens.items():
        assert widest(screen) <= 80, f"{name}:\n{screen}"
    assert "core" in screens["lines"]  # the obligor's name (the test world's is "core") ...
    assert lw.credit.ids["core"] not in screens["lines"]  # ... not its id
    assert "30,000,000.00" in screens["lines"]
    assert "3,000,000.00" in screens["caps"]
    assert "t1" in screens["loans"]
    assert lw.credit.ids["t1"] not in screens["loans"]
    assert "400,000.00" in screens["loans"]
    assert lw.line_id in screens["lines"]  # a short id column to act on
    # every amount is whole: no cut digits, no ellipsis where a number stands
    for screen in screens.values():
        assert "…" not in screen
        for amount in re.findall(r"\d[\d,]*\.\d\d", screen):
            assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d\d", amount), amount


def test_a_narrow_terminal_keeps_every_digit(lw: LendingWorld) -> None:
    narrow = cli("line", "list", "--bank", "BKA", columns=40)
    assert widest(narrow) <= 40, narrow
    assert "30,000,000.00" in narrow
    shown = cli("loan", "show", _loan_id(), "--bank", "BKA")
    assert widest(shown) <= 80, shown
    assert "400,000.00 CNY" in shown


def _loan_id() -> str:
    body = json.loads(cli("loan", "list", "--bank", "BKA", "--json"))
    return str(body["items"][0]["id"])


def test_lists_with_json_are_pages(lw: LendingWorld) -> None:
    for args in (
        ["line", "list", "--bank", "BKA"],
        ["loan", "list", "--bank", "BKA"],
        ["product", "list", "--bank", "BKA"],
        ["risk", "alerts", "--bank", "BKA"],
        ["credential", "invitations", "--bank", "BKA"],
        ["iot", "devices", "--bank", "BKA"],
        ["auth", "keys"],
        ["chains", "list"],
    ):
        body = json.loads(cli(*args, "--json"))
        assert set(body) == {"items", "next_cursor"}, args


def test_no_json_without_json(lw: LendingWorld) -> None:
    """Commands that used to print their result as JSON now print it for people."""
    cli("rates", "lpr", "set", "2026-08-20", "3.00", "3.50", "--json")
    for args in (
        ["rates", "lpr", "show"],
        ["calendar", "roll", "2026-10-01"],
        ["books", "accrue", "--as-of", TODAY.isoformat()],
        ["credential", "overdue-scan", "--as-of", TODAY.isoformat()],
        ["loan", "show", _loan_id(), "--bank", "BKA"],
    ):
        text = cli(*args)
        assert not text.lstrip().startswith(("{", "[")), f"{args}:\n{text}"
    assert "2026-10-08" in cli("calendar", "roll", "2026-10-01")


# Commands that print no data of their own: the key, the server, a stream, a file.
NO_JSON = {
    ("new-data-key",),
    ("serve",),
    ("demo", "run"),
    ("registry", "export"),
    ("ledger", "witness-key"),
    ("ledger", "witness"),
}


def test_every_command_that_prints_data_takes_json() -> None:
    missing = []

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
        elif path not in NO_JSON and not any(
            "--json" in getattr(p, "opts", ()) for p in cmd.params
        ):
            missing.append(" ".join(path))

    walk(typer.main.get_command(app), ())
    assert missing == []


READS = [
    ["line", "list", "--bank", "BKA"],
    ["line", "caps", "--bank", "BKA"],
    ["loan", "list", "--bank", "BKA"],
    ["loan", "applications", "--bank", "BKA"],
    ["loan", "tasks", "--bank", "BKA"],
    ["loan", "price", "list", "--bank", "BKA"],
    ["product", "list", "--bank", "BKA"],
    ["risk", "alerts", "--bank", "BKA"],
    ["risk", "exposure", "--bank", "BKA"],
    ["risk", "sectors", "--bank", "BKA"],
    ["risk", "scenario", "--bank", "BKA", "--core", "CORE"],
    ["risk", "model", "list", "--bank", "BKA"],
    ["iot", "devices", "--bank", "BKA"],
    ["iot", "dead-letters", "--bank", "BKA"],
    ["credential", "invitations", "--bank", "BKA"],
    ["books", "trial-balance", "BKA"],
    ["books", "statement", "BKA", "1001"],
    ["rates", "lpr", "show"],
    ["calendar", "roll", "2026-10-01"],
    ["chains", "list"],
    ["auth", "keys"],
    ["ledger", "checkpoint"],
    ["ledger", "verify"],
    ["db", "current"],
    ["checks", "run"],
    ["registry", "export", "--kind", "enterprises"],
    ["books", "gl", "--bank", "BKA"],
    ["line", "show", "LINE", "--bank", "BKA"],
    ["loan", "show", "LOAN", "--bank", "BKA"],
]
# Reading an enterprise's data on a bank's behalf is itself recorded (the enterprise sees
# who looked): those rows are the only ones a read may add.
READ_RECEIPTS = ("data_access_log", "audit_events")


def test_reads_write_nothing(lw: LendingWorld, engine: Engine) -> None:
    cli("ledger", "sequence")
    loan_id = _loan_id()
    written: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE", "REPLACE"} and not any(
            table in statement for table in READ_RECEIPTS
        ):
            written.append(statement.split("\n")[0][:80])

    event.listen(Engine, "before_cursor_execute", record)
    try:
        for args in READS:
            named = {"CORE": uscc(3), "LINE": lw.line_id, "LOAN": loan_id}
            args = [named.get(a, a) for a in args]
            result = runner.invoke(app, args)
            assert result.exit_code in (0, 1), (args, result.stdout, result.stderr)
            assert written == [], (args, written)
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def test_devices_are_listed_by_serial(lw: LendingWorld) -> None:
    cli(
        "iot", "register", "--bank", "BKA", "--serial", "WS-0001", "--kind", "weight", "--unit", "t"
    )
    screen = cli("iot", "devices", "--bank", "BKA")
    assert widest(screen) <= 80
    assert "WS-0001" in screen
    assert "unbound" in screen
    body = json.loads(cli("iot", "devices", "--bank", "BKA", "--json"))
    assert [d["serial"] for d in body["items"]] == ["WS-0001"]


def test_progress_shows_on_a_terminal_and_never_with_json(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """``ledger verify`` on a terminal shows what runs on stderr; with --json, or when
    stderr is not a terminal, nothing but the result is printed."""
    import os
    import pty
    import subprocess
    import sys

    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHAINFIN_")}
    environ.update(
        CHAINFIN_DATABASE_URL=database_url,
        CHAINFIN_VAR_DIR=str(tmp_path),
        CHAINFIN_DATA_KEYS=TEST_DATA_KEYS,
        TERM="xterm",
        COLUMNS="80",
    )

    def verify(*extra: str) -> tuple[bytes, bytes]:
        leader, follower = pty.openpty()
        done = subprocess.run(
            [sys.executable, "-m", "chainfin.cli", "ledger", "verify", *extra],
            stdout=subprocess.PIPE,
            stderr=follower,
            env=environ,
            check=False,
            timeout=120,
        )
        os.close(follower)
        seen = b""
        try:
            while chunk := os.read(leader, 65536):
                seen += chunk
        except OSError:
            pass
        os.close(leader)
        assert done.returncode == 0, (done.stdout, seen)
        return done.stdout, seen

    stdout, terminal = verify()
    assert b"verifying the log" in terminal
    assert b"OK" in stdout
    stdout, terminal = verify("--json")
    assert b"verifying the log" not in terminal
    assert json.loads(stdout)["ok"] is True
    piped = subprocess.run(
        [sys.executable, "-m", "chainfin.cli", "ledger", "verify"],
        capture_output=True,
        env=environ,
        check=True,
    )
    assert piped.stderr == b""
