"""Enterprises, supply relations, banks; batch import and export as CSV or JSON."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response

from chainfin.adapters.formats.tabular import TabularFormat, read_rows, write_rows
from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.receipts import receipt_for
from chainfin.api.schemas import BankOut, EnterpriseOut, ImportOut, RelationOut
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.registry import Role
from chainfin.domain.registry_input import ENTERPRISE_FIELDS, RELATION_FIELDS
from chainfin.resources.common import PageOut
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
    response_model=EnterpriseOut,
    status_code=201,
    responses={200: {"model": EnterpriseOut, "description": "already registered: linked"}},
)
def create_enterprise(
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    response: Response,
    body: Annotated[dict[str, Any], Body(examples=[{"uscc": "91110000600037341L"}])],
) -> EnterpriseOut:
    """Register an enterprise (or, if its USCC is already registered, link it to your bank or
    platform: 200 instead of 201)."""
    ent, outcome = registry.create_enterprise(session, principal, body)
    if outcome != "created":
        response.status_code = 200
    out = EnterpriseOut.build(ent, principal)
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
    session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal, body: dict[str, Any]
) -> ImportOut:
    records = registry.parse_relation_rows([body])
    report = registry.import_relations(session, principal, records)
    return ImportOut(**report.as_dict(), receipt=receipt_for(session, settings))


@router.post(
    "/registry/{kind}/import",
    response_model=ImportOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "application/x-ndjson": {"schema": {"type": "string"}},
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
        raise ValidationFailed(
            [FieldError("content-type", f"send one of {', '.join(_MEDIA)}, not {media!r}")]
        )
    rows = read_rows(await request.body(), fmt)
    if kind == "enterprises":
        records = registry.parse_enterprise_rows(rows.rows, first_row=rows.first_row)
        report = registry.import_enterprises(session, principal, records, first_row=rows.first_row)
    else:
        rels = registry.parse_relation_rows(rows.rows, first_row=rows.first_row)
        report = registry.import_relations(session, principal, rels, first_row=rows.first_row)
    return ImportOut(**report.as_dict(), receipt=receipt_for(session, settings))


@router.get("/registry/{kind}/export", response_class=Response)
def export_batch(
    kind: Kind,
    session: SessionDep,
    principal: CurrentPrincipal,
    format: Annotated[TabularFormat, Query()] = TabularFormat.CSV,
) -> Response:
    """Everything you can see, in the import format (so an export can be re-imported)."""
    columns: tuple[str, ...]
    if kind == "enterprises":
        rows, columns = registry.export_enterprises(session, principal), ENTERPRISE_FIELDS
    else:
        rows, columns = registry.export_relations(session, principal), RELATION_FIELDS
    media = {"csv": "text/csv", "json": "application/json", "jsonl": "application/x-ndjson"}
    return Response(
        write_rows(rows, format, columns),
        media_type=f"{media[format.value]}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{kind}.{format.value}"'},
    )


@router.get("/banks", response_model=list[BankOut])
def list_banks(session: SessionDep, principal: CurrentPrincipal) -> list[BankOut]:
    return [BankOut.build(b) for b in registry.list_banks(session, principal)]
