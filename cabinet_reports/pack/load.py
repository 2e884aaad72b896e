"""Stage 1 of a pack: the meeting file → items with their papers and Part B status settled.

Takes a meeting file (and the theme, to number every report); gives a :class:`LoadedMeeting`:
the validated :class:`~cabinet_reports.meeting.Meeting` and one :class:`PackItem` per agenda
item — its kind, real and public titles, its loaded report or attached PDF bytes and its
exemption — plus non-fatal warnings (:class:`~.consistency.PackWarning`: the few found while
loading, then the consistency checks of :mod:`.consistency`). Every problem of every item is
collected (located in its own file) and raised together as one InputError, before anything is
rendered.

It also gives what the pack adds to a report it renders (:func:`for_agenda_item`): the item
number in its ``meeting.item`` and, on its first page, the theme's "Agenda Item N" stamp.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..api import _source_of, build, load_report, render_options, resolve_theme
from ..errors import CabinetReportsError, InputError, Problem
from ..loader import Source, format_field_path, load_file
from ..lint import clearance_findings
from ..meeting import AttachmentItem, Meeting, ProceduralItem, ReportItem
from ..models import Classification, Report
from ..theme import Theme
from ..validation import explain, validate
from .cache import CheckedReports
from .consistency import PackWarning, pack_warnings, this_meeting

if TYPE_CHECKING:
    from ..document import Document

__all__ = ["LoadedMeeting", "PackItem", "STAMP_ROLE", "agenda_item_options", "for_agenda_item", "load_meeting",
           "stamp_document"]

# The title-block role (HTML class tb-agenda-item, DOCX "Title Block" paragraph) of the stamp.
STAMP_ROLE = "agenda-item"


@dataclass
class PackItem:
    """One agenda item, resolved: its papers loaded and its Part B status settled."""

    number: int
    index: int  # position in the meeting file's items list (for located messages)
    kind: str  # "text", "pdf" or "report"
    title: str  # the real title (Part B: only for the full pack)
    public_title: str  # what public outputs show (required in the meeting file for Part B items)
    report_of: list[str]  # the real report-of line (Part B: only for the full pack)
    text: str | None  # the agenda text (Part B: only for the full pack)
    exemption: Classification | None = None
    report: Report | None = None
    path: Path | None = None
    pdf: bytes | None = None
    pages: int = 0  # pages of the item's full papers (0 for procedural items)
    public_report_of: list[str] = field(default_factory=list)  # what public outputs show for Part B
    stamp: str = ""  # a report's first-page "Agenda Item N" (theme word agenda_item_stamp; "" for none)

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

    def shown_report_of(self, public: bool) -> list[str]:
        """Return the report-of line to show: for Part B items in public, only the cleared one."""
        return self.public_report_of if (self.exempt and public) else self.report_of

    def shown_text(self, public: bool) -> str:
        """Return the agenda text to show: none for Part B items in public."""
        return "" if (self.exempt and public) else (self.text or "")


@dataclass
class LoadedMeeting:
    """A validated meeting with its items resolved, plus non-fatal warnings."""

    meeting: Meeting
    source: Source
    items: list[PackItem]
    findings: list[PackWarning] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """Return every warning as one located line."""
        return [str(f) for f in self.findings]


def _at(source: Source, path: tuple, message: str) -> Problem:
    return Problem(message, source.name, source.line_of(path), format_field_path(path))


def _classification(exempt: Any, default_jurisdiction: str) -> Classification:
    return Classification(status="exempt", paragraphs=list(exempt.paragraphs),
                          jurisdiction=exempt.jurisdiction or default_jurisdiction)


def load_meeting(path: str | Path, theme: Theme | str | Path | None = None, *,
                 checked: CheckedReports | None = None) -> LoadedMeeting:
    """Load a meeting file and every item's papers; raise one InputError listing every problem.

    Report items are loaded and numbered (so their own located errors surface here; a report
    file ``checked`` says an earlier build numbered without a problem is only loaded); attached
    PDFs must exist and open. The consistency checks (:func:`.consistency.pack_warnings`) then
    run on the loaded meeting; their warnings follow the ones found while loading (a finding of
    severity "error" is raised). Part B: a report whose classification is exempt makes its item
    Part B; an item marked ``exempt`` whose report says public is *treated as exempt* (the
    safe reading: nothing is published by mistake), with a warning, and the report is
    rendered with the item's exemption so every page is marked NOT FOR PUBLICATION.

    The same report (or attached PDF) listed once as a public item and once as a Part B item
    is an error: whichever listing is right, the public one would publish exempt content.
    """
    theme = resolve_theme(theme)
    data, source = load_file(path)
    meeting = validate(Meeting, data, source)
    base = source.base_dir or Path.cwd()
    problems: list[Problem] = []
    warnings: list[PackWarning] = []
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
                message = explain(exc.errors()[0])
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
            # Imported only for an attached PDF: 0.05 s that a pack's rebuild spends before its renders are asked for.
            import pikepdf

            from ..pdfmerge import is_tagged

            try:
                with pikepdf.open(io.BytesIO(raw)) as pdf:
                    pages = len(pdf.pages)
                    # The same test as the pack's PDF/UA claim: real tags, not their mere root.
                    tagged = is_tagged(pdf)
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
                warnings.append(PackWarning("untagged-pdf", _at(
                    source, where + ("pdf",), f"{spec.pdf} is not a tagged PDF: it is included as supplied, "
                    "but screen readers cannot follow its structure")))
            items.append(PackItem(number, i, "pdf", spec.title, spec.public_title or spec.title,
                                  list(spec.report_of), spec.text, exemption, path=file, pdf=raw, pages=pages,
                                  public_report_of=list(spec.public_report_of or [])))
        elif isinstance(spec, ReportItem):
            file = (base / spec.report).resolve()
            if not file.is_file():
                problems.append(_at(source, where + ("report",), f"report file not found: {spec.report}"))
                continue
            try:
                report = load_report(file, theme)
                # Keyed by the text this model was made from (the loader's own bounded read).
                source_of = _source_of(report)
                digest = source_of.digest if checked is not None and source_of is not None else None
                if digest is None or not checked.known(digest, file):
                    build(report, theme)
                    if digest is not None:
                        checked.remember(digest, file)
                render_options(report)  # its logo inspected now, as `check` does, not at the first layout
            except CabinetReportsError as exc:
                problems.extend(exc.problems)
                continue
            # The sign-off record, as `check` reports it: a warning, or an error if the theme says so
            # (an error-severity finding stops the pack, below).
            warnings += [PackWarning(f.check, Problem(f.message, f.file, f.line, f.field), f.severity)
                         for f in clearance_findings(report, theme, meeting.date)]
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
                warnings.append(PackWarning("part-b", _at(
                    source, where + ("exempt",),
                    f"{spec.report} is classified public but this item is Part B: treated as exempt")))
                report = _with_classification(report, exemption)
            items.append(_report_item(number, i, spec, report, file, exemption, warnings, theme))
        else:  # pragma: no cover - the discriminator admits only these three
            raise AssertionError(type(spec))
        if items and items[-1].index == i and items[-1].exempt:
            if spec.public_title is None:
                # Never fall back to the real title: for a Part B item it may itself be exempt
                # information, and the public agenda, pack text and bookmarks would all show it.
                problems.append(_at(source, where + ("public_title",),
                                    "a Part B item needs a public_title: the title the public agenda and pack "
                                    "show instead of its own"))
            elif _same_words(spec.public_title, items[-1].title):
                warnings.append(PackWarning("public-title", _at(
                    source, where + ("public_title",), "the public title is the item's own title: if the title "
                    "itself is exempt information, give a neutral one (e.g. 'A property matter')")))
    problems += _mixed_duplicates(items, meeting, source)
    first_b = next((it for it in items if it.exempt), None)
    for it in items:
        if first_b is not None and it.number > first_b.number and not it.exempt:
            problems.append(_at(source, ("items", it.index),
                                f"public item {it.number} follows Part B item {first_b.number}: put Part B items "
                                "last (the resolution to exclude the public covers every item after it)"))
    if problems:
        raise InputError(problems)
    loaded = LoadedMeeting(meeting, source, items, warnings)
    loaded.findings += pack_warnings(loaded)
    errors = [f.problem for f in loaded.findings if f.severity == "error"]
    if errors:
        raise InputError(errors)
    return loaded


def _same_words(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _mixed_duplicates(items: list[PackItem], meeting: Meeting, source: Source) -> list[Problem]:
    """Refuse the same file listed both as a public item and as a Part B item.

    Its exempt content would be published through the public item (the public pack and
    items/). Rather than guess which listing is right, it is an error; listing a file twice
    with the same status is allowed. Files are compared as files (device and inode), so a
    second path, a symbolic link or a hard link to the same report is caught too.
    """
    seen: dict[tuple[int, int], list[PackItem]] = {}
    for item in items:
        if item.path is not None:
            st = item.path.stat()
            seen.setdefault((st.st_dev, st.st_ino), []).append(item)
    problems = []
    for group in seen.values():
        part_b = [it for it in group if it.exempt]
        if not part_b or len(part_b) == len(group):
            continue
        for it in group:
            if not it.exempt:
                key = "report" if it.kind == "report" else "pdf"
                spec = getattr(meeting.items[it.index], key)
                problems.append(_at(source, ("items", it.index, key),
                                    f"{spec} is also item {part_b[0].number}, which is Part B: a file listed twice "
                                    "must be Part B both times (add exempt and public_title here) or be listed once"))
    return problems


def _with_classification(report: Report, classification: Classification) -> Report:
    copy = report.model_copy(update={"classification": classification})
    copy._source = report._source
    return copy


def _report_item(number: int, i: int, spec: ReportItem, report: Report, file: Path,
                 exemption: Classification | None, warnings: list[PackWarning], theme: Theme) -> PackItem:
    title = spec.title or report.title
    kd = report.key_decision
    report_source = report._source
    if kd is not None and kd.key and not kd.forward_plan:
        line = report_source.line_of(("key_decision",)) if report_source else None
        warnings.append(PackWarning("forward-plan", Problem(
            "key decision without a forward plan reference (28 clear days' notice, SI 2012/2089 reg 9)",
            str(file), line, "key_decision")))
    # The stamp's wording sees the item number only, so no title (of a Part B item) can reach it.
    stamp = theme.text(theme.word("agenda_item_stamp"), {"number": number}, ("words", "agenda_item_stamp"))
    # A Part B item without public_title is refused by load_meeting; a public item shows its title.
    return PackItem(number, i, "report", title, spec.public_title or title, list(report.report_of),
                    spec.text, exemption, report=report, path=file,
                    public_report_of=list(spec.public_report_of or []), stamp=" ".join(stamp.split()))


def agenda_item_options(item: PackItem, meeting: Meeting) -> dict[str, Any]:
    """Return what a report's render takes from its place on the agenda, as plain data.

    A worker's job carries it and the render's cache key hashes it: the item number, the
    meeting (body and date, to find the entry of the report's meetings to number) and the stamp.
    """
    return {"number": item.number, "body": meeting.body, "date": meeting.date.isoformat(), "stamp": item.stamp}


def for_agenda_item(report: Report, options: dict[str, Any]) -> Report:
    """Return the report as the pack prints it (``options`` from :func:`agenda_item_options`).

    The item number goes into the entry of ``meeting`` or ``meetings`` that is this meeting,
    replacing a number the report gives itself (the consistency check warns). A report that
    names no entry for this meeting (warned about too), or a briefing note, is left as it is:
    the number is not another meeting's to show.
    """
    found = this_meeting(report, options["body"], dt.date.fromisoformat(options["date"]))
    if found is None:
        return report
    path = found[0]
    number = str(options["number"])
    if path == ("meeting",):
        update: dict[str, Any] = {"meeting": report.meeting.model_copy(update={"item": number})}
    else:
        refs = list(report.meetings)
        refs[path[1]] = refs[path[1]].model_copy(update={"item": number})
        update = {"meetings": refs}
    copy = report.model_copy(update=update)
    copy._source = report._source
    return copy


def stamp_document(doc: Document, stamp: str) -> Document:
    """Return the document with ``stamp`` ("Agenda Item 5") as the first line of its title block.

    A title-block line like the others, it is real text: in the PDF's structure tree, the DOCX
    and the web page alike (style.css floats it to the top right of the first page). An empty
    stamp (the theme's agenda_item_stamp set to "") leaves the document as it is.
    """
    if not stamp:
        return doc
    from ..document import TitleLine

    return dataclasses.replace(doc, title_lines=[TitleLine(STAMP_ROLE, stamp)] + list(doc.title_lines))

