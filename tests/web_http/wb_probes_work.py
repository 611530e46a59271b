"""The due-diligence and alert pages in the pages' tenancy matrix (test_page_tenancy.py),
and the bank-A objects their HTTP tests (test_wb_work_http.py) act on.

:func:`extend` adds to a lending world, through the services: t1's invoice WKH-INV-1
(¥6,800,000.00) confirmed by the core, and t1's application to bank A for ¥5,678,901.23 on
it, referred with a site visit (recorded here, with one photo) and a financial statement
analysis (left open); a customer of bank A, 无锡恒通精密部件有限公司, with an open alert about
it. Their ids go in ``ids`` under ``wb_work_*``."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.access import SYSTEM
from chainfin.domain.clock import utcnow
from chainfin.domain.money import Money
from chainfin.domain.registry import EnterpriseRecord, Role
from chainfin.services import alerts, documents, registry
from chainfin.services.lending import applications, attachments, tasks
from credit_world import uscc
from lending_world import PAYEE, TODAY, LendingWorld

AMOUNT = "5678901.23"
FIRM = "无锡恒通精密部件有限公司"
FIRM_SERIAL = 41_700_001
ALERT = "恒通精密核心买方连续两月延迟付款（银行甲内部预警）"
FINDINGS = "厂区两条产线运转，库存与账面相符（银行甲走访记录）"
MARKS = ("5,678,901.23", "5678901.23", ALERT, FINDINGS)

Probe = Callable[[Any], tuple[dict[str, str], dict[str, Any]]]


def _path(**params: str) -> Probe:
    return lambda v: ({name: v.ids[key] for name, key in params.items()}, {})


PROBES: dict[tuple[str, str], Probe] = {
    ("GET", "/tasks/{task_id}"): _path(task_id="wb_work_analysis"),
    ("POST", "/tasks/{task_id}/site-visit"): _path(task_id="wb_work_visit"),
    ("POST", "/tasks/{task_id}/financial-analysis"): _path(task_id="wb_work_analysis"),
    ("GET", "/tasks/{task_id}/photos/{seq}"): lambda v: (
        {"task_id": v.ids["wb_work_visit"], "seq": "1"},
        {},
    ),
    ("POST", "/alerts/{alert_id}/acknowledge"): _path(alert_id="wb_work_alert"),
    ("POST", "/alerts/{alert_id}/resolve"): lambda v: (
        {"alert_id": v.ids["wb_work_alert"]},
        {"note": "closed by someone else"},
    ),
}


def png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A real PNG image, small."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def checklist() -> dict[str, Any]:
    return {
        "premises_verified": True,
        "production_running": True,
        "inventory_on_hand": "1250000.00",
        "findings": FINDINGS,
        "gps": {"lat": 31.4912, "lon": 120.3119, "accuracy": 12.5},
        "visited_at": (utcnow() - timedelta(hours=1)).isoformat(),
    }


def extend(factory: sessionmaker[Session], world: LendingWorld, ids: dict[str, str]) -> None:
    t1, core = world.ent("t1"), world.ent("core")
    bank_a = world.credit.banks["BKA"]
    invoice = {
        "kind": "invoice", "number": "WKH-INV-1", "seller_uscc": uscc(4), "buyer_uscc": uscc(3),
        "issue_date": (TODAY - timedelta(days=7)).isoformat(), "currency": "CNY",
        "total": "6800000.00", "tax": "0.00", "invoice_number": "26321800000000000901",
        "due_date": (TODAY + timedelta(days=160)).isoformat(),
    }  # fmt: skip
    with transaction(factory) as s:
        report = documents.ingest(s, t1, documents.parse_rows([invoice]))
        invoice_id = str(report.rows[0].document_id)
        documents.confirm(s, core, invoice_id)
    with transaction(factory) as s:
        app = applications.submit(
            s, t1, bank="BKA", product="receivable_financing", amount=Money.parse(AMOUNT),
            tenor_months=3, method="bullet", underlying_kind="invoice",
            underlying_ref=invoice_id, payee=PAYEE,
        )  # fmt: skip
        assert app.status == "referred", app.decision
        ids["wb_work_application"] = app.id
        by_kind = {t.kind: t.id for t in applications.tasks_of(s, app.id)}
        ids["wb_work_visit"] = by_kind["site_visit"]
        ids["wb_work_analysis"] = by_kind["financial_analysis"]
    with transaction(factory) as s:
        photo = attachments.Photo("gate.png", png())
        tasks.record_site_visit(s, world.staff("rm"), ids["wb_work_visit"], checklist(), [photo])
    record = EnterpriseRecord(
        uscc=uscc(FIRM_SERIAL), name=FIRM, region_code="320205", industry_code="C34",
        roles=frozenset({Role.SUPPLIER}), employees=120, revenue=Money(150_000_000_00),
    )  # fmt: skip
    with transaction(factory) as s:
        registry.import_enterprises(s, SYSTEM, [record])
        s.flush()
        firm = registry.ids_by_uscc(s, [uscc(FIRM_SERIAL)])[uscc(FIRM_SERIAL)]
        registry.link_customers(s, SYSTEM, bank_a, [firm])
        row = alerts.raise_alert(
            s, SYSTEM, kind="ew_overdue", severity="high", subject_kind="enterprise",
            subject_id=firm, bank_id=bank_a, enterprise_id=firm, message=ALERT,
        )  # fmt: skip
        assert row is not None
        ids["wb_work_firm"], ids["wb_work_alert"] = firm, row.id
