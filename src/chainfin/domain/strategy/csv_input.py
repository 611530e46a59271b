r"""A regional chain analysis's inputs as CSV files: a bank's own market data (bought from a
vendor, exported from its systems, or the synthetic region's export) and, when the analysis
runs on files alone, its position (customers, exposures, alerts).

Every file is UTF-8 with a header row; a column a file does not define is refused, naming
it; every field is checked (USCC check character, GB/T 2260 region, GB/T 4754 division,
amounts in yuan with at most two decimals, ISO dates, months ``YYYY-MM``, ratios, ratings).
A bad file gives :class:`~chainfin.domain.errors.ValidationFailed` listing up to
:data:`MAX_ERRORS` problems as ``FieldError("<file> row <n>: <column>", why)`` (row 1 is the
header) and nothing is returned: a dataset is whole or not at all. docs/strategy.md lists
every file and column.

>>> core, supplier = "91320505MA1MHUNL1W", "91320582MA1XK2P37K"
>>> ds = parse_inputs({
...     "enterprises.csv": "uscc,name,region_code,industry_code,role,rating\n"
...     f"{core},苏州整车,320505,C36,core,AA+\n{supplier},张家港电池,320582,C38,supplier,\n"
...     .encode(),
...     "chains.csv": f"chain_key,name,kind,core_usccs\nsz-nev,苏州电动车,nev,{core}\n"
...     .encode(),
...     "relations.csv": "seller_uscc,buyer_uscc,provenance,first_seen_on,last_seen_on\n"
...     f"{supplier},{core},declared,2025-03-01,2026-06-30\n".encode(),
... })
>>> ds.as_of, ds.chains[0].region_code, ds.missing[:3]
(datetime.date(2026, 6, 30), '320505', ('trade_flows', 'financials', 'policies'))
>>> parse_inputs({"enterprises.csv": b"uscc,name\n"})
Traceback (most recent call last):
...
chainfin.domain.errors.ValidationFailed: chains.csv: is required; relations.csv: is required
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

from chainfin.domain import clock
from chainfin.domain.errors import FieldError, ValidationFailed
from chainfin.domain.industry import UnknownIndustry, check_industry_code, parse_industry_code
from chainfin.domain.money import Money, MoneyError
from chainfin.domain.region import check_region_code
from chainfin.domain.size_class import SizeClassError, classify
from chainfin.domain.strategy.dataset import (
    FIRM_ROLES,
    INPUTS,
    PROVENANCES,
    BankPosition,
    Exposure,
    Financials,
    IoShare,
    MarketChain,
    MarketFirm,
    MarketLink,
    PolicyEntry,
    Receivable,
    RegionDataset,
    TradeFlow,
)
from chainfin.domain.strategy.ratings import is_rating
from chainfin.domain.strategy.segments import (
    ChainKind,
    SegmentTableError,
    default_kinds,
    parse_segments,
)
from chainfin.domain.uscc import check_uscc

MAX_BYTES = 50 * 1024 * 1024  # per file
MAX_ROWS = 2_000_000  # data rows per file
MAX_ERRORS = 50
CURRENCY = "CNY"
SIZE_CLASSES = ("large", "medium", "small", "micro")
POLICY_LEVELS = ("province", "prefecture")
MAX_TIER = 10

# file -> (required columns, optional columns), in the order docs/strategy.md lists them
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "enterprises.csv": (
        ("uscc", "name", "region_code", "industry_code", "role"),
        ("size_class", "employees", "revenue_yuan", "rating"),
    ),
    "chains.csv": (("chain_key", "name", "kind", "core_usccs"), ("region_code", "max_tier")),
    "relations.csv": (
        ("seller_uscc", "buyer_uscc", "provenance", "first_seen_on", "last_seen_on"),
        (),
    ),
    "trade_flows.csv": (("seller_uscc", "buyer_uscc", "month", "amount_yuan"), ("paid_late_yuan",)),
    "financials.csv": (
        ("uscc", "year", "revenue_yuan", "margin", "growth", "dso_days", "dio_days", "dpo_days"),
        ("loans_yuan",),
    ),
    "policies.csv": (("region_code", "kind", "level", "source", "year"), ()),
    "io_shares.csv": (("region_code", "division", "local_share"), ()),
    "segments.csv": (
        ("kind", "kind_zh", "kind_en", "stage", "division", "examples_zh", "critical"),
        (),
    ),
    "receivables.csv": (
        ("seller_uscc", "buyer_uscc", "amount_yuan", "due_on", "confirmed", "registered"),
        (),
    ),
    "customers.csv": (("uscc",), ()),
    "exposures.csv": (
        ("uscc", "exposure_yuan"),
        ("limit_yuan", "credentials_funded_yuan", "overdue", "pd", "lgd"),
    ),
    "alerts.csv": (("uscc", "open_alerts"), ()),
}
REQUIRED_FILES = ("enterprises.csv", "chains.csv", "relations.csv")
MARKET_FILES = tuple(f"{name}.csv" for name in INPUTS[:9])  # what strategy_datasets stores
POSITION_FILES = ("customers.csv", "exposures.csv", "alerts.csv")

_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT = re.compile(r"^-?\d+$")
_T = TypeVar("_T")


class _TooMany(Exception):
    """Enough errors collected: stop reading."""


@dataclass
class _Errors:
    items: list[FieldError] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)  # files refused as a whole

    def whole_file(self, name: str, why: str) -> None:
        self.unreadable.add(name)
        self.add(name, why)

    def add(self, where: str, why: str) -> None:
        self.items.append(FieldError(where, why))
        if len(self.items) >= MAX_ERRORS:
            raise _TooMany


@dataclass
class _Row:
    """One data row of one file: typed getters that record a precise error and give None."""

    file: str
    n: int  # the row's number in the file, the header being row 1
    values: dict[str, str]
    errors: _Errors

    def bad(self, column: str, why: str) -> None:
        self.errors.add(f"{self.file} row {self.n}: {column}", why)

    def text(self, column: str, *, required: bool = True, max_len: int = 200) -> str | None:
        value = (self.values.get(column) or "").strip()
        if not value:
            if required:
                self.bad(column, "is empty")
            return None
        if len(value) > max_len:
            self.bad(column, f"is longer than {max_len} characters")
            return None
        return value

    def _parse(self, column: str, required: bool, parse: Callable[[str], _T]) -> _T | None:
        value = self.text(column, required=required, max_len=1000)
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            self.bad(column, str(exc))
            return None

    def uscc(self, column: str) -> str | None:
        return self._parse(column, True, _uscc)

    def region(self, column: str, *, required: bool = True) -> str | None:
        return self._parse(column, required, _region)

    def industry(self, column: str) -> str | None:
        return self._parse(column, True, _industry)

    def amount(self, column: str, *, required: bool = True) -> int | None:
        return self._parse(column, required, _amount)

    def day(self, column: str, *, ahead_days: int = 0) -> date | None:
        """A date from 1949-10-01 to today (the platform's clock) plus ``ahead_days``: a date
        observed cannot lie in the future, and one from before the data could exist would
        move the analysis date (``as_of``) and every window with it."""
        return self._parse(column, True, lambda v: _bounded(_day(v), v, ahead_days))

    def month(self, column: str) -> date | None:
        return self._parse(column, True, lambda v: _bounded(_month(v), v, 0))

    def integer(self, column: str, low: int, high: int, *, required: bool = True) -> int | None:
        return self._parse(column, required, lambda v: _integer(v, low, high))

    def number(
        self, column: str, low: float, high: float, *, required: bool = True
    ) -> float | None:
        return self._parse(column, required, lambda v: _number(v, low, high))

    def flag(self, column: str, *, required: bool = True) -> bool | None:
        return self._parse(column, required, _flag)

    def choice(self, column: str, allowed: tuple[str, ...], *, required: bool = True) -> str | None:
        return self._parse(column, required, lambda v: _choice(v, allowed))


# ---------------------------------------------------------------------------- fields


def derived_size_class(
    industry: str, employees: int | None, revenue_minor: int | None
) -> str | None:
    """The 工信部 size class (大/中/小/微, 工信部联企业〔2011〕300号) from the employees and
    revenue given, where the enterprises file leaves ``size_class`` blank; None when the
    standard needs a figure the file does not give (total assets, for some sectors)."""
    try:
        return classify(
            industry,
            employees=employees,
            revenue=Money(revenue_minor, "CNY") if revenue_minor is not None else None,
        ).size_class.value
    except (SizeClassError, UnknownIndustry):
        return None


def _uscc(value: str) -> str:
    verdict = check_uscc(value)
    if not verdict.valid:
        raise ValueError(f"{value!r} is not a USCC: {verdict.reason}")
    return verdict.code


def _region(value: str) -> str:
    why = check_region_code(value)
    if why is not None:
        raise ValueError(why)
    return value


def _industry(value: str) -> str:
    why = check_industry_code(value)
    if why is not None:
        raise ValueError(why)
    return parse_industry_code(value).code


def _amount(value: str) -> int:
    try:
        minor = Money.parse(value, CURRENCY).amount_minor
    except MoneyError as exc:
        raise ValueError(f"{exc.message} (yuan, at most 2 decimals, no separators)") from None
    if minor < 0:
        raise ValueError(f"{value!r} is negative")
    return minor


def _day(value: str) -> date:
    if not _DAY.match(value):
        raise ValueError(f"{value!r} is not a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date YYYY-MM-DD") from None


def _month(value: str) -> date:
    if not _MONTH.match(value):
        raise ValueError(f"{value!r} is not a month YYYY-MM")
    try:
        return date(int(value[:4]), int(value[5:]), 1)
    except ValueError:
        raise ValueError(f"{value!r} is not a month YYYY-MM") from None


CHAIN_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # it goes into URLs and names
DUE_AHEAD_DAYS = 3660  # a receivable falls due at most ten years ahead
EARLIEST = date(1949, 10, 1)  # no trade record of a PRC enterprise is older


def _bounded(day: date, text: str, ahead_days: int) -> date:
    latest = clock.today() + timedelta(days=ahead_days)
    if day < EARLIEST:
        raise ValueError(f"{text!r} is before {EARLIEST.isoformat()}")
    if day > latest:
        when = "today" if ahead_days == 0 else f"{ahead_days} days from today"
        raise ValueError(f"{text!r} is after {when} ({latest.isoformat()})")
    return day


def _integer(value: str, low: int, high: int) -> int:
    if not _INT.match(value):
        raise ValueError(f"{value!r} is not a whole number")
    number = int(value)
    if not low <= number <= high:
        raise ValueError(f"{number} is outside {low}..{high}")
    return number


def _number(value: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    if number != number or not low <= number <= high:  # NaN fails both comparisons
        raise ValueError(f"{value} is outside [{low:g}, {high:g}]")
    return number


def _flag(value: str) -> bool:
    if value not in ("0", "1"):
        raise ValueError(f"{value!r} is not 0 or 1")
    return value == "1"


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _rating(value: str) -> str:
    if not is_rating(value):
        raise ValueError(f"{value!r} is not a rating on the scale AAA…D")
    return value.strip().upper()


def _month_end(month: date) -> date:
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return following - timedelta(days=1)


# ---------------------------------------------------------------------------- files


def _rows(name: str, data: bytes, errors: _Errors) -> Iterator[_Row]:
    """The data rows of one file, after its size, encoding and header are checked."""
    if len(data) > MAX_BYTES:
        errors.whole_file(name, f"is {len(data):,} bytes, over the limit of {MAX_BYTES:,} (50 MB)")
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        errors.whole_file(name, f"is not UTF-8 (byte {exc.start})")
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        errors.whole_file(name, "is empty: a header row is required")
        return
    except csv.Error as exc:
        errors.whole_file(f"{name} row 1", f"is not CSV: {exc}")
        return
    required, optional = COLUMNS[name]
    unknown = [h for h in header if h not in required and h not in optional]
    missing = [c for c in required if c not in header]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if unknown:
        errors.whole_file(name, f"unknown columns {', '.join(unknown)}")
    if missing:
        errors.whole_file(name, f"missing columns {', '.join(missing)}")
    if repeated:
        errors.whole_file(name, f"repeated columns {', '.join(repeated)}")
    if unknown or missing or repeated:
        return
    n = 1
    try:
        for cells in reader:
            n += 1
            if n - 1 > MAX_ROWS:
                errors.whole_file(name, f"has more than {MAX_ROWS:,} rows")
                return
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                errors.add(f"{name} row {n}", f"has {len(cells)} fields, the header {len(header)}")
                continue
            yield _Row(name, n, dict(zip(header, cells, strict=True)), errors)
    except csv.Error as exc:
        errors.add(f"{name} row {n + 1}", f"is not CSV: {exc}")


def _unique(seen: set[object], key: object, row: _Row, column: str, what: str) -> bool:
    if key in seen:
        row.bad(column, f"{what} is repeated")
        return False
    seen.add(key)
    return True


def _enterprises(data: bytes, errors: _Errors) -> tuple[list[MarketFirm], frozenset[str] | None]:
    """The firms, and every USCC the file names (None when the file was refused whole, so
    that nothing else is refused for naming a firm of it)."""
    out: list[MarketFirm] = []
    seen: set[object] = set()
    for r in _rows("enterprises.csv", data, errors):
        uscc, name = r.uscc("uscc"), r.text("name")
        region, industry = r.region("region_code"), r.industry("industry_code")
        role = r.choice("role", FIRM_ROLES)
        size = r.choice("size_class", SIZE_CLASSES, required=False)
        employees = r.integer("employees", 0, 10_000_000, required=False)
        revenue = r.amount("revenue_yuan", required=False)
        rating = r._parse("rating", False, _rating)
        if uscc is not None and not _unique(seen, uscc, r, "uscc", uscc):
            continue
        if uscc and name and region and industry and role:
            if size is None:
                size = derived_size_class(industry, employees, revenue)
            out.append(
                MarketFirm(uscc, name, region, industry, role, size, employees, revenue, rating)
            )
    if "enterprises.csv" in errors.unreadable:
        return out, None
    return out, frozenset(str(u) for u in seen)


def _chains(
    data: bytes,
    firms: dict[str, MarketFirm],
    known: frozenset[str] | None,
    kinds: frozenset[str] | None,
    errors: _Errors,
) -> list[MarketChain]:
    out: list[MarketChain] = []
    seen: set[object] = set()
    for r in _rows("chains.csv", data, errors):
        key, name = r.text("chain_key", max_len=64), r.text("name")
        if key is not None and not CHAIN_KEY.match(key):
            r.bad("chain_key", f"{key!r} is not a key: letters, digits, '.', '_', '-' (in URLs)")
            key = None
        kind = r.text("kind", max_len=32)
        if kind is not None and kinds is not None and kind not in kinds:
            r.bad("kind", f"{kind!r} is not a chain kind of the segments table")
            kind = None
        cores = _cores(r, known)
        region = r.region("region_code", required=False)
        given = (r.values.get("region_code") or "").strip()
        if region is None and not given and cores and cores[0] in firms:
            region = firms[cores[0]].region_code
        max_tier = r.integer("max_tier", 1, MAX_TIER, required=False)
        if key is not None and not _unique(seen, key, r, "chain_key", key):
            continue
        if key and name and kind and cores and region:
            out.append(MarketChain(key, name, kind, cores, region, max_tier or 4))
    return out


def _cores(r: _Row, known: frozenset[str] | None) -> tuple[str, ...]:
    text = r.text("core_usccs", max_len=2000)
    if text is None:
        return ()
    cores: list[str] = []
    for part in (p.strip() for p in text.split(";")):
        try:
            uscc = _uscc(part)
        except ValueError as exc:
            r.bad("core_usccs", str(exc))
            return ()
        if known is not None and uscc not in known:
            r.bad("core_usccs", f"{uscc} is not in enterprises.csv")
            return ()
        if uscc in cores:
            r.bad("core_usccs", f"{uscc} is repeated")
            return ()
        cores.append(uscc)
    return tuple(cores)


def _pair(r: _Row) -> tuple[str, str] | None:
    seller, buyer = r.uscc("seller_uscc"), r.uscc("buyer_uscc")
    if seller is None or buyer is None:
        return None
    if seller == buyer:
        r.bad("buyer_uscc", "is the seller itself")
        return None
    return seller, buyer


def _relations(data: bytes, errors: _Errors) -> list[MarketLink]:
    out: list[MarketLink] = []
    seen: set[object] = set()
    for r in _rows("relations.csv", data, errors):
        pair = _pair(r)
        provenance = r.choice("provenance", PROVENANCES)
        first, last = r.day("first_seen_on"), r.day("last_seen_on")
        if first and last and last < first:
            r.bad("last_seen_on", f"{last} is before first_seen_on {first}")
            continue
        if pair and provenance and first and last:
            key = (*pair, provenance)
            if _unique(seen, key, r, "seller_uscc", f"{pair[0]} → {pair[1]} ({provenance})"):
                out.append(MarketLink(pair[0], pair[1], provenance, first, last))
    return out


def _flows(data: bytes, errors: _Errors) -> list[TradeFlow]:
    out: list[TradeFlow] = []
    seen: set[object] = set()
    for r in _rows("trade_flows.csv", data, errors):
        pair, month = _pair(r), r.month("month")
        amount = r.amount("amount_yuan")
        late = r.amount("paid_late_yuan", required=False)
        if amount is not None and late is not None and late > amount:
            r.bad("paid_late_yuan", "is more than amount_yuan")
            continue
        what = f"{pair[0]} → {pair[1]} {month:%Y-%m}" if pair and month else ""
        if (
            pair
            and month
            and amount is not None
            and _unique(seen, (*pair, month), r, "month", what)
        ):
            out.append(TradeFlow(pair[0], pair[1], month, amount, late))
    return out


def _financials(data: bytes, errors: _Errors) -> list[Financials]:
    out: list[Financials] = []
    seen: set[object] = set()
    for r in _rows("financials.csv", data, errors):
        uscc, year = r.uscc("uscc"), r.integer("year", 1990, 2100)
        revenue = r.amount("revenue_yuan")
        margin = r.number("margin", -1.0, 1.0)
        growth = r.number("growth", -1.0, 10.0)
        days = [r.number(c, 0.0, 3650.0) for c in ("dso_days", "dio_days", "dpo_days")]
        loans = r.amount("loans_yuan", required=False)
        if (
            uscc is None
            or year is None
            or not _unique(seen, (uscc, year), r, "year", f"{uscc} {year}")
        ):
            continue
        dso, dio, dpo = days
        if (
            revenue is not None
            and margin is not None
            and growth is not None
            and dso is not None
            and dio is not None
            and dpo is not None
        ):
            out.append(Financials(uscc, year, revenue, margin, growth, dso, dio, dpo, loans))
    return out


def _policies(data: bytes, kinds: frozenset[str] | None, errors: _Errors) -> list[PolicyEntry]:
    out: list[PolicyEntry] = []
    seen: set[object] = set()
    for r in _rows("policies.csv", data, errors):
        region, kind = r.region("region_code"), r.text("kind", max_len=32)
        if kind is not None and kinds is not None and kind not in kinds:
            r.bad("kind", f"{kind!r} is not a chain kind of the segments table")
            kind = None
        level = r.choice("level", POLICY_LEVELS)
        source, year = r.text("source", max_len=300), r.integer("year", 1990, 2100)
        what = f"{region} {kind} ({level})"
        if (
            region
            and kind
            and level
            and source
            and year
            and _unique(seen, (region, kind, level), r, "kind", what)
        ):
            out.append(PolicyEntry(region, kind, level, source, year))
    return out


def _io_shares(data: bytes, errors: _Errors) -> list[IoShare]:
    out: list[IoShare] = []
    seen: set[object] = set()
    for r in _rows("io_shares.csv", data, errors):
        region = r.region("region_code")
        if region is not None and not region.endswith("0000"):
            r.bad("region_code", f"{region} is not a province (xx0000)")
            region = None
        division, share = r.industry("division"), r.number("local_share", 0.0, 1.0)
        what = f"{region} {division}"
        if (
            region
            and division
            and share is not None
            and _unique(seen, (region, division), r, "division", what)
        ):
            out.append(IoShare(region, division, share))
    return out


def _receivables(data: bytes, errors: _Errors) -> list[Receivable]:
    out: list[Receivable] = []
    for r in _rows("receivables.csv", data, errors):
        pair, amount = _pair(r), r.amount("amount_yuan")
        due = r.day("due_on", ahead_days=DUE_AHEAD_DAYS)
        confirmed, registered = r.flag("confirmed"), r.flag("registered")
        if pair and amount is not None and due and confirmed is not None and registered is not None:
            out.append(Receivable(pair[0], pair[1], amount, due, confirmed, registered))
    return out


def _customers(data: bytes, errors: _Errors) -> list[str]:
    out: list[str] = []
    seen: set[object] = set()
    for r in _rows("customers.csv", data, errors):
        uscc = r.uscc("uscc")
        if uscc is not None and _unique(seen, uscc, r, "uscc", uscc):
            out.append(uscc)
    return out


def _exposures(data: bytes, errors: _Errors) -> list[Exposure]:
    out: list[Exposure] = []
    seen: set[object] = set()
    for r in _rows("exposures.csv", data, errors):
        uscc, exposure = r.uscc("uscc"), r.amount("exposure_yuan")
        limit = r.amount("limit_yuan", required=False)
        funded = r.amount("credentials_funded_yuan", required=False)
        overdue = r.flag("overdue", required=False)
        pd_, lgd = (
            r.number("pd", 0.0, 1.0, required=False),
            r.number("lgd", 0.0, 1.0, required=False),
        )
        if uscc is not None and exposure is not None and _unique(seen, uscc, r, "uscc", uscc):
            out.append(Exposure(uscc, exposure, limit or 0, funded or 0, bool(overdue), pd_, lgd))
    return out


def _alerts(data: bytes, errors: _Errors) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    seen: set[object] = set()
    for r in _rows("alerts.csv", data, errors):
        uscc, count = r.uscc("uscc"), r.integer("open_alerts", 0, 1_000_000)
        if uscc is not None and count is not None and _unique(seen, uscc, r, "uscc", uscc):
            out.append((uscc, count))
    return out


# ---------------------------------------------------------------------------- the dataset


def parse_inputs(
    files: Mapping[str, bytes], *, as_of: date | None = None, bank: str | None = None
) -> RegionDataset:
    """A dataset from CSV files named as in :data:`COLUMNS`; ValidationFailed names every
    problem found (up to :data:`MAX_ERRORS`), and nothing is returned then.

    ``as_of`` defaults to the latest date the inputs show: the latest ``last_seen_on`` of
    relations.csv and the last day of the latest month of trade_flows.csv (receivables' due
    dates only when neither gives a date, as they lie ahead). customers.csv, exposures.csv
    and alerts.csv make the bank's position (``bank`` names it; "bank" by default)."""
    errors = _Errors()
    try:
        dataset = _parse(files, as_of, bank, errors)
    except _TooMany:
        dataset = None
    if errors.items or dataset is None:
        raise ValidationFailed(errors.items)
    return dataset


def _parse(
    files: Mapping[str, bytes], as_of: date | None, bank: str | None, errors: _Errors
) -> RegionDataset | None:
    for name in sorted(files):
        if name not in COLUMNS:
            errors.add(name, f"is not a strategy input: give {', '.join(COLUMNS)}")
    for name in REQUIRED_FILES:
        if name not in files:
            errors.add(name, "is required")
    if errors.items:
        return None
    kinds = _kinds(files, errors)
    kind_keys = frozenset(kinds) if kinds is not None else None
    firms, known = _enterprises(files["enterprises.csv"], errors)
    by_uscc = {f.uscc: f for f in firms}
    chains = _chains(files["chains.csv"], by_uscc, known, kind_keys, errors)
    links = _relations(files["relations.csv"], errors)

    def optional(name: str, read: Callable[[bytes, _Errors], list[_T]]) -> list[_T]:
        return read(files[name], errors) if name in files else []

    flows = optional("trade_flows.csv", _flows)
    financials = optional("financials.csv", _financials)
    policies = optional("policies.csv", lambda d, e: _policies(d, kind_keys, e))
    shares = optional("io_shares.csv", _io_shares)
    receivables = optional("receivables.csv", _receivables)
    customers = optional("customers.csv", _customers)
    exposures = optional("exposures.csv", _exposures)
    alerts = optional("alerts.csv", _alerts)
    counts = {
        "enterprises": len(firms), "chains": len(chains), "relations": len(links),
        "trade_flows": len(flows), "financials": len(financials), "policies": len(policies),
        "io_shares": len(shares), "receivables": len(receivables), "customers": len(customers),
        "exposures": len(exposures), "alerts": len(alerts),
    }  # fmt: skip
    if not errors.items and not firms:
        errors.add("enterprises.csv", "has no rows")
    if not errors.items and not chains:
        errors.add("chains.csv", "has no rows")
    if as_of is None and not errors.items:
        as_of = _latest(links, flows, receivables)
        if as_of is None:
            errors.add(
                "as_of",
                "no date in the inputs (relations, trade flows or receivables): give at least one",
            )
    if errors.items or as_of is None:
        return None
    position = None
    if any(f in files for f in POSITION_FILES):
        position = BankPosition(
            bank or "bank", frozenset(customers), tuple(exposures), tuple(alerts)
        )
    given = {n.removesuffix(".csv") for n in files}
    if "segments" in given:
        counts["segments"] = sum(len(k.segments) for k in (kinds or {}).values())
    return RegionDataset(
        as_of=as_of,
        currency=CURRENCY,
        firms=tuple(firms),
        chains=tuple(chains),
        links=tuple(links),
        flows=tuple(flows),
        financials=tuple(financials),
        policies=tuple(policies),
        io_shares=tuple(shares),
        receivables=tuple(receivables),
        bank=position,
        segments_csv=_text(files["segments.csv"]) if "segments.csv" in files else None,
        missing=tuple(i for i in INPUTS if i not in given),
        sources={i: f"file {i}.csv ({counts[i]} rows)" for i in INPUTS if i in given},
    )


def _text(data: bytes) -> str:
    return data.decode("utf-8-sig")


def _kinds(files: Mapping[str, bytes], errors: _Errors) -> dict[str, ChainKind] | None:
    """The chain kinds a chain or policy may name: the bank's segments.csv or the default;
    None when the bank's table is refused (then kinds are not checked against it)."""
    if "segments.csv" not in files:
        return dict(default_kinds())
    # Checked here for size, encoding and columns like any input, then by the segments parser.
    before = len(errors.items)
    for _ in _rows("segments.csv", files["segments.csv"], errors):
        pass
    if len(errors.items) > before:
        return None
    try:
        return dict(parse_segments(_text(files["segments.csv"])))
    except SegmentTableError as exc:
        errors.add("segments.csv", str(exc))
        return None


def _latest(
    links: list[MarketLink], flows: list[TradeFlow], receivables: list[Receivable]
) -> date | None:
    seen = [lk.last_seen_on for lk in links] + [_month_end(f.month) for f in flows]
    if seen:
        return max(seen)
    return max((r.due_on for r in receivables), default=None)
