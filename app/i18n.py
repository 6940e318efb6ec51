"""Languages: which one a request gets, its gettext catalogue, and its number and date formats."""

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from starlette.requests import Request

LOCALES = ("en", "uk")
DEFAULT_LOCALE = "en"
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
# "25 May 2025" rather than the US "May 25, 2025"; Ukrainian uses its own long form.
DATE_PATTERNS = {"en": "d MMMM y", "uk": "long"}


def N_(message: str) -> str:
    """Mark a message for the catalogue; pages translate it when they show it."""
    return message


def load_translations(locale_dir: Path) -> dict[str, NullTranslations]:
    """Compile each locale's .po catalogue in memory, so no build output is kept in the repo."""
    catalogues: dict[str, NullTranslations] = {DEFAULT_LOCALE: NullTranslations()}
    for locale in LOCALES:
        if locale == DEFAULT_LOCALE:
            continue
        po_file = locale_dir / locale / "LC_MESSAGES" / "messages.po"
        with po_file.open("rb") as source:
            catalogue = read_po(source, locale=locale)
        compiled = io.BytesIO()
        write_mo(compiled, catalogue)
        compiled.seek(0)
        catalogues[locale] = Translations(compiled)
    return catalogues


def negotiate(request: Request) -> tuple[str, bool]:
    """The request's language: ?lang=, then the cookie, then Accept-Language.

    Returns the locale and whether it was chosen explicitly (so the cookie should remember it).
    """
    asked = request.query_params.get("lang", "")
    if asked in LOCALES:
        return asked, True
    remembered = request.cookies.get(LANG_COOKIE, "")
    if remembered in LOCALES:
        return remembered, False
    return from_accept_language(request.headers.get("accept-language", "")), False


def from_accept_language(header: str) -> str:
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        language, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = language.strip().lower().split("-")[0]
        if primary in LOCALES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LOCALE


@dataclass(frozen=True)
class Formats:
    """Numbers and dates in one locale's conventions (1,000 / 1 000; 25 May 2025 / 25 травня)."""

    locale: str

    def count(self, value: int | None) -> str:
        return "" if value is None else format_decimal(value, locale=self.locale)

    def percent(self, value: float | None) -> str:
        if value is None:
            return ""
        return format_decimal(value, format="#,##0.0", locale=self.locale) + "\u00a0%"

    def date(self, value: dt.date | str | None) -> str:
        """A day in words; a stored record's days are ISO text."""
        if value is None or value == "":
            return ""
        day = dt.date.fromisoformat(value) if isinstance(value, str) else value
        return format_date(day, DATE_PATTERNS[self.locale], locale=self.locale)

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return ""
        clock = format_datetime(value, "HH:mm", tzinfo=dt.UTC, locale=self.locale)
        return f"{self.date(value.astimezone(dt.UTC).date())}, {clock} UTC"
