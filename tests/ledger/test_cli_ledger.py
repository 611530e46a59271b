"""`chainfin ledger` from an operator's and an auditor's terminal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainfin.cli import app
from chainfin.config import get_settings
from testkeys import TEST_DATA_KEYS

runner = CliRunner()


@pytest.fixture
def seeded(
    database_url: str, session_factory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHAINFIN_DATABASE_URL", database_url)
    monkeypatch.setenv("CHAINFIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHAINFIN_DATA_KEYS", TEST_DATA_KEYS)
    get_settings.cache_clear()
    r = runner.invoke(app, ["demo", "seed", "--region", "jjj", "--scale", "small", "--no-users"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["ledger", "sequence"])
    assert r.exit_code == 0, r.output
    yield tmp_path
    get_settings.cache_clear()


def invoke_json(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = runner.invoke(app, [*args, "--json"])
    return r.exit_code, json.loads(r.stdout)


def test_verify_export_and_verify_export(seeded: Path) -> None:
    code, report = invoke_json("ledger", "verify")
    assert code == 0, report["findings"]
    assert report["ok"] is True
    assert report["entries"] == report["tree_size"] > 100
    code, summary = invoke_json("ledger", "export", str(seeded / "export"))
    assert code == 0
    assert summary["entries"] == report["entries"]
    code, again = invoke_json("ledger", "verify-export", str(seeded / "export"))
    assert code == 0
    assert again["root_hash"] == report["root_hash"]
    checkpoint = runner.invoke(app, ["ledger", "checkpoint"])
    assert checkpoint.stdout.splitlines()[1] == str(report["tree_size"])


def _rewrite_entries(export: Path, change) -> None:  # type: ignore[no-untyped-def]
    path = export / "entries.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(change(lines)), encoding="utf-8")


def _edit_payload(lines: list[str]) -> list[str]:
    row = json.loads(lines[5])
    row["payload"] = row["payload"].replace('"C', '"D', 1)
    row["leaf_hash"] = ""  # an editor would recompute it; we drop it
    lines[5] = json.dumps(row, ensure_ascii=False) + "\n"
    return lines


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("changed entry", _edit_payload, "checkpoint"),
        ("deleted entry", lambda lines: lines[:3] + lines[4:], "sequence"),
        ("reordered entries", lambda lines: [lines[1], lines[0], *lines[2:]], "sequence"),
        ("truncated log", lambda lines: lines[:-1], "checkpoint"),
    ],
)
def test_a_tampered_export_fails_alone(seeded: Path, name: str, change, expected: str) -> None:  # type: ignore[no-untyped-def]
    export = seeded / "export"
    assert runner.invoke(app, ["ledger", "export", str(export)]).exit_code == 0

    def keep_leaf_optional(lines: list[str]) -> list[str]:
        out = change(lines)
        fixed = []
        for line in out:
            row = json.loads(line)
            if row["leaf_hash"] == "":
                row["leaf_hash"] = "00" * 32
            fixed.append(json.dumps(row, ensure_ascii=False) + "\n")
        return fixed

    _rewrite_entries(export, keep_leaf_optional)
    code, report = invoke_json("ledger", "verify-export", str(export))
    assert code == 1, name
    assert any(f["check"] == expected for f in report["findings"]), report["findings"]


def test_a_forged_checkpoint_in_an_export_fails(seeded: Path) -> None:
    export = seeded / "export"
    runner.invoke(app, ["ledger", "export", str(export)])
    note = next((export / "checkpoints").glob("*.note"))
    text = note.read_text()
    lines = text.split("\n")
    lines[2] = lines[2][:-2] + ("A=" if not lines[2].endswith("A=") else "B=")
    note.write_text("\n".join(lines))
    code, report = invoke_json("ledger", "verify-export", str(export))
    assert code == 1
    assert report["findings"][0]["check"] == "signature"


def test_tampering_in_the_database_fails_verify_with_exit_1(seeded: Path, session_factory) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with session_factory() as s, s.begin():
        s.execute(text("UPDATE supply_relations SET since = '2001-01-01'"))
    code, report = invoke_json("ledger", "verify")
    assert code == 1
    fields = {f["where"].split(" field ")[-1] for f in report["findings"]}
    assert fields == {"since"}


def test_rotate_key_then_verify(seeded: Path) -> None:
    r = runner.invoke(app, ["ledger", "rotate-key"])
    assert r.exit_code == 0
    assert r.stdout.startswith("new log key: chainfin.local/ledger+")
    firm = seeded / "firm.csv"
    firm.write_text(
        "uscc,name,region_code,industry_code,roles\n91110000600037341L,北京甲,110105,C36,core\n",
        encoding="utf-8",
    )
    r = runner.invoke(app, ["registry", "import", str(firm), "--kind", "enterprises"])
    assert r.exit_code == 0, r.output
    runner.invoke(app, ["ledger", "sequence"])
    code, report = invoke_json("ledger", "verify")
    assert code == 0, report["findings"]
    assert report["checkpoints"] == 2


def test_witness_key_file_is_private(tmp_path: Path) -> None:
    key = tmp_path / "w.key"
    r = runner.invoke(app, ["ledger", "witness-key", "auditor-1", "-o", str(key)])
    assert r.exit_code == 0
    assert r.stdout.startswith("auditor-1+")
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_text().startswith("PRIVATE+KEY+auditor-1+")
