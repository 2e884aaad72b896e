"""The agenda as DOCX: the same :class:`~cabinet_reports.pack.plan.AgendaContent` as agenda.html.

Takes the loaded meeting, the public pack's item pages and the planned publication date;
gives the bytes of agenda.docx, styled by the theme's reference.docx.
"""

from __future__ import annotations

import datetime as dt
import io

from ..renderers import document_timestamp
from ..theme import Theme
from .load import LoadedMeeting
from .plan import agenda_content

__all__ = ["agenda_docx"]

# The labels' background, as agenda.css's th.
LABEL_FILL = "F2F2F2"


def agenda_docx(loaded: LoadedMeeting, theme: Theme, starts: dict[int, tuple[int, int]],
                published: dt.date | None) -> bytes:
    """Build the agenda as DOCX with the theme's reference.docx styles and the same wording.

    Built directly with python-docx and docx_tools: the agenda is not a report, so the
    report DOCX renderer does not apply. Every word comes from :func:`agenda_content`, as for
    agenda.html. Page references are public-pack pages.
    """
    from docx.enum.style import WD_STYLE_TYPE

    from .. import docx_tools as dt_tools

    doc = dt_tools.open_reference(theme.find("reference.docx"))
    styles: dict[str, object] = {}
    grid = False  # the reference has a table style "Table Grid"
    for found in doc.styles:  # paragraph styles, the first of each name, as python-docx finds a name
        if found.type == WD_STYLE_TYPE.PARAGRAPH:
            styles.setdefault(found.name, found)
        grid = grid or (found.type == WD_STYLE_TYPE.TABLE and found.name == "Table Grid")
    default = doc.styles.default(WD_STYLE_TYPE.PARAGRAPH)

    def style(*names: str):
        return styles[next((n for n in names if n in styles), "Normal")]

    def add_paragraph(text: str = "", style=None):
        return _styled(doc.add_paragraph(text), style, default)

    agenda = agenda_content(loaded, theme, starts, published)
    add_paragraph(agenda.council, style=style("Title Block", "Title"))
    add_paragraph(agenda.heading, style=style("Heading 1"))
    add_paragraph(agenda.summons, style=style("Body Text", "Normal"))
    _details_table(doc, agenda.details, agenda.details_caption, styles, default, grid)
    if agenda.members:
        add_paragraph(agenda.membership_heading, style=style("Heading 2"))
        for member in agenda.members:
            add_paragraph(member, style=style("List Bullet", "Normal"))
    add_paragraph(agenda.items_heading, style=style("Heading 2"))
    # Each item is its heading and one paragraph (report of, reason, text and pages on lines of
    # their own) that never breaks across pages and stays with its heading; the Part B heading
    # stays with the resolution (as the PDF's h2), the publication date with the last item.
    # Short keep chains on purpose: at a page break LibreOffice drops the keep of a long chain
    # of kept paragraphs (a Part B heading chained to its resolution, first item and the
    # publication date was left alone at the foot of page 1).
    last = None
    for item in agenda.items:
        if item.part_b_start:
            _keep(add_paragraph(agenda.part_b_heading, style=style("Heading 2")), with_next=True)
            _keep(add_paragraph(agenda.part_b_resolution, style=style("Body Text", "Normal")), with_next=False)
        _keep(add_paragraph(item.heading, style=style("Heading 3")), with_next=True)
        lines = [(text, False) for text in (item.report_of, item.reason, item.text) if text]
        lines += [(item.pages, True)] if item.pages else []
        if lines:
            last = add_paragraph(style=style("Body Text", "Normal"))
            for n, (text, bold) in enumerate(lines):
                run = last.add_run()
                if n:
                    run.add_break()
                run.add_text(text)
                run.bold = bold or None
            _keep(last, with_next=False)
    if agenda.publication:
        if last is not None:
            last.paragraph_format.keep_with_next = True
        add_paragraph(agenda.publication, style=style("Body Text", "Normal"))
    for section in doc.sections:
        dt_tools.add_page_number_footer(section, theme.word("page_footer"))
    dt_tools.set_core_properties(doc, title=agenda.title, author=agenda.author, subject=agenda.title,
                                 language=agenda.language, created=document_timestamp(loaded.meeting.date))
    out = io.BytesIO()
    dt_tools.save_deterministic(doc, out)
    return out.getvalue()


def _styled(paragraph, style, default):
    """Give a paragraph a style, as python-docx's ``paragraph.style = style`` does (the same XML).

    python-docx finds the style's id by searching every style of the file twice (by name, then
    for the default): 7 ms a paragraph, a third of a second for a 40-item agenda.
    """
    if style is not None and style != default:
        paragraph._p.style = style.style_id
    return paragraph


def _keep(paragraph, *, with_next: bool):
    """Keep a paragraph's lines on one page, and (``with_next``) on the page of the next one."""
    fmt = paragraph.paragraph_format
    fmt.keep_with_next = with_next or None
    fmt.keep_together = True
    fmt.widow_control = True
    return paragraph


def _details_table(doc, details: list[tuple[str, str]], caption: str, styles: dict, default, grid: bool) -> None:
    """Add the "Meeting details" key/value table, laid out as the report's details table.

    Row labels in the first column (tblLook firstColumn, grey, bold); no header row: the table
    has none, so neither w:tblHeader nor tblLook firstRow. Its border sits on the text margin.
    """
    from .. import docx_tools
    from ..renderers.docx import details_widths
    from ..document import DetailRow

    table = doc.add_table(rows=0, cols=2)
    if grid:
        table.style = "Table Grid"
    for label, value in details:
        head, cell = table.add_row().cells
        for paragraph, name in ((head.paragraphs[0], "Table Header"), (cell.paragraphs[0], "Table Text")):
            if name in styles:
                _styled(paragraph, styles[name], default)
        head.paragraphs[0].add_run(label).bold = True  # bold even if the reference lacks the style
        cell.paragraphs[0].add_run(value)
        docx_tools.shade_cell(head, LABEL_FILL)
    if details:
        section = doc.sections[0]
        text_width = int((section.page_width - section.left_margin - section.right_margin) / 635)
        shares, share = details_widths([DetailRow(label, [[value]]) for label, value in details], 1)
        total = round(text_width * share)
        docx_tools.lay_out_table(table, [round(total * s) for s in shares])
    docx_tools.set_table_look(table, first_row=False, first_column=True)
    docx_tools.set_table_alt_text(table, caption)
    docx_tools.end_table(table)
