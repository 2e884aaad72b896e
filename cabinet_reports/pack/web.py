"""The pack's web version: an accessible agenda page and one web page per public report item.

Takes the loaded meeting, the public pack's plan (each item's pack pages and the pack's and
agenda's lengths) and the names the pack gives each item's files; gives ``{name: bytes}`` for
``agenda.html`` and ``items/NN-….html``, which :func:`cabinet_reports.pack.build_pack` writes
in the same journalled folder switch as every other output.

- ``agenda.html`` is laid out (``agenda-web.html``) from the same
  :class:`~cabinet_reports.pack.plan.AgendaContent` as agenda.pdf and agenda.docx, so it says
  the same words and page references; each item's entry links its papers: its web page, its
  PDF (with its page count) and its DOCX, by addresses relative to the page, so the folder
  works wherever it is uploaded as it is.
- Each public report item's page is the web page of its own numbered document, as
  ``render --format html`` makes it (ids such as ``cr1`` are per document, hence one page per
  item), beside its PDF in ``items/``, with a link back to the agenda page, and numbered as its
  PDF and DOCX are: the pack's item number and the "Agenda Item N" stamp. The item's render
  drafts it (:func:`web_jobs` says what it needs), on a worker (or, for a rebuild's one or two
  renders, in the build's own process while a worker lays the report out), cached with its PDF
  and DOCX.

All pages share one font subset (:func:`cabinet_reports.renderers.html.finish_pages`): about
0.4 s of CPU for the pack instead of for every page; through the pack's :class:`~.cache.Memo`,
a rebuild subsets the fonts again only when the pages show a character they did not before.

**Part B items are never written as HTML**, not even into ``items/part-b/``: their agenda entry
shows the public title and the Schedule 12A reason only (the public AgendaContent carries
nothing else), and links nothing. A web page is made to be published; the full pack and the
Part B PDF and DOCX are what members receive.
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
from urllib.parse import quote

from ..renderers.html import Draft, WebPage, draft_page, finish_pages, font_data
from ..renderers.pdf import created_stamp
from ..theme import Theme
from .cache import Memo
from .load import LoadedMeeting, PackItem
from .plan import _context, _words, agenda_content

__all__ = ["AGENDA_PAGE", "web_jobs", "web_names", "web_pages"]

AGENDA_PAGE = "agenda.html"


def web_names(loaded: LoadedMeeting, stems: dict[int, str]) -> list[str]:
    """Return the name of every web page the pack writes (``stems``: item number -> file stem)."""
    return [AGENDA_PAGE] + [stems[it.number] + ".html" for it in loaded.items if _has_page(it)]


def _has_page(item: PackItem) -> bool:
    return item.kind == "report" and not item.exempt


def _href(target: str, page: str) -> str:
    """Return the address of output ``target`` relative to output ``page`` (both folder-relative)."""
    return quote(posixpath.relpath(target, posixpath.dirname(page) or "."))


def web_pages(loaded: LoadedMeeting, theme: Theme, starts: dict[int, tuple[int, int]], published: dt.date | None,
              stems: dict[int, str], agenda_pages: int, pack_pages: int, drafts: dict[int, Draft],
              memo: Memo | None = None) -> dict[str, bytes]:
    """Render the agenda page, finish every public report item's page; return them by output name.

    ``starts`` are the public pack's (first, last) pages per item, as on agenda.pdf;
    ``stems`` name each item's files (``items/05-partnership-strategy``); ``drafts`` are the
    public report items' pages as their renders drafted them (:func:`web_jobs`). ``memo``
    remembers the font subsets.
    """
    meeting = loaded.meeting
    ctx = _context(meeting, theme)
    agenda = agenda_content(loaded, theme, starts, published, public=True)
    pages: dict[str, Draft] = {}
    rows = []
    for entry, item in zip(agenda.items, loaded.items):
        links = []
        if item.has_papers and not item.exempt:
            words = dict(ctx, number=item.number, title=item.shown_title(True))
            stem = stems[item.number]
            if _has_page(item):
                links.append((stem + ".html", _words(theme, "agenda_web_page_link", words)))
                pages[stem + ".html"] = drafts[item.number]
            first, last = starts[item.number]
            links.append((stem + ".pdf", _words(theme, "agenda_web_pdf_link", dict(words, pages=last - first + 1))))
            if item.kind == "report":
                links.append((stem + ".docx", _words(theme, "agenda_web_docx_link", words)))
        rows.append({"entry": entry, "links": [{"href": _href(t, AGENDA_PAGE), "text": s} for t, s in links]})
    papers = [("agenda.pdf", _words(theme, "agenda_web_agenda_pdf", dict(ctx, pages=agenda_pages))),
              ("agenda.docx", _words(theme, "agenda_web_agenda_docx", ctx)),
              ("public-pack.pdf", _words(theme, "agenda_web_pack_pdf", dict(ctx, pages=pack_pages)))]
    pages[AGENDA_PAGE] = draft_page(theme, WebPage("agenda-web.html", {
        "agenda": agenda,
        "items": rows,
        "papers": [{"href": _href(target, AGENDA_PAGE), "text": text} for target, text in papers],
        "papers_heading": _words(theme, "agenda_web_papers_heading", ctx),
        "skip_link": _words(theme, "skip_link", ctx),
        "created": created_stamp(meeting.date),
    }))
    names = sorted(pages, key=lambda n: (n != AGENDA_PAGE, n))
    html = finish_pages(theme, [pages[n] for n in names], fonts=_remembered_fonts(memo or Memo(None, "")))
    return {name: text.encode("utf-8") for name, text in zip(names, html)}


def web_jobs(loaded: LoadedMeeting, theme: Theme, stems: dict[int, str]) -> dict[int, dict | None]:
    """Return, per report item, what its render needs to draft its web page (None: it has none).

    Plain data for :class:`.items.ReportJob` (and its cache key): the page's link back to the
    agenda. A Part B item gets None, so no HTML of it is ever made.
    """
    text = _words(theme, "agenda_web_back_link", _context(loaded.meeting, theme))
    return {item.number: {"back": [_href(AGENDA_PAGE, stems[item.number] + ".html"), text]} if _has_page(item)
            else None for item in loaded.items if item.kind == "report"}


def _remembered_fonts(memo: Memo):
    """Return a ``fonts`` function for finish_pages that remembers each subset in ``memo``."""
    def fonts(theme: Theme, name: str, characters: str) -> bytes:
        text = json.dumps({"font": name, "characters": characters})
        theme.find(str(name))  # the theme's door, even for a remembered subset
        known = memo.get("web font", text)
        if known is not None and "woff2" in known[1]:
            return known[1]["woff2"]
        data = font_data(theme, name, characters)
        memo.put("web font", text, {}, {"woff2": data})
        return data
    return fonts
