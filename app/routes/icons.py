"""The site's icons where browsers, phones and feed readers look for them: /favicon.ico, the
apple-touch-icon a phone puts on its home screen, and a web app manifest naming PNG icons. The
PNGs are drawn once per process from the one SVG favicon, so there is no binary to keep in step."""

from functools import cache
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse, RedirectResponse, Response

from app.images import rasterise
from app.settings import PROJECT_ROOT

router = APIRouter(include_in_schema=False)
FAVICON = PROJECT_ROOT / "static/img/favicon.svg"
SIZES = (180, 192, 512)  # iOS's home screen; the manifest's two sizes every platform reads
CACHED = {"Cache-Control": "public, max-age=86400"}


@cache
def icon_png(size: int) -> bytes:
    """The favicon as a square PNG of `size` px, its corners filled: phones round them
    themselves and paint transparent corners black."""
    svg = FAVICON.read_text(encoding="utf-8")
    svg = svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1).replace(' rx="7"', "")
    return rasterise(svg)


@router.get("/favicon.ico")
def favicon() -> RedirectResponse:
    """Browsers and feed readers ask for /favicon.ico whatever a page links: the icon."""
    return RedirectResponse("/static/img/favicon.svg", status_code=301)


@router.get("/apple-touch-icon.png")
@router.get("/apple-touch-icon-precomposed.png")
def apple_touch_icon() -> Response:
    return Response(icon_png(180), media_type="image/png", headers=CACHED)


@router.get("/icons/{size}.png")
def png_icon(size: int) -> Response:
    if size not in SIZES:
        raise HTTPException(404, detail=f"Icons come in {', '.join(map(str, SIZES))} px")
    return Response(icon_png(size), media_type="image/png", headers=CACHED)


@router.get("/manifest.webmanifest")
def manifest() -> JSONResponse:
    body: dict[str, Any] = {
        "name": "Swap Tally",
        "short_name": "Swap Tally",
        "description": "Prisoner exchanges stage by stage, every figure sourced.",
        "start_url": "/",
        "display": "browser",
        "background_color": "#ffffff",
        "theme_color": "#0b57a4",
        "icons": [
            {"src": "/static/img/favicon.svg", "sizes": "any", "type": "image/svg+xml"},
            *(
                {"src": f"/icons/{size}.png", "sizes": f"{size}x{size}", "type": "image/png"}
                for size in SIZES[1:]
            ),
        ],
    }
    return JSONResponse(body, media_type="application/manifest+json", headers=CACHED)
