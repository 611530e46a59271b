"""A bank's portfolio: exposure and concentration by core, chain, industry, region, obligor."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from chainfin.api.deps import CurrentPrincipal, SessionDep
from chainfin.services import portfolio

router = APIRouter(tags=["risk"])


@router.get("/v1/portfolio/exposure", summary="Exposure and concentration")
def exposure(
    session: SessionDep, principal: CurrentPrincipal, by: str = "core", currency: str = "CNY"
) -> dict[str, Any]:
    """``by`` is one of core, chain, industry_section, industry_division, region_province,
    region_prefecture, obligor; with the Herfindahl-Hirschman index and the top-5 share."""
    return portfolio.exposure(session, principal, by=by, currency=currency).to_dict()
