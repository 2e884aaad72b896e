"""DOCX renderer: the numbered document model → python-docx, styled by the theme's reference.docx.

pandoc's reference-doc model: this module only *names* styles ("Section Heading", "Numbered
Paragraph", "List Letter" …); the theme's ``reference.docx`` *defines* them, with the page
setup. A style the reference lacks is created in the output, based on the nearest built-in
one, so a council's own reference document need not define every custom style.

The DOCX says what the PDF says, in the same order (``templates/report.html`` and
``blocks.html``): title block, exempt marking, details table, sections, signatories,
appendices (each on a new page). No wording lives here; every word comes from the
:class:`~cabinet_reports.document.Document`, which took it from ``theme.yaml``.

Numbers are real Word numbering where possible, so that an officer who inserts a numbered
paragraph in Word gets the next number: the theme's formats ("{s}.0", "{s}.{p}",
"{s}.{p}.{q}", "({a})") become Word level texts ("%1.0", "%1.%2", "%1.%2.%3", "(%1)") on
numbering linked to paragraph styles. Because Word, not we, then computes the numbers, the
renderer records every numbered paragraph it emits, simulates Word's counters over them and
compares the result with the model's numbers. If they would differ in any place (a format
Word cannot express, more than 26 lettered items, where Word counts "aa, bb" but the model
"aa, ab") the whole document is rendered again with literal numbers, so the DOCX never shows
a number the PDF does not.
"""

from __future__ import annotations

import io
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .. import docx_tools
from ..document import Appendix, Block, Document, Heading, ListBlock, Para, Section, SubPoint, TableBlock, roman
from ..errors import Problem, RenderError, ThemeError
from ..inline import Inline, Span, plain
from ..theme import Numbering, Theme
from . import RenderOptions, document_timestamp

# Indents mirror style.css: numbers hang in a 3.4em (≈1.5 cm) gutter, list markers in a
# 2.2em (≈1 cm) gutter; wrapped lines align with the text, not the number.
NUM_GUTTER_CM = 1.5
LIST_GUTTER_CM = 1.0
LOGO_MAX_HEIGHT_CM, LOGO_MAX_WIDTH_CM = 2.5, 6.0

# Styles the renderer names, with the style a missing one is based on (and outline level).
STYLES: dict[str, tuple[str, int | None]] = {
    "Title": ("Normal", None),
    "Title Block": ("Normal", None),
    "Exempt Marking": ("Normal", None),
    "Exempt Reason": ("Normal", None),
    "Heading 1": ("Normal", 0),
    "Heading 2": ("Normal", 1),
    "Heading 3": ("Normal", 2),
    "Heading 4": ("Normal", 3),
    "Heading 5": ("Normal", 4),
    "Heading 6": ("Normal", 5),
    "Section Heading": ("Heading 1", 0),
    "Sub-point Heading": ("Heading 2", 1),
    "Numbered Paragraph": ("Normal", None),
    "Numbered Sub-point": ("Numbered Paragraph", None),
    "Body Text": ("Normal", None),
    "List Letter": ("Normal", None),
    "List Bullet": ("Normal", None),
    "Caption": ("Normal", None),
    "Table Header": ("Normal", None),
    "Signature": ("Normal", None),
}

# Theme format field -> Word w:numFmt, for lettered lists.
_LETTER_FIELDS = {"a": "lowerLetter", "A": "upperLetter", "i": "lowerRoman", "I": "upperRoman", "n": "decimal"}


# --------------------------------------------------------------------------- numbering plan
def word_number(num_fmt: str, n: int) -> str:
    """Return counter ``n`` as Word shows it in ``num_fmt`` (Word counts letters a…z, aa, bb…)."""
    if num_fmt == "decimal":
        return str(n)
    if num_fmt in ("lowerLetter", "upperLetter"):
        text = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return text.upper() if num_fmt == "upperLetter" else text
    if num_fmt in ("lowerRoman", "upperRoman"):
        return roman(n).upper() if num_fmt == "upperRoman" else roman(n)
    raise ValueError(f"unsupported numFmt {num_fmt}")


def level_text(fmt: str, fields: dict[str, str]) -> str | None:
    """Translate a theme format ("{s}.{p}") into a Word level text ("%1.%2"), or None.

    None when the format uses a field Word has no counter for, a format spec, or a literal
    "%" (which Word's level text cannot escape).
    """
    out = ""
    try:
        parsed = list(string.Formatter().parse(fmt))
    except ValueError:
        return None
    for literal, name, spec, conversion in parsed:
        if "%" in literal:
            return None
        out += literal
        if name is None:
            continue
        if spec or conversion or name not in fields:
            return None
        out += fields[name]
    return out


@dataclass
class NumberingPlan:
    """Word level texts for the report's numbering and its lettered lists."""

    report: list[str]  # section, paragraph, sub-point: "%1.0", "%1.%2", "%1.%2.%3"
    heading_lead: str  # "{number}" part of the section heading format, e.g. "{number}"
    heading_sep: str  # whitespace between number and title in the heading format
    letters: list[tuple[str, str]]  # (level text, numFmt) for each lettered-list level


def plan_numbering(fmt: Numbering) -> NumberingPlan | None:
    """Return the Word numbering for the theme's formats, or None if Word cannot express them."""
    report = [level_text(fmt.section, {"s": "%1"}),
              level_text(fmt.paragraph, {"s": "%1", "p": "%2"}),
              level_text(fmt.subpoint, {"s": "%1", "p": "%2", "q": "%3"})]
    if any(text is None for text in report):
        return None
    # The heading must read "<lead with {number}><whitespace>{title}" so that the number
    # can be Word's label and the title the paragraph text.
    head = fmt.heading
    if not head.endswith("{title}") or head.count("{title}") != 1:
        return None
    lead = head[: -len("{title}")]
    sep = lead[len(lead.rstrip()):]
    lead = lead.rstrip()
    if sep not in (" ", "\t") or lead.count("{number}") != 1:
        return None
    if level_text(lead, {"number": ""}) is None:
        return None
    letters = []
    for letter_fmt in fmt.letters:
        fields = [name for _, name, _, _ in string.Formatter().parse(letter_fmt) if name is not None]
        if len(fields) != 1 or fields[0] not in _LETTER_FIELDS:
            return None
        text = level_text(letter_fmt, {fields[0]: "%1"})
        if text is None:
            return None
        letters.append((text, _LETTER_FIELDS[fields[0]]))
    return NumberingPlan(report, lead, sep, letters)


def simulate_word(records: list[tuple[object, int]], lists: dict[object, tuple[list[str], list[str]]]) -> list[str]:
    """Return the labels Word computes for paragraphs ``(list key, level)`` in document order.

    Each list key is one ``w:num`` with its own counters (lettered lists restart through
    ``w:startOverride``); a level's counter restarts whenever a higher level is used.
    """
    counters: dict[object, list[int]] = {}
    out = []
    for key, level in records:
        texts, fmts = lists[key]
        c = counters.setdefault(key, [0] * 9)
        c[level] += 1
        for deeper in range(level + 1, 9):
            c[deeper] = 0
        out.append(re.sub(r"%([1-9])", lambda m: word_number(fmts[int(m.group(1)) - 1], max(c[int(m.group(1)) - 1], 1)),
                          texts[level]))
    return out


# --------------------------------------------------------------------------- model walks
def _walk(blocks: Iterable[Block]) -> Iterator[Block]:
    for b in blocks:
        yield b
        if isinstance(b, SubPoint):
            yield from _walk(b.blocks)
        elif isinstance(b, ListBlock):
            for item in b.items:
                yield from _walk(item.blocks)


def _all_blocks(doc: Document) -> Iterator[Block]:
    for s in doc.sections:
        yield from _walk(s.blocks)
    for a in doc.appendices:
        yield from _walk(a.blocks)


def _inlines(b: Block) -> Iterator[Inline]:
    if isinstance(b, (Para, Heading)):
        yield b.text
    elif isinstance(b, SubPoint):
        yield b.heading
        yield b.text
    elif isinstance(b, ListBlock):
        for item in b.items:
            yield item.text
    elif isinstance(b, TableBlock):
        yield b.caption
        yield from b.header
        for row in b.rows:
            yield from row


def bookmark_targets(doc: Document) -> set[str]:
    """Return the anchors that inline links point to and that name a paragraph we emit."""
    targets = {a.anchor for a in doc.sections if a.heading} | {a.anchor for a in doc.appendices}
    for b in _all_blocks(doc):
        if isinstance(b, (Para, SubPoint)) and b.anchor:
            targets.add(b.anchor)
        elif isinstance(b, ListBlock):
            targets.update(item.anchor for item in b.items if item.anchor)
    linked = {s.href[1:] for b in _all_blocks(doc) for spans in _inlines(b) for s in spans
              if s.href and s.href.startswith("#")}
    return targets & linked


# --------------------------------------------------------------------------- the writer
def _cm(value: float):
    from docx.shared import Cm
    return Cm(value)


@dataclass
class _Ctx:
    """Where blocks go: heading level (as the PDF's h-level) and indents in cm."""

    hlevel: int
    text_indent: float = 0.0  # left indent of unnumbered paragraphs
    list_indent: float = NUM_GUTTER_CM  # where list markers start
    bullet_indent: float = NUM_GUTTER_CM


class _StyleIndex:
    """The reference document's styles by name, read once.

    python-docx finds a style by scanning every style of the document, and does so twice to
    set a paragraph's style (the name, then the default style it must not write): with ~150
    styles in a reference that was most of a DOCX render. This gives the same answers.
    """

    def __init__(self, w) -> None:
        from docx.enum.style import WD_STYLE_TYPE
        from docx.styles import BabelFish

        self._w, self._ui2internal, self._paragraph = w, BabelFish.ui2internal, WD_STYLE_TYPE.PARAGRAPH
        self._by_name: dict[str, object] = {}
        for elm in w.styles.element.style_lst:
            self._by_name.setdefault(elm.name_val, elm)  # the first of a name wins, as in python-docx
        default = w.styles.default(self._paragraph)
        self._default = default.element if default is not None else None
        self._ids: dict[str, str | None] = {}

    def __contains__(self, name: str) -> bool:
        """Tell whether a style of this name exists, as ``name in document.styles`` does."""
        return self._ui2internal(name) in self._by_name

    def paragraph_style_id(self, name: str) -> str | None:
        """Return the w:pStyle python-docx writes for a paragraph style (None for the default)."""
        if name not in self._ids:
            elm = self._by_name.get(self._ui2internal(name))
            if elm is None or elm.type != self._paragraph:  # let python-docx raise its own error
                self._ids[name] = self._w.part.get_style_id(name, self._paragraph)
            else:
                self._ids[name] = None if elm is self._default else elm.styleId
        return self._ids[name]


class MustUseLiteral(Exception):
    """Word's numbering would not show the model's numbers: render with literal numbers."""


@dataclass
class _Writer:
    doc: Document
    theme: Theme
    options: RenderOptions
    plan: NumberingPlan | None  # None: literal numbers
    records: list[tuple[object, int]] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        path = self.theme.find("reference.docx")
        try:
            self.w = docx_tools.open_reference(path)
        except Exception as exc:  # python-docx raises many kinds for a broken file
            raise ThemeError(Problem(f"cannot open the reference document: {exc}", str(path))) from None
        try:
            self.w.part.numbering_part  # noqa: B018  (python-docx cannot create it: needs the reference)
        except NotImplementedError:
            raise ThemeError(Problem("the reference document has no numbering part (word/numbering.xml); "
                                     "save it once with a numbered list in Word", str(path))) from None
        self.styles = _StyleIndex(self.w)
        missing = [name for name in STYLES if name not in self.styles]
        for name in missing:
            base, outline = STYLES[name]
            docx_tools.ensure_style(self.w, name, base, outline_level=outline)
        if missing:
            self.styles = _StyleIndex(self.w)
        self.bookmarks = bookmark_targets(self.doc)
        self.bookmark_id = 0
        self.abstracts: dict[tuple[str, int, int], int] = {}
        self.report_num: int | None = None
        self.lists: dict[object, tuple[list[str], list[str]]] = {}
        if self.plan is not None and self.doc.numbering.numbered:
            report = docx_tools.add_multilevel_numbering(
                self.w, self.plan.report, ["decimal"] * 3,
                indents=[(_cm(NUM_GUTTER_CM), _cm(NUM_GUTTER_CM))] * 3)
            self.report_num = docx_tools.add_num(self.w, report, restart=False)
            self.lists["report"] = (self.plan.report, ["decimal"] * 3)
            for level, style in enumerate(("Section Heading", "Numbered Paragraph", "Sub-point Heading")):
                docx_tools.link_style_to_level(self.w, style, self.report_num, level)
            # A heading-less sub-point is a body paragraph at the sub-point level: its style
            # carries the numbering without becoming the level's linked style.
            docx_tools.link_style_to_level(self.w, "Numbered Sub-point", self.report_num, 2, back_reference=False)

    # ------------------------------------------------------------------ helpers
    def add_paragraph(self, style: str):
        """Add an empty body paragraph in the named paragraph style."""
        p = self.w.add_paragraph()
        self.set_style(p, style)
        return p

    def set_style(self, p, style: str) -> None:
        """Give a paragraph a named style, as ``Paragraph.style = name`` does."""
        p._p.style = self.styles.paragraph_style_id(style)

    def para(self, style: str, spans: Inline = (), *, indent: float | None = None):
        p = self.add_paragraph(style)
        self.inline(p, spans)
        if indent:
            p.paragraph_format.left_indent = _cm(indent)
        return p

    def inline(self, p, spans: Inline) -> None:
        styles = self.w.styles
        for s in spans:
            runs = []
            if s.href and s.href.startswith("#"):
                if s.href[1:] in self.bookmarks:
                    runs = docx_tools.add_internal_hyperlink(p, s.text, s.href[1:], bold=s.bold, italic=s.italic).runs
                else:
                    runs = [p.add_run(s.text)]
            elif s.href:
                runs = docx_tools.add_hyperlink(p, s.text, s.href, bold=s.bold, italic=s.italic).runs
            else:
                runs = [p.add_run(s.text)]
            for run in runs:
                if s.bold:
                    run.bold = True
                if s.italic:
                    run.italic = True
                if s.code and not s.href and "Verbatim Char" in styles:
                    run.style = styles["Verbatim Char"]

    def bookmark(self, p, anchor: str | None) -> None:
        if anchor and anchor in self.bookmarks:
            self.bookmark_id += 1
            docx_tools.add_bookmark(p, anchor, self.bookmark_id)

    def hanging(self, p, left: float, hang: float) -> None:
        """Literal numbers: hang the number in a gutter with a tab stop at the text."""
        fmt = p.paragraph_format
        fmt.left_indent = _cm(left)
        fmt.first_line_indent = _cm(-hang)
        fmt.tab_stops.add_tab_stop(_cm(left))

    def numbered(self, style: str, level: int, number: str, spans: Inline, anchor: str | None):
        """A paragraph numbered in the report list at ``level`` showing ``number``."""
        if self.report_num is not None:
            p = self.para(style, spans)
            self.records.append(("report", level))
            self.expected.append(number)
        else:
            p = self.add_paragraph(style)
            p.add_run(number + "\t")
            self.inline(p, spans)
            self.hanging(p, NUM_GUTTER_CM, NUM_GUTTER_CM)
        self.bookmark(p, anchor)
        return p

    def list_num(self, style: str, letter_level: int, left: float) -> int:
        """Return a fresh, restarting list instance for one lettered or bullet list."""
        key = (style, letter_level, round(left * 100))
        if key not in self.abstracts:
            if style == "letters":
                text, num_fmt = self.plan.letters[min(letter_level, len(self.plan.letters) - 1)]
            else:
                text, num_fmt = self.doc.numbering.bullet, "bullet"
            self.abstracts[key] = docx_tools.add_multilevel_numbering(
                self.w, [text], [num_fmt], indents=[(_cm(left + LIST_GUTTER_CM), _cm(LIST_GUTTER_CM))])
        num_id = docx_tools.add_num(self.w, self.abstracts[key], restart=True)
        if style == "letters":
            text, num_fmt = self.plan.letters[min(letter_level, len(self.plan.letters) - 1)]
            self.lists[num_id] = ([text], [num_fmt])
        return num_id

    # ------------------------------------------------------------------ blocks
    def blocks(self, blocks: list[Block], ctx: _Ctx) -> None:
        for b in blocks:
            if isinstance(b, Para):
                if b.number:
                    self.numbered("Numbered Paragraph", 1, b.number, b.text, b.anchor)
                else:
                    self.para("Body Text", b.text, indent=ctx.text_indent)
            elif isinstance(b, Heading):
                self.para(f"Heading {min(max(ctx.hlevel - 1, 1), 6)}", b.text)
            elif isinstance(b, SubPoint):
                self.subpoint(b, ctx)
            elif isinstance(b, ListBlock):
                self.list_block(b, ctx)
            elif isinstance(b, TableBlock):
                self.table(b)

    def subpoint(self, b: SubPoint, ctx: _Ctx) -> None:
        if b.heading:
            if b.number:
                self.numbered("Sub-point Heading", 2, b.number, b.heading, b.anchor)
            else:
                p = self.para(f"Heading {min(max(ctx.hlevel - 1, 1), 6)}", b.heading)
                self.bookmark(p, b.anchor)
            if b.text:
                self.para("Body Text", b.text, indent=NUM_GUTTER_CM)
        elif b.number:
            self.numbered("Numbered Sub-point", 2, b.number, b.text, b.anchor)
        else:
            self.bookmark(self.para("Body Text", b.text, indent=ctx.text_indent), b.anchor)
        inner = _Ctx(min(ctx.hlevel + 1, 6), NUM_GUTTER_CM, NUM_GUTTER_CM, NUM_GUTTER_CM)
        self.blocks(b.blocks, inner)

    def list_block(self, b: ListBlock, ctx: _Ctx) -> None:
        letters = b.style == "letters"
        left = ctx.list_indent if letters else ctx.bullet_indent
        literal = letters and self.plan is None
        num_id = None if literal else self.list_num("letters" if letters else "bullets", b.level, left)
        style = "List Letter" if letters else "List Bullet"
        text_at = left + LIST_GUTTER_CM
        for item in b.items:
            if literal:
                p = self.add_paragraph(style)
                p.add_run(item.marker + "\t")
                self.inline(p, item.text)
                self.hanging(p, text_at, LIST_GUTTER_CM)
            else:
                p = self.para(style, item.text)
                docx_tools.set_num(p, num_id, 0)
                if letters:
                    self.records.append((num_id, 0))
                    self.expected.append(item.marker)
            self.bookmark(p, item.anchor)
            inner = _Ctx(ctx.hlevel, text_at, text_at, text_at)
            self.blocks(item.blocks, inner)

    def table(self, b: TableBlock) -> None:
        if b.caption:
            cap = self.para("Caption", b.caption)
            cap.paragraph_format.keep_with_next = True
        cols = max([len(b.header)] + [len(r) for r in b.rows])
        table = self.w.add_table(rows=1 + len(b.rows), cols=cols)
        if "Table Grid" in self.w.styles:
            table.style = self.w.styles["Table Grid"]
        for cell, spans in zip(table.rows[0].cells, b.header):
            self.set_style(cell.paragraphs[0], "Table Header")
            self.inline(cell.paragraphs[0], spans)
        for row, cells in zip(table.rows[1:], b.rows):
            for cell, spans in zip(row.cells, cells):
                self.inline(cell.paragraphs[0], spans)
        docx_tools.repeat_header_row(table.rows[0], table=table)
        self._look(table, first_row=True, first_column=False)
        docx_tools.set_table_alt_text(table, plain(b.caption))

    def _look(self, table, *, first_row: bool, first_column: bool) -> None:
        from docx.oxml.ns import qn

        look = table._tbl.tblPr.find(qn("w:tblLook"))
        if look is not None:
            look.set(qn("w:firstRow"), "1" if first_row else "0")
            look.set(qn("w:firstColumn"), "1" if first_column else "0")

    # ------------------------------------------------------------------ document parts
    def title_block(self) -> str:
        doc = self.doc
        if self.options.logo is not None:
            self.logo(self.options.logo)
        if doc.exempt and doc.marking:
            self.para("Exempt Marking", (Span(doc.marking[0]),))
        title = None
        for line in doc.title_lines:
            if line.role == "title":
                self.para("Title", (Span(line.text),))
                title = title or line.text
            else:
                self.para("Title Block", (Span(line.text),))
        if title is None:
            self.para("Title", (Span(doc.title),))
            title = doc.title
        if doc.exempt and len(doc.marking) > 1:
            self.para("Exempt Reason", (Span(doc.marking[1]),))
        return title

    def logo(self, path: Path) -> None:
        p = self.add_paragraph("Title Block")
        shape = p.add_run().add_picture(str(path), height=_cm(LOGO_MAX_HEIGHT_CM))
        if shape.width > _cm(LOGO_MAX_WIDTH_CM):
            ratio = _cm(LOGO_MAX_WIDTH_CM) / shape.width
            shape.width, shape.height = _cm(LOGO_MAX_WIDTH_CM), int(shape.height * ratio)
        shape._inline.docPr.set("descr", self.doc.logo_alt)  # the same words as the PDF's <img alt>

    def details(self) -> None:
        doc = self.doc
        if not doc.details:
            return
        caption = doc.words.get("details_caption", "")
        if caption:
            self.para("Caption", (Span(caption),)).paragraph_format.keep_with_next = True
        table = self.w.add_table(rows=len(doc.details), cols=2)
        if "Table Grid" in self.w.styles:
            table.style = self.w.styles["Table Grid"]
        for row, (label, value) in zip(table.rows, doc.details):
            self.set_style(row.cells[0].paragraphs[0], "Table Header")
            row.cells[0].paragraphs[0].add_run(label)
            row.cells[1].paragraphs[0].add_run(value)
        # The first column holds row headers (the PDF's <th scope="row">).
        self._look(table, first_row=False, first_column=True)
        docx_tools.set_table_alt_text(table, caption)

    def section(self, s: Section) -> None:
        if s.heading:
            if s.number and self.report_num is not None:
                label = self.plan.heading_lead.replace("{number}", s.number)
                if s.heading != label + self.plan.heading_sep + s.title:
                    raise MustUseLiteral(f"heading {s.heading!r}")
                p = self.para("Section Heading", (Span(s.title),))
                self.records.append(("report", 0))
                self.expected.append(label)
            else:
                p = self.para("Section Heading" if s.number else "Heading 1", (Span(s.heading),))
            self.bookmark(p, s.anchor)
        self.blocks(s.blocks, _Ctx(3 if s.heading else 2, bullet_indent=self.bullet_base()))

    def bullet_base(self) -> float:
        # style.css: a note's bullets and timelines start at the margin.
        return 0.0 if self.doc.kind == "note" else NUM_GUTTER_CM

    def signatories(self) -> None:
        for name, title in self.doc.signatories:
            p = self.add_paragraph("Signature")
            p.add_run(name).bold = True
            if title:
                run = p.add_run()
                run.add_break()
                run.add_text(title)

    def appendix(self, a: Appendix) -> None:
        p = self.para("Heading 1", (Span(a.heading),))
        docx_tools.page_break_before(p)
        self.bookmark(p, a.anchor)
        self.blocks(a.blocks, _Ctx(3, bullet_indent=self.bullet_base()))

    def page_furniture(self, title: str) -> None:
        doc, section = self.doc, self.w.sections[0]
        # As the PDF's page boxes: marking top left (exempt only), title top right.
        marking = doc.marking[0] if doc.exempt and doc.marking else ""
        docx_tools.add_text_header(section, f"{marking}\t\t{title}")
        template = doc.words.get("page_footer", "{page}")
        if self.options.total_pages:
            template = template.replace("{pages}", str(self.options.total_pages))
        try:
            docx_tools.add_page_number_footer(section, template)
        except ValueError as exc:
            raise ThemeError(Problem(str(exc), field="theme.yaml: words.page_footer")) from None
        if self.options.page_offset:
            docx_tools.set_page_number_start(section, self.options.page_offset + 1)

    def render(self) -> bytes:
        doc = self.doc
        title = self.title_block()
        self.details()
        for s in doc.sections:
            self.section(s)
        self.signatories()
        for a in doc.appendices:
            self.appendix(a)
        self.page_furniture(title)
        if self.plan is not None:
            shown = simulate_word(self.records, self.lists)
            if shown != self.expected:
                diff = next((e, s) for e, s in zip(self.expected, shown) if e != s)
                raise MustUseLiteral(f"model {diff[0]!r}, Word {diff[1]!r}")
        docx_tools.set_default_language(self.w, doc.language)
        docx_tools.set_core_properties(self.w, title=doc.title, author=doc.author, subject=doc.subject,
                                   language=doc.language, created=document_timestamp(doc.date))
        out = io.BytesIO()
        docx_tools.save_deterministic(self.w, out)
        return out.getvalue()


def render_docx(doc: Document, theme: Theme, options: RenderOptions = RenderOptions()) -> bytes:
    """Render the document to DOCX bytes (reproducible: the same input gives the same bytes)."""
    plan = plan_numbering(doc.numbering)
    if plan is not None:
        try:
            return _Writer(doc, theme, options, plan).render()
        except MustUseLiteral:
            pass  # Word would count differently from the model: print the model's numbers
    try:
        return _Writer(doc, theme, options, None).render()
    except MustUseLiteral as exc:  # cannot happen without a plan; keep the error clear
        raise RenderError(Problem(f"DOCX numbering mismatch: {exc}")) from None
