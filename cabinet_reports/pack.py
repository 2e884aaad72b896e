"""Meeting packs: the agenda front sheet and every item's papers, as public and full packs.

    from cabinet_reports.pack import build_pack
    result = build_pack("examples/dudley-2005-cabinet/meeting.yaml", "out/")

writes ``agenda.pdf`` and ``agenda.docx``, ``public-pack.pdf``, ``full-pack.pdf`` and
``items/`` (one PDF per item with papers, and a DOCX per report), all or nothing. Part B item
files go to ``items/part-b/``, never beside the public ones, so uploading ``items/`` (the
files, not the folder inside it) publishes nothing exempt.

How it works, and why:

1. **Validate everything first.** The meeting file and every report are loaded and numbered;
   every problem of every item is collected (located in its own file) and raised together,
   before anything is rendered or written.
2. **Count pages.** Each report is laid out once (WeasyPrint layout, no PDF) to count its
   pages; attached PDFs are counted with pikepdf; a Part B item's public notice is one page.
3. **Number the pack.** From the counts, the agenda's page references and every part's page
   offset follow; the agenda is laid out again until its own length is stable (a reference
   growing from "Page 9" to "Pages 10 to 12" can push it onto another page).
4. **Render with pack page numbers.** Each report is rendered with ``page_offset`` and
   ``total_pages``, so its own footer prints "Page 23 of 57": the numbers are part of the
   tagged render, not stamped afterwards. Attached PDFs are included as supplied, with the
   pack page number laid over each page as an ``/Artifact`` (invisible to the structure tree).
5. **Merge keeping tags** with :func:`cabinet_reports.pdfmerge.merge_pdfs`: one bookmark per
   item, each report's own bookmarks nested; procedural items (no papers) get a bookmark to
   their entry on the agenda.

The public pack and the full pack are numbered separately (a Part B report is longer than the
one notice page that replaces it), and each has its own agenda whose references match it.
Only the public title and the Schedule 12A reason of a Part B item ever reach a public output.
"""

from __future__ import annotations

import datetime as dt
import io
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from pydantic import ValidationError

from .api import build, load_report, render_bytes, render_options, resolve_theme
from .atomic import write_files
from .document import SCHEDULE_PART
from .errors import CabinetReportsError, InputError, Problem
from .loader import Source, format_field_path, load_file
from .meeting import AttachmentItem, Meeting, ProceduralItem, ReportItem
from .models import Classification, Report
from .publication import clear_working_days_between, latest_publication_date
from .renderers import document_timestamp
from .renderers.pdf import (created_stamp, css_string, footer_content, layout, layout_html, render_overlay_pdf,
                            write_tagged_pdf)
from .theme import Theme
from .validation import validate

__all__ = ["AgendaContent", "AgendaEntry", "PackItem", "PackResult", "agenda_content", "agenda_docx", "build_pack",
           "load_meeting", "LoadedMeeting"]

# Where the per-item files go: public items, and Part B items kept apart from them.
ITEMS_FOLDER = "items"
PART_B_FOLDER = "items/part-b"

# Below this many reports, a process pool costs more (start-up, imports) than it saves.
PARALLEL_THRESHOLD = 4


# --------------------------------------------------------------------------- loaded meeting
@dataclass
class PackItem:
    """One agenda item, resolved: its papers loaded and its Part B status settled."""

    number: int
    index: int  # position in the meeting file's items list (for located messages)
    kind: str  # "text", "pdf" or "report"
    title: str  # the real title (Part B: only for the full pack)
    public_title: str  # what public outputs show (required in the meeting file for Part B items)
    report_of: list[str]
    text: str | None
    exemption: Classification | None = None
    report: Report | None = None
    path: Path | None = None
    pdf: bytes | None = None
    pages: int = 0  # pages of the item's full papers (0 for procedural items)

    @property
    def exempt(self) -> bool:
        """Return True for a Part B item."""
        return self.exemption is not None

    @property
    def has_papers(self) -> bool:
        """Return True when the item has pages in the pack."""
        return self.kind != "text"

    def shown_title(self, public: bool) -> str:
        """Return the title to show: the public title in public outputs for Part B items."""
        return self.public_title if (self.exempt and public) else self.title


@dataclass
class LoadedMeeting:
    """A validated meeting with its items resolved, plus non-fatal warnings."""

    meeting: Meeting
    source: Source
    items: list[PackItem]
    warnings: list[str] = field(default_factory=list)


def _at(source: Source, path: tuple, message: str) -> Problem:
    return Problem(message, source.name, source.line_of(path), format_field_path(path))


def _classification(exempt: Any, default_jurisdiction: str) -> Classification:
    return Classification(status="exempt", paragraphs=list(exempt.paragraphs),
                          jurisdiction=exempt.jurisdiction or default_jurisdiction)


def load_meeting(path: str | Path, theme: Theme | str | Path | None = None) -> LoadedMeeting:
    """Load a meeting file and every item's papers; raise one InputError listing every problem.

    Report items are loaded and numbered (so their own located errors surface here); attached
    PDFs must exist and open. Part B: a report whose classification is exempt makes its item
    Part B; an item marked ``exempt`` whose report says public is *treated as exempt* (the
    safe reading: nothing is published by mistake), with a warning, and the report is
    rendered with the item's exemption so every page is marked NOT FOR PUBLICATION.
    """
    import pikepdf

    theme = resolve_theme(theme)
    data, source = load_file(path)
    meeting = validate(Meeting, data, source)
    base = source.base_dir or Path.cwd()
    problems: list[Problem] = []
    warnings: list[str] = []
    items: list[PackItem] = []
    default_jur = meeting.settings.jurisdiction

    for i, spec in enumerate(meeting.items):
        where = ("items", i)
        number = i + 1
        exemption = None
        if spec.exempt is not None:
            try:
                exemption = _classification(spec.exempt, default_jur)
            except ValidationError as exc:  # a paragraph outside the jurisdiction's schedule
                message = exc.errors()[0]["msg"].removeprefix("Value error, ")
                problems.append(_at(source, where + ("exempt",), message))
                continue
        if isinstance(spec, ProceduralItem):
            items.append(PackItem(number, i, "text", spec.title, spec.public_title or spec.title, [],
                                  spec.text, exemption))
        elif isinstance(spec, AttachmentItem):
            file = (base / spec.pdf).resolve()
            if not file.is_file():
                problems.append(_at(source, where + ("pdf",), f"attached PDF not found: {spec.pdf}"))
                continue
            raw = file.read_bytes()
            try:
                with pikepdf.open(io.BytesIO(raw)) as pdf:
                    pages = len(pdf.pages)
                    tagged = "/StructTreeRoot" in pdf.Root
            except pikepdf.PasswordError:
                problems.append(_at(source, where + ("pdf",), f"attached PDF {spec.pdf} is encrypted: "
                                    "attach a copy without a password"))
                continue
            except pikepdf.PdfError:
                # pikepdf's own message names an in-memory stream: meaningless to a clerk.
                problems.append(_at(source, where + ("pdf",), f"attached PDF {spec.pdf} is damaged or is not "
                                    "a PDF"))
                continue
            if pages == 0:
                problems.append(_at(source, where + ("pdf",), f"attached PDF {spec.pdf} has no pages"))
                continue
            if not tagged:
                warnings.append(str(_at(source, where + ("pdf",), f"{spec.pdf} is not a tagged PDF: it is "
                                        "included as supplied, but screen readers cannot follow its structure")))
            items.append(PackItem(number, i, "pdf", spec.title, spec.public_title or spec.title,
                                  list(spec.report_of), spec.text, exemption, path=file, pdf=raw, pages=pages))
        elif isinstance(spec, ReportItem):
            file = (base / spec.report).resolve()
            if not file.is_file():
                problems.append(_at(source, where + ("report",), f"report file not found: {spec.report}"))
                continue
            try:
                report = load_report(file, theme)
                build(report, theme)
            except CabinetReportsError as exc:
                problems.extend(exc.problems)
                continue
            own = report.classification
            if own.exempt:
                if exemption is not None and (sorted(exemption.paragraphs) != sorted(own.paragraphs)
                                              or (spec.exempt.jurisdiction or own.jurisdiction) != own.jurisdiction):
                    problems.append(_at(source, where + ("exempt",),
                                        f"the report is exempt under paragraph(s) {', '.join(map(str, own.paragraphs))} "
                                        f"({own.jurisdiction}); make this agree or remove it"))
                    continue
                exemption = own
            elif exemption is not None:
                warnings.append(str(_at(source, where + ("exempt",),
                                        f"{spec.report} is classified public but this item is Part B: treated as exempt")))
                report = _with_classification(report, exemption)
            items.append(_report_item(number, i, spec, report, file, exemption, source, warnings))
        else:  # pragma: no cover - the discriminator admits only these three
            raise AssertionError(type(spec))
        if items and items[-1].index == i and items[-1].exempt and spec.public_title is None:
            # Never fall back to the real title: for a Part B item it may itself be exempt
            # information, and the public agenda, pack text and bookmarks would all show it.
            problems.append(_at(source, where + ("public_title",),
                                "a Part B item needs a public_title: the title the public agenda and pack "
                                "show instead of its own"))
    first_b = next((it for it in items if it.exempt), None)
    for it in items:
        if first_b is not None and it.number > first_b.number and not it.exempt:
            problems.append(_at(source, ("items", it.index),
                                f"public item {it.number} follows Part B item {first_b.number}: put Part B items "
                                "last (the resolution to exclude the public covers every item after it)"))
    if problems:
        raise InputError(problems)
    return LoadedMeeting(meeting, source, items, warnings)


def _with_classification(report: Report, classification: Classification) -> Report:
    copy = report.model_copy(update={"classification": classification})
    copy._source = report._source
    return copy


def _report_item(number: int, i: int, spec: ReportItem, report: Report, file: Path,
                 exemption: Classification | None, source: Source, warnings: list[str]) -> PackItem:
    title = spec.title or report.title
    kd = report.key_decision
    report_source = report._source
    if kd is not None and kd.key and not kd.forward_plan:
        line = report_source.line_of(("key_decision",)) if report_source else None
        warnings.append(str(Problem("key decision without a forward plan reference (28 clear days' notice, "
                                    "SI 2012/2089 reg 9)", str(file), line, "key_decision")))
    # A Part B item without public_title is refused by load_meeting; a public item shows its title.
    return PackItem(number, i, "report", title, spec.public_title or title, list(report.report_of),
                    spec.text, exemption, report=report, path=file)


# --------------------------------------------------------------------------- progress
class Progress(Protocol):
    """What build_pack reports progress to (the CLI passes a rich progress bar)."""

    def start(self, total: int) -> None: ...
    def advance(self, description: str) -> None: ...


class _NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, description: str) -> None:
        pass


# --------------------------------------------------------------------------- rendering helpers
def _count_report(report: Report, theme: Theme) -> int:
    """Lay a report out (no PDF written) and return its page count."""
    return len(layout(build(report, theme), theme, render_options(report)).pages)


def _render_report(report: Report, theme: Theme, offset: int, total: int) -> bytes:
    return render_bytes(report, "pdf", theme, page_offset=offset, total_pages=total)


def _job(args: tuple) -> Any:
    """Worker for the process pool: (action, report path, exemption, theme dir, offset, total)."""
    action, path, exemption, theme_dir, offset, total = args
    theme = Theme(theme_dir)
    report = load_report(path, theme)
    if exemption is not None and not report.classification.exempt:
        report = _with_classification(report, Classification(**exemption))
    if action == "count":
        return _count_report(report, theme)
    return _render_report(report, theme, offset, total)


class _Runner:
    """Runs report layouts and renders serially or in a pool of worker processes."""

    def __init__(self, theme: Theme, jobs: int):
        self.theme = theme
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None
        if jobs > 1:
            # spawn, not fork: forking a process that has threads is unsafe (and warns on 3.12+).
            self.pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def run(self, action: str, work: Sequence[tuple[PackItem, int, int]], progress: Progress,
            label: str) -> list[Any]:
        if self.pool is None:
            out = []
            for item, offset, total in work:
                if action == "count":
                    out.append(_count_report(item.report, self.theme))
                else:
                    out.append(_render_report(item.report, self.theme, offset, total))
                progress.advance(f"{label} item {item.number}")
            return out
        theme_dir = str(self.theme.dirs[0]) if len(self.theme.dirs) > 1 else None
        futures = []
        for item, offset, total in work:
            exemption = item.exemption.model_dump() if item.exemption else None
            futures.append(self.pool.submit(_job, (action, str(item.path), exemption, theme_dir, offset, total)))
        out = []
        for (item, _, _), future in zip(work, futures):
            out.append(future.result())
            progress.advance(f"{label} item {item.number}")
        return out


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
    text: str  # empty for Part B items: only the public title and the reason are public
    pages: str  # "Pages 5 to 11" in the public pack; empty for procedural items
    part_b_start: bool  # the Part B heading and resolution come before this item


@dataclass(frozen=True)
class AgendaContent:
    """The agenda front sheet, format-neutral: agenda.html and :func:`agenda_docx` only lay it out.

    Every string is computed here, once, from the theme's ``words.agenda_*``, so the PDF and the
    DOCX agenda cannot say different things. Only public wording is in it: a Part B item
    carries its public title and exemption reason, never its own title or text.
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
                   published: dt.date | None) -> AgendaContent:
    """Word the agenda once for both formats; ``starts`` gives each item's pack pages.

    Without ``starts`` (the first layout, before the pack is numbered) page references are
    placeholders of a realistic width.
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
        heading, gutter, rest = _item_heading(theme, ctx, it.number, it.shown_title(public=True))
        items.append(AgendaEntry(
            number=it.number, anchor=f"item-{it.number}", heading=heading, gutter=gutter, heading_rest=rest,
            report_of=_words(theme, "agenda_report_of", dict(ctx, report_of=it.report_of)),
            reason=_exempt_reason(theme, it.exemption, ctx) if it.exempt else "",
            text="" if it.exempt else (it.text or ""),
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
                 total: int | None, published: dt.date | None) -> str:
    """Lay the agenda's content out as HTML; ``total`` is the pack length for the footer."""
    return theme.render("agenda.html", {
        "agenda": agenda_content(loaded, theme, starts, published),
        "created": created_stamp(loaded.meeting.date),
        "asset": lambda name: theme.find(name).as_uri(),
        "footer_css": footer_content(theme.word("page_footer"), total),
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
def _part_pages(item: PackItem, public: bool, notice_pages: dict[int, int]) -> int:
    if not item.has_papers:
        return 0
    if item.exempt and public:
        return notice_pages[item.number]
    return item.pages


def _number_pack(loaded: LoadedMeeting, theme: Theme, public: bool, notice_pages: dict[int, int],
                 published: dt.date | None) -> tuple[_Agenda, dict[int, tuple[int, int]], int]:
    """Find the agenda's length and every item's pages: iterate until the agenda is stable."""
    agenda_pages = layout_html(_agenda_html(loaded, theme, None, 999, published), theme, loaded.meeting.date).pages
    count = len(agenda_pages)
    for _ in range(10):
        starts: dict[int, tuple[int, int]] = {}
        page = count
        for item in loaded.items:
            n = _part_pages(item, public, notice_pages)
            if n:
                starts[item.number] = (page + 1, page + n)
                page += n
        total = page
        html = _agenda_html(loaded, theme, starts, total, published)
        document = layout_html(html, theme, loaded.meeting.date)
        if len(document.pages) == count:
            agenda = _Agenda(html, _anchors(document), count)
            agenda.pdf = write_tagged_pdf(document, loaded.meeting.date)
            return agenda, starts, total
        count = len(document.pages)
    raise CabinetReportsError("the agenda's page count does not settle")  # pragma: no cover


# --------------------------------------------------------------------------- notices and stamps
def _notice_html(loaded: LoadedMeeting, item: PackItem, theme: Theme, offset: int, total: int | None) -> str:
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
        "footer_css": footer_content(theme.word("page_footer"), total),
        "marking_css": "none",
        "page_offset": offset,
    })


def _stamp(loaded: LoadedMeeting, item: PackItem, theme: Theme, offset: int, total: int | None,
           marking: bool) -> bytes:
    """Lay the pack page number (and the Part B marking) over every page of an attached PDF.

    The stamp is a one-page-per-page WeasyPrint render (untagged), each page placed over its target as a
    Form XObject inside ``/Artifact`` marked content, so a tagged attachment stays valid.
    """
    import pikepdf

    pdf = pikepdf.open(io.BytesIO(item.pdf))
    sizes: dict[tuple[float, float], str] = {}
    names = []
    for page in pdf.pages:
        box = page.trimbox
        w, h = round(float(box[2]) - float(box[0]), 2), round(float(box[3]) - float(box[1]), 2)
        if int(page.obj.get("/Rotate", 0)) % 180:
            w, h = h, w
        names.append(sizes.setdefault((w, h), f"size{len(sizes)}"))
    html = theme.render("stamp.html", {
        "language": loaded.meeting.language, "title": item.title,
        "sizes": [(name, w, h) for (w, h), name in sizes.items()], "pages": names,
        "asset": lambda name: theme.find(name).as_uri(),
        "footer_css": footer_content(theme.word("page_footer"), total),
        "marking_css": css_string(theme.word("exempt_marking")) if marking else "none",
        "page_offset": offset,
    })
    stamp_bytes = render_overlay_pdf(html, theme, loaded.meeting.date)
    stamps = pikepdf.open(io.BytesIO(stamp_bytes))
    if len(stamps.pages) != len(pdf.pages):  # pragma: no cover - one stamp page per page by construction
        raise CabinetReportsError(f"stamping {item.path}: {len(stamps.pages)} stamps for {len(pdf.pages)} pages")
    for page, stamp in zip(pdf.pages, stamps.pages):
        # As pikepdf's add_overlay, but with the drawing wrapped in /Artifact marked content
        # (add_overlay would coalesce it into the page's own, tagged, content stream).
        formx = pdf.copy_foreign(stamp.as_form_xobject())
        existing = page.obj.get("/Resources", {}).get("/XObject", {})
        name = next(pikepdf.Name(f"/CRPageStamp{n}") for n in range(1000) if f"/CRPageStamp{n}" not in existing)
        page.add_resource(formx, pikepdf.Name.XObject, name)  # a fixed name keeps the output reproducible
        placement = page.calc_form_xobject_placement(formx, name, pikepdf.Rectangle(page.trimbox),
                                                     allow_shrink=True, allow_expand=True)
        page.contents_add(b"q\n", prepend=True)
        page.contents_add(b"Q\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n" + placement + b"\nEMC\n")
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


# --------------------------------------------------------------------------- outline
def _add_item_bookmarks(pdf_bytes: bytes, loaded: LoadedMeeting, theme: Theme, agenda: _Agenda,
                        public: bool) -> bytes:
    """Put one top-level bookmark per item in agenda order, including procedural items.

    merge_pdfs gives one bookmark per part (the agenda, then each item with papers); items
    without papers get a bookmark to the agenda page that lists them.
    """
    import pikepdf

    ctx = _context(loaded.meeting, theme)
    pdf = pikepdf.open(io.BytesIO(pdf_bytes))
    with pdf.open_outline() as outline:
        existing = list(outline.root)
        ordered = [existing[0]]
        parts = iter(existing[1:])
        for item in loaded.items:
            if item.has_papers:
                ordered.append(next(parts))
            else:
                title = _words(theme, "agenda_item_bookmark", dict(ctx, number=item.number,
                                                                   title=item.shown_title(public)))
                ordered.append(pikepdf.OutlineItem(title, agenda.anchors.get(f"item-{item.number}", 0)))
        outline.root.clear()
        outline.root.extend(ordered)
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


# --------------------------------------------------------------------------- the build
@dataclass
class PackResult:
    """What build_pack wrote and found."""

    files: list[Path]
    public_pages: int
    full_pages: int
    latest_publication: dt.date
    warnings: list[str]


def _slug(text: str) -> str:
    slug = "-".join(filter(None, re.sub(r"[^a-z0-9]+", "-", text.lower()).split("-")))
    if len(slug) > 50:
        slug = slug[:51].rsplit("-", 1)[0]
    return slug or "item"


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


def build_pack(meeting_path: str | Path, outdir: str | Path, *, theme: Theme | str | Path | None = None,
               published_on: dt.date | None = None, progress: Progress | None = None,
               jobs: int | None = None, warn: Callable[[str], None] | None = None) -> PackResult:
    """Build a meeting's agenda, public pack, full pack and item files into ``outdir``.

    Every input is validated before anything is rendered; every output is rendered in memory
    and written at the end as one all-or-nothing set. Warnings (publication date, key
    decisions without forward plan reference, untagged attachments) go to ``warn`` as they
    are found and are also returned.
    """
    theme = resolve_theme(theme)
    progress = progress or _NoProgress()
    loaded = load_meeting(meeting_path, theme)
    meeting = loaded.meeting
    latest, pub_warnings = publication_warnings(meeting, published_on)
    warnings = loaded.warnings + pub_warnings
    if warn:
        for line in warnings:
            warn(line)

    reports = [it for it in loaded.items if it.kind == "report"]
    part_b = [it for it in loaded.items if it.exempt and it.has_papers]
    papers = [it for it in loaded.items if it.has_papers]
    # One step per progress.advance() below, so the bar ends exactly at 100 %:
    # - each report laid out once to count its pages (len(reports));
    # - per pack built, its agenda (1) and each item with papers (len(papers)): a report rendered
    #   (or reused when its pack numbers did not change), an attachment stamped or a Part B
    #   notice. Only the public pack is built when there is no Part B: both packs are the same;
    # - merging the public and the full pack (2; the full pack is merged even when it equals
    #   the public one), the standalone agenda (1), each report's DOCX (len(reports)), writing (1).
    packs_built = 2 if part_b else 1
    progress.start(len(reports) + packs_built * (1 + len(papers)) + 2 + 1 + len(reports) + 1)
    if jobs is None:
        jobs = min(os.cpu_count() or 1, len(reports)) if len(reports) >= PARALLEL_THRESHOLD else 1
    runner = _Runner(theme, max(1, jobs))
    try:
        counts = runner.run("count", [(it, 0, 0) for it in reports], progress, "laying out")
        for item, n in zip(reports, counts):
            item.pages = n
        notice_pages = {}
        for item in part_b:
            notice = _notice_html(loaded, item, theme, 0, 999)
            notice_pages[item.number] = len(layout_html(notice, theme, meeting.date).pages)
        packs: dict[bool, tuple[_Agenda, dict[int, bytes], int, dict[int, tuple[int, int]]]] = {}
        rendered: dict[tuple[int, int, int], bytes] = {}  # (item, offset, total) -> report PDF
        for public in (True, False):
            if not public and not part_b:
                packs[False] = packs[True]
                break
            agenda, starts, total = _number_pack(loaded, theme, public, notice_pages, published_on)
            progress.advance("agenda")
            parts: dict[int, bytes] = {}
            todo = []
            label = "rendering" if public else "rendering full pack"
            for item in loaded.items:
                if not item.has_papers:
                    continue
                offset = starts[item.number][0] - 1
                if item.exempt and public:
                    document = layout_html(_notice_html(loaded, item, theme, offset, total), theme, meeting.date)
                    parts[item.number] = write_tagged_pdf(document, meeting.date)
                    progress.advance(f"notice for item {item.number}")
                elif item.kind == "pdf":
                    parts[item.number] = _stamp(loaded, item, theme, offset, total, marking=item.exempt)
                    progress.advance(f"stamping item {item.number}")
                elif (item.number, offset, total) in rendered:  # same pack numbers: reuse
                    progress.advance(f"{label} item {item.number}")
                else:
                    todo.append((item, offset, total))
            for (item, offset, total_), pdf in zip(todo, runner.run("render", todo, progress, label)):
                rendered[(item.number, offset, total_)] = pdf
            for item in reports:
                if not (item.exempt and public):
                    parts[item.number] = rendered[(item.number, starts[item.number][0] - 1, total)]
            packs[public] = (agenda, parts, total, starts)
    finally:
        runner.close()

    from .pdfmerge import MergePart, merge_pdfs

    ctx = _context(meeting, theme)
    outputs: dict[str, bytes] = {}
    for public, name, title_key in ((True, "public-pack.pdf", "pack_public_title"),
                                    (False, "full-pack.pdf", "pack_full_title")):
        agenda, parts, total, _ = packs[public]
        merge = [MergePart(agenda.pdf, _words(theme, "agenda_bookmark", ctx), keep_outline=False)]
        for item in loaded.items:
            if item.has_papers:
                bookmark = _words(theme, "agenda_item_bookmark",
                                  dict(ctx, number=item.number, title=item.shown_title(public)))
                merge.append(MergePart(parts[item.number], bookmark,
                                       keep_outline=item.kind == "report" and not (item.exempt and public)))
        merged = merge_pdfs(merge, title=_words(theme, title_key, ctx), lang=meeting.language)
        outputs[name] = _add_item_bookmarks(merged, loaded, theme, agenda, public)
        progress.advance(f"merging {name}")

    # The standalone agenda: the public pack's agenda, numbered as a document of its own.
    starts = packs[True][3]
    agenda_html = _agenda_html(loaded, theme, starts, None, published_on)
    outputs["agenda.pdf"] = write_tagged_pdf(layout_html(agenda_html, theme, meeting.date), meeting.date)
    outputs["agenda.docx"] = agenda_docx(loaded, theme, starts, published_on)
    progress.advance("agenda")

    for item in loaded.items:
        if not item.has_papers:
            continue
        secret = item.exempt
        # Part B files live in their own folder (and say so in their names): a clerk who
        # uploads every file in items/ publishes no exempt paper.
        folder = PART_B_FOLDER if secret else ITEMS_FOLDER
        stem = f"{folder}/{item.number:02d}-" + ("not-for-publication-" if secret else "") + \
            _slug(item.shown_title(True))
        outputs[f"{stem}.pdf"] = packs[not secret][1][item.number]
        if item.kind == "report":
            outputs[f"{stem}.docx"] = render_bytes(item.report, "docx", theme)
            progress.advance(f"DOCX of item {item.number}")
    progress.advance("writing")
    files = write_files({Path(outdir) / name: data for name, data in outputs.items()})
    return PackResult(files, packs[True][2], packs[False][2], latest, warnings)


# --------------------------------------------------------------------------- agenda DOCX
def agenda_docx(loaded: LoadedMeeting, theme: Theme, starts: dict[int, tuple[int, int]],
                published: dt.date | None) -> bytes:
    """Build the agenda as DOCX with the theme's reference.docx styles and the same wording.

    Built directly with python-docx and docx_tools: the agenda is not a report, so the
    report DOCX renderer does not apply. Every word comes from :func:`agenda_content`, as for
    agenda.html. Page references are public-pack pages.
    """
    from . import docx_tools as dt_tools

    doc = dt_tools.open_reference(theme.find("reference.docx"))
    styles = {s.name for s in doc.styles}

    def style(*names: str) -> str:
        return next((n for n in names if n in styles), "Normal")

    agenda = agenda_content(loaded, theme, starts, published)
    doc.add_paragraph(agenda.council, style=style("Title Block", "Title"))
    doc.add_paragraph(agenda.heading, style=style("Heading 1"))
    doc.add_paragraph(agenda.summons, style=style("Body Text", "Normal"))
    table = doc.add_table(rows=0, cols=2)
    if "Table Grid" in styles:
        table.style = "Table Grid"
    for label, value in agenda.details:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
        for run in cells[0].paragraphs[0].runs:
            run.bold = True
    dt_tools.set_table_alt_text(table, agenda.details_caption)
    if agenda.members:
        doc.add_paragraph(agenda.membership_heading, style=style("Heading 2"))
        for member in agenda.members:
            doc.add_paragraph(member, style=style("List Bullet", "Normal"))
    doc.add_paragraph(agenda.items_heading, style=style("Heading 2"))
    for item in agenda.items:
        if item.part_b_start:
            doc.add_paragraph(agenda.part_b_heading, style=style("Heading 2"))
            doc.add_paragraph(agenda.part_b_resolution, style=style("Body Text", "Normal"))
        doc.add_paragraph(item.heading, style=style("Heading 3"))
        for text in (item.report_of, item.reason, item.text):
            if text:
                doc.add_paragraph(text, style=style("Body Text", "Normal"))
        if item.pages:
            doc.add_paragraph(style=style("Body Text", "Normal")).add_run(item.pages).bold = True
    if agenda.publication:
        doc.add_paragraph(agenda.publication, style=style("Body Text", "Normal"))
    for section in doc.sections:
        dt_tools.add_page_number_footer(section, theme.word("page_footer"))
    dt_tools.set_core_properties(doc, title=agenda.title, author=agenda.author, subject=agenda.title,
                                 language=agenda.language, created=document_timestamp(loaded.meeting.date))
    out = io.BytesIO()
    dt_tools.save_deterministic(doc, out)
    return out.getvalue()
