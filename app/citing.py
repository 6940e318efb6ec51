"""What the exchange page quotes and cites: each party's running total after every stage, by
`tally`'s rules, which source gave which figure, and a ready citation in the reader's language.

Pure: the page's data, a catalogue and formats in; figures and sentences out.
"""

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import astuple, dataclass
from gettext import NullTranslations
from typing import Any

from app import tally
from app.i18n import Formats
from app.models import ExchangeDetail, FigurePublic, ReleasePublic, SourcePublic, StagePublic

SITE = "Swap Tally"


def release_sums(release: FigurePublic) -> tally.StageSums:
    """One release as the SQL aggregates of `crud` count it, so that adding them up gives the
    sums `tally.party_tally` takes."""
    living, remains = release.kind == "living", release.kind == "remains"
    parts = (release.people, release.military, release.civilian)
    return tally.StageSums(
        stages=int(living),
        military=release.military or 0,
        military_known=int(release.military is not None),
        civilian=release.civilian or 0,
        civilian_known=int(release.civilian is not None),
        people_floor=tally.people_floor(release) if living else 0,
        people_known=int(living and tally.people_known(release)),
        any_people_known=int(any(value is not None for value in parts)),
        remains=release.remains or 0,
        remains_releases=int(remains),
        remains_known=int(release.remains is not None),
        at_least=int(release.qualifier == "at_least"),
        about=int(release.qualifier == "about"),
        at_least_remains=int(remains and release.qualifier == "at_least"),
        about_remains=int(remains and release.qualifier == "about"),
    )


def _added(sums: tally.StageSums, more: tally.StageSums) -> tally.StageSums:
    return tally.StageSums(*(a + b for a, b in zip(astuple(sums), astuple(more), strict=True)))


def running_totals(exchange: ExchangeDetail) -> dict[int, dict[str, tally.HeadlineFigure]]:
    """Per stage id, per receiving party: its headline figure in the deal after that stage
    ("697 after day 2"); releases outside the deal never count."""
    sums = {party.received_by: tally.StageSums() for party in exchange.tally}
    found: dict[int, dict[str, tally.HeadlineFigure]] = {}
    for stage in exchange.stages:
        for release in stage.releases:
            if release.received_by in sums and not release.outside_deal:
                sums[release.received_by] = _added(sums[release.received_by], release_sums(release))
        found[stage.id] = {}
        for party in exchange.tally:
            target = tally.Counts(**party.target.model_dump())
            counted = tally.party_tally(sums[party.received_by], target=target)
            found[stage.id][party.received_by] = tally.headline_figure(
                party.headline,
                counted.counts,
                undisclosed=counted.undisclosed,
                qualifier=counted.qualifiers[party.headline],
                target=counted.target,
                percent=counted.percent,
            )
    return found


def _gave(source: SourcePublic, release: ReleasePublic) -> bool:
    return any(
        (figure.received_by, figure.kind) == (release.received_by, release.kind)
        for figure in source.figures
    )


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Consecutive numbers as (first, last) runs: [1, 2, 3, 5] is [(1, 3), (5, 5)]."""
    runs: list[tuple[int, int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


def footnotes(stage: StagePublic) -> list[list[tuple[int, int]]]:
    """Per release of the stage, the sources behind its figures as runs of their numbers (from
    1; a marker "[1-8]" rather than eight): those that gave figures for its party and kind;
    where none did, every source of the stage that gave no figures (they report it whole)."""
    general = [n for n, source in enumerate(stage.sources, start=1) if not source.figures]
    found = []
    for release in stage.releases:
        specific = [n for n, source in enumerate(stage.sources, start=1) if _gave(source, release)]
        found.append(_runs(specific or general))
    return found


@dataclass(frozen=True)
class Alternative:
    """One figure that announcers gave for what a party received in a stage, and who gave it."""

    received_by: str
    figure: FigurePublic
    announcers: list[str]


def disputed_figures(
    stage: StagePublic, parties: Collection[str] | None = None
) -> list[tuple[str, FigurePublic]]:
    """(announcer, figures) of each claim in the stage that another contradicts, by the
    tally's rule (what makes a stage disputed), in the order given; only for `parties` if set."""
    given = [
        (source.announcer or source.publisher, figure, source.speaks_for)
        for source in stage.sources
        for figure in source.figures
        if parties is None or figure.received_by in parties
    ]
    claims = [
        tally.Claim(speaks_for, tally.Figures(**figure.model_dump(exclude={"qualifier"})))
        for _, figure, speaks_for in given
    ]
    return [given[index][:2] for index in tally.disputed_claims(claims)]


def alternatives(stage: StagePublic, parties: Collection[str] | None = None) -> list[Alternative]:
    """Where a stage's announcers contradict each other: each figure in question (only for
    `parties` if given) with who gave it, in the order first given. Empty where they agree,
    so a confirmed or single-sourced stage shows nothing more."""
    found: dict[str, Alternative] = {}
    for who, figure in disputed_figures(stage, parties):
        given = found.setdefault(
            figure.model_dump_json(), Alternative(figure.received_by, figure, [])
        )
        if who not in given.announcers:
            given.announcers.append(who)
    return list(found.values())


@dataclass(frozen=True)
class Words:
    """One language's catalogue and formats: what a citation is written with."""

    translations: NullTranslations
    formats: Formats

    def _(self, message: str, **values: Any) -> str:
        text = self.translations.gettext(message)
        return text % values if values else text

    def name(self, party: Any, slug: str) -> str:
        if party is None:
            return slug
        return str(getattr(party, f"name_{self.formats.locale}", None) or party.name)

    def figure(self, figure: tally.HeadlineFigure | tally.PeopleFigure) -> str:
        if figure.count is None:
            return self.translations.gettext("undisclosed")
        count = self.formats.count(figure.count)
        if isinstance(figure, tally.PeopleFigure):
            qualifier = "at_least" if figure.at_least else "exact"
        else:
            qualifier = figure.qualifier
        if qualifier == "at_least":
            return self._("at least %(count)s", count=count)
        return self._("about %(count)s", count=count) if qualifier == "about" else count


def stage_figures(words: Words, stage: StagePublic, parties: Mapping[str, Any]) -> str:
    """What a stage returned in the deal, party by party: "307 returned to Ukraine; …"."""
    said = []
    for release in stage.releases:
        if release.outside_deal:
            continue
        side = words.name(parties.get(release.received_by), release.received_by)
        if release.kind == "remains":
            count = release.remains or 0
            bodies = words.translations.ngettext(
                "%(num)s body returned to %(side)s", "%(num)s bodies returned to %(side)s", count
            )
            said.append(bodies % {"num": words.formats.count(count), "side": side})
        else:
            figure = words.figure(tally.stage_people(release))
            said.append(words._("%(count)s returned to %(side)s", count=figure, side=side))
    return "; ".join(said)


def total_figures(
    words: Words, totals: Mapping[str, tally.HeadlineFigure], parties: Mapping[str, Any]
) -> str:
    """Each party's running total: "697 returned to Ukraine; …" (bodies where remains count)."""
    said = []
    for slug, figure in totals.items():
        side = words.name(parties.get(slug), slug)
        count = words.figure(figure)
        if figure.measure == "remains":
            said.append(words._("%(count)s bodies returned to %(side)s", count=count, side=side))
        else:
            said.append(words._("%(count)s returned to %(side)s", count=count, side=side))
    return "; ".join(said)


def citation(
    words: Words,
    *,
    title: str,
    figures: str,
    source: SourcePublic | None,
    permalink: str,
    accessed: dt.date,
) -> str:
    """`Swap Tally, "Title", 307 returned to Ukraine on 23 May 2025 (source: Publisher, URL),
    permalink, accessed 2 December 2026.` in the words' language; `figures` carry their day."""
    values = {"site": SITE, "title": title, "figures": figures, "url": permalink}
    values["accessed"] = words.formats.date(accessed)
    if source is not None:
        values["source"] = f"{source.announcer or source.publisher}, {source.url}"
        return words._(
            "%(site)s, “%(title)s”, %(figures)s (source: %(source)s), %(url)s, "
            "accessed %(accessed)s.",
            **values,
        )
    if figures:
        return words._(
            "%(site)s, “%(title)s”, %(figures)s, %(url)s, accessed %(accessed)s.", **values
        )
    return words._("%(site)s, “%(title)s”, %(url)s, accessed %(accessed)s.", **values)


def cited_source(stage: StagePublic) -> SourcePublic | None:
    """The source a stage's citation names: the first that gave figures, else the first."""
    return next(
        (s for s in stage.sources if s.figures), stage.sources[0] if stage.sources else None
    )


@dataclass(frozen=True)
class StageCitation:
    totals: dict[str, tally.HeadlineFigure]
    footnotes: list[list[tuple[int, int]]]
    text: str
    permalink: str


def cite_exchange(
    words: Words, exchange: ExchangeDetail, *, title: str, base_url: str, accessed: dt.date
) -> tuple[str, dict[int, StageCitation]]:
    """The page's citation (each party's tally after the latest stage) and each stage's."""
    page = f"{base_url}/exchanges/{exchange.slug}"
    parties = {party.slug: party for party in exchange.parties}
    totals = running_totals(exchange)
    stages = {}
    for stage in exchange.stages:
        permalink = f"{page}#stage-{stage.id}"
        text = citation(
            words,
            title=title,
            figures=words._(
                "%(figures)s on %(date)s",
                figures=stage_figures(words, stage, parties),
                date=words.formats.date(stage.date),
            ),
            source=cited_source(stage),
            permalink=permalink,
            accessed=accessed,
        )
        stages[stage.id] = StageCitation(totals[stage.id], footnotes(stage), text, permalink)
    latest = exchange.stages[-1] if exchange.stages else None
    figures = ""
    if latest is not None:
        figures = words._(
            "%(figures)s by %(date)s",
            figures=total_figures(words, totals[latest.id], parties),
            date=words.formats.date(latest.date),
        )
    whole = citation(
        words,
        title=title,
        figures=figures,
        source=None,
        permalink=page,
        accessed=accessed,
    )
    return whole, stages
