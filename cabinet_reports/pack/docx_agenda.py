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


def agenda_docx(loaded: LoadedMeeting, theme: Theme, starts: dict[int, tuple[int, int]],
                published: dt.date | None) -> bytes:
    """Build the agenda as DOCX with the theme's reference.docx styles and the same wording.

    Built directly with python-docx and docx_tools: the agenda is not a report, so the
    report DOCX renderer does not apply. Every word comes from :func:`agenda_content`, as for
    agenda.html. Page references are public-pack pages.
    """
    from .. import docx_tools as dt_tools

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

