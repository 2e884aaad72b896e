"""Web renderer: the numbered document as one self-contained, accessible HTML page.

The page is the theme's ``web.html`` and ``web.css`` (a council theme may override either),
built from the same :class:`~cabinet_reports.document.Document` and ``blocks.html`` macros as
the PDF, so it shows the same words and numbers. Unlike the PDF's intermediate HTML (the
``--html`` option, :func:`cabinet_reports.renderers.pdf.render_html`) it has no print CSS, a
skip link, landmarks and a contents list, and it needs no other file: the logo and the
fonts are ``data:`` URIs.

Fonts are subset to the characters the page shows and saved as WOFF2 without hinting or
OpenType layout tables (kerning stays, in the ``kern`` table): the four Liberation Sans
faces are 1.6 MB as TTF and 600 KB as full WOFF2, but 25 KB together as the subset for
either example report, made in about a quarter of a second.

A meeting pack writes one page per public report item (:func:`report_page`: each item's
document and render options, and a link back to the agenda); ids ("cr1", "cr2" …) are unique
within a page, so items must be separate pages, not one page of several documents. It renders
them and its agenda page (``agenda-web.html``) together with :func:`render_pages`, so all
share one font subset.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import logging
import secrets
import string
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ..document import Document
from ..errors import InputError, Problem, ThemeError
from ..theme import Theme
from . import RenderOptions
from .pdf import created_stamp

# Always in the subset, so a theme's CSS ("–", "…") and copied text never fall back mid-word.
BASE_CHARACTERS = string.printable.strip() + " \u00a0\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026\u00a3\u20ac"


@dataclass(frozen=True)
class WebPage:
    """A page to render self-contained: a theme template and its context."""

    template: str
    context: dict[str, Any]


def report_page(doc: Document, options: RenderOptions = RenderOptions(), *,
                back: tuple[str, str] | None = None) -> WebPage:
    """Return the web page of a document, to render with :func:`render_pages`.

    ``back`` is an optional (relative address, link text) shown at the top of the page: a
    pack's item page links its agenda.
    """
    return WebPage("web.html", {
        "doc": doc,
        "logo": logo_data_uri(options.logo) if options.logo else None,
        "created": created_stamp(doc.date),
        "back": {"href": back[0], "text": back[1]} if back else None,
    })


def web_page(doc: Document, theme: Theme, options: RenderOptions = RenderOptions(), *,
             back: tuple[str, str] | None = None) -> str:
    """Render the document as a self-contained web page and return its HTML text.

    The registry's :func:`render_web` only encodes its result. A caller that writes many
    pages (a meeting pack) renders them together with :func:`render_pages` instead.
    """
    return render_pages(theme, [report_page(doc, options, back=back)])[0]


def render_pages(theme: Theme, pages: Sequence[WebPage]) -> list[str]:
    """Render pages as self-contained HTML, their fonts embedded as one shared subset.

    Each template's CSS calls ``font(name)`` for each face: a ``data:`` URI of that theme font
    subset to the characters the pages show, all of them together. Subsetting costs about
    0.1 s a face, so a pack's pages share one subset rather than make one each.
    """
    return finish_pages(theme, [draft_page(theme, page) for page in pages])


@dataclass(frozen=True)
class Draft:
    """A page rendered with a marker where each font goes (see :func:`draft_page`).

    Plain data (text, strings), so a pack can keep it in its cache and skip rendering an
    unchanged item's page again: a marker means nothing outside its own draft.
    """

    html: str
    nonce: str  # the draft's own random word in every marker
    fonts: tuple[str, ...]  # the font file names, in marker order
    characters: str  # the characters the page shows, sorted


def draft_page(theme: Theme, page: WebPage) -> Draft:
    """Render a page with a marker in place of each font, and find the characters it shows."""
    # The text is the theme's and the report's, known only once rendered; the fonts go in
    # afterwards (finish_pages), subset to the characters of every page together. A marker is
    # a private-use character and a random word that no escaping changes and no report can
    # guess; rendering every page twice instead cost a pack a second or two.
    names: list[str] = []
    nonce = secrets.token_hex(8)

    def marker(name: str) -> str:
        if name not in names:
            names.append(name)
        return f"\ue000{nonce}{names.index(name)}\ue000"

    html = theme.render(page.template, page.context, helpers={"font": marker})
    return Draft(html, nonce, tuple(names), "".join(sorted(page_characters(html))))


def finish_pages(theme: Theme, drafts: Sequence[Draft],
                 fonts: Callable[[Theme, str, str], bytes] | None = None) -> list[str]:
    """Put the fonts into drafts, each subset once to the characters all the drafts show.

    ``fonts(theme, name, characters)`` gives a face's WOFF2 bytes (default :func:`font_data`;
    a pack passes one that remembers them between builds).
    """
    fonts = fonts or font_data
    characters = set(BASE_CHARACTERS)
    for draft in drafts:
        characters.update(draft.characters)
    text = "".join(sorted(characters))
    uris: dict[str, str] = {}
    pages = []
    for draft in drafts:
        html = draft.html
        for i, name in enumerate(draft.fonts):
            if name not in uris:
                uris[name] = "data:font/woff2;base64," + base64.b64encode(fonts(theme, name, text)).decode("ascii")
            html = html.replace(f"\ue000{draft.nonce}{i}\ue000", uris[name])
        pages.append(html)
    return pages


def render_web(doc: Document, theme: Theme, options: RenderOptions = RenderOptions()) -> bytes:
    """Render the document as a self-contained web page and return its UTF-8 bytes."""
    return web_page(doc, theme, options).encode("utf-8")


class _TextCollector(HTMLParser):
    """Collects the characters of a page's text nodes (not its CSS)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chars: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        for name, value in attrs:
            if name in ("alt", "aria-label", "title") and value:
                self.chars.update(value)  # shown when an image fails, read by some readers

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chars.update(data)


def page_characters(html: str) -> set[str]:
    """Return the set of characters a page shows as text."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return {c for c in collector.chars if not c.isspace() or c == "\u00a0"}


def font_data(theme: Theme, name: str, characters: str) -> bytes:
    """Return the theme font ``name`` as WOFF2 with only the glyphs for ``characters``."""
    path = theme.find(str(name))  # the theme's door: refuses names and links that leave its folder
    stat = path.stat()
    return _woff2_subset(str(path), stat.st_mtime_ns, stat.st_size, characters)


@contextlib.contextmanager
def _quiet_fonttools() -> Iterator[None]:
    # The subsetter logs a warning for each table it does not know (FontForge's FFTM …):
    # noise on the user's terminal about a font that is fine.
    logger = logging.getLogger("fontTools")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@functools.lru_cache(maxsize=64)
def _woff2_subset(path: str, mtime_ns: int, size: int, characters: str) -> bytes:
    """Return the font at ``path`` as WOFF2 with only the glyphs for ``characters``.

    ``mtime_ns`` and ``size`` are part of the cache key, so an edited font is read again.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    try:
        with _quiet_fonttools():
            # recalcTimestamp off: the same page gives the same bytes on every run.
            font = TTFont(path, recalcTimestamp=False)
            # Decoding OpenType layout (GSUB/GPOS) is 80 % of the time; a report needs no
            # ligatures or contextual forms, and pair kerning survives in the kern table.
            for tag in ("GSUB", "GPOS", "GDEF", "FFTM"):
                if tag in font:
                    del font[tag]
            options = subset.Options()
            options.hinting = False  # screens rasterise unhinted outlines well; halves the size
            options.name_IDs = ["*"]  # keep the font's names and licence notice
            subsetter = subset.Subsetter(options)
            subsetter.populate(text=characters)
            subsetter.subset(font)
            font.flavor = "woff2"
            out = io.BytesIO()
            font.save(out)
            return out.getvalue()
    except Exception as exc:  # noqa: BLE001 - fontTools raises many kinds for a damaged file
        raise ThemeError(Problem(f"not a font that can be embedded in the web page: {type(exc).__name__}: {exc}",
                                 path)) from None


def logo_data_uri(path: Path) -> str:
    """Return the logo file as a data: URI (an <img> never runs an SVG's scripts).

    The format is the one images.py found when the report was validated (from the content,
    not the name), so the web page shows exactly the logos `check` accepts.
    """
    from ..images import ImageError, inspect_image

    try:
        kind = inspect_image(path).format
    except ImageError as exc:
        raise InputError(Problem(str(exc), str(path), field="council.logo")) from None
    mime = "image/svg+xml" if kind == "svg" else f"image/{kind}"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")