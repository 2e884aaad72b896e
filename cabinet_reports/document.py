"""The numbered, format-neutral document: numbers and cross-references computed once.

:func:`build_document` turns an authored :class:`~cabinet_reports.models.Report` into a
:class:`Document` in two passes, as Sphinx assigns section numbers before any writer runs:

1. number every section, paragraph, sub-point, lettered item and appendix, and collect labels
   (a duplicate label is an error naming both places);
2. parse inline text, resolving ``[[label]]`` to the labelled item's number (an unknown label is
   an error naming the field that uses it).

Renderers (PDF, DOCX) only print ``number`` fields; none of them counts anything. The theme
decides which sections appear, their order and heading text, and how numbers read.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import string
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Union

from . import models as m
from .errors import InputError, Problem, ThemeError
from .inline import Inline, MalformedReference, Span, UnknownReference, parse_inline
from .limits import check_report
from .loader import PathKey, format_field_path
from .theme import KindSpec, Numbering, Theme
from .validation import shown

SCHEDULE_PART = {"england": "Part 1", "england-pre-2006": "Part 1", "wales": "Part 4"}


# --------------------------------------------------------------------------- output model
@dataclass
class Para:
    """A paragraph; ``number`` is None when unnumbered."""

    text: Inline
    number: str | None = None
    anchor: str | None = None
    kind: str = "para"


@dataclass
class Heading:
    """An unnumbered sub-heading."""

    text: Inline
    kind: str = "heading"


@dataclass
class SubPoint:
    """A numbered sub-point with optional heading and text, and follow-on blocks."""

    number: str | None
    heading: Inline
    text: Inline
    blocks: list["Block"]
    anchor: str | None = None
    kind: str = "subpoint"


@dataclass
class Item:
    """One list item: its marker ("(a)", "•"), text and nested blocks."""

    marker: str
    text: Inline
    blocks: list["Block"]
    anchor: str | None = None


@dataclass
class ListBlock:
    """A lettered, bulleted or timeline list; ``level`` counts lettered-list nesting (0 for bullets)."""

    style: str
    items: list[Item]
    level: int = 0
    kind: str = "list"
    format: str | None = None  # a lettered list's marker format ("({a})", "{n}."), for Word numbering


@dataclass
class TableBlock:
    """A table: one header row, body rows, total (footer) rows, and its columns' layout.

    ``align`` holds "left", "right" or "center" per column; ``widths`` the columns' shares
    of the table width (summing to 1), or None to size columns by their content.
    """

    header: list[Inline]
    rows: list[list[Inline]]
    caption: Inline = ()
    anchor: str | None = None
    kind: str = "table"
    footer: list[list[Inline]] = field(default_factory=list)
    align: list[str] = field(default_factory=list)
    widths: list[float] | None = None


Block = Union[Para, Heading, SubPoint, ListBlock, TableBlock]


@dataclass
class Section:
    """A numbered (or unnumbered) section with its full heading text."""

    key: str
    number: str | None
    title: str
    heading: str
    anchor: str
    blocks: list[Block]
    place: str = "body"  # "cover-top" (before the header table), "cover" (after it) or "body"
    box: bool = False  # drawn as a bordered box


@dataclass
class Appendix:
    """An appendix: "Appendix 1", its title and blocks."""

    number: str
    title: str
    heading: str
    anchor: str
    blocks: list[Block]


@dataclass
class TitleLine:
    """One line of the title block; ``role`` names its HTML class and DOCX style."""

    role: str
    text: str


@dataclass
class DetailRow:
    """One row of the header table: a label and one or more cells, each cell a list of lines."""

    label: str | None  # None: a continuation row under the label of the row above
    cells: list[list[str]]
    span: int = 1  # rows the label heads (a row per contact officer)


@dataclass
class Document:
    """Everything a renderer needs, already numbered and worded."""

    kind: str
    language: str
    title: str
    title_lines: list[TitleLine]
    details: list[DetailRow]
    sections: list[Section]
    appendices: list[Appendix]
    signatories: list[tuple[str, str]]
    exempt: bool
    marking: list[str]
    words: dict[str, str]
    author: str
    subject: str
    date: dt.date
    labels: dict[str, str] = field(default_factory=dict)
    numbering: Numbering = field(default_factory=Numbering)
    logo_alt: str = ""
    # Whether the title block holds the title (role "title"); if not, the title is printed
    # only where the theme asks: before the body (title_before_body) or in the header table.
    title_in_block: bool = True
    title_before_body: bool = False

    def cover_sections(self, place: str) -> list[Section]:
        """Return the sections placed in the cover area ``place`` ("cover-top" or "cover")."""
        return [s for s in self.sections if s.place == place]

    @property
    def body_sections(self) -> list[Section]:
        """Return the sections of the body, in order."""
        return [s for s in self.sections if s.place == "body"]

    def numbered_labels(self) -> list[str]:
        """Return every printed number in reading order (for tests and parity checks)."""
        out: list[str] = []
        for section in self.sections:
            if section.number:
                out.append(section.number)
            out.extend(_numbers_in(section.blocks))
        for appendix in self.appendices:
            out.extend(_numbers_in(appendix.blocks))
        return out


def _numbers_in(blocks: list[Block]) -> Iterator[str]:
    for b in blocks:
        if isinstance(b, (Para, SubPoint)) and b.number:
            yield b.number
        if isinstance(b, SubPoint):
            yield from _numbers_in(b.blocks)
        if isinstance(b, ListBlock):
            for item in b.items:
                if b.style == "letters":
                    yield item.marker
                yield from _numbers_in(item.blocks)


# --------------------------------------------------------------------------- numbering helpers
def roman(n: int) -> str:
    """Return n in lower-case Roman numerals."""
    vals = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
            (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    out = ""
    for v, s in vals:
        while n >= v:
            out += s
            n -= v
    return out


def _letters(n: int) -> str:
    """Return a, b … z, aa, ab … for n = 1, 2 …"""
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = string.ascii_lowercase[r] + out
    return out


def letter_marker(fmt: str, n: int) -> str:
    """Format the n-th item of a lettered list with a theme format like "({a})" or "{i})"."""
    return fmt.format(a=_letters(n), A=_letters(n).upper(), i=roman(n), I=roman(n).upper(), n=n)


def appendix_number(fmt: str, n: int) -> str:
    """Format the n-th appendix's number with a theme format ("Appendix {n}", "Appendix {A}")."""
    return fmt.format(n=n, a=_letters(n), A=_letters(n).upper(), i=roman(n), I=roman(n).upper())


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# --------------------------------------------------------------------------- the builder
class _Builder:
    """Walks the authored report twice: numbering first, then inline text."""

    def __init__(self, report: m.Report, theme: Theme):
        self.report = report
        self.theme = theme
        self.spec: KindSpec = theme.kind(report.kind)
        self.fmt: Numbering = self.spec.numbering
        self.labels: dict[str, tuple[str, str, PathKey]] = {}  # label -> (shown, anchor, where)
        self.problems: list[Problem] = []
        self._ids = 0
        self._depth = 0
        self._pending: list[tuple[Callable[[], None], PathKey]] = []
        # (number, title) of every appendix, known before the body that lists them.
        self.appendix_numbers: list[tuple[str, str]] = []
        self.appendix_anchors: list[str] = []

    # anchors are sequential per document; the pack merger makes them unique per report
    def anchor(self) -> str:
        self._ids += 1
        return f"cr{self._ids}"

    def label(self, name: str | None, shown: str | None, anchor: str, where: PathKey) -> None:
        if not name:
            return
        if name in self.labels:
            first = format_field_path(self.labels[name][2])
            self.problems.append(Problem(f"duplicate label '{name}' (first used at {first})",
                                         field=format_field_path(where + ("label",))))
            return
        if not shown:
            self.problems.append(Problem(f"label '{name}' is on an item that has no number",
                                         field=format_field_path(where + ("label",))))
            return
        self.labels[name] = (shown, anchor, where)

    def resolve(self, name: str) -> tuple[str, str]:
        shown, anchor, _ = self.labels[name]
        # "see 3." under a "{s}." theme would read "see 3.." at the end of a sentence.
        return shown.rstrip("."), anchor

    def inline(self, text: str | None, where: PathKey) -> Inline:
        """Defer inline parsing until every label is known, returning a placeholder list."""
        holder: list[Any] = []
        if text is None:
            return ()

        def run() -> None:
            try:
                holder.extend(parse_inline(text, self.resolve))
            except UnknownReference as exc:
                known = ", ".join(sorted(self.labels)) or "none defined"
                self.problems.append(Problem(f"unknown label '{exc.label}' in [[{exc.label}]] (labels: {known})",
                                             field=format_field_path(where)))
            except MalformedReference as exc:
                self.problems.append(Problem(f"malformed reference near '{exc.fragment}': write [[label]] with "
                                             "no spaces inside the brackets", field=format_field_path(where)))
        self._pending.append((run, where))
        return holder  # type: ignore[return-value]  # filled in by finish()

    def finish(self) -> None:
        for run, _ in self._pending:
            run()

    # ------------------------------------------------------------------ blocks
    def blocks(self, blocks: list[m.Block], where: PathKey, ctx: dict[str, Any]) -> list[Block]:
        """Number a list of blocks; ``ctx`` holds the running counters of the enclosing section."""
        if not blocks:
            return []
        if self._depth >= m.MAX_NESTING:
            self.problems.append(Problem(f"blocks are nested more than {m.MAX_NESTING} deep",
                                         field=format_field_path(where)))
            return []
        self._depth += 1
        try:
            return self._blocks(blocks, where, ctx)
        finally:
            self._depth -= 1

    def _blocks(self, blocks: list[m.Block], where: PathKey, ctx: dict[str, Any]) -> list[Block]:
        out: list[Block] = []
        for i, block in enumerate(blocks):
            at = where + (i,)
            if isinstance(block, m.Paragraph):
                number = None
                if ctx["numbered"]:
                    ctx["p"] += 1
                    ctx["q"] = 0
                    number = self.fmt.paragraph.format(s=ctx["s"], p=ctx["p"])
                    ctx["owner"] = number
                anchor = self.anchor()
                self.label(block.label, number, anchor, at)
                out.append(Para(self.inline(block.p, at + ("p",)), number, anchor))
            elif isinstance(block, m.PlainParagraph):
                out.append(Para(self.inline(block.text, at + ("text",))))
            elif isinstance(block, m.SubHeading):
                out.append(Heading(self.inline(block.heading, at + ("heading",))))
            elif isinstance(block, m.SubPoint):
                number = None
                if ctx["numbered"]:
                    if ctx["p"] == 0:
                        self.problems.append(Problem("a sub-point must follow a numbered paragraph (p) in its section",
                                                     field=format_field_path(at)))
                    ctx["q"] += 1
                    number = self.fmt.subpoint.format(s=ctx["s"], p=ctx["p"], q=ctx["q"])
                anchor = self.anchor()
                self.label(block.label, number, anchor, at)
                # Lists inside the sub-point belong to it ("2.1.1(a)"); after it, to the paragraph.
                outer, ctx["owner"] = ctx.get("owner"), number or ctx.get("owner")
                inner = self.blocks(block.blocks, at + ("blocks",), ctx)
                ctx["owner"] = outer
                out.append(SubPoint(number, self.inline(block.subpoint, at + ("subpoint",)),
                                    self.inline(block.text, at + ("text",)), inner, anchor))
            elif isinstance(block, m.LetteredList):
                out.append(self.letters(block, at, ctx))
            elif isinstance(block, m.BulletList):
                items = []
                for j, it in enumerate(block.bullets):
                    self.label(it.label, None, "", at + ("bullets", j))  # bullets have no number to cite
                    items.append(Item(self.fmt.bullet, self.inline(it.text, at + ("bullets", j, "text")),
                                      self.blocks(it.blocks, at + ("bullets", j, "blocks"), ctx)))
                out.append(ListBlock("bullets", items))
            elif isinstance(block, m.Timeline):
                items = []
                for j, entry in enumerate(block.timeline):
                    lead = self.fmt.timeline.format(when=entry.when)
                    items.append(Item(self.fmt.bullet, self._prefixed(lead, entry.text, at + ("timeline", j, "text")),
                                      self.blocks(entry.blocks, at + ("timeline", j, "blocks"), ctx)))
                out.append(ListBlock("timeline", items))
            elif isinstance(block, m.AppendixList):
                if not self.appendix_numbers:
                    self.problems.append(Problem("an appendix_list needs appendices in the report",
                                                 field=format_field_path(at)))
                for j, (number, title) in enumerate(self.appendix_numbers):
                    out.append(Para(self._appendix_link(j, self.fmt.appendix_list.format(number=number, title=title))))
            elif isinstance(block, m.Table):
                spec = block.table
                anchor = self.anchor()
                out.append(TableBlock(
                    [self.inline(h, at + ("table", "header", j)) for j, h in enumerate(spec.header)],
                    [[self.inline(c, at + ("table", "rows", r, j)) if c else () for j, c in enumerate(row)]
                     for r, row in enumerate(spec.rows)],
                    self.inline(spec.caption, at + ("table", "caption")), anchor,
                    footer=[[self.inline(c, at + ("table", "footer", r, j)) if c else () for j, c in enumerate(row)]
                            for r, row in enumerate(spec.footer)],
                    align=spec.column_align(),
                    widths=[w / sum(spec.widths) for w in spec.widths] if spec.widths else None))
        return out

    def _appendix_link(self, index: int, line: str) -> Inline:
        # The appendix's anchor is given out after the body's (ids follow reading order), so
        # the link is filled in with the other deferred text.
        holder: list[Any] = []
        self._pending.append((lambda: holder.append(Span(line, href="#" + self.appendix_anchors[index])), ()))
        return holder  # type: ignore[return-value]

    def _prefixed(self, lead: str, text: str, where: PathKey) -> Inline:
        holder = self.inline(text, where)
        # The "when" lead-in is bold so a dated timeline scans like the seed's; it is part of
        # the text so PDF and DOCX read identically.
        wrapped: list[Any] = []

        def run() -> None:
            wrapped.extend((Span(lead, bold=True), *holder))
        self._pending.append((run, where))
        return wrapped  # type: ignore[return-value]

    def letters(self, block: m.LetteredList, at: PathKey, ctx: dict[str, Any]) -> ListBlock:
        level = ctx["letter_level"]
        # The list's own format, else the section's (theme) formats, else the kind's, by level.
        fmts = ctx.get("letter_formats") or self.fmt.letters
        fmt = block.format or fmts[min(level, len(fmts) - 1)]
        items = []
        inner = dict(ctx, letter_level=level + 1)
        # A reference to an item reads "3.1(c)": the number the list belongs to (paragraph,
        # sub-point, or the section when it has no paragraph yet), fixed before the items' own
        # nested blocks can move the counters on.
        prefix = (ctx.get("owner") or "").rstrip(".") if ctx["numbered"] else ""
        for j, it in enumerate(block.letters):
            marker = letter_marker(fmt, j + 1)
            anchor = self.anchor()
            self.label(it.label, prefix + marker, anchor, at + ("letters", j))
            items.append(Item(marker, self.inline(it.text, at + ("letters", j, "text")),
                              self.blocks(it.blocks, at + ("letters", j, "blocks"), inner), anchor))
            ctx.update({k: inner[k] for k in ("p", "q")})
        return ListBlock("letters", items, level, format=fmt)

    # ------------------------------------------------------------------ sections
    def ordered_sections(self) -> list[tuple[str, m.Section, str]]:
        """Return (key, section, title) in the theme's order, checking required sections."""
        report = self.report
        known = {s.key: s for s in self.theme.config.sections}
        chosen: list[tuple[str, m.Section, str]] = []
        for key, section in report.sections.items():
            title = section.heading or (known[key].title if key in known else None)
            if title is None and self.spec.section_order == "theme":
                self.problems.append(Problem(
                    f"the theme does not know section '{key}': give it a heading "
                    f"(known sections: {', '.join(known)})", field=f"sections.{key}"))
                continue
            if not section.blocks:
                self.problems.append(Problem("section has no content", field=f"sections.{key}"))
            chosen.append((key, section, title or ""))
        table_key = self.clearance_section()
        if table_key is not None and table_key not in report.sections:
            # The sign-off table is the whole section: it needs no authored text.
            chosen.append((table_key, m.Section(), known[table_key].title))
        if report.kind == "report":
            for spec in self.theme.config.sections:
                if spec.required and spec.key not in report.sections and spec.key != table_key:
                    self.problems.append(Problem(f"required section '{spec.key}' is missing",
                                                 field=f"sections.{spec.key}"))
        if self.spec.section_order == "file":
            return chosen
        order = [s.key for s in self.theme.config.sections]
        anchor_key = self.theme.config.other_sections_before
        anchor_pos = order.index(anchor_key) if anchor_key in order else len(order)
        file_pos = {key: i for i, (key, _, _) in enumerate(chosen)}

        def rank(entry: tuple[str, m.Section, str]) -> tuple[float, int]:
            key = entry[0]
            return (order.index(key) if key in order else anchor_pos - 0.5, file_pos[key])
        return sorted(chosen, key=rank)

    def build(self) -> Document:
        report, theme, fmt = self.report, self.theme, self.fmt
        self.appendix_numbers = [(appendix_number(fmt.appendix, i + 1), appx.title)
                                 for i, appx in enumerate(report.appendices)]
        known = {spec.key: spec for spec in theme.config.sections}
        sections: list[Section] = []
        s = 0
        placed = {"cover-top": [], "cover": [], "body": []}
        for key, section, title in self.ordered_sections():
            spec = known.get(key)
            place = section.place or (spec.place if spec else "body")
            placed[place].append((key, section, title, spec, place))
        # Cover sections come first in reading order, so body numbering starts after them.
        for key, section, title, spec, place in placed["cover-top"] + placed["cover"] + placed["body"]:
            numbered = fmt.numbered and place == "body"
            if section.numbered is not None:
                numbered = numbered and section.numbered
            elif spec is not None and spec.numbered is not None:
                numbered = numbered and spec.numbered
            number = None
            if numbered:
                s += 1
                number = fmt.section.format(s=s)
            heading = fmt.heading.format(number=number, title=title) if number else title
            anchor = self.anchor()
            at: PathKey = ("sections", key)
            if number:
                self.label(f"section:{key}", number, anchor, at)
            ctx = {"numbered": numbered, "s": s, "p": 0, "q": 0, "letter_level": 0, "owner": number,
                   "letter_formats": spec.letters if spec else None}
            blocks = self.blocks(section.blocks, at, ctx)
            if key == self.clearance_section():
                blocks.append(self.clearance_table())
            sections.append(Section(key, number, title, heading, anchor, blocks, place,
                                    bool(spec and spec.box)))

        appendices = []
        for i, appx in enumerate(report.appendices):
            number = self.appendix_numbers[i][0]
            anchor = self.anchor()
            self.appendix_anchors.append(anchor)
            at = ("appendices", i)
            self.label(appx.label, number, anchor, at)
            ctx = {"numbered": False, "s": 0, "p": 0, "q": 0, "letter_level": 0}
            blocks = self.blocks(appx.blocks, at + ("blocks",), ctx)
            appendices.append(Appendix(number, appx.title, fmt.appendix_heading.format(number=number, title=appx.title),
                                       anchor, blocks))

        cover = self.cover_values()
        self.check_clearance_kinds()
        self.finish()
        if self.problems:
            raise InputError(self.problems)

        context = self.title_context(cover)
        title_lines = [TitleLine(role, text) for i, (role, src) in enumerate(self.spec.title_block)
                       if (text := theme.text(src, context, ("kinds", report.kind, "title_block", i, 1)))]
        details = self.detail_rows(context)
        marking: list[str] = []
        cls = report.classification
        if cls.exempt:
            marking = [theme.word("exempt_marking"),
                       theme.text(theme.word("exempt_reason"),
                                  {"paragraphs": cls.paragraphs, "schedule_part": SCHEDULE_PART[cls.jurisdiction],
                                   "jurisdiction": cls.jurisdiction, "reason": cls.reason or ""},
                                  ("words", "exempt_reason"))]
        words = {k: v for k, v in theme.config.words.items()}
        return Document(
            kind=report.kind, language=report.language, title=report.title,
            title_lines=title_lines, details=details, sections=sections, appendices=appendices,
            signatories=[(sig.name, sig.title or "") for sig in report.signatories],
            exempt=cls.exempt, marking=marking, words=words,
            author=", ".join(report.report_of) or report.council.name,
            subject=" ".join(filter(None, [report.council.name, report.meeting.body if report.meeting else None,
                                           theme.format_date(report.issue_date)])),
            date=report.issue_date,
            labels={k: v[0] for k, v in self.labels.items()},
            logo_alt=theme.text(theme.word("logo_alt"), {"council": report.council.name}, ("words", "logo_alt")),
            numbering=fmt,
            title_in_block=any(line.role == "title" for line in title_lines),
            title_before_body=self.spec.title_before_body,
        )

    def detail_rows(self, context: dict[str, Any]) -> list[DetailRow]:
        """Render the header table's rows; rows whose cells are all empty are left out."""
        theme, out = self.theme, []
        for i, spec in enumerate(self.spec.details):
            where: tuple[str | int, ...] = ("kinds", self.report.kind, "details", i)
            if isinstance(spec, list):
                cells = [theme.lines(src, context, where + (j + 1,)) for j, src in enumerate(spec[1:])]
                if any(cells):
                    out.append(DetailRow(theme.text(spec[0], context, where + (0,)), cells))
                continue
            items = context.get(spec.each)
            if not isinstance(items, list):
                file, line = theme.locate(where + ("each",))
                lists = ", ".join(k for k, v in context.items() if isinstance(v, list))
                raise ThemeError(Problem(f"'each: {spec.each}' is not a list of the report (lists: {lists})",
                                         file, line, format_field_path(where + ("each",))))
            rows = [cells for item in items
                    if any(cells := [theme.lines(src, dict(context, item=item), where + ("cells", j))
                                     for j, src in enumerate(spec.cells)])]
            for j, cells in enumerate(rows):
                out.append(DetailRow(theme.text(spec.label, context, where + ("label",)) if j == 0 else None,
                                     cells, len(rows) if j == 0 else 1))
        settings = theme.config.clearances
        if settings.print == "details":
            # One row per clearance under one spanning label, as a theme's {label, each} row would be.
            rows = [[[text] if text else [] for text in self.clearance_cells(c)] for c in self.report.clearances]
            for j, cells in enumerate(rows):
                out.append(DetailRow(settings.label if j == 0 else None, cells, len(rows) if j == 0 else 1))
        return out

    # ------------------------------------------------------------------ the sign-off record
    def clearance_section(self) -> str | None:
        """Return the key of the section the clearances table ends, or None when it is not printed."""
        settings = self.theme.config.clearances
        if settings.print != "section" or not self.report.clearances:
            return None
        return settings.section

    def clearance_cells(self, clearance: m.Clearance) -> list[str]:
        """Return one clearance's printed values, one per theme column (kind as its label, date formatted)."""
        row = self.clearance_data(clearance)
        return [row["label"] if field == "kind" else row[field] for field, _ in self.theme.config.clearances.columns]

    def clearance_data(self, clearance: m.Clearance) -> dict[str, str]:
        """Return a clearance as the plain text templates see (``clearances`` in the title context)."""
        kinds = self.theme.config.clearances.kinds
        return {"kind": clearance.kind, "label": kinds.get(clearance.kind, clearance.kind), "name": clearance.name,
                "role": clearance.role, "date": self.theme.format_date(clearance.date) if clearance.date else "",
                "iso_date": clearance.date.isoformat() if clearance.date else "",
                "reference": clearance.reference or "", "note": clearance.note or ""}

    def clearance_table(self) -> TableBlock:
        """Return the sign-off table (Clearance | Name | Role | Date) as a plain table block."""
        settings = self.theme.config.clearances
        rows = [[(Span(text),) if text else () for text in self.clearance_cells(c)] for c in self.report.clearances]
        widths = [w / sum(settings.widths) for w in settings.widths] if settings.widths else None
        return TableBlock([(Span(heading),) for _, heading in settings.columns], rows, anchor=self.anchor(),
                          align=["left"] * len(settings.columns), widths=widths)

    def check_clearance_kinds(self) -> None:
        """Refuse a clearance whose kind the theme does not declare (theme.yaml ``clearances.kinds``)."""
        kinds = self.theme.config.clearances.kinds
        for i, clearance in enumerate(self.report.clearances):
            if clearance.kind not in kinds:
                close = difflib.get_close_matches(clearance.kind.lower(), list(kinds), n=1, cutoff=0.7)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.problems.append(Problem(
                    f"unknown clearance kind '{clearance.kind}'{hint}: the theme's kinds are {', '.join(kinds) or 'none'}",
                    field=format_field_path(("clearances", i, "kind"))))

    def cover_values(self) -> dict[str, Any]:
        """Check the report's ``cover:`` values against the theme's declarations; return them as plain data."""
        declared = self.theme.config.cover_fields
        given = self.report.cover
        out: dict[str, Any] = {}
        for key, value in given.items():
            where = format_field_path(("cover", key))
            if key not in declared:
                names = ", ".join(declared) or "none"
                self.problems.append(Problem(f"the theme declares no cover field '{key}' (cover fields: {names})",
                                             field=where))
                continue
            try:
                out[key] = self._cover_value(declared[key].type, value)
            except ValueError as exc:
                self.problems.append(Problem(f"{declared[key].label}: {exc}", field=where))
        for key, spec in declared.items():
            if key not in given:
                if spec.required and self.report.kind == "report":
                    self.problems.append(Problem(f"the theme requires the cover field '{key}' ({spec.label})",
                                                 field=format_field_path(("cover", key))))
                out[key] = [] if spec.type == "list" else (False if spec.type == "bool" else "")
        return out

    def _cover_value(self, kind: str, value: Any) -> Any:
        def text(v: Any) -> str:
            if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                raise ValueError(f"expected text (got {shown(v)})")
            v = str(v).strip()
            if not v:
                raise ValueError("must not be empty")
            if len(v) > m.MAX_TEXT:
                raise ValueError(f"is longer than {m.MAX_TEXT} characters")
            return m._xml_safe(v)
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
            return value
        if kind == "date":
            if isinstance(value, dt.datetime) or not isinstance(value, (dt.date, str)):
                raise ValueError("expected a date written YYYY-MM-DD")
            if isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value.strip())
                except ValueError:
                    raise ValueError(f"'{value}' is not a date written YYYY-MM-DD") from None
            return self.theme.format_date(value)
        if kind == "list":
            items = [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value
            if not isinstance(items, list):
                raise ValueError("expected a list of text")
            if len(items) > m.MAX_ITEMS:
                raise ValueError(f"has more than {m.MAX_ITEMS} items")
            return [text(v) for v in items]
        v = text(value)
        if kind == "email" and not _EMAIL.match(v):
            raise ValueError(f"'{v}' is not an email address such as name@council.gov.uk")
        return v

    def title_context(self, cover: dict[str, Any]) -> dict[str, Any]:
        """Return the plain data (dicts, lists, text) the title block and header table see."""
        r, fmt_date = self.report, self.theme.format_date

        def contact(c: m.Contact) -> dict[str, Any]:
            return {"name": c.name, "role": c.role or "", "phone": c.phone or "", "email": c.email or ""}

        def meeting(mt: m.Meeting | m.MeetingRef) -> dict[str, Any]:
            return {"body": mt.body, "date": fmt_date(mt.date), "iso_date": mt.date.isoformat(),
                    "item": mt.item or ""}

        meetings = ([r.meeting] if r.meeting else []) + list(r.meetings)
        cls = r.classification
        return {
            "council": {"name": r.council.name, "logo": r.council.logo or ""},
            "meeting": meeting(r.meeting) if r.meeting else None,
            "meetings": [meeting(x) for x in sorted(meetings, key=lambda x: x.date)],
            "date": fmt_date(r.issue_date), "issued": r.issue_date,
            "title": r.title, "subtitle": r.subtitle, "report_of": list(r.report_of), "reference": r.reference,
            "contact": contact(r.contact) if r.contact else None,
            "contacts": [contact(c) for c in r.all_contacts],
            "portfolio_holder": list(r.portfolio_holder), "decision_maker": r.decision_maker or "",
            "lead_officer": list(r.lead_officer), "purpose": r.purpose or "", "urgency": r.urgency or "",
            "wards": list(r.wards),
            "key_decision": ({"key": r.key_decision.key, "forward_plan": r.key_decision.forward_plan or ""}
                             if r.key_decision else None),
            "classification": {"status": cls.status, "exempt": cls.exempt, "paragraphs": list(cls.paragraphs),
                               "jurisdiction": cls.jurisdiction, "reason": cls.reason or ""},
            "exempt": cls.exempt, "kind": r.kind, "language": r.language, "cover": cover,
            "clearances": [self.clearance_data(c) for c in r.clearances],
        }


def build_document(report: m.Report, theme: Theme) -> Document:
    """Number a report and resolve its cross-references into a renderable :class:`Document`."""
    check_report(report)  # the size limits, before any text is parsed or laid out
    return _Builder(report, theme).build()
