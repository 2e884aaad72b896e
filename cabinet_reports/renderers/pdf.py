"""PDF renderer: theme HTML (Jinja) → WeasyPrint → tagged PDF/UA-1.

Reproducible output: the PDF's dates come from the document's date, and font subsets get
their timestamp from SOURCE_DATE_EPOCH (fontTools reads it), which we set to the same date
for the duration of the render unless the caller already set it.
"""

from __future__ import annotations

import contextlib
import functools
import datetime as dt
import os
from pathlib import Path
from typing import Iterator

from ..document import Document
from ..theme import Theme
from . import RenderOptions, document_timestamp


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


@contextlib.contextmanager
def source_date(day: dt.date) -> Iterator[None]:
    """Set SOURCE_DATE_EPOCH for the render (fontTools stamps font subsets with it)."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").strip():
        document_timestamp(day)  # a malformed value is a clear error, not a crash deep in fontTools
        yield
        return
    # Negative for a document dated before 1970 (an archived 1960s paper): document_timestamp
    # reads it back as the same date, so PDF and DOCX metadata agree.
    os.environ["SOURCE_DATE_EPOCH"] = str(int(document_timestamp(day).timestamp()))
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


def created_stamp(day: dt.date) -> str:
    """Return the PDF metadata timestamp for a document dated ``day``."""
    return document_timestamp(day).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_html(doc: Document, theme: Theme, options: RenderOptions = RenderOptions()) -> str:
    """Render the document to the theme's HTML, the readable intermediate before PDF."""
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


def weasy_html(html: str, theme: Theme, asset_dir: Path | None = None):
    """Return a WeasyPrint HTML object that can load only theme files and the report's assets."""
    import weasyprint  # imported here: it takes ~0.6 s and `--help` should not pay for it

    from ..fetcher import make_url_fetcher

    # Only data: URLs and files inside the theme and the report's own folder can be loaded:
    # report text is escaped anyway, but a theme or a logo path must not reach other files.
    roots = list(theme.dirs) + ([asset_dir] if asset_dir is not None else [])
    return weasyprint.HTML(string=html, base_url=str(theme.dirs[-1]) + "/", url_fetcher=make_url_fetcher(roots))


def layout_html(html: str, theme: Theme, day: dt.date, asset_dir: Path | None = None):
    """Lay out theme HTML (a report, an agenda, a notice) as PDF/UA-1 without writing a PDF.

    Returns WeasyPrint's rendered document: its ``pages`` give the page count and anchors,
    and :func:`write_tagged_pdf` turns it into bytes without laying it out again.
    """
    with source_date(day):
        return weasy_html(html, theme, asset_dir).render(pdf_variant="pdf/ua-1", stylesheets=[_wrap_css()])


@functools.lru_cache(maxsize=1)
def _wrap_css():
    """A stylesheet under every theme's: words longer than their box break instead of running
    off the page. A long URL or reference in a table cell otherwise widened the table past
    the right margin, and the text beyond it was not printed at all."""
    import weasyprint

    return weasyprint.CSS(string="body { overflow-wrap: anywhere; }")


def write_tagged_pdf(document, day: dt.date) -> bytes:
    """Write a document laid out by :func:`layout_html` as tagged, reproducible PDF/UA-1 bytes."""
    with source_date(day):
        return document.write_pdf(pdf_variant="pdf/ua-1")


def render_overlay_pdf(html: str, theme: Theme, day: dt.date) -> bytes:
    """Render theme HTML to an untagged PDF whose pages are laid over other pages as artifacts.

    Used for the pack page numbers stamped on attached PDFs: the overlay adds no structure
    of its own, so it is not tagged.
    """
    with source_date(day):
        return weasy_html(html, theme).write_pdf()


def layout(doc: Document, theme: Theme, options: RenderOptions = RenderOptions()):
    """Lay the document out without writing a PDF; return WeasyPrint's rendered document."""
    return layout_html(render_html(doc, theme, options), theme, doc.date, options.asset_dir)


def render_pdf(doc: Document, theme: Theme, options: RenderOptions = RenderOptions()) -> bytes:
    """Render the document to a tagged, reproducible PDF (PDF/UA-1) and return its bytes."""
    return write_tagged_pdf(layout(doc, theme, options), doc.date)
