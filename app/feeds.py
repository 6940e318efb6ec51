"""Atom feeds (RFC 4287) of published stages, their corrections and changes to deals, built from
what the database gave: no I/O here."""

import datetime as dt
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]

from app.crud import Amendment, StageCorrection
from app.i18n import Formats
from app.models import FigurePublic, ReleasePublic, StagePublic, StageSidePublic, TermsPublic
from app.revisions import ENGLISH, Correction
from app.tally import stage_people

MEDIA_TYPE = "application/atom+xml; charset=utf-8"
# Ids must never change once readers have seen them (RFC 4287, 4.2.6), whatever BASE_URL becomes.
TAG = "tag:swaptally,2025:"
# A feed without entries must still answer with a fixed `updated`, or it could never be cached.
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# lxml refuses characters XML 1.0 cannot carry; an editor's stray control character must not 500.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# People read titles and content: dates as the English pages write them ("24 May 2025").
FORMATS = Formats("en")


@dataclass(frozen=True)
class Names:
    """What the stages refer to by key: exchange slug -> title, (slug, side key) -> side name;
    and each stage's corrections, oldest first, by stage id."""

    exchanges: Mapping[str, str]
    sides: Mapping[tuple[str, str], str]
    parties: Mapping[str, str] = field(default_factory=dict)  # party slug -> name
    corrections: Mapping[int, Sequence[Correction]] = field(default_factory=dict)

    def party(self, slug: str) -> str:
        return self.parties.get(slug, slug)

    def exchange(self, slug: str) -> str:
        return self.exchanges.get(slug, slug)

    def side(self, slug: str, key: str) -> str:
        return self.sides.get((slug, key), key)


def _count(value: int | None) -> str:
    return "undisclosed" if value is None else f"{value:,}"


def _people(side: StageSidePublic) -> str:
    """The side's people: "390", "at least 270" when a part of the split is unknown, or
    "undisclosed"."""
    figure = stage_people(side)
    if figure.count is None or not figure.at_least:
        return _count(figure.count)
    return f"at least {figure.count:,}"


def _xml_text(text: str) -> str:
    return NOT_XML.sub("", text)


def _returned(side: StageSidePublic, name: str) -> str:
    """For example "390 returned to Ukraine"; a stage of bodies says so, not "0 returned"."""
    if not side.remains:
        return f"{_people(side)} returned to {name}"
    if side.people == 0:
        return f"{side.remains:,} bodies returned to {name}"
    return f"{_people(side)} people and {side.remains:,} bodies returned to {name}"


def _figures(figures: FigurePublic) -> str:
    """A release or a claim's figures in words: "33 soldiers + 51 civilians", "1,245 bodies"."""
    qualifier = {"exact": "", "at_least": "at least ", "about": "about "}[figures.qualifier]
    if figures.kind == "remains":
        return f"{qualifier}{_count(figures.remains)} bodies"
    if figures.military is not None and figures.civilian is not None:
        return f"{qualifier}{figures.military:,} soldiers + {figures.civilian:,} civilians"
    if figures.people is not None:
        return f"{qualifier}{figures.people:,}"
    if figures.military is not None:
        return f"{qualifier}{figures.military:,} soldiers"
    return "undisclosed"


def _released(release: ReleasePublic, names: Names) -> str:
    outside = " (outside the exchange)" if release.outside_deal else ""
    return f"{_figures(release)} returned to {names.party(release.received_by)}{outside}"


def entry_title(stage: StagePublic, names: Names) -> str:
    """For example "Istanbul 1,000 for 1,000 — 23 May 2025: 390 returned to Ukraine, 390 …"."""
    if stage.sides:
        figures = ", ".join(
            _returned(side, names.side(stage.exchange, side.key)) for side in stage.sides
        )
    else:  # more than two parties: release by release
        figures = ", ".join(_released(r, names) for r in stage.releases if not r.outside_deal)
    return f"{names.exchange(stage.exchange)} — {FORMATS.date(stage.date)}: {figures}"


def entry_content(stage: StagePublic, names: Names) -> str:
    """The stage as escaped HTML: status, each side's breakdown, the notes, its corrections
    ("Corrected on 2 December 2026: Russia received 261, not 246. …"), then every source."""
    esc = html.escape
    sides = [
        f"<li>{esc(_released(release, names))}</li>"
        for release in stage.releases
        if release.outside_deal or not stage.sides
    ]
    for side in stage.sides:
        breakdown = (
            f"{esc(names.side(stage.exchange, side.key))}: {_people(side)} returned"
            f" · military {_count(side.military)} · civilians {_count(side.civilian)}"
        )
        if side.remains:
            breakdown += f" · remains repatriated {side.remains:,}"
        sides.append(f"<li>{breakdown}</li>")
    parts = [f"<p>Status: {esc(stage.status)}</p>", f"<ul>{''.join(sides)}</ul>"]
    if stage.notes.strip():
        parts.append(f"<p>{'<br>'.join(esc(stage.notes.strip()).splitlines())}</p>")
    if stage.disputed_reason:
        parts.append(f"<p>Disputed: {esc(stage.disputed_reason)}</p>")
    parts += [
        f"<p>{esc(ENGLISH.note(correction, names.parties))}</p>"
        for correction in names.corrections.get(stage.id, [])
    ]
    claims = [
        f"{esc(source.announcer or source.publisher)}: "
        + ", ".join(f"{_figures(f)} to {esc(names.party(f.received_by))}" for f in source.figures)
        for source in stage.sources
        if source.figures
    ]
    if stage.status == "disputed" and claims:
        parts.append(f"<p>Who said what: {'; '.join(claims)}</p>")
    sources = [
        f"<li>{esc(source.publisher)}: {esc(source.claim)}"
        f' (<a href="{esc(source.url)}">{esc(source.url)}</a>)</li>'
        for source in stage.sources
    ]
    if sources:
        parts.append(f"<p>Sources:</p><ul>{''.join(sources)}</ul>")
    return "".join(parts)


def _amendment_targets(terms: TermsPublic, names: Names) -> str:
    """ "Ukraine to receive 1,200. Russia to receive 1,200." as the exchange page says it."""
    said = []
    for target in terms.targets:
        count = target.people if target.people is not None else target.remains
        if count is not None:
            said.append(f"{names.party(target.received_by)} to receive {count:,}.")
    return " ".join(said)


def entry_updated(stage: StagePublic, names: Names) -> dt.datetime:
    """When the stage last changed: its latest correction at the latest (a correction is the
    change a reader of the feed must not miss)."""
    return max([stage.updated_at, *(c.at for c in names.corrections.get(stage.id, []))])


@dataclass(frozen=True)
class Entry:
    """One feed entry, whatever it tells: a stage, a correction or a change to a deal. `link`
    is a path on the site; `content` is HTML whose every user text is escaped; `day` is when
    it happened, which orders the feed (an edit moves `updated`, not the entry)."""

    id: str
    title: str
    updated: dt.datetime
    link: str
    content: str
    day: dt.date


def stage_entry(stage: StagePublic, names: Names) -> Entry:
    return Entry(
        id=f"{TAG}stage/{stage.id}",
        title=entry_title(stage, names),
        updated=entry_updated(stage, names),
        link=f"/exchanges/{stage.exchange}#stage-{stage.id}",
        content=entry_content(stage, names),
        day=stage.date,
    )


def correction_entry(corrected: StageCorrection, names: Names) -> Entry:
    """For example "Correction: Istanbul 1,000 for 1,000 — 23 May 2025: Russia received 261,
    not 246." A stage's entry says its corrections too; this one tells a reader who already
    read the stage that it changed."""
    correction = Correction.of(corrected.revision)
    changes = " ".join(ENGLISH.changes(correction.changes, names.parties))
    day = FORMATS.date(corrected.stage_date)
    title = f"Correction: {names.exchange(corrected.exchange)} — {day}"
    return Entry(
        id=f"{TAG}correction/{correction.id}",
        title=f"{title}: {changes}" if changes else title,
        updated=correction.at,
        link=f"/exchanges/{corrected.exchange}#stage-{corrected.stage_id}",
        content=f"<p>{html.escape(ENGLISH.note(correction, names.parties))}</p>",
        day=correction.at.astimezone(dt.UTC).date(),
    )


def amendment_entry(amendment: Amendment, names: Names) -> Entry:
    """For example "Istanbul 1,000 for 1,000 — the deal changed on 1 June 2025: Ukraine to
    receive 1,200.", with its note and sources."""
    esc = html.escape
    terms = amendment.terms
    title = f"{names.exchange(amendment.exchange)} — the deal changed"
    if terms.effective:
        title += f" on {FORMATS.date(terms.effective)}"
    targets = _amendment_targets(terms, names)
    parts = [f"<p>{esc(line)}</p>" for line in (terms.note.strip(), targets) if line]
    sources = [
        f'<li>{esc(source.publisher)}: {esc(source.claim)} (<a href="{esc(source.url)}">'
        f"{esc(source.url)}</a>)</li>"
        for source in terms.sources
    ]
    if sources:
        parts.append(f"<p>Sources:</p><ul>{''.join(sources)}</ul>")
    return Entry(
        id=f"{TAG}terms/{amendment.id}",
        title=f"{title}: {targets}" if targets else title,
        updated=amendment.at,
        link=f"/exchanges/{amendment.exchange}#agreement-heading",
        content="".join(parts),
        day=amendment.at.astimezone(dt.UTC).date(),
    )


def entries(
    stages: Sequence[StagePublic],
    names: Names,
    corrections: Sequence[StageCorrection] = (),
    amendments: Sequence[Amendment] = (),
) -> list[Entry]:
    """Every entry of a feed, latest first by the day it happened: a stage's date, the day a
    correction or a change to the deal was recorded (stages keep their order on one day)."""
    found = [stage_entry(stage, names) for stage in stages]
    found += [correction_entry(corrected, names) for corrected in corrections]
    found += [amendment_entry(amendment, names) for amendment in amendments]
    return sorted(found, key=lambda entry: entry.day, reverse=True)


def _feed(
    entries: Sequence[Entry],
    *,
    base_url: str,
    feed_id: str,
    title: str,
    feed_path: str,
    page_path: str,
) -> bytes:
    base = base_url.rstrip("/")
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(_xml_text(title))
    # The latest change to any entry, so an edited old stage still moves the feed forward.
    feed.updated(max((entry.updated for entry in entries), default=EPOCH))
    feed.author(name="Swap Tally", uri=f"{base}/")
    feed.link(href=f"{base}{feed_path}", rel="self", type="application/atom+xml")
    feed.link(href=f"{base}{page_path}", rel="alternate", type="text/html")
    feed.language("en")
    for entry in entries:
        written = feed.add_entry(order="append")
        written.id(entry.id)
        written.title(_xml_text(entry.title))
        written.updated(entry.updated)
        # feedgen 1.0 writes only href on entry links (lkiesow/python-feedgen#135); a link without
        # rel is the alternate one (RFC 4287, 4.2.7.2), which is all an entry has.
        written.link(href=f"{base}{entry.link}")
        written.content(_xml_text(entry.content), type="html")
    body: bytes = feed.atom_str(pretty=True)
    return body


def site_feed(entries: Sequence[Entry], *, base_url: str) -> bytes:
    """Entries across every exchange, in the order given."""
    return _feed(
        entries,
        base_url=base_url,
        feed_id=f"{TAG}feed",
        title="Swap Tally: every exchange, stage by stage",
        feed_path="/feed.atom",
        page_path="/",
    )


def exchange_feed(entries: Sequence[Entry], *, slug: str, title: str, base_url: str) -> bytes:
    """One exchange's entries, in the order given."""
    return _feed(
        entries,
        base_url=base_url,
        feed_id=f"{TAG}exchange/{slug}",
        title=f"{title}: Swap Tally",
        feed_path=f"/exchanges/{slug}/feed.atom",
        page_path=f"/exchanges/{slug}",
    )
