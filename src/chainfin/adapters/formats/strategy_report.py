"""The committee report of a regional chain analysis, as a PDF (A4 portrait).

:func:`render_pdf` lays out an already computed :class:`StrategyReport`; it computes
nothing. The pages, in order (docs/strategy.md, "The committee report"):

1. cover and summary: bank, region, dates, the top three chains with their reasons, the
   data coverage and the missing inputs in words;
2. ranking: the table of chains and a chart of their rank intervals;
3. the attractiveness × ability quadrant and the weights;
4. the measures, chains × criteria, with basis markers and a legend;
5. one page per mapped chain: the segment tree, freshness, coverage and the top leads;
6. definitions of the measures;
7. data coverage and sources.

Chinese by default (``report.lang == "zh_CN"``), English when ``lang == "en"``. The output
is byte-identical for the same report: the document runs in reportlab's invariant mode and
its dates are ``report.generated_on``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.enums import TA_CENTER  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Flowable,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from chainfin.adapters.formats.strategy_report_charts import (
    INK,
    MUTED,
    QUADRANT_COLOURS,
    quadrant_chart,
    rank_interval_chart,
)
from chainfin.adapters.formats.strategy_report_fonts import (
    LATIN_BOLD,
    LATIN_FONT,
    markup,
    register_fonts,
    runs,
    text_width,
)
from chainfin.adapters.formats.strategy_report_text import (
    criterion_label,
    definition,
    input_label,
    kind_label,
    label,
    lang_index,
    measure_label,
)
from chainfin.domain.strategy.criteria import BY_KEY, CRITERIA, INFORMATIONAL
from chainfin.domain.strategy.display import note_text, reason_text
from chainfin.domain.strategy.results import (
    ChainMap,
    Coverage,
    Lead,
    Measure,
    RankedChain,
    SegmentNode,
    StrategyReport,
)

MARGIN = 16 * mm
HEADER_RULE = colors.HexColor("#cbd2d9")
HEAD_FILL = colors.HexColor("#e4ebf5")
STRIPE = colors.HexColor("#f5f7fa")
WARN_FILL = colors.HexColor("#fff4e5")
FRESHNESS_COLOURS = {
    "fresh": colors.HexColor("#15803d"),
    "ageing": colors.HexColor("#b45309"),
    "stale": colors.HexColor("#b91c1c"),
    "unknown": colors.HexColor("#6b7280"),
}
STAGE_ORDER = ("upstream", "midstream", "downstream")
TOP_CHAINS = 3
CHART_ROWS = 40  # chains per rank-interval chart, so one chart always fits a page


class _Styles:
    """The paragraph styles of one report; Chinese text wraps at any character."""

    def __init__(self, lang: str) -> None:
        wrap = "CJK" if lang_index(lang) == 0 else None

        def style(name: str, size: float, leading: float, **kw: Any) -> ParagraphStyle:
            return ParagraphStyle(
                name,
                fontName=kw.pop("font", LATIN_FONT),
                fontSize=size,
                leading=leading,
                textColor=kw.pop("colour", INK),
                wordWrap=wrap,
                **kw,
            )

        self.title = style("title", 24, 32, font=LATIN_BOLD, spaceAfter=6)
        self.subtitle = style("subtitle", 13, 18, colour=MUTED, spaceAfter=18)
        self.h1 = style("h1", 15, 20, font=LATIN_BOLD, spaceAfter=8, keepWithNext=1)
        self.h2 = style(
            "h2", 11.5, 15, font=LATIN_BOLD, spaceBefore=10, spaceAfter=5, keepWithNext=1
        )
        self.body = style("body", 9.5, 14, spaceAfter=4)
        self.small = style("small", 8, 11, colour=MUTED, spaceAfter=3)
        # The tint reaches borderPadding beyond the text; the indents keep it inside the frame.
        self.warn = style(
            "warn",
            9,
            13,
            backColor=WARN_FILL,
            borderPadding=4,
            leftIndent=4,
            rightIndent=4,
            spaceBefore=6,
            spaceAfter=8,
        )
        self.cell = style("cell", 7.8, 10)
        self.cell_right = style("cell_right", 7.8, 10, alignment=2)
        self.cell_head = style("cell_head", 7.4, 9.6, font=LATIN_BOLD)
        self.cell_head_right = style("cell_head_right", 7.4, 9.6, font=LATIN_BOLD, alignment=2)
        self.measure_cell = style("measure_cell", 7.0, 9.2, alignment=2)
        self.measure_head = style("measure_head", 6.5, 8.4, font=LATIN_BOLD)
        self.cell_center = style("cell_center", 7.8, 10, alignment=TA_CENTER)
        self.segment = style("segment", 7.6, 9.8)


def _why(report: StrategyReport, chain: RankedChain) -> str:
    """The chain's reason in the report's language, from the criteria the ranking named."""
    found = next((m for m in report.measures if m.chain_key == chain.chain_key), None)
    values = {k: (m.value, m.unit) for k, m in found.measures.items()} if found else {}
    return reason_text(chain, values, report.lang)


def render_pdf(report: StrategyReport) -> bytes:
    """The committee report as PDF bytes, byte-identical for the same ``report``."""
    register_fonts()
    lang = report.lang
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 6 * mm,
        bottomMargin=MARGIN + 4 * mm,
        title=f"{label('title', lang)} {report.region_label}",
        author=report.bank,
        subject=f"{report.region} {report.as_of.isoformat()}",
        creator="chainfin",
        invariant=1,
        lang="zh-CN" if lang_index(lang) == 0 else "en",
    )
    styles = _Styles(lang)
    # A frame pads its content by 6 points on each side.
    story = _story(report, styles, doc.width - 12)
    doc.build(story, canvasmaker=_canvas_class(report))
    return buffer.getvalue()


def _story(report: StrategyReport, s: _Styles, width: float) -> list[Flowable]:
    sections: list[list[Flowable]] = [
        _cover(report, s, width),
        _ranking_page(report, s, width),
        _quadrant_page(report, s, width),
        _measures_page(report, s, width),
        *(_map_page(report, chain_map, s, width) for chain_map in report.maps),
        _definitions_page(report, s),
        _sources_page(report, s, width),
    ]
    story: list[Flowable] = []
    for i, section in enumerate(sections):
        if i:
            story.append(PageBreak())
        story.extend(section)
    return story


# --- page furniture ---------------------------------------------------------------------


def _canvas_class(report: StrategyReport) -> type[Canvas]:
    """A canvas that holds its pages back until the end, so each footer can say "page n of
    m", and that stamps the document with ``report.generated_on``."""
    lang = report.lang
    on = report.generated_on
    stamp = f"D:{on.year:04d}{on.month:02d}{on.day:02d}000000+00'00'"

    class ReportCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.setDateFormatter(lambda *_: stamp)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for n, state in enumerate(self._held, start=1):
                self.__dict__.update(state)
                _furniture(self, report, lang, n, total)
                super().showPage()
            super().save()

    return ReportCanvas


def _furniture(canvas: Canvas, report: StrategyReport, lang: str, n: int, total: int) -> None:
    width, height = A4
    top = height - MARGIN + 2
    canvas.saveState()
    canvas.setStrokeColor(HEADER_RULE)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, top - 5, width - MARGIN, top - 5)
    canvas.line(MARGIN, MARGIN + 6, width - MARGIN, MARGIN + 6)
    canvas.setFillColor(MUTED)
    _canvas_text(canvas, MARGIN, top, f"{label('title', lang)} · {report.region_label}", 8)
    right = f"{label('as_of', lang)} {report.as_of.isoformat()}"
    _canvas_text(canvas, width - MARGIN - text_width(right, 8), top, right, 8)
    _canvas_text(canvas, MARGIN, MARGIN - 4, report.bank, 8)
    page = label("page_of", lang, n=n, m=total)
    _canvas_text(canvas, width - MARGIN - text_width(page, 8), MARGIN - 4, page, 8)
    canvas.restoreState()


def _canvas_text(canvas: Canvas, x: float, y: float, text: str, size: float) -> None:
    for font, piece in runs(text):
        canvas.setFont(font, size)
        canvas.drawString(x, y, piece)
        x += text_width(piece, size)


# --- helpers ----------------------------------------------------------------------------


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(markup(text), style)


def _table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    long: bool = True,
    extra: Sequence[tuple[Any, ...]] = (),
) -> Table:
    """A data table: a header row repeated on every page it spans, striped rows, cells that
    wrap (every cell is a Paragraph)."""
    cls = LongTable if long else Table
    table = cls(list(rows), colWidths=list(widths), repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, MUTED),
        ("LINEBELOW", (0, -1), (-1, -1), 0.4, HEADER_RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for r in range(2, len(rows), 2):
        commands.append(("BACKGROUND", (0, r), (-1, r), STRIPE))
    table.setStyle(TableStyle(commands + list(extra)))
    return table


def _head(texts: Sequence[str], s: _Styles, *, numbers_from: int | None = None) -> list[Paragraph]:
    """A header row; columns from ``numbers_from`` on hold numbers and align right."""
    return [
        _p(t, s.cell_head_right if numbers_from is not None and i >= numbers_from else s.cell_head)
        for i, t in enumerate(texts)
    ]


def _percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


WHOLE_WAN_FROM_MINOR = 10_000 * 10_000 * 100  # from 1 亿元 on, whole 万元 are precise enough


def _wan(minor: int) -> str:
    """Integer minor units (fen) in 万元, rounded half away from zero: one decimal below
    1 亿元, whole 万元 from there on (so a narrow column still holds the figure)."""
    sign = "-" if minor < 0 else ""
    if abs(minor) >= WHOLE_WAN_FROM_MINOR:
        return f"{sign}{(abs(minor) + 500_000) // 1_000_000:,}"
    tenths = (abs(minor) + 50_000) // 100_000
    return f"{sign}{tenths // 10:,}.{tenths % 10}"


def _lines(lines: Sequence[str], style: ParagraphStyle) -> Paragraph:
    return Paragraph("<br/>".join(markup(line) for line in lines) or "—", style)


def _ranked(report: StrategyReport) -> list[RankedChain]:
    return [c for c in report.ranking.chains if c.rank is not None]


def _coverage_lines(coverage: Coverage, lang: str, *, share: bool = True) -> list[str]:
    """The coverage in words: its share, the missing inputs, then its notes."""
    lines = [
        f"{label('coverage_share', lang)}: {_percent(coverage.share, 0)}"
        if share
        else _percent(coverage.share, 0)
    ]
    if coverage.inputs_missing:
        words = "; ".join(input_label(k, lang) for k in coverage.inputs_missing)
        lines.append(f"{label('missing_inputs', lang)}: {words}")
    lines.extend(note_text(n, lang) for n in coverage.notes)
    return lines


# --- page 1: cover and summary ----------------------------------------------------------


def _cover(report: StrategyReport, s: _Styles, width: float) -> list[Flowable]:
    lang = report.lang
    out: list[Flowable] = [
        Spacer(1, 18 * mm),
        _p(label("title", lang), s.title),
        _p(label("subtitle", lang), s.subtitle),
    ]
    facts = [
        (label("bank", lang), report.bank),
        (label("region", lang), f"{report.region_label} ({report.region})"),
        (label("as_of", lang), report.as_of.isoformat()),
        (label("generated_on", lang), report.generated_on.isoformat()),
        (label("coverage_share", lang), _percent(report.ranking.coverage.share, 0)),
    ]
    fact_table = Table(
        [[_p(k, s.cell_head), _p(v, s.body)] for k, v in facts],
        colWidths=[36 * mm, width - 36 * mm],
    )
    fact_table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, HEADER_RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    out += [fact_table, Spacer(1, 8 * mm), _p(label("top_chains", lang), s.h1)]
    top = _ranked(report)[:TOP_CHAINS]
    if top:
        rows: list[list[Any]] = [
            _head([label("rank", lang), label("chain", lang), label("reason", lang)], s)
        ]
        for chain in top:
            name = Paragraph(
                f"{markup(chain.name)}<br/>"
                f'<font size="7" color="#7b8794">{markup(kind_label(chain.kind, lang))}</font>',
                s.cell_head,
            )
            why = _why(report, chain)
            rows.append([_p(str(chain.rank), s.cell_center), name, _p(why or "—", s.cell)])
        out.append(_table(rows, [14 * mm, 52 * mm, width - 66 * mm], long=False))
    else:
        out.append(_p(label("no_chains", lang), s.warn))
    out += [Spacer(1, 6 * mm), _p(label("sources", lang), s.h2)]
    out.append(
        _p(f"{label('coverage_share', lang)}: {_percent(report.ranking.coverage.share, 0)}", s.body)
    )
    if report.missing:
        out.append(_p(label("missing_lead", lang), s.body))
        out.extend(_p(f"• {input_label(k, lang)}", s.body) for k in report.missing)
    else:
        out.append(_p(label("none_missing", lang), s.body))
    return out


# --- page 2: ranking --------------------------------------------------------------------


def _ranking_page(report: StrategyReport, s: _Styles, width: float) -> list[Flowable]:
    lang = report.lang
    ranking = report.ranking
    out: list[Flowable] = [_p(label("ranking", lang), s.h1)]
    if not ranking.chains:
        return [*out, _p(label("no_chains", lang), s.warn)]
    out.append(
        _p(
            label(
                "ranking_note" if ranking.weights.subjective else "ranking_note_entropy",
                lang,
                noise=round(ranking.noise * 100),
                draws=ranking.draws,
                seed=ranking.seed,
            ),
            s.small,
        )
    )
    rows: list[list[Any]] = [
        _head(
            [
                label("rank", lang),
                label("chain", lang),
                label("kind", lang),
                label("score", lang),
                label("interval", lang),
                label("quadrant", lang),
                label("reason", lang),
            ],
            s,
        )
    ]
    for chain in ranking.chains:
        excluded = chain.rank is None
        interval = (
            f"{chain.rank_low}–{chain.rank_high}"
            if chain.rank_low is not None and chain.rank_high is not None
            else "—"
        )
        quadrant = label(chain.quadrant, lang) if chain.quadrant in QUADRANT_COLOURS else "—"
        reason = _why(report, chain)
        if excluded:
            quadrant = label("excluded", lang)
            reason = "; ".join(chain.excluded_by) or chain.reason
        rows.append(
            [
                _p("—" if excluded else str(chain.rank), s.cell_center),
                _p(chain.name, s.cell),
                _p(kind_label(chain.kind, lang), s.cell),
                _p("—" if chain.score is None else f"{chain.score:.3f}", s.cell_right),
                _p(interval, s.cell_center),
                _p(quadrant, s.cell),
                _p(reason or "—", s.cell),
            ]
        )
    fixed = [11 * mm, 34 * mm, 22 * mm, 13 * mm, 16 * mm, 16 * mm]
    out += [_table(rows, [*fixed, width - sum(fixed)]), Spacer(1, 6 * mm)]
    ranked = _ranked(report)
    for start in range(0, len(ranked), CHART_ROWS):
        out.append(
            rank_interval_chart(ranked[start : start + CHART_ROWS], lang, width, total=len(ranked))
        )
    return out


# --- page 3: quadrant and weights -------------------------------------------------------


def _quadrant_page(report: StrategyReport, s: _Styles, width: float) -> list[Flowable]:
    lang = report.lang
    ranking = report.ranking
    out: list[Flowable] = [_p(f"{label('quadrant_title', lang)} · {label('weights', lang)}", s.h1)]
    plotted = [c for c in ranking.chains if c.attractiveness is not None and c.ability is not None]
    if plotted:
        chart = quadrant_chart(plotted, lang, min(width, 128 * mm))
        holder = Table([[chart]], colWidths=[width])
        holder.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER")]))
        out.append(holder)
    else:
        out.append(_p(label("no_quadrant", lang), s.warn))
    out.append(_p(label("weights", lang), s.h2))
    weights = ranking.weights
    keys = list(ranking.criteria) or [c.key for c in CRITERIA]
    rows: list[list[Any]] = [
        _head(
            [
                label("criterion", lang),
                label("group", lang),
                label("entropy", lang),
                label("subjective", lang),
                label("final", lang),
            ],
            s,
            numbers_from=2,
        )
    ]
    for key in keys:
        criterion = BY_KEY.get(key)
        group = label(criterion.group, lang) if criterion else "—"
        subjective = weights.subjective.get(key) if weights.subjective else None
        rows.append(
            [
                _p(criterion_label(key, lang), s.cell),
                _p(group, s.cell),
                _p(_percent(weights.entropy.get(key)), s.cell_right),
                _p(_percent(subjective), s.cell_right),
                _p(_percent(weights.final.get(key)), s.cell_right),
            ]
        )
    fixed = [22 * mm] * 4
    out += [_table(rows, [width - sum(fixed), *fixed]), Spacer(1, 3 * mm)]
    if weights.subjective_method == "ahp" and weights.consistency_ratio is not None:
        out.append(_p(label("method_ahp", lang, cr=f"{weights.consistency_ratio:.3f}"), s.body))
    elif weights.subjective_method == "direct":
        out.append(_p(label("method_direct", lang), s.body))
    else:
        out.append(_p(label("method_none", lang), s.body))
    out.append(_p(label("blend", lang, blend=round(weights.blend * 100)), s.body))
    return out


# --- page 4: measures -------------------------------------------------------------------


def _format_measure(measure: Measure | None) -> str:
    if measure is None or measure.value is None or measure.basis == "missing":
        return "—"
    value = measure.value
    if measure.unit in ("share", "rate"):
        text = f"{value * 100:.1f}%"
    elif measure.unit == "CNY":  # money-valued measures are in yuan
        text = _wan(round(value * 100))
    elif measure.unit == "count":
        text = f"{value:,.0f}"
    else:
        text = f"{value:.3f}"
    return f"{text} †" if measure.basis == "fallback" else text


def _measures_table(report: StrategyReport, keys: Sequence[str], s: _Styles, width: float) -> Table:
    lang = report.lang
    name_w = 24 * mm
    col = (width - name_w) / max(len(keys), 1)
    head = [label("chain", lang)] + [measure_label(k, lang) for k in keys]
    rows: list[list[Any]] = [[_p(t, s.measure_head) for t in head]]
    for chain in report.measures:
        rows.append(
            [_p(chain.name, s.cell)]
            + [_p(_format_measure(chain.measures.get(k)), s.measure_cell) for k in keys]
        )
    # Narrow padding so the longest English header word (Delinquency) fits its column.
    narrow = [("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)]
    return _table(rows, [name_w] + [col] * len(keys), extra=narrow)


def _measures_page(report: StrategyReport, s: _Styles, width: float) -> list[Flowable]:
    lang = report.lang
    out: list[Flowable] = [_p(label("measures", lang), s.h1)]
    if not report.measures:
        return [*out, _p(label("no_chains", lang), s.warn)]
    groups = (
        ("measures_attr", [c.key for c in CRITERIA if c.group == "attractiveness"]),
        ("measures_ability", [c.key for c in CRITERIA if c.group == "ability"]),
        ("measures_info", list(INFORMATIONAL)),
    )
    for title, keys in groups:
        out += [_p(label(title, lang), s.h2), _measures_table(report, keys, s, width)]
    out += [Spacer(1, 3 * mm), _p(label("legend", lang), s.small)]
    return out


# --- pages 5+: one per chain map ----------------------------------------------------------


def _segment_cell(node: SegmentNode, lang: str, s: _Styles) -> Paragraph:
    name = node.label_zh if lang_index(lang) == 0 else node.label_en
    noun = label("firm" if node.firm_count == 1 else "firms", lang)
    marks = [f"{node.firm_count} {noun}"]
    if node.critical:
        marks.append(f"★ {label('critical', lang)}")
    if node.single_source:
        marks.append(f"◆ {label('single_source', lang)}")
    if not node.present:
        marks.append(label("absent", lang))
    colour = "#1f2933" if node.present else "#7b8794"
    return Paragraph(
        f'<font name="{LATIN_BOLD}" color="{colour}">{markup(node.division)}</font> '
        f'<font color="{colour}">{markup(name)}</font><br/>'
        f'<font size="6.8" color="#52606d">{markup(" · ".join(marks))}</font>',
        s.segment,
    )


def _segment_box(node: SegmentNode, lang: str, s: _Styles, width: float) -> Table:
    """One segment as a box: solid when present, dashed when it has too few firms, tinted
    when critical."""
    box = Table([[_segment_cell(node, lang, s)]], colWidths=[width])
    dash = None if node.present else (2, 2)
    commands: list[tuple[Any, ...]] = [
        ("BOX", (0, 0), (-1, -1), 0.6, MUTED, None, dash),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    if node.critical:
        commands.append(("BACKGROUND", (0, 0), (-1, -1), WARN_FILL))
    box.setStyle(TableStyle(commands))
    return box


def _segment_tree(chain_map: ChainMap, lang: str, s: _Styles, width: float) -> Table:
    """Three columns, upstream → midstream → downstream, each a stack of segment boxes.
    Row r holds the r-th segment of each stage, so a long tree splits across pages with
    its stage headings repeated."""
    arrow_w = 7 * mm
    col = (width - 2 * arrow_w) / 3
    by_stage = [[n for n in chain_map.segments if n.stage == stage] for stage in STAGE_ORDER]
    head: list[Any] = []
    for c, stage in enumerate(STAGE_ORDER):
        head.append(_p(label(stage, lang), s.cell_head))
        if c < 2:
            head.append(_p("→", s.cell_center))
    rows: list[list[Any]] = [head]
    for r in range(max(1, *(len(nodes) for nodes in by_stage))):
        row: list[Any] = []
        for c, nodes in enumerate(by_stage):
            if r < len(nodes):
                row.append([_segment_box(nodes[r], lang, s, col), Spacer(1, 4)])
            else:
                row.append(_p(label("no_segments", lang), s.small) if r == 0 else "")
            if c < 2:
                row.append(_p("→", s.cell_center) if r == 0 else "")
        rows.append(row)
    table = Table(rows, colWidths=[col, arrow_w, col, arrow_w, col], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, 0), HEAD_FILL),
                ("BACKGROUND", (2, 0), (2, 0), HEAD_FILL),
                ("BACKGROUND", (4, 0), (4, 0), HEAD_FILL),
                ("LEFTPADDING", (0, 1), (-1, -1), 0),
                ("RIGHTPADDING", (0, 1), (-1, -1), 0),
                ("TOPPADDING", (0, 1), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 1), (-1, -1), 0),
                ("TOPPADDING", (0, 1), (-1, 1), 5),
            ]
        )
    )
    return table


def _freshness_badge(chain_map: ChainMap, lang: str, s: _Styles, width: float) -> Table:
    key = chain_map.freshness if chain_map.freshness in FRESHNESS_COLOURS else "unknown"
    badge = Paragraph(
        f'<font color="#ffffff" name="{LATIN_BOLD}">{markup(label(key, lang))}</font>',
        s.cell_center,
    )
    detail = (
        label("fresh_share", lang, share=round(chain_map.fresh_share * 100))
        if chain_map.links
        else label("unknown", lang)
    )
    table = Table(
        [[_p(label("freshness", lang), s.cell_head), badge, _p(detail, s.cell)]],
        colWidths=[26 * mm, 26 * mm, width - 52 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (1, 0), (1, 0), FRESHNESS_COLOURS[key]),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _leads_table(leads: Sequence[Lead], lang: str, s: _Styles, width: float) -> Table:
    rows: list[list[Any]] = [
        _head(
            [
                label("lead_name", lang),
                label("tier", lang),
                label("trade_12m", lang),
                label("financeable", lang),
                label("limit", lang),
                label("score", lang),
            ],
            s,
            numbers_from=2,
        )
    ]
    for lead in leads:
        side = label(f"side_{lead.side}", lang) if f"side_{lead.side}" in _SIDES else lead.side
        rows.append(
            [
                _p(lead.name, s.cell),
                _p(f"{side} {lead.tier}", s.cell),
                _p(_wan(lead.trade_volume_minor), s.cell_right),
                _p(_wan(lead.financeable_minor), s.cell_right),
                _p(_wan(lead.indicative_limit_minor), s.cell_right),
                _p(f"{lead.score:.1f}", s.cell_right),
            ]
        )
    fixed = [20 * mm, 25 * mm, 25 * mm, 25 * mm, 14 * mm]
    return _table(rows, [width - sum(fixed), *fixed])


_SIDES = {"side_core", "side_upstream", "side_downstream"}


def _map_page(
    report: StrategyReport, chain_map: ChainMap, s: _Styles, width: float
) -> list[Flowable]:
    lang = report.lang
    local = sum(1 for f in chain_map.firms if f.in_region)
    out: list[Flowable] = [
        _p(f"{label('map', lang)}: {chain_map.name}", s.h1),
        _p(
            f"{kind_label(chain_map.kind, lang)} · {report.region_label} · "
            f"{chain_map.as_of.isoformat()}",
            s.small,
        ),
        _freshness_badge(chain_map, lang, s, width),
        Spacer(1, 2 * mm),
        _p(
            label(
                "map_counts",
                lang,
                firms=len(chain_map.firms),
                links=len(chain_map.links),
                local=local,
            ),
            s.body,
        ),
    ]
    if chain_map.coverage.share < 1:
        out.append(_p(label("incomplete", lang), s.warn))
    out += [
        _p(f"{label('map_coverage', lang)}: {line}" if i == 0 else f"• {line}", s.small)
        for i, line in enumerate(_coverage_lines(chain_map.coverage, lang, share=False))
    ]
    out += [
        Spacer(1, 2 * mm),
        _segment_tree(chain_map, lang, s, width),
        Spacer(1, 2 * mm),
        _p(label("map_legend", lang), s.small),
    ]
    out.append(_p(label("leads", lang), s.h2))
    leads = report.leads.get(chain_map.chain_key, ())
    out.append(
        _leads_table(leads, lang, s, width) if leads else _p(label("no_leads", lang), s.body)
    )
    return out


# --- definitions and sources --------------------------------------------------------------


def _definitions_page(report: StrategyReport, s: _Styles) -> list[Flowable]:
    lang = report.lang
    out: list[Flowable] = [_p(label("definitions", lang), s.h1)]
    for criterion in CRITERIA:
        out.append(
            Paragraph(
                f'<font name="{LATIN_BOLD}" color="#1d4ed8">'
                f"{markup(criterion_label(criterion.key, lang))}</font>"
                f"　{markup(definition(criterion.key, lang))}",
                s.body,
            )
        )
    out.append(_p(label("legend", lang), s.small))
    return out


def _sources_page(report: StrategyReport, s: _Styles, width: float) -> list[Flowable]:
    lang = report.lang
    out: list[Flowable] = [_p(label("sources", lang), s.h1)]
    if report.sources:
        rows: list[list[Any]] = [
            _head([label("source_input", lang), label("source_from", lang)], s)
        ]
        rows += [
            [_p(input_label(k, lang), s.cell), _p(v, s.cell)]
            for k, v in sorted(report.sources.items())
        ]
        out.append(_table(rows, [60 * mm, width - 60 * mm]))
    else:
        out.append(_p(label("no_sources", lang), s.body))
    out.append(_p(label("missing_inputs", lang), s.h2))
    if report.missing:
        out.extend(_p(f"• {input_label(k, lang)}", s.body) for k in report.missing)
    else:
        out.append(_p(label("none_missing", lang), s.body))
    out.append(_p(label("ranking_coverage", lang), s.h2))
    coverage = report.ranking.coverage
    if coverage.inputs_present:
        present = "; ".join(input_label(k, lang) for k in coverage.inputs_present)
        out.append(_p(f"{label('inputs_present', lang)}: {present}", s.body))
    out.extend(_p(line, s.body) for line in _coverage_lines(coverage, lang))
    if report.maps:
        out.append(_p(label("maps_coverage", lang), s.h2))
        rows = [
            _head(
                [
                    label("chain", lang),
                    label("coverage_share", lang),
                    label("freshness", lang),
                    label("notes", lang),
                ],
                s,
            )
        ]
        for chain_map in report.maps:
            notes = [note_text(n, lang) for n in chain_map.coverage.notes] + [
                f"{label('missing_inputs', lang)}: {input_label(k, lang)}"
                for k in chain_map.coverage.inputs_missing
            ]
            fresh = chain_map.freshness if chain_map.freshness in FRESHNESS_COLOURS else "unknown"
            rows.append(
                [
                    _p(chain_map.name, s.cell),
                    _p(_percent(chain_map.coverage.share, 0), s.cell_right),
                    _p(label(fresh, lang), s.cell),
                    _lines(notes, s.cell),
                ]
            )
        fixed = [40 * mm, 18 * mm, 22 * mm]
        out.append(_table(rows, [*fixed, width - sum(fixed)]))
    out += [
        Spacer(1, 4 * mm),
        _p(label("complete_warning", lang), s.warn),
        _p(
            label(
                "report_date",
                lang,
                as_of=report.as_of.isoformat(),
                generated_on=report.generated_on.isoformat(),
            ),
            s.body,
        ),
    ]
    return out


__all__ = ["render_pdf"]
