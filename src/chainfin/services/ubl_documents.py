"""A UBL 2.1 Invoice or CreditNote (incl. Peppol BIS 3) as a trade-document row.

The EN 16931 sum rules must hold (a document whose totals do not add up is refused with the
rule that failed). Parties are identified by 统一社会信用代码: the first of the legal
registration id, the VAT id and the endpoint id that is a valid USCC; otherwise the legal
registration id goes through and document validation says why it is not acceptable.
An invoice's cbc:ID is its official Chinese invoice number (a 20-digit 全电 number, or a
发票代码 and 发票号码 separated by a space, ``-`` or ``/``), validated like any other invoice's.
Lines are carried only when the document has no document-level allowances or charges, so
that ``lines + tax = total`` holds as the trade-document schema requires.
"""

from __future__ import annotations

from typing import Any

from chainfin.adapters.formats.ubl import DocumentKind as UblKind
from chainfin.adapters.formats.ubl import UblDocument, UblParty, check_totals
from chainfin.domain.errors import ValidationFailed
from chainfin.domain.invoice_number import split_identifier
from chainfin.domain.uscc import check_uscc


def _uscc(party: UblParty) -> str | None:
    candidates = [party.company_id, party.vat_id, party.endpoint_id]
    for candidate in candidates:
        if candidate and check_uscc(candidate).valid:
            return check_uscc(candidate).code
    return next((c for c in candidates if c), None)


def ubl_to_row(doc: UblDocument) -> dict[str, Any]:
    problems = check_totals(doc)
    if problems:
        raise ValidationFailed(problems)
    totals = doc.totals
    total = totals.tax_inclusive_amount or totals.payable_amount
    row: dict[str, Any] = {
        "kind": "invoice" if doc.kind is UblKind.INVOICE else "credit_note",
        "number": doc.id,
        "seller_uscc": _uscc(doc.seller),
        "buyer_uscc": _uscc(doc.buyer),
        "issue_date": doc.issue_date.isoformat(),
        "currency": doc.currency,
        "total": total.to_decimal_string(),
        "order_number": doc.order_reference,
        "contract_number": doc.contract_reference,
        "invoice_number": doc.id if doc.kind is UblKind.INVOICE else doc.billing_reference,
    }
    if doc.kind is UblKind.INVOICE:
        # cbc:ID is the invoice's official number: a 20-digit 全电 number, or a 发票代码 and
        # its 发票号码 ("3100154130-00000001"); document validation checks it.
        row["invoice_code"], row["invoice_number"] = split_identifier(doc.id)
    if doc.tax_amount is not None:
        row["tax"] = doc.tax_amount.to_decimal_string()
    if doc.due_date is not None:
        row["due_date"] = doc.due_date.isoformat()
    if not doc.allowances_charges:
        row["lines"] = [
            {
                "item": line.item_name or line.id,
                "quantity": str(line.quantity or 1),
                "unit": line.unit_code or "",
                "unit_price": (line.price_amount or line.line_extension_amount).to_decimal_string(),
                "amount": line.line_extension_amount.to_decimal_string(),
            }
            for line in doc.lines
        ]
    return {k: v for k, v in row.items() if v is not None}
