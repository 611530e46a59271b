"""The trade documents the browser journeys of /documents and /trade-cases read: trades in
which 铜陵极片 (t2, ``supplier2``) sells to 恒锂电芯 (t1, ``supplier``), built through the
services as t2 submits them and t1 confirms what it received. Numbers start ``TD-``; the
upload journeys use numbers of their own, so no journey changes what another reads.

- ``TD-PO-100``: a whole trade that matches (order, delivery note, receipt, invoice,
  payment); t1 confirmed the receipt and the invoice.
- ``TD-PO-200``: a mismatch: 480 received of 500 shipped, the invoice at 125.00 a unit
  against the order's 120.00, and dated before the delivery note.
- ``TD-PO-300``: partly matched: delivered, no receipt yet.
- ``TD-INV-400``: an invoice naming an order that is not on file (documents missing).
- ``TD-PO-500`` and ``TD-INV-500``: an invoice waiting for t1's confirmation, which the
  confirmation journey gives.
"""

from __future__ import annotations

import json
from datetime import timedelta

from portal_world import PortalWorld
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.services import documents
from worldclock import WORLD_DAY

ITEM = "极片"


def lines(quantity: int, price: str) -> str:
    amount = f"{int(quantity) * float(price):.2f}"  # whole numbers of fen: exact
    return json.dumps(
        [
            {
                "item": ITEM,
                "quantity": str(quantity),
                "unit": "卷",
                "unit_price": price,
                "amount": amount,
            }
        ],
        ensure_ascii=False,
    )


def doc(
    world: PortalWorld, kind: str, number: str, days_ago: int, total: str, **extra: str
) -> dict[str, object]:
    return {
        "kind": kind,
        "number": number,
        "seller_uscc": world.usccs("t2"),
        "buyer_uscc": world.usccs("t1"),
        "issue_date": (WORLD_DAY - timedelta(days=days_ago)).isoformat(),
        "currency": "CNY",
        "total": total,
        **extra,
    }


def trades(world: PortalWorld) -> list[dict[str, object]]:
    matched = lines(1000, "120.00")
    return [
        doc(world, "purchase_order", "TD-PO-100", 40, "120000.00", lines=matched),
        doc(
            world,
            "delivery_note",
            "TD-DN-100",
            35,
            "120000.00",
            order_number="TD-PO-100",
            lines=matched,
        ),
        doc(
            world,
            "goods_receipt",
            "TD-GR-100",
            34,
            "120000.00",
            delivery_number="TD-DN-100",
            lines=matched,
        ),
        doc(
            world,
            "invoice",
            "TD-INV-100",
            30,
            "135600.00",
            tax="15600.00",
            order_number="TD-PO-100",
            delivery_number="TD-DN-100",
            invoice_number="26320000000000100100",
            due_date=(WORLD_DAY + timedelta(days=30)).isoformat(),
            lines=matched,
        ),
        doc(world, "payment", "TD-PAY-100", 10, "135600.00", invoice_number="TD-INV-100"),
        doc(world, "purchase_order", "TD-PO-200", 30, "60000.00", lines=lines(500, "120.00")),
        doc(
            world,
            "delivery_note",
            "TD-DN-200",
            20,
            "60000.00",
            order_number="TD-PO-200",
            lines=lines(500, "120.00"),
        ),
        doc(
            world,
            "goods_receipt",
            "TD-GR-200",
            19,
            "57600.00",
            delivery_number="TD-DN-200",
            lines=lines(480, "120.00"),
        ),
        doc(
            world,
            "invoice",
            "TD-INV-200",
            25,
            "70625.00",
            tax="8125.00",
            order_number="TD-PO-200",
            delivery_number="TD-DN-200",
            invoice_number="26320000000000100200",
            due_date=(WORLD_DAY + timedelta(days=45)).isoformat(),
            lines=lines(500, "125.00"),
        ),
        doc(world, "purchase_order", "TD-PO-300", 12, "24000.00", lines=lines(200, "120.00")),
        doc(
            world,
            "delivery_note",
            "TD-DN-300",
            5,
            "24000.00",
            order_number="TD-PO-300",
            lines=lines(200, "120.00"),
        ),
        doc(
            world,
            "invoice",
            "TD-INV-400",
            8,
            "11300.00",
            tax="1300.00",
            order_number="TD-PO-999",
            invoice_number="26320000000000100400",
        ),
        doc(world, "purchase_order", "TD-PO-500", 9, "10000.00"),
        doc(
            world,
            "invoice",
            "TD-INV-500",
            3,
            "11300.00",
            tax="1300.00",
            order_number="TD-PO-500",
            invoice_number="26320000000000100500",
        ),
    ]


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    with transaction(factory) as s:
        report = documents.ingest(s, world.user("supplier2"), documents.parse_rows(trades(world)))
        ids = {str(r.key).rsplit("/", 1)[-1]: str(r.document_id) for r in report.rows}
        for number in ("TD-GR-100", "TD-INV-100"):
            documents.confirm(s, world.user("supplier"), ids[number])
    world.extra["trade_documents"] = ids
