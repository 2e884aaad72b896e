"""Stage 1 of a pack: the meeting file → items with their papers and Part B status settled.

Takes a meeting file (and the theme, to number every report); gives a :class:`LoadedMeeting`:
the validated :class:`~cabinet_reports.meeting.Meeting` and one :class:`PackItem` per agenda
item — its kind, real and public titles, its loaded report or attached PDF bytes and its
exemption — plus non-fatal warnings. Every problem of every item is collected (located in
its own file) and raised together as one InputError, before anything is rendered.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..api import build, load_report, render_options, resolve_theme
from ..errors import CabinetReportsError, InputError, Problem
from ..loader import Source, format_field_path, load_file
from ..meeting import AttachmentItem, Meeting, ProceduralItem, ReportItem
from ..models import Classification, Report
from ..theme import Theme
from ..validation import explain, validate

__all__ = ["LoadedMeeting", "PackItem", "load_meeting"]


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

    The same report (or attached PDF) listed once as a public item and once as a Part B item
    is an error: whichever listing is right, the public one would publish exempt content.
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
                                  list(spec.report_of), spec.text, exemption, path=file, pdf=raw, pages=pages,
                                  public_report_of=list(spec.public_report_of or [])))
        elif isinstance(spec, ReportItem):
            file = (base / spec.report).resolve()
            if not file.is_file():
                problems.append(_at(source, where + ("report",), f"report file not found: {spec.report}"))
                continue
            try:
                report = load_report(file, theme)
                build(report, theme)
                render_options(report)  # its logo inspected now, as `check` does, not at the first layout
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
        if items and items[-1].index == i and items[-1].exempt:
            if spec.public_title is None:
                # Never fall back to the real title: for a Part B item it may itself be exempt
                # information, and the public agenda, pack text and bookmarks would all show it.
                problems.append(_at(source, where + ("public_title",),
                                    "a Part B item needs a public_title: the title the public agenda and pack "
                                    "show instead of its own"))
            elif _same_words(spec.public_title, items[-1].title):
                warnings.append(str(_at(source, where + ("public_title",),
                                        "the public title is the item's own title: if the title itself is exempt "
                                        "information, give a neutral one (e.g. 'A property matter')")))
    problems += _mixed_duplicates(items, meeting, source)
    first_b = next((it for it in items if it.exempt), None)
    for it in items:
        if first_b is not None and it.number > first_b.number and not it.exempt:
            problems.append(_at(source, ("items", it.index),
                                f"public item {it.number} follows Part B item {first_b.number}: put Part B items "
                                "last (the resolution to exclude the public covers every item after it)"))
    if problems:
        raise InputError(problems)
    return LoadedMeeting(meeting, source, items, warnings)


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
                    spec.text, exemption, report=report, path=file,
                    public_report_of=list(spec.public_report_of or []))

