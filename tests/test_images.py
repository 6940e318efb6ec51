"""The tally image: SVG that parses and is self-contained, PNG drawn from it with the packaged
font, escaped user text, a layout that fits every allowed size, and the same bytes every time."""

import hashlib
import io
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from app import images
from app.images import DEFAULT_SIZE, MAX_SIZE, MIN_SIZE, OG_SIZE, SideLine, TallyImage

SVG = "{http://www.w3.org/2000/svg}"

ISTANBUL = TallyImage(
    title="Istanbul agreement: 1,000 for 1,000",
    sides=(
        SideLine("Ukraine", "at least 697 of 1,000 (69.7 %)", 0.697),
        SideLine("Russia", "700 of 1,000 (70 %)", 0.7),
    ),
    status="Day 2 of 3 · updated 24 May 2025, 14:00 UTC",
    credit="Swap Tally · swaptally.example/exchanges/istanbul-1000-for-1000",
)
STAMBUL = TallyImage(
    title="Обмін полоненими в Стамбулі: 1000 на 1000 — найбільший обмін від початку "
    "повномасштабного вторгнення",
    sides=(
        SideLine("Україна", "щонайменше 697 з 1 000 (69,7 %)", 0.697),
        SideLine("Росія", "щонайменше 700 з 1 000 (70 %)", 0.7),
    ),
    status="День 2 з 3 · оновлено 24 травня 2025, 14:00 UTC",
    credit="Swap Tally · swaptally.example/exchanges/istanbul-1000-for-1000",
    corrected=True,
    corrected_label="виправлено",
)
YEMEN = TallyImage(
    title="Yemen: 887 detainees released under the Stockholm agreement",
    sides=(
        SideLine("the Houthis", "about 318 of 706 (45.0 %)", 0.45, "figures disputed: 318 to 330"),
        SideLine("Saudi Arabia", "15 of 15 (100.0 %)", 1.0, "plus 4 outside the exchange"),
        SideLine("Yemeni government", "at least 50 of 166 (30.1 %)", 0.301),
    ),
    status="day 1 of 3 · updated 14 April 2023, 18:00 UTC",
    credit="Swap Tally · swaptally.example/exchanges/2023-04-yemen-887-deal",
)
FOUR = TallyImage(
    title="Чотиристоронній обмін",
    sides=(
        SideLine("Україна", "90 з 100 (90,0 %)", 0.9),
        SideLine("Росія", "близько 60 з 100 (60,0 %)", 0.6),
        SideLine("Сполучені Штати", "3 з 100 (3,0 %)", 0.03),
        SideLine("Білорусь", "не розголошено з 100", 0.0, "і ще 31 поза обміном"),
    ),
    status="1 етап · оновлено 11 червня 2025 р., 12:00 UTC",
    credit="Swap Tally · swaptally.example/exchanges/four",
    corrected=True,
    corrected_label="виправлено",
)
SIZES = [
    MIN_SIZE,
    (320, 220),
    DEFAULT_SIZE,
    OG_SIZE,
    MAX_SIZE,
    (MAX_SIZE[0], MIN_SIZE[1]),
    (MIN_SIZE[0], MAX_SIZE[1]),
]


def svg_root(
    image: TallyImage, size: tuple[int, int] = DEFAULT_SIZE, **options: object
) -> ET.Element:
    width, height = size
    return ET.fromstring(images.render_svg(image, width=width, height=height, **options))  # type: ignore[arg-type]


def png(image: TallyImage, size: tuple[int, int] = DEFAULT_SIZE, **options: object) -> Image.Image:
    width, height = size
    data = images.render_png(image, width=width, height=height, **options)  # type: ignore[arg-type]
    decoded = Image.open(io.BytesIO(data))
    assert decoded.format == "PNG"
    return decoded.convert("RGBA")


def texts(root: ET.Element, role: str) -> list[ET.Element]:
    return root.findall(f".//{SVG}text[@class='{role}']")


def rects(root: ET.Element, role: str) -> list[ET.Element]:
    return root.findall(f".//{SVG}rect[@class='{role}']")


def strings(root: ET.Element, role: str) -> list[str]:
    return [element.text or "" for element in texts(root, role)]


def same(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None


def hex_colour(pixel: tuple[int, ...]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*pixel[:3])


def centre(rect: ET.Element) -> tuple[int, int]:
    x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
    return int(x + float(rect.get("width", 0)) / 2), int(y + float(rect.get("height", 0)) / 2)


def contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(a), luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# --- formats and sizes ---------------------------------------------------------------------


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_svg_is_an_svg_document_of_the_asked_size(theme: str) -> None:
    root = svg_root(ISTANBUL, (640, 240), theme=theme)

    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == (
        "640",
        "240",
        "0 0 640 240",
    )
    assert root.findtext(f"{SVG}title") == (
        "Istanbul agreement: 1,000 for 1,000. Ukraine: at least 697 of 1,000 (69.7 %); "
        "Russia: 700 of 1,000 (70 %). Day 2 of 3 · updated 24 May 2025, 14:00 UTC"
    )


@pytest.mark.parametrize(
    ("theme", "transparent"), [("light", False), ("dark", False), ("dark", True)]
)
def test_png_decodes_with_the_asked_size_and_background(theme: str, transparent: bool) -> None:
    picture = png(ISTANBUL, OG_SIZE, theme=theme, transparent=transparent)

    assert picture.size == OG_SIZE
    corner = picture.getpixel((0, 0))
    if transparent:
        assert corner[3] == 0
    else:
        assert (hex_colour(corner), corner[3]) == (images.PALETTES[theme].background, 255)


def test_transparent_svg_has_no_background() -> None:
    opaque = svg_root(ISTANBUL, theme="dark")
    clear = svg_root(ISTANBUL, theme="dark", transparent=True)

    assert opaque.find(f"{SVG}rect") is not None
    assert opaque.find(f"{SVG}rect").get("fill") == "#121417"  # type: ignore[union-attr]
    assert clear.find(f"{SVG}rect") is None  # only the bars, inside the group, remain
    assert len(clear.findall(f".//{SVG}rect")) == 2 * 2


@pytest.mark.parametrize(
    "size",
    [
        (MIN_SIZE[0] - 1, MIN_SIZE[1]),
        (MIN_SIZE[0], MIN_SIZE[1] - 1),
        (MAX_SIZE[0] + 1, MAX_SIZE[1]),
        (MAX_SIZE[0], MAX_SIZE[1] + 1),
        (100_000, 630),
        (0, 0),
    ],
)
def test_sizes_outside_the_limits_are_refused(size: tuple[int, int]) -> None:
    width, height = size
    with pytest.raises(ValueError, match="outside"):
        images.render_png(ISTANBUL, width=width, height=height, theme="light")
    with pytest.raises(ValueError, match="outside"):
        images.render_svg(ISTANBUL, width=width, height=height, theme="light")


def test_theme_and_number_of_sides_are_checked() -> None:
    with pytest.raises(ValueError, match="theme"):
        images.render_svg(ISTANBUL, width=600, height=220, theme="blue")  # type: ignore[arg-type]
    for sides in ((), (*FOUR.sides, FOUR.sides[0])):
        image = TallyImage(title="t", sides=sides, status="s", credit="c")
        with pytest.raises(ValueError, match="one to 4 parties"):
            images.render_svg(image, width=600, height=220, theme="light")


# --- user text -----------------------------------------------------------------------------

HOSTILE = TallyImage(
    title='<script>alert(1)</script> & "Co" </svg>',
    sides=(
        SideLine('<img src=x onerror="alert(2)">', "1 & 2 <b>", 0.5),
        SideLine("]]><a href='http://evil.example/'>x</a>", "&amp; &#x41;", 0.25),
    ),
    status="<style>*{fill:url(http://evil.example/x)}</style>",
    credit="<image href='https://evil.example/i.png'/>",
    corrected=True,
    corrected_label="<foreignObject>",
)
ALLOWED_ELEMENTS = {"svg", "title", "rect", "g", "text"}
ALLOWED_ATTRIBUTES = {
    "width", "height", "viewBox", "role", "x", "y", "rx", "fill", "stroke", "stroke-width",
    "class", "font-family", "font-size", "font-weight", "text-anchor",
}  # fmt: skip


def assert_self_contained(root: ET.Element) -> None:
    for element in root.iter():
        assert element.tag.removeprefix(SVG) in ALLOWED_ELEMENTS
        assert set(element.attrib) <= ALLOWED_ATTRIBUTES
        for value in element.attrib.values():
            assert "url(" not in value
            assert "://" not in value


def test_user_text_comes_out_as_text() -> None:
    root = svg_root(HOSTILE, OG_SIZE, theme="light")

    assert_self_contained(root)
    assert " ".join(strings(root, "title")) == '<script>alert(1)</script> & "Co" </svg>'
    assert strings(root, "side-name")[0] == '<img src=x onerror="alert(2)">'
    assert strings(root, "figure")[:1] == ["1 & 2 <b>"]
    assert " ".join(strings(root, "figure")[1:]) == "&amp; &#x41;"
    assert strings(root, "status") == ["<style>*{fill:url(http://evil.example/x)}</style>"]
    assert strings(root, "credit") == ["<image href='https://evil.example/i.png'/>"]
    assert strings(root, "corrected") == ["<foreignObject>"]
    assert "<script" not in images.render_svg(HOSTILE, width=600, height=220, theme="dark")


@pytest.mark.parametrize("image", [ISTANBUL, STAMBUL, YEMEN, FOUR])
@pytest.mark.parametrize("size", [MIN_SIZE, DEFAULT_SIZE, OG_SIZE])
def test_svg_has_no_script_and_no_external_reference(
    image: TallyImage, size: tuple[int, int]
) -> None:
    for theme in ("light", "dark"):
        root = svg_root(image, size, theme=theme)
        assert_self_contained(root)
        group = root.find(f"{SVG}g")
        assert group is not None
        assert group.get("font-family") == images.FONT_STACK
        assert images.FONT_STACK.startswith("'Noto Sans',")
        assert images.FONT_STACK.endswith(", sans-serif")


def test_characters_xml_forbids_are_dropped_and_whitespace_is_one_line() -> None:
    image = TallyImage(
        title="Bell\x07 and\x00 null\ufffe\n\ttabbed",
        sides=(SideLine("Side\x1b", "1\r\n2", 1.0),),
        status="s\x7f",
        credit="c",
    )
    root = svg_root(image, theme="light")

    assert strings(root, "title") == ["Bell and null tabbed"]
    assert strings(root, "side-name") == ["Side"]
    assert strings(root, "figure") == ["1 2"]


# --- layout --------------------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.697, 1.0])
def test_bars_are_proportional_to_the_fraction(fraction: float) -> None:
    image = TallyImage(title="t", sides=(SideLine("A", "x", fraction),), status="s", credit="c")
    root = svg_root(image, theme="light")

    (track,) = rects(root, "bar-track")
    fills = rects(root, "bar-fill")
    if fraction == 0:
        assert fills == []
    else:
        (fill,) = fills
        assert fill.get("x") == track.get("x")
        assert fill.get("y") == track.get("y")
        ratio = float(fill.get("width", 0)) / float(track.get("width", 0))
        assert ratio == pytest.approx(fraction, abs=0.0001)


@pytest.mark.parametrize(("fraction", "drawn"), [(1.7, 1.0), (-0.2, 0.0), (math.nan, 0.0)])
def test_fractions_out_of_range_are_clamped(fraction: float, drawn: float) -> None:
    image = TallyImage(title="t", sides=(SideLine("A", "x", fraction),), status="s", credit="c")
    root = svg_root(image, theme="light")

    (track,) = rects(root, "bar-track")
    widths = [float(fill.get("width", 0)) for fill in rects(root, "bar-fill")]
    assert widths == ([float(track.get("width", 0))] if drawn else [])


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_png_draws_the_bars_where_the_svg_puts_them(theme: str) -> None:
    palette = images.PALETTES[theme]
    image = TallyImage(
        title="t",
        sides=(SideLine("A", "x", 0.5), SideLine("B", "y", 0.25)),
        status="s",
        credit="c",
    )
    root = svg_root(image, DEFAULT_SIZE, theme=theme)
    picture = png(image, DEFAULT_SIZE, theme=theme)

    tracks, fills = rects(root, "bar-track"), rects(root, "bar-fill")
    assert [hex_colour(picture.getpixel(centre(fill))) for fill in fills] == [
        palette.side_a,
        palette.side_b,
    ]
    for track, fill in zip(tracks, fills, strict=True):
        beyond_fill = (
            int(float(fill.get("x", 0)) + float(fill.get("width", 0)) + 8),
            centre(track)[1],
        )
        assert hex_colour(picture.getpixel(beyond_fill)) == palette.track
    assert hex_colour(picture.getpixel((2, centre(fills[0])[1]))) == palette.background


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("image", [ISTANBUL, STAMBUL])
def test_every_allowed_size_shows_the_figures_inside_the_picture(
    image: TallyImage, size: tuple[int, int]
) -> None:
    root = svg_root(image, size, theme="light")
    picture = png(image, size, theme="light")

    assert picture.size == size
    assert strings(root, "side-name") == [side.name for side in image.sides]
    figures = " ".join(strings(root, "figure"))
    assert figures == " ".join(side.figure for side in image.sides)
    assert strings(root, "corrected") == (["виправлено"] if image.corrected else [])
    # Nothing drawn reaches the outer 5 pixels: no text runs off the edge.
    width, height = size
    frame = picture.convert("RGB")
    frame.paste((255, 255, 255), (5, 5, width - 5, height - 5))
    assert same(frame, Image.new("RGB", size, (255, 255, 255)))


@pytest.mark.parametrize("image", [ISTANBUL, STAMBUL])
def test_status_and_credit_are_whole_at_the_usual_sizes(image: TallyImage) -> None:
    for size in (DEFAULT_SIZE, OG_SIZE):
        root = svg_root(image, size, theme="dark")
        assert " ".join(strings(root, "status")) == image.status
        assert " ".join(strings(root, "credit")) == image.credit


def test_a_long_title_wraps_then_ends_with_an_ellipsis() -> None:
    lines = strings(svg_root(STAMBUL, DEFAULT_SIZE, theme="light"), "title")

    assert len(lines) == 2
    assert lines[-1].endswith("…")
    assert STAMBUL.title.startswith(" ".join(lines)[:-1])
    assert strings(svg_root(STAMBUL, OG_SIZE, theme="light"), "title") == [
        "Обмін полоненими в Стамбулі: 1000 на",
        "1000 — найбільший обмін від початку",
        "повномасштабного вторгнення",
    ]


def test_a_long_word_breaks_after_a_slash_and_keeps_its_characters() -> None:
    url = "swaptally.example/exchanges/istanbul-1000-for-1000"
    lines = images.wrap(f"Swap Tally · {url}", 10, images.REGULAR, 170, 3)

    assert lines == ["Swap Tally · swaptally.example/", "exchanges/istanbul-1000-for-1000"]
    assert images.wrap(url, 10, images.REGULAR, 100, 1) == ["swaptally.example…"]
    letters = "abcdefghijklmnopqrstuvwxyzабвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
    lines = images.wrap(letters, 10, images.BOLD, 60, 10)
    assert "".join(lines) == letters
    assert max(images.text_width(line, 10, images.BOLD) for line in lines) <= 60


def test_content_too_long_for_the_smallest_image_still_renders() -> None:
    figure = "at least 697 of 1,000 people returned in 3 stages, with 12 remains " * 3
    image = TallyImage(
        title="t", sides=(SideLine("A", figure, 0.5), SideLine("B", figure, 0.5)), status="s",
        credit="c",
    )  # fmt: skip

    assert png(image, MIN_SIZE, theme="light").size == MIN_SIZE
    assert strings(svg_root(image, MIN_SIZE, theme="light"), "figure")[2].endswith("…")


def test_the_open_graph_card_sets_larger_type_than_a_stretched_default() -> None:
    def title_size(size: tuple[int, int]) -> float:
        return float(texts(svg_root(ISTANBUL, size, theme="light"), "title")[0].get("font-size", 0))

    assert title_size(OG_SIZE) > 2 * title_size(DEFAULT_SIZE)
    assert title_size((320, 220)) >= 14
    narrow = svg_root(STAMBUL, (320, 220), theme="light")
    assert min(float(text.get("font-size", 0)) for text in narrow.iter(f"{SVG}text")) >= 10


def test_one_side_gets_one_bar_in_the_first_colour() -> None:
    image = TallyImage(
        title="t", sides=(SideLine("Ukraine", "1,000", 1.0),), status="s", credit="c"
    )
    root = svg_root(image, theme="dark")

    assert [text.get("fill") for text in texts(root, "side-name")] == ["#7cb8ff"]
    assert len(rects(root, "bar-track")) == 1


# --- colours and fonts ---------------------------------------------------------------------


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_colours_pass_wcag_aa_and_bars_stand_out(theme: str) -> None:
    palette = images.PALETTES[theme]

    for text_colour in (palette.ink, palette.muted, *palette.parties, palette.corrected):
        assert contrast(text_colour, palette.background) >= 4.5
    for bar in palette.parties:
        assert contrast(bar, palette.background) >= 3
        assert contrast(bar, palette.track) >= 3
    root = svg_root(STAMBUL, theme=theme)
    assert {text.get("fill") for text in texts(root, "title")} == {palette.ink}
    assert {text.get("fill") for text in texts(root, "status")} == {palette.muted}
    assert {text.get("fill") for text in texts(root, "corrected")} == {palette.corrected}


def band(image: TallyImage, role: str = "title") -> Image.Image:
    """The PNG's strip of the first line of `role`, from the SVG's coordinates."""
    (first, *_) = texts(svg_root(image, theme="light"), role)
    baseline, size = float(first.get("y", 0)), float(first.get("font-size", 0))
    return png(image, theme="light").crop((0, int(baseline - size), 600, int(baseline + size / 3)))


def titled(title: str) -> TallyImage:
    return TallyImage(title=title, sides=(SideLine("A", "1", 0.5),), status="s", credit="c")


def test_cyrillic_renders_as_letters_not_blank_or_missing_glyph_boxes() -> None:
    letters = band(titled("ҐЄІЇ Київ"))
    missing = band(titled("\ue000" * 9))  # private use: the font's missing-glyph box
    other = band(titled("ЖШЩФ Обмн"))

    dark = sum(letters.convert("L").histogram()[:100])
    assert dark > 150
    assert not same(letters, missing)
    assert not same(letters, other)


def test_the_png_uses_the_packaged_font_only() -> None:
    # Noto Sans lacks the snowman; DejaVu Sans, on many hosts, has it. Either way it must
    # draw as the missing-glyph box.
    def status(text: str) -> TallyImage:
        return TallyImage(title="t", sides=(SideLine("A", "1", 0.5),), status=text, credit="c")

    assert same(band(status("☃☃"), "status"), band(status("\ue000\ue000"), "status"))
    path = images.font_path()
    assert path.is_file()
    assert path.parent.parent.name == "fontpkg_noto_sans"
    licence = (path.parent.parent / "LICENSE").read_text()
    assert "SIL Open Font License, Version 1.1" in licence


# --- determinism ---------------------------------------------------------------------------

RENDER_IN_CHILD = """
import hashlib
from tests.test_images import STAMBUL
from app.images import render_png, render_svg
options = dict(width=1200, height=630, theme="dark")
print(hashlib.sha256(render_png(STAMBUL, **options)).hexdigest())
print(hashlib.sha256(render_svg(STAMBUL, **options).encode()).hexdigest())
"""


def test_rendering_is_deterministic_across_calls_and_processes() -> None:
    first = images.render_png(STAMBUL, width=1200, height=630, theme="dark")
    again = images.render_png(STAMBUL, width=1200, height=630, theme="dark")
    assert first == again
    expected = [
        hashlib.sha256(first).hexdigest(),
        hashlib.sha256(
            images.render_svg(STAMBUL, width=1200, height=630, theme="dark").encode()
        ).hexdigest(),
    ]
    root = Path(__file__).resolve().parent.parent
    for seed in ("1", "2"):
        child = subprocess.run(
            [sys.executable, "-c", RENDER_IN_CHILD],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        assert child.stdout.split() == expected


# --- more than two parties -------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("image", [YEMEN, FOUR])
def test_three_or_four_parties_fit_every_allowed_size(
    image: TallyImage, size: tuple[int, int]
) -> None:
    root = svg_root(image, size, theme="light")
    picture = png(image, size, theme="light")

    assert strings(root, "figure") == [side.figure for side in image.sides]  # whole, one line
    assert strings(root, "note") == [side.note for side in image.sides if side.note]
    names = strings(root, "side-name")
    for name, side in zip(names, image.sides, strict=True):  # whole, or shortened at most
        assert name == side.name or side.name.startswith(name.removesuffix("…"))
    width, height = size
    frame = picture.convert("RGB")
    frame.paste((255, 255, 255), (5, 5, width - 5, height - 5))
    assert same(frame, Image.new("RGB", size, (255, 255, 255)))


@pytest.mark.parametrize("image", [YEMEN, FOUR])
def test_three_or_four_parties_keep_every_word_at_the_usual_sizes(image: TallyImage) -> None:
    for size in (DEFAULT_SIZE, OG_SIZE):
        root = svg_root(image, size, theme="dark")
        assert strings(root, "side-name") == [side.name for side in image.sides]
        assert " ".join(strings(root, "status")) == image.status
        assert " ".join(strings(root, "credit")) == image.credit


def test_the_smallest_image_gives_up_the_credit_then_a_long_name_never_a_figure() -> None:
    root = svg_root(FOUR, MIN_SIZE, theme="light")

    assert strings(root, "figure") == [side.figure for side in FOUR.sides]
    assert strings(root, "side-name") == [side.name for side in FOUR.sides]
    assert strings(root, "credit") == []
    assert strings(root, "corrected") == ["виправлено"]
    bars = rects(root, "bar-track")
    assert {float(bar.get("height", 0)) for bar in bars} == {3.64}  # dense rows: under 6 px
    crowded = svg_root(YEMEN, MIN_SIZE, theme="light")  # two notes too: a name gives way
    assert strings(crowded, "side-name") == ["the Houthis", "Saudi Arabia", "Yemeni go…"]
    assert strings(crowded, "figure") == [side.figure for side in YEMEN.sides]


def test_a_wide_image_sets_three_parties_two_to_a_row() -> None:
    root = svg_root(YEMEN, DEFAULT_SIZE, theme="light")
    names = texts(root, "side-name")

    assert [float(name.get("x", 0)) for name in names][1] > DEFAULT_SIZE[0] / 2
    assert float(names[2].get("y", 0)) > float(names[0].get("y", 0))
    assert float(names[0].get("y", 0)) == float(names[1].get("y", 0))
    tall = svg_root(YEMEN, OG_SIZE, theme="light")
    assert len({text.get("x") for text in texts(tall, "side-name")}) == 1  # one column


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_each_party_keeps_its_colour_and_rows_follow_their_place(theme: str) -> None:
    palette = images.PALETTES[theme]
    chosen = TallyImage(
        title="t",
        sides=(
            SideLine("Saudi Arabia", "15", 1.0, colour=1),
            SideLine("Yemen", "50", 0.3, colour=2),
        ),
        status="s",
        credit="c",
    )

    assert [t.get("fill") for t in texts(svg_root(chosen, theme=theme), "side-name")] == [
        palette.side_b,
        palette.side_c,
    ]
    assert [t.get("fill") for t in texts(svg_root(FOUR, OG_SIZE, theme=theme), "side-name")] == [
        palette.side_a,
        palette.side_b,
        palette.side_c,
        palette.side_d,
    ]
    assert [r.get("fill") for r in rects(svg_root(FOUR, OG_SIZE, theme=theme), "bar-fill")] == [
        palette.side_a,
        palette.side_b,
        palette.side_c,
    ]  # Belarus: nothing to fill


def test_the_line_for_parties_not_drawn_and_the_notes_are_muted() -> None:
    image = TallyImage(
        title="Six-way swap",
        sides=YEMEN.sides,
        status="s",
        credit="c",
        more="and 3 more parties",
    )
    root = svg_root(image, OG_SIZE, theme="light")

    assert strings(root, "more") == ["and 3 more parties"]
    assert {t.get("fill") for t in [*texts(root, "more"), *texts(root, "note")]} == {
        images.PALETTES["light"].muted
    }
    assert root.findtext(f"{SVG}title") == (
        "Six-way swap. the Houthis: about 318 of 706 (45.0 %), figures disputed: 318 to 330; "
        "Saudi Arabia: 15 of 15 (100.0 %), plus 4 outside the exchange; Yemeni government: "
        "at least 50 of 166 (30.1 %). and 3 more parties. s"
    )
