"""Head office's regional chain strategy: the bank's market data, and per region the chain
maps, measures, ranking, lead lists and the committee report (issue 17).

A region is ``jjj``, ``yrd``, ``gba`` or a GB/T 2260 province or prefecture code; anything
else is 404 ``region_not_found``. Every read is the bank's own: its latest imported market
data with its live position (``strategy_no_market_data`` before the first import), for
bank staff and bank clients with ``strategy:read``; importing needs ``strategy:write``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile
from pydantic import Field, JsonValue
from sqlalchemy.orm import Session

from chainfin.api.deps import CurrentPrincipal, SessionDep
from chainfin.api.inputs import Input
from chainfin.api.schemas import Cursor, Limit
from chainfin.domain.access import Principal
from chainfin.domain.errors import FieldError, NotFound, ValidationFailed
from chainfin.domain.strategy.ratings import SCALE, is_rating
from chainfin.domain.strategy.regions import (
    StrategyRegion,
    UnknownRegion,
    named_regions,
    parse_region,
)
from chainfin.domain.strategy.results import Ranking
from chainfin.resources.common import PageOut
from chainfin.resources.strategy import (
    ChainMapOut,
    ChainSummaryOut,
    LeadsOut,
    RankingOut,
    RegionMeasuresOut,
    StrategyDatasetOut,
    StrategyRegionOut,
)
from chainfin.risk.strategy import ranking
from chainfin.risk.strategy.leads import leads_csv
from chainfin.services import strategy
from chainfin.services.pagination import page_of

router = APIRouter(prefix="/v1/strategy", tags=["strategy"])

MAX_DRAWS = 2000  # sensitivity draws one request may ask for (500 take well under a second)
MAX_FILES = 12  # the market inputs a dataset may hold (csv_input.MARKET_FILES)

RegionPath = Annotated[
    str,
    Path(
        max_length=8,
        description="jjj, yrd, gba, or a GB/T 2260 province or prefecture code (320000, 320500)",
    ),
]
ChainPath = Annotated[str, Path(max_length=100, description="the chain's key in the dataset")]


def region_of(text: str) -> StrategyRegion:
    try:
        return parse_region(text)
    except UnknownRegion as exc:
        raise NotFound(str(exc), code="region_not_found") from None


# ---------------------------------------------------------------------------- regions, data


@router.get("/regions", response_model=PageOut[StrategyRegionOut], summary="The named regions")
def regions(
    _: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> PageOut[StrategyRegionOut]:
    """京津冀 (jjj), 长三角 (yrd) and 大湾区 (gba), in that order, with the GB/T 2260 codes
    they cover; any province or prefecture code is a region too."""
    order = {r.key: f"{n:02d}" for n, r in enumerate(named_regions())}
    page = page_of(named_regions(), lambda r: order[r.key], cursor=cursor, limit=limit)
    items = [StrategyRegionOut.build(r) for r in page.items]
    return PageOut[StrategyRegionOut](items=items, next_cursor=page.next_cursor)


@router.get(
    "/datasets",
    response_model=PageOut[StrategyDatasetOut],
    summary="The bank's imported market data",
)
def datasets(
    session: SessionDep, principal: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> PageOut[StrategyDatasetOut]:
    """The bank's datasets in import order (by id): the analysis reads the latest, the
    last one."""
    found = strategy.datasets(session, principal)
    page = page_of(found, lambda d: d.id, cursor=cursor, limit=limit)
    items = [StrategyDatasetOut.build(d) for d in page.items]
    return PageOut[StrategyDatasetOut](items=items, next_cursor=page.next_cursor)


@router.post(
    "/datasets",
    status_code=201,
    response_model=StrategyDatasetOut,
    summary="Import the bank's market data (CSV files)",
)
def import_dataset(
    session: SessionDep,
    principal: CurrentPrincipal,
    files: Annotated[
        list[UploadFile],
        File(
            description="the CSV files, each under its own name: enterprises.csv, chains.csv, "
            "relations.csv and any of trade_flows.csv, financials.csv, policies.csv, "
            "io_shares.csv, segments.csv, receivables.csv"
        ),
    ],
    label: Annotated[str, Form(max_length=200, description="what the data is")],
) -> StrategyDatasetOut:
    """All or nothing: every bad row is listed (file, row, column) in a 422 and nothing is
    written. The bank's position (customers, exposures, alerts) is not imported: it is read
    live. The body is limited like every file ingestion (413 beyond it). A plain ``def``: the
    parsing runs in the thread pool, not on the event loop."""
    named: dict[str, bytes] = {}
    problems: list[FieldError] = []
    if len(files) > MAX_FILES:
        problems.append(FieldError("files", f"at most {MAX_FILES} files, got {len(files)}"))
    for n, upload in enumerate(files[:MAX_FILES]):
        name = (upload.filename or "").strip()
        if not name:
            problems.append(FieldError(f"files[{n}]", "give the file its name (e.g. chains.csv)"))
        elif name in named:
            problems.append(FieldError(name, "given twice"))
        else:
            named[name] = upload.file.read()
    if problems:
        raise ValidationFailed(problems)
    info = strategy.import_market(session, principal, named, label=label)
    return StrategyDatasetOut.build(info)


# ---------------------------------------------------------------------------- the analysis


@router.get(
    "/regions/{region}/chains",
    response_model=PageOut[ChainSummaryOut],
    summary="The region's chains",
)
def chains(
    region: RegionPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[ChainSummaryOut]:
    """Each chain of the region in one line, in chain key order: members, customers,
    segments present, links, freshness and coverage."""
    maps = strategy.chain_maps(session, principal, region_of(region))
    page = page_of(maps, lambda m: m.chain_key, cursor=cursor, limit=limit)
    items = [ChainSummaryOut.build(m) for m in page.items]
    return PageOut[ChainSummaryOut](items=items, next_cursor=page.next_cursor)


@router.get(
    "/regions/{region}/chains/{chain_key}",
    response_model=ChainMapOut,
    summary="A chain's map",
)
def chain_map(
    region: RegionPath, chain_key: ChainPath, session: SessionDep, principal: CurrentPrincipal
) -> ChainMapOut:
    """The segment tree (critical segments flagged, single sources marked), the members
    with side, tier and stage, and the links with provenance and freshness."""
    return ChainMapOut.build(strategy.chain_map(session, principal, region_of(region), chain_key))


@router.get(
    "/regions/{region}/measures",
    response_model=RegionMeasuresOut,
    summary="Every chain of the region measured",
)
def measures(
    region: RegionPath, session: SessionDep, principal: CurrentPrincipal
) -> RegionMeasuresOut:
    """Each chain on every criterion and the informational measures, with the inputs of
    each value; a value that could not be computed is null with basis ``missing`` and a
    note, never 0."""
    where = region_of(region)
    return RegionMeasuresOut.build(where.key, strategy.measures(session, principal, where))


class RankingIn(Input):
    """The ranking's options, with head office's weights (the ``--weights`` file's JSON)."""

    weights: dict[str, JsonValue] | None = Field(
        None,
        description='{"direct": {criterion: weight, ..., "others": w}} or {"pairwise": '
        '{"criteria": [...], "matrix": [[...]]}}, optionally with "blend"',
    )
    blend: float | None = Field(None, ge=0, le=1, description="share of head office's weights")
    draws: int = Field(500, ge=1, le=MAX_DRAWS, description="sensitivity draws")
    seed: int = Field(17, ge=0, le=2**31 - 1)
    min_core_rating: str | None = Field(None, max_length=4, examples=["AA-"])
    restrict_kinds: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list, max_length=40, description="chain kinds excluded"
    )


def _ranking(
    session: Session,
    principal: Principal,
    region: StrategyRegion,
    options: RankingIn,
) -> Ranking:
    """The region's chains ranked with these options."""
    return strategy.rank(session, principal, region, **_rank_options(options))


def _rank_options(options: RankingIn) -> dict[str, Any]:
    """The services' ranking keywords from the request's options, checked."""
    weights = None
    if options.weights is not None:
        try:
            weights = ranking.parse_weights(json.dumps(options.weights))
        except ranking.WeightsError as exc:
            raise ValidationFailed(
                [FieldError("weights", str(exc))], code="strategy_weights_refused"
            ) from None
    rating = options.min_core_rating
    if rating is not None and not is_rating(rating):
        why = f"{rating!r} is not a rating on the scale {SCALE[0]}…{SCALE[-1]}"
        raise ValidationFailed([FieldError("min_core_rating", why)], code="strategy_rating_unknown")
    gates = ranking.Gates(
        restricted_kinds=frozenset(options.restrict_kinds),
        min_core_rating=rating.strip().upper() if rating else None,
    )
    return {
        "weights": weights,
        "blend": options.blend,
        "gates": gates,
        "draws": options.draws,
        "seed": options.seed,
    }


@router.get(
    "/regions/{region}/ranking",
    response_model=RankingOut,
    summary="The region's chains ranked (entropy weights)",
)
def rank(
    region: RegionPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    blend: Annotated[float | None, Query(ge=0, le=1)] = None,
    draws: Annotated[int, Query(ge=1, le=MAX_DRAWS)] = 500,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 17,
    min_core_rating: Annotated[str | None, Query(max_length=4)] = None,
    restrict_kind: Annotated[
        list[Annotated[str, Query(max_length=40)]] | None,
        Query(max_length=40, description="a chain kind excluded (repeat for several)"),
    ] = None,
) -> RankingOut:
    """TOPSIS on entropy weights, gates applied (``restrict_kind`` repeats), each chain's
    rank interval over ``draws`` seeded draws with ±20 % weight noise, the quadrant and a
    one-line reason. Head office's own weights: POST the same path."""
    options = RankingIn.model_construct(
        weights=None,
        blend=blend,
        draws=draws,
        seed=seed,
        min_core_rating=min_core_rating,
        restrict_kinds=list(restrict_kind or ()),
    )  # the query is checked already
    return RankingOut.build(_ranking(session, principal, region_of(region), options))


@router.post(
    "/regions/{region}/ranking",
    response_model=RankingOut,
    summary="The region's chains ranked with head office's weights",
)
def rank_weighted(
    region: RegionPath, options: RankingIn, session: SessionDep, principal: CurrentPrincipal
) -> RankingOut:
    """As the GET, with head office's weights in the body (direct, or AHP pairwise
    comparisons whose consistency ratio must be below 0.1). Nothing is stored."""
    return RankingOut.build(_ranking(session, principal, region_of(region), options))


def _wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    accept = request.headers.get("accept", "")
    return any(part.split(";")[0].strip() == "text/csv" for part in accept.split(","))


def _filename(chain_key: str) -> str:
    return "leads-" + (re.sub(r"[^A-Za-z0-9._-]", "_", chain_key) or "chain") + ".csv"


@router.get(
    "/regions/{region}/chains/{chain_key}/leads",
    response_model=LeadsOut,
    summary="A chain's lead list",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def leads(
    region: RegionPath,
    chain_key: ChainPath,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="csv: as the branches' file")
    ] = None,
) -> Any:
    """Members that are not the bank's customers but trade with a core it serves, best
    first, with trade volume, punctuality, financeable receivables and an indicative limit.
    ``Accept: text/csv`` or ``?format=csv`` gives the CSV for branches."""
    where = region_of(region)
    found: Sequence[Any] = strategy.leads(session, principal, where, chain_key, limit=limit)
    if _wants_csv(request, format):
        return Response(
            leads_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{_filename(chain_key)}"'},
        )
    return LeadsOut.build(where.key, chain_key, found)


@router.get(
    "/regions/{region}/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="The strategy committee's report (PDF)",
)
def report_pdf(
    region: RegionPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Literal["zh_CN", "en"] = "zh_CN",
    blend: Annotated[float | None, Query(ge=0, le=1)] = None,
    draws: Annotated[int, Query(ge=1, le=MAX_DRAWS)] = 500,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 17,
    min_core_rating: Annotated[str | None, Query(max_length=4)] = None,
    restrict_kind: Annotated[
        list[Annotated[str, Query(max_length=40)]] | None,
        Query(max_length=40, description="a chain kind excluded (repeat for several)"),
    ] = None,
) -> Response:
    """The ranking with rank intervals and the quadrant chart, the measures with their
    definitions, the top chains' maps and leads, and the data's coverage and date; ranked
    with the options of ``GET …/ranking`` (entropy weights: the report of head office's own
    weights is the workbench page's and the CLI's)."""
    where = region_of(region)
    options = RankingIn.model_construct(
        weights=None,
        blend=blend,
        draws=draws,
        seed=seed,
        min_core_rating=min_core_rating,
        restrict_kinds=list(restrict_kind or ()),
    )  # the query is checked already
    pdf = strategy.report_pdf(session, principal, where, lang=lang, **_rank_options(options))
    name = f"strategy-{where.key}-{lang}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
