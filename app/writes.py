"""Every write to exchanges, terms, stages and official totals, each with its revision in the
history, in the caller's transaction (the caller commits). The form, the CSV importer, the JSON
API and the seed all come through here with the same schemas (`StageCreate`, `ExchangeCreate`),
so one set of rules holds whoever writes."""

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy import and_, delete, func, or_, select, update
from sqlmodel import Session, col

from app import tally
from app.crud import exchange_sources, exchange_terms, stage_sides
from app.models import (
    SIDE_KEYS,
    Exchange,
    ExchangeCreate,
    ExchangeParty,
    ExchangeSideCreate,
    FigureIn,
    OfficialTotal,
    OfficialTotalWrite,
    Party,
    PartyIn,
    ReleaseIn,
    ReleasePublic,
    Revision,
    Source,
    SourceCreate,
    SourceFigure,
    Stage,
    StageCreate,
    StageRelease,
    Terms,
    TermsIn,
    TermsTarget,
    utcnow,
)
from app.models import Conflict as ConflictRow

FIGURES = ("military", "civilian", "people", "remains")


class Invalid(ValueError):
    """Input the schemas cannot judge alone (a party not in the exchange): `loc` names the
    field as the write schema does, e.g. ("releases", 0, "received_by")."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _id(row: Party | ConflictRow | Exchange | Terms) -> int:
    """A stored row's id (flushed rows always have one)."""
    assert row.id is not None
    return row.id


def _record(
    session: Session,
    *,
    entity: str,
    entity_id: int | None,
    action: str,
    actor: str,
    user_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
    is_correction: bool = False,
    version: int | None = None,
) -> None:
    assert entity_id is not None
    session.add(
        Revision(
            entity=entity,
            entity_id=entity_id,
            action=action,
            actor=actor,
            user_id=user_id,
            before=before,
            after=after,
            reason=reason,
            is_correction=is_correction,
            version=version,
        )
    )


# ---- parties and conflicts ---------------------------------------------------------------


def slugify(name: str) -> str:
    """A URL-safe slug from a name ("Saudi Arabia" -> "saudi-arabia"); Cyrillic is kept out."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:100].strip("-") or "party"  # room for a "-2" within the column's 120


def _unique_slug(session: Session, model: type[Party] | type[ConflictRow], base: str) -> str:
    slug, number = base, 1
    while session.scalar(select(col(model.id)).where(col(model.slug) == slug)) is not None:
        number += 1
        slug = f"{base}-{number}"
    return slug


def party_for(session: Session, data: PartyIn) -> Party:
    """The party with this slug, created with the names given when it is new."""
    party = session.scalars(select(Party).where(col(Party.slug) == data.slug)).one_or_none()
    if party is None:
        party = Party(slug=data.slug, name=data.name or data.slug, name_uk=data.name_uk)
        session.add(party)
        session.flush()
    return party


def party_named(session: Session, name: str) -> Party:
    """The first API's parties are names: found by name (any case), else created."""
    party = session.scalars(
        select(Party).where(func.lower(Party.name) == name.lower()).order_by(col(Party.id))
    ).first()
    if party is None:
        party = Party(slug=_unique_slug(session, Party, slugify(name)), name=name)
        session.add(party)
        session.flush()
    return party


def conflict_holding(session: Session, parties: list[Party]) -> ConflictRow | None:
    """The conflict whose exchanges hold all these parties (the oldest, if several)."""
    holding: set[int] | None = None
    for party in parties:
        conflicts = set(
            session.scalars(
                select(col(Exchange.conflict_id))
                .join(ExchangeParty, col(ExchangeParty.exchange_id) == Exchange.id)
                .where(col(ExchangeParty.party_id) == party.id)
            )
        )
        holding = conflicts if holding is None else holding & conflicts
    return session.get(ConflictRow, min(holding)) if holding else None


def _conflict_for_parties(session: Session, parties: list[Party]) -> ConflictRow:
    """The one conflict holding all these parties, else a new one named after them."""
    conflict = conflict_holding(session, parties)
    if conflict is not None:
        return conflict
    name = "-".join(party.name for party in parties)[:200]
    conflict = ConflictRow(slug=_unique_slug(session, ConflictRow, slugify(name)), name=name)
    session.add(conflict)
    session.flush()
    return conflict


def conflict_for(session: Session, slug: str, name: str, name_uk: str | None = None) -> ConflictRow:
    conflict = session.scalars(
        select(ConflictRow).where(col(ConflictRow.slug) == slug)
    ).one_or_none()
    if conflict is None:
        conflict = ConflictRow(slug=slug, name=name, name_uk=name_uk)
        session.add(conflict)
        session.flush()
    return conflict


def exchange_parties(session: Session, exchange_id: int | None) -> list[Party]:
    """An exchange's parties in order (the first two are the first API's sides a and b)."""
    query = (
        select(Party)
        .join(ExchangeParty, col(ExchangeParty.party_id) == Party.id)
        .where(col(ExchangeParty.exchange_id) == exchange_id)
        .order_by(col(ExchangeParty.position))
    )
    return list(session.scalars(query))


# ---- sources, terms ----------------------------------------------------------------------


def _party_id(parties: dict[str, int], slug: str, loc: tuple[str | int, ...]) -> int:
    if slug not in parties:
        known = ", ".join(sorted(parties))
        raise Invalid(loc, f"{slug!r} is not a party of this exchange ({known})")
    return parties[slug]


def _add_sources(
    session: Session,
    sources: list[SourceCreate],
    *,
    exchange_id: int | None,
    parties: dict[str, int],
    stage_id: int | None = None,
    terms_id: int | None = None,
    loc: tuple[str | int, ...] = ("sources",),
) -> None:
    assert exchange_id is not None
    for position, source in enumerate(sources):
        row = Source(
            exchange_id=exchange_id,
            stage_id=stage_id,
            terms_id=terms_id,
            position=position,
            **source.model_dump(exclude={"figures"}),
        )
        session.add(row)
        if not source.figures:
            continue
        session.flush()
        assert row.id is not None
        for index, figure in enumerate(source.figures):
            where = (*loc, position, "figures", index, "received_by")
            session.add(
                SourceFigure(
                    exchange_id=exchange_id,
                    source_id=row.id,
                    **figure.model_dump(exclude={"received_by"}),
                    received_by=_party_id(parties, figure.received_by, where),
                )
            )


def _targets_from_sides(
    sides: list[ExchangeSideCreate], parties: list[Party]
) -> list[dict[str, Any]]:
    return [
        {"received_by": party.slug, **side.target.model_dump()}
        for side, party in zip(sorted(sides, key=lambda s: s.key), parties, strict=True)
    ]


def add_terms(
    session: Session,
    *,
    exchange: Exchange,
    data: TermsIn,
    actor: str,
    user_id: int | None = None,
    reason: str | None = None,
    record: bool = True,
) -> Terms:
    """A new terms version: an amendment is news, never a correction."""
    assert exchange.id is not None
    parties = {p.slug: p.id for p in exchange_parties(session, exchange.id) if p.id is not None}
    terms = Terms(
        exchange_id=exchange.id,
        **data.model_dump(exclude={"targets", "sources"}),
    )
    session.add(terms)
    session.flush()
    assert terms.id is not None
    for index, target in enumerate(data.targets):
        where = ("terms", index, "received_by") if not record else ("targets", index, "received_by")
        session.add(
            TermsTarget(
                exchange_id=exchange.id,
                terms_id=terms.id,
                **target.model_dump(exclude={"received_by"}),
                received_by=_party_id(parties, target.received_by, where),
            )
        )
    _add_sources(session, data.sources, exchange_id=exchange.id, parties=parties, terms_id=terms.id)
    if record:
        exchange.updated_at = utcnow()
        session.add(exchange)
        _record(
            session,
            entity="terms",
            entity_id=terms.id,
            action="create",
            actor=actor,
            user_id=user_id,
            before=None,
            after=data.model_dump(mode="json"),
            reason=reason,
        )
    return terms


def create_exchange(
    session: Session,
    *,
    data: ExchangeCreate,
    actor: str,
    user_id: int | None = None,
    reason: str | None = None,
) -> Exchange:
    """Insert an exchange with its parties, terms, sources, stages and history (caller commits).

    In the first API's shape (`sides`), parties are found or created by name, the exchange joins
    the one conflict holding both, and the sides' targets become its original terms."""
    if data.parties is not None:
        parties = [party_for(session, party) for party in data.parties]
        numbers = [party.official_number for party in data.parties]
    else:
        assert data.sides is not None
        sides = sorted(data.sides, key=lambda side: side.key)
        parties = [party_named(session, side.name) for side in sides]
        numbers = [None] * len(parties)
        if len({party.id for party in parties}) != len(parties):
            raise Invalid(("sides",), "the two sides must be different parties")
    if data.conflict is not None:
        conflict = conflict_for(
            session, data.conflict.slug, data.conflict.name, data.conflict.name_uk
        )
    else:
        conflict = _conflict_for_parties(session, parties)
    now = utcnow()
    exchange = Exchange(
        **data.model_dump(
            exclude={
                "sides", "sources", "stages", "conflict", "parties", "terms", "summary",
                "planned_stages",
            }
        ),
        conflict_id=_id(conflict),
        created_at=now,
        updated_at=now,
    )  # fmt: skip
    session.add(exchange)
    session.flush()
    assert exchange.id is not None
    for position, (party, number) in enumerate(zip(parties, numbers, strict=True)):
        session.add(
            ExchangeParty(
                exchange_id=exchange.id,
                party_id=_id(party),
                position=position,
                official_number=number,
            )
        )
    session.flush()
    if data.terms is not None:
        versions = data.terms
    else:
        assert data.sides is not None
        targets = _targets_from_sides(data.sides, parties)
        versions = [
            TermsIn.model_validate(
                {
                    "effective": data.agreed_on,
                    "planned_stages": data.planned_stages,
                    "targets": targets,
                }
            )
        ]
    for index, version in enumerate(versions):
        try:
            add_terms(session, exchange=exchange, data=version, actor=actor, record=False)
        except Invalid as invalid:
            raise Invalid(("terms", index, *invalid.loc), str(invalid)) from None
    slugs = {party.slug: party.id for party in parties if party.id is not None}
    _add_sources(session, data.sources, exchange_id=exchange.id, parties=slugs)
    _record(
        session,
        entity="exchange",
        entity_id=exchange.id,
        action="create",
        actor=actor,
        user_id=user_id,
        before=None,
        after=data.model_dump(mode="json", exclude={"stages"}),
        reason=reason,
    )
    for index, stage in enumerate(data.stages):
        try:
            create_stage(
                session, exchange=exchange, data=stage, actor=actor, user_id=user_id, reason=reason
            )
        except Invalid as invalid:
            raise Invalid(("stages", index, *invalid.loc), str(invalid)) from None
    return exchange


# ---- stages ------------------------------------------------------------------------------


def releases_of(data: StageCreate, parties: list[Party]) -> list[ReleaseIn]:
    """A stage's releases: as given, or from the first API's sides (what side a received,
    side b released; a side's remains in a release of their own)."""
    if data.releases is not None:
        return data.releases
    assert data.sides is not None
    if len(parties) != len(SIDE_KEYS):
        raise Invalid(("sides",), "sides a and b are for two-party exchanges: give `releases`")
    by_key = dict(zip(SIDE_KEYS, parties, strict=True))
    releases = []
    for side in sorted(data.sides, key=lambda side: side.key):
        received, released = by_key[side.key], by_key["b" if side.key == "a" else "a"]
        # A side always has its living figures (known or not), and its remains beside them.
        releases.append(
            ReleaseIn(
                released_by=released.slug,
                received_by=received.slug,
                military=side.military,
                civilian=side.civilian,
                people=side.people,
            )
        )
        if side.remains is not None:
            releases.append(
                ReleaseIn(
                    released_by=released.slug,
                    received_by=received.slug,
                    kind="remains",
                    remains=side.remains,
                )
            )
    return releases


def _figures(figure: FigureIn | ReleaseIn, released_by: str | None = None) -> tally.Figures:
    return tally.Figures(
        received_by=figure.received_by,
        kind=figure.kind,
        military=figure.military,
        civilian=figure.civilian,
        people=figure.people,
        remains=figure.remains,
        released_by=released_by,
    )


def stage_claims(data: StageCreate) -> list[tuple[SourceCreate, tally.Claim]]:
    """Each count a source gave, as a claim of the tally's, beside its source."""
    return [
        (source, tally.Claim(speaks_for=source.speaks_for, figures=_figures(figure)))
        for source in data.sources
        for figure in source.figures
    ]


def derived_status(releases: list[ReleaseIn], data: StageCreate) -> str:
    """The stage's status from its releases and its sources' figures (tally.stage_status)."""
    return tally.stage_status(
        [_figures(release, release.released_by) for release in releases],
        [claim for _, claim in stage_claims(data)],
        disputed_reason=data.disputed_reason,
    )


def _write_releases(
    session: Session, stage: Stage, releases: list[ReleaseIn], parties: dict[str, int]
) -> None:
    assert stage.id is not None
    for position, release in enumerate(releases):
        loc: tuple[str | int, ...] = ("releases", position)
        session.add(
            StageRelease(
                exchange_id=stage.exchange_id,
                stage_id=stage.id,
                position=position,
                **release.model_dump(exclude={"released_by", "received_by"}),
                released_by=_party_id(parties, release.released_by, (*loc, "released_by")),
                received_by=_party_id(parties, release.received_by, (*loc, "received_by")),
            )
        )


def create_stage(
    session: Session,
    *,
    exchange: Exchange,
    data: StageCreate,
    actor: str,
    user_id: int | None = None,
    reason: str | None = None,
) -> Stage:
    assert exchange.id is not None
    listed = exchange_parties(session, exchange.id)
    parties = {party.slug: party.id for party in listed if party.id is not None}
    releases = releases_of(data, listed)
    now = utcnow()
    stage = Stage(
        exchange_id=exchange.id,
        date=data.date,
        status=derived_status(releases, data),
        disputed_reason=data.disputed_reason,
        notes=data.notes,
        published=data.published,
        created_at=now,
        updated_at=now,
    )
    session.add(stage)
    session.flush()
    assert stage.id is not None
    _write_releases(session, stage, releases, parties)
    _add_sources(session, data.sources, exchange_id=exchange.id, parties=parties, stage_id=stage.id)
    exchange.updated_at = now
    session.add(exchange)
    _record(
        session,
        entity="stage",
        entity_id=stage.id,
        action="create",
        actor=actor,
        user_id=user_id,
        before=None,
        after=_stored_shape(data, releases),
        reason=reason,
        version=stage.version,
    )
    return stage


def _stored_shape(data: StageCreate, releases: list[ReleaseIn]) -> dict[str, Any]:
    """A stage as history keeps it and a PATCH merges into: the v2 write shape."""
    stored = data.model_copy(update={"releases": releases, "sides": None, "status": None})
    return stored.model_dump(mode="json", exclude={"sides", "status"})


SEED_REASON = "bundled seed data"
SEED_REVISED = "Revised against the published sources (an update of the bundled data)."
# What create_exchange stores on the exchange row itself.
EXCHANGE_RELATIONS = {
    "slug", "sides", "sources", "stages", "conflict", "parties", "terms", "summary",
    "planned_stages",
}  # fmt: skip


@dataclasses.dataclass
class SeedReport:
    added: int = 0
    revised: int = 0


def seed_exchanges(session: Session, *, exchanges: list[ExchangeCreate], actor: str) -> SeedReport:
    """Insert the exchanges whose slug is not stored yet, and bring those only `actor` ever
    wrote up to date with `exchanges` (a newer seed); an exchange anyone else has written to
    is left as it is."""
    report = SeedReport()
    stored = {
        exchange.slug: exchange
        for exchange in session.scalars(
            select(Exchange).where(col(Exchange.slug).in_([data.slug for data in exchanges]))
        )
    }
    for data in exchanges:
        exchange = stored.get(data.slug)
        if exchange is None:
            create_exchange(session, data=data, actor=actor, reason=SEED_REASON)
            report.added += 1
        elif only_written_by(session, exchange, actor) and _revise_seeded(
            session, exchange, data, actor
        ):
            report.revised += 1
    return report


def only_written_by(session: Session, exchange: Exchange, actor: str) -> bool:
    """Whether every revision of the exchange, its terms and its stages (deleted ones too) is
    `actor`'s."""
    stages = select(col(Stage.id)).where(col(Stage.exchange_id) == exchange.id)
    terms = select(col(Terms.id)).where(col(Terms.exchange_id) == exchange.id)
    others = session.scalar(
        select(func.count())
        .select_from(Revision)
        .where(
            col(Revision.actor) != actor,
            or_(
                and_(col(Revision.entity) == "exchange", col(Revision.entity_id) == exchange.id),
                and_(col(Revision.entity) == "stage", col(Revision.entity_id).in_(stages)),
                and_(col(Revision.entity) == "terms", col(Revision.entity_id).in_(terms)),
            ),
        )
    )
    return not others and exchange.deleted_at is None


def _stored_terms(session: Session, exchange: Exchange) -> list[dict[str, Any]]:
    assert exchange.id is not None
    versions = exchange_terms(session, [exchange.id]).get(exchange.id, [])
    return [TermsIn.model_validate(v.model_dump()).model_dump(mode="json") for v in versions]


def _revise_seeded(session: Session, exchange: Exchange, data: ExchangeCreate, actor: str) -> bool:
    """Bring a seeded exchange to a newer seed's `data` through the usual writes: its own fields
    and terms, then its stages matched by date (in order), new ones created, missing ones
    deleted. A changed figure is a correction, with its public note. The parties must be the
    same; otherwise nothing is done. Whether anything changed."""
    assert exchange.id is not None
    assert data.parties is not None
    parties = exchange_parties(session, exchange.id)
    if {party.slug for party in parties} != {party.slug for party in data.parties}:
        return False
    changed = False
    fields = data.model_dump(exclude=EXCHANGE_RELATIONS)
    terms = [version.model_dump(mode="json") for version in data.terms or []]
    before = exchange_snapshot(session, exchange)
    sources = [source.model_dump(mode="json") for source in data.sources]
    if (
        fields != exchange.model_dump(include=set(fields))
        or terms != _stored_terms(session, exchange)
        or sources != before["sources"]
    ):
        _replace_terms(session, exchange, data.terms or [])
        only_exchange = (col(Source.stage_id).is_(None), col(Source.terms_id).is_(None))
        session.execute(
            delete(Source).where(col(Source.exchange_id) == exchange.id, *only_exchange)
        )
        slugs = {party.slug: party.id for party in parties if party.id is not None}
        _add_sources(session, data.sources, exchange_id=exchange.id, parties=slugs)
        now = utcnow()
        session.execute(
            update(Exchange)
            .where(col(Exchange.id) == exchange.id)
            .values(**fields, version=exchange.version + 1, updated_at=now)
        )
        _record(
            session,
            entity="exchange",
            entity_id=exchange.id,
            action="update",
            actor=actor,
            user_id=None,
            before=before,
            after=data.model_dump(mode="json", exclude={"stages"}),
            reason=SEED_REVISED,
        )
        session.flush()
        session.refresh(exchange)
        changed = True
    stored = list(
        session.scalars(
            select(Stage)
            .where(col(Stage.exchange_id) == exchange.id, col(Stage.deleted_at).is_(None))
            .order_by(col(Stage.date), col(Stage.id))
        )
    )
    for stage_data in data.stages:
        same_day = next((stage for stage in stored if stage.date == stage_data.date), None)
        if same_day is None:
            create_stage(
                session, exchange=exchange, data=stage_data, actor=actor, reason=SEED_REVISED
            )
            changed = True
            continue
        stored.remove(same_day)
        version = same_day.version
        update_stage(
            session,
            stage=same_day,
            data=stage_data,
            expected_version=version,
            actor=actor,
            reason=SEED_REVISED,
        )
        changed = changed or same_day.version != version
    for stage in stored:
        delete_stage(
            session,
            stage=stage,
            expected_version=stage.version,
            actor=actor,
            user_id=None,
            reason=SEED_REVISED,
        )
        changed = True
    return changed


def _replace_terms(session: Session, exchange: Exchange, versions: list[TermsIn]) -> None:
    ids = [terms.id for terms in _terms_rows(session, exchange.id)]
    session.execute(delete(Source).where(col(Source.terms_id).in_(ids)))
    session.execute(delete(TermsTarget).where(col(TermsTarget.terms_id).in_(ids)))
    session.execute(delete(Terms).where(col(Terms.id).in_(ids)))
    for version in versions:
        add_terms(session, exchange=exchange, data=version, actor="", record=False)


# ---- changes: versioned, recorded, never silently overwritten ---------------------------


class Conflict(Exception):
    """Someone saved a newer version first; `current` is what is stored now. From a merge
    (merge_stage): `clashes` names the fields both changed, `mine` is the edit, `merged` the
    edit with every other field merged, `base` the version it started from, `by` the latest
    revision (who saved meanwhile)."""

    def __init__(
        self,
        current: dict[str, Any],
        version: int,
        *,
        clashes: Sequence[str] = (),
        merged: dict[str, Any] | None = None,
        mine: dict[str, Any] | None = None,
        base: dict[str, Any] | None = None,
        by: Revision | None = None,
    ) -> None:
        super().__init__("a newer version was saved meanwhile")
        self.current = current
        self.version = version
        self.clashes = list(clashes)
        self.merged = merged
        self.mine = mine
        self.base = base
        self.by = by


class ReasonRequired(ValueError):
    """A published figure changes: the public correction note needs the editor's reason."""

    field = "reason"

    def __init__(self) -> None:
        super().__init__("say why the published figures change; readers see it as a correction")


COUNTED = ("released_by", "received_by", "kind", *FIGURES, "qualifier", "outside_deal")


def counted_figures(snapshot: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What a stage's tally counts: its releases' parties, kinds, counts and qualifiers (not
    categories, notes or sources)."""
    return sorted(
        tuple(str(release.get(name)) for name in COUNTED) for release in snapshot["releases"]
    )


class FigureChange(NamedTuple):
    """One receiving party's counted total before and after a correction, in the deal and
    outside it."""

    party: str
    measure: str
    before: int | None
    after: int | None
    outside_before: int | None
    outside_after: int | None

    @property
    def in_deal_changed(self) -> bool:
        return self.before != self.after

    @property
    def outside_changed(self) -> bool:
        return self.outside_before != self.outside_after


def changed_figures(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[FigureChange]:
    """What a correction changed, for its public note: each receiving party's total that
    moved, in the deal or outside it ("Russia received 261, not 246")."""
    if not before or not after or "releases" not in before or "releases" not in after:
        return []

    def totals(snapshot: dict[str, Any]) -> dict[tuple[str, str, bool], int | None]:
        found: dict[tuple[str, str, bool], int | None] = {}
        for release in snapshot["releases"]:
            measure = "remains" if release.get("kind") == "remains" else "people"
            key = (str(release.get("received_by")), measure, bool(release.get("outside_deal")))
            value = release.get(measure)
            if value is None and measure == "people" and release.get("military") is not None:
                value = (release.get("military") or 0) + (release.get("civilian") or 0)
            previous = found.get(key, 0)
            found[key] = None if value is None or previous is None else previous + value
        return found

    old, new = totals(before), totals(after)
    changes = []
    for party, measure in sorted({key[:2] for key in old.keys() | new.keys()}):
        change = FigureChange(
            party,
            measure,
            # Nothing returned outside the deal is 0; an in-deal total never given is unknown.
            *(
                counted.get((party, measure, outside), 0 if outside else None)
                for outside in (False, True)
                for counted in (old, new)
            ),
        )
        if change.in_deal_changed or change.outside_changed:
            changes.append(change)
    return changes


def is_correction(before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    """A change is a correction when it changes a counted figure of a published stage (decided
    once, here, and stored on the revision)."""
    if not before or not after or not before.get("published") or not after.get("published"):
        return False
    return counted_figures(before) != counted_figures(after)


def stage_snapshot(session: Session, stage: Stage, *, with_sides: bool = True) -> dict[str, Any]:
    """The stage in its write shape: what history stores, conflicts show and a PATCH merges
    into. For a two-party exchange it also has the first API's `sides`."""
    parties = exchange_parties(session, stage.exchange_id)
    slugs = {party.id: party.slug for party in parties}
    releases = session.scalars(
        select(StageRelease)
        .where(col(StageRelease.stage_id) == stage.id)
        .order_by(col(StageRelease.position), col(StageRelease.id))
    ).all()
    sources = session.scalars(
        select(Source).where(col(Source.stage_id) == stage.id).order_by(col(Source.position))
    ).all()
    figures: dict[int | None, list[SourceFigure]] = {}
    if sources:
        for figure in session.scalars(
            select(SourceFigure)
            .where(col(SourceFigure.source_id).in_([source.id for source in sources]))
            .order_by(col(SourceFigure.id))
        ):
            figures.setdefault(figure.source_id, []).append(figure)
    snapshot: dict[str, Any] = {
        "date": stage.date.isoformat(),
        "disputed_reason": stage.disputed_reason,
        "notes": stage.notes,
        "published": stage.published,
        "releases": [
            {
                "received_by": slugs[release.received_by],
                "kind": release.kind,
                **{name: getattr(release, name) for name in FIGURES},
                "qualifier": release.qualifier,
                "released_by": slugs[release.released_by],
                "outside_deal": release.outside_deal,
                "categories": release.categories,
                "date": release.date.isoformat() if release.date else None,
            }
            for release in releases
        ],
        "sources": [
            {
                "url": source.url,
                "publisher": source.publisher,
                "announcer": source.announcer,
                "speaks_for": source.speaks_for,
                "published_at": source.published_at.isoformat() if source.published_at else None,
                "claim": source.claim,
                "figures": [
                    {
                        "received_by": slugs.get(figure.received_by, str(figure.received_by)),
                        "kind": figure.kind,
                        **{name: getattr(figure, name) for name in FIGURES},
                        "qualifier": figure.qualifier,
                    }
                    for figure in figures.get(source.id, [])
                ],
            }
            for source in sources
        ],
    }
    if with_sides and len(parties) == len(SIDE_KEYS):
        snapshot["sides"] = _sides_of(snapshot["releases"], [party.slug for party in parties])
    return snapshot


def _sides_of(releases: list[dict[str, Any]], parties: list[str]) -> list[dict[str, Any]]:
    publics = [ReleasePublic.model_validate(release) for release in releases]
    return [side.model_dump(mode="json") for side in stage_sides(publics, parties)]


def update_stage(
    session: Session,
    *,
    stage: Stage,
    data: StageCreate,
    expected_version: int,
    actor: str,
    user_id: int | None = None,
    reason: str | None = None,
) -> Stage:
    """Save a new version of a stage, or raise Conflict if `expected_version` is not current.
    A save that changes nothing writes nothing: no new version, no revision."""
    assert stage.id is not None
    before = stage_snapshot(session, stage, with_sides=False)
    if stage.version != expected_version:
        raise Conflict(stage_snapshot(session, stage), stage.version)
    listed = exchange_parties(session, stage.exchange_id)
    parties = {party.slug: party.id for party in listed if party.id is not None}
    releases = releases_of(data, listed)
    after = _stored_shape(data, releases)
    if not _changed(before, after):
        return stage
    correction = is_correction(before, after)
    if correction and not (reason or "").strip():
        raise ReasonRequired
    now = utcnow()
    # The version check is repeated inside the UPDATE so that two simultaneous saves cannot
    # both pass it: the second matches no row.
    changed = session.execute(
        update(Stage)
        .where(col(Stage.id) == stage.id, col(Stage.version) == expected_version)
        .values(
            date=data.date,
            status=derived_status(releases, data),
            disputed_reason=data.disputed_reason,
            notes=data.notes,
            published=data.published,
            version=expected_version + 1,
            updated_at=now,
        )
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        session.refresh(stage)
        raise Conflict(stage_snapshot(session, stage), stage.version)
    session.execute(delete(StageRelease).where(col(StageRelease.stage_id) == stage.id))
    session.execute(delete(Source).where(col(Source.stage_id) == stage.id))
    _write_releases(session, stage, releases, parties)
    _add_sources(
        session, data.sources, exchange_id=stage.exchange_id, parties=parties, stage_id=stage.id
    )
    _touch_exchange(session, stage.exchange_id, now)
    action = "publish" if data.published and not before["published"] else "update"
    _record(
        session,
        entity="stage",
        entity_id=stage.id,
        action=action,
        actor=actor,
        user_id=user_id,
        before=before,
        after=after,
        reason=reason,
        is_correction=correction,
        version=expected_version + 1,
    )
    session.flush()
    session.refresh(stage)
    return stage


def _comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot as JSON would give it back, to tell a save that changes nothing."""
    data = StageCreate.model_construct(**snapshot)
    return {
        "date": str(data.date),
        "disputed_reason": data.disputed_reason,
        "notes": data.notes,
        "published": bool(data.published),
        "releases": [
            ReleaseIn.model_validate(r).model_dump(mode="json") for r in snapshot["releases"]
        ],
        "sources": [
            SourceCreate.model_validate(x).model_dump(mode="json") for x in snapshot["sources"]
        ],
    }


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    old, new = _comparable(before), _comparable(after)
    return [name for name in new if old[name] != new[name]]


def stage_changes(session: Session, *, stage: Stage, data: StageCreate) -> list[str]:
    """The fields a save of `data` would change (none: saving it writes nothing)."""
    before = stage_snapshot(session, stage, with_sides=False)
    after = _stored_shape(data, releases_of(data, exchange_parties(session, stage.exchange_id)))
    return _changed(before, after)


def stage_revision(session: Session, stage_id: int, version: int | None = None) -> Revision | None:
    """The revision that made `version` of a stage (the latest one without a version)."""
    query = select(Revision).where(
        col(Revision.entity) == "stage", col(Revision.entity_id) == stage_id
    )
    if version is not None:
        query = query.where(col(Revision.version) == version)
    return session.scalars(query.order_by(col(Revision.id).desc())).first()


# What merge_stage merges field by field (a stage's releases and its sources each as a whole).
MERGED = ("date", "disputed_reason", "notes", "published", "releases", "sources")


@dataclasses.dataclass(frozen=True)
class Merged:
    """An edit to save on the current version: `theirs` names the fields others changed since
    the edit's version, kept as they saved them."""

    data: StageCreate
    version: int
    theirs: list[str]


def merge_stage(
    session: Session,
    *,
    stage: Stage,
    data: StageCreate,
    based_on: int,
    keep_theirs: Collection[str] = (),
    must_choose: Collection[str] = (),
) -> Merged:
    """Three-way merge of an edit begun on version `based_on` with what others saved since,
    field by field (date, notes, disputed reason, published, the releases, the sources): a field
    only one side changed takes that side's value. Raises Conflict naming the fields both
    changed differently (unless in `keep_theirs`, whose stored value is kept), every field in
    `must_choose` that differs from what is stored (a clash shown, but not yet decided), or
    every field when the version's snapshot is unknown. Nothing is overwritten unseen."""
    assert stage.id is not None
    if based_on == stage.version and not keep_theirs and not must_choose:
        return Merged(data, stage.version, [])
    current = stage_snapshot(session, stage, with_sides=False)
    base_snapshot: dict[str, Any] | None = current
    if based_on != stage.version:
        revision = stage_revision(session, stage.id, based_on)
        base_snapshot = (revision.after or revision.before) if revision else None
    mine = _stored_shape(data, releases_of(data, exchange_parties(session, stage.exchange_id)))
    theirs, edit = _comparable(current), _comparable(mine)
    by = stage_revision(session, stage.id)
    if not base_snapshot:
        differing = [name for name in MERGED if theirs[name] != edit[name]]
        if not differing:
            return Merged(data, stage.version, [])
        raise Conflict(current, stage.version, clashes=differing, mine=mine, by=by)
    base = _comparable(base_snapshot)
    merged: dict[str, Any] = {}
    kept: list[str] = []
    clashes: list[str] = []
    for name in MERGED:
        if name in keep_theirs or edit[name] == base[name]:
            merged[name] = current[name]
            kept += [name] if theirs[name] != base[name] else []
        else:
            merged[name] = mine[name]
            both_changed = theirs[name] not in (base[name], edit[name])
            undecided = name in must_choose and theirs[name] != edit[name]
            clashes += [name] if both_changed or undecided else []
    if clashes:
        raise Conflict(
            current, stage.version, clashes=clashes, merged=merged, mine=mine, base=base_snapshot,
            by=by,
        )  # fmt: skip
    try:
        return Merged(StageCreate.model_validate(merged), stage.version, kept)
    except ValidationError:
        # Each side valid, the two together not (one removed the only source, the other
        # published): the fields that differ are the editor's to choose.
        differing = [name for name in MERGED if theirs[name] != edit[name]]
        raise Conflict(
            current,
            stage.version,
            clashes=differing,
            merged=mine,
            mine=mine,
            base=base_snapshot,
            by=by,
        ) from None


def save_stage_edit(
    session: Session,
    *,
    stage: Stage,
    data: StageCreate,
    based_on: int,
    actor: str,
    user_id: int | None,
    reason: str | None,
    keep_theirs: Collection[str] = (),
    must_choose: Collection[str] = (),
) -> Merged:
    """An edit begun on version `based_on`, merged (merge_stage) and saved (update_stage). A
    save that loses the race between the two merges again once, with the newer version."""
    for attempt in (1, 2):
        merged = merge_stage(
            session, stage=stage, data=data, based_on=based_on,
            keep_theirs=keep_theirs, must_choose=must_choose,
        )  # fmt: skip
        try:
            update_stage(
                session, stage=stage, data=merged.data, expected_version=merged.version,
                actor=actor, user_id=user_id, reason=reason,
            )  # fmt: skip
            return merged
        except Conflict:
            if attempt == 2:
                raise
            session.rollback()
            session.refresh(stage)
    raise AssertionError("unreachable")


def _touch_exchange(session: Session, exchange_id: int, now: dt.datetime) -> None:
    session.execute(update(Exchange).where(col(Exchange.id) == exchange_id).values(updated_at=now))


def _bump_deleted_at(
    session: Session, stage: Stage, expected_version: int, deleted_at: dt.datetime | None
) -> None:
    """Set the stage's deleted_at in one UPDATE that checks the version, so that a delete or
    restore never lands on a stage someone else saved meanwhile (Conflict)."""
    assert stage.id is not None
    now = utcnow()
    changed = session.execute(
        update(Stage)
        .where(col(Stage.id) == stage.id, col(Stage.version) == expected_version)
        .values(deleted_at=deleted_at, version=expected_version + 1, updated_at=now)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        session.refresh(stage)
        raise Conflict(stage_snapshot(session, stage), stage.version)
    session.refresh(stage)
    _touch_exchange(session, stage.exchange_id, now)


def delete_stage(
    session: Session,
    *,
    stage: Stage,
    expected_version: int,
    actor: str,
    user_id: int | None,
    reason: str | None,
) -> None:
    """Soft delete: the stage leaves every page and tally; an admin can restore it. Raises
    Conflict if `expected_version` is not current: one cannot delete a correction unseen."""
    if stage.deleted_at is not None:
        return
    _bump_deleted_at(session, stage, expected_version, utcnow())
    _record(
        session,
        entity="stage",
        entity_id=stage.id,
        action="delete",
        actor=actor,
        user_id=user_id,
        before=stage_snapshot(session, stage, with_sides=False),
        after=None,
        reason=reason,
        version=stage.version,
    )


def restore_deleted_stage(
    session: Session, *, stage: Stage, expected_version: int, actor: str, user_id: int | None
) -> None:
    """Bring a deleted stage back; Conflict if `expected_version` is not current."""
    if stage.deleted_at is None:
        return
    _bump_deleted_at(session, stage, expected_version, None)
    _record(
        session,
        entity="stage",
        entity_id=stage.id,
        action="update",
        actor=actor,
        user_id=user_id,
        before=None,
        after=stage_snapshot(session, stage, with_sides=False),
        reason="restored after deletion",
        version=stage.version,
    )


# ---- exchanges ---------------------------------------------------------------------------


def _terms_rows(session: Session, exchange_id: int | None) -> list[Terms]:
    return list(
        session.scalars(
            select(Terms)
            .where(col(Terms.exchange_id) == exchange_id)
            .order_by(col(Terms.effective).asc().nulls_first(), col(Terms.id))
        )
    )


def _targets(session: Session, terms: Terms | None) -> dict[int, TermsTarget]:
    if terms is None:
        return {}
    rows = session.scalars(select(TermsTarget).where(col(TermsTarget.terms_id) == terms.id))
    return {target.received_by: target for target in rows}


def exchange_snapshot(session: Session, exchange: Exchange) -> dict[str, Any]:
    """The exchange in the first API's write shape (sides a and b, with the original terms'
    targets, when it has two parties), plus its v2 fields: what a PATCH merges into."""
    parties = exchange_parties(session, exchange.id)
    versions = _terms_rows(session, exchange.id)
    original = versions[0] if versions else None
    targets = _targets(session, original)
    sources = exchange_sources(session, exchange_id=exchange.id)
    snapshot = exchange.model_dump(
        mode="json",
        exclude={"id", "conflict_id", "version", "created_at", "updated_at", "deleted_at"},
    ) | {
        "planned_stages": original.planned_stages if original else None,
        "sources": [
            SourceCreate.model_validate(source.model_dump()).model_dump(mode="json")
            for source in sources
        ],
    }
    if len(parties) == len(SIDE_KEYS):
        snapshot["sides"] = [
            {
                "key": key,
                "name": party.name,
                "target": {
                    name: getattr(targets[party.id], name) if party.id in targets else None
                    for name in FIGURES
                },
            }
            for key, party in zip(SIDE_KEYS, parties, strict=True)
        ]
    else:
        snapshot["parties"] = [{"slug": party.slug, "name": party.name} for party in parties]
    return snapshot


def update_exchange(
    session: Session,
    *,
    exchange: Exchange,
    data: ExchangeCreate,
    expected_version: int,
    actor: str,
    user_id: int | None = None,
    reason: str | None = None,
) -> Exchange:
    """Save a new version of an exchange (the slug stays: it is in embed codes). In the first
    API's shape, side names rename the parties' entries and targets change the original terms
    (a correction once published); the deal's later changes are new terms versions."""
    assert exchange.id is not None
    before = exchange_snapshot(session, exchange)
    after = data.model_dump(mode="json", exclude={"stages"}) | {"slug": exchange.slug}
    if exchange.version != expected_version:
        raise Conflict(before, exchange.version)
    # Both as the write schema gives them back, so that a value sent as stored is no change.
    stored = ExchangeCreate.model_validate(before).model_dump(mode="json", exclude={"stages"})
    if all(after.get(key) == stored.get(key) for key in before):
        return exchange
    targets_before = [side["target"] for side in before.get("sides", [])]
    targets_after = [side["target"] for side in after.get("sides") or []] or targets_before
    correction = bool(before["published"]) and targets_before != targets_after
    if correction and not (reason or "").strip():
        raise ReasonRequired
    now = utcnow()
    fields = data.model_dump(
        exclude={
            "slug", "sides", "sources", "stages", "conflict", "parties", "terms", "summary",
            "planned_stages",
        }
    )  # fmt: skip
    changed = session.execute(
        update(Exchange)
        .where(col(Exchange.id) == exchange.id, col(Exchange.version) == expected_version)
        .values(**fields, version=expected_version + 1, updated_at=now)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        session.refresh(exchange)
        raise Conflict(exchange_snapshot(session, exchange), exchange.version)
    parties = exchange_parties(session, exchange.id)
    if data.sides is not None and len(parties) == len(SIDE_KEYS):
        _update_sides(session, exchange, data, parties)
    session.execute(
        delete(Source).where(
            col(Source.exchange_id) == exchange.id,
            col(Source.stage_id).is_(None),
            col(Source.terms_id).is_(None),
        )
    )
    slugs = {party.slug: party.id for party in parties if party.id is not None}
    _add_sources(session, data.sources, exchange_id=exchange.id, parties=slugs)
    action = "publish" if data.published and not before["published"] else "update"
    _record(
        session,
        entity="exchange",
        entity_id=exchange.id,
        action=action,
        actor=actor,
        user_id=user_id,
        before=before,
        after=after,
        reason=reason,
        is_correction=correction,
    )
    session.flush()
    session.refresh(exchange)
    return exchange


def _update_sides(
    session: Session, exchange: Exchange, data: ExchangeCreate, parties: list[Party]
) -> None:
    """The first API's sides: a new name is another party; targets edit the original terms."""
    assert data.sides is not None
    versions = _terms_rows(session, exchange.id)
    original = versions[0] if versions else None
    if original is None:
        original = Terms(exchange_id=_id(exchange), effective=exchange.agreed_on)
        session.add(original)
        session.flush()
    original.planned_stages = data.planned_stages
    session.add(original)
    for side, party in zip(sorted(data.sides, key=lambda s: s.key), parties, strict=True):
        current = party
        if side.name != party.name:
            current = party_named(session, side.name)
            session.execute(
                update(ExchangeParty)
                .where(
                    col(ExchangeParty.exchange_id) == exchange.id,
                    col(ExchangeParty.party_id) == party.id,
                )
                .values(party_id=current.id)
            )
        # The update above carried this party's rows over (ON UPDATE CASCADE).
        session.execute(
            delete(TermsTarget).where(
                col(TermsTarget.terms_id) == original.id,
                col(TermsTarget.received_by) == current.id,
            )
        )
        session.add(
            TermsTarget(
                exchange_id=_id(exchange),
                terms_id=_id(original),
                received_by=_id(current),
                **side.target.model_dump(),
            )
        )


def history(session: Session, *, entity: str, entity_id: int) -> list[Revision]:
    """Every revision of one exchange or stage, newest first."""
    query = (
        select(Revision)
        .where(col(Revision.entity) == entity, col(Revision.entity_id) == entity_id)
        .order_by(col(Revision.at).desc(), col(Revision.id).desc())
    )
    return list(session.scalars(query))


# ---- official totals ---------------------------------------------------------------------


def add_official_total(
    session: Session,
    *,
    conflict: ConflictRow,
    data: OfficialTotalWrite,
    actor: str,
    user_id: int | None = None,
) -> OfficialTotal:
    party = session.scalars(select(Party).where(col(Party.slug) == data.party)).one_or_none()
    if party is None:
        raise Invalid(("party",), f"no party with slug {data.party!r}")
    total = OfficialTotal(
        conflict_id=_id(conflict),
        party_id=_id(party),
        as_of=data.as_of,
        measure=data.measure,
        figure=data.people,
        qualifier=data.qualifier,
        note=data.note,
        url=data.source.url,
        publisher=data.source.publisher,
        announcer=data.source.announcer,
        published_at=data.source.published_at,
        claim=data.source.claim,
    )
    session.add(total)
    session.flush()
    _record(
        session,
        entity="official_total",
        entity_id=total.id,
        action="create",
        actor=actor,
        user_id=user_id,
        before=None,
        after=data.model_dump(mode="json", exclude={"reason"}),
        reason=data.reason,
    )
    return total
