"""The ``chainfin`` command starts fast: importing it, printing any help and running a simple
read load no modelling, web or XML library (issue 14). Each check runs in a fresh process,
because this test process has loaded everything already. ``bench/cli_start.py`` prints the
times; these tests pin down what makes them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.cli import app, risk_models
from chainfin.cli import lending as lending_cli
from chainfin.cli.main import GROUPS, RegionChoice, Scale
from chainfin.cli.risk_portfolio import EXPOSURE_DIMENSIONS
from chainfin.config import get_settings
from chainfin.demo import synthetic
from chainfin.domain.access import SYSTEM
from chainfin.domain.registry import BankRecord, EnterpriseRecord, Role
from chainfin.domain.uscc import make_uscc
from chainfin.services import portfolio, registry
from testkeys import TEST_DATA_KEYS

HEAVY = (
    "sklearn",
    "optbinning",
    "scipy",
    "pandas",
    "numpy",
    "fastapi",
    "starlette",
    "uvicorn",
    "lxml",
    "alembic",
    "holidays.countries",
    "chainfin.api",
    "chainfin.risk",
)
# Help needs none of the database, the services or the resources either (pydantic is
# allowed: Typer itself converts parameters with it).
NOT_FOR_HELP = (
    *HEAVY,
    "sqlalchemy",
    "chainfin.adapters.db",
    "chainfin.config",
    "chainfin.services",
    "chainfin.resources",
)

# Runs the CLI in a fresh interpreter, as the console script does, and reports which of the
# named packages it loaded: {"exit": code, "loaded": [...]}, one line per argument list.
PROBE = """
import json, sys
import typer
from chainfin.cli.main import app

names = json.loads(sys.argv[1])
command = typer.main.get_command(app)
for args in json.loads(sys.argv[2]):
    try:
        command.main(args, prog_name="chainfin", standalone_mode=False)
        code = 0
    except SystemExit as exc:
        code = exc.code
    loaded = sorted({n for n in names for m in sys.modules if m == n or m.startswith(n + ".")})
    print(json.dumps({"args": args, "exit": code, "loaded": loaded}), file=sys.__stderr__)
"""


def probe(names: tuple[str, ...], *commands: list[str], env: dict[str, str] | None = None) -> list:  # type: ignore[type-arg]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(names), json.dumps(list(commands))],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    lines = [line for line in done.stderr.splitlines() if line.startswith('{"args"')]
    assert len(lines) == len(commands), done.stderr
    return [json.loads(line) for line in lines]


def test_importing_the_cli_loads_nothing_heavy() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys, chainfin.cli.main; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = done.stdout.split()
    assert [m for m in modules if m.startswith(tuple(f"{n}." for n in NOT_FOR_HELP))] == []
    assert [m for m in modules if m in NOT_FOR_HELP] == []


def _subapps() -> list[str]:
    return sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_every_help_loads_nothing_heavy() -> None:
    commands = [["--help"]] + [[name, "--help"] for name in _subapps()]
    commands += [
        ["ledger", "verify", "--help"],
        ["loan", "list", "--help"],
        ["risk", "train", "--help"],
        ["risk", "model", "register", "--help"],
        ["serve", "--help"],
    ]
    for result in probe(NOT_FOR_HELP, *commands):
        assert (result["args"], result["exit"], result["loaded"]) == (result["args"], 0, [])


def _group_commands(parent: typer.Typer) -> set[Callable[..., object]]:
    """The function of every command in ``parent``'s groups, down the tree."""
    found: set[Callable[..., object]] = set()
    for info in parent.registered_groups:
        assert info.typer_instance is not None
        found |= {c.callback for c in info.typer_instance.registered_commands if c.callback}
        found |= _group_commands(info.typer_instance)
    return found


@pytest.mark.parametrize(
    ("args", "built"),
    [
        (["--help"], set()),
        (["loan", "list", "--help"], {lending_cli.loan_list_cmd}),
        (["risk", "model", "list", "--help"], {risk_models.list_cmd}),
    ],
)
def test_a_command_builds_only_itself(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    built: set[Callable[..., object]],
) -> None:
    """Typer reads every parameter of each command it builds (~0.5 ms a command):
    ``chainfin --help`` builds none of the groups' ~140 commands, a command only itself."""
    read: list[Callable[..., object]] = []
    real = typer.main.get_params_from_function

    def reading(func: Callable[..., object]) -> object:
        read.append(func)
        return real(func)

    monkeypatch.setattr(typer.main, "get_params_from_function", reading)
    command = typer.main.get_command(app)
    assert command.main(args, prog_name="chainfin", standalone_mode=False) == 0
    assert "Usage: chainfin" in capsys.readouterr().out
    assert set(read) & _group_commands(GROUPS) == built


@pytest.fixture
def bank_db(
    database_url: str,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[dict[str, str]]:
    uscc = make_uscc("9", "1", "310115", "00000001")
    with transaction(session_factory) as s:
        registry.import_enterprises(
            s, SYSTEM, [EnterpriseRecord(uscc, "bank A", "310115", "J66", frozenset({Role.BANK}))]
        )
        registry.create_bank(s, SYSTEM, BankRecord("BKA", "bank A", uscc))
    env = {
        **{k: v for k, v in __import__("os").environ.items() if not k.startswith("CHAINFIN_")},
        "CHAINFIN_DATABASE_URL": database_url,
        "CHAINFIN_VAR_DIR": str(tmp_path),
        "CHAINFIN_DATA_KEYS": TEST_DATA_KEYS,
    }
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def test_a_bank_users_reads_load_no_modelling_or_web_library(bank_db: dict[str, str]) -> None:
    reads = [
        ["loan", "list", "--bank", "BKA"],
        ["line", "list", "--bank", "BKA"],
        ["risk", "alerts", "--bank", "BKA"],
        ["product", "list", "--bank", "BKA"],
        ["chains", "list"],
    ]
    for result in probe(HEAVY, *reads, env=bank_db):
        assert (result["args"], result["exit"], result["loaded"]) == (result["args"], 0, [])


def test_names_spelled_out_for_help_agree_with_their_source() -> None:
    assert EXPOSURE_DIMENSIONS.split(", ") == list(portfolio.DIMENSIONS)
    assert [s.value for s in Scale] == [s.value for s in synthetic.Scale]
    assert [r.value for r in RegionChoice] == [
        *(k.value for k in synthetic.RegionKey),
        "all",
    ]
