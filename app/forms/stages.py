"""The stage form: releases, sources with their announcers' counts, and a reason when the
doubt is not a number, read into `StageWrite`; and the stage's warnings, which do not block."""

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.forms.common import (
    COUNTS,
    NOT_A_DATE,
    SOURCE_FIELDS,
    Errors,
    Message,
    is_blank,
    read_categories,
    read_count,
    read_day,
    read_field,
    read_rows,
    schema_errors,
    shown,
    source_fields,
)
from app.i18n import N_
from app.models import SIDE_KEYS, ReleaseIn, StageCreate, StageWrite

RELEASE_FIELDS = (
    "released_by", "received_by", "kind", *COUNTS, "qualifier", "outside_deal", "categories",
    "date",
)  # fmt: skip
# "Same numbers both ways": the second release row takes all of these from the first.
MIRRORED = ("kind", *COUNTS, "qualifier", "outside_deal", "categories", "date")
FIGURE_FIELDS = ("received_by", *COUNTS, "qualifier")
STAGE_FIELDS = (
    "date", "notes", "disputed_reason", "published", "same", "reason", "version", "confirmed",
    "confirming",
)  # fmt: skip
GIVES_RELEASES = "gives_releases"  # a source row's box: its announcer gave the releases' counts
FAR_FACTOR = 5
NO_RELEASER = N_("choose who released them")
NO_RECEIVER = N_("choose who received them")
NO_FIGURE_PARTY = N_("choose whose count this is")
# A release's own errors that name no field: shown beside the field they concern.
RELEASE_ROW_FIELDS = {
    N_("a party cannot release people to itself"): "received_by",
    N_("category %(name)s (%(count)s) is more than the total (%(total)s)"): "categories",
}


@dataclass
class StageForm:
    """What the editor typed, by field name (kept verbatim for re-display), its rows, and what
    it means: `data` once the schema accepts it."""

    values: dict[str, str]
    releases: int  # release rows shown; a spare empty one follows
    figures: list[int]  # per source row shown, its figure rows; a spare source row follows
    errors: Errors = field(default_factory=dict)
    data: StageCreate | None = None
    reason: str | None = None
    # The releases once each reads and passes the schema, even while another field (a source
    # not yet filled in, say) keeps the stage from saving: the live preview follows the typing.
    typed_releases: list[ReleaseIn] | None = None
    # Warnings publishing waits on, shown for the editor to confirm.
    waiting: list["Caution"] = field(default_factory=list)

    @property
    def confirmed(self) -> set[str]:
        """The warnings the editor saw and confirmed, by code, before publishing."""
        return {code for code in self.values.get("confirmed", "").split(",") if code}

    @property
    def valid(self) -> bool:
        return self.data is not None and not self.errors

    @property
    def sources(self) -> int:
        return len(self.figures)

    def row_has_errors(self, prefix: str) -> bool:
        return any(name.startswith(prefix) for name in self.errors)


def _derived_people(figures: dict[str, Any]) -> dict[str, Any]:
    """Figures as the form shows them: people left empty where military and civilian give it
    (the schema adds them up), so that correcting a part does not contradict a stale total."""
    if figures.get("military") is not None and figures.get("civilian") is not None:
        return figures | {"people": None}
    return figures


def _release_values(index: int, release: dict[str, Any]) -> dict[str, str]:
    figures = _derived_people(release)
    return {f"release_{index}_{name}": shown(figures.get(name)) for name in RELEASE_FIELDS}


def blank_stage_form(*, today: dt.date, parties: Sequence[str]) -> StageForm:
    """A new stage. Two parties: both directions pre-filled with the same numbers, as most
    swaps are announced; more parties: two empty rows to choose them in."""
    values = {"date": today.isoformat()}
    if len(parties) == len(SIDE_KEYS):
        first, second = parties
        values |= _release_values(0, {"released_by": second, "received_by": first})
        values |= _release_values(1, {"released_by": first, "received_by": second})
        values["same"] = "1"
    else:
        values |= _release_values(0, {}) | _release_values(1, {})
    return StageForm(values=values, releases=2, figures=[0])


def stage_form_from(snapshot: dict[str, Any]) -> StageForm:
    """A stored stage (its snapshot, `writes.stage_snapshot`) as form values, for editing."""
    values = {
        "date": str(snapshot["date"]),
        "notes": snapshot["notes"],
        "disputed_reason": snapshot["disputed_reason"] or "",
        "published": "1" if snapshot["published"] else "",
    }
    releases = snapshot["releases"]
    for index, release in enumerate(releases):
        values |= _release_values(index, release)
    if len(releases) >= 2 and all(
        shown(releases[0][name]) == shown(releases[1][name]) for name in MIRRORED
    ):
        values["same"] = "1"
    figures = []
    for index, source in enumerate(snapshot["sources"]):
        for name in SOURCE_FIELDS:
            values[f"source_{index}_{name}"] = shown(source.get(name))
        for number, figure in enumerate(source["figures"]):
            for name, value in _derived_people(figure).items():
                if name in FIGURE_FIELDS:
                    values[f"source_{index}_figure_{number}_{name}"] = shown(value)
        figures.append(len(source["figures"]))
    return StageForm(values=values, releases=max(len(releases), 1), figures=figures or [0])


def stage_field(loc: tuple[str | int, ...], message: Message) -> str | None:
    """The stage form's field for a `StageWrite` error at `loc`."""
    match loc:
        case ("releases", int(row), str(name), *_):
            return f"release_{row}_{name}"
        case ("releases", int(row)):
            named = RELEASE_ROW_FIELDS.get(message.msgid)
            return f"release_{row}_{named}" if named else f"release_{row}"
        case ("sources", int(row), "figures", int(number), str(name), *_):
            return f"source_{row}_figure_{number}_{name}"
        case ("sources", int(row), "figures", int(number)):
            return f"source_{row}_figure_{number}"
        case ("sources", int(row), str(name), *_):
            return f"source_{row}_{name}"
        case ("sources", int(row)):
            return f"source_{row}_url"
        case ("reason", *_):
            return "reason"
        case (str(name), *_) if name in STAGE_FIELDS or name == "sources":
            return name
    return "releases"


def _release(row: dict[str, str], index: int, errors: Errors) -> dict[str, Any]:
    where = f"release_{index}_"
    if not row["released_by"]:
        errors.setdefault(f"{where}released_by", Message(NO_RELEASER))
    if not row["received_by"]:
        errors.setdefault(f"{where}received_by", Message(NO_RECEIVER))
    return {
        "released_by": row["released_by"],
        "received_by": row["received_by"],
        "kind": row["kind"] or "living",
        # Every count is sent, unknown ones as None, so that the schema checks each against
        # the row's kind.
        **{name: read_count(row[name], f"{where}{name}", errors) for name in COUNTS},
        "qualifier": row["qualifier"] or "exact",
        "outside_deal": bool(row["outside_deal"]),
        "categories": read_categories(row["categories"], f"{where}categories", errors),
        "date": read_day(row["date"], f"{where}date", errors),
    }


def _figure(row: dict[str, str], where: str, errors: Errors) -> dict[str, Any]:
    if not row["received_by"]:
        errors.setdefault(f"{where}received_by", Message(NO_FIGURE_PARTY))
    counts = {name: read_count(row[name], f"{where}{name}", errors) for name in COUNTS}
    living = any(counts[name] is not None for name in ("military", "civilian", "people"))
    # A plain row: remains alone are a count of remains; with people beside them the schema
    # says which row they belong in.
    kind = "remains" if counts["remains"] is not None and not living else "living"
    return {
        "received_by": row["received_by"],
        "kind": kind,
        **counts,
        "qualifier": row["qualifier"] or "exact",
    }


def parse_stage_form(form: FormData) -> StageForm:
    """The stage an editor typed, as the write schema takes it, or the errors beside each field.
    Empty rows are left out (and the rest numbered again, as they are shown back)."""
    values = {name: read_field(form, name) for name in STAGE_FIELDS}
    releases = [row for _, row in read_rows(form, "release", RELEASE_FIELDS)]
    same = bool(values["same"]) and len(releases) >= 2
    if same:
        releases[1] |= {name: releases[0][name] for name in MIRRORED}
    kept = [row for row in releases if not is_blank(row, ("kind", "qualifier"))]
    mirrored = same and len(kept) >= 2 and kept[1] is releases[1]
    sources: list[tuple[dict[str, str], list[dict[str, str]]]] = []
    gives: list[bool] = []
    for index, row in read_rows(form, "source", SOURCE_FIELDS):
        figures = [
            figure
            for _, figure in read_rows(form, f"source_{index}_figure", FIGURE_FIELDS)
            if not is_blank(figure, ("qualifier",))
        ]
        given = bool(read_field(form, f"source_{index}_{GIVES_RELEASES}"))
        if given:
            # "Gives the figures above": the announcer's counts are the releases', one per row.
            figures = [{name: release[name] for name in FIGURE_FIELDS} for release in kept]
        if figures or not is_blank(row, ("speaks_for",)):
            sources.append((row, figures))
            gives.append(given)

    for index, row in enumerate(kept):
        values |= {f"release_{index}_{name}": value for name, value in row.items()}
    for index, (row, figures) in enumerate(sources):
        values |= {f"source_{index}_{name}": value for name, value in row.items()}
        values[f"source_{index}_{GIVES_RELEASES}"] = "1" if gives[index] else ""
        for number, figure in enumerate(figures):
            values |= {f"source_{index}_figure_{number}_{k}": v for k, v in figure.items()}
    # Shown back with at least one row of each (empty), besides the spare one.
    counted = [len(figures) for _, figures in sources] or [0]
    state = StageForm(values=values, releases=max(len(kept), 1), figures=counted)
    errors = state.errors

    typed = []
    for index, row in enumerate(kept):
        # With "same numbers", the second row's copied fields are the first's: their errors
        # are the first row's, told once.
        row_errors: Errors = {}
        typed.append(_release(row, index, row_errors))
        for name, message in row_errors.items():
            if not (index == 1 and mirrored and name.removeprefix("release_1_") in MIRRORED):
                errors.setdefault(name, message)
    payload = {
        "date": read_day(values["date"], "date", errors),
        "notes": values["notes"].strip(),
        "disputed_reason": values["disputed_reason"].strip() or None,
        "published": bool(values["published"]),
        "releases": typed,
        "sources": [
            source_fields(row, f"source_{index}_", errors)
            | {
                "figures": [
                    _figure(figure, f"source_{index}_figure_{number}_", errors)
                    for number, figure in enumerate(figures)
                ]
            }
            for index, (row, figures) in enumerate(sources)
        ],
        "reason": values["reason"].strip() or None,
    }
    if not values["date"].strip():
        errors.setdefault("date", Message(NOT_A_DATE))

    def field_of(loc: tuple[str | int, ...], message: Message) -> str | None:
        name = stage_field(loc, message)
        if mirrored and name is not None and name.startswith("release_1_"):
            return None if name.removeprefix("release_1_") in MIRRORED else name
        return name

    try:
        body = StageWrite.model_validate(payload)
    except ValidationError as invalid:
        schema_errors(invalid, field_of, errors)
        state.typed_releases = _each_release(typed, errors)
        return state
    state.typed_releases = _each_release(typed, errors)
    if not errors:
        state.data = StageCreate.model_validate(body.model_dump(exclude={"reason"}))
        state.reason = body.reason
    return state


def _each_release(typed: list[dict[str, Any]], errors: Errors) -> list[ReleaseIn] | None:
    if any(name.startswith("release_") for name in errors):
        return None
    try:
        return [ReleaseIn.model_validate(release) for release in typed]
    except ValidationError:
        return None


@dataclass(frozen=True)
class Caution:
    """Something worth a second look that does not block saving a draft; publishing with it
    takes the editor's confirmation, of each caution by its `code`."""

    code: str
    message: Message


def warnings(
    data: StageCreate,
    *,
    agreed_on: dt.date | None,
    today: dt.date,
    over_target: bool,
    earlier_people: list[int],
    status: str,
    names: dict[str, str],
) -> list[Caution]:
    """Things worth a second look before publishing; `names` words the parties."""
    found = []
    if agreed_on and data.date < agreed_on:
        found.append(Caution("before-agreement", Message(BEFORE_AGREEMENT)))
    if data.date > today:
        found.append(Caution("future", Message(IN_THE_FUTURE)))
    if over_target:
        found.append(Caution("over-target", Message(OVER_TARGET)))
    if len(earlier_people) >= 2:
        typical = statistics.median(earlier_people)
        this = [
            release.people
            for release in data.releases or []
            if release.kind == "living" and release.people is not None
        ]
        if typical and any(p > typical * FAR_FACTOR or p * FAR_FACTOR < typical for p in this):
            found.append(Caution("far", Message(FAR_FROM_EARLIER)))
    receiving = sorted({r.received_by for r in data.releases or [] if not r.outside_deal})
    speaking = {source.speaks_for for source in data.sources}
    if data.sources and receiving and not speaking & {*receiving, "independent"}:
        parties = ", ".join(names.get(party, party) for party in receiving)
        found.append(
            Caution("no-receiving-source", Message(NO_RECEIVING_SOURCE, (("parties", parties),)))
        )
    if status == "disputed" and not data.disputed_reason:
        found.append(Caution("disputed", Message(DISPUTED)))
    return found


BEFORE_AGREEMENT = N_("The date is before the exchange was agreed.")
IN_THE_FUTURE = N_("The date is after today.")
OVER_TARGET = N_("After this stage a party is over its target.")
FAR_FROM_EARLIER = N_("A count is far from those of the earlier stages; check for a typo.")
NO_RECEIVING_SOURCE = N_(
    "No source speaks for a side that received people (%(parties)s): their own announcement is"
    " the one readers trust most."
)
DISPUTED = N_("The sources' counts differ: readers will see this stage as disputed.")
NOT_CONFIRMED = N_("tick this to publish with these warnings, or save a draft")
