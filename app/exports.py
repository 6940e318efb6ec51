"""CSV exports: one row per stage and side, RFC 4180, safe to open in a spreadsheet.

The layout is also what `app.importer` reads back, so an export round-trips. Several sources of a
stage share one cell per field: URLs separated by spaces, publishers and publication dates by "; "
(an unknown date is empty), claims one per line.
"""

import csv
import io
from collections.abc import Iterable, Mapping

from app.models import StagePublic

CSV_HEADER = [
    "exchange", "stage_id", "date", "status", "side", "side_name",
    "military", "civilian", "people", "remains", "notes", "source_urls", "source_publishers",
    "exchange_title", "source_published_at", "source_claims",
]  # fmt: skip
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "
CLAIM_SEPARATOR = "\n"


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


def stages_csv(
    stages: Iterable[StagePublic],
    side_names: dict[tuple[str, str], str],
    exchange_titles: Mapping[str, str] | None = None,
) -> str:
    """`side_names` maps (exchange slug, side key) to the side's name, `exchange_titles` a slug to
    its exchange's title (empty without it). Unknown counts stay empty."""
    titles = exchange_titles or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for stage in stages:
        urls = " ".join(source.url for source in stage.sources)
        publishers = LIST_SEPARATOR.join(source.publisher for source in stage.sources)
        published = LIST_SEPARATOR.join(
            "" if source.published_at is None else source.published_at.isoformat()
            for source in stage.sources
        )
        claims = CLAIM_SEPARATOR.join(source.claim for source in stage.sources)
        for side in stage.sides:
            counts = [side.military, side.civilian, side.people, side.remains]
            writer.writerow(
                [
                    defuse(stage.exchange),
                    stage.id,
                    stage.date.isoformat(),
                    stage.status,
                    side.key,
                    defuse(side_names.get((stage.exchange, side.key), "")),
                    *("" if count is None else count for count in counts),
                    defuse(stage.notes),
                    defuse(urls),
                    defuse(publishers),
                    defuse(titles.get(stage.exchange, "")),
                    published,
                    defuse(claims),
                ]
            )
    return buffer.getvalue()
