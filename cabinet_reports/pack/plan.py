"""Stage 3 of a pack: page counts → page offsets, the agenda's content and the Part B notices.

Takes a :class:`~cabinet_reports.pack.load.LoadedMeeting` and each item's page count (from
its one layout); gives, for the public or the full pack, each item's first and last pack
page, the pack's length, and the agenda laid out with those page references (its own length
settled: a reference growing from "Page 9" to "Pages 10 to 12" can push it onto another
page). Nothing here prints a page number: the agenda and the notices are laid out without
them, and :mod:`.furniture` draws every page's number once the pack is numbered.

The agenda is worded once, format-neutrally (:class:`AgendaContent`), for agenda.html and
agenda.docx; a Part B item shows only its public title and the Schedule 12A reason. The one
notice page that stands in for a Part B item in the public pack is worded here too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..document import SCHEDULE_PART
from ..errors import CabinetReportsError
from ..meeting import Meeting
from ..models import Classification
from ..publication import clear_working_days_between, latest_publication_date
from ..renderers.pdf import created_stamp, layout_html, write_tagged_pdf
from ..theme import Theme
from .cache import Memo
from .load import LoadedMeeting, PackItem

__all__ = ["AgendaContent", "AgendaEntry", "PackPlan", "Prepared", "agenda_content", "number_pack",
           "prepare_assembly", "publication_warnings", "render_notice"]


def publication_warnings(meeting: Meeting, published: dt.date | None) -> tuple[dt.date, list[str]]:
    """Return the latest publication date and a warning if ``published`` is too late."""
    s = meeting.settings
    latest = latest_publication_date(meeting.date, clear_days=s.days, jurisdiction=s.jurisdiction,
                                     publish_on_working_day=s.publish_on_working_day)
    warnings = []
    if published is not None:
        clear = clear_working_days_between(published, meeting.date, jurisdiction=s.jurisdiction)
        if clear < s.days:
            warnings.append(f"publishing on {published.isoformat()} leaves {clear} clear working "
                            f"day{'s' if clear != 1 else ''} before the meeting on {meeting.date.isoformat()}; "
                            f"{s.days} are required ({s.jurisdiction}): publish by {latest.isoformat()}")
    return latest, warnings


# --------------------------------------------------------------------------- wording
def _context(meeting: Meeting, theme: Theme) -> dict[str, Any]:
    return {"council": meeting.council.name, "body": meeting.body, "date": theme.format_date(meeting.date),
            "weekday": meeting.date.strftime("%A"), "time": meeting.time, "venue": meeting.venue}


def _words(theme: Theme, key: str, context: dict[str, Any]) -> str:
    return theme.text(theme.word(key), context, ("words", key))


def _exempt_reason(theme: Theme, cls: Classification, context: dict[str, Any]) -> str:
    return _words(theme, "agenda_exempt_reason", dict(context, paragraphs=cls.paragraphs,
                                                       schedule_part=SCHEDULE_PART[cls.jurisdiction]))


# --------------------------------------------------------------------------- agenda
@dataclass
class _Agenda:
    html: str
    anchors: dict[str, int]  # item anchor -> 0-based page within the agenda
    pages: int
    pdf: bytes | None = None


@dataclass(frozen=True)
class AgendaEntry:
    """One agenda item as both agendas show it: every string already worded by the theme."""

    number: int
    anchor: str  # HTML id (the bookmark target of a procedural item)
    heading: str  # words.agenda_item_heading: "5. Partnership Strategy"
    gutter: str  # the heading's text before the title ("5."), hung in the PDF's number column
    heading_rest: str  # the heading after the gutter (the whole heading when there is no gutter)
    report_of: str
    reason: str  # Part B: the Schedule 12A reason; otherwise empty
    text: str  # empty for Part B items in public: only the public title and the reason are public
    pages: str  # "Pages 5 to 11" in the public pack; empty for procedural items
    part_b_start: bool  # the Part B heading and resolution come before this item


@dataclass(frozen=True)
class AgendaContent:
    """The agenda front sheet, format-neutral: agenda.html and :func:`agenda_docx` only lay it out.

    Every string is computed here, once, from the theme's ``words.agenda_*``, so the PDF and the
    DOCX agenda cannot say different things. Only public wording is in it: a Part B item
    carries its public title and exemption reason, never its own title or text (except in the
    full pack's agenda, built with ``public=False``).
    """

    language: str
    title: str
    author: str
    council: str
    heading: str
    summons: str
    details_caption: str
    details: list[tuple[str, str]]  # (label, value): date, time, venue, contact
    membership_heading: str
    members: list[str]
    items_heading: str
    items: list[AgendaEntry]
    part_b_heading: str
    part_b_resolution: str
    publication: str  # empty unless a publication date was given


_TITLE_MARK = "\ue000"  # a private-use character: where the title sits in the item heading


def _item_heading(theme: Theme, ctx: dict[str, Any], number: int, title: str) -> tuple[str, str, str]:
    """Return an item's heading, and its gutter (the text before the title) and the rest.

    The heading is worded once; the PDF hangs the text before the title (normally "5.") in a
    number column. A theme whose heading does not put the title after a prefix gets no gutter.
    """
    heading = _words(theme, "agenda_item_heading", dict(ctx, number=number, title=title))
    marked = _words(theme, "agenda_item_heading", dict(ctx, number=number, title=_TITLE_MARK))
    before, mark, after = marked.partition(_TITLE_MARK)
    if mark and before.strip() and heading == before + title + after:
        return heading, before.strip(), title + after
    return heading, "", heading


def agenda_content(loaded: LoadedMeeting, theme: Theme, starts: dict[int, tuple[int, int]] | None,
                   published: dt.date | None, public: bool = True) -> AgendaContent:
    """Word the agenda once for both formats; ``starts`` gives each item's pack pages.

    Without ``starts`` (the first layout, before the pack is numbered) page references are
    placeholders of a realistic width. The public agenda (``public``, the default) shows a
    Part B item's public title and public report-of line only; the full pack's agenda shows
    its real title, report-of line and text.
    """
    meeting = loaded.meeting
    ctx = _context(meeting, theme)
    part_b = [it for it in loaded.items if it.exempt]
    first_b = part_b[0].number if part_b else None
    items = []
    for it in loaded.items:
        pages = ""
        if it.has_papers:
            first, last = starts[it.number] if starts is not None else (888, 888)
            pages = _words(theme, "agenda_pages", dict(ctx, first=first, last=last))
        heading, gutter, rest = _item_heading(theme, ctx, it.number, it.shown_title(public))
        items.append(AgendaEntry(
            number=it.number, anchor=f"item-{it.number}", heading=heading, gutter=gutter, heading_rest=rest,
            report_of=_words(theme, "agenda_report_of", dict(ctx, report_of=it.shown_report_of(public))),
            reason=_exempt_reason(theme, it.exemption, ctx) if it.exempt else "",
            text=it.shown_text(public),
            pages=pages, part_b_start=it.number == first_b))
    contact = meeting.contact
    contact_ctx = dict(ctx, name=contact.name, role=contact.role, phone=contact.phone, email=contact.email)
    details = [(_words(theme, "agenda_date_label", ctx), _words(theme, "agenda_date", ctx)),
               (_words(theme, "agenda_time_label", ctx), meeting.time),
               (_words(theme, "agenda_venue_label", ctx), meeting.venue),
               (_words(theme, "agenda_contact_label", ctx), _words(theme, "agenda_contact", contact_ctx))]
    return AgendaContent(
        language=meeting.language,
        title=_words(theme, "agenda_title", ctx),
        author=meeting.council.name,
        council=meeting.council.name,
        heading=_words(theme, "agenda_heading", ctx),
        summons=_words(theme, "agenda_summons", ctx),
        details_caption=_words(theme, "agenda_details_caption", ctx),
        details=details,
        membership_heading=_words(theme, "agenda_membership_heading", ctx),
        members=[_words(theme, "agenda_member", dict(ctx, name=m.name, role=m.role)) for m in meeting.membership],
        items_heading=_words(theme, "agenda_items_heading", ctx),
        items=items,
        part_b_heading=_words(theme, "agenda_part_b_heading", ctx),
        part_b_resolution=_words(theme, "agenda_part_b_resolution", dict(ctx, count=len(part_b))),
        publication=_words(theme, "agenda_publication", dict(ctx, published=theme.format_date(published)))
        if published else "",
    )


def _agenda_html(loaded: LoadedMeeting, theme: Theme, starts: dict[int, tuple[int, int]] | None,
                 published: dt.date | None, public: bool = True) -> str:
    """Lay the agenda's content out as HTML, without page numbers (the pack draws them)."""
    return theme.render("agenda.html", {
        "agenda": agenda_content(loaded, theme, starts, published, public),
        "created": created_stamp(loaded.meeting.date),
        "asset": lambda name: theme.find(name).as_uri(),
        "footer_css": "none",
        "marking_css": "none",
        "page_offset": 0,
    })


def _anchors(document) -> dict[str, int]:
    found: dict[str, int] = {}
    for n, page in enumerate(document.pages):
        for name in page.anchors:
            found.setdefault(name, n)
    return found


# --------------------------------------------------------------------------- pack numbering
@dataclass
class PackPlan:
    """One pack numbered: its agenda (laid out, without page numbers), item pages and length."""

    agenda: _Agenda
    starts: dict[int, tuple[int, int]]  # item number -> (first, last) pack page
    total: int


def number_pack(loaded: LoadedMeeting, theme: Theme, public: bool, pages: dict[int, int],
                published: dt.date | None, memo: Memo | None = None, guess: int | None = None) -> PackPlan:
    """Number one pack from each item's page count (``pages``): lay the agenda out until stable.

    The agenda's own length decides where every item starts, and the item references decide
    its length: start from ``guess`` (another pack's agenda length) or from placeholders of a
    realistic width, and repeat until it settles. ``memo`` remembers layouts between builds.
    """
    memo = memo or Memo(None, "")
    count = guess or _lay_out(loaded, theme, _agenda_html(loaded, theme, None, published, public), memo)[0]
    for _ in range(10):
        starts: dict[int, tuple[int, int]] = {}
        page = count
        for item in loaded.items:
            n = pages.get(item.number, 0)
            if n:
                starts[item.number] = (page + 1, page + n)
                page += n
        html = _agenda_html(loaded, theme, starts, published, public)
        laid_out, anchors, pdf = _lay_out(loaded, theme, html, memo, write=True)
        if laid_out == count:
            return PackPlan(_Agenda(html, anchors, count, pdf), starts, page)
        count = laid_out
    raise CabinetReportsError("the agenda's page count does not settle")  # pragma: no cover


def _lay_out(loaded: LoadedMeeting, theme: Theme, html: str, memo: Memo,
             write: bool = False) -> tuple[int, dict[str, int], bytes | None]:
    """Lay the agenda HTML out: its page count, anchors and (``write``) its PDF."""
    known = memo.get("agenda", html)
    if known is not None and (known[1].get("pdf") or not write):
        meta, blobs = known
        return int(meta["pages"]), {k: int(v) for k, v in meta["anchors"].items()}, blobs.get("pdf")
    document = layout_html(html, theme, loaded.meeting.date)
    pdf = write_tagged_pdf(document, loaded.meeting.date) if write else None
    anchors = _anchors(document)
    memo.put("agenda", html, {"pages": len(document.pages), "anchors": anchors}, {"pdf": pdf} if pdf else {})
    return len(document.pages), anchors, pdf


# --------------------------------------------------------------------------- before the page counts
@dataclass
class Prepared:
    """What one meeting's assembly needs that no page count changes, laid out in advance."""

    notices: dict[int, tuple[bytes, int]]  # Part B item -> its public notice (PDF, pages)
    agenda_guess: int  # the public agenda's length with placeholder page references


def prepare_assembly(loaded: LoadedMeeting, theme: Theme, published: dt.date | None,
                     memo: Memo | None = None) -> Prepared:
    """Lay out what the pack needs before its page counts are known: notices, a first agenda.

    Run while the reports render (see :func:`.items.render_reports`), so a build's last
    stage starts with them done. It also finds where the theme prints its footer (a theme
    the pack cannot number is refused now, not after every report is rendered).
    """
    from .furniture import footer_box

    for stylesheet in ["agenda.css"] + (["style.css"] if any(it.kind == "report" for it in loaded.items) else []):
        footer_box(theme, stylesheet, memo)
    notices = {it.number: render_notice(loaded, it, theme, memo) for it in loaded.items if it.exempt and it.has_papers}
    guess = _lay_out(loaded, theme, _agenda_html(loaded, theme, None, published), memo or Memo(None, ""))[0]
    return Prepared(notices, guess)


# --------------------------------------------------------------------------- notices
def _notice_html(loaded: LoadedMeeting, item: PackItem, theme: Theme) -> str:
    ctx = _context(loaded.meeting, theme)
    title = item.shown_title(public=True)
    return theme.render("notice.html", {
        "language": loaded.meeting.language,
        "heading": _words(theme, "notice_heading", dict(ctx, number=item.number, title=title)),
        "author": loaded.meeting.council.name,
        "created": created_stamp(loaded.meeting.date),
        "marking": theme.word("exempt_marking"),
        "reason": _exempt_reason(theme, item.exemption, ctx),
        "body": _words(theme, "notice_body", ctx),
        "asset": lambda name: theme.find(name).as_uri(),
        "footer_css": "none",
        "marking_css": "none",
        "page_offset": 0,
    })


def render_notice(loaded: LoadedMeeting, item: PackItem, theme: Theme,
                  memo: Memo | None = None) -> tuple[bytes, int]:
    """Render the public notice that replaces a Part B item: its PDF (no page numbers), pages.

    Remembered in ``memo`` by its HTML (only public wording: its public title and reason).
    """
    html = _notice_html(loaded, item, theme)
    known = memo.get("notice", html) if memo is not None else None
    if known is not None and "pdf" in known[1] and isinstance(known[0].get("pages"), int):
        return known[1]["pdf"], known[0]["pages"]
    document = layout_html(html, theme, loaded.meeting.date)
    pdf, pages = write_tagged_pdf(document, loaded.meeting.date), len(document.pages)
    if memo is not None:
        memo.put("notice", html, {"pages": pages}, {"pdf": pdf})
    return pdf, pages
