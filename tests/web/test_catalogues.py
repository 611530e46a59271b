"""The pages' Chinese and English catalogues are complete, and nothing a person reads in a
template escapes them. No browser needed.

- Every message Babel extracts from src/chainfin/web (with the mapping in
  src/chainfin/web/babel.cfg: templates through ``jinja2.ext:babel_extract``, Python
  through the python extractor and its default keywords ``_``, ``gettext``, ``ngettext``,
  ``N_``, …) has a translation in both catalogues that is neither empty nor fuzzy (a fuzzy
  entry is not compiled, so the page would show the msgid).
- No template has text with letters outside ``{% trans %}``/``_()``: its text nodes and the
  attributes people read or hear (``title``, ``alt``, ``placeholder``, ``aria-label``, a
  button's ``value``) are checked once every Jinja tag, expression and comment is taken
  out. Only the brand and URL paths may stand as they are (:data:`UNTRANSLATED`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "chainfin" / "web"
MAPPING = WEB / "babel.cfg"
TEMPLATES = WEB / "templates"
LOCALES = ("zh_CN", "en")

UNTRANSLATED = re.compile(r"\bchainfin\b|(?<!\w)/[\w./{}?=&-]*")
"""Text that stays as it is in every language: the product's name and URL paths."""

READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description"}
BUTTON_INPUTS = {"submit", "button", "reset"}

# Jinja, taken out before the HTML is read: a whole {% trans %} block, comments, {{ … }}
# expressions and {% … %} statements.
JINJA = re.compile(
    r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}|{#.*?#}|{{.*?}}|{%.*?%}",
    re.S,
)

Message = str | tuple[str, ...]


def _mapping() -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    if not MAPPING.exists():
        pytest.fail(f"{MAPPING.relative_to(ROOT)} is missing: the extraction mapping")
    with MAPPING.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(MAPPING))
    return method_map, options_map


def extracted() -> dict[tuple[str, str | None], list[str]]:
    """(msgid, context) -> where each extracted message is used (file:line)."""
    method_map, options_map = _mapping()
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(WEB), method_map, options_map
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def catalogue(locale: str) -> Catalog:
    path = WEB / "locale" / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing")
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def untranslated(catalog: Catalog, messages: dict[tuple[str, str | None], list[str]]) -> list[str]:
    problems = []
    for (msgid, context), where in sorted(messages.items(), key=lambda kv: kv[1][0]):
        entry = catalog.get(msgid, context)
        if entry is None:
            why = "missing"
        elif entry.fuzzy:
            why = "fuzzy (not compiled)"
        elif isinstance(entry.string, tuple | list):
            why = "a plural form is empty" if not all(entry.string) else ""
        else:
            why = "" if entry.string else "empty msgstr"
        if why:
            problems.append(f"{where[0]}: {msgid!r}: {why}")
    return problems


def test_the_checker_finds_missing_empty_fuzzy_and_half_plural_messages() -> None:
    catalog = Catalog(locale="zh_CN")
    catalog.add("Held", "持有中")
    catalog.add("Accept", "")
    catalog.add("Reject", "拒收", flags=["fuzzy"])
    catalog.add(("%(n)s piece", "%(n)s pieces"), ("",))
    catalog.add("Open", "打开", context="menu")
    used = {
        (m, c): [f"t.html:{i}"]
        for i, (m, c) in enumerate(
            [
                ("Held", None),
                ("Accept", None),
                ("Reject", None),
                ("%(n)s piece", None),
                ("Open", "menu"),
                ("Open", None),
                ("Split", None),
            ]
        )
    }
    assert untranslated(catalog, used) == [
        "t.html:1: 'Accept': empty msgstr",
        "t.html:2: 'Reject': fuzzy (not compiled)",
        "t.html:3: '%(n)s piece': a plural form is empty",
        "t.html:5: 'Open': missing",
        "t.html:6: 'Split': missing",
    ]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(locale: str) -> None:
    messages = extracted()
    assert messages, "Babel extracted no messages from src/chainfin/web"
    problems = untranslated(catalogue(locale), messages)
    assert not problems, f"{len(problems)} untranslated in {locale}:\n" + "\n".join(problems)


# ---------------------------------------------------------------------------- templates


def _blank(match: re.Match[str]) -> str:
    """A Jinja construct becomes a space (the text around it stays two words) plus its
    newlines, so that line numbers stay right."""
    return " " + "\n" * match.group(0).count("\n")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str, str]] = []  # line, what, its text
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        values = dict(attrs)
        for name, value in attrs:
            read = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in BUTTON_INPUTS
            )
            if read and value:
                self.found.append((self.getpos()[0], f"{name}={value!r}", value))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.found.append((self.getpos()[0], data.strip(), data))


def bare_text(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) for every piece of text with letters outside the catalogue."""
    parser = _Text()
    parser.feed(JINJA.sub(_blank, source))
    parser.close()
    for line, what, text in parser.found:
        if any(ch.isalpha() for ch in UNTRANSLATED.sub(" ", text)):
            yield line, what


def test_the_checker_finds_bare_text_and_passes_translated_text() -> None:
    source = """<h1>{% trans %}Credentials{% endtrans %}</h1>
<p>{{ _("Held") }} {{ amount|money }}</p>
<label>Amount <input name="amount" placeholder="{{ _('e.g. 1000') }}"></label>
<button title="Split">{{ _("Split") }}</button>
<a href="/docs">/docs</a> chainfin ·
<p>待接受</p>{# a comment with words #}"""
    assert list(bare_text(source)) == [(3, "Amount"), (4, "title='Split'"), (6, "待接受")]


def test_no_template_has_text_outside_the_catalogue() -> None:
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert templates
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in templates
        for line, text in bare_text(path.read_text(encoding="utf-8"))
    ]
    assert not problems, "text outside {% trans %}/_():\n" + "\n".join(problems)
