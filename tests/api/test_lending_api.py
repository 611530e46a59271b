"""Lending from the client's side: a bank sets up products, a line and authority; an
enterprise applies; the rules approve, refer or decline; people do the due diligence and
the maker-checker review; the bank pays out by pain.001, takes repayments, imports camt.053
statements and exports its general ledger. With tenancy, idempotency and precise errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from apiworld import PASSWORD, World, login
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.adapters.db.models import CreditLine, CreditSublimit
from chainfin.adapters.formats.iso20022 import validate_pain001
from chainfin.domain.access import SYSTEM
from chainfin.domain.clock import utcnow
from chainfin.resources.lending import GeneralLedgerLineOut
from chainfin.services import auth, rates
from chainfin.services.books import GL_COLUMNS
from chainfin.services.lending import lines
from reference import REFERENCE
from worldclock import WORLD_DAY

ISO = REFERENCE / "iso20022"
# An applicant may not backdate a decision, so every date here is relative to the real
# date (the services' clock) and keeps the same gaps whatever day the tests run.
TODAY = WORLD_DAY  # an applicant cannot backdate: dates here are relative to the world's day
ON = TODAY.isoformat()
EXECUTION_ON = (TODAY + timedelta(days=5)).isoformat()  # the disbursement file's date
ACCRUE_ON = (TODAY + timedelta(days=50)).isoformat()  # after the first instalment
GL_SINCE = (TODAY + timedelta(days=36)).isoformat()  # after the payout, before the accrual
LINE_STARTS = (TODAY - timedelta(days=330)).isoformat()
LINE_EXPIRES = (TODAY + timedelta(days=400)).isoformat()
PAYEE = {"name": "s1 co", "account": "6222020200112233445", "agent": "102100099996"}
BANK_ACCOUNT = {
    "debtor_name": "bank A",
    "debtor_account": "110000000000000001",
    "debtor_agent": "102100099996",
}
STATEMENTS_CSV = """item,amount
as_of,2025-12-31
period_start,2025-01-01
period_end,2025-12-31
cash,1000000.00
receivables,3000000.00
inventory,2000000.00
current_assets,8000000.00
total_assets,20000000.00
payables,1500000.00
current_liabilities,4000000.00
total_liabilities,12000000.00
equity,8000000.00
revenue,36500000.00
cost_of_sales,21900000.00
operating_profit,3000000.00
interest_expense,400000.00
net_profit,2000000.00
"""


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _items(r: Any) -> list[Any]:
    """The items of a one-page list (every list answers ``{items, next_cursor}``)."""
    page = _ok(r)
    assert page["next_cursor"] is None, "more than one page"
    items: list[Any] = page["items"]
    return items


def _invoice(client: TestClient, world: World, number: str, total: str) -> str:
    """s1 invoices core A; core A confirms it (a verified receivable)."""
    doc = {
        "kind": "invoice",
        "number": number,
        "seller_uscc": world.usccs["s1"],
        "buyer_uscc": world.usccs["core A"],
        "issue_date": (TODAY - timedelta(days=6)).isoformat(),
        "currency": "CNY",
        "total": total,
        "tax": "0.00",
        "invoice_number": f"2632000000000000{number[-4:]}",
        "due_date": (TODAY + timedelta(days=114)).isoformat(),
    }
    doc_id: str = _ok(client.post("/v1/documents", json=doc, headers=login(client, "s1")), 201)[
        "rows"
    ][0]["document_id"]
    r = client.post(f"/v1/documents/{doc_id}/confirm", headers=login(client, "coreA"))
    assert r.status_code == 200, r.text
    return doc_id


def _bank_setup(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> dict[str, Any]:
    """LPR fixings and two approvers (no API creates users), then through the API: a
    receivable product, a line to core A with a sub-limit for s1, s1's consent."""
    with transaction(session_factory) as s:
        rates.load_bundled(s, SYSTEM)
        for name in ("a-ck1", "a-ck2"):
            auth.create_user(
                s, SYSTEM, username=name, password=PASSWORD, roles=["approver"], bank_code="BKA"
            )
    admin, rm = login(client, "a-admin"), login(client, "a-rm")
    product = _ok(
        client.post(
            "/v1/loan-products",
            json={
                "code": "RF",
                "name": "receivable financing",
                # no rated programme for core A here: the bank's automatic-approval bar is lower
                "config": {"kind": "receivable_financing", "min_score_auto": 600},
            },
            headers=admin,
        ),
        201,
    )
    assert product["config"]["auto_approve_limit"] == "1000000.00"
    line = _ok(
        client.post(
            "/v1/credit-lines",
            json={
                "obligor": world.usccs["core A"],
                "limit": "20000000.00",
                "starts_on": LINE_STARTS,
                "expires_on": LINE_EXPIRES,
            },
            headers=admin,
        ),
        201,
    )
    assert line["receipt"]["entries"][0]["event_type"] == "line.opened"
    sub = _ok(
        client.post(
            f"/v1/credit-lines/{line['id']}/sublimits",
            json={"limit": "10000000.00", "member": world.usccs["s1"]},
            headers=rm,
        ),
        201,
    )
    assert sub["member_id"] == world.ids["s1"]
    r = client.post(
        "/v1/consents",
        json={
            "bank_code": "BKA",
            "categories": ["invoices", "trade_documents"],
            "purposes": ["credit_assessment"],
            "expires_at": (utcnow() + timedelta(days=365)).isoformat(),
        },
        headers=login(client, "s1"),
    )
    assert r.status_code == 201, r.text
    return {"product": product, "line": line["id"]}


def _application(underlying: str, amount: str, **over: Any) -> dict[str, Any]:
    return {
        "bank": "BKA",
        "product": "RF",
        "amount": amount,
        "tenor_months": 3,
        "method": "bullet",
        "underlying": {"kind": "invoice", "ref": underlying},
        "payee": PAYEE,
        "on": ON,
        **over,
    }


def test_automatic_approval_runs_to_settlement(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    setup = _bank_setup(client, world, session_factory)
    invoice = _invoice(client, world, "INV-0001", "500000.00")
    s1 = {**login(client, "s1"), "Idempotency-Key": "apply-inv-0001"}
    body = _application(invoice, "400000.00")
    app = _ok(client.post("/v1/loan-applications", json=body, headers=s1), 201)
    assert app["status"] == "approved", app["decision"]
    assert app["decision"]["reasons"] == []
    assert app["payee"]["account"].endswith("3445")
    assert app["payee"]["account"].startswith("*")
    assert app["receipt"] is not None
    again = client.post("/v1/loan-applications", json=body, headers=s1)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == app["id"]
    changed = client.post("/v1/loan-applications", json={**body, "amount": "300000.00"}, headers=s1)
    assert changed.status_code == 409
    # the approval holds the line
    rm = login(client, "a-rm")
    line = _ok(client.get(f"/v1/credit-lines/{setup['line']}", headers=rm))
    assert (line["pending"], line["currency"]) == ("400000.00", "CNY")
    loan_id = app["loan_id"]
    # tenancy: bank B sees none of it; another enterprise not s1's application or loan
    b_rm, s2 = login(client, "b-rm"), login(client, "s2-staff")
    for path in (
        f"/v1/loan-applications/{app['id']}",
        f"/v1/loans/{loan_id}",
        f"/v1/credit-lines/{setup['line']}",
    ):
        r = client.get(path, headers=b_rm)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
    assert _items(client.get("/v1/loan-applications", headers=b_rm)) == []
    assert _items(client.get("/v1/loans", headers=b_rm)) == []
    assert client.get(f"/v1/loan-applications/{app['id']}", headers=s2).status_code == 404
    assert client.get(f"/v1/loans/{loan_id}", headers=s2).status_code == 404
    assert _items(client.get("/v1/loan-applications", headers=s2)) == []
    mine = _items(client.get("/v1/loan-applications", headers=login(client, "s1")))
    assert [a["id"] for a in mine] == [app["id"]]
    # pay out: one pain.001 file, schema-valid
    dsb = _ok(
        client.post(
            "/v1/disbursements", json={**BANK_ACCOUNT, "execution_on": EXECUTION_ON}, headers=rm
        ),
        201,
    )
    assert (dsb["count"], dsb["total"], dsb["currency"]) == (1, "400000.00", "CNY")
    assert [x["id"] for x in dsb["loans"]] == [loan_id]
    assert dsb["link"] == f"/v1/disbursements/{dsb['id']}/pain001"
    xml = client.get(dsb["link"], headers=rm)
    assert xml.status_code == 200
    assert xml.headers["content-type"].startswith("application/xml")
    assert validate_pain001(xml.content) == []
    assert b"LN" in xml.content
    assert client.get(dsb["link"], headers=b_rm).status_code == 404
    loan = _ok(client.get(f"/v1/loans/{loan_id}?as_of={TODAY + timedelta(days=19)}", headers=rm))
    assert loan["status"] == "disbursed"
    assert loan["position"]["principal_outstanding"] == "400000.00"
    assert _ok(client.get(f"/v1/credit-lines/{setup['line']}", headers=rm))["posted"] == (
        "400000.00"
    )
    accrued = _ok(client.post("/v1/loans/accrue", json={"as_of": ACCRUE_ON}, headers=rm))
    assert accrued["journals"] == 1
    # repay each instalment on its due date
    for row in loan["schedule"]:
        due = Decimal(row["principal"]) + Decimal(row["interest"])
        paid = _ok(
            client.post(
                f"/v1/loans/{loan_id}/repayments",
                json={"amount": f"{due:.2f}", "value_on": row["due_on"]},
                headers=rm,
            ),
            201,
        )
        assert (paid["excess"], paid["penalty"]) == ("0.00", "0.00")
    loan = _ok(client.get(f"/v1/loans/{loan_id}", headers=login(client, "s1")))
    assert loan["status"] == "settled"
    assert loan["paid"]["principal"] == "400000.00"
    repayments = _items(client.get(f"/v1/loans/{loan_id}/repayments", headers=rm))
    assert len(repayments) == len(loan["schedule"])
    assert _ok(client.get(f"/v1/credit-lines/{setup['line']}", headers=rm))["available"] == (
        "20000000.00"
    )
    last_due = date.fromisoformat(loan["schedule"][-1]["due_on"])
    refused = client.post(
        f"/v1/loans/{loan_id}/repayments",
        json={"amount": "1.00", "value_on": (last_due + timedelta(days=1)).isoformat()},
        headers=rm,
    )
    assert refused.status_code == 409
    after = {"as_of": (last_due + timedelta(days=4)).isoformat()}
    scanned = _ok(client.post("/v1/loans/scan", json=after, headers=rm))
    assert scanned["loans"] == 0
    # the general ledger balances, streamed as CSV or JSON Lines
    auditor = login(client, "a-auditor")
    gl = client.get("/v1/books/BKA/general-ledger?format=csv", headers=auditor)
    assert gl.status_code == 200, gl.text
    assert gl.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(gl.text)))
    assert tuple(rows[0]) == GL_COLUMNS
    lines = [dict(zip(GL_COLUMNS, r, strict=True)) for r in rows[1:]]
    assert {ln["kind"] for ln in lines} == {"loan_disbursed", "loan_accrual", "loan_repayment"}
    assert sum(Decimal(ln["debit"]) for ln in lines) == sum(Decimal(ln["credit"]) for ln in lines)
    accept = client.get("/v1/books/BKA/general-ledger", headers={**auditor, "Accept": "text/csv"})
    assert accept.text == gl.text
    jsonl = client.get(f"/v1/books/BKA/general-ledger?since={GL_SINCE}", headers=auditor)
    assert jsonl.status_code == 200, jsonl.text
    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    streamed = [GeneralLedgerLineOut.model_validate_json(x) for x in jsonl.text.splitlines()]
    assert streamed
    assert all(r.value_on.isoformat() >= GL_SINCE for r in streamed)
    assert {(r.journal_id, r.line_no) for r in streamed} == {
        (ln["journal_id"], int(ln["line_no"])) for ln in lines if ln["value_on"] >= GL_SINCE
    }
    bad = client.get("/v1/books/BKA/general-ledger?format=xlsx", headers=auditor)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "format"
    assert client.get("/v1/books/BKA/general-ledger", headers=b_rm).status_code == 404


def test_referral_due_diligence_and_four_eyes(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _bank_setup(client, world, session_factory)
    big = _invoice(client, world, "INV-0002", "7000000.00")
    small = _invoice(client, world, "INV-0003", "500000.00")
    s1, rm, admin = login(client, "s1"), login(client, "a-rm"), login(client, "a-admin")
    ck1, ck2 = login(client, "a-ck1"), login(client, "a-ck2")
    for user in ("a-ck1", "a-ck2"):
        r = client.post("/v1/approval-authorities", json={"user": user, "level": 1}, headers=admin)
        assert r.status_code == 201, r.text
    # bad input: 422 problem+json naming the field
    bad = client.post(
        "/v1/loan-applications",
        json=_application(big, "6000000.00", payee={**PAYEE, "account": "62-AB"}),
        headers=s1,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in bad.json()["errors"]] == ["payee.account"]
    missing = {k: v for k, v in _application(big, "6000000.00").items() if k != "payee"}
    r = client.post("/v1/loan-applications", json={**missing, "colour": "red"}, headers=s1)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"payee", "colour"}
    r = client.post("/v1/loan-applications", json=_application(big, "6,000,000.00"), headers=s1)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "amount"
    # above the automatic limit and the due-diligence thresholds: referred with two tasks
    app = _ok(
        client.post("/v1/loan-applications", json=_application(big, "6000000.00"), headers=s1),
        201,
    )
    assert app["status"] == "referred", app["decision"]
    codes = {reason["code"] for reason in app["decision"]["reasons"]}
    assert {"site_visit_threshold", "financial_analysis_threshold", "above_auto_limit"} <= codes
    assert {t["kind"] for t in app["tasks"]} == {"site_visit", "financial_analysis"}
    assert app["loan_id"] is None
    open_tasks = _items(client.get("/v1/due-diligence-tasks?state=open", headers=rm))
    task = {t["kind"]: t["id"] for t in open_tasks}
    assert set(task) == {"site_visit", "financial_analysis"}
    assert _items(client.get("/v1/due-diligence-tasks", headers=login(client, "b-rm"))) == []
    r = client.get(f"/v1/due-diligence-tasks/{task['site_visit']}", headers=s1)
    assert r.status_code == 404
    path = f"/v1/loan-applications/{app['id']}/review"
    maker = _ok(
        client.post(
            path,
            json={"action": "approve", "note": "core A pays", "conditions": ["signed guarantee"]},
            headers=ck1,
        )
    )
    assert maker["status"] == "referred"
    assert [a["step"] for a in maker["approvals"]] == ["maker"]
    approve = {"action": "approve", "note": "checked", "conditions": ["deposit received"]}
    same = client.post(path, json=approve, headers=ck1)
    assert same.status_code == 409
    assert same.json()["code"] == "four_eyes_required"
    assert "four eyes" in same.json()["detail"]
    low = client.post(path, json=approve, headers=ck2)
    assert low.status_code == 409
    assert "authority level 3" in low.json()["detail"]
    r = client.post("/v1/approval-authorities", json={"user": "a-ck2", "level": 3}, headers=admin)
    assert r.status_code == 201, r.text
    early = client.post(path, json=approve, headers=ck2)
    assert early.status_code == 409
    assert "due diligence is not finished" in early.json()["detail"]
    # the site visit, then the financial analysis
    visit = f"/v1/due-diligence-tasks/{task['site_visit']}/site-visit"
    checklist = {
        "premises_verified": True,
        "production_running": True,
        "inventory_on_hand": "2500000.00",
        "findings": "two lines running; stock as booked",
        "gps": {"lat": 31.3, "lon": 120.7},
        "visited_at": (utcnow() - timedelta(hours=2)).isoformat(),
        "attachments": [{"name": "gate.jpg", "sha256": "a" * 64}],
    }
    r = client.post(visit, json={**checklist, "gps": {"lat": 95, "lon": 120.7}}, headers=rm)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["gps.lat"]
    done = _ok(client.post(visit, json=checklist, headers=rm))
    assert done["state"] == "completed"
    assert done["result"]["concerns"] == []
    analysis = f"/v1/due-diligence-tasks/{task['financial_analysis']}/financial-analysis"
    r = client.post(analysis, json={"cash": "1.00"}, headers=rm)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "statements"
    r = client.post(analysis, content=b"<xml/>", headers={**rm, "Content-Type": "text/xml"})
    assert r.status_code == 415
    assert r.json()["errors"][0]["field"] == "content-type"
    csv_headers = {**rm, "Content-Type": "text/csv"}
    r = client.post(analysis, content=b"name,value\ncash,1.00\n", headers=csv_headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "header"
    statements = dict(row.split(",") for row in STATEMENTS_CSV.splitlines()[1:])
    done = _ok(client.post(analysis, json={"statements": statements}, headers=rm))
    assert done["state"] == "completed"
    assert done["result"]["ratios"]["current_ratio"] == {"value": "2.00", "reason": None}
    assert done["result"]["ratios"]["debt_to_assets_pct"]["value"] == "60"
    assert (done["result"]["reported_revenue"], done["result"]["currency"]) == (
        "36500000.00",
        "CNY",
    )
    approved = _ok(client.post(path, json=approve, headers=ck2))
    assert approved["status"] == "approved"
    assert [a["step"] for a in approved["approvals"]] == ["maker", "checker"]
    assert [c["text"] for c in approved["conditions"]] == ["signed guarantee", "deposit received"]
    loan_id = approved["loan_id"]
    # conditions hold the money back until they are met
    pay = {**BANK_ACCOUNT, "execution_on": EXECUTION_ON, "loan_ids": [loan_id]}
    held = client.post("/v1/disbursements", json=pay, headers=rm)
    assert held.status_code == 422
    assert held.json()["errors"][0]["field"] == "loan_ids[0]"
    assert "conditions not met" in held.json()["errors"][0]["reason"]
    for n in (1, 2):
        met = client.post(
            f"/v1/loan-applications/{app['id']}/conditions/{n}/met",
            json={"note": "on file"},
            headers=rm,
        )
        assert met.status_code == 200, met.text
    assert all(c["met"] for c in met.json()["conditions"])
    dsb = _ok(client.post("/v1/disbursements", json=pay, headers=rm), 201)
    assert dsb["total"] == "6000000.00"
    # an approved application withdrawn gives its hold back
    small_app = _ok(
        client.post("/v1/loan-applications", json=_application(small, "400000.00"), headers=s1),
        201,
    )
    assert small_app["status"] == "approved", small_app["decision"]
    gone = _ok(client.post(f"/v1/loan-applications/{small_app['id']}/withdraw", headers=s1))
    assert gone["status"] == "withdrawn"
    lines = _items(client.get("/v1/credit-lines", headers=rm))
    assert (lines[0]["pending"], lines[0]["posted"]) == ("0.00", "6000000.00")
    # a decline lists every reason: s2 has given no consent and the invoice is not its own
    s2 = login(client, "s2-staff")
    declined = _ok(
        client.post("/v1/loan-applications", json=_application(big, "400000.00"), headers=s2),
        201,
    )
    assert declined["status"] == "declined"
    reasons = declined["decision"]["reasons"]
    assert [r["code"] for r in reasons][:3] == [
        "consent_missing",
        "underlying_missing",
        "line_missing",
    ]
    assert all(r["outcome"] == "decline" for r in reasons[:3])
    assert "invoices, trade_documents" in reasons[0]["message"]
    assert declined["tasks"] == []
    assert [a["id"] for a in _items(client.get("/v1/loan-applications", headers=s2))] == [
        declined["id"]
    ]
    mine = _items(client.get("/v1/loan-applications?status=approved", headers=s1))
    assert mine == []
    assert {a["status"] for a in _items(client.get("/v1/loan-applications", headers=s1))} == {
        "disbursed",
        "withdrawn",
    }
    r = client.post(
        f"/v1/loan-applications/{declined['id']}/review",
        json={"action": "approve", "note": "x"},
        headers=ck2,
    )
    assert r.status_code == 409


def _expected_totals(statement: dict[str, Any]) -> dict[str, dict[str, Decimal]]:
    out: dict[str, dict[str, Decimal]] = {"credits": {}, "debits": {}}
    for entry in statement["entries"]:
        side = out["credits" if entry["cdt_dbt"] == "CRDT" else "debits"]
        side[entry["ccy"]] = side.get(entry["ccy"], Decimal(0)) + Decimal(entry["amount"])
    return out


def test_bank_statements_lines_caps_and_prices(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    rm, admin, s1 = login(client, "a-rm"), login(client, "a-admin"), login(client, "s1")
    xml = {**rm, "Content-Type": "application/xml"}
    expected = json.loads((ISO / "expected_summary.json").read_text("utf-8"))
    samples = sorted(p for p in ISO.glob("genkgo_camt053.*.xml") if ".wrong." not in p.name)
    assert len(samples) == 4
    for sample in samples:
        data = sample.read_bytes()
        first = _ok(client.post("/v1/bank-statements", content=data, headers=xml), 201)
        want = expected[sample.name]["statements"]
        assert len(first["statements"]) == len(want), sample.name
        for got, wanted in zip(first["statements"], want, strict=True):
            totals = _expected_totals(wanted)
            for side in ("credits", "debits"):
                assert {m["currency"]: Decimal(m["amount"]) for m in got[side]} == totals[side]
        entries = sum(len(s["entries"]) for s in want)
        assert first["matched"] == []
        assert len(first["unmatched"]) == entries, first["unmatched"]
        assert all(u["reason"] for u in first["unmatched"])
        again = _ok(client.post("/v1/bank-statements", content=data, headers=xml), 201)
        assert again["id"] == first["id"]
        assert _ok(client.get(f"/v1/bank-statements/{first['id']}", headers=rm)) == {
            k: v for k, v in first.items() if k != "receipt"
        }
        assert (
            client.get(
                f"/v1/bank-statements/{first['id']}", headers=login(client, "b-rm")
            ).status_code
            == 404
        )
    wrong = client.post(
        "/v1/bank-statements",
        content=(ISO / "genkgo_camt053.v2.wrong.xml").read_bytes(),
        headers=xml,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "BkToCstmrStmt/Stmt"
    as_json = client.post("/v1/bank-statements", json={"x": 1}, headers=rm)
    assert as_json.status_code == 415
    assert as_json.json()["errors"][0]["field"] == "content-type"
    # lines: freeze, unfreeze, close, expire
    # the job expires one line (35 days to run) and not the other (400)
    short_expiry = (TODAY + timedelta(days=35)).isoformat()
    expire = {"as_of": (TODAY + timedelta(days=36)).isoformat()}
    opened = []
    for expires in (LINE_EXPIRES, short_expiry):
        opened.append(
            _ok(
                client.post(
                    "/v1/credit-lines",
                    json={
                        "obligor": world.usccs["core A"],
                        "limit": "5000000.00",
                        "starts_on": LINE_STARTS,
                        "expires_on": expires,
                        "revolving": False,
                    },
                    headers=rm,
                ),
                201,
            )["id"]
        )
    long_line, short_line = opened
    r = client.post(
        "/v1/credit-lines",
        json={
            "obligor": world.usccs["s1"],
            "limit": "0.00",
            "starts_on": LINE_STARTS,
            "expires_on": (TODAY - timedelta(days=331)).isoformat(),  # before it starts
        },
        headers=rm,
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"obligor", "limit", "expires_on"}
    frozen = _ok(
        client.post(f"/v1/credit-lines/{long_line}/freeze", json={"reason": "audit"}, headers=rm)
    )
    assert (frozen["status"], frozen["status_reason"]) == ("frozen", "audit")
    assert frozen["receipt"]["entries"][0]["event_type"] == "line.frozen"
    active = _ok(
        client.post(f"/v1/credit-lines/{long_line}/unfreeze", json={"reason": "ok"}, headers=rm)
    )
    assert active["status"] == "active"
    r = client.post(f"/v1/credit-lines/{long_line}/freeze", json={"reason": " "}, headers=rm)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "reason"
    r = client.post(f"/v1/credit-lines/{long_line}/close", json={}, headers=rm)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "reason"
    r = client.post(
        f"/v1/credit-lines/{long_line}/close", json={"reason": "x"}, headers=login(client, "b-rm")
    )
    assert r.status_code == 404
    assert client.post("/v1/credit-lines/expire", json=expire, headers=s1).status_code == 403
    expired = _ok(client.post("/v1/credit-lines/expire", json=expire, headers=rm))
    assert expired["expired"] == 1
    states = {ln["id"]: ln["status"] for ln in _items(client.get("/v1/credit-lines", headers=rm))}
    assert states == {long_line: "active", short_line: "expired"}
    r = client.post(f"/v1/credit-lines/{short_line}/unfreeze", json={"reason": "x"}, headers=rm)
    assert r.status_code == 409
    refusal = r.json()  # the problem names the machine, its state and what it would accept
    assert refusal["code"] == "illegal_transition"
    assert (refusal["machine"], refusal["current"], refusal["event"]) == (
        "credit_line",
        "expired",
        "unfreeze",
    )
    assert "unfreeze" not in refusal["allowed"]
    closed = _ok(
        client.post(f"/v1/credit-lines/{long_line}/close", json={"reason": "done"}, headers=rm)
    )
    assert closed["status"] == "closed"
    # the enterprise sees the lines it is party to
    assert len(client.get("/v1/credit-lines", headers=login(client, "coreA")).json()) == 2
    assert _items(client.get("/v1/credit-lines", headers=s1)) == []
    # exposure caps
    cap = _ok(
        client.post(
            "/v1/exposure-caps",
            json={"name": "chain A", "cap": "30000000.00", "core": world.usccs["core A"]},
            headers=rm,
        ),
        201,
    )
    assert (cap["kind"], cap["used"], cap["available"]) == ("core", "0.00", "30000000.00")
    group = _ok(
        client.post(
            "/v1/exposure-caps",
            json={
                "name": "s1 group",
                "cap": "1000000.00",
                "members": [world.usccs["s1"], world.usccs["s2"]],
            },
            headers=rm,
        ),
        201,
    )
    assert sorted(group["members"]) == sorted([world.ids["s1"], world.ids["s2"]])
    r = client.post(
        "/v1/exposure-caps",
        json={"name": "both", "cap": "1.00", "core": world.usccs["core A"], "members": ["x"]},
        headers=rm,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "core"
    assert [c["name"] for c in _items(client.get("/v1/exposure-caps", headers=rm))] == [
        "chain A",
        "s1 group",
    ]
    assert _items(client.get("/v1/exposure-caps", headers=login(client, "b-rm"))) == []
    # products as configuration; an enterprise lists a bank's products
    r = client.post(
        "/v1/loan-products",
        json={
            "code": "BAD",
            "name": "x",
            "config": {"kind": "receivable_financing", "spread_bp": -1},
        },
        headers=admin,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "spread_bp"
    _ok(
        client.post(
            "/v1/loan-products",
            json={"code": "INV", "name": "inventory", "config": {"kind": "inventory_pledge"}},
            headers=admin,
        ),
        201,
    )
    listed = _items(client.get("/v1/loan-products?bank=BKA", headers=s1))
    assert [(p["code"], p["kind"]) for p in listed] == [("INV", "inventory_pledge")]
    assert _items(client.get("/v1/loan-products", headers=login(client, "b-rm"))) == []
    r = client.post("/v1/approval-authorities", json={"user": "b-rm", "level": 1}, headers=admin)
    assert r.status_code == 404
    r = client.post("/v1/approval-authorities", json={"user": "a-rm", "level": 1}, headers=rm)
    assert r.status_code == 403
    # a price for pledged goods
    price = _ok(
        client.post(
            "/v1/commodity-prices",
            json={
                "item": "copper foil",
                "on": ON,
                "price": "80000.00",
                "unit": "t",
                "source": "SHFE settlement",
            },
            headers=rm,
        ),
        201,
    )
    assert (price["price"], price["currency"], price["unit"]) == ("80000.00", "CNY", "t")
    r = client.post(
        "/v1/commodity-prices",
        json={"item": "copper foil", "on": ON, "price": "80000.001", "unit": "t"},
        headers=rm,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "price"


# ---------------------------------------------------------------------------- refusal codes


def _referred(client: TestClient, world: World, session_factory: sessionmaker[Session]) -> str:
    """An application above the automatic approval limit, recommended by its maker: the
    checker's approval is what reserves the line."""
    _bank_setup(client, world, session_factory)
    invoice = _invoice(client, world, "INV-0101", "3000000.00")
    admin = login(client, "a-admin")
    for user, level in (("a-ck1", 1), ("a-ck2", 2)):
        r = client.post(
            "/v1/approval-authorities", json={"user": user, "level": level}, headers=admin
        )
        assert r.status_code == 201, r.text
    app = _ok(
        client.post(
            "/v1/loan-applications",
            json=_application(invoice, "2000000.00"),
            headers=login(client, "s1"),
        ),
        201,
    )
    assert [r["code"] for r in app["decision"]["reasons"]] == ["above_auto_limit"]
    path = f"/v1/loan-applications/{app['id']}/review"
    maker = {"action": "approve", "note": "core A pays"}
    _ok(client.post(path, json=maker, headers=login(client, "a-ck1")))
    return path


def test_approving_on_a_frozen_line_is_409_line_frozen(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    path = _referred(client, world, session_factory)
    rm = login(client, "a-rm")
    line_id = _ok(client.get("/v1/credit-lines", headers=rm))
    line_id = (line_id["items"] if isinstance(line_id, dict) else line_id)[0]["id"]
    frozen = client.post(f"/v1/credit-lines/{line_id}/freeze", json={"reason": "audit"}, headers=rm)
    assert frozen.status_code == 200, frozen.text
    checker = {"action": "approve", "note": "checked"}
    r = client.post(path, json=checker, headers=login(client, "a-ck2"))
    assert r.status_code == 409, r.text
    problem = r.json()
    assert (problem["code"], problem["type"]) == ("line_frozen", "/problems/line_frozen")
    assert "frozen" in problem["detail"]
    app = _ok(client.get(path.removesuffix("/review"), headers=rm))
    assert app["status"] == "referred"  # nothing was approved or held


def _take_sublimit(session: Session, avail: lines.Availability) -> None:
    sub = avail.sublimits[0]
    session.execute(
        update(CreditSublimit)
        .where(CreditSublimit.id == sub.id)
        .values(pending_minor=CreditSublimit.limit_minor - CreditSublimit.posted_minor)
        .execution_options(synchronize_session=False)
    )


def _take_line(session: Session, avail: lines.Availability) -> None:
    session.execute(
        update(CreditLine)
        .where(CreditLine.id == avail.line.id)
        .values(pending_minor=CreditLine.limit_minor - CreditLine.posted_minor)
        .execution_options(synchronize_session=False)
    )


def _freeze_line(session: Session, avail: lines.Availability) -> None:
    session.execute(
        update(CreditLine)
        .where(CreditLine.id == avail.line.id)
        .values(status="frozen")
        .execution_options(synchronize_session=False)
    )


@pytest.mark.parametrize(
    ("meanwhile", "code"),
    [
        (_take_sublimit, "sublimit_insufficient"),
        (_take_line, "line_insufficient"),
        (_freeze_line, "line_frozen"),
    ],
)
def test_a_lost_race_declines_with_the_limit_that_refused(
    client: TestClient,
    world: World,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    meanwhile: Any,
    code: str,
) -> None:
    """Between reading the facts (every limit has room) and reserving them, another writer
    takes the sub-limit or the line, or freezes it: the application is declined with the
    code of what refused, the code a 409 for the same cause carries."""
    _bank_setup(client, world, session_factory)
    invoice = _invoice(client, world, "INV-0102", "500000.00")
    reserve = lines.reserve

    def racing(session: Session, actor: Any, avail: lines.Availability, **kw: Any) -> Any:
        meanwhile(session, avail)  # the competing writer commits first
        return reserve(session, actor, avail, **kw)

    monkeypatch.setattr(lines, "reserve", racing)
    app = _ok(
        client.post(
            "/v1/loan-applications",
            json=_application(invoice, "400000.00"),
            headers=login(client, "s1"),
        ),
        201,
    )
    assert (app["status"], app["decision"]["outcome"]) == ("declined", "decline")
    assert [r["code"] for r in app["decision"]["reasons"]] == [code]
    assert app["loan_id"] is None


def _disbursed_loan(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> str:
    _bank_setup(client, world, session_factory)
    invoice = _invoice(client, world, "INV-0103", "500000.00")
    app = _ok(
        client.post(
            "/v1/loan-applications",
            json=_application(invoice, "400000.00"),
            headers=login(client, "s1"),
        ),
        201,
    )
    assert app["status"] == "approved", app["decision"]
    rm = login(client, "a-rm")
    payout = {**BANK_ACCOUNT, "execution_on": EXECUTION_ON}
    _ok(client.post("/v1/disbursements", json=payout, headers=rm), 201)
    return str(app["loan_id"])


def test_a_repayment_by_source_ref_replays_or_conflicts(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    loan_id = _disbursed_loan(client, world, session_factory)
    rm = login(client, "a-rm")
    path = f"/v1/loans/{loan_id}/repayments"
    value_on = (TODAY + timedelta(days=20)).isoformat()
    body = {"amount": "1000.00", "value_on": value_on, "source_ref": "STMT-7/E-1"}
    first = _ok(client.post(path, json=body, headers=rm), 201)
    again = _ok(client.post(path, json=body, headers=rm), 201)
    assert again["id"] == first["id"]
    assert first["receipt"] is not None
    assert again["receipt"] is None  # nothing new on the ledger
    listed = _ok(client.get(path, headers=rm))
    assert len(listed["items"] if isinstance(listed, dict) else listed) == 1  # applied once
    more = client.post(path, json={**body, "amount": "1500.00"}, headers=rm)
    assert more.status_code == 409, more.text
    problem = more.json()
    assert problem["code"] == "exists_with_different_request"
    assert "amount was 1000.00 CNY, now 1500.00 CNY" in problem["detail"]
    later = client.post(path, json={**body, "value_on": ACCRUE_ON}, headers=rm)
    assert later.status_code == 409
    assert "value_on" in later.json()["detail"]
    # the Idempotency-Key path: the same key for another body is refused as well
    keyed = {**rm, "Idempotency-Key": "repay-2"}
    second = {"amount": "2000.00", "value_on": value_on}
    _ok(client.post(path, json=second, headers=keyed), 201)
    reused = client.post(path, json={**second, "amount": "2100.00"}, headers=keyed)
    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency_key_reused"
