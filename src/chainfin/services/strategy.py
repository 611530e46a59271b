"""Head office's regional chain analysis: a bank's market data (imported, kept per bank) and
its live position on the platform, seen from one region as chain maps, measures, a ranking,
lead lists and the committee report.

Every call is bank staff's (:func:`scoping.bank_of`) and needs ``strategy:read``; an import
needs ``strategy:write``. A bank reads only its own datasets: the analysis runs on the
bank's latest import (``strategy_no_market_data`` before the first), joined with the
bank's position read live through the scoping layer — its customers, its exposures by
obligor (loans outstanding, credentials financed), its credit lines, the credential
financings it made in the last 12 months, its overdue loans and its open alerts.

Receivables come only from the dataset's ``receivables.csv``: on the platform an invoice is
read by a bank under the *seller's* consent (services/documents.py), and the firms a lead
list is about are by definition not the bank's customers, so a live read would either step
around that consent or find nothing.

Datasets are immutable, so a parsed dataset is cached in the process by (id, SHA-256).
Head office's weights are never stored: :func:`rank` and :func:`report` take them on each
call (``weights=None``: entropy weights alone).

The functions follow the services' rule: they flush, the caller commits.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainfin.adapters.db.models import (
    Bank,
    Chain,
    ChainCore,
    ChainMember,
    CreditLine,
    Enterprise,
    Financing,
    Loan,
    StrategyDataset,
)
from chainfin.adapters.formats import strategy_report
from chainfin.domain import clock
from chainfin.domain.access import Principal, Scope
from chainfin.domain.errors import FieldError, NotFound, ValidationFailed
from chainfin.domain.ids import new_id
from chainfin.domain.strategy import csv_input
from chainfin.domain.strategy.dataset import INPUTS, BankPosition, Exposure, RegionDataset
from chainfin.domain.strategy.regions import StrategyRegion
from chainfin.domain.strategy.results import (
    ChainMap,
    ChainMeasures,
    Coverage,
    Lead,
    Ranking,
    StrategyReport,
)
from chainfin.risk.strategy import leads as leads_
from chainfin.risk.strategy import maps, ranking
from chainfin.risk.strategy import measures as measures_
from chainfin.risk.strategy.graph import RegionView
from chainfin.services import audit, customers, scoping

_WHY = "the regional chain analysis is head office's: it is done by a bank's staff"
MARKET_INPUTS = INPUTS[:9]  # what a dataset stores; the rest is the bank's live position
POSITION_INPUTS = ("customers", "exposures", "alerts")
FUNDED_DAYS = 365  # credential financings counted in the position: the last 12 months
LIVE_LINES = ("active", "frozen")
REPORT_CHAINS = 3  # chains mapped, with their leads, in the committee report
REPORT_LEADS = 10
CACHE_SIZE = 8
LANGS = ("zh_CN", "en")
DEFAULT_DRAWS = 500  # sensitivity draws of the ranking (±20 % weight noise)
DEFAULT_SEED = 17


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """One imported dataset, without its content."""

    id: str
    label: str
    as_of: date
    sha256: str
    counts: dict[str, int]
    missing: tuple[str, ...]
    created_by: str
    created_at: datetime


def _info(row: StrategyDataset) -> DatasetInfo:
    return DatasetInfo(
        row.id,
        row.label,
        row.as_of,
        row.sha256,
        {k: int(v) for k, v in row.counts.items()},
        tuple(row.missing),
        row.created_by,
        row.created_at,
    )


# ---------------------------------------------------------------------------- import


def canonical_content(files: Mapping[str, bytes]) -> bytes:
    """The files as one deterministic JSON object ``{file name: text}`` (UTF-8, keys
    sorted, no spaces): what ``sha256`` digests; ``content`` is it gzipped (mtime 0)."""
    texts = {name: files[name].decode("utf-8-sig") for name in sorted(files)}
    return json.dumps(texts, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def import_market(
    session: Session, actor: Principal, files: Mapping[str, bytes], *, label: str
) -> DatasetInfo:
    """Check the market files (csv_input) and keep them as the bank's latest dataset, with
    an audit record. Anything wrong raises ValidationFailed and nothing is written."""
    actor.require(Scope.STRATEGY_WRITE)
    bank_id = scoping.bank_of(actor, _WHY)
    errors: list[FieldError] = []
    text = label.strip()
    if not text:
        errors.append(FieldError("label", "give the dataset a label"))
    elif len(text) > 200:
        errors.append(FieldError("label", "at most 200 characters"))
    for name in sorted(files):
        if name in csv_input.POSITION_FILES:
            why = "the bank's position is read live from the platform: leave it out"
            errors.append(FieldError(name, why))
    if errors:
        raise ValidationFailed(errors)
    dataset = csv_input.parse_inputs(files)
    content = canonical_content(files)
    row = StrategyDataset(
        id=new_id("strategy_dataset"),
        bank_id=bank_id,
        label=text,
        as_of=dataset.as_of,
        content=gzip.compress(content, mtime=0),
        sha256=hashlib.sha256(content).hexdigest(),
        counts=counts_of(dataset),
        missing=[m for m in dataset.missing if m in MARKET_INPUTS],
        created_by=actor.label[:64],
        created_at=clock.utcnow(),
    )
    session.add(row)
    session.flush()
    detail = {"label": text, "as_of": row.as_of.isoformat(), "sha256": row.sha256}
    audit.record(session, actor, "strategy.import", "strategy_dataset", row.id, detail)
    return _info(row)


def counts_of(dataset: RegionDataset) -> dict[str, int]:
    """Rows per market input given (the segments table: its segments)."""
    sizes = {
        "enterprises": len(dataset.firms),
        "chains": len(dataset.chains),
        "relations": len(dataset.links),
        "trade_flows": len(dataset.flows),
        "financials": len(dataset.financials),
        "policies": len(dataset.policies),
        "io_shares": len(dataset.io_shares),
        "segments": max(len(dataset.segments_csv.splitlines()) - 1, 0)
        if dataset.segments_csv
        else 0,
        "receivables": len(dataset.receivables),
    }
    return {k: v for k, v in sizes.items() if k not in dataset.missing}


def datasets(session: Session, actor: Principal) -> list[DatasetInfo]:
    """The bank's imported datasets, the latest first."""
    actor.require(Scope.STRATEGY_READ)
    bank_id = scoping.bank_of(actor, _WHY)
    query = select(StrategyDataset).where(StrategyDataset.bank_id == bank_id)
    rows = session.scalars(
        query.order_by(StrategyDataset.created_at.desc(), StrategyDataset.id.desc())
    )
    return [_info(r) for r in rows]


# ---------------------------------------------------------------------------- load


_cache: OrderedDict[tuple[str, str], RegionDataset] = OrderedDict()
_cache_lock = threading.Lock()


def _market(row: StrategyDataset) -> RegionDataset:
    key = (row.id, row.sha256)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    texts = json.loads(gzip.decompress(row.content))
    files = {name: str(text).encode() for name, text in texts.items()}
    dataset = csv_input.parse_inputs(files, as_of=row.as_of)
    with _cache_lock:
        _cache[key] = dataset
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return dataset


def _latest(session: Session, bank_id: str) -> StrategyDataset:
    row = session.scalars(
        select(StrategyDataset)
        .where(StrategyDataset.bank_id == bank_id)
        .order_by(StrategyDataset.created_at.desc(), StrategyDataset.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(
            "the bank has no market data for the regional analysis yet",
            hint="Import the bank's market data (enterprises, chains, relations) first.",
            code="strategy_no_market_data",
        )
    return row


def load(session: Session, actor: Principal, region: StrategyRegion) -> RegionDataset:
    """The bank's latest market data with its live position. The dataset is the whole of
    the bank's import (a :class:`RegionView` selects the region's chains); ``region`` is
    taken for the facade's one shape."""
    actor.require(Scope.STRATEGY_READ)
    bank_id = scoping.bank_of(actor, _WHY)
    market = _market(_latest(session, bank_id))
    position, sources = position_of(session, actor, bank_id)
    withheld = withheld_inputs(actor)
    return replace(
        market,
        bank=position,
        missing=tuple(m for m in market.missing if m not in POSITION_INPUTS) + withheld,
        sources={**market.sources, **sources},
    )


def withheld_inputs(actor: Principal) -> tuple[str, ...]:
    """The parts of the bank's position this reader may not read: loans, lines and
    financings need loans:read, alerts credentials:read. They are *missing* for the
    analysis (measures that need them say so), never zero."""
    out: list[str] = []
    if not actor.has(Scope.LOANS_READ):
        out.append("exposures")
    if not actor.has(Scope.CREDENTIALS_READ):
        out.append("alerts")
    return tuple(out)


def position_of(
    session: Session, actor: Principal, bank_id: str
) -> tuple[BankPosition, dict[str, str]]:
    """The bank's position by USCC, and where each part came from."""
    customer_usccs = frozenset(
        session.scalars(
            select(Enterprise.uscc).where(Enterprise.id.in_(scoping.customer_ids(bank_id)))
        )
    )
    exposure = customers.exposure_by_firm(session, actor)
    limits: dict[str, int] = {}
    funded: dict[str, int] = {}
    overdue: set[str] = set()
    if actor.has(Scope.LOANS_READ):
        limits = _sums(
            session,
            select(CreditLine.obligor_id, func.sum(CreditLine.limit_minor))
            .where(
                scoping.by_bank(actor, CreditLine.bank_id),
                CreditLine.status.in_(LIVE_LINES),
                CreditLine.currency == csv_input.CURRENCY,
            )
            .group_by(CreditLine.obligor_id),
        )
        since = clock.today() - timedelta(days=FUNDED_DAYS)
        funded = _sums(
            session,
            select(Financing.seller_id, func.sum(Financing.face_minor))
            .where(
                scoping.by_bank(actor, Financing.bank_id),
                Financing.value_on >= since,
                Financing.currency == csv_input.CURRENCY,
            )
            .group_by(Financing.seller_id),
        )
        overdue = set(
            session.scalars(
                select(Loan.borrower_id)
                .where(scoping.by_bank(actor, Loan.bank_id), Loan.status == "overdue")
                .distinct()
            )
        )
    alerts = customers.open_alerts_by_firm(session, actor)
    ids = set(exposure) | set(limits) | set(funded) | overdue | set(alerts)
    uscc_of = dict(
        session.execute(
            select(Enterprise.id, Enterprise.uscc).where(Enterprise.id.in_(sorted(ids)))
        ).all()
    )
    firms = sorted(set(exposure) | set(limits) | set(funded) | overdue, key=lambda i: uscc_of[i])
    exposures = tuple(
        Exposure(
            uscc_of[i],
            exposure.get(i, 0),
            limit_minor=limits.get(i, 0),
            credentials_funded_minor=funded.get(i, 0),
            overdue=i in overdue,
        )
        for i in firms
    )
    open_alerts = tuple(sorted((uscc_of[i], n) for i, n in alerts.items()))
    code = session.scalar(select(Bank.code).where(Bank.id == bank_id)) or bank_id
    sources = {
        "customers": f"live: the bank's customers on the platform ({len(customer_usccs)})",
        "exposures": (
            "live: the bank's loans, credit lines, credentials financed and credential "
            f"financings of the last {FUNDED_DAYS} days ({len(exposures)} firms)"
            if actor.has(Scope.LOANS_READ)
            else "withheld: reading the bank's loans needs loans:read"
        ),
        "alerts": (
            f"live: the bank's open alerts ({len(open_alerts)} firms)"
            if actor.has(Scope.CREDENTIALS_READ)
            else "withheld: reading the bank's alerts needs credentials:read"
        ),
    }
    return BankPosition(code, customer_usccs, exposures, open_alerts), sources


def _sums(session: Session, query: object) -> dict[str, int]:
    return {str(k): int(v or 0) for k, v in session.execute(query)}  # type: ignore[call-overload]


# ---------------------------------------------------------------------------- the analysis


def view(session: Session, actor: Principal, region: StrategyRegion) -> RegionView:
    return RegionView(load(session, actor, region), region, today=clock.today())


def chain_maps(session: Session, actor: Principal, region: StrategyRegion) -> tuple[ChainMap, ...]:
    found = maps.chain_maps(view(session, actor, region))
    return tuple(_with_ids(session, actor, m) for m in found)


def _chain_not_found(chain_key: str, region: StrategyRegion) -> NotFound:
    return NotFound(
        f"no chain {chain_key!r} in {region.label_en} ({region.key}) in the bank's market data",
        code="strategy_chain_not_found",
    )


def chain_map(
    session: Session, actor: Principal, region: StrategyRegion, chain_key: str
) -> ChainMap:
    v = view(session, actor, region)
    if v.chain(chain_key) is None:
        raise _chain_not_found(chain_key, region)
    return _with_ids(session, actor, maps.chain_map(v, chain_key))


def measures(
    session: Session, actor: Principal, region: StrategyRegion
) -> tuple[ChainMeasures, ...]:
    return measures_.measure_chains(view(session, actor, region))


def coverage_of(dataset: RegionDataset) -> Coverage:
    """The inputs given and missing, as the ranking and the report state them. The bank's
    own segment table is an override, not an input: without it the platform's table
    (domain/data/chain_segments.csv) is used, and coverage is not lowered."""
    counted = tuple(i for i in INPUTS if i != "segments")
    present = tuple(i for i in counted if i not in dataset.missing)
    missing = tuple(i for i in counted if i in dataset.missing)
    notes = tuple(f"{i}: not given" for i in missing)
    return Coverage(len(present) / len(counted), present, missing, notes)


def _rank(
    v: RegionView,
    ms: tuple[ChainMeasures, ...],
    weights: ranking.WeightInput | None,
    blend: float | None,
    gates: ranking.Gates | None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> Ranking:
    return ranking.rank(
        ms,
        region=v.region.key,
        as_of=v.as_of,
        weights=weights,
        blend=blend,
        gates=gates or ranking.Gates(),
        draws=draws,
        seed=seed,
        coverage=coverage_of(v.dataset),
        kinds=v.kinds,
    )


def rank_view(
    v: RegionView,
    *,
    measured: Sequence[ChainMeasures] | None = None,
    weights: ranking.WeightInput | None = None,
    blend: float | None = None,
    gates: ranking.Gates | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> Ranking:
    """The ranking of a view already loaded (the services' own path, and the CLI's on files
    alone): measures, then :func:`chainfin.risk.strategy.ranking.rank` with the dataset's
    coverage and segment table. ``measured``: the view's measures when the caller already
    has them (the page shows them beside the ranking)."""
    ms = tuple(measured) if measured is not None else measures_.measure_chains(v)
    return _rank(v, ms, weights, blend, gates, draws, seed)


def rank(
    session: Session,
    actor: Principal,
    region: StrategyRegion,
    weights: ranking.WeightInput | None = None,
    blend: float | None = None,
    gates: ranking.Gates | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> Ranking:
    """The region's chains ranked; ``weights`` is head office's file of this call (nothing
    is stored), None for entropy weights alone; ``blend`` given here wins over the file's."""
    v = view(session, actor, region)
    return rank_view(v, weights=weights, blend=blend, gates=gates, draws=draws, seed=seed)


def openable(session: Session, actor: Principal, usccs: Iterable[str]) -> dict[str, str]:
    """USCC -> the platform's enterprise id, for the firms whose page the bank may open:
    those it may see (:func:`scoping.may_see_enterprise`: its customers and itself) and the
    members of its own chains (the firm page's rule, customers.positions_in_chains)."""
    ids = dict(
        session.execute(
            select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_(sorted(set(usccs))))
        ).all()
    )
    if not ids:
        return {}
    wanted = sorted(ids.values())
    own_chains = select(Chain.id).where(scoping.chain_condition(actor))
    in_chains = set(
        session.scalars(
            select(ChainMember.enterprise_id).where(
                ChainMember.chain_id.in_(own_chains), ChainMember.enterprise_id.in_(wanted)
            )
        )
    ) | set(
        session.scalars(
            select(ChainCore.enterprise_id).where(
                ChainCore.chain_id.in_(own_chains), ChainCore.enterprise_id.in_(wanted)
            )
        )
    )
    bank_id = scoping.bank_of(actor, _WHY)
    visible = in_chains | scoping.customers_among(session, bank_id, wanted)
    own = scoping.bank_enterprise_id(session, bank_id)
    return {u: i for u, i in ids.items() if i in visible or i == own}


def _leads(
    session: Session, actor: Principal, v: RegionView, key: str, limit: int
) -> tuple[Lead, ...]:
    found = leads_.leads(v, key, limit=limit)
    ids = openable(session, actor, (lead.uscc for lead in found))
    return tuple(replace(lead, enterprise_id=ids.get(lead.uscc)) for lead in found)


def _with_ids(session: Session, actor: Principal, found: ChainMap) -> ChainMap:
    ids = openable(session, actor, (f.uscc for f in found.firms))
    firms = tuple(replace(f, enterprise_id=ids.get(f.uscc)) for f in found.firms)
    return replace(found, firms=firms)


def leads(
    session: Session,
    actor: Principal,
    region: StrategyRegion,
    chain_key: str,
    limit: int = 100,
) -> tuple[Lead, ...]:
    """The chain's leads, best first; each names the platform's enterprise id when the
    bank may open that firm's page."""
    v = view(session, actor, region)
    if v.chain(chain_key) is None:
        raise _chain_not_found(chain_key, region)
    return _leads(session, actor, v, chain_key, limit)


def report_of_view(
    v: RegionView,
    *,
    bank: str,
    lang: str = "zh_CN",
    weights: ranking.WeightInput | None = None,
    blend: float | None = None,
    gates: ranking.Gates | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    ids: Callable[[Iterable[str]], dict[str, str]] | None = None,
) -> StrategyReport:
    """Everything the committee report shows: the ranking, the measures, the maps and
    leads of the top :data:`REPORT_CHAINS` chains. ``ids`` gives the platform's enterprise
    ids of the firms the reader may open (none on files alone)."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    ms = measures_.measure_chains(v)
    ranked = _rank(v, ms, weights, blend, gates, draws, seed)
    top = [c.chain_key for c in ranked.chains if c.rank is not None][:REPORT_CHAINS]
    found = {key: leads_.leads(v, key, limit=REPORT_LEADS) for key in top}
    charts = {key: maps.chain_map(v, key) for key in top}
    if ids is not None:
        opened = ids(
            [f.uscc for m in charts.values() for f in m.firms]
            + [lead.uscc for ls in found.values() for lead in ls]
        )
        found = {
            k: tuple(replace(lead, enterprise_id=opened.get(lead.uscc)) for lead in ls)
            for k, ls in found.items()
        }
        charts = {
            k: replace(
                m, firms=tuple(replace(f, enterprise_id=opened.get(f.uscc)) for f in m.firms)
            )
            for k, m in charts.items()
        }
    return StrategyReport(
        bank=bank,
        region=v.region.key,
        region_label=v.region.label_zh if lang == "zh_CN" else v.region.label_en,
        as_of=v.as_of,
        generated_on=clock.today(),
        lang=lang,
        ranking=ranked,
        measures=ms,
        maps=tuple(charts[key] for key in top),
        leads=found,
        sources=dict(v.dataset.sources),
        missing=tuple(m for m in v.dataset.missing if m != "segments"),
    )


def report(
    session: Session,
    actor: Principal,
    region: StrategyRegion,
    *,
    lang: str = "zh_CN",
    weights: ranking.WeightInput | None = None,
    blend: float | None = None,
    gates: ranking.Gates | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> StrategyReport:
    """The committee report of the actor's bank for ``region`` (see :func:`report_of_view`)."""
    v = view(session, actor, region)
    bank_id = scoping.bank_of(actor, _WHY)
    bank_name = session.scalar(select(Bank.name).where(Bank.id == bank_id)) or bank_id
    return report_of_view(
        v,
        bank=bank_name,
        lang=lang,
        weights=weights,
        blend=blend,
        gates=gates,
        draws=draws,
        seed=seed,
        ids=lambda usccs: openable(session, actor, usccs),
    )


def report_pdf(
    session: Session,
    actor: Principal,
    region: StrategyRegion,
    *,
    lang: str = "zh_CN",
    weights: ranking.WeightInput | None = None,
    blend: float | None = None,
    gates: ranking.Gates | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> bytes:
    found = report(
        session,
        actor,
        region,
        lang=lang,
        weights=weights,
        blend=blend,
        gates=gates,
        draws=draws,
        seed=seed,
    )
    return strategy_report.render_pdf(found)
