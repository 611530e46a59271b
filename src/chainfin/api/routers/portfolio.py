"""A bank's portfolio: exposure and concentration by core, chain, industry, region, obligor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from chainfin.api.deps import CurrentPrincipal, SessionDep
from chainfin.api.inputs import BusinessDate
from chainfin.domain import clock
from chainfin.resources.risk import ContagionOut, ExposureOut, SectorRatesOut
from chainfin.services import contagion, portfolio, sectors

router = APIRouter(tags=["risk"])


@router.get(
    "/v1/portfolio/exposure", response_model=ExposureOut, summary="Exposure and concentration"
)
def exposure(
    session: SessionDep, principal: CurrentPrincipal, by: str = "core", currency: str = "CNY"
) -> ExposureOut:
    """``by`` is one of core, chain, industry_section, industry_division, region_province,
    region_prefecture, obligor; with the Herfindahl-Hirschman index and the top-5 share."""
    return ExposureOut.build(portfolio.exposure(session, principal, by=by, currency=currency))


@router.get(
    "/v1/risk/contagion",
    response_model=ContagionOut,
    summary="A core enterprise defaults or pays late",
)
def contagion_scenario(
    session: SessionDep,
    principal: CurrentPrincipal,
    core: str,
    kind: str = "default",
    days: Annotated[int, Query(ge=0, le=3660)] = 0,
    as_of: BusinessDate | None = None,
    top: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> ContagionOut:
    """DebtRank on the platform's supply network with the bank's expected loss by tier;
    ``kind`` default or delay (with ``days``)."""
    report = contagion.run(
        session,
        principal,
        core=core,
        kind=kind,
        days=days,
        as_of=as_of or clock.today(),
        top=top,
    )
    return ContagionOut.build(report)


@router.get(
    "/v1/portfolio/sectors",
    response_model=SectorRatesOut,
    summary="Alert rates by industry or region",
)
def sector_rates(
    session: SessionDep,
    principal: CurrentPrincipal,
    by: str = "industry_section",
    as_of: BusinessDate | None = None,
) -> SectorRatesOut:
    """Monthly share of the bank's borrowers with an alert, per GB/T 4754 section or province,
    and the sectors whose latest month rises beyond their own history."""
    return SectorRatesOut.build(
        sectors.rates(session, principal, by=by, as_of=as_of or clock.today())
    )
