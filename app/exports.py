"""CSV exports: one row per stage and side, RFC 4180, safe to open in a spreadsheet."""

import csv
import io
from collections.abc import Iterable

from app.models import StagePublic

CSV_HEADER = [
    "exchange", "stage_id", "date", "status", "side", "side_name",
    "military", "civilian", "people", "remains", "notes", "source_urls", "source_publishers",
]  # fmt: skip
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def defuse(cell: str) -> str:
    """Prefix text a spreadsheet would run as a formula, so it is shown, never executed."""
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


def stages_csv(stages: Iterable[StagePublic], side_names: dict[tuple[str, str], str]) -> str:
    """`side_names` maps (exchange slug, side key) to the side's name. Unknown counts stay empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for stage in stages:
        urls = " ".join(source.url for source in stage.sources)
        publishers = "; ".join(source.publisher for source in stage.sources)
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
                ]
            )
    return buffer.getvalue()
