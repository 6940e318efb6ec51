"""The home page's table of exchanges: its sort, search and page, read from the query string.

Sort and search run over the exchanges `crud.list_exchanges` already returns with their tallies
(one fixed set of statements); only a page of them is drawn. Titles are matched with Python's
casefold, which folds Cyrillic as SQLite's lower() does not, so both databases agree.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.models import ExchangePublic

SORTS = ("date", "title", "status", "stages")
ORDERS = ("asc", "desc")
PAGE_SIZE = 50
# A status sorts in the order an exchange moves through them.
STATUS_RANK = {"announced": 0, "in_progress": 1, "stalled": 2, "completed": 3}


class TableError(ValueError):
    """A query parameter the table cannot read: its name and value, which the page words (400)."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"{field} cannot be {value!r}")
        self.field, self.value = field, value


@dataclass(frozen=True)
class TableQuery:
    sort: str | None = None
    order: str = "asc"
    q: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> "TableQuery":
        sort = params.get("sort")
        if sort is not None and sort not in SORTS:
            raise TableError("sort", sort)
        order = params.get("order", "asc" if sort != "date" else "desc")
        if order not in ORDERS:
            raise TableError("order", order)
        try:
            page = int(params.get("page", "1"))
        except ValueError:
            page = 0
        if page < 1:
            raise TableError("page", params["page"])
        return cls(sort=sort, order=order, q=params.get("q", "").strip(), page=page)

    def params(self, **changes: object) -> dict[str, str]:
        """The query string of this table, changed; defaults left out of the permalink."""
        values: dict[str, object] = {
            "sort": self.sort,
            "order": self.order,
            "q": self.q,
            "page": self.page,
        }
        values.update(changes)
        out = {name: str(value) for name, value in values.items() if value}
        if "sort" not in out:
            out.pop("order", None)
        if out.get("page") == "1":
            del out["page"]
        return out

    def toggled(self, column: str) -> dict[str, str]:
        """The address a column header links to: this column, the other way if already sorted."""
        if self.sort == column:
            order = "desc" if self.order == "asc" else "asc"
        else:
            order = "desc" if column == "date" else "asc"
        return self.params(sort=column, order=order, page=1)

    def aria_sort(self, column: str) -> str | None:
        if self.sort != column:
            return None
        return "ascending" if self.order == "asc" else "descending"


def title_in(exchange: ExchangePublic, locale: str) -> str:
    return (exchange.title_uk or exchange.title) if locale == "uk" else exchange.title


def shown_date(exchange: ExchangePublic) -> dt.date | None:
    """The date the table shows: when it was agreed, else when its first stage took place."""
    return exchange.agreed_on or exchange.first_stage_on


def _date(exchange: ExchangePublic) -> dt.date:
    return shown_date(exchange) or dt.date.min


@dataclass(frozen=True)
class Table:
    rows: list[ExchangePublic]
    matching: int
    page: int
    pages: int


def table(exchanges: Sequence[ExchangePublic], query: TableQuery, locale: str) -> Table:
    """The page of exchanges the query asks for, and how many match it."""
    needle = query.q.casefold()
    found = [
        exchange
        for exchange in exchanges
        if needle in exchange.title.casefold() or needle in (exchange.title_uk or "").casefold()
    ]
    if query.sort is not None:
        keys = {
            "date": _date,
            "title": lambda exchange: title_in(exchange, locale).casefold(),
            "status": lambda exchange: STATUS_RANK.get(exchange.status, len(STATUS_RANK)),
            "stages": lambda exchange: exchange.stages_count,
        }
        found.sort(key=keys[query.sort], reverse=query.order == "desc")
    pages = max(1, -(-len(found) // PAGE_SIZE))
    start = (min(query.page, pages) - 1) * PAGE_SIZE
    return Table(found[start : start + PAGE_SIZE], len(found), min(query.page, pages), pages)
