"""Measures and ranking reasons for people, in Chinese or English: the CLI and the API print
the English reason the ranking writes; the workbench page and the committee report rebuild
it in the reader's language from the criteria the ranking named.

>>> format_value(0.345, "share"), format_value(12_340_000.0, "CNY"), format_value(17.0, "count")
('34 %', '1,234 万元', '17')
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from chainfin.domain.strategy.criteria import BY_KEY
from chainfin.domain.strategy.results import Lead, RankedChain

_SPECIAL_ZH = {
    "no criterion could be measured": "没有可计量的指标",
    "the only chain left to rank: nothing to compare it with": "仅剩一条产业链参与排名，无可比较",
}


def format_value(value: float, unit: str) -> str:
    """A measure value for people: shares and rates as %, CNY (yuan) in 万元."""
    if unit in ("share", "rate"):
        pct = value * 100
        return f"{pct:.1f} %" if abs(pct) < 10 else f"{pct:.0f} %"
    if unit == "CNY":
        wan = value / 10_000
        return f"{wan:,.1f} 万元" if abs(wan) < 10 else f"{wan:,.0f} 万元"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:.2f}"


def reason_text(
    chain: RankedChain, values: Mapping[str, tuple[float | None, str]], lang: str
) -> str:
    """The chain's one-line reason in ``lang`` ("zh_CN" or "en") from the criteria the
    ranking named (``values``: criterion key → its value and unit for this chain). Excluded
    chains keep their gate messages; a reason the ranking did not break down is returned
    as written (translated where it is one of the fixed sentences)."""
    if chain.rank is None or (not chain.strongest and chain.weakest is None):
        return _SPECIAL_ZH.get(chain.reason, chain.reason) if lang == "zh_CN" else chain.reason
    zh = lang == "zh_CN"

    def show(key: str) -> str:
        criterion = BY_KEY.get(key)
        label = (criterion.label_zh if zh else criterion.label_en) if criterion else key
        value, unit = values.get(key, (None, "index"))
        shown = "—" if value is None else format_value(value, unit)
        return f"{label} {shown}"

    parts: list[str] = []
    if chain.strongest:
        joined = ("、" if zh else " and ").join(show(k) for k in chain.strongest)
        parts.append(f"优势：{joined}" if zh else f"strongest {joined}")
    else:
        parts.append("无高于末位产业链的指标" if zh else "no criterion above the weakest chain")
    if chain.weakest is not None:
        parts.append(f"短板：{show(chain.weakest)}" if zh else f"weakest {show(chain.weakest)}")
    if chain.filled:
        names = [
            (BY_KEY[k].label_zh if zh else BY_KEY[k].label_en) if k in BY_KEY else k
            for k in chain.filled
        ]
        if zh:
            parts.append(f"{'、'.join(names)}缺失，按最差观测值计")
        else:
            parts.append(f"{', '.join(names)} missing, counted at the worst observed value")
    return ("；" if zh else "; ").join(parts)


def lead_reasons(lead: Lead, core_names: Mapping[str, str], lang: str) -> tuple[str, ...]:
    """Why a firm is a lead, in ``lang``: in English the lead list's own lines; in Chinese
    rebuilt from the lead's figures (trade with the served cores, punctuality, receivables
    that could be financed)."""
    if lang != "zh_CN":
        return lead.reasons
    cores = "、".join(core_names.get(c, c) for c in lead.linked_cores)
    lines = []
    if lead.trade_volume_minor > 0:
        wan = format_value(lead.trade_volume_minor / 100, "CNY")
        lines.append(f"近 12 个月与{cores}（核心企业，本行客户）交易 {wan}")
    else:
        lines.append(f"与{cores}（核心企业，本行客户）有供销关系，近 12 个月无交易数据")
    if lead.on_time_share is None:
        lines.append("无付款记录：回款准时性未知")
    else:
        lines.append(f"{format_value(lead.on_time_share, 'share')} 的交易按时付款")
    if lead.financeable_minor > 0:
        wan = format_value(lead.financeable_minor / 100, "CNY")
        lines.append(f"已确权未登记的应收账款 {wan} 可融资")
    return tuple(lines)


# The coverage notes the maps and the ranking write, in Chinese: (pattern, template). A note
# not listed here is shown as written (in English).
_NOTES_ZH: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"^the market data is as of (\S+), (\d+) days before today: links age from today$"
        ),
        "市场数据截至 {0}，距今 {1} 天：关系时效按今天计算",
    ),
    (
        re.compile(r"^(\d+) of (\d+) links not seen for over (\d+) days$"),
        "{1} 条关系中有 {0} 条超过 {2} 天未出现",
    ),
    (
        re.compile(
            r"^(\d+) members? named by the links (?:is|are) missing from the enterprises input$"
        ),
        "关系中有 {0} 家企业不在企业名录中",
    ),
    (re.compile(r"^no trade flows: link provenance only$"), "无交易流水：仅有关系来源"),
    (
        re.compile(r"^no trade flows among this chain's members: link provenance only$"),
        "本链成员之间无交易流水：仅有关系来源",
    ),
    (re.compile(r"^no bank position given: customers not marked$"), "未提供本行持仓：未标注客户"),
    (
        re.compile(r"^chain kind (\S+) has no segment template: observed segments only$"),
        "产业链类型 {0} 没有环节模板：仅列出观察到的环节",
    ),
    (re.compile(r"^(\w+): not given$"), "{0}：未提供"),
    (
        re.compile(r"^.+ \((\w+)\) missing for every chain: left out of the ranking$"),
        "{label} 对所有产业链均缺失：不参与排名",
    ),
    (
        re.compile(
            r"^.+ \((\w+)\) missing for (.+): counted at the least favourable observed value$"
        ),
        "{label} 在 {1} 缺失：按最不利的观测值计",
    ),
    (re.compile(r"^no chain left to rank$"), "没有可参与排名的产业链"),
    (re.compile(r"^no chains in the region$"), "该区域没有产业链"),
)


def note_text(note: str, lang: str) -> str:
    """A coverage note in ``lang``: the maps' and the ranking's notes in Chinese where the
    sentence is one of theirs, else as written."""
    if lang != "zh_CN":
        return note
    for pattern, template in _NOTES_ZH:
        m = pattern.match(note)
        if m is not None:
            groups = m.groups()
            criterion = BY_KEY.get(groups[0]) if groups else None
            label = criterion.label_zh if criterion is not None else (groups[0] if groups else "")
            return template.format(*groups, label=label)
    return note
