"""The exchange tally as a picture: one layout, written as SVG, and rasterised from that same SVG
to PNG by resvg with the packaged Noto Sans font, so both show the same thing, byte for byte alike
on every run. Pure: no settings, no database; the font file is read on first use.
"""

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

import resvg_py
from PIL import ImageFont

DEFAULT_SIZE = (600, 220)
OG_SIZE = (1200, 630)
MIN_SIZE = (240, 170)
MAX_SIZE = (2400, 1260)  # twice the Open Graph card; a bigger request would only cost memory

FONT_FAMILY = "Noto Sans"
# For browsers showing the SVG without Noto Sans installed: these fallbacks are narrower than
# Noto Sans, so text laid out to fit it fits them too (a last-resort DejaVu Sans is not).
FONT_STACK = (
    "'Noto Sans', 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Liberation Sans', sans-serif"
)
_FONT_PACKAGE = "fontpkg_noto_sans"
_FONT_RESOURCE = "files/NotoSans[wdth,wght].ttf"

Theme = Literal["light", "dark"]


@dataclass(frozen=True)
class SideLine:
    """One receiving party's row: its name, its figure, a bar, and a note under the figure."""

    name: str  # "Ukraine" (user text)
    figure: str  # preformatted and localized, e.g. "at least 697 of 1,000 (69.7 %)"
    fraction: float  # bar fill 0.0..1.0
    note: str = ""  # e.g. "plus 31 outside the exchange · figures disputed: 195 to 207"
    colour: int | None = None  # index into the palette's party colours; None: by its row


@dataclass(frozen=True)
class TallyImage:
    title: str  # exchange title (user text)
    sides: Sequence[SideLine]  # one to MAX_ROWS
    status: str  # e.g. "Day 2 of 3 · updated 24 May 2025, 14:00 UTC"
    credit: str  # e.g. "Swap Tally · swaptally.example/exchanges/istanbul-1000-for-1000"
    corrected: bool = False
    corrected_label: str = "corrected"
    more: str = ""  # under the rows, e.g. "and 2 more parties": those not drawn


MAX_ROWS = 4


@dataclass(frozen=True)
class Palette:
    background: str
    ink: str
    muted: str
    track: str
    side_a: str
    side_b: str
    corrected: str
    side_c: str
    side_d: str

    @property
    def parties(self) -> tuple[str, ...]:
        """The colours of the parties of an exchange, by their place in it."""
        return (self.side_a, self.side_b, self.side_c, self.side_d)


# The site's colours (static/css/app.css); every text colour reaches WCAG AA (4.5:1) on the
# background, and the bars 3:1.
PALETTES: dict[str, Palette] = {
    "light": Palette(
        background="#ffffff",
        ink="#16191d",
        muted="#4d5560",
        track="#dfe4ea",
        side_a="#0a58a8",
        side_b="#b3470b",
        corrected="#8a5a00",
        side_c="#17753a",
        side_d="#7a3fb8",
    ),
    "dark": Palette(
        background="#121417",
        ink="#e8eaed",
        muted="#aab1bb",
        track="#2c3238",
        side_a="#7cb8ff",
        side_b="#ffab70",
        corrected="#f0c060",
        side_c="#6fdc8c",
        side_d="#d2a8ff",
    ),
}

ELLIPSIS = "…"
REGULAR, SEMIBOLD, BOLD = 400, 600, 700

# --- measuring text with the packaged font ---------------------------------------------------

_REFERENCE_SIZE = 1000  # advances are measured at this size and scaled, so hinting barely counts
_font_lock = threading.Lock()


@lru_cache(maxsize=1)
def font_path() -> Path:
    """The packaged font file that both the layout and the rasteriser use."""
    path = Path(str(files(_FONT_PACKAGE).joinpath(_FONT_RESOURCE)))
    if not path.is_file():  # pragma: no cover - a broken install
        raise RuntimeError(f"font file missing: {path}")
    return path


@lru_cache(maxsize=4)
def _font(weight: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.truetype(
        str(font_path()), _REFERENCE_SIZE, layout_engine=ImageFont.Layout.BASIC
    )
    axes = font.get_variation_axes()
    font.set_variation_by_axes(
        [weight if axis["name"] == b"Weight" else float(axis["default"] or 0) for axis in axes]
    )
    return font


@lru_cache(maxsize=8192)
def _advance(char: str, weight: int) -> float:
    with _font_lock:  # a FreeType face is not safe to use from two threads at once
        return _font(weight).getlength(char) / _REFERENCE_SIZE


def text_width(text: str, size: float, weight: int = REGULAR) -> float:
    """Width in pixels of `text` set in the packaged font, without kerning (so never too small)."""
    return size * sum(_advance(char, weight) for char in text)


# --- user text ---------------------------------------------------------------------------

# Characters XML 1.0 forbids (an SVG with them would not parse) and other control characters.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """One line of displayable text: control characters dropped, runs of space made one."""
    return _SPACES.sub(" ", _UNSAFE.sub(" ", text)).strip()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ellipsize(text: str, size: float, weight: int, max_width: float) -> str:
    if text_width(text, size, weight) <= max_width:
        return text
    while text and text_width(text.rstrip(" ·,;:-/") + ELLIPSIS, size, weight) > max_width:
        text = text[:-1]
    return text.rstrip(" ·,;:-/") + ELLIPSIS


def _break_long_word(line: str, word: str, size: float, weight: int, max_width: float) -> list[str]:
    """Lines for a word longer than a line, its first part filling `line`; prefers to break
    after '/' or '-' (URLs in the credit)."""
    lines: list[str] = []
    current = f"{line} " if line else ""
    for char in word:
        if text_width(current + char, size, weight) <= max_width or not current.strip():
            current += char
            continue
        cut = max(current.rfind("/"), current.rfind("-"))
        if cut >= len(current) // 2:
            lines.append(current[: cut + 1].rstrip())
            current = current[cut + 1 :] + char
        else:
            lines.append(current.rstrip())
            current = char
    return [*lines, current]


def wrap(text: str, size: float, weight: int, max_width: float, max_lines: int) -> list[str]:
    """`text` in at most `max_lines` lines no wider than `max_width`, the last one ellipsized
    when the text does not fit."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size, weight) <= max_width:
            current = candidate
        elif text_width(word, size, weight) <= max_width:
            lines.append(current)
            current = word
        else:
            *full, current = _break_long_word(current, word, size, weight, max_width)
            lines.extend(full)
    lines.append(current)
    if len(lines) > max_lines:
        kept, end = lines[: max_lines - 1], 0
        for line in kept:  # each line is a piece of `text`, in order
            end = text.index(line, end) + len(line)
        lines = [*kept, _ellipsize(text[end:].lstrip(), size, weight, max_width)]
    return lines


# --- layout ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    weight: int
    fill: str
    anchor: Literal["start", "end"] = "start"
    role: str = ""


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    radius: float = 0.0
    role: str = ""
    stroke: str = ""


@dataclass(frozen=True)
class _Metrics:
    """Pixel sizes at one scale (1 is the default 600 x 220), none below a readable floor."""

    pad: float
    title: float
    label: float
    bar: float
    status: float
    credit: float
    gap: float

    @classmethod
    def at(cls, scale: float, *, dense: bool = False) -> "_Metrics":
        def px(base: float, least: float) -> float:
            return max(base * scale, least)

        return cls(
            pad=px(18, 10),
            title=px(21, 14),
            label=px(15, 12),
            bar=px(7, 3) if dense else px(10, 6),
            status=px(13, 11),
            credit=px(11.5, 10),
            gap=px(6, 3) if dense else px(9, 5),
        )


@dataclass(frozen=True)
class _Fit:
    """What one layout try keeps: title and footer lines, the credit, whether the rows are
    dense (thin bars, tight gaps), and whether a long name may be shortened to keep its figure
    beside it."""

    title_lines: int
    footer_lines: int
    credit: bool = True
    dense: bool = False
    shorten: bool = False


_SCALE_STEP = 0.92
_LEAST_SCALE = 0.5  # below this every size is at its floor
_LINE = 1.25  # line height, in font sizes
_ASCENT, _DESCENT = 0.95, 0.3  # of the packaged font, in font sizes, rounded up
_SHORTEST_NAME = 0.3  # of a row's width: a dense row shortens a name no further

Item = Text | Rect


def _clamp(fraction: float) -> float:
    return 0.0 if math.isnan(fraction) else min(max(fraction, 0.0), 1.0)


def _bottom(items: list[Item]) -> float:
    return max(
        (i.y + i.height if isinstance(i, Rect) else i.y + i.size * _DESCENT for i in items),
        default=0.0,
    )


def _shift(items: list[Item], dy: float) -> list[Item]:
    return [replace(item, y=item.y + dy) for item in items]


def _lines(
    lines: list[str], x: float, top: float, size: float, weight: int, fill: str, role: str
) -> list[Item]:
    baseline = top + size * _ASCENT
    return [
        Text(x, baseline + i * size * _LINE, line, size, weight, fill, role=role)
        for i, line in enumerate(lines)
    ]


def _side_block(
    side: SideLine,
    colour: str,
    palette: Palette,
    m: _Metrics,
    left: float,
    width: float,
    shorten: bool = False,
) -> list[Item]:
    """Name and figure on one line when they fit (with the name shortened, if it may be),
    else one under the other; then the note, then the bar."""
    name, figure = clean(side.name), clean(side.figure)
    items: list[Item]
    name_width, figure_width = text_width(name, m.label, SEMIBOLD), text_width(figure, m.label)
    space = m.gap * 1.5
    room = width - figure_width - space  # for the name beside the figure
    if name_width <= room or (shorten and min(name_width, width * _SHORTEST_NAME) <= room):
        baseline = m.label * _ASCENT
        items = [
            Text(left, baseline, _ellipsize(name, m.label, SEMIBOLD, room), m.label, SEMIBOLD,
                 colour, role="side-name"),
            Text(left + width, baseline, figure, m.label, REGULAR, palette.ink, "end", "figure"),
        ]  # fmt: skip
    else:
        name_line = _ellipsize(name, m.label, SEMIBOLD, width)
        figure_lines = wrap(figure, m.label, REGULAR, width, 3)
        items = [
            *_lines([name_line], left, 0, m.label, SEMIBOLD, colour, "side-name"),
            *_lines(figure_lines, left, m.label * _LINE, m.label, REGULAR, palette.ink, "figure"),
        ]
    if note := clean(side.note):
        note_lines = wrap(note, m.status, REGULAR, width, 2)
        note_top = _bottom(items) + m.gap * 0.3
        items += _lines(note_lines, left, note_top, m.status, REGULAR, palette.muted, "note")
    top = _bottom(items) + m.gap * 0.5
    radius = m.bar / 2
    items.append(Rect(left, top, width, m.bar, palette.track, radius, "bar-track"))
    filled = width * _clamp(side.fraction)
    if filled > 0:
        items.append(Rect(left, top, filled, m.bar, colour, min(radius, filled / 2), "bar-fill"))
    return items


def _rows(
    image: TallyImage, palette: Palette, m: _Metrics, left: float, width: float, fit: _Fit,
    columns: int,
) -> list[Item]:  # fmt: skip
    """A block per party, `columns` to a row, then the line saying who is not drawn."""
    gutter = m.gap * 2
    column_width = (width - gutter * (columns - 1)) / columns
    items: list[Item] = []
    for first in range(0, len(image.sides), columns):
        row: list[Item] = []
        for place, side in enumerate(image.sides[first : first + columns], start=first):
            colours = palette.parties
            colour = colours[(place if side.colour is None else side.colour) % len(colours)]
            x = left + (place - first) * (column_width + gutter)
            row += _side_block(side, colour, palette, m, x, column_width, fit.shorten)
        items += _shift(row, _bottom(items) + m.gap * 1.2 if items else 0.0)
    if more := clean(image.more):
        lines = wrap(more, m.status, REGULAR, width, 1)
        items += _lines(lines, left, _bottom(items) + m.gap * 0.6, m.status, REGULAR,
                        palette.muted, "more")  # fmt: skip
    return items


def _footer(
    image: TallyImage, palette: Palette, m: _Metrics, left: float, width: float, fit: _Fit
) -> list[Item]:
    """The status, with the "corrected" mark at its right, then the credit."""
    items: list[Item] = []
    status_width = width
    if image.corrected:
        label = clean(image.corrected_label)
        box_width, box_height = text_width(label, m.credit, SEMIBOLD) + m.credit, m.credit * 1.5
        box_top = (m.status * _LINE - box_height) / 2
        right = left + width
        items += [
            Rect(right - box_width, box_top, box_width, box_height, "none", box_height / 4,
                 "corrected", stroke=palette.corrected),
            Text(right - m.credit / 2, box_top + m.credit * 1.1, label, m.credit, SEMIBOLD,
                 palette.corrected, "end", "corrected"),
        ]  # fmt: skip
        status_width -= box_width + m.gap
    status = wrap(clean(image.status), m.status, REGULAR, status_width, fit.footer_lines)
    items += _lines(status, left, 0, m.status, REGULAR, palette.muted, "status")
    if fit.credit:
        credit = wrap(clean(image.credit), m.credit, REGULAR, width, fit.footer_lines)
        credit_top = _bottom(items) + m.gap * 0.6
        items += _lines(credit, left, credit_top, m.credit, REGULAR, palette.muted, "credit")
    return items


def _layout(
    image: TallyImage, size: tuple[int, int], palette: Palette, m: _Metrics, fit: _Fit,
    columns: int = 1,
) -> tuple[list[Item], float]:  # fmt: skip
    """Everything drawn at these metrics as `fit` says, and the height it needs (may exceed
    the image's)."""
    width, height = size
    left, inner = m.pad, width - 2 * m.pad
    title = wrap(clean(image.title), m.title, BOLD, inner, fit.title_lines)
    top = _lines(title, left, m.pad, m.title, BOLD, palette.ink, "title")
    middle = _rows(image, palette, m, left, inner, fit, columns)
    footer = _footer(image, palette, m, left, inner, fit)

    gap = m.gap * 1.4
    needed = _bottom(top) + gap + _bottom(middle) + gap + _bottom(footer) + m.pad
    # Spare height goes around the bars, so a tall card is not a stretched short one.
    middle_top = _bottom(top) + gap + max(height - needed, 0.0) / 2
    footer_top = max(height - m.pad - _bottom(footer), middle_top + _bottom(middle) + gap)
    return [*top, *_shift(middle, middle_top), *_shift(footer, footer_top)], needed


def layout(image: TallyImage, *, width: int, height: int, theme: Theme) -> list[Item]:
    """What to draw: the largest type at which everything fits. A long title keeps its lines
    while the type can shrink by a quarter; then it loses lines, then the status and credit
    do; then the rows get dense, then the credit goes, and last a long name may be shortened
    (never a figure). A taller image gets larger type (up to 1.3 times its width's share),
    rather than just more empty space. Three or four parties on a wide image sit two to a
    row."""
    _check(image, width, height, theme)
    palette = PALETTES[theme]
    start = max(min(width / DEFAULT_SIZE[0] * 1.3, height / DEFAULT_SIZE[1]), _LEAST_SCALE)
    most_title_lines = 3 if height >= width * 0.45 else 2
    fits = [_Fit(lines, 2) for lines in range(most_title_lines, 0, -1)] + [
        _Fit(1, 1),
        _Fit(1, 1, dense=True),
        _Fit(1, 1, credit=False, dense=True),
        _Fit(1, 1, credit=False, dense=True, shorten=True),
    ]
    wide = len(image.sides) >= 3 and width >= 2.2 * height
    for columns in (2, 1) if wide else (1,):
        for fit in fits:
            least = _LEAST_SCALE if fit.footer_lines == 1 else max(start * 0.75, _LEAST_SCALE)
            scale = start
            while True:
                metrics = _Metrics.at(scale, dense=fit.dense)
                items, needed = _layout(image, (width, height), palette, metrics, fit, columns)
                if needed <= height:
                    return items
                if scale <= least:
                    break
                scale = max(scale * _SCALE_STEP, least)
    return items  # MIN_SIZE is chosen so that ordinary content never gets here


def _check(image: TallyImage, width: int, height: int, theme: str) -> None:
    if not (MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
        raise ValueError(
            f"size {width} x {height} is outside {MIN_SIZE[0]} x {MIN_SIZE[1]} .. "
            f"{MAX_SIZE[0]} x {MAX_SIZE[1]}"
        )
    if theme not in PALETTES:
        raise ValueError(f"unknown theme {theme!r}")
    if not 1 <= len(image.sides) <= MAX_ROWS:
        raise ValueError(f"an image shows one to {MAX_ROWS} parties, not {len(image.sides)}")


# --- output ----------------------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _svg_item(item: Item) -> str:
    if isinstance(item, Rect):
        paint = f'fill="{item.fill}"'
        if item.stroke:
            paint += f' stroke="{item.stroke}" stroke-width="1"'
        radius = f' rx="{_num(item.radius)}"' if item.radius else ""
        return (
            f'<rect class="{item.role}" x="{_num(item.x)}" y="{_num(item.y)}" '
            f'width="{_num(item.width)}" height="{_num(item.height)}"{radius} {paint}/>'
        )
    anchor = ' text-anchor="end"' if item.anchor == "end" else ""
    return (
        f'<text class="{item.role}" x="{_num(item.x)}" y="{_num(item.y)}" '
        f'font-size="{_num(item.size)}" font-weight="{item.weight}" fill="{item.fill}"{anchor}>'
        f"{_escape(item.text)}</text>"
    )


def _summary(image: TallyImage) -> str:
    sides = "; ".join(
        f"{clean(side.name)}: {clean(side.figure)}" + (f", {clean(side.note)}" if side.note else "")
        for side in image.sides
    )
    parts = [clean(image.title), sides, clean(image.more), clean(image.status)]
    if image.corrected:
        parts.append(clean(image.corrected_label))
    return ". ".join(part for part in parts if part)


def render_svg(
    image: TallyImage, *, width: int, height: int, theme: Theme, transparent: bool = False
) -> str:
    """A standalone SVG document: no script, no external reference, user text escaped."""
    items = layout(image, width=width, height=height, theme=theme)
    palette = PALETTES[theme]
    background = (
        ""
        if transparent
        else f'<rect width="{width}" height="{height}" fill="{palette.background}"/>'
    )
    body = "\n".join(_svg_item(item) for item in items)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">\n'
        f"<title>{_escape(_summary(image))}</title>\n"
        f"{background}\n"
        f'<g font-family="{FONT_STACK}">\n{body}\n</g>\n</svg>\n'
    )


ERROR_SIZE = (320, 60)


def render_error_svg(message: str, *, theme: Theme = "light") -> str:
    """A small picture saying why there is no tally (an unknown exchange, a bad option), so a
    newsletter shows a sentence rather than a broken image."""
    width, height = ERROR_SIZE
    palette = PALETTES[theme]
    lines = wrap(clean(message), 13, REGULAR, width - 24, 2)
    text = "".join(
        f'<text x="12" y="{24 + 18 * i}" font-size="13" fill="{palette.ink}">{_escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">\n<title>{_escape(clean(message))}</title>\n'
        f'<rect width="{width}" height="{height}" fill="{palette.background}" '
        f'stroke="{palette.track}"/>\n<g font-family="{FONT_STACK}">{text}</g>\n</svg>\n'
    )


def render_png(
    image: TallyImage, *, width: int, height: int, theme: Theme, transparent: bool = False
) -> bytes:
    """The SVG above as a PNG of exactly width x height, drawn with the packaged font only."""
    return rasterise(
        render_svg(image, width=width, height=height, theme=theme, transparent=transparent)
    )


def rasterise(svg: str) -> bytes:
    """One of render_svg's documents as a PNG of its size, drawn with the packaged font only."""
    return resvg_py.svg_to_bytes(
        svg_string=svg,
        skip_system_fonts=True,  # the host's fonts must not change the picture
        font_files=[str(font_path())],
        font_family=FONT_FAMILY,
        sans_serif_family=FONT_FAMILY,
    )
