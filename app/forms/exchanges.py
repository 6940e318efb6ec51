"""The exchange forms (a new one with its conflict, parties and original terms; changes to a
stored one), a terms version, and an official running total, read into the API's write schemas."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.forms.common import (
    NOT_A_DATE,
    NOT_A_NUMBER,
    SOURCE_FIELDS,
    Errors,
    FieldOf,
    Message,
    SimpleForm,
    is_blank,
    read_count,
    read_day,
    read_field,
    read_lines,
    read_rows,
    schema_errors,
    shown,
    source_fields,
)
from app.models import ExchangeCreate, ExchangeWrite, OfficialTotalWrite, TermsIn, TermsWrite

TARGETS = ("people", "military", "civilian", "remains")
PARTY_FIELDS = (
    "slug", "name", "name_uk", "official_number", *(f"target_{name}" for name in TARGETS),
    "target_qualifier",
)  # fmt: skip
EXCHANGE_FIELDS = (
    "slug", "title", "title_uk", "summary", "summary_uk", "status", "agreed_on", "venue",
    "mediators", "published", "planned_stages", "conflict_slug", "conflict_name",
    "conflict_name_uk", "reason", "version",
)  # fmt: skip
TERMS_FIELDS = ("effective", "kind", "planned_stages", "note", "reason")
TOTAL_FIELDS = (
    "party", "as_of", "measure", "figure", "qualifier", "note", "reason",
    *(f"source_{name}" for name in ("url", "publisher", "announcer", "published_at", "claim")),
)  # fmt: skip


# ---- an exchange -------------------------------------------------------------------------


@dataclass
class ExchangeForm:
    values: dict[str, str]
    parties: int = 0  # party rows shown (a new exchange); a spare empty one follows
    sources: int = 1  # rows of sources on the agreement shown; a spare empty one follows
    errors: Errors = field(default_factory=dict)
    data: ExchangeCreate | None = None
    reason: str | None = None


def blank_exchange_form() -> ExchangeForm:
    """A new exchange between Ukraine and Russia, the most common case, published."""
    values = {"status": "announced", "published": "1"}
    for index, (slug, name) in enumerate((("ukraine", "Ukraine"), ("russia", "Russia"))):
        values |= {f"party_{index}_slug": slug, f"party_{index}_name": name}
    return ExchangeForm(values=values, parties=2)


def exchange_form_from(snapshot: dict[str, Any], *, version: int) -> ExchangeForm:
    """A stored exchange (`writes.exchange_snapshot`) for editing; two parties' original
    targets can be corrected here, the deal's changes are new terms versions."""
    values = {
        name: shown(snapshot.get(name))
        for name in ("title", "title_uk", "summary_uk", "status", "agreed_on", "venue")
    }
    values |= {
        "summary": snapshot["description"],
        "mediators": "\n".join(snapshot["mediators"]),
        "planned_stages": shown(snapshot["planned_stages"]),
        "published": "1" if snapshot["published"] else "",
        "version": str(version),
    }
    for index, side in enumerate(snapshot.get("sides") or []):
        for name in TARGETS:
            values[f"party_{index}_target_{name}"] = shown(side["target"][name])
    for index, source in enumerate(snapshot["sources"]):
        values |= {f"source_{index}_{name}": shown(source.get(name)) for name in SOURCE_FIELDS}
    return ExchangeForm(values=values, sources=max(len(snapshot["sources"]), 1))


def _sources_rows(form: FormData, values: dict[str, str]) -> list[dict[str, str]]:
    """The form's non-empty source rows, numbered again into `values` as they are shown."""
    rows = [row for _, row in read_rows(form, "source", SOURCE_FIELDS) if not is_blank(row)]
    for index, row in enumerate(rows):
        values |= {f"source_{index}_{name}": value for name, value in row.items()}
    return rows


def _exchange_fields(values: dict[str, str], errors: Errors) -> dict[str, Any]:
    return {
        "title": values["title"].strip(),
        "title_uk": values["title_uk"].strip() or None,
        "description": values["summary"].strip(),
        "summary_uk": values["summary_uk"].strip() or None,
        "status": values["status"],
        "agreed_on": read_day(values["agreed_on"], "agreed_on", errors),
        "venue": values["venue"].strip() or None,
        "mediators": read_lines(values["mediators"]),
        "published": bool(values["published"]),
        "reason": values["reason"].strip() or None,
    }


def _targets(row: dict[str, str], where: str, errors: Errors) -> dict[str, int | None]:
    return {
        name: read_count(row[f"target_{name}"], f"{where}target_{name}", errors) for name in TARGETS
    }


def exchange_field(targets_rows: list[int]) -> FieldOf:
    """The exchange form's field for an `ExchangeWrite` error; `targets_rows[k]` is the party
    row of the original terms' k-th target."""

    def field_of(loc: tuple[str | int, ...], _message: Message) -> str | None:
        match loc:
            case ("description" | "summary", *_):
                return "summary"
            case ("conflict", str(name), *_):
                return f"conflict_{name}"
            case ("conflict", *_):
                return "conflict_slug"
            case ("parties", int(row), str(name), *_):
                return f"party_{row}_{name}"
            case ("terms", _, "targets", int(k), str(name), *_) if k < len(targets_rows):
                return f"party_{targets_rows[k]}_target_{name}"
            case ("sides", int(row), "target", str(name), *_):
                return f"party_{row}_target_{name}"
            case ("terms", _, "planned_stages", *_) | ("planned_stages", *_):
                return "planned_stages"
            case ("terms", _, "effective", *_):
                return "agreed_on"
            case ("sources", int(row), str(name), *_):
                return f"source_{row}_{name}"
            case ("parties" | "terms" | "sides", *_):
                return "parties"
            case (str(name), *_) if name in EXCHANGE_FIELDS:
                return name
        return "title"

    return field_of


def parse_new_exchange_form(form: FormData, *, conflicts: dict[str, str]) -> ExchangeForm:
    """A new exchange in the v2 shape: its conflict (`conflicts`: slug -> name of those stored,
    joined by slug), its parties in order, and the original terms with a target per party."""
    values = {name: read_field(form, name) for name in EXCHANGE_FIELDS}
    rows = [
        row
        for _, row in read_rows(form, "party", PARTY_FIELDS)
        if not is_blank(row, ("target_qualifier",))
    ]
    for index, row in enumerate(rows):
        values |= {f"party_{index}_{name}": value for name, value in row.items()}
    sources = _sources_rows(form, values)
    state = ExchangeForm(values=values, parties=len(rows), sources=max(len(sources), 1))
    errors = state.errors
    payload = _exchange_fields(values, errors)
    slug = values["conflict_slug"].strip()
    name = values["conflict_name"].strip() or conflicts.get(slug, "")
    targets, targets_rows = [], []
    for index, row in enumerate(rows):
        counts = _targets(row, f"party_{index}_", errors)
        if any(value is not None for value in counts.values()):
            qualifier = row["target_qualifier"] or "exact"
            targets.append({"received_by": row["slug"].strip(), **counts, "qualifier": qualifier})
            targets_rows.append(index)
    payload |= {
        "slug": values["slug"].strip(),
        "conflict": {
            "slug": slug,
            "name": name,
            "name_uk": values["conflict_name_uk"].strip() or None,
        }
        if slug or name
        else None,
        "parties": [
            {
                "slug": row["slug"].strip(),
                "name": row["name"].strip() or None,
                "name_uk": row["name_uk"].strip() or None,
                "official_number": read_count(
                    row["official_number"], f"party_{index}_official_number", errors
                ),
            }
            for index, row in enumerate(rows)
        ],
        "sources": [source_fields(row, f"source_{i}_", errors) for i, row in enumerate(sources)],
        "terms": [
            {
                "effective": payload["agreed_on"],
                "kind": "original",
                "planned_stages": read_count(values["planned_stages"], "planned_stages", errors),
                "targets": targets,
            }
        ],
    }
    try:
        body = ExchangeWrite.model_validate(payload)
    except ValidationError as invalid:
        schema_errors(invalid, exchange_field(targets_rows), errors)
        return state
    if not errors:
        state.data = ExchangeCreate.model_validate(body.model_dump(exclude={"reason"}))
        state.reason = body.reason
    return state


def parse_exchange_form(form: FormData, *, snapshot: dict[str, Any]) -> ExchangeForm:
    """Changes to a stored exchange, merged into what is stored (`writes.exchange_snapshot`),
    as a PATCH is: its slug, parties and conflict stay."""
    values = {name: read_field(form, name) for name in EXCHANGE_FIELDS}
    sources = _sources_rows(form, values)
    state = ExchangeForm(values=values, sources=max(len(sources), 1))
    errors = state.errors
    changes = _exchange_fields(values, errors)
    changes["sources"] = [
        source_fields(row, f"source_{i}_", errors) for i, row in enumerate(sources)
    ]
    if snapshot.get("sides"):
        changes["planned_stages"] = read_count(values["planned_stages"], "planned_stages", errors)
        sides = []
        for index, side in enumerate(snapshot["sides"]):
            row = {
                f"target_{name}": read_field(form, f"party_{index}_target_{name}")
                for name in TARGETS
            }
            values |= {f"party_{index}_{name}": value for name, value in row.items()}
            sides.append(side | {"target": _targets(row, f"party_{index}_", errors)})
        changes["sides"] = sides
    try:
        body = ExchangeWrite.model_validate(snapshot | changes)
    except ValidationError as invalid:
        schema_errors(invalid, exchange_field([]), errors)
        return state
    if not errors:
        state.data = ExchangeCreate.model_validate(body.model_dump(exclude={"reason"}))
        state.reason = body.reason
    return state


# ---- a terms version ---------------------------------------------------------------------


@dataclass
class TermsForm:
    values: dict[str, str]
    sources: int = 1  # source rows shown; a spare empty one follows
    errors: Errors = field(default_factory=dict)
    data: TermsIn | None = None
    reason: str | None = None
    target_parties: list[str] = field(default_factory=list)  # the party of each target sent


def blank_terms_form(*, today: dt.date, in_force: dict[str, Any] | None) -> TermsForm:
    """An amendment from today, its targets those in force (`TermsPublic` as a dict), to
    change where the deal changed."""
    values = {"effective": today.isoformat(), "kind": "amendment"}
    if in_force is not None:
        values["planned_stages"] = shown(in_force["planned_stages"])
        for target in in_force["targets"]:
            for name in (*TARGETS, "qualifier"):
                values[f"target_{target['received_by']}_{name}"] = shown(target[name])
    return TermsForm(values=values)


def parse_terms_form(form: FormData, *, parties: Sequence[str]) -> TermsForm:
    """A terms version: a target row per party of the exchange (`parties`, slugs), left out
    when all its counts are empty (unknown), and its sources."""
    values = {name: read_field(form, name) for name in TERMS_FIELDS}
    for party in parties:
        for name in (*TARGETS, "qualifier"):
            values[f"target_{party}_{name}"] = read_field(form, f"target_{party}_{name}")
    rows = [row for _, row in read_rows(form, "source", SOURCE_FIELDS) if not is_blank(row)]
    for index, row in enumerate(rows):
        values |= {f"source_{index}_{name}": value for name, value in row.items()}
    state = TermsForm(values=values, sources=max(len(rows), 1))
    errors = state.errors
    targets, by_index = [], []
    for party in parties:
        counts = {
            n: read_count(values[f"target_{party}_{n}"], f"target_{party}_{n}", errors)
            for n in TARGETS
        }
        if any(value is not None for value in counts.values()):
            qualifier = values[f"target_{party}_qualifier"] or "exact"
            targets.append({"received_by": party, **counts, "qualifier": qualifier})
            by_index.append(party)
    payload = {
        "effective": read_day(values["effective"], "effective", errors),
        "kind": values["kind"] or "amendment",
        "planned_stages": read_count(values["planned_stages"], "planned_stages", errors),
        "note": values["note"].strip(),
        "targets": targets,
        "sources": [source_fields(row, f"source_{i}_", errors) for i, row in enumerate(rows)],
        "reason": values["reason"].strip() or None,
    }

    state.target_parties = by_index
    try:
        body = TermsWrite.model_validate(payload)
    except ValidationError as invalid:
        schema_errors(invalid, terms_field(by_index), errors)
        return state
    if not errors:
        state.data = TermsIn.model_validate(body.model_dump(exclude={"reason"}))
        state.reason = body.reason
    return state


def terms_field(target_parties: list[str]) -> FieldOf:
    """The terms form's field for a `TermsWrite` error; `target_parties[k]` received the k-th
    target sent."""

    def field_of(loc: tuple[str | int, ...], _message: Message) -> str | None:
        match loc:
            case ("targets", int(k), str(name), *_) if k < len(target_parties):
                return f"target_{target_parties[k]}_{name}"
            case ("sources", int(row), str(name), *_):
                return f"source_{row}_{name}"
            case (str(name), *_) if name in TERMS_FIELDS:
                return name
        return "note"

    return field_of


# ---- an official running total -----------------------------------------------------------


def blank_total_form(*, today: dt.date) -> SimpleForm:
    return SimpleForm(values={"as_of": today.isoformat(), "measure": "people"})


def total_field(loc: tuple[str | int, ...], _message: Message) -> str | None:
    match loc:
        case ("people", *_):
            return "figure"
        case ("source", str(name), *_):
            return f"source_{name}"
        case (str(name), *_) if name in TOTAL_FIELDS:
            return name
    return "figure"


@dataclass
class TotalForm:
    values: dict[str, str]
    errors: Errors = field(default_factory=dict)
    data: OfficialTotalWrite | None = None


def parse_total_form(form: FormData) -> TotalForm:
    """A running total a party published ("8,050 returned, as of 11 March"), and its source."""
    values = {name: read_field(form, name) for name in TOTAL_FIELDS}
    state = TotalForm(values=values)
    errors = state.errors
    payload = {
        "party": values["party"],
        "as_of": read_day(values["as_of"], "as_of", errors),
        "measure": values["measure"] or "people",
        "people": read_count(values["figure"], "figure", errors),
        "qualifier": values["qualifier"] or "exact",
        "note": values["note"].strip(),
        "reason": values["reason"].strip() or None,
        "source": {
            "url": values["source_url"].strip(),
            "publisher": values["source_publisher"],
            "announcer": values["source_announcer"] or None,
            "published_at": read_day(values["source_published_at"], "source_published_at", errors),
            "claim": values["source_claim"],
        },
    }
    if not values["as_of"].strip():
        errors.setdefault("as_of", Message(NOT_A_DATE))
    if not values["figure"].strip():
        errors.setdefault("figure", Message(NOT_A_NUMBER))
    try:
        data = OfficialTotalWrite.model_validate(payload)
    except ValidationError as invalid:
        schema_errors(invalid, total_field, errors)
        return state
    if not errors:
        state.data = data
    return state
