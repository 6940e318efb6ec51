"""CSV exports: one row per release, RFC 4180, safe to open in a spreadsheet.

The layout is also what `app.importer` reads back, so an export round-trips. The first API's
columns keep their places (`side` and `side_name` say which of a two-party exchange's sides
received the release); the release's own columns follow. A stage without releases has one row
with those cells empty. Several sources of a stage share one cell per field: URLs separated by
spaces, publishers, announcers, whom they speak for and publication dates by "; " (an unknown
value is empty), claims one per line. Categories read "women=15; minors=2". Two cells carry
what has no plain layout, as JSON in the API's shapes without empty or default values:
`source_figures`, one list per source of the figures its announcer gave, and, the same on every
row of an exchange, `exchange_parties` (in order, with their Ukrainian names and official
numbering) and `exchange_terms` (its terms versions, oldest first).
"""

import csv
import dataclasses
import io
import json
from collections.abc import Iterable, Iterator, Mapping

from sqlalchemy import select
from sqlmodel import Session, col

from app import crud
from app.models import (
    SIDE_KEYS,
    Conflict,
    Exchange,
    PartyPublic,
    ReleasePublic,
    StagePublic,
    TermsPublic,
)

CSV_HEADER = [
    "exchange", "stage_id", "date", "status", "side", "side_name",
    "military", "civilian", "people", "remains", "notes", "source_urls", "source_publishers",
    "exchange_title", "source_published_at", "source_claims",
    "released_by", "released_by_name", "received_by", "received_by_name", "kind", "qualifier",
    "outside_deal", "categories", "release_date", "disputed_reason", "conflict", "conflict_name",
    "source_announcers", "source_speaks_for", "source_figures", "exchange_parties",
    "exchange_terms",
]  # fmt: skip
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "
CLAIM_SEPARATOR = "\n"
CATEGORY_SEPARATOR = "="
# What a JSON cell leaves out: nothing known, or the write schemas' defaults.
JSON_DEFAULTS = {"kind": "living", "qualifier": "exact"}


@dataclasses.dataclass(frozen=True)
class ExchangeNames:
    """What a stage's rows say about its exchange: its title, its conflict, its parties (slug
    and name) in order, the first two being the first API's sides a and b, and its terms."""

    title: str = ""
    conflict: str = ""
    conflict_name: str = ""
    parties: tuple[PartyPublic, ...] = ()
    terms: tuple[TermsPublic, ...] = ()


def exchange_names(session: Session, *, slugs: Iterable[str]) -> dict[str, ExchangeNames]:
    """ExchangeNames by exchange slug."""
    exchanges = session.execute(
        select(col(Exchange.id), col(Exchange.slug), col(Exchange.title), Conflict)
        .join(Conflict, col(Conflict.id) == Exchange.conflict_id)
        .where(col(Exchange.slug).in_(set(slugs)))
    ).all()
    ids = [row[0] for row in exchanges]
    parties, terms = crud.exchange_parties(session, ids), crud.exchange_terms(session, ids)
    return {
        slug: ExchangeNames(
            title,
            conflict.slug,
            conflict.name,
            tuple(parties.get(id_, [])),
            tuple(terms.get(id_, [])),
        )
        for id_, slug, title, conflict in exchanges
    }


def _runs_as_formula(text: str) -> bool:
    """Whether a spreadsheet could run the text: it starts with a trigger, or does once the
    leading whitespace is trimmed, as some spreadsheets do on import ("  =1+1")."""
    return text.startswith(FORMULA_TRIGGERS) or text.lstrip().startswith(FORMULA_TRIGGERS)


def defuse(cell: str) -> str:
    """Prefix text a spreadsheet would run as a formula, so it is shown, never executed.

    Text that already starts with apostrophes before a trigger gets one more, so that the
    importer, which removes exactly one, gives back the original.
    """
    return "'" + cell if _runs_as_formula(cell.lstrip("'")) else cell


def undefuse(cell: str) -> str:
    """The original text of a cell written by `defuse`."""
    defused = cell.startswith("'") and _runs_as_formula(cell.lstrip("'"))
    return cell[1:] if defused else cell


def categories_cell(categories: Mapping[str, int]) -> str:
    return LIST_SEPARATOR.join(f"{name}{CATEGORY_SEPARATOR}{n}" for name, n in categories.items())


def _compact(value: object) -> object:
    """`value` without what the write schemas would give anyway: None, empty text and lists,
    and the defaults in JSON_DEFAULTS."""
    if isinstance(value, dict):
        return {
            name: _compact(item)
            for name, item in value.items()
            if item not in (None, "", [], {}) and JSON_DEFAULTS.get(name) != item
        }
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


def json_cell(value: object) -> str:
    return json.dumps(_compact(value), ensure_ascii=False, separators=(",", ":"))


def stages_csv(stages: Iterable[StagePublic], exchanges: Mapping[str, ExchangeNames]) -> str:
    """`exchanges` names each stage's exchange (empty cells without it). Unknown counts stay
    empty; text cells are defused."""
    return csv_header() + csv_rows(stages, exchanges)


def csv_header() -> str:
    return _csv_text([CSV_HEADER])


def csv_rows(stages: Iterable[StagePublic], exchanges: Mapping[str, ExchangeNames]) -> str:
    """The rows of `stages`, without the header: an export streamed a page at a time."""
    return _csv_text(
        row
        for stage in stages
        for row in _stage_rows(stage, exchanges.get(stage.exchange, ExchangeNames()))
    )


def _csv_text(rows: Iterable[list[str] | list[str | int]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _stage_rows(stage: StagePublic, exchange: ExchangeNames) -> Iterator[list[str | int]]:
    sources = stage.sources
    shared = {
        "notes": stage.notes,
        "source_urls": " ".join(source.url for source in sources),
        "source_publishers": LIST_SEPARATOR.join(source.publisher for source in sources),
        "exchange_title": exchange.title,
        "source_claims": CLAIM_SEPARATOR.join(source.claim for source in sources),
        "disputed_reason": stage.disputed_reason or "",
        "conflict": exchange.conflict,
        "conflict_name": exchange.conflict_name,
        "source_announcers": LIST_SEPARATOR.join(s.announcer or "" for s in sources),
        "source_speaks_for": LIST_SEPARATOR.join(s.speaks_for or "" for s in sources),
        "source_figures": json_cell(
            [[figure.model_dump(mode="json") for figure in s.figures] for s in sources]
        ),
        "exchange_parties": json_cell([party.model_dump() for party in exchange.parties]),
        "exchange_terms": json_cell([terms.model_dump(mode="json") for terms in exchange.terms]),
    }
    published = LIST_SEPARATOR.join(
        "" if source.published_at is None else source.published_at.isoformat() for source in sources
    )
    names = {party.slug: party.name for party in exchange.parties}
    # `side` is the first API's: only a two-party exchange has sides a and b.
    sides = dict(zip(names, SIDE_KEYS, strict=True)) if len(names) == len(SIDE_KEYS) else {}
    releases: list[ReleasePublic | None] = [*stage.releases] or [None]
    for release in releases:
        cells: dict[str, str | int] = {
            "exchange": stage.exchange,
            "stage_id": stage.id,
            "date": stage.date.isoformat(),
            "status": stage.status,
            "source_published_at": published,
            **shared,
        }
        if release is not None:
            counts = {
                "military": release.military,
                "civilian": release.civilian,
                "people": release.people,
                "remains": release.remains,
            }
            side = sides.get(release.received_by, "")
            cells |= {name: "" if n is None else n for name, n in counts.items()} | {
                "side": side,
                "side_name": names.get(release.received_by, "") if side else "",
                "released_by": release.released_by,
                "released_by_name": names.get(release.released_by, ""),
                "received_by": release.received_by,
                "received_by_name": names.get(release.received_by, ""),
                "kind": release.kind,
                "qualifier": release.qualifier,
                "outside_deal": "true" if release.outside_deal else "false",
                "categories": categories_cell(release.categories),
                "release_date": release.date.isoformat() if release.date else "",
            }
        yield [
            defuse(value) if isinstance(value, str) else value
            for value in (cells.get(name, "") for name in CSV_HEADER)
        ]
