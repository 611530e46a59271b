"""`chainfin risk train` and `chainfin risk score` from a terminal, on the fixed dataset of
tests/risk: train with --json writes the model and its card, score gives three reasons per
row, bad input and a tampered model exit 1 with the reason."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from chainfin.cli import app

runner = CliRunner()
DATA = Path(__file__).parent / "risk" / "data" / "applications.csv"


def test_train_then_score(tmp_path: Path) -> None:
    model = tmp_path / "m.pkl"
    args = ["risk", "train", "--data", str(DATA), "--target", "default", "--model", str(model)]
    args += ["--id-column", "app_id", "--exclude", "applied_on", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["auc"] > 0.75
    assert body["gini"] == 2 * body["auc"] - 1
    assert 0 < body["ks"] <= 1
    assert body["split"]["method"] == "stratified-holdout"
    assert model.exists()
    assert (tmp_path / "m.pkl.card.json").exists()

    out = tmp_path / "scores.csv"
    args = ["risk", "score", "--model", str(model), "--data", str(DATA), "--id-column", "app_id"]
    result = runner.invoke(app, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["rows"] == 500
    first = body["scores"][0]
    assert (first["row"], first["id"], first["score"]) == (2, "A0001", 531.0)
    assert all(len(s["reasons"]) == 3 for s in body["scores"])
    assert first["reasons"][0]["variable"] == "debt_ratio"
    assert out.read_text().splitlines()[0].startswith("row,id,score,pd,reason1_variable")

    plain = runner.invoke(app, ["risk", "score", "--model", str(model), "--data", str(DATA)])
    assert plain.exit_code == 0, plain.output
    assert "450 more rows" in plain.stdout

    blob = bytearray(model.read_bytes())
    blob[-2] ^= 1
    model.write_bytes(bytes(blob))
    tampered = runner.invoke(app, ["risk", "score", "--model", str(model), "--data", str(DATA)])
    assert tampered.exit_code == 1
    assert "SHA-256" in tampered.stderr


def test_bad_input_exits_1_with_the_reason(tmp_path: Path) -> None:
    text = DATA.read_text().splitlines()
    text[5] = text[5].rsplit(",", 1)[0] + ",2"  # a target of 2 in row 6
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(text) + "\n")
    result = runner.invoke(app, ["risk", "train", "--data", str(bad), "--target", "default"])
    assert result.exit_code == 1
    assert "default" in result.stderr
    assert "values seen: '0', '1', '2'" in result.stderr

    result = runner.invoke(
        app, ["risk", "train", "--data", str(DATA), "--target", "nope", "--json"]
    )
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["errors"] == [{"field": "nope", "reason": "no such column (named for training)"}]

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = runner.invoke(app, ["risk", "train", "--data", str(empty), "--target", "default"])
    assert result.exit_code == 1
    assert "empty file" in result.stderr
