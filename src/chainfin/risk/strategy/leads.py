"""Lead lists: in a chosen chain, the members that are not yet the bank's customers but trade
with a core the bank already serves — the firms a branch can reach through that core
(以核心带上下游).

Each lead carries what it trades with the served cores over the last 12 months, how
punctually it is paid or pays, the receivables on those cores that could be financed now
(confirmed by the core, not yet registered at the registry, not yet due), an indicative
limit, and a 0–100 score. Definitions: docs/strategy.md, "Lead lists".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from chainfin.domain.strategy.dataset import Receivable, TradeFlow
from chainfin.domain.strategy.results import Lead
from chainfin.risk.strategy.graph import Member, RegionView

# The indicative limit: LIMIT_SHARE of the larger of the financeable receivables and the
# working capital tied up in trade with the served cores (TRADE_CYCLE_DAYS of a year's
# volume over a 360-day year), rounded down to LIMIT_STEP_MINOR and capped at LIMIT_CAP_MINOR.
LIMIT_SHARE_PCT = 80
TRADE_CYCLE_DAYS = 60
YEAR_DAYS = 360
LIMIT_STEP_MINOR = 1_000_000  # 10,000 yuan (1 万元)
LIMIT_CAP_MINOR = 3_000_000_000  # 30,000,000 yuan (3,000 万元)
# Score weights (sum 100) and the punctuality assumed when no payment history is known.
SCORE_VOLUME, SCORE_PUNCTUALITY, SCORE_FINANCEABLE = 50.0, 25.0, 25.0
UNKNOWN_PUNCTUALITY = 0.5
MINOR_PER_WAN = 1_000_000  # fen in 1 万元

CSV_COLUMNS = (
    "rank",
    "uscc",
    "name",
    "region_code",
    "industry_code",
    "side",
    "tier",
    "linked_cores",
    "trade_volume_yuan",
    "on_time_share",
    "financeable_yuan",
    "indicative_limit_yuan",
    "score",
    "reasons",
)


@dataclass(frozen=True, slots=True)
class _Facts:
    member: Member
    linked: tuple[str, ...]
    flows: tuple[TradeFlow, ...]
    receivables: tuple[Receivable, ...]


def window_start(as_of: date) -> date:
    """as_of minus 12 months (29 February falls back to the 28th); a flow counts when its
    month's first day is after this date."""
    try:
        return as_of.replace(year=as_of.year - 1)
    except ValueError:
        return as_of.replace(year=as_of.year - 1, day=28)


def indicative_limit_minor(financeable_minor: int, trade_volume_minor: int) -> int:
    """80 % of max(financeable, 60/360 of a year's trade), down to 万元, capped at 3,000 万元."""
    base = max(financeable_minor, trade_volume_minor * TRADE_CYCLE_DAYS // YEAR_DAYS)
    limit = base * LIMIT_SHARE_PCT // 100
    return min(limit // LIMIT_STEP_MINOR * LIMIT_STEP_MINOR, LIMIT_CAP_MINOR)


def on_time_share(flows: Sequence[TradeFlow]) -> float | None:
    """1 − Σ paid late / Σ amount over the flows whose lateness is known; None when none is."""
    known = [f for f in flows if f.paid_late_minor is not None]
    amount = sum(f.amount_minor for f in known)
    if not known or amount <= 0:
        return None
    late = sum(f.paid_late_minor or 0 for f in known)
    return 1.0 - late / amount


def percentile(value: int, population: Sequence[int]) -> float:
    """Share of the population at or below ``value`` (0 for a value of 0: nothing traded or
    nothing to finance earns no points)."""
    if value <= 0 or not population:
        return 0.0
    return sum(1 for v in population if v <= value) / len(population)


def wan(minor: int) -> str:
    """Fen as 万元 for people: "1,234 万元"; one decimal below 100 万元."""
    amount = Decimal(minor) / MINOR_PER_WAN
    step = Decimal("1") if amount >= 100 else Decimal("0.1")
    return f"{amount.quantize(step, rounding=ROUND_HALF_UP):,} 万元"


def yuan(minor: int) -> str:
    """Fen as a yuan decimal string with two places, e.g. 123456 -> "1234.56"."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def leads(view: RegionView, chain_key: str, *, limit: int = 100) -> tuple[Lead, ...]:
    """The chain's leads, best first (score, then USCC). Empty when the dataset has no bank
    position (the caller says why); KeyError for a chain not in the region."""
    chain = view.members(chain_key)
    bank = view.dataset.bank
    if bank is None:
        return ()
    served = frozenset(m.uscc for m in chain.cores if m.uscc in bank.customers)
    core_ids = frozenset(m.uscc for m in chain.cores)
    since = window_start(view.as_of)
    facts: list[_Facts] = []
    seen: set[str] = set()
    for m in chain.members:  # upstream before downstream: a firm on both sides counts once
        if m.uscc in core_ids or m.uscc in bank.customers or m.uscc in seen:
            continue
        seen.add(m.uscc)
        linked = sorted(
            {lk.buyer for lk in chain.links if lk.seller == m.uscc and lk.buyer in served}
            | {lk.seller for lk in chain.links if lk.buyer == m.uscc and lk.seller in served}
        )
        if not linked:
            continue
        flows = tuple(
            f
            for f in chain.flows
            if f.month > since
            and (
                (f.seller == m.uscc and f.buyer in served)
                or (f.buyer == m.uscc and f.seller in served)
            )
        )
        receivables = tuple(
            r
            for r in view.dataset.receivables
            if r.seller == m.uscc
            and r.buyer in served
            and r.confirmed
            and not r.registered
            and r.due_on > view.as_of
        )
        facts.append(_Facts(m, tuple(linked), flows, receivables))

    volumes = [sum(f.amount_minor for f in x.flows) for x in facts]
    financeable = [sum(r.amount_minor for r in x.receivables) for x in facts]
    found = [
        _lead(view, x, volume, fin, volumes, financeable)
        for x, volume, fin in zip(facts, volumes, financeable, strict=True)
    ]
    found.sort(key=lambda lead: (-lead.score, lead.uscc))
    return tuple(found[: max(limit, 0)])


def _lead(
    view: RegionView,
    x: _Facts,
    volume: int,
    fin: int,
    volumes: Sequence[int],
    financeable: Sequence[int],
) -> Lead:
    punctual = on_time_share(x.flows)
    score = (
        SCORE_VOLUME * percentile(volume, volumes)
        + SCORE_PUNCTUALITY * (UNKNOWN_PUNCTUALITY if punctual is None else punctual)
        + SCORE_FINANCEABLE * percentile(fin, financeable)
    )
    firm = x.member.firm
    return Lead(
        uscc=x.member.uscc,
        name=firm.name if firm else x.member.uscc,
        region_code=firm.region_code if firm else "",
        industry_code=firm.industry_code if firm else "",
        side=x.member.side,
        tier=x.member.tier,
        linked_cores=x.linked,
        trade_volume_minor=volume,
        on_time_share=punctual,
        financeable_minor=fin,
        indicative_limit_minor=indicative_limit_minor(fin, volume),
        score=round(score, 2),
        reasons=_reasons(view, x, punctual, fin),
    )


def _reasons(view: RegionView, x: _Facts, punctual: float | None, fin: int) -> tuple[str, ...]:
    out: list[str] = []
    lead = x.member.uscc
    for core in x.linked:
        name = view.firms[core].name if core in view.firms else core
        sold = sum(f.amount_minor for f in x.flows if f.seller == lead and f.buyer == core)
        bought = sum(f.amount_minor for f in x.flows if f.buyer == lead and f.seller == core)
        if sold:
            out.append(f"sells {wan(sold)} a year to {name} (core, our customer)")
        if bought:
            out.append(f"buys {wan(bought)} a year from {name} (core, our customer)")
        if not sold and not bought:
            out.append(f"trades with {name} (core, our customer): no flows in the last 12 months")
    if punctual is None:
        out.append("no payment history: punctuality unknown")
    else:
        out.append(f"{punctual * 100:.0f} % of the trade paid on time")
    if x.receivables:
        n = len(x.receivables)
        noun = "receivable" if n == 1 else "receivables"
        out.append(f"{n} confirmed {noun} ({wan(fin)}) not yet registered")
    return tuple(out)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """A text cell a spreadsheet will not run: one starting like a formula (= + - @, tab,
    carriage return) gets a leading apostrophe (OWASP's advice on CSV injection). Names come
    from the bank's market data, which it may have bought."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def leads_csv(found: Sequence[Lead]) -> str:
    """The leads as CSV for branches (UTF-8, no BOM, CRLF rows): one row per lead in order,
    amounts in yuan with two decimals; text cells that a spreadsheet would take for a
    formula are neutralised (:func:`text_cell`)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for n, lead in enumerate(found, start=1):
        writer.writerow(
            (
                n,
                lead.uscc,
                text_cell(lead.name),
                lead.region_code,
                lead.industry_code,
                lead.side,
                lead.tier,
                ";".join(lead.linked_cores),
                yuan(lead.trade_volume_minor),
                "" if lead.on_time_share is None else f"{lead.on_time_share:.4f}",
                yuan(lead.financeable_minor),
                yuan(lead.indicative_limit_minor),
                f"{lead.score:.2f}",
                text_cell(" | ".join(lead.reasons)),
            )
        )
    return buf.getvalue()
