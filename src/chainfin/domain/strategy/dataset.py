"""What a regional chain analysis reads: one region's market data and the bank's own position.

Market data (firms, links, monthly trade flows, chains, financials, policy lists,
input-output shares) is the bank's own input — bought from a data vendor, exported from its
systems, or, on this platform, the synthetic region's export — kept per bank
(``strategy_datasets``). The bank's position (customers, exposures, lines, financing held,
credentials funded, alerts, overdue loans) is read live through the services' scoping layer,
or given as CSV when the analysis runs on files alone. Every field a source may lack is
optional; an absent input is listed in :attr:`RegionDataset.missing` and lowers coverage,
never counts as zero.

Amounts are integers in minor units (fen) of :attr:`RegionDataset.currency`; months are the
first day of the month; ratios are floats in [0, 1] (analytics, not money).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

FIRM_ROLES = ("core", "supplier", "dealer", "service", "other")
PROVENANCES = ("platform_trade", "declared", "payments")
INPUTS = (  # every input a dataset can carry, in the order docs/strategy.md lists them
    "enterprises",
    "chains",
    "relations",
    "trade_flows",
    "financials",
    "policies",
    "io_shares",
    "segments",
    "receivables",
    "customers",
    "exposures",
    "alerts",
)


@dataclass(frozen=True, slots=True)
class MarketFirm:
    uscc: str
    name: str
    region_code: str  # GB/T 2260, six digits
    industry_code: str  # GB/T 4754 division, e.g. "C38"
    role: str  # one of FIRM_ROLES
    size_class: str | None = None  # large | medium | small | micro (工信部 划型)
    employees: int | None = None
    revenue_minor: int | None = None
    rating: str | None = None  # an external or internal rating such as "AA+"


@dataclass(frozen=True, slots=True)
class MarketLink:
    """``seller`` supplies ``buyer``; seen first and last on the given days by ``provenance``:
    platform_trade (documents on an industrial platform), declared (a registry or the firms
    themselves), payments (inferred from bank payment flows)."""

    seller: str  # USCC
    buyer: str  # USCC
    provenance: str  # one of PROVENANCES
    first_seen_on: date
    last_seen_on: date


@dataclass(frozen=True, slots=True)
class TradeFlow:
    seller: str
    buyer: str
    month: date  # first day of the month
    amount_minor: int
    paid_late_minor: int | None = None  # of the amount, paid after its due date (if known)


@dataclass(frozen=True, slots=True)
class MarketChain:
    key: str  # the dataset's own key for the chain
    name: str
    kind: str  # a chain kind of the segments table (nev, ic, ...)
    core_usccs: tuple[str, ...]
    region_code: str  # the first core's home
    max_tier: int = 4


@dataclass(frozen=True, slots=True)
class Financials:
    """One year's figures of a firm, for the working-capital estimate (流动资金贷款需求测算)."""

    uscc: str
    year: int
    revenue_minor: int
    margin: float  # sales profit margin, fraction
    growth: float  # expected revenue growth, fraction
    dso_days: float  # receivable days
    dio_days: float  # inventory days
    dpo_days: float  # payable days
    loans_minor: int | None = None  # working-capital loans in place at all banks


@dataclass(frozen=True, slots=True)
class PolicyEntry:
    """A key chain on a provincial or municipal list (链长制 / 重点产业链)."""

    region_code: str
    kind: str
    level: str  # province | prefecture
    source: str  # the document, e.g. "苏政办发〔2023〕12号"
    year: int


@dataclass(frozen=True, slots=True)
class IoShare:
    """From a multi-regional input-output table: of the intermediate inputs a division in a
    province buys, the share bought within the same province (the fallback for local
    supporting rate where trade data is thin)."""

    region_code: str  # province, xx0000
    division: str
    local_share: float


@dataclass(frozen=True, slots=True)
class Receivable:
    """An open receivable of ``seller`` on ``buyer`` that the bank may see: confirmed by the
    debtor (确权) or not, registered at the receivables registry (中登网) or not. Confirmed
    and unregistered is what could be financed."""

    seller: str
    buyer: str
    amount_minor: int
    due_on: date
    confirmed: bool
    registered: bool


@dataclass(frozen=True, slots=True)
class Exposure:
    uscc: str
    exposure_minor: int  # outstanding loans and financings of this bank
    limit_minor: int = 0  # credit lines sanctioned by this bank
    credentials_funded_minor: int = 0  # credential financings this bank made (12 months)
    overdue: bool = False  # a loan of this bank past due
    pd: float | None = None  # probability of default, if the bank has one
    lgd: float | None = None


@dataclass(frozen=True, slots=True)
class BankPosition:
    bank: str  # the bank's code or name
    customers: frozenset[str]  # USCCs
    exposures: tuple[Exposure, ...] = ()
    open_alerts: tuple[tuple[str, int], ...] = ()  # (USCC, count of open alerts)


@dataclass(frozen=True, slots=True)
class RegionDataset:
    as_of: date
    currency: str
    firms: tuple[MarketFirm, ...]
    chains: tuple[MarketChain, ...]
    links: tuple[MarketLink, ...]
    flows: tuple[TradeFlow, ...] = ()
    financials: tuple[Financials, ...] = ()
    policies: tuple[PolicyEntry, ...] = ()
    io_shares: tuple[IoShare, ...] = ()
    receivables: tuple[Receivable, ...] = ()
    bank: BankPosition | None = None
    segments_csv: str | None = None  # the bank's own segments table, if it gave one
    missing: tuple[str, ...] = ()  # inputs of INPUTS not given
    sources: dict[str, str] = field(default_factory=dict)  # input -> where it came from
