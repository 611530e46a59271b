"""Industrial chains: define around core enterprises, read tiers and members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from chainfin.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from chainfin.api.receipts import receipt_for
from chainfin.api.schemas import ChainIn
from chainfin.domain.registry import Side
from chainfin.resources.chains import ChainOut, ChainWrittenOut, MemberOut
from chainfin.resources.common import PageOut
from chainfin.services import chains

router = APIRouter(prefix="/v1/chains", tags=["chains"])


@router.get("", response_model=PageOut[ChainOut])
def list_chains(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> PageOut[ChainOut]:
    page = chains.list_chains(session, principal, limit=limit, cursor=cursor)
    return PageOut[ChainOut](
        items=[ChainOut.build(s) for s in page.items], next_cursor=page.next_cursor
    )


@router.post("", response_model=ChainWrittenOut, status_code=201)
def create_chain(
    body: ChainIn, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> ChainWrittenOut:
    summary = chains.create_chain(
        session,
        principal,
        name=body.name,
        core_usccs=body.core_usccs,
        industry_code=body.industry_code,
        region_code=body.region_code,
        max_tier=body.max_tier,
    )
    out = ChainWrittenOut.build(summary)
    out.receipt = receipt_for(session, settings)
    return out


@router.get("/{chain_id}", response_model=ChainOut)
def get_chain(chain_id: str, session: SessionDep, principal: CurrentPrincipal) -> ChainOut:
    return ChainOut.build(chains.get_chain(session, principal, chain_id))


@router.get("/{chain_id}/members", response_model=PageOut[MemberOut])
def list_members(
    chain_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    side: Side | None = None,
    tier: Annotated[int | None, Query(ge=0, le=10)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> PageOut[MemberOut]:
    page = chains.list_members(
        session, principal, chain_id, side=side, tier=tier, limit=limit, cursor=cursor
    )
    return PageOut[MemberOut](
        items=[MemberOut.build(m) for m in page.items], next_cursor=page.next_cursor
    )


@router.post("/{chain_id}/recompute", response_model=ChainWrittenOut)
def recompute(
    chain_id: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> ChainWrittenOut:
    """Recompute member tiers from the current supply relations."""
    chains.recompute_chain(session, principal, chain_id)
    out = ChainWrittenOut.build(chains.get_chain(session, principal, chain_id))
    out.receipt = receipt_for(session, settings)
    return out
