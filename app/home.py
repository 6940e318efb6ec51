"""The home page's table of exchanges: its sort, search and page, read from the query string.

The database searches, sorts and cuts the page (crud.exchange_table), so only the page's
exchanges are tallied: the page costs the same with 26 exchanges and with 2,000.
"""

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session

from app import crud, search
from app.models import ExchangePublic

SORTS = crud.TABLE_SORTS
ORDERS = ("asc", "desc")
PAGE_SIZE = 50
# A page asked past this is past the last anyway: the database's offsets stop at 64 bits.
LAST_PAGE_ASKED = 1_000_000


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
        # Never part of a title, and PostgreSQL refuses a NUL outright.
        q = search.CONTROL_CHARACTERS.sub("", params.get("q", "")).strip()
        return cls(sort=sort, order=order, q=q, page=page)

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


def shown_date(exchange: ExchangePublic) -> dt.date | None:
    """The date the table shows: when it was agreed, else when its first stage took place."""
    return exchange.agreed_on or exchange.first_stage_on


@dataclass(frozen=True)
class Table:
    rows: list[ExchangePublic]
    matching: int
    page: int
    pages: int


def table(session: Session, query: TableQuery, locale: str) -> Table:
    """The page of exchanges the query asks for, and how many match it. A page past the last
    shows the last."""
    asked = crud.ExchangeTable(
        title_contains=query.q,
        sort=query.sort,
        descending=query.order == "desc",
        locale=locale,
        offset=(min(query.page, LAST_PAGE_ASKED) - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    rows, matching = crud.exchange_table(session, asked)
    pages = max(1, -(-matching // PAGE_SIZE))
    if query.page > pages:
        last = dataclasses.replace(asked, offset=(pages - 1) * PAGE_SIZE)
        rows, matching = crud.exchange_table(session, last)
    return Table(rows, matching, min(query.page, pages), pages)
