"""The v2 seed file, app/data/seed.json, read as plain JSON: its shape, its rules and its facts.

The expected values come from reading the reference data set (exchanges-reference-v2.json and its
report), not from scripts/build_seed.py, which writes the file.
"""

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SEED = Path(__file__).resolve().parent.parent / "app" / "data" / "seed.json"

# The slugs of the first seed (26 exchanges): embed codes in articles use them.
TODAYS_SLUGS = [
    "2022-06-28-small",
    "2022-06-29-azovstal-144",
    "2022-09-21-azov-medvedchuk",
    "2022-12-31-140-82",
    "2023-02-04-116",
    "2023-04-10-100",
    "2023-04-16-easter-130",
    "2023-04-26-44-40",
    "2024-01-03-uae-230-248",
    "2024-01-31-uae-207-195",
    "2024-02-08-uae-100",
    "2024-05-31-uae-75",
    "2024-08-24-115",
    "2024-09-14-uae-103",
    "2024-12-30-uae-189-150",
    "2025-01-15-uae-25",
    "2025-02-05-uae-150",
    "2025-03-19-175-plus-wounded",
    "2025-04-19-easter-277",
    "2025-05-06-uae-205",
    "istanbul-1000-for-1000",
    "2025-istanbul-2-bodies",
    "2025-2026-body-repatriations",
    "2025-istanbul-3-1200",
    "2025-08-24-uae-146",
    "2025-10-02-205",
]
PROSE = {
    "about",
    "title",
    "title_uk",
    "summary",
    "summary_uk",
    "note",
    "notes",
    "claim",
    "disputed_reason",
    "venue",
    "publisher",
    "announcer",
}
MEASURES = ("military", "civilian", "people", "remains")


@cache
def seed() -> dict[str, Any]:
    with SEED.open(encoding="utf-8") as file:
        data: dict[str, Any] = json.load(file)
    return data


def exchange(slug: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [e for e in seed()["exchanges"] if e["slug"] == slug]
    assert len(found) == 1, slug
    return found[0]


def stage(slug: str, date: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s for s in exchange(slug)["stages"] if s["date"] == date]
    assert len(found) == 1, (slug, date)
    return found[0]


def walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in the file, lists looked through."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield name, item
            yield from walk(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, key)


def releases() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for e in seed()["exchanges"]:
        for s in e["stages"]:
            for release in s["releases"]:
                yield e, release


def counted() -> Iterator[dict[str, Any]]:
    """Every record with counts: releases, targets, source figures."""
    for e in seed()["exchanges"]:
        for version in e["terms"]:
            yield from version["targets"]
            for source in version["sources"]:
                yield from source["figures"]
        for s in e["stages"]:
            yield from s["releases"]
            for source in s["sources"]:
                yield from source["figures"]


def test_the_file_holds_72_exchanges_in_96_stages() -> None:
    exchanges = seed()["exchanges"]
    assert len(exchanges) == 72
    assert sum(len(e["stages"]) for e in exchanges) == 96
    assert list(seed()) == ["about", "parties", "conflicts", "exchanges", "official_totals"]


def test_every_slug_of_todays_seed_is_kept() -> None:
    slugs = [e["slug"] for e in seed()["exchanges"]]
    assert len(set(slugs)) == len(slugs)
    assert [slug for slug in TODAYS_SLUGS if slug not in slugs] == []


def test_every_reference_url_is_there_once_or_more() -> None:
    found = {value for key, value in walk(seed()) if key == "url"}
    assert len(found) == 364
    assert all(re.match(r"https?://[^/\s]+", url) for url in found)


def test_no_web_address_in_reader_facing_text() -> None:
    leaks = [
        value
        for key, value in walk(seed())
        if key in PROSE and isinstance(value, str) and re.search(r"https?://|www\.", value, re.I)
    ]
    assert leaks == []


def test_qualifiers_are_exact_about_or_at_least() -> None:
    qualifiers = {value for key, value in walk(seed()) if key == "qualifier"}
    assert qualifiers == {"exact", "about", "at_least"}


def test_counts_are_whole_and_parts_add_up() -> None:
    for record in counted():
        values = [record[m] for m in MEASURES if record[m] is not None]
        assert all(isinstance(v, int) and v >= 0 for v in values), record
        if None not in (record["military"], record["civilian"], record["people"]):
            assert record["people"] == record["military"] + record["civilian"], record


def test_releases_move_between_two_parties_of_their_exchange() -> None:
    for e, release in releases():
        parties = [p["slug"] for p in e["parties"]]
        assert release["released_by"] != release["received_by"]
        assert {release["released_by"], release["received_by"]} <= set(parties), e["slug"]
        if release["kind"] == "remains":
            assert (release["military"], release["civilian"], release["people"]) == (None,) * 3
        else:
            assert release["kind"] == "living"
            assert release["remains"] is None
        total = release["people"] if release["kind"] == "living" else release["remains"]
        if total is not None:
            assert all(v <= total for v in release["categories"].values()), e["slug"]


def test_every_stage_has_a_source_and_exchanges_run_in_date_order() -> None:
    firsts = []
    for e in seed()["exchanges"]:
        assert all(s["sources"] for s in e["stages"]), e["slug"]
        firsts.append(min((s["date"] for s in e["stages"]), default=e["agreed_on"]))
    assert firsts == sorted(firsts)


def test_russia_ukraine_exchanges_list_ukraine_first_as_side_a() -> None:
    war = [e for e in seed()["exchanges"] if e["conflict"] == "russia-ukraine-war"]
    assert len(war) == 69
    assert all([p["slug"] for p in e["parties"]] == ["ukraine", "russia"] for e in war)


def test_publication_dates_are_days_or_null() -> None:
    dates = [value for key, value in walk(seed()) if key == "published_at"]
    assert all(d is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dates)


def test_31_january_2024_keeps_both_announcers_figures_for_ukraine() -> None:
    figures = {
        (source["speaks_for"], figure["people"])
        for source in stage("2024-01-31-uae-207-195", "2024-01-31")["sources"]
        for figure in source["figures"]
        if figure["received_by"] == "ukraine"
    }
    assert figures == {("ukraine", 207), ("russia", 195)}


def test_19_april_2025_counts_the_wounded_outside_the_deal() -> None:
    moved = sorted(
        (r["received_by"], r["outside_deal"], r["people"])
        for r in stage("2025-04-19-easter-277", "2025-04-19")["releases"]
    )
    assert moved == [
        ("russia", False, 246),
        ("russia", True, 15),
        ("ukraine", False, 246),
        ("ukraine", True, 31),
    ]


def test_istanbul_2_bodies_deal_targets_6000_remains_for_ukraine() -> None:
    (terms,) = exchange("2025-istanbul-2-bodies")["terms"]
    targets = {t["received_by"]: t for t in terms["targets"]}
    assert targets["ukraine"]["remains"] == 6000
    assert targets["ukraine"]["people"] is None


def test_the_april_2023_yemen_exchange_has_three_parties() -> None:
    parties = [p["slug"] for p in exchange("2023-04-yemen-887-deal")["parties"]]
    assert parties == ["houthis", "yemen-government", "saudi-arabia"]


def test_istanbul_1000_for_1000_in_three_days() -> None:
    istanbul = exchange("istanbul-1000-for-1000")
    (terms,) = istanbul["terms"]
    assert terms["kind"] == "original"
    assert {t["received_by"]: t["people"] for t in terms["targets"]} == {
        "ukraine": 1000,
        "russia": 1000,
    }
    days = [
        (s["date"], sorted((r["received_by"], r["people"]) for r in s["releases"]))
        for s in istanbul["stages"]
    ]
    assert days == [
        ("2025-05-23", [("russia", 390), ("ukraine", 390)]),
        ("2025-05-24", [("russia", 307), ("ukraine", 307)]),
        ("2025-05-25", [("russia", 303), ("ukraine", 303)]),
    ]
    first_day = istanbul["stages"][0]["releases"]
    assert all((r["military"], r["civilian"]) == (270, 120) for r in first_day)


@pytest.mark.parametrize(
    ("measure", "party", "as_of", "figure"),
    [("people", "ukraine", "2026-03-11", 8050), ("remains", "ukraine", "2025-06-16", 15801)],
)
def test_official_totals_hold_ukraines_cumulative_counts(
    measure: str, party: str, as_of: str, figure: int
) -> None:
    totals = seed()["official_totals"]
    assert {t["party"] for t in totals} == {"ukraine"}
    assert {t["conflict"] for t in totals} == {"russia-ukraine-war"}
    assert any(
        (t["measure"], t["party"], t["as_of"], t["figure"]) == (measure, party, as_of, figure)
        for t in totals
    )
