"""The treasury desk's own objects (tests/web/test_treasury.py), added to the portal world.

- Three invoices from t1 to the core, submitted by t1 and not yet confirmed: the
  confirmation journey confirms ¥111,300.00 alone, then ¥222,600.00 and ¥333,900.00 at once.
- An invoice of ¥1,200,000.00 from t1, already confirmed by the core as the buyer: the 确权
  journey confirms the payable on it and issues a credential in a programme of its own,
  「电芯供应商专项计划」 (BKA's line of ¥1,000,000.00), where ¥1,100,000.00 is over the limit.
- An invoice of ¥2,000,000.00 from t1, confirmed and 确权'd in the world, and issued against:
  a credential of ¥456,000.00 that t1 accepted and passed ¥156,000.00 of to t2 (accepted):
  the issued book shows both holders; and a credential of ¥263,800.00 issued on 25 September
  maturing on the world's day, accepted by t1: the payment run settles it.
- 55 invoices from t1 awaiting the core's confirmation, INV-TRP-001 to INV-TRP-055, received
  before the others above: more than a page, found by paging and by searching.
- Long texts a phone must fit: a programme with a long name, confirmed invoices with long
  numbers free for 确权, payables confirmed on others (the issue form lists them), and a
  matched trade case from t1 to the core (order TR-PO-700 … invoice TR-INV-700), offered
  by its supplier, its order's number, amount and date.
"""

from __future__ import annotations

import json
from datetime import date

from portal_world import PortalWorld
from sqlalchemy.orm import Session, sessionmaker

from chainfin.adapters.db.engine import transaction
from chainfin.domain.money import Money
from chainfin.services import credentials, documents
from worldclock import WORLD_DAY

TO_CONFIRM_ONE = "111300.00"
TO_CONFIRM_TWO = ("222600.00", "333900.00")
TO_PAYABLE = "1200000.00"  # confirmed as the buyer; the journey does the 确权
BOOK_BASIS = "2000000.00"
PROGRAMME = "电芯供应商专项计划"
PROGRAMME_LINE = Money(1_000_000_00)
SPLIT_FACE = "456000.00"
SPLIT_TO_T2 = "146000.00"  # t1 keeps 310,000.00: no other journey's amount
DUE_FACE = "263800.00"
DUE_ISSUED_ON = date(2026, 9, 25)
PAGED = [f"INV-TRP-{i:03d}" for i in range(1, 56)]
LONG_PROGRAMME = (
    "恒锂电芯供应链核心企业集团有限公司二〇二六年度第一期电池电芯及结构件供应商债权凭证专项计划"
)
LONG_NUMBERS = [f"INV-TRLONG-2026-11-QINGDAO-BATTERY-CELL-{i:04d}-ADDENDUM" for i in range(1, 9)]
CASE_ORDER, CASE_TOTAL = "TR-PO-700", "1130.00"


def _invoice(world: PortalWorld, number: str, serial: int, total: str, due: str) -> dict[str, str]:
    return {
        "kind": "invoice",
        "number": number,
        "seller_uscc": world.usccs("t1"),
        "buyer_uscc": world.usccs("core"),
        "issue_date": "2026-11-18",
        "currency": "CNY",
        "total": total,
        "tax": "0.00",
        "invoice_number": f"2632000000000000{serial:04d}",
        "due_date": due,
    }


def _paged(world: PortalWorld) -> list[dict[str, str]]:
    return [
        {**_invoice(world, n, 7000 + i, f"{2000 + i}.17", "2027-01-18"), "issue_date": "2026-11-10"}
        for i, n in enumerate(PAGED, start=1)
    ]


def _long(world: PortalWorld) -> list[dict[str, str]]:
    return [
        _invoice(world, n, 7100 + i, f"{7654 + i}.31", "2027-03-18")
        for i, n in enumerate(LONG_NUMBERS, start=1)
    ]


def _case(world: PortalWorld) -> list[dict[str, object]]:
    """A matched trade: order, delivery, receipt, invoice and payment from t1 to the core."""
    base = {"seller_uscc": world.usccs("t1"), "buyer_uscc": world.usccs("core")}
    base |= {"currency": "CNY", "total": CASE_TOTAL, "tax": "130.00"}
    line = {"item": "电芯", "quantity": "10", "unit": "件", "unit_price": "100.00"}
    lines = json.dumps([{**line, "amount": "1000.00"}])
    order, delivery = {"order_number": CASE_ORDER}, {"delivery_number": "TR-DN-700"}
    official = {"invoice_number": "26320000000000000700"}

    def doc(kind: str, number: str, day: str, **extra: object) -> dict[str, object]:
        return {**base, "kind": kind, "number": number, "issue_date": day, **extra}

    return [
        doc("purchase_order", CASE_ORDER, "2026-11-01", lines=lines),
        doc("delivery_note", "TR-DN-700", "2026-11-03", lines=lines, **order),
        doc("goods_receipt", "TR-GR-700", "2026-11-05", lines=lines, **order, **delivery),
        doc("invoice", "TR-INV-700", "2026-11-06", lines=lines, due_date="2027-02-06", **order,
            **delivery, **official),
        doc("payment", "TR-PAY-700", "2026-11-20", **official),
    ]  # fmt: skip


def _long_texts(factory: sessionmaker[Session], world: PortalWorld) -> None:
    t1, core = world.user("supplier"), world.user("core")
    with transaction(factory) as s:
        report = documents.ingest(s, t1, documents.parse_rows(_long(world)))
        long_ids = [str(r.document_id) for r in report.rows]
        documents.ingest(s, t1, documents.parse_rows(_case(world)))
        for doc_id in long_ids:
            documents.confirm(s, core, doc_id)
        for doc_id in long_ids[4:]:  # owed (确权): the issue form lists them
            row = documents.get_document(s, core, doc_id)
            credentials.confirm(
                s,
                core,
                supplier=world.usccs("t1"),
                amount=Money(row.total_minor),
                due_on=date(2027, 3, 18),
                document_ids=[doc_id],
            )
        credentials.create_programme(
            s,
            world.lending.staff("rm"),
            core=world.usccs("core"),
            name=LONG_PROGRAMME,
            line=Money(2_000_000_00),
            rating="AA",
        )


def extend(factory: sessionmaker[Session], world: PortalWorld) -> None:
    t1, t2, core = world.user("supplier"), world.user("supplier2"), world.user("core")
    ids: dict[str, str] = {}
    with transaction(factory) as s:  # received first: the oldest of those awaiting
        documents.ingest(s, t1, documents.parse_rows(_paged(world)))
    _long_texts(factory, world)
    rows = [
        _invoice(world, "INV-TR-1", 9101, TO_CONFIRM_ONE, "2027-01-18"),
        _invoice(world, "INV-TR-2", 9102, TO_CONFIRM_TWO[0], "2027-01-18"),
        _invoice(world, "INV-TR-3", 9103, TO_CONFIRM_TWO[1], "2027-01-18"),
        _invoice(world, "INV-TR-4", 9104, TO_PAYABLE, "2027-02-18"),
        _invoice(world, "INV-TR-5", 9105, BOOK_BASIS, "2027-02-18"),
    ]
    with transaction(factory) as s:
        report = documents.ingest(s, t1, documents.parse_rows(rows))
        for row, outcome in zip(rows, report.rows, strict=True):
            ids[row["number"]] = str(outcome.document_id)
        for number in ("INV-TR-4", "INV-TR-5"):
            documents.confirm(s, core, ids[number])
        basis = credentials.confirm(
            s,
            core,
            supplier=world.usccs("t1"),
            amount=Money.parse(BOOK_BASIS),
            due_on=date(2027, 2, 18),
            document_ids=[ids["INV-TR-5"]],
        )
        programme = credentials.create_programme(
            s,
            world.lending.staff("rm"),
            core=world.usccs("core"),
            name=PROGRAMME,
            line=PROGRAMME_LINE,
            rating="AAA",
        )
        ids["programme"] = programme.id
        split = credentials.issue(
            s,
            core,
            programme_id=world.lending.credit.programme_id,
            confirmation_ids=[basis.id],
            amount=Money.parse(SPLIT_FACE),
            maturity_on=date(2027, 3, 18),
            issued_on=WORLD_DAY,
        )
        due = credentials.issue(
            s,
            core,
            programme_id=world.lending.credit.programme_id,
            confirmation_ids=[basis.id],
            amount=Money.parse(DUE_FACE),
            maturity_on=WORLD_DAY,
            issued_on=DUE_ISSUED_ON,
        )
        ids["split_credential"], ids["due_credential"] = split.id, due.id
    with transaction(factory) as s:
        for credential_id in (split.id, due.id):
            (root,) = credentials.tree(s, t1, credential_id)
            credentials.accept(s, t1, root.id)
        (root,) = [p for p in credentials.tree(s, t1, split.id) if p.status == "held"]
        moved = credentials.transfer(
            s, t1, root.id, to=world.usccs("t2"), amount=Money.parse(SPLIT_TO_T2)
        )
        credentials.accept(s, t2, moved.offered.id)
    world.extra["treasury"] = ids
