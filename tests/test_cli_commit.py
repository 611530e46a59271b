"""The CLI reports success only after its transaction has committed (issue 13): a command
prints after its ``with operator_session()`` block, and a commit that fails is an error
with nothing written and no success line."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import chainfin.cli
from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import User
from chainfin.cli import app
from chainfin.config import get_settings
from chainfin.domain.access import SYSTEM
from chainfin.domain.registry import BankRecord, EnterpriseRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.services import registry
from testkeys import TEST_DATA_KEYS

runner = CliRunner()
CLI = Path(chainfin.cli.__file__).parent
OUTPUT = {"print", "print_json", "out.print", "typer.echo", "sys.stdout.write", "show"}


@pytest.fixture
def cli_db(
    database_url: str,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[str]:
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", database_url)
    monkeypatch.setenv("CHAINFIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHAINFIN_DATA_KEYS", TEST_DATA_KEYS)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def _output_inside_a_unit_of_work() -> Iterator[str]:
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.With):
                continue
            if not any("operator_session" in ast.unparse(i.context_expr) for i in node.items):
                continue
            for inner in node.body:
                for call in ast.walk(inner):
                    if isinstance(call, ast.Call) and ast.unparse(call.func) in OUTPUT:
                        yield f"{path.name}:{call.lineno}: {ast.unparse(call.func)}"


def test_no_command_reports_inside_its_transaction() -> None:
    """What a command prints inside ``with operator_session()`` would be on the terminal
    before the commit, and stay there if the commit failed."""
    assert list(_output_inside_a_unit_of_work()) == []


def _failing_commits(exc: Callable[[], Exception]) -> Callable[[], None]:
    def before_commit(session: Session) -> None:
        if not session.in_nested_transaction():
            raise exc()

    event.listen(Session, "before_commit", before_commit)
    return lambda: event.remove(Session, "before_commit", before_commit)


CREATE_USER = ["users", "create", "--username", "late", "--role", "admin", "--bank", "BKA"]


def test_a_failed_commit_prints_an_error_and_no_success(
    cli_db: str, session_factory: sessionmaker[Session]
) -> None:
    bank_uscc = make_uscc("9", "1", "310115", "00000001")
    with transaction(session_factory) as s:
        registry.import_enterprises(
            s,
            SYSTEM,
            [EnterpriseRecord(bank_uscc, "bank", "310115", "J66", frozenset({Role.BANK}))],
        )
        registry.create_bank(s, SYSTEM, BankRecord("BKA", "bank A", bank_uscc))
    args = [*CREATE_USER, "--password", "correct horse battery"]

    restore = _failing_commits(lambda: OperationalError("COMMIT", {}, Exception("disk full")))
    try:
        lost = runner.invoke(app, args)
    finally:
        restore()
    assert lost.exit_code == 1
    assert "created" not in lost.stdout
    assert "error (not-committed): nothing was written: disk full" in lost.stderr
    restore = _failing_commits(lambda: RuntimeError("commit refused"))
    try:
        broken = runner.invoke(app, args)
    finally:
        restore()
    assert broken.exit_code != 0
    assert "created" not in broken.stdout
    with session_factory() as s:
        assert s.scalars(select(User).where(User.username == "late")).all() == []

    made = runner.invoke(app, args)
    assert made.exit_code == 0, made.stderr
    assert made.stdout.startswith("created staff user late")
