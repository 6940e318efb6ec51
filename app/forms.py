"""Editors' forms: from submitted fields to a validated write schema, with messages per field.

Hard errors block saving and sit beside their field; warnings (over target, an odd date, a
count far from the others) are shown but do not block.
"""

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.i18n import N_
from app.models import SIDE_KEYS, STAGE_STATUSES, ExchangeCreate, SourceCreate, StageCreate
from app.tally import Counts

MAX_COUNT = 100_000
EARLIEST_DATE = dt.date(2014, 1, 1)
COUNT_FIELDS = ("military", "civilian", "remains")
SOURCE_FIELDS = ("url", "publisher", "published_at", "claim")
FAR_FACTOR = 5


@dataclass
class SimpleForm:
    """A small form's typed values and its messages per field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class StageForm:
    """What the editor typed (kept verbatim for re-display), and what it means."""

    values: dict[str, str]
    sources: list[dict[str, str]]
    errors: dict[str, str] = field(default_factory=dict)
    data: StageCreate | None = None
    # Each side's counts once they read as numbers, even while another field (a source not yet
    # filled in, say) keeps the form from saving: the live preview follows the typing.
    counts: dict[str, Counts] | None = None

    @property
    def valid(self) -> bool:
        return self.data is not None and not self.errors


def blank_stage_form(*, today: dt.date) -> StageForm:
    values = {"date": today.isoformat(), "status": "reported", "published": "1", "same": "1"}
    return StageForm(values=values, sources=[dict.fromkeys(SOURCE_FIELDS, "")])


def stage_form_from(data: dict[str, Any]) -> StageForm:
    """A stored stage (its snapshot) as form values, for editing."""
    values = {
        "date": str(data["date"]),
        # Status is derived; the form's choice only marks a stage disputed by hand.
        "status": data.get("status") or ("disputed" if data.get("disputed_reason") else "reported"),
        "notes": data["notes"],
        "published": "1" if data["published"] else "",
    }
    for side in data["sides"]:
        for name in COUNT_FIELDS:
            value = side[name]
            values[f"{side['key']}_{name}"] = "" if value is None else str(value)
        if side["military"] is None and side["civilian"] is None and side["people"] is not None:
            values[f"{side['key']}_people"] = str(side["people"])
    sides = {side["key"]: side for side in data["sides"]}
    if len(sides) == 2 and all(sides["a"][n] == sides["b"][n] for n in COUNT_FIELDS):
        values["same"] = "1"
    sources = [
        {name: "" if source[name] is None else str(source[name]) for name in SOURCE_FIELDS}
        for source in data["sources"]
    ]
    return StageForm(values=values, sources=sources or [dict.fromkeys(SOURCE_FIELDS, "")])


def _count(raw: str, name: str, errors: dict[str, str]) -> int | None:
    text = raw.strip().replace(",", "").replace(" ", "").replace("\u00a0", "")
    if not text:
        return None
    if not text.lstrip("-").isdigit():
        errors[name] = N_("enter a whole number, or leave it empty if not disclosed")
        return None
    value = int(text)
    if value < 0:
        errors[name] = N_("cannot be negative")
    elif value > MAX_COUNT:
        errors[name] = N_("more than 100,000 in one stage is not plausible")
    return value


def parse_stage_form(form: FormData, *, today: dt.date) -> StageForm:
    values = {
        name: str(form.get(name, ""))[:10_000]
        for name in ("date", "status", "notes", "published", "same", "reason", "version")
    }
    for key in SIDE_KEYS:
        for name in (*COUNT_FIELDS, "people"):
            values[f"{key}_{name}"] = str(form.get(f"{key}_{name}", ""))[:20]
    if values["same"]:
        for name in (*COUNT_FIELDS, "people"):
            values[f"b_{name}"] = values[f"a_{name}"]
    columns = [[str(v) for v in form.getlist(f"source_{name}")] for name in SOURCE_FIELDS]
    rows = [dict(zip(SOURCE_FIELDS, row, strict=False)) for row in zip(*columns, strict=False)]
    sources = [row for row in rows if any(value.strip() for value in row.values())]
    form_state = StageForm(values=values, sources=sources or [dict.fromkeys(SOURCE_FIELDS, "")])
    errors = form_state.errors

    day: dt.date | None = None
    try:
        day = dt.date.fromisoformat(values["date"].strip())
    except ValueError:
        errors["date"] = N_("enter a date like 2025-05-23")
    else:
        if day < EARLIEST_DATE:
            errors["date"] = N_("swaps tracked here start in 2014")
        elif day > today + dt.timedelta(days=1):
            errors["date"] = N_("a stage cannot be later than tomorrow")
    if values["status"] not in STAGE_STATUSES:
        errors["status"] = N_("choose reported, confirmed or disputed")

    sides = []
    typed: dict[str, Counts] = {}
    for key in SIDE_KEYS:
        # With "same numbers", side B's hidden fields mirror A's: their errors are A's, told once.
        side_errors = {} if key == "b" and values["same"] else errors
        counts = {
            name: _count(values[f"{key}_{name}"], f"{key}_{name}", side_errors)
            for name in COUNT_FIELDS
        }
        people = _count(values[f"{key}_people"], f"{key}_people", side_errors)
        if counts["military"] is not None and counts["civilian"] is not None:
            people = None  # derived from the parts
        sides.append({"key": key, **counts, "people": people})
        typed[key] = Counts(**counts, people=people)
    count_fields = {f"{key}_{name}" for key in SIDE_KEYS for name in (*COUNT_FIELDS, "people")}
    if not count_fields & errors.keys():
        form_state.counts = typed

    parsed_sources = []
    for index, row in enumerate(sources):
        try:
            parsed_sources.append(
                SourceCreate.model_validate(
                    {
                        "url": row["url"],
                        "publisher": row["publisher"].strip(),
                        "published_at": row["published_at"].strip() or None,
                        "claim": row["claim"].strip(),
                    }
                )
            )
        except ValidationError as invalid:
            for problem in invalid.errors():
                name = str(problem["loc"][0]) if problem["loc"] else "url"
                errors[f"source_{index}_{name}"] = _source_message(name)
    published = bool(values["published"])
    if published and not sources:
        errors["sources"] = N_("a published stage needs at least one source")
    if errors or day is None:
        return form_state
    try:
        form_state.data = StageCreate(
            date=day,
            status=values["status"],  # type: ignore[arg-type]
            notes=values["notes"].strip(),
            published=published,
            sides=sides,  # type: ignore[arg-type]
            sources=parsed_sources,
        )
    except ValidationError as invalid:
        for problem in invalid.errors():
            loc = [str(part) for part in problem["loc"]]
            if loc[:1] == ["sides"] and len(loc) > 1:
                errors[f"{SIDE_KEYS[int(loc[1])]}_people"] = problem["msg"].removeprefix(
                    "Value error, "
                )
            else:
                errors[loc[0] if loc else "notes"] = problem["msg"].removeprefix("Value error, ")
    return form_state


def _source_message(name: str) -> str:
    return {
        "url": N_("must be an http:// or https:// address"),
        "publisher": N_("say who reported it"),
        "published_at": N_("enter a date like 2025-05-23"),
    }.get(name, N_("too long"))


def side_counts(data: StageCreate, key: str) -> Counts:
    [side] = [side for side in data.sides or [] if side.key == key]  # the form sends sides
    return Counts(
        people=side.people, military=side.military, civilian=side.civilian, remains=side.remains
    )


def warnings(
    data: StageCreate,
    *,
    agreed_on: dt.date | None,
    targets: dict[str, int | None],
    after: dict[str, int | None],
    earlier_people: list[int],
) -> list[str]:
    """Things worth a second look that do not block saving."""
    found = []
    if agreed_on and data.date < agreed_on:
        found.append(N_("The date is before the exchange was agreed."))
    for key, target in targets.items():
        people = after.get(key)
        if target is not None and people is not None and people > target:
            found.append(N_("After this stage a side is over its target."))
            break
    if len(earlier_people) >= 2:
        typical = statistics.median(earlier_people)
        this = [side.people for side in data.sides or [] if side.people is not None]
        if typical and any(p > typical * FAR_FACTOR or p * FAR_FACTOR < typical for p in this):
            found.append(N_("A count is far from those of the earlier stages; check for a typo."))
    return found


@dataclass
class ExchangeForm:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    data: ExchangeCreate | None = None


EXCHANGE_FIELDS = (
    "slug", "title", "description", "status", "agreed_on", "venue", "mediators",
    "planned_stages", "published", "reason", "version",
)  # fmt: skip
TARGET_FIELDS = ("people", "military", "civilian", "remains")


def exchange_form_from(data: dict[str, Any]) -> ExchangeForm:
    values = {
        "slug": data["slug"],
        "title": data["title"],
        "description": data["description"],
        "status": data["status"],
        "agreed_on": data["agreed_on"] or "",
        "venue": data["venue"] or "",
        "mediators": "\n".join(data["mediators"]),
        "planned_stages": "" if data["planned_stages"] is None else str(data["planned_stages"]),
        "published": "1" if data["published"] else "",
    }
    for side in data["sides"]:
        values[f"{side['key']}_name"] = side["name"]
        for name in TARGET_FIELDS:
            target = side["target"][name]
            values[f"{side['key']}_target_{name}"] = "" if target is None else str(target)
    return ExchangeForm(values=values)


def blank_exchange_form() -> ExchangeForm:
    return exchange_form_from(
        ExchangeCreate(slug="new", title="new", status="announced").model_dump(mode="json")
        | {"slug": "", "title": ""}
    )


def parse_exchange_form(form: FormData, *, slug: str | None = None) -> ExchangeForm:
    """`slug` is given when editing: it is fixed, since embeds and links use it."""
    values = {name: str(form.get(name, ""))[:20_000] for name in EXCHANGE_FIELDS}
    for key in SIDE_KEYS:
        values[f"{key}_name"] = str(form.get(f"{key}_name", ""))[:200]
        for name in TARGET_FIELDS:
            values[f"{key}_target_{name}"] = str(form.get(f"{key}_target_{name}", ""))[:20]
    if slug is not None:
        values["slug"] = slug
    state = ExchangeForm(values=values)
    errors = state.errors
    sides = []
    for key in SIDE_KEYS:
        target = {
            name: _count(values[f"{key}_target_{name}"], f"{key}_target_{name}", errors)
            for name in TARGET_FIELDS
        }
        sides.append({"key": key, "name": values[f"{key}_name"].strip(), "target": target})
    planned = _count(values["planned_stages"], "planned_stages", errors)
    if errors:
        return state
    mediators = [m.strip() for m in values["mediators"].replace(",", "\n").splitlines()]
    try:
        state.data = ExchangeCreate.model_validate(
            {
                "slug": values["slug"].strip(),
                "title": values["title"].strip(),
                "description": values["description"].strip(),
                "status": values["status"],
                "agreed_on": values["agreed_on"].strip() or None,
                "venue": values["venue"].strip() or None,
                "mediators": [m for m in mediators if m],
                "planned_stages": planned or None,
                "published": bool(values["published"]),
                "sides": sides,
            }
        )
    except ValidationError as invalid:
        for problem in invalid.errors():
            loc = [str(part) for part in problem["loc"]]
            name = loc[0] if loc else "title"
            if name == "sides" and len(loc) > 2:
                name = f"{SIDE_KEYS[int(loc[1])]}_{loc[2]}"
            errors[name] = problem["msg"].removeprefix("Value error, ")
    return state
