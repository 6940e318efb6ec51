"""Reading rendered pages by structure: parse once, select elements, compare their text."""

from bs4 import BeautifulSoup, Tag


def parse(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def text(element: Tag | None) -> str:
    """An element's visible text with whitespace collapsed (non-breaking spaces kept as spaces)."""
    assert element is not None
    return " ".join(element.get_text(" ").replace("\u00a0", " ").split())


def texts(page: BeautifulSoup, selector: str) -> list[str]:
    return [text(element) for element in page.select(selector)]


def inline(element: Tag | None) -> str:
    """Its text as read, inline markup (a `lang="en"` name) joined without added spaces."""
    assert element is not None
    return " ".join(element.get_text().replace("\u00a0", " ").split())
