"""Fonts of the committee report: Helvetica for Latin text, STSong-Light for Chinese.

STSong-Light is one of the CID fonts every PDF reader that shows Chinese supplies (Adobe's
Asian font packs, poppler-data, pdf.js's CMaps), so the PDF names it without embedding a
font file and stays small. Helvetica is one of the 14 standard PDF fonts. A piece of text is
cut into runs: characters Helvetica can draw (Windows-1252) stay in Helvetica, everything
else (Chinese, ★, ≥, →) goes to STSong-Light, so neither font ever shows a missing glyph.
"""

from __future__ import annotations

from functools import cache
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"


@cache
def register_fonts() -> None:
    """Register the CID font once per process (reportlab keeps a global registry)."""
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _latin(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def runs(text: str, *, bold: bool = False) -> list[tuple[str, str]]:
    """``text`` as (font name, piece) runs, each piece drawable in its font."""
    latin = LATIN_BOLD if bold else LATIN_FONT
    out: list[tuple[str, str]] = []
    for char in text:
        font = latin if _latin(char) else CJK_FONT
        if out and out[-1][0] == font:
            out[-1] = (font, out[-1][1] + char)
        else:
            out.append((font, char))
    return out


def markup(text: str) -> str:
    """``text`` as Paragraph markup: escaped, its non-Latin runs in the CJK font (the
    paragraph's own font is Helvetica or Helvetica-Bold)."""
    pieces = []
    for font, piece in runs(text):
        if font == CJK_FONT:
            pieces.append(f'<font face="{CJK_FONT}">{escape(piece)}</font>')
        else:
            pieces.append(escape(piece))
    return "".join(pieces)


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    register_fonts()
    return float(sum(pdfmetrics.stringWidth(p, f, size) for f, p in runs(text, bold=bold)))


def fit(text: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis so it fits ``width`` points (for chart labels; the
    tables beside the charts show the whole name)."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"
