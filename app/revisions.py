"""Revisions in words, in a reader's language: what a correction changed ("Corrected on 2 December
2026: Russia received 261, not 246.") for the page, the history and the feed; and which fields an
edit changed, for the history."""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from babel.support import NullTranslations

from app.i18n import Formats
from app.models import Revision
from app.writes import FigureChange, changed_figures

# The stage's fields in the order its form shows them; an exchange's follow in snapshot order.
FIELD_ORDER = ("date", "published", "releases", "sources", "notes", "disputed_reason")
# Fields a stage's snapshot derives from others (its sides from its releases); an exchange's
# sides are its own.
DERIVED = frozenset({"sides"})
DATES = frozenset({"date", "agreed_on", "effective"})


@dataclass(frozen=True)
class Correction:
    """One correction of a stage: when, why, and each receiving party's total that moved."""

    id: int | None
    at: dt.datetime
    reason: str | None
    changes: list[FigureChange]

    @classmethod
    def of(cls, revision: Revision) -> "Correction":
        changes = changed_figures(revision.before, revision.after)
        return cls(revision.id, revision.at, revision.reason, changes)


class FieldChange(NamedTuple):
    """One field an edit changed, its values as stored (dates as dates)."""

    name: str
    before: Any
    after: Any


def _value(name: str, value: Any) -> Any:
    if name in DATES and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def field_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[FieldChange]:
    """The fields whose stored value differs between two snapshots; none for a creation or a
    deletion, which have only one."""
    if not before or not after:
        return []
    both = {**before, **after}
    derived = DERIVED if "releases" in both else frozenset()
    names = [name for name in FIELD_ORDER if name in both]
    names += [name for name in both if name not in names and name not in derived]
    return [
        FieldChange(name, _value(name, before.get(name)), _value(name, after.get(name)))
        for name in names
        if _same(before.get(name)) != _same(after.get(name))
    ]


def _same(value: Any) -> Any:
    """What two snapshots' values compare as: an empty text is no text."""
    return None if value in ("", [], {}) else value


@dataclass(frozen=True)
class Wording:
    """The sentences of a correction in one language, with its catalogue and formats."""

    translations: NullTranslations
    formats: Formats

    def _name(self, slug: str, parties: Mapping[str, Any]) -> str:
        party = parties.get(slug)
        if party is None:
            return slug
        if isinstance(party, str):
            return party
        local = getattr(party, f"name_{self.formats.locale}", None)
        return str(local or party.name)

    def corrected_on(self, at: dt.datetime) -> str:
        """ "Corrected on 2 December 2026:", the day in UTC as every time on the site."""
        day = self.formats.date(at.astimezone(dt.UTC).date())
        return self._("Corrected on %(date)s:") % {"date": day}

    def _(self, message: str) -> str:
        return self.translations.gettext(message)

    def _amount(self, measure: str, value: int | None) -> str:
        if value is None:
            if measure == "remains":
                return self._("an undisclosed number of bodies")
            return self._("an undisclosed number")
        if measure == "remains":
            shown = self.translations.ngettext("%(num)s body", "%(num)s bodies", value)
            return shown % {"num": self.formats.count(value)}
        return self.formats.count(value)

    def _moved(
        self, side: str, measure: str, before: int | None, after: int | None, *, outside: bool
    ) -> str:
        values = {"side": side, "after": self._amount(measure, after)}
        if outside and before == 0:
            message = self._("Outside the exchange, %(side)s also received %(after)s.")
        elif outside and before is None:
            message = self._(
                "Outside the exchange, %(side)s received %(after)s (previously undisclosed)."
            )
        elif before is None:
            message = self._("%(side)s received %(after)s (previously undisclosed).")
        elif outside:
            message = self._("Outside the exchange, %(side)s received %(after)s, not %(before)s.")
        else:
            message = self._("%(side)s received %(after)s, not %(before)s.")
        return message % (values | {"before": self.formats.count(before)})

    def changes(self, changes: Sequence[FigureChange], parties: Mapping[str, Any]) -> list[str]:
        """Each moved total as a sentence: "Russia received 261, not 246." `parties` maps a
        slug to its name or to a party with `name` and `name_uk`."""
        sentences = []
        for change in changes:
            side = self._name(change.party, parties)
            if change.in_deal_changed:
                sentences.append(
                    self._moved(side, change.measure, change.before, change.after, outside=False)
                )
            if change.outside_changed:
                sentences.append(
                    self._moved(
                        side,
                        change.measure,
                        change.outside_before,
                        change.outside_after,
                        outside=True,
                    )
                )
        return sentences

    def why(self, correction: Correction) -> str:
        """The editor's reason, or words for a correction that has neither reason nor figures."""
        if correction.reason:
            return correction.reason
        return "" if correction.changes else self._("figures updated")

    def note(self, correction: Correction, parties: Mapping[str, Any]) -> str:
        """The whole note as one line of text, for the feed."""
        parts = [
            self.corrected_on(correction.at),
            *self.changes(correction.changes, parties),
            self.why(correction),
        ]
        return " ".join(part for part in parts if part)


ENGLISH = Wording(NullTranslations(), Formats("en"))


@dataclass(frozen=True)
class Entry:
    """One revision as the history tells it: what kind of change, what it corrected, and which
    fields it changed."""

    revision: Revision
    action: str  # created, published, corrected, edited, restored, deleted
    correction: Correction | None
    fields: list[FieldChange]


def _action(revision: Revision) -> str:
    if revision.action == "create":
        return "created"
    if revision.action == "delete":
        return "deleted"
    if revision.before is None and revision.after is not None:
        return "restored"  # brought back after a deletion
    if revision.is_correction:
        return "corrected"
    return "published" if revision.action == "publish" else "edited"


def history_entries(revisions: Sequence[Revision]) -> list[Entry]:
    """Revisions, in the order given, in words."""
    return [
        Entry(
            revision=revision,
            action=_action(revision),
            correction=Correction.of(revision) if revision.is_correction else None,
            fields=field_changes(revision.before, revision.after),
        )
        for revision in revisions
    ]
