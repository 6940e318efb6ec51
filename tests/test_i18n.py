"""Languages: the Ukrainian catalogue covers every message, and formats follow each locale."""

import datetime as dt

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.i18n import Formats, from_accept_language
from app.settings import PROJECT_ROOT

KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extracted_messages() -> set[str]:
    """Every message in app/ and templates/, extracted the way scripts/messages does."""
    with (PROJECT_ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    return {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            PROJECT_ROOT, method_map, options_map, keywords=KEYWORDS
        )
    }


def test_ukrainian_catalogue_translates_every_message() -> None:
    with (PROJECT_ROOT / "locale/uk/LC_MESSAGES/messages.po").open("rb") as source:
        catalogue = read_po(source, locale="uk")
    translated = {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalogue
        if message.id
        and message.string
        and not message.fuzzy
        and all(message.string if isinstance(message.string, tuple) else [message.string])
    }
    missing = extracted_messages() - translated
    assert missing == set(), "run scripts/messages and translate the new entries"


@pytest.mark.parametrize(
    ("locale", "count", "percent", "date"),
    [
        ("en", "1,000", "39.0\u00a0%", "25 May 2025"),
        ("uk", "1\u00a0000", "39,0\u00a0%", "25 травня 2025\u202fр."),
    ],
)
def test_numbers_and_dates_follow_the_locale(
    locale: str, count: str, percent: str, date: str
) -> None:
    formats = Formats(locale)
    assert formats.count(1000) == count
    assert formats.percent(39.0) == percent
    assert formats.date(dt.date(2025, 5, 25)) == date
    assert (formats.count(None), formats.percent(None), formats.date(None)) == ("", "", "")


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("uk-UA,uk;q=0.9,en;q=0.8", "uk"),
        ("en-GB,en;q=0.9,uk;q=0.8", "en"),
        ("de-DE, fr;q=0.5", "en"),
        ("en;q=0.3, uk;q=0.7", "uk"),
        ("uk;q=0, en;q=0.1", "en"),
        ("uk;q=abc", "en"),
        ("", "en"),
    ],
)
def test_accept_language_picks_the_best_supported(header: str, locale: str) -> None:
    assert from_accept_language(header) == locale
