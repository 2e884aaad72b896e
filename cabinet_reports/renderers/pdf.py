"""PDF renderer: theme HTML (Jinja) → WeasyPrint → tagged PDF/UA-1.

Reproducible output: the PDF's dates (/CreationDate, /ModDate, XMP) come from the
document's date, or SOURCE_DATE_EPOCH, through the HTML's ``dcterms.created`` meta. Font
subsets made by HarfBuzz keep the font's own timestamp; those saved by fontTools (variable
or colour fonts, or a HarfBuzz without its subsetter) get the document's moment too, through
:func:`font_timestamps`. Nothing here touches the process environment, so reports rendered
in parallel threads each carry their own date.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import datetime as dt
import functools
import gc
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from . import RenderOptions, document_timestamp

if TYPE_CHECKING:  # laying out HTML needs neither: a PDF worker process stays light
    from ..document import Document
    from ..theme import Theme


def css_string(text: str) -> str:
    """Return ``text`` as a quoted CSS string, escaping everything that could end it."""
    out = []
    for ch in text:
        if ch.isalnum() or ch in " .,:;-()/&'":
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):06x}")
    return '"' + "".join(out) + '"'


def footer_content(template: str, total_pages: int | None) -> str:
    """Turn "Page {page} of {pages}" into a CSS ``content`` value with page counters."""
    parts = []
    rest = template
    while rest:
        positions = [(rest.find(tok), tok) for tok in ("{page}", "{pages}") if rest.find(tok) >= 0]
        if not positions:
            parts.append(css_string(rest))
            break
        pos, tok = min(positions)
        if pos:
            parts.append(css_string(rest[:pos]))
        if tok == "{page}":
            parts.append("counter(page)")
        else:
            parts.append(str(total_pages) if total_pages else "counter(pages)")
            if total_pages:
                parts[-1] = css_string(str(total_pages))
        rest = rest[pos + len(tok):]
    return " ".join(parts) or '""'


# fontTools stamps every font it saves with fontTools.misc.timeTools.timestampNow(), which
# reads SOURCE_DATE_EPOCH from the process environment (called from the 'head' table's
# compile, ttLib/tables/_h_e_a_d.py). Setting that variable for a render, as this module
# once did, gave reports rendered in other threads this report's date. Instead the 'head'
# table asks a context variable, which each thread (and asyncio task) holds on its own.
_FONT_STAMP: contextvars.ContextVar[int | None] = contextvars.ContextVar("font_stamp", default=None)
_FONTTOOLS_EPOCH = dt.datetime(1904, 1, 1, tzinfo=dt.timezone.utc)  # TrueType dates count from 1904


@functools.lru_cache(maxsize=1)
def _hook_font_timestamps() -> None:
    from fontTools.ttLib.tables import _h_e_a_d

    fonttools_now = _h_e_a_d.timestampNow

    def timestamp_now() -> int:
        stamp = _FONT_STAMP.get()
        return fonttools_now() if stamp is None else stamp

    _h_e_a_d.timestampNow = timestamp_now


@contextlib.contextmanager
def font_timestamps(day: dt.date) -> Iterator[None]:
    """Stamp the fonts fontTools saves in this thread with the document's moment.

    Raises a located error for a malformed SOURCE_DATE_EPOCH before any layout starts.
    """
    moment = document_timestamp(day)
    _hook_font_timestamps()
    # The 'head' table stores unsigned seconds since 1904: an 1890s paper gets 1904.
    token = _FONT_STAMP.set(max(0, int((moment - _FONTTOOLS_EPOCH).total_seconds())))
    try:
        yield
    finally:
        _FONT_STAMP.reset(token)


def created_stamp(day: dt.date) -> str:
    """Return the PDF metadata timestamp for a document dated ``day``."""
    return document_timestamp(day).strftime("%Y-%m-%dT%H:%M:%SZ")


def printed_links(doc: Document) -> Document:
    """Return the document with every web link's address printed after its text (for paper)."""
    from dataclasses import replace

    from ..document import Heading, ListBlock, Para, SubPoint, TableBlock
    from ..inline import with_printed_urls as urls

    def block(b):
        if isinstance(b, (Para, Heading)):
            return replace(b, text=urls(b.text))
        if isinstance(b, SubPoint):
            return replace(b, heading=urls(b.heading), text=urls(b.text), blocks=blocks(b.blocks))
        if isinstance(b, ListBlock):
            return replace(b, items=[replace(i, text=urls(i.text), blocks=blocks(i.blocks)) for i in b.items])
        if isinstance(b, TableBlock):
            return replace(b, caption=urls(b.caption), header=[urls(h) for h in b.header],
                           rows=[[urls(c) for c in row] for row in b.rows],
                           footer=[[urls(c) for c in row] for row in b.footer])
        return b

    def blocks(items):
        return [block(b) for b in items]

    return replace(doc, sections=[replace(s, blocks=blocks(s.blocks)) for s in doc.sections],
                   appendices=[replace(a, blocks=blocks(a.blocks)) for a in doc.appendices])


def render_html(doc: Document, theme: Theme, options: RenderOptions = RenderOptions()) -> str:
    """Render the document to the theme's HTML, the readable intermediate before PDF."""
    printed = options.print_link_urls
    if printed is None:
        printed = theme.config.print_link_urls
    if printed:
        doc = printed_links(doc)
    def asset(name: str) -> str:
        return theme.find(name).as_uri()

    context = {
        "doc": doc,
        "asset": asset,
        "logo": options.logo.as_uri() if options.logo else None,
        "created": created_stamp(doc.date),
        "page_offset": options.page_offset,
        # A pack lays each report out once and draws the pack's page numbers over it afterwards
        # (pack/furniture.py), so its render leaves the footer out.
        "footer_css": footer_content(doc.words.get("page_footer", "{page}"), options.total_pages)
        if options.page_numbers else "none",
        "marking_css": css_string(doc.marking[0]) if doc.exempt and doc.marking else "none",
    }
    return theme.render("report.html", context)


def weasy_html(html: str, theme: Theme | ThemeFiles, asset_dir: Path | None = None):
    """Return a WeasyPrint HTML object that can load only theme files and the report's assets."""
    import weasyprint  # imported here: it takes ~0.6 s and `--help` should not pay for it

    from ..fetcher import make_url_fetcher

    _mend_html_parser()

    # Only data: URLs and files inside the theme and the report's own folder can be loaded:
    # report text is escaped anyway, but a theme or a logo path must not reach other files.
    roots = list(theme.dirs) + ([asset_dir] if asset_dir is not None else [])
    return weasyprint.HTML(string=html, base_url=str(theme.dirs[-1]) + "/", url_fetcher=make_url_fetcher(roots))


class _CharacterRuns(dict):
    """tinyhtml5's cache of the regexes ``chars_until`` scans with, filled on a miss as it means to be.

    tinyhtml5 2.1 stores each new regex with ``characters = cache[(characters, opposite)] =
    regex``: Python assigns ``characters`` first, so the entry's key holds the regex itself and
    the lookup misses on every call. The regex is then built again each time, about 40 % of
    the HTML parse of every report (13-17 ms of a 30-43 ms parse of the Dudley example). A
    missing entry is built here exactly as tinyhtml5 builds it, under the key it looks up.
    """

    def __missing__(self, key):
        import re

        characters, opposite = key
        regex = "".join([f"\\x{ord(character):02x}" for character in characters])
        if not opposite:
            regex = f"^{regex}"
        compiled = self[key] = re.compile(f"[{regex}]+")
        return compiled


@functools.lru_cache(maxsize=1)
def _mend_html_parser() -> None:
    """Put :class:`_CharacterRuns` in place of tinyhtml5's regex cache, if its own misses (once per process).

    The miss is seen, not assumed: one scan of a probe string must leave the key it was
    looked up by in the cache, else the cache is replaced, and a second scan must then find
    its entry there, else tinyhtml5's own is put back. A tinyhtml5 that caches as it means to,
    or scans some other way, keeps its own: the mend is only ever a speed-up.
    """
    try:
        from tinyhtml5 import inputstream
    except ImportError:  # pragma: no cover - WeasyPrint's HTML parser, always there
        return
    cache = getattr(inputstream, "characters_until_regex", None)
    if type(cache) is not dict:
        return
    key = frozenset("b")
    try:
        if inputstream.HTMLUnicodeInputStream("ab").chars_until(key) != "a" or (key, False) in cache:
            return
        inputstream.characters_until_regex = mended = _CharacterRuns()
        if inputstream.HTMLUnicodeInputStream("ab").chars_until(key) != "a" or (key, False) not in mended:
            inputstream.characters_until_regex = cache
    except Exception:  # noqa: BLE001 - another tinyhtml5 than the one this mends: leave it as it is
        inputstream.characters_until_regex = cache


_font_configs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def release_fonts() -> None:
    """Drop every shared font configuration: WeasyPrint removes its temporary font folder."""
    _font_configs.clear()
    gc.collect()  # one still referenced from a garbage cycle (a laid-out document) goes too


# Before the interpreter tears modules down: FontConfiguration.__del__ fails noisily once
# shutil is gone, and leaves its folder behind.
atexit.register(release_fonts)


def font_config(theme: Theme | ThemeFiles):
    """Return the WeasyPrint font configuration shared by every render with one theme.

    Building one per render re-reads fontconfig's system configuration and the theme's
    ``@font-face`` fonts, and starts Pango's shaping caches cold. It lives as long as the
    Theme object (which api.resolve_theme rebuilds when a theme file changes), and is never
    shared between themes: fonts are registered by family name, and another theme's
    "Report Sans" must not answer for this one's.
    """
    config = _font_configs.get(theme)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _font_configs[theme] = FontConfiguration()
    return config


def layout_html(html: str, theme: Theme | ThemeFiles, day: dt.date, asset_dir: Path | None = None):
    """Lay out theme HTML (a report, an agenda, a notice) as PDF/UA-1 without writing a PDF.

    Returns WeasyPrint's rendered document: its ``pages`` give the page count and anchors,
    and :func:`write_tagged_pdf` turns it into bytes without laying it out again.
    """
    with font_timestamps(day):
        return weasy_html(html, theme, asset_dir).render(pdf_variant="pdf/ua-1", stylesheets=[_wrap_css()],
                                                         font_config=font_config(theme))


@functools.lru_cache(maxsize=1)
def _wrap_css():
    """A stylesheet under every theme's: long unbreakable strings break instead of running off
    the page (a long URL or reference in a table cell otherwise widened the table past the
    right margin, and the text beyond it was not printed at all).

    ``break-word`` breaks a word only when it cannot fit a line, and does not change how wide
    table columns are sized, so ordinary words in narrow columns stay whole. The strings that
    must be able to break anywhere (URLs, long tokens) are marked in the HTML by the
    ``breakable`` filter; ``anywhere`` on the whole page made WeasyPrint measure every table
    cell character by character and doubled the layout time.
    """
    import weasyprint

    from ..linebreaks import BREAK_ANYWHERE

    return weasyprint.CSS(string=f"body {{ overflow-wrap: break-word; }} .{BREAK_ANYWHERE} {{ overflow-wrap: anywhere; }}")


def warm_up() -> None:
    """Import WeasyPrint and parse the base stylesheet now, before the first layout needs them."""
    _wrap_css()


def write_tagged_pdf(document, day: dt.date) -> bytes:
    """Write a document laid out by :func:`layout_html` as tagged, reproducible PDF/UA-1 bytes."""
    from .pdf_tags import fix_tags  # the PDF/UA post-pass (issue 9)

    with font_timestamps(day):
        return fix_tags(document.write_pdf(pdf_variant="pdf/ua-1"))


def render_overlay_pdf(html: str, theme: Theme, day: dt.date) -> bytes:
    """Render theme HTML to an untagged PDF whose pages are laid over other pages as artifacts.

    Used for the pack page numbers stamped on attached PDFs: the overlay adds no structure
    of its own, so it is not tagged.
    """
    with font_timestamps(day):
        return weasy_html(html, theme).write_pdf(font_config=font_config(theme))


def layout(doc: Document, theme: Theme, options: RenderOptions = RenderOptions()):
    """Lay the document out without writing a PDF; return WeasyPrint's rendered document."""
    return layout_html(render_html(doc, theme, options), theme, doc.date, options.asset_dir)


def pdf_from_html(html: str, theme: Theme | ThemeFiles, day: dt.date, asset_dir: Path | None = None) -> bytes:
    """Lay out a report's theme HTML and write it as tagged PDF/UA-1: render_pdf after the HTML.

    The PDF worker process (pdf_worker.py) runs exactly this, so its bytes are the same.
    """
    return write_tagged_pdf(layout_html(html, theme, day, asset_dir), day)


def render_pdf(doc: Document, theme: Theme, options: RenderOptions = RenderOptions()) -> bytes:
    """Render the document to a tagged, reproducible PDF (PDF/UA-1) and return its bytes."""
    return pdf_from_html(render_html(doc, theme, options), theme, doc.date, options.asset_dir)


@dataclass(frozen=True)
class ThemeFiles:
    """All that laying out theme HTML needs of a Theme: its folders, the user's first.

    A PDF worker process has no Theme (that would import Jinja and pydantic); it is given
    the folders, for the URL fetcher's allow-list and the base URL.
    """

    dirs: tuple[Path, ...]
    generation: int = 0  # the Theme's: a changed theme gets fonts of its own


@functools.lru_cache(maxsize=8)
def theme_files(dirs: tuple[Path, ...], generation: int = 0) -> ThemeFiles:
    """Return one ThemeFiles per set of folders and theme generation, so its font
    configuration is reused until the theme changes."""
    return ThemeFiles(tuple(dirs), generation)
