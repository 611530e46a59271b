"""What a client sends: request bodies and the query parameters lists share. What the API
answers is in :mod:`chainfin.resources`, one module per area.

Most bodies are parsed by FastAPI into the models below. A few are read raw, because their
size, nesting, format or idempotency is checked on the bytes first (trade documents, batch
imports, telemetry): their models only document the body (see :func:`schema_ref`), and the
domain parser that reads the bytes gives the precise 422s.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query
from pydantic import BaseModel, ConfigDict, Field, JsonValue, RootModel
from pydantic.json_schema import models_json_schema

from chainfin.api.inputs import Input, Instant
from chainfin.domain.documents import DocumentKind, InvoiceType
from chainfin.services.pagination import DEFAULT_LIMIT, MAX_LIMIT

# ---------------------------------------------------------------- lists

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"items per page (default {DEFAULT_LIMIT})")
]
Cursor = Annotated[
    str | None, Query(max_length=400, description="next_cursor of the previous page")
]
Since = Annotated[
    Instant | None, Query(description="from this instant, inclusive (ISO 8601 with offset)")
]
Until = Annotated[
    Instant | None, Query(description="up to this instant, exclusive (ISO 8601 with offset)")
]
SinceDay = Annotated[date | None, Query(description="from this date, inclusive")]
UntilDay = Annotated[date | None, Query(description="up to this date, inclusive")]


# ---------------------------------------------------------------- raw bodies

_SCHEMA_REFS: dict[str, type[BaseModel]] = {}


def schema_ref(model: type[BaseModel]) -> dict[str, str]:
    """``{"$ref": ...}`` to ``model`` where a route documents a shape it does not let FastAPI
    parse or serialise: a body read raw (``openapi_extra``), the rows of a streamed export
    (``responses``). :func:`document_schema_refs` puts the model in the OpenAPI components.
    For JSON Lines the schema is that of each line."""
    _SCHEMA_REFS[model.__name__] = model
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def document_schema_refs(app: FastAPI) -> None:
    """Add the models named by :func:`schema_ref` (and those they use) to ``app``'s OpenAPI
    components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        _, defs = models_json_schema(
            [(m, "validation") for m in _SCHEMA_REFS.values()],
            ref_template="#/components/schemas/{model}",
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in defs.get("$defs", {}).items():
            components.setdefault(name, definition)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# ---------------------------------------------------------------- registry

_USCC = Field(
    min_length=18,
    max_length=18,
    description="统一社会信用代码 (GB 32100)",
    examples=["91320505000000035L"],
)


class EnterpriseIn(Input):
    """An enterprise as the registry takes it, one at a time or as a row of a batch import
    (CSV columns of the same names)."""

    uscc: str = _USCC
    name: str = Field(max_length=200, examples=["苏州精工电子有限公司"])
    region_code: str = Field(description="GB/T 2260 county code", examples=["320505"])
    industry_code: str = Field(description="GB/T 4754 division", examples=["C39"])
    roles: str | list[str] = Field(
        description="supplier, core, dealer, bank, logistics, warehouse: a list, or one text "
        'separated by ";"',
        examples=[["supplier"], "core;dealer"],
    )
    employees: int | None = Field(None, ge=0)
    revenue: str | None = Field(None, description="decimal string", examples=["125000000.00"])
    total_assets: str | None = Field(None, description="decimal string")
    currency: str = Field("CNY", description="of revenue and total_assets")
    legal_representative: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=300)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "uscc": "91320505000000035L",
                    "name": "苏州精工电子有限公司",
                    "region_code": "320505",
                    "industry_code": "C39",
                    "roles": ["supplier"],
                    "employees": 120,
                    "revenue": "85000000.00",
                }
            ]
        }
    )


class RelationIn(Input):
    """A supply relation: the seller supplies the buyer (both registered) since a date."""

    buyer_uscc: str = _USCC
    seller_uscc: str = _USCC
    product_category: str = Field(max_length=100, examples=["锂电池电芯"])
    since: date


class ImportRowIn(RootModel[EnterpriseIn | RelationIn]):
    """One row of a batch import or export: an enterprise or a relation, by the route's kind
    (a line of JSON Lines, a line of CSV under a header of the same names)."""


class ImportRowsIn(RootModel[list[EnterpriseIn] | list[RelationIn]]):
    """A JSON batch import: an array of enterprises (``/v1/registry/enterprises/import``) or of
    relations (``/v1/registry/relations/import``). CSV and JSON Lines carry the same fields."""


class ChainIn(Input):
    name: str = Field(min_length=1, max_length=200)
    core_usccs: list[str] = Field(min_length=1, max_length=20)
    industry_code: str
    region_code: str
    max_tier: int = Field(4, ge=1, le=10)


# ---------------------------------------------------------------- trade documents

_SELLER, _BUYER = "91320505000000035L", "91110000600037341L"
_CARRIER, _WAREHOUSE = "91310115MA1FL8X17Q", "91440300MA5F0X2A4T"
_Amount = Annotated[str, Field(description="decimal string", examples=["1130.00"])]
_Day = Annotated[str, Field(description="YYYY-MM-DD", examples=["2026-03-01"])]
_Reference = Annotated[str, Field(max_length=64, description="another document's number")]


class DocumentLineIn(BaseModel):
    item: str
    quantity: str = Field(description="decimal string, above zero", examples=["10"])
    unit: str = Field("", examples=["件"])
    unit_price: _Amount
    amount: _Amount


class TrackingEventIn(BaseModel):
    at: str = Field(description="ISO 8601 with offset", examples=["2026-03-04T09:30:00+08:00"])
    region_code: str = Field(description="GB/T 2260 code where the shipment was")
    status: str = ""


class _Document(BaseModel):
    """The fields every kind may carry; each kind below makes its own ones required."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    number: str = Field(
        pattern=r"^[0-9A-Za-z][0-9A-Za-z._/\-]{0,63}$", description="the document's own number"
    )
    seller_uscc: str = _USCC
    buyer_uscc: str = _USCC
    issue_date: _Day
    currency: str = "CNY"
    total: _Amount = Field(description="decimal string above zero (lines + tax when both given)")
    tax: _Amount | None = None
    due_date: _Day | None = None
    contract_number: _Reference | None = None
    order_number: _Reference | None = None
    delivery_number: _Reference | None = None
    invoice_number: str | None = Field(
        None, description="on an invoice its own 发票号码; elsewhere, the invoice it concerns"
    )
    invoice_code: str | None = Field(None, description="10/12-digit 发票代码 (pre-digital)")
    invoice_type: InvoiceType | None = None
    carrier_uscc: str | None = None
    warehouse_uscc: str | None = None
    origin_region: str | None = Field(None, description="GB/T 2260 code")
    destination_region: str | None = Field(None, description="GB/T 2260 code")
    shipped_on: _Day | None = None
    delivered_on: _Day | None = None
    lines: list[DocumentLineIn] = Field(default_factory=list)
    tracking: list[TrackingEventIn] = Field(default_factory=list)


def _example(kind: DocumentKind, **fields: JsonValue) -> ConfigDict:
    body: dict[str, JsonValue] = {
        "kind": kind.value,
        "seller_uscc": _SELLER,
        "buyer_uscc": _BUYER,
        "issue_date": "2026-03-01",
        "currency": "CNY",
        **fields,
    }
    examples: list[JsonValue] = [body]
    return ConfigDict(extra="forbid", json_schema_extra={"examples": examples})


_LINES: JsonValue = [
    {"item": "电芯", "quantity": "10", "unit": "件", "unit_price": "100.00", "amount": "1000.00"}
]


class ContractIn(_Document):
    """A sales contract between seller and buyer."""

    model_config = _example(DocumentKind.CONTRACT, number="HT-2026-001", total="113000.00")
    kind: Literal[DocumentKind.CONTRACT]


class PurchaseOrderIn(_Document):
    """The buyer orders goods (under a contract)."""

    model_config = _example(
        DocumentKind.PURCHASE_ORDER,
        number="PO-2026-001",
        contract_number="HT-2026-001",
        total="1130.00",
        tax="130.00",
        lines=_LINES,
    )
    kind: Literal[DocumentKind.PURCHASE_ORDER]


class DeliveryNoteIn(_Document):
    """The seller ships (part of) an order."""

    model_config = _example(
        DocumentKind.DELIVERY_NOTE,
        number="DN-2026-001",
        order_number="PO-2026-001",
        total="1130.00",
        lines=_LINES,
    )
    kind: Literal[DocumentKind.DELIVERY_NOTE]
    order_number: _Reference


class GoodsReceiptIn(_Document):
    """The buyer received (part of) a delivery."""

    model_config = _example(
        DocumentKind.GOODS_RECEIPT,
        number="GR-2026-001",
        delivery_number="DN-2026-001",
        order_number="PO-2026-001",
        total="1130.00",
        lines=_LINES,
    )
    kind: Literal[DocumentKind.GOODS_RECEIPT]
    delivery_number: _Reference


class InvoiceIn(_Document):
    """A VAT invoice; ``invoice_number`` is its own 20-digit 数电 number (or 8 digits with its
    ``invoice_code``)."""

    model_config = _example(
        DocumentKind.INVOICE,
        number="INV-2026-001",
        invoice_number="25320000000000000001",
        invoice_type="digital_special",
        order_number="PO-2026-001",
        total="1130.00",
        tax="130.00",
        due_date="2026-05-30",
        lines=_LINES,
    )
    kind: Literal[DocumentKind.INVOICE]
    invoice_number: str = Field(description="its own 发票号码")
    tax: _Amount


class CreditNoteIn(_Document):
    """Reduces an invoice (returns, price corrections)."""

    model_config = _example(
        DocumentKind.CREDIT_NOTE,
        number="CN-2026-001",
        invoice_number="25320000000000000001",
        total="113.00",
        tax="13.00",
    )
    kind: Literal[DocumentKind.CREDIT_NOTE]
    invoice_number: str = Field(description="the invoice it reduces")


class PaymentIn(_Document):
    """The buyer pays an invoice."""

    model_config = _example(
        DocumentKind.PAYMENT,
        number="PAY-2026-001",
        invoice_number="25320000000000000001",
        total="1130.00",
    )
    kind: Literal[DocumentKind.PAYMENT]
    invoice_number: str = Field(description="the invoice it pays")


class WaybillIn(_Document):
    """A carrier moves a delivery from one region to another."""

    model_config = _example(
        DocumentKind.WAYBILL,
        number="WB-2026-001",
        delivery_number="DN-2026-001",
        carrier_uscc=_CARRIER,
        origin_region="320505",
        destination_region="110105",
        shipped_on="2026-03-02",
        delivered_on="2026-03-04",
        total="1130.00",
        tracking=[
            {"at": "2026-03-02T08:00:00+08:00", "region_code": "320505", "status": "picked up"},
            {"at": "2026-03-04T09:30:00+08:00", "region_code": "110105", "status": "delivered"},
        ],
    )
    kind: Literal[DocumentKind.WAYBILL]
    delivery_number: _Reference
    carrier_uscc: str = _USCC
    origin_region: str = Field(description="GB/T 2260 code")
    destination_region: str = Field(description="GB/T 2260 code")
    shipped_on: _Day


class WarehouseReceiptIn(_Document):
    """A warehouse holds goods for the buyer (仓单)."""

    model_config = _example(
        DocumentKind.WAREHOUSE_RECEIPT,
        number="WR-2026-001",
        warehouse_uscc=_WAREHOUSE,
        destination_region="440300",
        total="1130.00",
        lines=_LINES,
    )
    kind: Literal[DocumentKind.WAREHOUSE_RECEIPT]
    warehouse_uscc: str = _USCC
    destination_region: str = Field(description="GB/T 2260 code where the goods are held")


DOCUMENT_KINDS: dict[DocumentKind, type[_Document]] = {
    DocumentKind.CONTRACT: ContractIn,
    DocumentKind.PURCHASE_ORDER: PurchaseOrderIn,
    DocumentKind.DELIVERY_NOTE: DeliveryNoteIn,
    DocumentKind.GOODS_RECEIPT: GoodsReceiptIn,
    DocumentKind.INVOICE: InvoiceIn,
    DocumentKind.CREDIT_NOTE: CreditNoteIn,
    DocumentKind.PAYMENT: PaymentIn,
    DocumentKind.WAYBILL: WaybillIn,
    DocumentKind.WAREHOUSE_RECEIPT: WarehouseReceiptIn,
}


class DocumentIn(
    RootModel[
        Annotated[
            ContractIn
            | PurchaseOrderIn
            | DeliveryNoteIn
            | GoodsReceiptIn
            | InvoiceIn
            | CreditNoteIn
            | PaymentIn
            | WaybillIn
            | WarehouseReceiptIn,
            Field(discriminator="kind"),
        ]
    ]
):
    """One trade document, by ``kind`` (schema version 1). Amounts are decimal strings in the
    document's currency (a JSON number is refused), dates YYYY-MM-DD within the business
    dates; text carries no control or bidirectional characters."""


# ---------------------------------------------------------------- telemetry


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device: str = Field(description="the device's serial", examples=["WS-0001"])
    seq: int = Field(ge=0, description="the device's own counter: a seq seen before is ignored")
    at: str = Field(description="when measured, ISO 8601 with offset")


class WeightMessageIn(_Message):
    kind: Literal["weight"]
    value: str | int = Field(description="decimal, not negative", examples=["12.5"])
    unit: Literal["g", "kg", "t"]


class RfidMessageIn(_Message):
    kind: Literal["rfid"]
    value: str | int = Field(description="a whole count")
    unit: Literal["pcs"] = "pcs"


class GpsMessageIn(_Message):
    kind: Literal["gps"]
    lat: str | float = Field(ge=-90, le=90)
    lon: str | float = Field(ge=-180, le=180)


class TemperatureMessageIn(_Message):
    kind: Literal["temperature"]
    celsius: str | int = Field(description="decimal, -100 to 200")


TelemetryMessage = Annotated[
    WeightMessageIn | RfidMessageIn | GpsMessageIn | TemperatureMessageIn,
    Field(discriminator="kind"),
]


class TelemetryIn(RootModel[TelemetryMessage | list[TelemetryMessage]]):
    """One message, or an array of up to 500, as the device would publish over MQTT."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "device": "WS-0001",
                    "seq": 42,
                    "at": "2026-03-04T09:30:00+08:00",
                    "kind": "weight",
                    "value": "12.5",
                    "unit": "t",
                }
            ]
        }
    )
