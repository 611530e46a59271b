"""`chainfin line|product|loan` and `chainfin books gl` from a terminal: a receivable loan
from product to settled books, a referral through due diligence and maker-checker, and bad
input refused with the field named and nothing written."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from chainfin.adapters.formats.iso20022 import validate_camt053, validate_pain001
from chainfin.cli import app
from chainfin.config import get_settings
from chainfin.domain.clock import utcnow
from credit_world import uscc
from lending_world import LendingWorld, build_lending
from testkeys import TEST_DATA_KEYS
from worldclock import WORLD_DAY

runner = CliRunner()

# An applicant may not backdate a decision, so every date here is relative to the real
# date (the services' clock) and keeps the same gaps whatever day the tests run.
TODAY = WORLD_DAY  # an applicant cannot backdate: dates here are relative to the world's day
ON = TODAY.isoformat()
EXECUTION = TODAY + timedelta(days=5)  # the disbursement file's date, the loans' start
EXECUTION_ON = EXECUTION.isoformat()
ACCRUE_ON = (TODAY + timedelta(days=50)).isoformat()  # after the first instalment
GL_SINCE = (TODAY + timedelta(days=36)).isoformat()  # after the payout, before the accrual
LINE_STARTS = (TODAY - timedelta(days=330)).isoformat()

CORE, T1, T2 = uscc(3), uscc(4), uscc(5)
PAYEE = ("--payee-name", "t1 co", "--payee-account", "6222020200112233445")
AGENT = ("--payee-agent", "102100099996")
DEBTOR = (
    "--debtor-name", "bank A loan settlement",
    "--debtor-account", "110000000000000001",
    "--debtor-agent", "102100099996",
)  # fmt: skip


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
    yield build_lending(session_factory)
    get_settings.cache_clear()


def run(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == code, result.stdout + result.stderr
    return json.loads(result.stdout)


def human(*args: str) -> str:
    """The same command for a person: exit 0 and what it printed."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def listed(*args: str) -> list[Any]:
    """A list command's items: with --json it prints one page, ``{items, next_cursor}``."""
    page = run(*args)
    assert page["next_cursor"] is None
    items: list[Any] = page["items"]
    return items


def amount(body: dict[str, Any], key: str) -> str:
    """An amount of a resource: a decimal string beside the resource's currency."""
    assert body["currency"] == "CNY"
    value: str = body[key]
    return value


def camt053(end_to_end_id: str, on: date) -> bytes:
    """The bank's statement for the execution date ``on``: the disbursement left, and a
    credit arrived that nothing on file explains."""
    day, stamp = on.isoformat(), f"{on:%Y%m%d}"

    def entry(ref: str, amount: str, side: str, refs: str, info: str) -> str:
        return f"""
   <Ntry><NtryRef>{ref}</NtryRef><Amt Ccy="CNY">{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd>
    <Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>
    <BkTxCd><Prtry><Cd>PMNT</Cd></Prtry></BkTxCd>
    <NtryDtls><TxDtls>{refs}<RmtInf><Ustrd>{info}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""

    entries = entry(
        ref="E-1",
        amount="400000.00",
        side="DBIT",
        refs=f"<Refs><EndToEndId>{end_to_end_id}</EndToEndId></Refs>",
        info="loan drawdown",
    ) + entry(ref="E-2", amount="1234.00", side="CRDT", refs="", info="gift")

    def balance(code: str, amount: str) -> str:
        return f"""
   <Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">{amount}</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>"""

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>STMT-{stamp}</MsgId><CreDtTm>{day}T18:00:00+08:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>BKA-{stamp}</Id><CreDtTm>{day}T18:00:00+08:00</CreDtTm>
   <Acct><Id><Othr><Id>110000000000000001</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
   {balance(code="OPBD", amount="1000000.00")}
   {balance(code="CLBD", amount="601234.00")}
   {entries}
  </Stmt>
 </BkToCstmrStmt>
</Document>
""".encode()


def test_receivable_loan_from_product_to_settled_books(lw: LendingWorld, tmp_path: Path) -> None:
    product = run(
        "product", "define", "--bank", "BKA", "--code", "rf-cli",
        "--name", "receivables (CLI)", "--kind", "receivable_financing",
    )  # fmt: skip
    assert (product["code"], product["kind"], product["status"]) == (
        "rf-cli",
        "receivable_financing",
        "active",
    )
    assert "rf-cli" in [p["code"] for p in listed("product", "list", "--bank", "BKA")]
    line = run(
        "line", "open", "--bank", "BKA", "--obligor", CORE, "--limit", "5000000.00",
        "--starts", LINE_STARTS, "--expires", (TODAY + timedelta(days=582)).isoformat(),
    )  # fmt: skip
    assert (amount(line, "limit"), line["status"], line["revolving"]) == (
        "5000000.00",
        "active",
        True,
    )
    member = run(
        "line", "sublimit", line["id"], "--bank", "BKA", "--limit", "2000000.00", "--member", T1
    )
    kind = run(
        "line", "sublimit", line["id"], "--bank", "BKA", "--limit", "3000000.00",
        "--product-kind", "receivable_financing",
    )  # fmt: skip
    cap = run("line", "cap", "--bank", "BKA", "--name", "core chain", "--cap", "40000000.00",
              "--core", CORE)  # fmt: skip
    assert (cap["kind"], amount(cap, "used")) == ("core", "0.00")
    assert [c["id"] for c in listed("line", "caps", "--bank", "BKA")] == [cap["id"]]

    applied = run(
        "loan", "apply", "--as", T1, "--bank", "BKA", "--product", "rf-cli",
        "--amount", "400000.00", "--tenor-months", "3", "--method", "bullet",
        "--underlying-kind", "invoice", "--underlying", lw.docs["INV-T1-2"],
        *PAYEE, *AGENT, "--line", line["id"], "--on", ON,
    )  # fmt: skip
    assert applied["status"] == "approved", applied["decision"]
    assert applied["payee"]["account"].endswith("3445")
    loan_id = applied["loan_id"]
    held = run("line", "show", line["id"], "--bank", "BKA")
    assert amount(held, "pending") == "400000.00"
    subs = {s["id"]: amount(s, "available") for s in held["sublimits"]}
    assert subs == {member["id"]: "1600000.00", kind["id"]: "2600000.00"}
    assert amount(listed("line", "caps", "--bank", "BKA")[0], "used") == "400000.00"
    assert [a["id"] for a in listed("loan", "applications", "--as", T1)] == [applied["id"]]

    xml_path = tmp_path / "disbursement.xml"
    paid = run(
        "loan", "disburse", "--bank", "BKA", *DEBTOR, "--execution-on", EXECUTION_ON,
        "--loan", loan_id, "--out", str(xml_path),
    )  # fmt: skip
    assert (paid["count"], amount(paid, "total")) == (1, "400000.00")
    assert [x["id"] for x in paid["loans"]] == [loan_id]
    data = xml_path.read_bytes()
    assert validate_pain001(data) == []
    end_to_end = paid["loans"][0]["end_to_end_id"]
    assert f"<EndToEndId>{end_to_end}</EndToEndId>".encode() in data

    statement = tmp_path / "camt053.xml"
    statement.write_bytes(camt053(end_to_end, EXECUTION))
    assert validate_camt053(statement.read_bytes()) == []
    imported = run("loan", "statement-import", str(statement), "--bank", "BKA")
    assert [(m["kind"], m["loan_id"]) for m in imported["matched"]] == [("disbursement", loan_id)]
    assert [(u["entry"], u["credit"]) for u in imported["unmatched"]] == [(2, True)]
    assert imported["unmatched"][0]["reason"]
    again = run("loan", "statement-import", str(statement), "--bank", "BKA")
    assert again["id"] == imported["id"]

    loan = run("loan", "show", loan_id, "--bank", "BKA", "--as-of", EXECUTION_ON)
    assert (loan["status"], loan["start_on"], loan["disbursement_confirmed"]) == (
        "disbursed",
        EXECUTION_ON,
        True,
    )
    assert len(loan["schedule"]) == 3
    assert run("loan", "accrue", "--bank", "BKA", "--as-of", ACCRUE_ON)["journals"] == 1
    for n, row in enumerate(loan["schedule"]):
        due = Decimal(row["principal"]) + Decimal(row["interest"])
        repaid = run(
            "loan", "repay", loan_id, "--bank", "BKA", "--amount", f"{due:.2f}",
            "--value-on", row["due_on"], "--source-ref", f"manual-{n}",
        )  # fmt: skip
        assert (amount(repaid, "principal"), amount(repaid, "excess")) == (
            row["principal"],
            "0.00",
        )
    last_due = loan["schedule"][-1]["due_on"]  # the maturity, three months after the start
    settled = run("loan", "show", loan_id, "--bank", "BKA", "--as-of", last_due)
    assert settled["status"] == "settled"
    assert settled["position"]["total_due"] == "0.00"
    assert settled["position"]["principal_outstanding"] == "0.00"
    assert len(settled["repayments"]) == 3
    assert listed("loan", "list", "--bank", "BKA", "--status", "settled")[0]["id"] == loan_id
    freed = run("line", "show", line["id"], "--bank", "BKA")
    assert (amount(freed, "pending"), amount(freed, "posted")) == ("0.00", "0.00")
    assert run("loan", "scan", "--bank", "BKA", "--as-of", last_due)["loans"] == 0

    shown = human("loan", "show", loan_id, "--bank", "BKA", "--as-of", last_due)
    assert "settled" in shown
    assert "schedule" in shown
    assert line["id"] in human("line", "list", "--bank", "BKA")
    assert cap["id"] in human("line", "caps", "--bank", "BKA")
    assert "rf-cli" in human("product", "list", "--bank", "BKA")
    assert loan_id in human("loan", "list", "--bank", "BKA")
    assert "sub-limit" in human("line", "show", line["id"], "--bank", "BKA")
    assert "1 matched, 1 unmatched" in human("loan", "statement-import", str(statement),
                                            "--bank", "BKA")  # fmt: skip

    gl_path = tmp_path / "gl.csv"
    summary = run("books", "gl", "--bank", "BKA", "--format", "csv", "--out", str(gl_path))
    assert summary["balanced"] is True
    rows = list(csv.DictReader(io.StringIO(gl_path.read_text("utf-8"))))
    assert len(rows) == summary["rows"]
    assert sum(Decimal(r["debit"]) for r in rows) == sum(Decimal(r["credit"]) for r in rows)
    net: dict[str, Decimal] = {}
    for r in rows:
        net[r["account"]] = (
            net.get(r["account"], Decimal(0)) + Decimal(r["debit"]) - Decimal(r["credit"])
        )
    assert net["1303"] == 0  # the loan is repaid
    assert net["1132"] == 0  # every accrued interest was received
    assert net["2014"] == 0  # the disbursement left on the statement
    assert {"loan_disbursed", "loan_paid_out", "loan_accrual", "loan_repayment"} <= {
        r["kind"] for r in rows
    }
    as_json = run("books", "gl", "--bank", "BKA", "--since", GL_SINCE)
    assert as_json
    assert all(r["value_on"] >= GL_SINCE for r in as_json)


def _complete_tasks(app: dict[str, Any], tmp_path: Path) -> None:
    checklist = tmp_path / "visit.json"
    checklist.write_text(
        json.dumps(
            {
                "premises_verified": True,
                "production_running": True,
                "inventory_on_hand": "1600000.00",
                "findings": "20 t of copper foil in the bonded warehouse, as receipted",
                "gps": {"lat": 31.30, "lon": 120.62},
                "visited_at": (utcnow() - timedelta(hours=2)).isoformat(),
                "attachments": [{"name": "shelf.jpg", "sha256": "a" * 64}],
            }
        ),
        encoding="utf-8",
    )
    statements = tmp_path / "statements.csv"
    statements.write_text(
        "item,amount\nas_of,2025-12-31\nperiod_start,2025-01-01\nperiod_end,2025-12-31\n"
        "cash,1200000.00\nreceivables,3000000.00\ninventory,2500000.00\n"
        "current_assets,6700000.00\ntotal_assets,12000000.00\npayables,2000000.00\n"
        "current_liabilities,4000000.00\ntotal_liabilities,6000000.00\nequity,6000000.00\n"
        "revenue,20000000.00\ncost_of_sales,16000000.00\noperating_profit,1500000.00\n"
        "interest_expense,200000.00\nnet_profit,1000000.00\n",
        encoding="utf-8",
    )
    for task in app["tasks"]:
        if task["kind"] == "site_visit":
            done = run("loan", "site-visit", task["id"], "--bank", "BKA",
                       "--checklist", str(checklist))  # fmt: skip
            assert done["result"]["concerns"] == []
        else:
            assert task["kind"] == "financial_analysis"
            done = run("loan", "financial-analysis", task["id"], "--bank", "BKA",
                       "--statements", str(statements))  # fmt: skip
            assert "current_ratio" in done["result"]["ratios"]
        assert done["state"] == "completed"


def test_referral_through_due_diligence_and_maker_checker(lw: LendingWorld, tmp_path: Path) -> None:
    app = run(
        "loan", "apply", "--as", T2, "--bank", "BKA", "--product", "inventory_pledge",
        "--amount", "1000000.00", "--tenor-months", "3",
        "--underlying-kind", "warehouse_receipt", "--underlying", lw.docs["WR-1"],
        *PAYEE, *AGENT, "--on", ON,
    )  # fmt: skip
    assert app["status"] == "referred", app["decision"]
    assert "new_customer" in [r["code"] for r in app["decision"]["reasons"]]
    assert "site_visit" in [t["kind"] for t in app["tasks"]]
    assert "new_customer" in human("loan", "application", app["id"], "--as", T2)
    assert "site_visit" in human("loan", "tasks", "--bank", "BKA")
    assert app["id"] in human("loan", "applications", "--bank", "BKA")
    open_tasks = listed("loan", "tasks", "--bank", "BKA", "--state", "open")
    assert {t["id"] for t in open_tasks} == {t["id"] for t in app["tasks"]}
    assert [a["id"] for a in listed("loan", "applications", "--bank", "BKA",
                                    "--status", "referred")]  # fmt: skip

    review = ("loan", "review", app["id"], "--bank", "BKA")
    made = run(
        *review, "--user", "bka-ck1", "--action", "approve",
        "--note", "stock verified by receipt", "--condition", "signed pledge agreement",
    )  # fmt: skip
    assert [(a["step"], a["action"]) for a in made["approvals"]] == [("maker", "approve")]
    assert made["approvals"][0]["user_id"] == lw.staff_ids["ck1"]
    same = run(*review, "--user", "bka-ck1", "--action", "approve", "--note", "ok", code=1)
    assert (same["code"], "four eyes" in same["detail"]) == ("four_eyes_required", True)
    unauthorised = run(*review, "--user", "bka-rm", "--action", "approve", "--note", "ok", code=1)
    assert "you hold none" in unauthorised["detail"]
    granted = run("product", "authority", "--bank", "BKA", "--user", "bka-rm", "--level", "1")
    assert (granted["user_id"], granted["level"]) == (lw.staff_ids["rm"], 1)
    early = run(*review, "--user", "bka-rm", "--action", "approve", "--note", "ok", code=1)
    assert "due diligence is not finished" in early["detail"]

    _complete_tasks(app, tmp_path)
    assert listed("loan", "tasks", "--bank", "BKA", "--state", "open") == []
    checked = run(*review, "--user", "bka-rm", "--action", "approve",
                  "--note", "within level 1", "--on", ON)  # fmt: skip
    assert checked["status"] == "approved"
    assert [c["text"] for c in checked["conditions"]] == ["signed pledge agreement"]
    steps = checked["approvals"]
    assert [(a["step"], a["level"]) for a in steps] == [("maker", 1), ("checker", 1)]
    assert steps[1]["user_id"] == lw.staff_ids["rm"]

    out_xml = tmp_path / "d.xml"
    blocked = run("loan", "disburse", "--bank", "BKA", *DEBTOR, "--execution-on", EXECUTION_ON,
                  "--loan", checked["loan_id"], "--out", str(out_xml), code=1)  # fmt: skip
    assert "conditions not met" in blocked["errors"][0]["reason"]
    assert not out_xml.exists()
    note = f"signed {TODAY + timedelta(days=1):%m-%d}"
    met = run("loan", "condition-met", app["id"], "1", "--bank", "BKA", "--note", note)
    assert met["conditions"][0]["met"] is True
    paid = run("loan", "disburse", "--bank", "BKA", *DEBTOR, "--execution-on", EXECUTION_ON,
               "--out", str(out_xml))  # fmt: skip
    assert [x["id"] for x in paid["loans"]] == [checked["loan_id"]]
    assert validate_pain001(out_xml.read_bytes()) == []


def test_bad_input_names_the_field_and_writes_nothing(lw: LendingWorld, tmp_path: Path) -> None:
    apply = (
        "loan", "apply", "--as", T1, "--bank", "BKA", "--product", "receivable_financing",
        "--tenor-months", "3", "--underlying-kind", "invoice",
        "--underlying", lw.docs["INV-T1-2"], "--payee-name", "t1 co", *AGENT,
    )  # fmt: skip
    bad = run(*apply, "--amount", "400000.00", "--payee-account", "abc", code=1)
    assert bad["code"] == "validation_failed"
    assert [e["field"] for e in bad["errors"]] == ["payee.account"]
    human = runner.invoke(app, [*apply, "--amount", "400000.00", "--payee-account", "abc"])
    assert human.exit_code == 1
    assert "payee.account" in human.stderr
    assert "nothing was written" in human.stderr
    cents = run(*apply, "--amount", "400000.001", "--payee-account", "6222020200112233445", code=1)
    assert [e["field"] for e in cents["errors"]] == ["amount"]
    assert listed("loan", "applications", "--bank", "BKA") == []
    assert listed("loan", "list", "--bank", "BKA") == []

    expires = (TODAY + timedelta(days=36)).isoformat()
    when = run("line", "open", "--bank", "BKA", "--obligor", CORE, "--limit", "1.00",
               "--starts", f"{TODAY.year}-13-01", "--expires", expires, code=1)  # fmt: skip
    assert [e["field"] for e in when["errors"]] == ["starts_on"]
    member = run("line", "open", "--bank", "BKA", "--obligor", T1, "--limit", "1000.00",
                 "--starts", LINE_STARTS, "--expires", expires, code=1)  # fmt: skip
    assert [e["field"] for e in member["errors"]] == ["obligor"]
    assert len(listed("line", "list", "--bank", "BKA")) == 1  # the world's own line only
    nobody = run("loan", "review", "application_x", "--bank", "BKA", "--user", "ghost",
                 "--action", "approve", "--note", "n", code=1)  # fmt: skip
    assert [e["field"] for e in nobody["errors"]] == ["--user"]
    out_xml = tmp_path / "none.xml"
    empty = run("loan", "disburse", "--bank", "BKA", *DEBTOR, "--execution-on", EXECUTION_ON,
                "--out", str(out_xml), code=1)  # fmt: skip
    assert [e["field"] for e in empty["errors"]] == ["loan_ids"]
    assert not out_xml.exists()
    neither = run("product", "define", "--bank", "BKA", "--code", "x", "--name", "x", code=1)
    assert [e["field"] for e in neither["errors"]] == ["--kind/--config"]


def test_a_repayment_by_source_ref_applies_once(lw: LendingWorld, tmp_path: Path) -> None:
    run(
        "product", "define", "--bank", "BKA", "--code", "rf-ref",
        "--name", "receivables", "--kind", "receivable_financing",
    )  # fmt: skip
    line = run(
        "line", "open", "--bank", "BKA", "--obligor", CORE, "--limit", "5000000.00",
        "--starts", LINE_STARTS, "--expires", (TODAY + timedelta(days=582)).isoformat(),
    )  # fmt: skip
    run("line", "sublimit", line["id"], "--bank", "BKA", "--limit", "2000000.00", "--member", T1)
    applied = run(
        "loan", "apply", "--as", T1, "--bank", "BKA", "--product", "rf-ref",
        "--amount", "400000.00", "--tenor-months", "3", "--method", "bullet",
        "--underlying-kind", "invoice", "--underlying", lw.docs["INV-T1-2"],
        *PAYEE, *AGENT, "--line", line["id"], "--on", ON,
    )  # fmt: skip
    assert applied["status"] == "approved", applied["decision"]
    loan_id = applied["loan_id"]
    run(
        "loan", "disburse", "--bank", "BKA", *DEBTOR, "--execution-on", EXECUTION_ON,
        "--loan", loan_id, "--out", str(tmp_path / "pain001.xml"),
    )  # fmt: skip
    value_on = (EXECUTION + timedelta(days=10)).isoformat()
    repay = (
        "loan", "repay", loan_id, "--bank", "BKA", "--amount", "1000.00",
        "--value-on", value_on, "--source-ref", "STMT-9/E-4",
    )  # fmt: skip
    first = run(*repay)
    assert run(*repay)["id"] == first["id"]
    assert len(run("loan", "show", loan_id, "--bank", "BKA")["repayments"]) == 1
    other = run(*repay[:6], "1200.00", *repay[7:], code=1)
    assert other["code"] == "exists_with_different_request"
    assert "amount was 1000.00 CNY, now 1200.00 CNY" in other["detail"]


def test_json_prints_the_resource_the_api_answers(lw: LendingWorld, tmp_path: Path) -> None:
    """One shape everywhere: a line, a product and a price with --json are the API's models,
    rates named with their unit, also in the configuration file a product is defined from."""
    from chainfin.resources import lending as resources

    config = tmp_path / "pledge.json"
    config.write_text(
        json.dumps({"kind": "inventory_pledge", "ltv_cap_pct": "65", "margin_call_ltv_pct": "75"}),
        encoding="utf-8",
    )
    product = run("product", "define", "--bank", "BKA", "--code", "pl-cli", "--name", "pledge",
                  "--config", str(config))  # fmt: skip
    assert (product["config"]["ltv_cap_pct"], product["config"]["advance_rate_cap_pct"]) == (
        "65",
        "70",
    )
    assert resources.LoanProductOut.model_validate(product).model_dump(mode="json") == product
    config.write_text(json.dumps({"kind": "inventory_pledge", "ltv_cap": "0.65"}), "utf-8")
    refused = run("product", "define", "--bank", "BKA", "--code", "pl-old", "--name", "pledge",
                  "--config", str(config), code=1)  # fmt: skip
    assert [e["field"] for e in refused["errors"]] == ["ltv_cap"]
    [line] = listed("line", "list", "--bank", "BKA")
    shown = run("line", "show", line["id"], "--bank", "BKA")
    assert set(shown) == set(resources.CreditLineDetailOut.model_fields)
    assert {k: v for k, v in shown.items() if k != "sublimits"} == line
    price = run("loan", "price", "set", "--bank", "BKA", "--item", "copper foil", "--on", ON,
                "--price", "80000.00", "--unit", "t", "--source", "SHFE")  # fmt: skip
    assert set(price) == set(resources.CommodityPriceOut.model_fields)
    assert (price["price"], price["currency"], price["owner"]) == ("80000.00", "CNY", "bank")
