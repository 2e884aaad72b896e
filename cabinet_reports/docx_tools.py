"""Low-level python-docx building blocks for the DOCX renderer.

python-docx (1.2) has no API for list numbering, fields, repeating table headers,
hyperlinks or reproducible saving. The functions here fill those gaps with small,
well-defined pieces of WordprocessingML so that the renderer never touches XML itself.

The styles follow pandoc's reference-doc model: the code only *names* styles
("Heading 1", "Numbered Paragraph", ...); ``templates/reference.docx`` (built by
``tools/build_reference_docx.py``) *defines* them, together with page setup,
headers and footers. :func:`open_reference` keeps all of that and drops only the body.

Measurements in ``indents`` are python-docx lengths (``docx.shared.Cm(1.5)`` etc.).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import string
import zipfile
import zlib
from collections.abc import Sequence
from typing import IO

import docx
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.section import Section
from docx.shared import Length, Twips
from docx.table import Table, _Row
from docx.text.hyperlink import Hyperlink
from docx.text.paragraph import Paragraph
from docx.text.run import Run

__all__ = [
    "ZIP_EPOCH",
    "add_bookmark",
    "add_hyperlink",
    "add_internal_hyperlink",
    "add_multilevel_numbering",
    "add_num",
    "add_page_number_footer",
    "add_text_header",
    "column_shares",
    "end_table",
    "ensure_style",
    "is_table_end",
    "lay_out_table",
    "link_style_to_level",
    "open_reference",
    "page_break_before",
    "repeat_header_row",
    "rule_above",
    "save_deterministic",
    "set_core_properties",
    "set_default_language",
    "set_num",
    "set_page_number_start",
    "set_table_alt_text",
    "set_table_look",
    "shade_cell",
]

#: Earliest timestamp a ZIP entry can carry; used when no date is given.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

# Default indents: each level is indented one hanging width further than the last,
# and the hanging width (1.5 cm) fits "10.12.13" in 12 pt Arial so the text after
# the number starts at the same place on every line of the paragraph.
_DEFAULT_HANGING = Twips(851)

# Fields a footer template may use, mapped to the Word field instruction.
_PAGE_FIELDS = {"page": "PAGE", "pages": "NUMPAGES"}

# Child order required by the schema (CT_Lvl, CT_TrPr, CT_TblPr); Word refuses to open files
# whose children are out of order, so insertions go through _insert_in_order.
_LVL_ORDER = (
    "w:start", "w:numFmt", "w:lvlRestart", "w:pStyle", "w:isLgl", "w:suff",
    "w:lvlText", "w:lvlPicBulletId", "w:legacy", "w:lvlJc", "w:pPr", "w:rPr",
)  # fmt: skip
_TRPR_ORDER = (
    "w:cnfStyle", "w:divId", "w:gridBefore", "w:gridAfter", "w:wBefore", "w:wAfter",
    "w:cantSplit", "w:trHeight", "w:tblHeader", "w:tblCellSpacing", "w:jc",
    "w:hidden", "w:ins", "w:del", "w:trPrChange",
)  # fmt: skip
_PPR_ORDER = (
    "w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl",
    "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens",
    "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
    "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
    "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip
_TBLPR_ORDER = (
    "w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual", "w:tblStyleRowBandSize",
    "w:tblStyleColBandSize", "w:tblW", "w:jc", "w:tblCellSpacing", "w:tblInd",
    "w:tblBorders", "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook",
    "w:tblCaption", "w:tblDescription", "w:tblPrChange",
)  # fmt: skip


# --------------------------------------------------------------------------- helpers


def add_run(paragraph: Paragraph, text: str) -> Run:
    """Append a run holding ``text`` to the paragraph: ``paragraph.add_run(text)``, faster.

    python-docx walks the text a character at a time (a tab or a line break is an element of its
    own): a fifth of a report's DOCX. Text with neither becomes the one ``w:t`` that walk would
    write, the same XML.
    """
    run = paragraph.add_run()
    set_run_text(run, text)
    return run


def set_run_text(run: Run, text: str) -> None:
    """Give an empty run ``text``, as ``run.text = text`` does (see :func:`add_run`)."""
    if "\t" in text or "\n" in text or "\r" in text:
        run.text = text
    elif text:
        run._r.add_t(text)


def _el(tag: str, **attrs: str | int) -> BaseOxmlElement:
    """Create an element whose attributes are given as w:-prefixed names."""
    element = OxmlElement(tag)
    for name, value in attrs.items():
        element.set(qn(f"w:{name}"), str(value))
    return element


def _insert_in_order(parent, child, order: Sequence[str]) -> None:
    """Insert ``child`` into ``parent`` at the position the schema sequence requires."""
    tag_index = {qn(tag): i for i, tag in enumerate(order)}
    own = tag_index[child.tag]
    for i, existing in enumerate(parent):
        if tag_index.get(existing.tag, -1) > own:
            parent.insert(i, child)
            return
    parent.append(child)


def _numbering_element(doc: DocxDocument):
    """Return the ``w:numbering`` root of the document's numbering part."""
    # The reference document must ship numbering.xml: python-docx cannot create
    # the part (NumberingPart.new raises NotImplementedError).
    return doc.part.numbering_part.element


# ------------------------------------------------------------------------- document


def open_reference(path: str | os.PathLike[str] | IO[bytes]) -> DocxDocument:
    """Open a reference document and remove its body content, keeping the section.

    The final ``w:sectPr`` (page size, margins, header/footer references) is kept, as in
    pandoc's reference-doc model; everything else in the body is removed.
    """
    doc = docx.Document(os.fspath(path) if isinstance(path, os.PathLike) else path)
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    return doc


# ------------------------------------------------------------------------ numbering


def add_multilevel_numbering(
    doc: DocxDocument,
    level_texts: Sequence[str],
    num_fmts: Sequence[str],
    *,
    indents: Sequence[tuple[Length, Length]] | None = None,
) -> int:
    """Add an abstract numbering definition (``w:abstractNum``) and return its id.

    ``level_texts`` are Word level texts, one per level (``"%1.0"``, ``"%1.%2"``,
    ``"%1.%2.%3"``; ``"(%1)"``; ``"•"``), where ``%n`` is the counter of level n.
    ``num_fmts`` are the matching ``w:numFmt`` values (``decimal``, ``lowerLetter``,
    ``lowerRoman``, ``bullet``...). ``indents`` gives ``(left, hanging)`` per level;
    by default level i is indented ``(i + 1) * 1.5 cm`` with a 1.5 cm hanging indent.

    The number is followed by a tab that stops at the hanging indent, so wrapped lines
    of the paragraph align with its first line of text.
    """
    if not level_texts or len(level_texts) != len(num_fmts):
        raise ValueError("level_texts and num_fmts must be non-empty and of equal length")
    if len(level_texts) > 9:
        raise ValueError("Word supports at most 9 list levels")
    if indents is None:
        indents = [
            (Twips(_DEFAULT_HANGING.twips * (i + 1)), _DEFAULT_HANGING)
            for i in range(len(level_texts))
        ]
    if len(indents) != len(level_texts):
        raise ValueError("indents must have one (left, hanging) pair per level")

    numbering = _numbering_element(doc)
    existing = [int(v) for v in numbering.xpath("./w:abstractNum/@w:abstractNumId")]
    abstract_id = max(existing, default=-1) + 1

    abstract = _el("w:abstractNum", abstractNumId=abstract_id)
    # nsid identifies the list when content is pasted between documents; derive it
    # from the definition instead of a random value so output stays reproducible.
    seed = f"{abstract_id}|{'|'.join(level_texts)}|{'|'.join(num_fmts)}".encode()
    abstract.append(_el("w:nsid", val=f"{zlib.crc32(seed):08X}"))
    level_type = "singleLevel" if len(level_texts) == 1 else "multilevel"
    abstract.append(_el("w:multiLevelType", val=level_type))

    for ilvl, (text, fmt, (left, hanging)) in enumerate(
        zip(level_texts, num_fmts, indents, strict=True)
    ):
        lvl = _el("w:lvl", ilvl=ilvl)
        lvl.append(_el("w:start", val=1))
        lvl.append(_el("w:numFmt", val=fmt))
        lvl.append(_el("w:suff", val="tab"))
        lvl.append(_el("w:lvlText", val=text))
        lvl.append(_el("w:lvlJc", val="left"))
        ppr = OxmlElement("w:pPr")
        # An explicit tab stop at the text position: LibreOffice and older Word
        # versions otherwise jump to the next default tab stop after a long number.
        tabs = OxmlElement("w:tabs")
        tabs.append(_el("w:tab", val="num", pos=Length(left).twips))
        ppr.append(tabs)
        ppr.append(_el("w:ind", left=Length(left).twips, hanging=Length(hanging).twips))
        lvl.append(ppr)
        abstract.append(lvl)

    # Schema order: all w:abstractNum elements precede all w:num elements.
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    return abstract_id


def add_num(doc: DocxDocument, abstract_id: int, *, restart: bool = True) -> int:
    """Add a list instance (``w:num``) of an abstract numbering and return its numId.

    With ``restart`` (the default) every level gets a ``w:startOverride`` of 1, so a
    new lettered list starts again at (a) even though it shares the definition with
    earlier lists. Without it, Word continues the count of earlier instances.
    """
    numbering = _numbering_element(doc)
    ids = numbering.xpath(f'./w:abstractNum[@w:abstractNumId="{int(abstract_id)}"]')
    if not ids:
        raise KeyError(f"no w:abstractNum with abstractNumId {abstract_id}")
    num = numbering.add_num(abstract_id)
    if restart:
        level_count = len(ids[0].findall(qn("w:lvl")))
        for ilvl in range(level_count):
            num.add_lvlOverride(ilvl=ilvl).add_startOverride(1)
    return num.numId


def _set_num_pr(ppr, num_id: int, level: int) -> None:
    """Set ``w:numPr`` (list and level) on a paragraph or style ``w:pPr``."""
    if not 0 <= level <= 8:
        raise ValueError(f"list level must be 0..8, got {level}")
    num_pr = ppr.get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = level
    num_pr.get_or_add_numId().val = num_id


def set_num(paragraph: Paragraph, num_id: int, level: int) -> None:
    """Attach ``paragraph`` to list ``num_id`` at ``level`` (0-based) via ``w:numPr``.

    Use this for real lists (lettered, bulleted). For numbered headings and numbered
    paragraphs prefer :func:`link_style_to_level`: readers such as pandoc treat every
    paragraph carrying its own ``w:numPr`` as a list item, even a heading.
    """
    _set_num_pr(paragraph._p.get_or_add_pPr(), num_id, level)


def link_style_to_level(
    doc: DocxDocument, style_name: str, num_id: int, level: int, *, back_reference: bool = True
) -> None:
    """Number every paragraph of ``style_name`` at ``level`` of list ``num_id``.

    This is Word's "link level to style": the style gets the ``w:numPr`` and the
    abstract level gets a ``w:pStyle`` back-reference, so paragraphs only name their
    style. Headings numbered this way stay plain headings for pandoc and Word's
    navigation pane, and a Word user who adds a "Numbered Paragraph" gets the next
    number. Only the document's own styles change, never the reference file.

    A level names only one style: link further styles to the same level with
    ``back_reference=False`` (they get the ``w:numPr`` but the level keeps its style).
    """
    style = doc.styles[style_name]  # KeyError for a style the reference lacks
    _set_num_pr(style.element.get_or_add_pPr(), num_id, level)
    if not back_reference:
        return
    numbering = _numbering_element(doc)
    num = numbering.num_having_numId(num_id)
    abstract_id = num.abstractNumId.val
    lvl = numbering.xpath(
        f'./w:abstractNum[@w:abstractNumId="{abstract_id}"]/w:lvl[@w:ilvl="{level}"]'
    )
    if not lvl:
        raise ValueError(f"list {num_id} has no level {level}")
    old = lvl[0].find(qn("w:pStyle"))
    if old is not None:
        lvl[0].remove(old)
    _insert_in_order(lvl[0], _el("w:pStyle", val=style.style_id), _LVL_ORDER)


# --------------------------------------------------------------------------- styles


def ensure_style(
    doc: DocxDocument, name: str, base: str = "Normal", *, outline_level: int | None = None
):
    """Return the paragraph style ``name``, creating it (based on ``base``) if missing.

    A council's own reference document may lack the custom styles the renderer names;
    the style is then added to the output document only, inheriting ``base``'s look.
    ``outline_level`` (0-based) makes a created style a heading for navigation panes.
    """
    from docx.enum.style import WD_STYLE_TYPE

    styles = doc.styles
    if name in styles:
        return styles[name]
    style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if base in styles:
        style.base_style = styles[base]
    if outline_level is not None:
        style.element.get_or_add_pPr().append(_el("w:outlineLvl", val=outline_level))
    return style


def set_default_language(doc: DocxDocument, language: str) -> None:
    """Set the proofing language of all text (``w:docDefaults``) to ``language``."""
    rpr = doc.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    if rpr is None:
        return
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), language)


# ---------------------------------------------------------------- headers / footers


def _parse_page_template(template: str) -> list[tuple[str, str | None]]:
    """Split a footer template into (literal text, field name or None) pairs."""
    parts: list[tuple[str, str | None]] = []
    for literal, field, spec, conversion in string.Formatter().parse(template):
        if field is not None and (field not in _PAGE_FIELDS or spec or conversion):
            allowed = ", ".join("{%s}" % name for name in _PAGE_FIELDS)
            raise ValueError(f"footer template {template!r}: only {allowed} are allowed")
        parts.append((literal, field))
    return parts


def _add_field(paragraph: Paragraph, instruction: str, cached: str) -> None:
    """Append a simple field (PAGE, NUMPAGES) showing ``cached`` until updated."""
    # w:fldSimple with a cached result: Word and LibreOffice recompute the value at
    # layout time, readers that do not (pandoc, text extractors) show the cache.
    field = _el("w:fldSimple", instr=f" {instruction} \\* MERGEFORMAT ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = cached
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _fresh_paragraph(container, style: str) -> Paragraph:
    """Unlink a header/footer from the previous section and empty its paragraph."""
    container.is_linked_to_previous = False
    paragraph = container.paragraphs[0]
    for child in list(paragraph._p):
        if child.tag != qn("w:pPr"):
            paragraph._p.remove(child)
    paragraph.style = style
    return paragraph


def add_page_number_footer(
    section: Section, template: str, *, style: str = "Footer", page_count_hint: int = 1
) -> Paragraph:
    """Fill the section's footer from a template such as ``"Page {page} of {pages}"``.

    The wording comes from the caller (the theme); ``{page}`` and ``{pages}`` become
    PAGE and NUMPAGES fields. ``page_count_hint`` is only the cached value shown by
    tools that do not lay out the document. Returns the footer paragraph.
    """
    parts = _parse_page_template(template)
    paragraph = _fresh_paragraph(section.footer, style)
    for literal, field in parts:
        if literal:
            paragraph.add_run(literal)
        if field is not None:
            cached = "1" if field == "page" else str(page_count_hint)
            _add_field(paragraph, _PAGE_FIELDS[field], cached)
    return paragraph


def set_page_number_start(section: Section, first: int) -> None:
    """Make the section's first page number ``first`` (``w:pgNumType w:start``)."""
    sect_pr = section._sectPr
    pg = sect_pr.find(qn("w:pgNumType"))
    if pg is None:
        pg = OxmlElement("w:pgNumType")
        # CT_SectPr order: ... pgSz, pgMar, paperSrc, pgBorders, lnNumType, pgNumType, cols ...
        later = [qn(t) for t in ("w:cols", "w:formProt", "w:vAlign", "w:noEndnote",
                                 "w:titlePg", "w:textDirection", "w:bidi", "w:rtlGutter",
                                 "w:docGrid", "w:printerSettings", "w:sectPrChange")]
        for i, child in enumerate(sect_pr):
            if child.tag in later:
                sect_pr.insert(i, pg)
                break
        else:
            sect_pr.append(pg)
    pg.set(qn("w:start"), str(int(first)))


def add_text_header(section: Section, text: str, *, style: str = "Header") -> Paragraph:
    """Put ``text`` in the section's header (replacing the inherited one); return it."""
    paragraph = _fresh_paragraph(section.header, style)
    paragraph.add_run(text)
    return paragraph


# --------------------------------------------------------------------------- tables


def repeat_header_row(row: _Row, *, table: Table | None = None) -> None:
    """Mark ``row`` as a header row that repeats on every page and never splits.

    ``w:tblHeader`` is also what Word's accessibility checker and its tagged-PDF export
    use to tell header cells from data cells. Header rows must be contiguous from the
    top of the table; pass ``table`` to have that checked. Also sets the table's
    ``tblLook`` first-row flag so the table style's header formatting applies.
    """
    if table is not None:
        rows = list(table.rows)
        index = next(i for i, r in enumerate(rows) if r._tr is row._tr)
        for earlier in rows[:index]:
            if earlier._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is None:
                raise ValueError("header rows must start at the first table row")
    tr_pr = row._tr.get_or_add_trPr()
    # No w:val: the on/off default is "true" and some readers mis-handle val="1".
    for tag in ("w:cantSplit", "w:tblHeader"):
        if tr_pr.find(qn(tag)) is None:
            _insert_in_order(tr_pr, OxmlElement(tag), _TRPR_ORDER)
    _set_look(row._tr.getparent().tblPr, first_row=True)


# As style.css: 0.25em × 0.4em cell padding at the tables' 11 pt (twips).
CELL_PADDING_TWIPS = (55, 90)
# Characters of 11 pt table text across the text width (A4, 2.54 cm margins).
LINE_CHARS = 85
# Points of one average character of it (the text width, 451 pt, over LINE_CHARS).
CHAR_PT = (595.3 - 2 * 72.0) / LINE_CHARS

_TCPR_ORDER = (
    "w:cnfStyle", "w:tcW", "w:gridSpan", "w:hMerge", "w:vMerge", "w:tcBorders", "w:shd",
    "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark",
)  # fmt: skip


def column_shares(wants: Sequence[float], needs: Sequence[float], *, page: float = LINE_CHARS) -> list[float]:
    """Return column shares of the table width, as CSS automatic table layout gives them.

    ``wants`` is each column's longest line and ``needs`` its longest unbreakable word, in
    characters. Columns get what they want when it all fits in ``page`` characters, else
    their minimum plus a share of the rest in proportion to how much more they want.
    """
    wants = [max(w, n) for w, n in zip(wants, needs)]
    if sum(wants) <= page:
        widths = list(wants)
    elif sum(needs) >= page:
        widths = list(needs)
    else:
        spare, extra = page - sum(needs), sum(w - n for w, n in zip(wants, needs))
        widths = [n + (w - n) * spare / extra for w, n in zip(wants, needs)]
    total = sum(widths) or 1
    return [w / total for w in widths]


def lay_out_table(table: Table, widths: Sequence[int]) -> None:
    """Give a table fixed column widths (twips), cell padding and its border on the text margin.

    As the PDF's tables: the left border sits on the left text margin and the right one at
    ``sum(widths)`` from it; a cell that spans grid columns gets their summed width.
    """
    tbl_pr = table._tbl.tblPr
    for tag in ("w:tblW", "w:tblInd", "w:tblLayout", "w:tblCellMar"):
        for old in tbl_pr.findall(qn(tag)):
            tbl_pr.remove(old)
    top, side = CELL_PADDING_TWIPS
    _insert_in_order(tbl_pr, _el("w:tblW", w=sum(widths), type="dxa"), _TBLPR_ORDER)
    # Word 2010 layout (the reference's compatibility mode) and LibreOffice put the cell
    # text, not the border, at the indent: indent by the padding to put the border on the margin.
    _insert_in_order(tbl_pr, _el("w:tblInd", w=side, type="dxa"), _TBLPR_ORDER)
    _insert_in_order(tbl_pr, _el("w:tblLayout", type="fixed"), _TBLPR_ORDER)
    margins = _el("w:tblCellMar")
    for edge, size in (("top", top), ("left", side), ("bottom", top), ("right", side)):
        margins.append(_el(f"w:{edge}", w=size, type="dxa"))
    _insert_in_order(tbl_pr, margins, _TBLPR_ORDER)
    for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths):
        col.set(qn("w:w"), str(width))
    for tr in table._tbl.findall(qn("w:tr")):
        column = 0
        for tc in tr.findall(qn("w:tc")):
            span = tc.grid_span
            tc_pr = tc.get_or_add_tcPr()
            for old in tc_pr.findall(qn("w:tcW")):
                tc_pr.remove(old)
            _insert_in_order(tc_pr, _el("w:tcW", w=sum(widths[column:column + span]), type="dxa"), _TCPR_ORDER)
            column += span


def end_table(table: Table) -> Paragraph:
    """Close ``table`` with an empty, zero-height paragraph and return it.

    LibreOffice (7.4) lays a paragraph that directly follows a table out before the table's
    final height is known; the paragraphs below it can then flow back to the page and skip
    their keep-with-next check, leaving a heading alone at the foot of the page (the Dudley
    report's "2.1.4", three of 21 positions of its details table on page 1). With this
    paragraph between the table and the text that follows, none did. It takes no space (an
    exact 0.1 pt line, no spacing) and keeps with the next paragraph, so it never ends a page
    itself; Word shows nothing either.
    """
    p = OxmlElement("w:p")
    ppr = p.get_or_add_pPr()
    _insert_in_order(ppr, OxmlElement("w:keepNext"), _PPR_ORDER)
    _insert_in_order(ppr, _el("w:spacing", before=0, after=0, line=2, lineRule="exact"), _PPR_ORDER)
    rpr = OxmlElement("w:rPr")  # the paragraph mark, 1 pt, so the line cannot grow
    rpr.append(_el("w:sz", val=2))
    ppr.append(rpr)
    table._tbl.addnext(p)
    return Paragraph(p, table._parent)


def is_table_end(p) -> bool:
    """Tell whether a ``w:p`` element is the empty paragraph :func:`end_table` wrote."""
    spacing = p.find(f"{qn('w:pPr')}/{qn('w:spacing')}")
    return (p.find(qn("w:r")) is None and spacing is not None and spacing.get(qn("w:line")) == "2"
            and spacing.get(qn("w:lineRule")) == "exact" and p.getprevious() is not None
            and p.getprevious().tag == qn("w:tbl"))


def shade_cell(cell, fill: str) -> None:
    """Fill a cell's background (header cells, as the PDF's grey header row)."""
    _insert_in_order(cell._tc.get_or_add_tcPr(), _el("w:shd", val="clear", color="auto", fill=fill), _TCPR_ORDER)


def rule_above(cell) -> None:
    """Draw a 1.5 pt rule above a cell (the first totals row)."""
    borders = _el("w:tcBorders")
    borders.append(_el("w:top", val="single", sz=12, space=0, color="000000"))
    _insert_in_order(cell._tc.get_or_add_tcPr(), borders, _TCPR_ORDER)


def set_table_look(table: Table, *, first_row: bool, first_column: bool) -> None:
    """Say which header formatting of the table style applies (``w:tblLook``).

    ``first_row`` for a table whose first row is its column headers (with ``w:tblHeader``,
    see :func:`repeat_header_row`), ``first_column`` for a key/value table whose first column
    holds row labels. Word's accessibility checker and tagged-PDF export read both.
    """
    _set_look(table._tbl.tblPr, first_row=first_row, first_column=first_column)


def _set_look(tbl_pr, *, first_row: bool | None = None, first_column: bool | None = None) -> None:
    """Set ``w:tblLook``'s first-row / first-column flags (None: leave as it is)."""
    look = tbl_pr.find(qn("w:tblLook"))
    if look is None:
        look = _el("w:tblLook", val="04A0")
        _insert_in_order(tbl_pr, look, _TBLPR_ORDER)
    mask = int(look.get(qn("w:val"), "04A0"), 16)
    for flag, attr, bit in ((first_row, "w:firstRow", 0x0020), (first_column, "w:firstColumn", 0x0080)):
        if flag is None:
            flag = look.get(qn(attr), "1" if mask & bit else "0") in ("1", "true", "on")
        look.set(qn(attr), "1" if flag else "0")
        # The legacy hex mask says the same (0x0020 first row, 0x0080 first column).
        mask = mask | bit if flag else mask & ~bit
    look.set(qn("w:val"), f"{mask:04X}")


def set_table_alt_text(table: Table, title: str, description: str = "") -> None:
    """Give ``table`` a title and description (Word's table "Alt Text")."""
    tbl_pr = table._tbl.tblPr
    for tag, value in (("w:tblCaption", title), ("w:tblDescription", description)):
        old = tbl_pr.find(qn(tag))
        if old is not None:
            tbl_pr.remove(old)
        if value:
            _insert_in_order(tbl_pr, _el(tag, val=value), _TBLPR_ORDER)


# ------------------------------------------------------------------- inline content


def _link_run(paragraph: Paragraph, link, text: str, bold: bool, italic: bool) -> Hyperlink:
    """Fill a ``w:hyperlink`` element with one run showing ``text`` and append it."""
    r = OxmlElement("w:r")
    link.append(r)
    paragraph._p.append(link)
    run = Run(r, paragraph)
    styles = paragraph.part.package.main_document_part.styles
    if "Hyperlink" in styles:
        run.style = styles["Hyperlink"]
    else:
        run.underline = True
    set_run_text(run, text)
    if bold:
        run.bold = True
    if italic:
        run.italic = True
    return Hyperlink(link, paragraph)


def add_hyperlink(
    paragraph: Paragraph, text: str, url: str, *, bold: bool = False, italic: bool = False
) -> Hyperlink:
    """Append an external hyperlink showing ``text`` to ``paragraph`` and return it.

    The run uses the "Hyperlink" character style when the document defines it, and a
    plain underline otherwise, so links stay recognisable without relying on colour.
    """
    r_id = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    link.set(qn("w:history"), "1")
    return _link_run(paragraph, link, text, bold, italic)


def add_internal_hyperlink(
    paragraph: Paragraph, text: str, bookmark: str, *, bold: bool = False, italic: bool = False
) -> Hyperlink:
    """Append a link to the bookmark named ``bookmark`` in the same document; return it.

    Word follows it with Ctrl+click, LibreOffice's PDF export turns it into an internal
    link and pandoc reads it as ``[text](#bookmark)``.
    """
    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), bookmark)
    link.set(qn("w:history"), "1")
    return _link_run(paragraph, link, text, bold, italic)


def add_bookmark(paragraph: Paragraph, name: str, bookmark_id: int) -> None:
    """Wrap the whole content of ``paragraph`` in a bookmark called ``name``.

    Call it after the paragraph's runs were added. Bookmark names must start with a
    letter and are at most 40 characters; ``bookmark_id`` must be unique in the document.
    """
    if not name or not name[0].isalpha() or len(name) > 40:
        raise ValueError(f"invalid bookmark name {name!r}")
    start = _el("w:bookmarkStart", id=bookmark_id, name=name)
    end = _el("w:bookmarkEnd", id=bookmark_id)
    p = paragraph._p
    ppr = p.find(qn("w:pPr"))
    if ppr is not None:
        ppr.addnext(start)
    else:
        p.insert(0, start)
    p.append(end)


def page_break_before(paragraph: Paragraph) -> None:
    """Start ``paragraph`` on a new page (a paragraph property, not a break run)."""
    # pageBreakBefore rather than a w:br run: no empty paragraph is left behind at
    # the top of a page and pandoc/LibreOffice treat it as pure formatting.
    paragraph.paragraph_format.page_break_before = True


# ----------------------------------------------------------------- metadata / saving


def _to_utc_naive(value: dt.datetime) -> dt.datetime:
    """Convert an aware datetime to naive UTC; naive values are taken as UTC."""
    # python-docx writes strftime("...Z") without converting, so convert here.
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def set_core_properties(
    doc: DocxDocument,
    *,
    title: str,
    author: str,
    subject: str,
    language: str,
    created: dt.datetime,
) -> None:
    """Set the document's core properties, using ``created`` for every date.

    Fixing ``modified`` and ``last_printed`` as well keeps saves reproducible;
    the title is what Word shows in the title bar and screen readers announce.
    """
    props = doc.core_properties
    stamp = _to_utc_naive(created)
    # OOXML core properties are limited to 255 characters (python-docx raises beyond that);
    # the full text is in the document body, so a shortened property loses nothing.
    title, author, subject = (_fit_property(v) for v in (title, author, subject))
    props.title = title
    props.author = author
    props.last_modified_by = author
    props.subject = subject
    props.language = language
    props.created = stamp
    props.modified = stamp
    props.revision = 1
    # The python-docx template's description ("generated by python-docx") would
    # otherwise leak into every report.
    props.comments = ""


def _fit_property(value: str, limit: int = 255) -> str:
    """Return ``value`` shortened with an ellipsis to fit a core property's length limit."""
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _entry_order(name: str) -> tuple[int, str]:
    """Sort key for ZIP entries."""
    # OPC consumers expect [Content_Types].xml first; the rest is sorted by name.
    first = {"[Content_Types].xml": 0, "_rels/.rels": 1}
    return (first.get(name, 2), name)


def save_deterministic(
    doc: DocxDocument,
    target: str | os.PathLike[str] | IO[bytes],
    *,
    date_time: tuple[int, int, int, int, int, int] = ZIP_EPOCH,
) -> None:
    """Save ``doc`` so that the same document always gives the same bytes.

    ZIP entries get a fixed timestamp (``date_time``, default 1980-01-01), fixed
    attributes and a stable order. ``target`` is a path or a writable binary stream.
    Core-property dates are not touched: set them with :func:`set_core_properties`.
    """
    raw = io.BytesIO()
    doc.save(raw)
    raw.seek(0)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w") as dst:
        for name in sorted(src.namelist(), key=_entry_order):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0  # MS-DOS; the default depends on the platform
            info.external_attr = 0
            dst.writestr(info, src.read(name), compresslevel=6)
    data = out.getvalue()
    if isinstance(target, (str, os.PathLike)):
        with open(target, "wb") as fh:
            fh.write(data)
    else:
        target.write(data)
