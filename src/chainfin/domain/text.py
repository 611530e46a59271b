"""Text a person or a machine sent us: the one rule for what characters it may carry.

Names, references, notes and every other text field that arrives from outside pass through
:func:`check_text` before they are stored, so that what is shown on a page, printed in a
terminal, written into a filing or compared by a checker is what it appears to be:

* control characters (Unicode category Cc: NUL, ESC that starts an ANSI escape sequence,
  DEL, C1 controls) are refused; tab, line feed and carriage return only in multi-line text
  (notes, reasons, findings), never in a name or a reference;
* the bidirectional formatting characters that reorder what is displayed (U+202A-U+202E
  embeddings and overrides, U+2066-U+2069 isolates: the "Trojan Source" characters) are
  refused;
* lone surrogates (category Cs, which JSON can smuggle in as ``"\\ud800"``) are refused:
  they are not text and no database can store them.

Everything else, every script and every symbol, is allowed. docs/security.md ("Input")
states the rule for API users.

>>> check_text("苏州新能源科技有限公司") is None
True
>>> check_text("ACME\\u202egnp.exe")
'U+202E RIGHT-TO-LEFT OVERRIDE at position 5: bidirectional control characters are not allowed'
>>> check_text("line one\\nline two") is not None, check_text("a\\nb", multiline=True)
(True, None)
"""

from __future__ import annotations

import re
import unicodedata

BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
MULTILINE_ALLOWED = frozenset("\t\n\r")

# One C-speed search finds the first character that needs a closer look: C0 and C1 controls,
# DEL, the bidi controls and surrogates. Ordinary text never matches.
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

_NAMES = {
    "\x00": "NUL",
    "\t": "TAB",
    "\n": "LINE FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
}


def _describe(char: str) -> str:
    name = _NAMES.get(char) or unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} {name}" if name else code


def check_text(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` may not be stored, or None when it may. ``multiline`` allows tab, line
    feed and carriage return (and only those) among the control characters."""
    for match in _SUSPECT.finditer(text):
        char = match.group()
        if multiline and char in MULTILINE_ALLOWED:
            continue
        where = f"{_describe(char)} at position {match.start() + 1}"
        if char in BIDI_CONTROLS:
            return f"{where}: bidirectional control characters are not allowed"
        if "\ud800" <= char <= "\udfff":
            return f"{where}: a lone surrogate is not text"
        if char in MULTILINE_ALLOWED:
            return f"{where}: must be a single line"
        return f"{where}: control characters are not allowed"
    return None
