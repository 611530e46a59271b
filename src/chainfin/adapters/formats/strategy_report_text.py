"""The words of the committee report (PDF), in Chinese and English.

These strings live here rather than in the web catalogues: the report is rendered outside a
request, in the language the report asks for (``StrategyReport.lang``).
"""

from __future__ import annotations

from chainfin.domain.strategy.criteria import BY_KEY
from chainfin.domain.strategy.segments import default_kinds

# key -> (zh_CN, en)
LABELS: dict[str, tuple[str, str]] = {
    "title": ("区域产业链策略报告", "Regional chain strategy report"),
    "subtitle": ("总行策略委员会审阅材料", "For the head-office strategy committee"),
    "bank": ("银行", "Bank"),
    "region": ("区域", "Region"),
    "as_of": ("数据截至", "Data as of"),
    "generated_on": ("报告生成日期", "Generated on"),
    "top_chains": ("排名前三的产业链", "The three top-ranked chains"),
    "no_chains": (
        "本区域没有可排序的产业链：数据中没有落在本区域的产业链，或全部被准入条件排除。",
        "There is nothing to rank: no chain of the data lies in this region, or every "
        "chain was excluded by a gate.",
    ),
    "coverage_share": ("数据覆盖率", "Data coverage"),
    "missing_inputs": ("缺失的输入", "Missing inputs"),
    "none_missing": ("无：所有输入均已提供。", "None: every input was given."),
    "missing_lead": (
        "以下输入未提供，相关指标按替代口径计算或标为缺失，而非记为零：",
        "These inputs were not given; the measures that need them use a fallback or are "
        "shown as missing, never as zero:",
    ),
    "ranking": ("产业链排序", "Ranking of chains"),
    "ranking_note": (
        "TOPSIS 得分按熵权与总行主观权重混合后的权重计算；排序区间为权重随机扰动 ±{noise}%、"
        "{draws} 次抽样（种子 {seed}）下的最好与最差名次。",
        "TOPSIS closeness with entropy weights blended with head office's weights; the rank "
        "interval is the best and worst rank over {draws} draws of ±{noise} % weight noise "
        "(seed {seed}).",
    ),
    "ranking_note_entropy": (
        "TOPSIS 得分仅按熵权计算（总行未给出主观权重）；排序区间为权重随机扰动 ±{noise}%、"
        "{draws} 次抽样（种子 {seed}）下的最好与最差名次。",
        "TOPSIS closeness with entropy weights alone (head office gave no weights of its own); "
        "the rank interval is the best and worst rank over {draws} draws of ±{noise} % weight "
        "noise (seed {seed}).",
    ),
    "rank": ("名次", "Rank"),
    "chain": ("产业链", "Chain"),
    "kind": ("类型", "Kind"),
    "score": ("得分", "Score"),
    "interval": ("名次区间", "Rank interval"),
    "quadrant": ("象限", "Quadrant"),
    "reason": ("理由", "Reason"),
    "notes": ("说明", "Notes"),
    "excluded": ("已排除", "excluded"),
    "excluded_by": ("排除原因", "Excluded by"),
    "interval_chart": ("敏感性分析：名次区间", "Sensitivity: rank intervals"),
    "interval_axis": ("名次（1 为最优）", "Rank (1 = best)"),
    "quadrant_title": ("吸引力 × 获胜能力 象限", "Attractiveness × ability to win"),
    "attractiveness": ("吸引力", "Attractiveness"),
    "ability": ("获胜能力", "Ability to win"),
    "no_quadrant": ("没有可绘制的产业链。", "No chain to plot."),
    "weights": ("权重", "Weights"),
    "criterion": ("指标", "Criterion"),
    "group": ("维度", "Group"),
    "entropy": ("熵权", "Entropy"),
    "subjective": ("主观权重", "Subjective"),
    "final": ("最终权重", "Final"),
    "blend": (
        "主观权重占比 {blend}%（0 表示仅用熵权）。",
        "Blend: {blend} % subjective weights (0 = entropy only).",
    ),
    "method_ahp": (
        "主观权重来自层次分析法（AHP）两两比较，一致性比率 CR = {cr}（< 0.1 方可接受）。",
        "Subjective weights from AHP pairwise comparisons, consistency ratio "
        "CR = {cr} (accepted below 0.1).",
    ),
    "method_direct": (
        "主观权重由总行直接给定。",
        "Subjective weights given directly by head office.",
    ),
    "method_none": (
        "未给定主观权重，仅使用熵权。",
        "No subjective weights given: entropy weights only.",
    ),
    "measures": ("指标一览", "Measures"),
    "measures_attr": ("吸引力指标", "Attractiveness criteria"),
    "measures_ability": ("获胜能力指标", "Ability-to-win criteria"),
    "measures_info": ("辅助指标（不参与加权）", "Supporting figures (not weighed)"),
    "legend": (
        "图例：† 按替代口径计算（如以投入产出表代替交易数据）；— 缺失（数据不足，未计为零）。"
        "份额以 % 表示，金额单位为万元，其余为个数或指数。",
        "Legend: † computed on a fallback basis (e.g. the input-output table instead of trade "
        "data); — missing (not enough data, never counted as zero). Shares in %, amounts in "
        "CNY 10,000 (万元), others counts or indices.",
    ),
    "map": ("产业链图谱", "Chain map"),
    "upstream": ("上游", "Upstream"),
    "midstream": ("中游", "Midstream"),
    "downstream": ("下游", "Downstream"),
    "firms": ("家", "firms"),
    "firm": ("家", "firm"),
    "critical": ("关键环节", "critical"),
    "single_source": ("单一来源", "single source"),
    "absent": ("缺失", "absent"),
    "no_segments": ("本环节无企业", "no segment"),
    "freshness": ("关系时效", "Link freshness"),
    "fresh_share": ("{share}% 的关系在 90 天内出现过", "{share} % of links seen within 90 days"),
    "fresh": ("新鲜", "fresh"),
    "ageing": ("老化", "ageing"),
    "stale": ("过期", "stale"),
    "unknown": ("未知（无关系数据）", "unknown (no links)"),
    "map_counts": (
        "成员企业 {firms} 家，关系 {links} 条，本区域内 {local} 家。",
        "{firms} member firms, {links} links, {local} inside the region.",
    ),
    "map_coverage": ("图谱覆盖率", "Map coverage"),
    "incomplete": (
        "本图谱并不完整：覆盖率低于 100%，缺失部分见下方说明。",
        "This map is not complete: its coverage is below 100 %; what is missing is noted below.",
    ),
    "map_legend": (
        "★ 关键环节　◆ 单一来源（唯一供应方）　虚线框：环节企业数不足",
        "★ critical segment   ◆ single source (one supplier)   dashed: too few firms",
    ),
    "leads": ("优先营销名单", "Top leads"),
    "no_leads": ("本产业链暂无营销线索。", "No leads for this chain."),
    "lead_name": ("企业", "Firm"),
    "tier": ("层级", "Tier"),
    "trade_12m": ("近 12 月交易（万元）", "12m trade (万元)"),
    "financeable": ("可融资应收（万元）", "Financeable (万元)"),
    "limit": ("参考额度（万元）", "Indicative limit (万元)"),
    "definitions": ("指标定义", "Definitions"),
    "sources": ("数据覆盖与来源", "Data coverage and sources"),
    "source_input": ("输入", "Input"),
    "source_from": ("来源", "Source"),
    "no_sources": ("未记录数据来源。", "No source recorded."),
    "ranking_coverage": ("排序的数据覆盖", "Coverage of the ranking"),
    "inputs_present": ("已提供", "Given"),
    "maps_coverage": ("各图谱的覆盖", "Coverage of each map"),
    "complete_warning": (
        "当某产业链图谱的覆盖率说明其不完整时，该图谱即不完整，不应视为完整图谱。",
        "No chain map is complete when its coverage says otherwise.",
    ),
    "report_date": (
        "数据截至 {as_of}，报告生成于 {generated_on}。",
        "Data as of {as_of}; report generated on {generated_on}.",
    ),
    "page_of": ("第 {n} 页，共 {m} 页", "page {n} of {m}"),
    "pursue": ("优先拓展", "pursue"),
    "build": ("培育能力", "build"),
    "maintain": ("维持", "maintain"),
    "watch": ("观察", "watch"),
    "side_core": ("核心", "core"),
    "side_upstream": ("上游", "upstream"),
    "side_downstream": ("下游", "downstream"),
}

# Short definitions of each measure, consistent with docs/strategy.md.
DEFINITIONS: dict[str, tuple[str, str]] = {
    "completeness": (
        "模板中的环节里，本区域内至少有 3 家企业的环节所占比例（出现的环节数 ÷ 模板环节数）。",
        "Segments of the chain's template that have at least 3 firms inside the region, divided "
        "by the number of template segments.",
    ),
    "local_supporting_rate": (
        "产业链近 12 个月采购额中向本区域企业采购的份额；"
        "交易数据不足时改用投入产出表，再不足时按关系条数计算。",
        "Share of the chain's 12-month purchases bought from firms inside the region; where trade "
        "data is thin the input-output table is used, then the count of links.",
    ),
    "core_strength": (
        "核心企业在交易网络中的 PageRank 中心度乘以其信用评级质量后求和。",
        "Σ over the core enterprises of their PageRank centrality in the trade network × the "
        "quality of their credit rating.",
    ),
    "concentration": (
        "核心企业供应商的赫芬达尔指数（HHI），按采购额加权；越高越集中，为成本型指标。",
        "Purchase-weighted Herfindahl–Hirschman index of the cores' suppliers; higher is more "
        "concentrated, so it counts as a cost.",
    ),
    "sme_depth": (
        "第 1 至 3 层级上游成员中的中型、小型和微型企业数量（按工信部划型；规模未知者不计入）。",
        "Number of upstream members at tiers 1 to 3 that are medium, small or micro firms "
        "(MIIT size classes); members of unknown size are not counted.",
    ),
    "growth": (
        "近 12 个月交易额趋势与企业净进入率的平均值。",
        "Mean of the 12-month trade-volume trend and the net entry of firms.",
    ),
    "financing_gap": (
        "营运资金需求减去已到位的融资，不低于零（营运资金需求按收入与应收、存货、"
        "应付周转天数估算，无财务数据时按交易流估算）。",
        "Working-capital need minus financing in place, at least zero (the need is estimated "
        "from revenue and DSO/DIO/DPO where financials exist, else from trade flows).",
    ),
    "policy_priority": (
        "按用户维护的重点产业链名单（链长制等）：该类产业链列入所在地市名单为 1，"
        "列入所在省名单为 0.75，均未列入为 0。",
        "From the user-maintained list of key chains (链长制): 1 when the chain's kind is on "
        "the list of its home prefecture, 0.75 when on its province's list, 0 otherwise.",
    ),
    "customer_share": (
        "产业链成员中为本行客户的比例。",
        "Share of the chain's members that are customers of the bank.",
    ),
    "cores_covered": (
        "产业链核心企业中为本行客户的比例。",
        "Share of the chain's core enterprises that are customers of the bank.",
    ),
    "financing_share": (
        "本行对产业链非核心成员的融资余额占其已到位融资的比例（已到位融资未知时以营运资金需求为分母）。",
        "The bank's exposure on the chain's non-core members as a share of their financing in "
        "place (of their working-capital need when the financing in place is unknown).",
    ),
    "risk": (
        "预警率、逾期率、核心企业 DebtRank 脆弱度与预期损失率四者的平均值；"
        "越高越差，为成本型指标。",
        "Mean of the alert rate, the delinquency rate, the DebtRank fragility of the core and "
        "the expected-loss rate; higher is worse, so it counts as a cost.",
    ),
}

_LANG_INDEX = {"zh_CN": 0, "en": 1}


def lang_index(lang: str) -> int:
    """0 for Chinese, 1 for English; any other language falls back to Chinese."""
    return _LANG_INDEX.get(lang, 0)


def label(key: str, lang: str, **values: object) -> str:
    text = LABELS[key][lang_index(lang)]
    return text.format(**values) if values else text


def criterion_label(key: str, lang: str) -> str:
    criterion = BY_KEY.get(key)
    if criterion is None:
        return key.replace("_", " ")
    return criterion.label_zh if lang_index(lang) == 0 else criterion.label_en


def kind_label(kind: str, lang: str) -> str:
    found = default_kinds().get(kind)
    if found is None:
        return kind
    return found.label_zh if lang_index(lang) == 0 else found.label_en


def definition(key: str, lang: str) -> str:
    return DEFINITIONS[key][lang_index(lang)]


# Labels of the informational measures (not criteria), for the supporting-figures table.
INFO_LABELS: dict[str, tuple[str, str]] = {
    "single_points_of_failure": ("单点故障环节", "Single points of failure"),
    "net_entry": ("企业净进入", "Net entry"),
    "trade_trend": ("交易趋势", "Trade trend"),
    "financing_need": ("营运资金需求", "Financing need"),
    "financing_in_place": ("已到位融资", "Financing in place"),
    "credentials_funded": ("凭证融资", "Credentials funded"),
    "alert_rate": ("预警率", "Alert rate"),
    "delinquency_rate": ("逾期率", "Delinquency rate"),
    "debtrank_fragility": ("DebtRank 脆弱度", "DebtRank fragility"),
    "expected_loss": ("预期损失", "Expected loss"),
}


def measure_label(key: str, lang: str) -> str:
    if key in INFO_LABELS:
        return INFO_LABELS[key][lang_index(lang)]
    return criterion_label(key, lang)


# The inputs of a dataset (chainfin.domain.strategy.dataset.INPUTS), in words.
INPUT_LABELS: dict[str, tuple[str, str]] = {
    "enterprises": ("企业名录", "enterprise register"),
    "chains": ("产业链及核心企业", "chains and their cores"),
    "relations": ("企业间关系", "relations between firms"),
    "trade_flows": ("交易流水", "trade flows"),
    "financials": ("财务数据：收入、周转天数、贷款", "financials: revenue, DSO/DIO/DPO, loans"),
    "policies": ("重点产业链政策名单", "policy lists of key chains"),
    "io_shares": ("投入产出表本地份额", "input-output table local shares"),
    "segments": ("本行自定义的环节表", "the bank's own segment table"),
    "receivables": ("应收账款", "receivables"),
    "customers": ("本行客户名单", "the bank's customers"),
    "exposures": ("本行授信与融资余额", "the bank's exposures and limits"),
    "alerts": ("风险预警记录", "risk alerts"),
}


def input_label(key: str, lang: str) -> str:
    """An input in words, with its file name: "交易流水 (trade_flows)"."""
    words = INPUT_LABELS.get(key)
    if words is None:
        return key
    return f"{words[lang_index(lang)]} ({key})"
