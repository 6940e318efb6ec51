"""How tall a widget may get in an iframe that no script sizes: the first height of an embed code.

An iframe pasted without /embed.js, or whose host strips scripts, keeps the height its code
gives. That height must hold the whole widget at every width from NARROWEST up (a phone's
column, where text wraps most, and WIDEST, where bars sit side by side), so the widget's own page
is read block by block and each block's lines estimated from its text, with character widths
measured on the widest common sans-serif (DejaVu Sans) and rounded up. tests/browser/
test_embed_hosts.py measures real widgets against it.
"""

import math
import re
from html.parser import HTMLParser

NARROWEST, WIDEST = 300, 640  # CSS px of the iframe
PADDING_X, PADDING_Y = 24, 20  # #st-widget's padding, both sides together
FONT = 15.0  # px: the widget's root font size; small text is .85em
SMALL = FONT * 0.85
SLACK = 12  # px: rounding, and a font a little wider than measured

# Per block: (font size, its width per character in em, line height, the first line's height
# where it differs (a figure's larger number), space around it (margins)).
BLOCKS: dict[str, tuple[float, float, float, float, float]] = {
    "st-title": (FONT, 0.62, 21.0, 21.0, 6.0),
    "st-figure": (FONT, 0.64, 21.0, 36.0, 12.0),
    "st-note": (SMALL, 0.56, 17.9, 17.9, 0.0),
    "st-breakdown": (SMALL, 0.50, 17.9, 17.9, 0.0),
    "st-meta": (SMALL, 0.56, 17.9, 17.9, 6.0),
    "st-now": (SMALL, 0.56, 17.9, 17.9, 0.0),
    "st-credit": (SMALL, 0.56, 17.9, 17.9, 6.0),
}
COMPACT_FIGURE = (FONT, 0.64, 21.0, 26.0, 4.0)
BAR = 14.0  # px: a party's bar with its margins
CHART_MARGIN = 8.0
# The plot's padding round its drawing (widget.css, .chart-plot): the dates below take a second
# line in a container up to NARROW_CHART px wide.
CHART_PADDING, NARROW_CHART_PADDING, NARROW_CHART = 46.0, 62.0, 420


class _Blocks(HTMLParser):
    """The text of each block of the widget's page, in order, and its chart's height."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[tuple[str, str]] = []
        self.bars = 0
        self.chart_height: float | None = None  # the chart's drawing, in px at every width
        self._in_chart = False
        self._open: list[tuple[str, str | None]] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if "st-bar" in classes:
            self.bars += 1
        if "st-chart" in classes:
            self._in_chart = True
        if tag == "svg" and self._in_chart and self.chart_height is None:
            self.chart_height = float(dict(attrs).get("height") or 0)  # fixed px, any width
        if tag in ("svg", "script", "style", "title") or "st-vh" in classes:
            self._open.append((tag, "skip"))
            return
        block = next((name for name in BLOCKS if name in classes), None)
        self._open.append((tag, block))
        if block is not None:
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            opened, block = self._open.pop()
            if block not in (None, "skip"):
                self.blocks.append((block, " ".join("".join(self._text).split())))
            if opened == tag:
                return

    def handle_data(self, data: str) -> None:
        if self._open and any(block == "skip" for _, block in self._open):
            return
        self._text.append(data)


def _lines(text: str, size: float, per_char: float, width: float) -> int:
    """Lines the text wraps to, whole words kept together (a long number never breaks)."""
    capacity = max(1, int(width / (size * per_char)))
    lines, used = 0, 0  # lines begun, characters on the last one
    for word in re.split(r"\s+", text.strip()):
        if used and used + 1 + len(word) <= capacity:
            used += 1 + len(word)
            continue
        full, rest = divmod(len(word), capacity)  # on a new line, broken if it must be
        lines += full + (1 if rest else 0)
        used = rest or capacity
    return max(lines, 1)


def height_at(page: str, width: int, *, view: str) -> int:
    """The widget's height, estimated from its page, in an iframe `width` px wide."""
    parsed = _Blocks()
    parsed.feed(page)
    inner = width - PADDING_X
    total = PADDING_Y + parsed.bars * BAR
    for name, text in parsed.blocks:
        size, per_char, line, first, around = BLOCKS[name]
        if name == "st-figure" and view == "compact":
            size, per_char, line, first, around = COMPACT_FIGURE
        total += around + first + line * (_lines(text, size, per_char, inner) - 1)
    if parsed.chart_height is not None:
        padding = NARROW_CHART_PADDING if inner <= NARROW_CHART else CHART_PADDING
        total += CHART_MARGIN + padding + parsed.chart_height
    return math.ceil(total + SLACK)


def fitting_height(page: str, *, view: str) -> int:
    """The least height that holds the widget at every width from NARROWEST to WIDEST."""
    return max(height_at(page, width, view=view) for width in (NARROWEST, WIDEST))
