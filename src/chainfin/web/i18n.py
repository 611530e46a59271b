"""The pages' languages: Simplified Chinese by default, English on request.

Messages live in gettext catalogues, ``locale/<locale>/LC_MESSAGES/messages.po`` (domain
``messages``), read and compiled in memory when this module loads: no ``.mo`` file is kept
in the tree. ``babel.cfg`` beside this module is the extraction mapping
(``pybabel extract -F src/chainfin/web/babel.cfg src/chainfin/web``); a test extracts with it
and fails on any message missing or empty in either catalogue.

A person picks the language with ``?lang=zh-CN`` or ``?lang=en`` on any page; the choice is
kept in the ``lang`` cookie. Amounts and dates are written the way each locale writes them:

>>> from datetime import date
>>> LANGUAGES["zh-CN"].money("1234567.89", "CNY"), LANGUAGES["zh-CN"].long_date(date(2026, 12, 7))
('¥1,234,567.89', '2026年12月7日')
>>> LANGUAGES["en"].long_date(date(2026, 12, 7))
'December 7, 2026'
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date, format_datetime, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

from chainfin.domain.clock import SHANGHAI

DOMAIN = "messages"
LOCALE_DIR = Path(__file__).parent / "locale"
COOKIE = "lang"
DEFAULT = "zh-CN"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    """Mark a message for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Language:
    """One language of the pages: its ``<html lang>`` tag, Babel locale and messages."""

    tag: str  # BCP 47, as <html lang> and ?lang= write it
    locale: str  # Babel's and the catalogue folder's name
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def money(self, amount: str | Decimal | int, currency: str = "CNY") -> str:
        """A decimal amount in major units (the resources' strings) with its currency."""
        return format_currency(Decimal(amount), currency, locale=self.locale)

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def long_date(self, value: date | None) -> str:
        return "" if value is None else format_date(value, format="long", locale=self.locale)

    def last_day(self, value: datetime | None) -> str:
        """The last day an instant-bounded period covers, in Beijing: a consent that expires
        at midnight after 30 June is valid until 30 June (inclusive)."""
        if value is None:
            return ""
        local = value.astimezone(SHANGHAI)
        day = local.date() - timedelta(days=1) if local.time() == time() else local.date()
        return self.long_date(day)

    def month(self, value: date) -> str:
        """A month and its year: 2027年2月, Feb 2027."""
        return format_skeleton("yMMM", value, locale=self.locale)

    def instant(self, value: datetime | None) -> str:
        """An instant in China Standard Time, as people in the bank's country read it."""
        if value is None:
            return ""
        return format_datetime(value, format="medium", tzinfo=SHANGHAI, locale=self.locale)


def _load(locale: str) -> gettext.NullTranslations:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as fh:
        catalogue = read_po(fh, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


LANGUAGES: Mapping[str, Language] = {
    tag: Language(tag, locale, _load(locale)) for tag, locale in (("zh-CN", "zh_CN"), ("en", "en"))
}


def choose(query: str | None, cookie: str | None) -> tuple[Language, bool]:
    """The language a request asks for (``?lang=`` first, then the cookie, then Chinese),
    and whether the cookie should be set to it."""
    if query is not None and query in LANGUAGES:
        return LANGUAGES[query], query != cookie
    if cookie is not None and cookie in LANGUAGES:
        return LANGUAGES[cookie], False
    return LANGUAGES[DEFAULT], False
