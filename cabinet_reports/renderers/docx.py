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
from ..document import Appendix, Block, DetailRow, Document, Heading, ListBlock, Para, Section, SubPoint, TableBlock, roman
from ..errors import Problem, RenderError, ThemeError
from ..images import ImageError, docx_picture
from ..inline import Inline, Span, plain
from ..theme import Numbering, Theme
from . import RenderOptions, document_timestamp

# Indents mirror style.css: numbers hang in a 3.4em (≈1.5 cm) gutter, list markers in a
# 2.2em (≈1 cm) gutter; wrapped lines align with the text, not the number.
NUM_GUTTER_CM = 1.5
LIST_GUTTER_CM = 1.0

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
    "Table Text": ("Normal", None),
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
        level = letter_level_text(letter_fmt)
        if level is None:
            return None
        letters.append(level)
    return NumberingPlan(report, lead, sep, letters)


def letter_level_text(letter_fmt: str) -> tuple[str, str] | None:
    """Return (Word level text, numFmt) for a list marker format ("({a})" → "(%1)", lowerLetter), or None."""
    fields = [name for _, name, _, _ in string.Formatter().parse(letter_fmt) if name is not None]
    if len(fields) != 1 or fields[0] not in _LETTER_FIELDS:
        return None
    text = level_text(letter_fmt, {fields[0]: "%1"})
    return None if text is None else (text, _LETTER_FIELDS[fields[0]])


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
        for row in [*b.rows, *b.footer]:
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


def _box_borders(p) -> None:
    """Give a paragraph element a single-line border on all four sides (a boxed note)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        edge = OxmlElement(f"w:{side}")
        for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"), ("w:color", "000000")):
            edge.set(qn(key), value)
        borders.append(edge)
    # pBdr's place in pPr's sequence: after the numbering and keep properties, before shading.
    order = ("w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl",
             "w:numPr", "w:suppressLineNumbers")
    index = 0
    for i, child in enumerate(ppr):
        if child.tag in {qn(t) for t in order}:
            index = i + 1
    ppr.insert(index, borders)


# --------------------------------------------------------------------------- keeping together
_HEADING_STYLES = {"Title", "Section Heading", "Sub-point Heading", "Caption"} | {f"Heading {n}" for n in range(1, 7)}


def keep_headings_with_next(p, style: str) -> None:
    """Keep a heading (or caption) on the page of what follows it, whatever the reference says."""
    if style in _HEADING_STYLES:
        p.paragraph_format.keep_with_next = True


# --------------------------------------------------------------------------- tables
# As style.css: #e8e8e8 column headers, #f2f2f2 row labels of the details table.
HEADER_FILL = "E8E8E8"
LABEL_FILL = "F2F2F2"


def word_chars(word: str) -> float:
    """Return about how many average characters of 11 pt table text ``word`` takes (never too few).

    Estimated from Arial's widths (text_width_pt): a word's letter count is not enough,
    "Finance" is wider than seven average characters, and a column sized by the count broke
    it ("Financ/e") in LibreOffice.
    """
    return text_width_pt(word, 11.0) / docx_tools.CHAR_PT


def content_widths(b: TableBlock) -> list[float]:
    """Return column shares of the table width from the cells' text, as CSS auto layout does.

    Each column wants its longest cell on one line and needs at least its longest word.
    """
    rows = [b.header, *b.rows, *b.footer]
    texts = [[plain(row[c]) if c < len(row) else "" for row in rows] for c in range(len(b.header))]
    # Characters at 11 pt; +2 for the cell padding, a cap so one long cell cannot take the page.
    wants = [min(max((len(t) for t in col), default=0), 60) + 2 for col in texts]
    needs = [min(max((word_chars(w) for t in col for w in t.split()), default=0), 25) + 2 for col in texts]
    return docx_tools.column_shares(wants, needs)


def details_widths(rows: list[DetailRow], width: int) -> tuple[list[float], float]:
    """Return the details table's column shares and its share of the text width, as style.css.

    The labels never wrap (``white-space: nowrap``); a value line wants its length and needs
    its longest word (lines are the cell's stacked lines); a cell spanning to the last column
    only needs its longest word in the first column it spans (it has all their width). One
    value column: ``width: auto; min-width: 60%``; several (a contacts table): the full width.
    """
    labels = [word_chars(r.label) * 1.1 + 2 for r in rows if r.label]  # bold: about a tenth wider
    wants, needs = [max(labels, default=4)], [max(labels, default=4)]
    for c in range(width):
        own = [line for r in rows if c < len(r.cells) and (len(r.cells) == width or c < len(r.cells) - 1)
               for line in r.cells[c]]
        spanning = [line for r in rows if c == len(r.cells) - 1 < width - 1 for line in r.cells[c]]
        wants.append(min(max((len(line) for line in own), default=0), 60) + 2)
        needs.append(min(max((word_chars(w) for line in own + spanning for w in line.split()), default=0), 32) + 2)
    shares = docx_tools.column_shares(wants, needs)
    if width > 1:
        return shares, 1.0
    return shares, min(max(sum(max(w, n) for w, n in zip(wants, needs)) / docx_tools.LINE_CHARS, 0.6), 1.0)


# --------------------------------------------------------------------------- running title
def style_size_pt(w, name: str, default: float = 12.0) -> float:
    """Return the font size of a paragraph style, following its base styles (points)."""
    style = w.styles[name] if name in w.styles else None
    while style is not None:
        if style.font.size is not None:
            return style.font.size.pt
        style = style.base_style
    return default


def text_width_pt(text: str, size: float) -> float:
    """Return about how wide ``text`` is in Arial at ``size`` points (a little wide, never narrow)."""
    def em(c: str) -> float:
        if c == " ":
            return 0.28
        if c.isupper() or c in "mwMW@%":
            return 0.75
        if c.isdigit() or c.isalpha():
            return 0.56
        return 0.36
    return sum(em(c) for c in text) * size


def fit_line(text: str, width: float, size: float) -> str:
    """Return ``text``, or its longest start ending in "…", that fits ``width`` points on one line."""
    if text_width_pt(text, size) <= width:
        return text
    while text and text_width_pt(text + "…", size) > width:
        text = text[:-1]
    return text.rstrip(" ,;:-–") + "…"


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
        keep_headings_with_next(p, style)
        return p

    def inline(self, p, spans: Inline) -> None:
        styles = self.w.styles
        for s in spans:
            runs = []
            if s.href and s.href.startswith("#"):
                if s.href[1:] in self.bookmarks:
                    runs = docx_tools.add_internal_hyperlink(p, s.text, s.href[1:], bold=s.bold, italic=s.italic).runs
                else:
                    runs = [docx_tools.add_run(p, s.text)]
            elif s.href:
                runs = docx_tools.add_hyperlink(p, s.text, s.href, bold=s.bold, italic=s.italic).runs
            else:
                runs = [docx_tools.add_run(p, s.text)]
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
            keep_headings_with_next(p, style)
        self.bookmark(p, anchor)
        return p

    def list_num(self, style: str, letter_level: int, left: float, fmt: str | None = None) -> int:
        """Return a fresh, restarting list instance for one lettered or bullet list.

        ``fmt`` is a lettered list's own marker format (the model's, e.g. "{n}." for
        recommendations); a format Word cannot express means literal numbers throughout.
        """
        key = (style, letter_level, round(left * 100), fmt)
        level: tuple[str, str] | None = None
        if style == "letters":
            level = (letter_level_text(fmt) if fmt is not None
                     else self.plan.letters[min(letter_level, len(self.plan.letters) - 1)])
            if level is None:
                raise MustUseLiteral(f"list format {fmt!r}")
        if key not in self.abstracts:
            text, num_fmt = level if level is not None else (self.doc.numbering.bullet, "bullet")
            self.abstracts[key] = docx_tools.add_multilevel_numbering(
                self.w, [text], [num_fmt], indents=[(_cm(left + LIST_GUTTER_CM), _cm(LIST_GUTTER_CM))])
        num_id = docx_tools.add_num(self.w, self.abstracts[key], restart=True)
        if level is not None:
            self.lists[num_id] = ([level[0]], [level[1]])
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
        num_id = None if literal else self.list_num("letters" if letters else "bullets", b.level, left,
                                                     b.format if letters else None)
        style = "List Letter" if letters else "List Bullet"
        text_at = left + LIST_GUTTER_CM
        self.keep_lead_in_with_list()
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

    def keep_lead_in_with_list(self) -> None:
        """Keep the paragraph just written ("That members of the Cabinet:") with the list after it.

        As the PDF keeps a heading with its text: a lead-in alone at the foot of a page reads
        as if the page ended the point.
        """
        from docx.oxml.ns import qn
        from docx.text.paragraph import Paragraph

        body = self.w.element.body
        last = body[-2] if len(body) > 1 and body[-1].tag == qn("w:sectPr") else body[-1]
        if last.tag == qn("w:p") and not docx_tools.is_table_end(last):
            Paragraph(last, self.w._body).paragraph_format.keep_with_next = True

    def table(self, b: TableBlock) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        if b.caption:
            cap = self.para("Caption", b.caption)
            cap.paragraph_format.keep_with_next = True
        cols = len(b.header)
        table = self.w.add_table(rows=1 + len(b.rows) + len(b.footer), cols=cols)
        if "Table Grid" in self.w.styles:
            table.style = self.w.styles["Table Grid"]
        aligns = [{"right": WD_ALIGN_PARAGRAPH.RIGHT, "center": WD_ALIGN_PARAGRAPH.CENTER}.get(a)
                  for a in (b.align or ["left"] * cols)]
        body_rows = table.rows[1:1 + len(b.rows)]
        for cell, spans, align in zip(table.rows[0].cells, b.header, aligns):
            self.set_style(cell.paragraphs[0], "Table Header")
            self.inline(cell.paragraphs[0], spans)
            docx_tools.shade_cell(cell, HEADER_FILL)
            if align is not None:
                cell.paragraphs[0].alignment = align
        for row, cells in zip(body_rows, b.rows):
            for cell, spans, align in zip(row.cells, cells, aligns):
                self.set_style(cell.paragraphs[0], "Table Text")
                self.inline(cell.paragraphs[0], spans)
                if align is not None:
                    cell.paragraphs[0].alignment = align
        for n, (row, cells) in enumerate(zip(table.rows[1 + len(b.rows):], b.footer)):
            for cell, spans, align in zip(row.cells, cells, aligns):
                self.set_style(cell.paragraphs[0], "Table Text")
                self.inline(cell.paragraphs[0], spans)
                for run in cell.paragraphs[0].runs:
                    run.bold = True
                if align is not None:
                    cell.paragraphs[0].alignment = align
                if n == 0:
                    docx_tools.rule_above(cell)
        text_width = self.text_width()
        shares = b.widths or content_widths(b)
        docx_tools.lay_out_table(table, [round(text_width * share) for share in shares])
        docx_tools.repeat_header_row(table.rows[0], table=table)
        docx_tools.set_table_look(table, first_row=True, first_column=False)
        docx_tools.set_table_alt_text(table, plain(b.caption))
        docx_tools.end_table(table)

    def text_width(self) -> int:
        """Return the width between the page margins in twips."""
        section = self.w.sections[0]
        return int((section.page_width - section.left_margin - section.right_margin) / 635)

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
                p = self.para("Title Block", (Span(line.text),))
                if line.role == "agenda-item":  # a meeting pack's "Agenda Item 5": top right, as in the PDF
                    from docx.enum.text import WD_ALIGN_PARAGRAPH

                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                if line.role in ("council", "agenda-item"):  # 14 pt, as style.css's .tb-council
                    from docx.shared import Pt

                    for run in p.runs:
                        run.font.size = Pt(14)
        # A theme that leaves the title out of the title block gets no extra title line
        # (it may repeat the title before the body, or print it in the header table).
        title = title or doc.title
        if doc.exempt and len(doc.marking) > 1:
            self.para("Exempt Reason", (Span(doc.marking[1]),))
        return title

    def logo(self, path: Path) -> None:
        # The PDF's size (style.css `.logo`): intrinsic size shrunk to fit the logo box. A raster
        # logo is embedded as it is; an SVG one as the PNG rasterised when it was inspected.
        try:
            data, width_cm, height_cm = docx_picture(path)
        except ImageError as exc:
            raise RenderError(Problem(str(exc), field="council.logo")) from None
        p = self.add_paragraph("Title Block")
        shape = p.add_run().add_picture(io.BytesIO(data), width=_cm(width_cm), height=_cm(height_cm))
        shape._inline.docPr.set("descr", self.doc.logo_alt)  # the same words as the PDF's <img alt>

    def details(self) -> None:
        from docx.table import _Cell

        doc = self.doc
        if not doc.details:
            return
        caption = doc.words.get("details_caption", "")
        if caption:
            self.para("Caption", (Span(caption),)).paragraph_format.keep_with_next = True
        width = max(len(row.cells) for row in doc.details)
        table = self.w.add_table(rows=len(doc.details), cols=1 + width)
        if "Table Grid" in self.w.styles:
            table.style = self.w.styles["Table Grid"]
        for i, (row, detail) in enumerate(zip(table.rows, doc.details)):
            if detail.label is None:  # a continuation row: the label above spans it (the PDF's rowspan)
                table.rows[i - 1].cells[0].merge(row.cells[0])
            else:
                self.set_style(row.cells[0].paragraphs[0], "Table Header")
                row.cells[0].paragraphs[0].add_run(detail.label)
            cells = list(row.cells[1:])
            if len(detail.cells) < width:  # the last cell spans the rest, as the PDF's colspan
                cells[len(detail.cells) - 1].merge(cells[-1])
            for cell, lines in zip(cells, detail.cells):
                self.set_style(cell.paragraphs[0], "Table Text")
                run = cell.paragraphs[0].add_run()
                for n, line in enumerate(lines):
                    if n:
                        run.add_break()
                    run.add_text(line)
        for tr in table._tbl.tr_lst:  # the label cells (merged ones too), grey as the PDF's th
            docx_tools.shade_cell(_Cell(tr.tc_lst[0], table), LABEL_FILL)
        shares, share = details_widths(doc.details, width)
        total = round(self.text_width() * share)
        docx_tools.lay_out_table(table, [round(total * s) for s in shares])
        # The first column holds row headers (the PDF's <th scope="row">); there is no header row.
        docx_tools.set_table_look(table, first_row=False, first_column=True)
        docx_tools.set_table_alt_text(table, caption)
        docx_tools.end_table(table)

    def section(self, s: Section) -> None:
        from docx.oxml.ns import qn

        body = self.w.element.body
        before = set(body.iterchildren(qn("w:p")))  # new paragraphs go before the final sectPr
        self._section(s)
        if s.box:
            # Consecutive paragraphs with the same borders make one box in Word, as the PDF's .box.
            for element in body.iterchildren(qn("w:p")):
                if element not in before:
                    _box_borders(element)

    def _section(self, s: Section) -> None:
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
        if self.doc.signatories:
            self.keep_last_with_next()
        for n, (name, title) in enumerate(self.doc.signatories):
            p = self.add_paragraph("Signature")
            p.paragraph_format.keep_with_next = n < len(self.doc.signatories) - 1
            p.add_run(name).bold = True
            if title:
                run = p.add_run()
                run.add_break()
                run.add_text(title)

    def keep_last_with_next(self) -> None:
        """Keep the body's last paragraph (or a table's last row) with what comes next.

        As the PDF: the signatures take the end of the last section with them.
        """
        from docx.oxml.ns import qn
        from docx.text.paragraph import Paragraph

        content = [el for el in self.w.element.body if el.tag in (qn("w:p"), qn("w:tbl"))]
        if content and docx_tools.is_table_end(content[-1]):
            content.pop()  # the table's closing paragraph already keeps with the next
        if not content:
            return
        last = content[-1]
        if last.tag == qn("w:tbl"):
            rows = last.findall(qn("w:tr"))
            paragraphs = rows[-1].iter(qn("w:p")) if rows else []
        else:
            paragraphs = [last]
        for p in paragraphs:
            Paragraph(p, self.w._body).paragraph_format.keep_with_next = True

    def appendix(self, a: Appendix) -> None:
        p = self.para("Heading 1", (Span(a.heading),))
        docx_tools.page_break_before(p)
        self.bookmark(p, a.anchor)
        # Nothing in an appendix is numbered: its lists start at the margin (style.css).
        self.blocks(a.blocks, _Ctx(3, list_indent=0.0, bullet_indent=0.0))

    def page_furniture(self, title: str) -> None:
        doc, section = self.doc, self.w.sections[0]
        # As the PDF's page boxes: marking top left (exempt only), title top right.
        marking = doc.marking[0] if doc.exempt and doc.marking else ""
        # One line, as the PDF's running title: a long title is cut with an ellipsis (the
        # full title is in the title block and the document properties). The title is set at
        # the Header style's right tab, after its centre tab: it has the right half of the line.
        size = style_size_pt(self.w, "Header")
        room = self.text_width() / 20 / 2 - size
        header = docx_tools.add_text_header(section, f"\t\t{fit_line(title, room, size)}")
        if marking:  # first, in a bold run of its own, as the PDF's top-left marking (page.css)
            marked = header.add_run(marking)
            marked.bold = True
            header.runs[0]._r.addprevious(marked._r)
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
        for s in doc.cover_sections("cover-top"):
            self.section(s)
        self.details()
        for s in doc.cover_sections("cover"):
            self.section(s)
        if doc.title_before_body:
            self.para("Title", (Span(doc.title),))
        for s in doc.body_sections:
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
