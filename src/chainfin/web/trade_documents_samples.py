"""Sample upload files, made for the firm that downloads them: its own USCC as the seller,
one of its customers as the buyer, today's dates. A new user sees the columns a file needs
and can upload the sample as it is (a second upload finds the documents already there).

The three samples tell one trade: an order, its delivery note and the invoice (CSV and
JSON Lines carry the same three documents; the UBL sample is the invoice alone)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from xml.sax.saxutils import escape

from chainfin.adapters.formats.tabular import TabularFormat, write_rows


class SampleFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    UBL = "xml"


@dataclass(frozen=True)
class Sample:
    filename: str
    media_type: str
    body: bytes


COLUMNS = (
    "kind",
    "number",
    "seller_uscc",
    "buyer_uscc",
    "issue_date",
    "currency",
    "total",
    "tax",
    "due_date",
    "order_number",
    "delivery_number",
    "invoice_number",
    "lines",
)
ITEM = "示例商品"
QUANTITY = "10"
UNIT = "件"
UNIT_PRICE = "1000.00"
NET = "10000.00"
TAX = "1300.00"
TOTAL = "11300.00"


def _invoice_number(today: date, serial: int) -> str:
    """A 20-digit 全电 number of this year (Jiangsu, channel 0)."""
    return f"{today.year % 100:02d}32{serial:016d}"


def _rows(seller: str, buyer: str, today: date) -> list[dict[str, object]]:
    lines = [
        {"item": ITEM, "quantity": QUANTITY, "unit": UNIT, "unit_price": UNIT_PRICE, "amount": NET}
    ]
    common = {"seller_uscc": seller, "buyer_uscc": buyer, "currency": "CNY"}
    return [
        {
            "kind": "purchase_order",
            "number": "SAMPLE-PO-1",
            **common,
            "issue_date": (today - timedelta(days=7)).isoformat(),
            "total": NET,
            "lines": lines,
        },
        {
            "kind": "delivery_note",
            "number": "SAMPLE-DN-1",
            **common,
            "issue_date": (today - timedelta(days=3)).isoformat(),
            "total": NET,
            "order_number": "SAMPLE-PO-1",
            "lines": lines,
        },
        {
            "kind": "invoice",
            "number": "SAMPLE-INV-1",
            **common,
            "issue_date": today.isoformat(),
            "total": TOTAL,
            "tax": TAX,
            "due_date": (today + timedelta(days=60)).isoformat(),
            "order_number": "SAMPLE-PO-1",
            "delivery_number": "SAMPLE-DN-1",
            "invoice_number": _invoice_number(today, 1),
            "lines": lines,
        },
    ]


def _ubl(seller: str, buyer: str, today: date) -> bytes:
    number = _invoice_number(today, 2)  # another invoice than the CSV's
    due = (today + timedelta(days=60)).isoformat()

    def party(role: str, uscc: str) -> str:
        return (
            f"<cac:{role}><cac:Party><cac:PartyLegalEntity>"
            f"<cbc:RegistrationName>{escape(uscc)}</cbc:RegistrationName>"
            f"<cbc:CompanyID>{escape(uscc)}</cbc:CompanyID>"
            f"</cac:PartyLegalEntity></cac:Party></cac:{role}>"
        )

    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{today.isoformat()}</cbc:IssueDate>
  <cbc:DueDate>{due}</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>CNY</cbc:DocumentCurrencyCode>
  <cac:OrderReference><cbc:ID>SAMPLE-PO-1</cbc:ID></cac:OrderReference>
  {party("AccountingSupplierParty", seller)}
  {party("AccountingCustomerParty", buyer)}
  <cac:TaxTotal>
    <cbc:TaxAmount currencyID="CNY">{TAX}</cbc:TaxAmount>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="CNY">{NET}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="CNY">{NET}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="CNY">{TOTAL}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="CNY">{TOTAL}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine>
    <cbc:ID>1</cbc:ID>
    <cbc:InvoicedQuantity unitCode="EA">{QUANTITY}</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="CNY">{NET}</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>{ITEM}</cbc:Name></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="CNY">{UNIT_PRICE}</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
</Invoice>
"""
    return xml.encode("utf-8")


def sample(fmt: SampleFormat, *, seller: str, buyer: str, today: date) -> Sample:
    """The sample file in ``fmt`` for a firm (``seller``) and one of its customers."""
    if fmt is SampleFormat.UBL:
        return Sample("chainfin-sample-invoice.xml", "application/xml", _ubl(seller, buyer, today))
    rows = _rows(seller, buyer, today)
    if fmt is SampleFormat.CSV:
        flat = [{**r, "lines": json.dumps(r["lines"], ensure_ascii=False)} for r in rows]
        body = write_rows(flat, TabularFormat.CSV, COLUMNS)
        return Sample("chainfin-sample.csv", "text/csv; charset=utf-8", body)
    body = write_rows(rows, TabularFormat.JSONL, COLUMNS)
    return Sample("chainfin-sample.jsonl", "application/x-ndjson", body)
