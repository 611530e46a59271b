"""A ranking's reason rebuilt in the reader's language from the criteria it named."""

from __future__ import annotations

import pytest

from chainfin.domain.strategy.display import format_value, reason_text
from chainfin.domain.strategy.results import RankedChain


def _chain(**kw: object) -> RankedChain:
    base: dict[str, object] = {
        "chain_key": "k",
        "name": "长三角光伏链",
        "kind": "pv",
        "score": 0.7,
        "rank": 1,
        "rank_low": 1,
        "rank_high": 2,
        "attractiveness": 0.6,
        "ability": 0.4,
        "quadrant": "build",
        "reason": "strongest Growth 12 % and Customer share 40 %; weakest Risk 3.0 %",
        "strongest": ("growth", "customer_share"),
        "weakest": "risk",
    }
    base.update(kw)
    return RankedChain(**base)  # type: ignore[arg-type]


VALUES = {"growth": (0.12, "rate"), "customer_share": (0.4, "share"), "risk": (0.03, "rate")}


def test_the_reason_reads_in_chinese_with_the_criteria_named() -> None:
    assert reason_text(_chain(), VALUES, "zh_CN") == (
        "优势：成长性 12 %、客户覆盖率 40 %；短板：风险水平 3.0 %"
    )


def test_in_english_it_is_the_rankings_own_sentence() -> None:
    assert reason_text(_chain(), VALUES, "en") == _chain().reason


def test_criteria_counted_at_the_worst_value_are_said_so() -> None:
    text = reason_text(_chain(filled=("policy_priority",)), VALUES, "zh_CN")
    assert text.endswith("政策优先度缺失，按最差观测值计")


def test_a_missing_value_shows_a_dash_not_zero() -> None:
    assert "短板：风险水平 —" in reason_text(_chain(), {"growth": (0.1, "rate")}, "zh_CN")


def test_an_excluded_chain_keeps_its_gate_message() -> None:
    chain = _chain(rank=None, score=None, reason="excluded: restricted kind pv")
    assert reason_text(chain, VALUES, "zh_CN") == "excluded: restricted kind pv"


def test_the_fixed_sentences_are_translated() -> None:
    chain = _chain(
        reason="the only chain left to rank: nothing to compare it with", strongest=(), weakest=None
    )
    assert reason_text(chain, {}, "zh_CN") == "仅剩一条产业链参与排名，无可比较"


def test_amounts_are_in_wan_yuan() -> None:
    assert format_value(56_000.0, "CNY") == "5.6 万元"


def test_a_leads_reasons_read_in_chinese_from_its_figures() -> None:
    from chainfin.domain.strategy.display import lead_reasons
    from chainfin.domain.strategy.results import Lead

    lead = Lead(
        uscc="S1", name="甲", region_code="320500", industry_code="C38", side="upstream",
        tier=1, linked_cores=("C1",), trade_volume_minor=12_340_000 * 100, on_time_share=None,
        financeable_minor=0, indicative_limit_minor=0, score=50.0, reasons=("sells …",),
    )  # fmt: skip
    assert lead_reasons(lead, {"C1": "乙集团"}, "zh_CN") == (
        "近 12 个月与乙集团（核心企业，本行客户）交易 1,234 万元",
        "无付款记录：回款准时性未知",
    )
    assert lead_reasons(lead, {}, "en") == ("sells …",)


@pytest.mark.parametrize(
    ("note", "zh"),
    [
        (
            "the market data is as of 2026-06-30, 336 days before today: links age from today",
            "市场数据截至 2026-06-30，距今 336 天：关系时效按今天计算",
        ),
        ("3 of 59 links not seen for over 365 days", "59 条关系中有 3 条超过 365 天未出现"),
        (
            "1 member named by the links is missing from the enterprises input",
            "关系中有 1 家企业不在企业名录中",
        ),
        ("financials: not given", "financials：未提供"),
        (
            "Policy priority (policy_priority) missing for every chain: left out of the ranking",
            "政策优先度 对所有产业链均缺失：不参与排名",
        ),
        ("something new", "something new"),
    ],
)
def test_coverage_notes_read_in_chinese(note: str, zh: str) -> None:
    from chainfin.domain.strategy.display import note_text

    assert note_text(note, "zh_CN") == zh
    assert note_text(note, "en") == note
