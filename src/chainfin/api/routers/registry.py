"""Enterprises, supply relations, banks; batch import and export as CSV or JSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from chainfin.adapters.formats.tabular import TabularFormat, read_rows
from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.receipts import receipt_for
from chainfin.api.schemas import (
    Cursor,
    EnterpriseIn,
    ImportRowIn,
    ImportRowsIn,
    Limit,
    RelationIn,
    schema_ref,
)
from chainfin.api.streams import stream_rows, streamed
from chainfin.domain.errors import FieldError, UnsupportedMediaType
from chainfin.domain.registry import Role
from chainfin.domain.registry_input import ENTERPRISE_FIELDS, RELATION_FIELDS
from chainfin.resources.common import PageOut
from chainfin.resources.registry import (
    BankOut,
    EnterpriseOut,
    EnterpriseWrittenOut,
    ImportOut,
    RelationOut,
)
from chainfin.services import registry

router = APIRouter(prefix="/v1", tags=["registry"])
Kind = Literal["enterprises", "relations"]
_MEDIA = {
    "text/csv": TabularFormat.CSV,
    "application/json": TabularFormat.JSON,
    "application/x-ndjson": TabularFormat.JSONL,
    "application/jsonl": TabularFormat.JSONL,
}


@router.get("/enterprises", response_model=PageOut[EnterpriseOut])
def list_enterprises(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    role: Role | None = None,
    region: Annotated[str | None, Query(pattern=r"^\d{2,6}$", description="code prefix")] = None,
    industry: Annotated[str | None, Query(pattern=r"^[A-T]\d{2}$")] = None,
    uscc: Annotated[str | None, Query(min_length=18, max_length=18)] = None,
) -> PageOut[EnterpriseOut]:
    page = registry.list_enterprises(
        session,
        principal,
        limit=limit,
        cursor=cursor,
        role=role,
        region_prefix=region,
        industry_code=industry,
        uscc=uscc,
    )
    items = [EnterpriseOut.build(e, principal) for e in page.items]
    return PageOut[EnterpriseOut](items=items, next_cursor=page.next_cursor)


@router.post(
    "/enterprises",
    response_model=EnterpriseWrittenOut,
    status_code=201,
    responses={200: {"model": EnterpriseWrittenOut, "description": "already registered: linked"}},
)
def create_enterprise(
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    response: Response,
    body: EnterpriseIn,
) -> EnterpriseWrittenOut:
    """Register an enterprise (or, if its USCC is already registered, link it to your bank or
    platform: 200 instead of 201)."""
    row = body.model_dump(exclude_none=True)
    ent, outcome = registry.create_enterprise(session, principal, row)
    if outcome != "created":
        response.status_code = 200
    out = EnterpriseWrittenOut.build(ent, principal)
    out.receipt = receipt_for(session, settings)
    return out


@router.get("/enterprises/{enterprise_id}", response_model=EnterpriseOut)
def get_enterprise(
    enterprise_id: str, session: SessionDep, principal: CurrentPrincipal
) -> EnterpriseOut:
    return EnterpriseOut.build(
        registry.get_enterprise(session, principal, enterprise_id), principal
    )


@router.get("/enterprises/{enterprise_id}/relations", response_model=PageOut[RelationOut])
def enterprise_relations(
    enterprise_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> PageOut[RelationOut]:
    page = registry.list_relations(
        session, principal, limit=limit, cursor=cursor, enterprise_id=enterprise_id
    )
    return PageOut[RelationOut](
        items=[RelationOut.build(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get("/relations", response_model=PageOut[RelationOut])
def list_relations(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> PageOut[RelationOut]:
    page = registry.list_relations(session, principal, limit=limit, cursor=cursor)
    return PageOut[RelationOut](
        items=[RelationOut.build(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.post("/relations", response_model=ImportOut, status_code=201)
def create_relation(
    session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal, body: RelationIn
) -> ImportOut:
    """Record that the seller supplies the buyer (both registered); an existing relation is
    reported ``unchanged``."""
    records = registry.parse_relation_rows([body.model_dump(mode="json")])
    report = registry.import_relations(session, principal, records)
    out = ImportOut.build(report)
    out.receipt = receipt_for(session, settings)
    return out


@router.post(
    "/registry/{kind}/import",
    response_model=ImportOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": schema_ref(ImportRowsIn)},
                "application/x-ndjson": {"schema": schema_ref(ImportRowIn)},
            },
        }
    },
)
async def import_batch(
    kind: Kind,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> ImportOut:
    """All-or-nothing batch import. Send CSV (``text/csv``), a JSON array
    (``application/json``) or JSON Lines (``application/x-ndjson``). A rejected batch answers
    422 with every problem as ``errors[]`` (``row``, ``field``, ``reason``) and writes nothing."""
    registry.require_write(principal, kind)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = _MEDIA.get(media)
    if fmt is None:
        raise UnsupportedMediaType(
            [FieldError("content-type", f"send one of {', '.join(_MEDIA)}, not {media!r}")]
        )
    rows = read_rows(await request.body(), fmt)
    if kind == "enterprises":
        records = registry.parse_enterprise_rows(rows.rows, first_row=rows.first_row)
        report = registry.import_enterprises(session, principal, records, first_row=rows.first_row)
    else:
        rels = registry.parse_relation_rows(rows.rows, first_row=rows.first_row)
        report = registry.import_relations(session, principal, rels, first_row=rows.first_row)
    out = ImportOut.build(report)
    out.receipt = receipt_for(session, settings)
    return out


_EXPORT = streamed(
    ImportRowIn,
    TabularFormat.CSV,
    TabularFormat.JSONL,
    TabularFormat.JSON,
    array=ImportRowsIn,
    description="the rows in the import format, streamed as they are read",
)


@router.get("/registry/{kind}/export", response_class=StreamingResponse, responses=_EXPORT)
def export_batch(
    kind: Kind,
    request: Request,
    principal: CurrentPrincipal,
    format: Annotated[TabularFormat, Query(description="csv, jsonl or json (an array)")] = (
        TabularFormat.CSV
    ),
) -> StreamingResponse:
    """Everything you can see, in the import format (so an export can be re-imported),
    streamed: rows are read in batches as they are sent."""
    if kind == "enterprises":
        return stream_rows(
            request,
            lambda s: registry.export_enterprises(s, principal),
            format,
            ENTERPRISE_FIELDS,
            filename=kind,
        )
    return stream_rows(
        request,
        lambda s: registry.export_relations(s, principal),
        format,
        RELATION_FIELDS,
        filename=kind,
    )


@router.get("/banks", response_model=PageOut[BankOut])
def list_banks(
    session: SessionDep, principal: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> PageOut[BankOut]:
    """Every bank on the platform, by code."""
    page = registry.list_banks(session, principal, cursor=cursor, limit=limit)
    return PageOut[BankOut](
        items=[BankOut.build(b) for b in page.items], next_cursor=page.next_cursor
    )
