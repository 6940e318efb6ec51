"""What the editors' forms share: reading typed text as counts, dates, lists and rows, and the
schemas' messages worded as the catalogue has them, beside the form field each error names."""

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.i18n import N_

COUNTS = ("military", "civilian", "people", "remains")
SOURCE_FIELDS = ("url", "publisher", "announcer", "speaks_for", "published_at", "claim")
MAX_ROWS = 50  # rows of one kind a form may send: more is not an exchange, it is an attack
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,100}")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# ---- messages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """What is wrong with a field: a catalogue message and its values, translated when shown,
    or (`known` false) a text the catalogue does not hold, shown as it is."""

    msgid: str
    params: tuple[tuple[str, str], ...] = ()
    known: bool = True

    @property
    def values(self) -> dict[str, str]:
        return dict(self.params)

    def __str__(self) -> str:
        return self.msgid % self.values if self.params else self.msgid


# The schemas' own messages (app/models.py, app/writes.py and pydantic's), word for word, so
# that the catalogue translates them: an editor reads what the API and the importer say.
SCHEMA_MESSAGES = (
    N_("swaps tracked here start in 2014"),
    N_("cannot be later than tomorrow"),
    N_("people (%(people)s) must equal military + civilian (%(parts)s)"),
    N_("people cannot be fewer than the military and civilian counts given"),
    N_("remains are counted in `remains`; living people in a living row"),
    N_("a living row has no remains: give them a row of kind remains"),
    N_("a category name has 1 to 60 characters"),
    N_("category %(name)s must be from 0 to %(limit)s"),
    N_("a party cannot release people to itself"),
    N_("category %(name)s (%(count)s) is more than the total (%(total)s)"),
    N_("must be an http:// or https:// address"),
    N_("a published stage needs at least one source"),
    N_("%(party)s is not a party of this exchange (%(parties)s)"),
    N_("say why the published figures change; readers see it as a correction"),
    N_("one target per receiving party"),
    N_("an exchange has at least two parties"),
    N_("each party once"),
    N_("party slug: use lowercase letters, digits and single hyphens"),
    N_("slug: use lowercase letters, digits and single hyphens"),
    N_("no party with slug %(party)s"),
    N_("cannot contain NUL characters"),
    N_("cannot contain control characters"),
    N_("an address cannot contain spaces or line breaks"),
    N_("cannot contain '; ' (the CSV export separates sources with it)"),
    N_("a category name cannot contain ';'"),
    N_("at most %(limit)s categories"),
    N_("cannot be more than a year ahead"),
    N_("List should have at most %(limit)s items after validation, not %(count)s"),
    N_("Input should be a valid integer"),
    N_("must be at most %(limit)s"),
    N_("Input should be less than or equal to %(limit)s"),
    N_("Input should be greater than or equal to %(limit)s"),
    N_("Input should be greater than %(limit)s"),
    N_("String should have at least 1 character"),
    N_("String should have at most %(limit)s characters"),
)
# The validation library's own words, as editors read them instead.
FOR_EDITORS = {
    "List should have at most %(limit)s items after validation, not %(count)s": N_(
        "at most %(limit)s of these, not %(count)s"
    ),
    "Input should be a valid integer": N_("enter a whole number"),
    "Input should be less than or equal to %(limit)s": N_("must be at most %(limit)s"),
    "Input should be greater than or equal to %(limit)s": N_("must be at least %(limit)s"),
    "Input should be greater than %(limit)s": N_("must be more than %(limit)s"),
    "String should have at least 1 character": N_("cannot be empty"),
    "String should have at most %(limit)s characters": N_(
        "is too long: at most %(limit)s characters"
    ),
}
NOT_A_NUMBER = N_("enter a whole number, or leave it empty if not disclosed")
NOT_A_DATE = N_("enter a date like 2025-05-23")
BAD_CATEGORIES = N_("write them as name=count, separated by commas: women=15, minors=2")
SLUG_TAKEN = N_("this slug is taken; slugs are permanent")


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", template)
    return re.compile(
        "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
        )
    )


# The most specific first: "greater than or equal to 0" is not "greater than" "or equal to 0".
_PATTERNS = [
    (_pattern(template), template)
    for template in sorted(SCHEMA_MESSAGES, key=lambda t: -len(re.sub(r"%\(\w+\)s", "", t)))
]


def worded(text: str) -> Message:
    """A schema's message as the catalogue knows it (the validation library's in words for
    editors), else as it is."""
    text = text.removeprefix("Value error, ")
    for pattern, template in _PATTERNS:
        found = pattern.fullmatch(text)
        if found is not None:
            params = tuple(found.groupdict().items())
            if str(Message(template, params)) == text:
                return Message(FOR_EDITORS.get(template, template), params)
    return Message(text, known=False)


Errors = dict[str, Message]
FieldOf = Callable[[tuple[str | int, ...], Message], str | None]


def schema_errors(invalid: ValidationError, field_of: FieldOf, errors: Errors) -> None:
    """Each error of `invalid` beside the form field `field_of` names for its `loc` (None: not
    shown, the field's error is told elsewhere); a field keeps the first error it got."""
    for problem in invalid.errors(include_url=False):
        message = worded(str(problem["msg"]))
        name = field_of(tuple(problem["loc"]), message)
        if name is not None:
            errors.setdefault(name, message)


def location_error(loc: Sequence[str | int], text: str, field_of: FieldOf, errors: Errors) -> None:
    """A `writes.Invalid` (or any error with a schema `loc`) beside its form field."""
    message = worded(text)
    name = field_of(tuple(loc), message)
    if name is not None:
        errors.setdefault(name, message)


# ---- reading the typed text --------------------------------------------------------------


def read_field(form: FormData, name: str) -> str:
    """A field as typed, whole: what is too long is the schema's to refuse, beside the field,
    never cut short (the request's size is bounded before it is read)."""
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def read_rows(
    form: FormData, prefix: str, fields: tuple[str, ...]
) -> list[tuple[int, dict[str, str]]]:
    """The rows `{prefix}_{N}_{field}` of a form in the order of N, with N: rows removed in
    the browser leave gaps, rows added take the next number."""
    pattern = re.compile(rf"{re.escape(prefix)}_([0-9]{{1,4}})_({'|'.join(fields)})")
    indexes = sorted({int(found[1]) for key in form if (found := pattern.fullmatch(key))})
    return [
        (index, {name: read_field(form, f"{prefix}_{index}_{name}") for name in fields})
        for index in indexes[:MAX_ROWS]
    ]


def read_count(text: str, name: str, errors: Errors) -> int | None:
    """A count as typed ("1,000", "1 000"), or None when empty (not disclosed)."""
    cleaned = re.sub(r"[\s,\u00a0\u202f]", "", text)
    if not cleaned:
        return None
    if not WHOLE_NUMBER.fullmatch(cleaned):
        errors.setdefault(name, Message(NOT_A_NUMBER))
        return None
    return int(cleaned)


def read_day(text: str, name: str, errors: Errors) -> dt.date | None:
    cleaned = text.strip()
    if not cleaned:
        return None
    try:
        if ISO_DATE.fullmatch(cleaned):
            return dt.date.fromisoformat(cleaned)
    except ValueError:
        pass
    errors.setdefault(name, Message(NOT_A_DATE))
    return None


def read_categories(text: str, name: str, errors: Errors) -> dict[str, int]:
    """ "women=15, minors=2" as {"women": 15, "minors": 2}."""
    found: dict[str, int] = {}
    for item in re.split(r"[,;\n]", text):
        if not item.strip():
            continue
        label, sep, count = item.partition("=")
        if not sep:
            label, sep, count = item.partition(":")
        cleaned = re.sub(r"\s", "", count)
        label = " ".join(label.split())
        if not sep or not label or label in found or not WHOLE_NUMBER.fullmatch(cleaned):
            errors.setdefault(name, Message(BAD_CATEGORIES))
            return {}
        found[label] = int(cleaned)
    return found


def categories_text(categories: dict[str, int]) -> str:
    return ", ".join(f"{name}={count}" for name, count in categories.items())


def shown(value: Any) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, dict):
        return categories_text(value)
    return str(value)


def is_blank(row: dict[str, str], ignored: Iterable[str] = ()) -> bool:
    return not any(value.strip() for name, value in row.items() if name not in ignored)


def read_lines(text: str) -> list[str]:
    return [item.strip() for item in text.replace(",", "\n").splitlines() if item.strip()]


def source_fields(row: dict[str, str], where: str, errors: Errors) -> dict[str, Any]:
    return {
        "url": row["url"].strip(),
        "publisher": row["publisher"],
        "announcer": row["announcer"] or None,
        "speaks_for": row["speaks_for"] or None,
        "published_at": read_day(row["published_at"], f"{where}published_at", errors),
        "claim": row["claim"],
    }


@dataclass
class SimpleForm:
    """A small form's typed values and its messages per field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, Any] = field(default_factory=dict)
