"""Lead lists on a small hand-built chain: who is a lead, the 12-month trade with the served
cores, punctuality, financeable receivables, the indicative limit, the score and the CSV —
every number worked out by hand in the comments."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date

import pytest

from chainfin.domain.strategy.dataset import (
    BankPosition,
    MarketChain,
    MarketFirm,
    MarketLink,
    Receivable,
    RegionDataset,
    TradeFlow,
)
from chainfin.domain.strategy.regions import parse_region
from chainfin.risk.strategy.graph import RegionView
from chainfin.risk.strategy.leads import (
    LIMIT_CAP_MINOR,
    indicative_limit_minor,
    leads,
    leads_csv,
    on_time_share,
    percentile,
    wan,
    window_start,
    yuan,
)

AS_OF = date(2026, 6, 15)  # the 12-month window: months from 2025-07-01 to 2026-06-01
SEEN = date(2026, 5, 1)


def firm(uscc: str, name: str, role: str, industry: str = "C36") -> MarketFirm:
    return MarketFirm(uscc, name, "320505", industry, role)


def link(seller: str, buyer: str) -> MarketLink:
    return MarketLink(seller, buyer, "platform_trade", date(2024, 1, 1), SEEN)


def receivable(seller: str, buyer: str, amount: int, due_on: date, **kw: bool) -> Receivable:
    flags = {"confirmed": True, "registered": False} | kw
    return Receivable(seller, buyer, amount, due_on, flags["confirmed"], flags["registered"])


FIRMS = (
    firm("CORE1", "华瑞汽车", "core"),  # served by the bank
    firm("CORE2", "东岳电机", "core"),  # not a customer
    firm("S1", "苏州精工", "supplier", "C33"),  # sells to CORE1: a lead
    firm("S2", "昆山塑业", "supplier", "C29"),  # sells to CORE1, no flows: a lead
    firm("S3", "常熟钢材", "supplier", "C31"),  # sells to S1 only: tier 2, not linked to a core
    firm("S4", "吴江线束", "supplier", "C38"),  # sells to CORE1 but already a customer
    firm("S5", "无锡电子", "supplier", "C39"),  # sells to CORE2 only: not a served core
    firm("D1", "上海车行", "dealer", "F52"),  # buys from CORE1: a lead
)
LINKS = (
    link("S1", "CORE1"),
    link("S1", "CORE2"),
    link("S2", "CORE1"),
    link("S3", "S1"),
    link("S4", "CORE1"),
    link("S5", "CORE2"),
    link("CORE1", "D1"),
)
FLOWS = (
    TradeFlow("S1", "CORE1", date(2025, 6, 1), 999_999_999),  # before the window
    TradeFlow("S1", "CORE1", date(2025, 7, 1), 40_000_000, paid_late_minor=4_000_000),
    TradeFlow("S1", "CORE1", date(2026, 6, 1), 60_000_000),  # lateness unknown
    TradeFlow("S1", "CORE2", date(2026, 1, 1), 50_000_000, paid_late_minor=0),  # core not served
    TradeFlow("CORE1", "D1", date(2026, 1, 1), 30_000_000, paid_late_minor=0),
    TradeFlow("S3", "S1", date(2026, 1, 1), 70_000_000),
)
RECEIVABLES = (
    receivable("S1", "CORE1", 20_000_000, date(2026, 9, 30)),
    receivable("S1", "CORE1", 10_000_000, date(2026, 8, 1)),
    receivable("S1", "CORE1", 5_000_000, date(2026, 9, 30), registered=True),
    receivable("S1", "CORE1", 7_000_000, date(2026, 9, 30), confirmed=False),
    receivable("S1", "CORE1", 3_000_000, AS_OF),  # due today: no longer financeable
    receivable("S1", "CORE2", 9_000_000, date(2026, 9, 30)),  # core not served
    receivable("S2", "CORE1", 8_000_000, date(2026, 7, 1)),
)
CHAIN = MarketChain("nev-hr", "华瑞新能源汽车链", "nev", ("CORE1", "CORE2"), "320505")
BANK = BankPosition("demo-bank", frozenset({"CORE1", "S4"}))


def dataset(**changes: object) -> RegionDataset:
    base = RegionDataset(
        as_of=AS_OF,
        currency="CNY",
        firms=FIRMS,
        chains=(CHAIN,),
        links=LINKS,
        flows=FLOWS,
        receivables=RECEIVABLES,
        bank=BANK,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def view(**changes: object) -> RegionView:
    return RegionView(dataset(**changes), parse_region("yrd"))


def test_leads_are_non_customer_members_linked_to_a_served_core() -> None:
    # not CORE1/CORE2 (cores), S3 (no link to a core), S4 (a customer), S5 (core not served)
    assert [lead.uscc for lead in leads(view(), "nev-hr")] == ["S1", "D1", "S2"]


def test_trade_volume_counts_twelve_months_with_served_cores_in_both_directions() -> None:
    found = {lead.uscc: lead for lead in leads(view(), "nev-hr")}
    assert found["S1"].trade_volume_minor == 100_000_000  # 40 + 60 万; not June 2025, not CORE2
    assert found["D1"].trade_volume_minor == 30_000_000  # bought from CORE1
    assert found["S2"].trade_volume_minor == 0


def test_on_time_share_uses_the_flows_whose_lateness_is_known() -> None:
    found = {lead.uscc: lead for lead in leads(view(), "nev-hr")}
    assert found["S1"].on_time_share == pytest.approx(0.9)  # 1 − 4/40
    assert found["D1"].on_time_share == 1.0
    assert found["S2"].on_time_share is None


def test_financeable_is_confirmed_unregistered_not_yet_due_on_served_cores() -> None:
    found = {lead.uscc: lead for lead in leads(view(), "nev-hr")}
    assert found["S1"].financeable_minor == 30_000_000  # 20 + 10 万
    assert found["S2"].financeable_minor == 8_000_000
    assert found["D1"].financeable_minor == 0


def test_scores_weigh_volume_punctuality_and_financeable() -> None:
    found = {lead.uscc: lead for lead in leads(view(), "nev-hr")}
    # volume percentiles 1, 2/3, 0; financeable percentiles 1, 0, 2/3
    assert found["S1"].score == 97.5  # 50·1 + 25·0.9 + 25·1
    assert found["D1"].score == 58.33  # 50·2/3 + 25·1 + 0
    assert found["S2"].score == 29.17  # 0 + 25·0.5 (unknown) + 25·2/3


def test_indicative_limits() -> None:
    found = {lead.uscc: lead for lead in leads(view(), "nev-hr")}
    assert found["S1"].indicative_limit_minor == 24_000_000  # 80 % of max(30 万, 100 万·60/360)
    assert found["D1"].indicative_limit_minor == 4_000_000  # 80 % of 30 万·60/360 = 5 万
    assert found["S2"].indicative_limit_minor == 6_000_000  # 80 % of 8 万 = 6.4 万, down to 6 万


def test_the_limit_rounds_down_to_ten_thousand_yuan_and_is_capped() -> None:
    assert indicative_limit_minor(1_999_999, 0) == 1_000_000
    assert indicative_limit_minor(0, 0) == 0
    assert indicative_limit_minor(10_000_000_000, 0) == LIMIT_CAP_MINOR == 3_000_000_000


def test_reasons_say_what_the_numbers_are() -> None:
    found = {lead.uscc: lead for lead in leads(view(), "nev-hr")}
    assert found["S1"].reasons == (
        "sells 100 万元 a year to 华瑞汽车 (core, our customer)",
        "90 % of the trade paid on time",
        "2 confirmed receivables (30.0 万元) not yet registered",
    )
    assert found["D1"].reasons == (
        "buys 30.0 万元 a year from 华瑞汽车 (core, our customer)",
        "100 % of the trade paid on time",
    )
    assert found["S2"].reasons == (
        "trades with 华瑞汽车 (core, our customer): no flows in the last 12 months",
        "no payment history: punctuality unknown",
        "1 confirmed receivable (8.0 万元) not yet registered",
    )


def test_a_lead_carries_its_firm_and_position() -> None:
    s1 = next(lead for lead in leads(view(), "nev-hr") if lead.uscc == "S1")
    assert (s1.name, s1.region_code, s1.industry_code, s1.side, s1.tier) == (
        "苏州精工",
        "320505",
        "C33",
        "upstream",
        1,
    )
    assert s1.linked_cores == ("CORE1",)
    assert s1.enterprise_id is None


def test_a_firm_on_both_sides_of_the_chain_is_one_lead() -> None:
    both = firm("B1", "双向贸易", "other")
    found = leads(
        view(
            firms=(*FIRMS, both),
            links=(*LINKS, link("B1", "CORE1"), link("CORE1", "B1")),
            flows=(
                TradeFlow("B1", "CORE1", date(2026, 2, 1), 12_000_000),
                TradeFlow("CORE1", "B1", date(2026, 3, 1), 3_000_000),
            ),
        ),
        "nev-hr",
    )
    (b1,) = (lead for lead in found if lead.uscc == "B1")
    assert b1.side == "upstream"
    assert b1.trade_volume_minor == 15_000_000
    assert b1.reasons[:2] == (
        "sells 12.0 万元 a year to 华瑞汽车 (core, our customer)",
        "buys 3.0 万元 a year from 华瑞汽车 (core, our customer)",
    )


def test_leads_are_cut_at_the_limit_best_first() -> None:
    assert [lead.uscc for lead in leads(view(), "nev-hr", limit=2)] == ["S1", "D1"]


def test_equal_scores_are_ordered_by_uscc() -> None:
    twins = leads(view(flows=(), receivables=()), "nev-hr")
    # no flows, no receivables: every lead scores 25·0.5 = 12.5
    assert [(lead.uscc, lead.score) for lead in twins] == [("D1", 12.5), ("S1", 12.5), ("S2", 12.5)]


def test_without_a_bank_position_there_are_no_leads() -> None:
    assert leads(view(bank=None), "nev-hr") == ()


def test_a_chain_outside_the_region_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        leads(view(), "no-such-chain")


def test_the_csv_for_branches() -> None:
    text = leads_csv(leads(view(), "nev-hr"))
    assert not text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text))) == [
        [
            "rank", "uscc", "name", "region_code", "industry_code", "side", "tier",
            "linked_cores", "trade_volume_yuan", "on_time_share", "financeable_yuan",
            "indicative_limit_yuan", "score", "reasons",
        ],
        [
            "1", "S1", "苏州精工", "320505", "C33", "upstream", "1", "CORE1",
            "1000000.00", "0.9000", "300000.00", "240000.00", "97.50",
            "sells 100 万元 a year to 华瑞汽车 (core, our customer) | 90 % of the trade paid on "
            "time | 2 confirmed receivables (30.0 万元) not yet registered",
        ],
        [
            "2", "D1", "上海车行", "320505", "F52", "downstream", "1", "CORE1",
            "300000.00", "1.0000", "0.00", "40000.00", "58.33",
            "buys 30.0 万元 a year from 华瑞汽车 (core, our customer) | 100 % of the trade paid "
            "on time",
        ],
        [
            "3", "S2", "昆山塑业", "320505", "C29", "upstream", "1", "CORE1",
            "0.00", "", "80000.00", "60000.00", "29.17",
            "trades with 华瑞汽车 (core, our customer): no flows in the last 12 months | no "
            "payment history: punctuality unknown | 1 confirmed receivable (8.0 万元) not yet "
            "registered",
        ],
    ]  # fmt: skip


def test_several_linked_cores_are_joined_with_semicolons() -> None:
    lead = replace(leads(view(), "nev-hr")[0], linked_cores=("CORE1", "CORE9"))
    assert next(csv.reader(io.StringIO(leads_csv([lead]).splitlines()[1])))[7] == "CORE1;CORE9"


def test_an_empty_list_is_a_header_only_csv() -> None:
    assert leads_csv(()).count("\n") == 1


@pytest.mark.parametrize(
    ("minor", "shown"),
    [(0, "0.00"), (5, "0.05"), (123_456, "1234.56"), (-250, "-2.50")],
)
def test_yuan_from_fen_without_floats(minor: int, shown: str) -> None:
    assert yuan(minor) == shown


@pytest.mark.parametrize(
    ("minor", "shown"),
    [(12_340_000_000, "12,340 万元"), (4_560_000, "4.6 万元"), (100_000_000, "100 万元")],
)
def test_wan(minor: int, shown: str) -> None:
    assert wan(minor) == shown


def test_the_window_starts_twelve_months_back() -> None:
    assert window_start(date(2026, 6, 15)) == date(2025, 6, 15)
    assert window_start(date(2028, 2, 29)) == date(2027, 2, 28)


def test_punctuality_is_unknown_without_known_lateness() -> None:
    assert on_time_share([TradeFlow("a", "b", date(2026, 1, 1), 100)]) is None


def test_a_zero_value_earns_no_percentile() -> None:
    assert percentile(0, [0, 0, 5]) == 0.0
    assert percentile(5, [0, 0, 5]) == 1.0


@pytest.mark.parametrize("name", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx"])
def test_a_name_a_spreadsheet_would_run_is_neutralised(name: str) -> None:
    lead = replace(leads(view(), "nev-hr")[0], name=name)
    row = next(csv.reader(io.StringIO(leads_csv([lead]).splitlines()[1])))
    assert row[2] == "'" + name
