"""The financing and ability-to-win measures: financing need, in place and gap, the bank's
customer, core and financing shares, and risk (alerts, delinquency, DebtRank fragility,
expected loss). Definitions in docs/strategy.md, section "Measures".

The working-capital estimate is the regulator's (《流动资金贷款管理办法》 附件
"流动资金贷款需求量的测算参考")::

    营运资金周转次数 = 360 / (存货周转天数 + 应收账款周转天数 − 应付账款周转天数)
    营运资金量 = 上年度销售收入 × (1 − 上年度销售利润率) × (1 + 预计销售收入年增长率)
                 / 营运资金周转次数

A member without financials is estimated from its 12-month sales in the chain with the
default days and margin below.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from chainfin.domain.strategy.dataset import Financials
from chainfin.domain.strategy.results import Measure
from chainfin.risk.debtrank import Network, debtrank
from chainfin.risk.strategy.measures_base import ChainContext, Inputs, missing, yuan

DEFAULT_DSO_DAYS = 60.0  # receivable days of a member without financials
DEFAULT_DIO_DAYS = 45.0  # inventory days
DEFAULT_DPO_DAYS = 45.0  # payable days
DEFAULT_MARGIN = 0.10  # sales profit margin
DAYS_PER_YEAR = 360.0  # the regulator's convention
RECEIVABLE_DAYS = 60.0  # a seller's exposure to a buyer: this many days of its 12-month sales
EQUITY_SHARE = 0.3  # a firm's equity as a share of its revenue (or 12-month sales)
NO_BANK = "no bank position given"


def _latest_financials(ctx: ChainContext) -> dict[str, Financials]:
    out: dict[str, Financials] = {}
    for f in ctx.view.dataset.financials:
        if f.uscc in ctx.firms and (f.uscc not in out or f.year > out[f.uscc].year):
            out[f.uscc] = f
    return out


def working_capital_minor(f: Financials) -> float:
    """The regulator's 营运资金量 in minor units; 0 when the cash cycle is not positive."""
    cycle = f.dio_days + f.dso_days - f.dpo_days
    if cycle <= 0:
        return 0.0
    turnover = DAYS_PER_YEAR / cycle
    return f.revenue_minor * (1 - f.margin) * (1 + f.growth) / turnover


def working_capital_from_sales(sales_minor: int) -> float:
    cycle = DEFAULT_DIO_DAYS + DEFAULT_DSO_DAYS - DEFAULT_DPO_DAYS
    return sales_minor * (1 - DEFAULT_MARGIN) * cycle / DAYS_PER_YEAR


def financing(ctx: ChainContext) -> tuple[Measure, Measure, Measure]:
    """Financing need, financing in place and the gap, over the non-core members."""
    fin = _latest_financials(ctx)
    need = 0.0
    from_fin = from_sales = neither = 0
    in_place = 0
    loans_known = from_bank = unknown_place = 0
    bank_ok = ctx.view.dataset.bank is not None and ctx.has_input("exposures")
    for uscc in ctx.non_cores:
        f = fin.get(uscc)
        if f is not None:
            need += working_capital_minor(f)
            from_fin += 1
        elif ctx.sales12.get(uscc, 0) > 0:
            need += working_capital_from_sales(ctx.sales12[uscc])
            from_sales += 1
        else:
            neither += 1
        if f is not None and f.loans_minor is not None:
            in_place += f.loans_minor
            loans_known += 1
        elif bank_ok:
            ex = ctx.exposures.get(uscc)
            in_place += ex.exposure_minor if ex is not None else 0
            from_bank += 1
        else:
            unknown_place += 1
    need_minor = round(need)
    need_in: Inputs = {
        "need_minor": need_minor,
        "members_financials": from_fin,
        "members_sales_estimate": from_sales,
        "members_no_data": neither,
    }
    if from_fin + from_sales == 0:
        need_m = missing(
            "financing_need", "CNY", "no financials or 12-month sales of members", need_in
        )
    elif from_sales or neither:
        note = (
            f"{from_fin} members from financials, {from_sales} from 12-month sales "
            f"(margin {DEFAULT_MARGIN:.0%}, DSO {DEFAULT_DSO_DAYS:g}, DIO {DEFAULT_DIO_DAYS:g}, "
            f"DPO {DEFAULT_DPO_DAYS:g} days), {neither} without either"
        )
        basis = "fallback"
        need_m = Measure("financing_need", yuan(need_minor), "CNY", basis, need_in, note)
    else:
        need_m = Measure("financing_need", yuan(need_minor), "CNY", "data", need_in)
    place_in: Inputs = {
        "in_place_minor": in_place,
        "members_loans_given": loans_known,
        "members_bank_only": from_bank,
        "members_unknown": unknown_place,
    }
    if loans_known + from_bank == 0:
        place_m = missing(
            "financing_in_place", "CNY", "no loans in financials and no bank position", place_in
        )
    elif from_bank or unknown_place:
        note = (
            f"{from_bank} members without loans in financials: this bank's exposures only, "
            "other banks' financing unknown"
        )
        if unknown_place:
            note += f"; {unknown_place} members unknown"
        place_m = Measure("financing_in_place", yuan(in_place), "CNY", "fallback", place_in, note)
    else:
        place_m = Measure("financing_in_place", yuan(in_place), "CNY", "data", place_in)
    return need_m, place_m, _gap(need_m, place_m, need_minor, in_place)


def _gap(need: Measure, place: Measure, need_minor: int, in_place: int) -> Measure:
    inputs: Inputs = {"need_minor": need_minor, "in_place_minor": in_place}
    if need.value is None or place.value is None:
        why = "financing need" if need.value is None else "financing in place"
        return missing("financing_gap", "CNY", f"{why} unknown", inputs)
    gap = max(0, need_minor - in_place)
    if need.basis == "data" and place.basis == "data":
        return Measure("financing_gap", yuan(gap), "CNY", "data", inputs)
    note = "need or financing in place from a fallback (see those measures)"
    return Measure("financing_gap", yuan(gap), "CNY", "fallback", inputs, note)


def bank_shares(ctx: ChainContext, in_place: Measure, need: Measure) -> list[Measure]:
    """customer_share, cores_covered, financing_share, credentials_funded."""
    bank = ctx.view.dataset.bank
    if bank is None:
        return [
            missing("customer_share", "share", NO_BANK),
            missing("cores_covered", "share", NO_BANK),
            missing("financing_share", "share", NO_BANK),
            missing("credentials_funded", "CNY", NO_BANK),
        ]
    members = list(ctx.firms)
    customers = [u for u in members if u in bank.customers]
    core_customers = [u for u in ctx.cores if u in bank.customers]
    out = [
        _share("customer_share", (len(customers), len(members)), ("customers", "members")),
        _share("cores_covered", (len(core_customers), len(ctx.cores)), ("core_customers", "cores")),
    ]
    if not ctx.has_input("exposures"):
        out.append(missing("financing_share", "share", "no exposures given"))
        out.append(missing("credentials_funded", "CNY", "no exposures given"))
        return out
    held = sum(ctx.exposures[u].exposure_minor for u in ctx.non_cores if u in ctx.exposures)
    funded = sum(ex.credentials_funded_minor for ex in ctx.exposures.values())
    out.append(_financing_share(held, in_place, need))
    out.append(Measure("credentials_funded", yuan(funded), "CNY", "data", {"funded_minor": funded}))
    return out


def _share(key: str, counts: tuple[int, int], names: tuple[str, str]) -> Measure:
    part, whole = counts
    inputs: Inputs = {names[0]: part, names[1]: whole}
    if whole == 0:
        return missing(key, "share", f"the chain has no {names[1]}", inputs)
    return Measure(key, part / whole, "share", "data", inputs)


def _financing_share(held: int, in_place: Measure, need: Measure) -> Measure:
    key = "financing_share"
    inputs: Inputs = {"bank_exposure_minor": held}
    place_minor = int(in_place.inputs.get("in_place_minor", 0) or 0)
    # Financing in place made of this bank's own exposures alone would make the share 100 %
    # by construction: only when the financials give some member's loans at all banks is it
    # a denominator; else the share is of the financing need.
    others_known = int(in_place.inputs.get("members_loans_given", 0) or 0) > 0
    if in_place.value is not None and place_minor > 0 and others_known:
        inputs["in_place_minor"] = place_minor
        value = held / place_minor
        basis = "data" if in_place.basis == "data" else "fallback"
        note = "financing in place from a fallback" if basis == "fallback" else None
    else:
        need_minor = int(need.inputs.get("need_minor", 0) or 0)
        if need.value is None or need_minor <= 0:
            return missing(key, "share", "neither financing in place nor need known", inputs)
        inputs["need_minor"] = need_minor
        value = held / need_minor
        basis, note = "fallback", "other banks' financing unknown: share of the financing need"
    if value > 1:
        note = (note + "; " if note else "") + f"capped at 1 (raw {value:.3f})"
        value = 1.0
    return Measure(key, value, "share", basis, inputs, note)


def alert_and_delinquency(ctx: ChainContext) -> tuple[Measure, Measure]:
    bank = ctx.view.dataset.bank
    if bank is None:
        return missing("alert_rate", "rate", NO_BANK), missing("delinquency_rate", "rate", NO_BANK)
    customers = [u for u in ctx.firms if u in bank.customers]
    alerts: dict[str, int] = defaultdict(int)
    for uscc, count in bank.open_alerts:
        alerts[uscc] += count
    flagged = sum(1 for u in customers if alerts.get(u, 0) > 0)
    overdue = sum(1 for u in customers if u in ctx.exposures and ctx.exposures[u].overdue)
    if not customers:
        note = "no bank customers in the chain"
        return missing("alert_rate", "rate", note), missing("delinquency_rate", "rate", note)
    n = len(customers)
    alert = (
        Measure("alert_rate", flagged / n, "rate", "data", {"with_alerts": flagged, "customers": n})
        if ctx.has_input("alerts")
        else missing("alert_rate", "rate", "no alerts given")
    )
    late = (
        Measure(
            "delinquency_rate", overdue / n, "rate", "data", {"overdue": overdue, "customers": n}
        )
        if ctx.has_input("exposures")
        else missing("delinquency_rate", "rate", "no exposures given")
    )
    return alert, late


def debtrank_fragility(ctx: ChainContext) -> Measure:
    """DebtRank of the chain when every core fails (shock 1): sellers hold receivables on
    their buyers worth RECEIVABLE_DAYS of their 12-month sales to them."""
    key = "debtrank_fragility"
    if not ctx.cores:
        return missing(key, "index", "the chain has no cores to shock")
    if not ctx.flows12:
        return missing(key, "index", "no trade flows in the last 12 months")
    ids = sorted(ctx.firms)
    index = {u: k for k, u in enumerate(ids)}
    sizes: list[float] = []
    from_sales = 0
    for u in ids:
        firm = ctx.firms[u]
        if firm is not None and firm.revenue_minor is not None and firm.revenue_minor > 0:
            sizes.append(float(firm.revenue_minor))
        else:
            sizes.append(float(ctx.sales12.get(u, 0)))
            from_sales += 1
    value = np.asarray(sizes)
    if value.sum() <= 0:
        return missing(key, "index", "no revenue or 12-month sales of any member")
    equity = np.maximum(value * EQUITY_SHARE, 1.0)  # 1 fen: a firm that sells nothing holds nothing
    pairs = [(s, b, a) for (s, b), a in ctx.pair12.items() if s != b and a > 0]
    network = Network.from_arrays(
        ids,
        equity,
        value,
        np.asarray([index[s] for s, _, _ in pairs], dtype=np.int64),
        np.asarray([index[b] for _, b, _ in pairs], dtype=np.int64),
        np.asarray([a * RECEIVABLE_DAYS / DAYS_PER_YEAR for _, _, a in pairs], dtype=np.float64),
    )
    result = debtrank(network, dict.fromkeys(ctx.cores, 1.0))
    inputs: Inputs = {
        "nodes": len(ids),
        "edges": len(pairs),
        "shocked_cores": len(ctx.cores),
        "rounds": result.rounds,
        "distressed": result.distressed,
    }
    if from_sales:
        note = f"{from_sales} members without revenue sized by their 12-month sales"
        return Measure(key, result.debtrank, "index", "fallback", inputs, note)
    return Measure(key, result.debtrank, "index", "data", inputs)


def expected_loss(ctx: ChainContext) -> tuple[Measure, float | None]:
    """Expected loss and the EL rate (EL over the exposure that had a PD)."""
    key = "expected_loss"
    if ctx.view.dataset.bank is None:
        return missing(key, "CNY", NO_BANK), None
    if not ctx.has_input("exposures"):
        return missing(key, "CNY", "no exposures given"), None
    el = 0.0
    base = skipped = 0
    for ex in ctx.exposures.values():
        if ex.pd is None:
            skipped += 1
            continue
        lgd = ex.lgd if ex.lgd is not None else ctx.lgd_default
        el += ex.exposure_minor * ex.pd * lgd
        base += ex.exposure_minor
    inputs: Inputs = {
        "el_minor": round(el),
        "exposure_minor": base,
        "without_pd": skipped,
        "lgd_default": ctx.lgd_default,
    }
    if base == 0 and skipped == len(ctx.exposures):
        why = "no exposures on members" if not ctx.exposures else "no exposure carries a PD"
        return missing(key, "CNY", why, inputs), None
    rate = el / base if base else None
    note = f"{skipped} exposures without a PD skipped" if skipped else None
    basis = "fallback" if skipped else "data"
    return Measure(key, yuan(round(el)), "CNY", basis, inputs, note), rate


def risk(parts: dict[str, float | None]) -> Measure:
    """The mean of the available parts: alert rate, delinquency rate, DebtRank fragility
    and the EL rate."""
    given = {k: v for k, v in parts.items() if v is not None}
    inputs: Inputs = dict(given)
    if not given:
        return missing("risk", "rate", "no alert, delinquency, DebtRank or expected-loss figure")
    value = sum(given.values()) / len(given)
    if len(given) == len(parts):
        return Measure("risk", value, "rate", "data", inputs)
    absent = ", ".join(k for k in parts if k not in given)
    return Measure("risk", value, "rate", "fallback", inputs, f"without {absent}")
