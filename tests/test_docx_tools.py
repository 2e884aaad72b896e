"""End-to-end tests of cabinet_reports.docx_tools, read back with independent tools.

A small report is built with the low-level helpers and checked with LibreOffice
(layout: visible numbers, page footer), pandoc (structure: headings, lists) and
python-docx itself (XML flags, core properties, reproducible bytes).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Cm

from cabinet_reports.docx_tools import (
    add_hyperlink,
    add_multilevel_numbering,
    add_num,
    add_page_number_footer,
    add_text_header,
    link_style_to_level,
    open_reference,
    page_break_before,
    repeat_header_row,
    save_deterministic,
    set_core_properties,
    set_num,
    set_table_alt_text,
)

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "templates" / "reference.docx"
CREATED = dt.datetime(2024, 3, 14, 9, 30, tzinfo=dt.timezone.utc)

REFERENCE_STYLES = [
    "Normal",
    "Title",
    "Heading 1",
    "Heading 2",
    "Heading 3",
    "List Bullet",
    "Table Grid",
    "Title Block",
    "Numbered Paragraph",
    "Body Text",
    "Section Heading",
    "Sub-point Heading",
    "Numbered Sub-point",
    "List Letter",
    "Table Header",
    "Signature",
    "Exempt Marking",
    "Caption",
    "Hyperlink",
    "Exempt Reason",
    "Verbatim Char",
]


# ----------------------------------------------------------------- external tools


def require_tool(name: str) -> str:
    """Return the path of an external tool; skip without it, but fail on CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed"
        if os.environ.get("CI"):
            pytest.fail(message + " (required when CI is set)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def soffice_profile(tmp_path_factory) -> Path:
    """Provide a private LibreOffice profile so parallel runs do not share a lock."""
    return tmp_path_factory.mktemp("lo-profile")


def convert_docx_to_pdf(path: Path, outdir: Path, *, profile: Path | None = None) -> Path:
    """Convert ``path`` to PDF in ``outdir`` with headless LibreOffice; return the PDF."""
    soffice = require_tool("soffice")
    profile = profile or outdir / "lo-profile"
    outdir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    pdf = outdir / (path.stem + ".pdf")
    # soffice exits 0 even when conversion fails, so check for the file too.
    if result.returncode != 0 or not pdf.exists():
        raise AssertionError(
            f"LibreOffice conversion failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return pdf


def pdf_text(pdf: Path) -> str:
    """Extract the text of ``pdf`` with pdftotext -layout."""
    pdftotext = require_tool("pdftotext")
    return subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def pandoc_markdown(path: Path) -> str:
    """Convert ``path`` to pandoc markdown."""
    pandoc = require_tool("pandoc")
    return subprocess.run(
        [pandoc, "-f", "docx", "-t", "markdown", "--wrap=none", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


# ------------------------------------------------------------------ sample report


def build_sample() -> docx.document.Document:
    """Build a two-page sample report using every helper."""
    doc = open_reference(REFERENCE)
    section = doc.sections[0]
    add_text_header(section, "Cabinet, 14 March 2024")
    add_page_number_footer(section, "Page {page} of {pages}")

    # Council layout: 1.0 and 1.1 flush with the margin, 2.1.1 and (a) under the text.
    step = Cm(1.5)
    report = add_multilevel_numbering(
        doc,
        ["%1.0", "%1.%2", "%1.%2.%3"],
        ["decimal"] * 3,
        indents=[(step, step), (step, step), (Cm(3.25), Cm(1.75))],
    )
    letters = add_multilevel_numbering(
        doc,
        ["(%1)", "(%2)"],
        ["lowerLetter", "lowerRoman"],
        indents=[(Cm(3), step), (Cm(4.5), step)],
    )
    bullets = add_multilevel_numbering(doc, ["\u2022"], ["bullet"])
    report_num = add_num(doc, report)
    for level, style in enumerate(["Heading 1", "Numbered Paragraph", "Sub-point Heading"]):
        link_style_to_level(doc, style, report_num, level)

    doc.add_paragraph("Budget monitoring report", style="Title")
    doc.add_paragraph("EXEMPT: paragraph 3", style="Exempt Marking")

    def numbered(text: str, style: str, level: int):
        # The level is implied by the style (link_style_to_level), as in Word.
        return doc.add_paragraph(text, style=style)

    def lettered(items: list[str]) -> None:
        num_id = add_num(doc, letters)  # each list restarts at (a)
        for item in items:
            set_num(doc.add_paragraph(item, style="List Letter"), num_id, 0)

    numbered("Purpose of report", "Heading 1", 0)
    numbered(
        "Alpha paragraph explains the purpose. It is long enough to wrap onto a second "
        "line, which must start under the first word and not under the number.",
        "Numbered Paragraph",
        1,
    )
    lettered(["Apple option", "Banana option"])
    numbered("Bravo paragraph follows the list.", "Numbered Paragraph", 1)
    lettered(["Cherry option"])
    bullet_num = add_num(doc, bullets)
    for text in ("First bullet point", "Second bullet point"):
        set_num(doc.add_paragraph(text, style="List Bullet"), bullet_num, 0)

    heading = numbered("Recommendations", "Heading 1", 0)
    page_break_before(heading)
    numbered("Charlie paragraph opens section two.", "Numbered Paragraph", 1)
    numbered("Delta sub-point", "Sub-point Heading", 2)
    numbered("Echo sub-point", "Sub-point Heading", 2)

    table = doc.add_table(rows=3, cols=2, style="Table Grid")
    for cell, text in zip(table.rows[0].cells, ("Service", "Budget")):
        cell.paragraphs[0].text = text
        cell.paragraphs[0].style = "Table Header"
    for row, (service, budget) in zip(table.rows[1:], [("Parks", "£1m"), ("Roads", "£2m")]):
        row.cells[0].text, row.cells[1].text = service, budget
    repeat_header_row(table.rows[0], table=table)
    set_table_alt_text(table, "Budget by service", "Budget of each service in 2024/25")

    paragraph = doc.add_paragraph("Background papers: ", style="Body Text")
    add_hyperlink(paragraph, "council website", "https://example.gov.uk/papers")
    doc.add_paragraph("Chief Executive", style="Signature")

    set_core_properties(
        doc,
        title="Budget monitoring report",
        author="Example Borough Council",
        subject="Cabinet report",
        language="en-GB",
        created=CREATED,
    )
    return doc


@pytest.fixture(scope="module")
def sample_docx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("docx") / "sample.docx"
    save_deterministic(build_sample(), path)
    return path


@pytest.fixture(scope="module")
def sample_pdf_text(sample_docx, tmp_path_factory, soffice_profile) -> str:
    outdir = tmp_path_factory.mktemp("pdf")
    return pdf_text(convert_docx_to_pdf(sample_docx, outdir, profile=soffice_profile))


# -------------------------------------------------------------------------- tests


def test_reference_defines_all_theme_styles():
    doc = docx.Document(REFERENCE)
    names = {style.name for style in doc.styles}
    missing = [name for name in REFERENCE_STYLES if name not in names]
    assert not missing
    assert "word/numbering.xml" in zipfile.ZipFile(REFERENCE).namelist()
    assert len(doc.element.body) == 1  # only the sectPr


def test_reference_page_setup_and_language():
    doc = docx.Document(REFERENCE)
    section = doc.sections[0]
    assert (section.page_width.mm, section.page_height.mm) == pytest.approx((210, 297), abs=0.1)
    for margin in (section.left_margin, section.right_margin, section.top_margin):
        assert margin.cm == pytest.approx(2.54)
    normal = doc.styles["Normal"]
    assert normal.font.name == "Arial" and normal.font.size.pt == 12
    lang = doc.styles.element.find(f"{qn('w:docDefaults')}//{qn('w:lang')}")
    assert lang.get(qn("w:val")) == "en-GB"
    heading = doc.styles["Heading 1"]
    assert heading.font.bold and 12 <= heading.font.size.pt <= 14
    assert heading.paragraph_format.keep_with_next
    assert doc.styles["Sub-point Heading"].base_style.name == "Heading 2"
    assert doc.styles["Section Heading"].base_style.name == "Heading 1"


def test_reference_build_is_reproducible(tmp_path):
    script = ROOT / "tools" / "build_reference_docx.py"
    outputs = [tmp_path / "a.docx", tmp_path / "b.docx"]
    for out in outputs:
        subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True)
    assert outputs[0].read_bytes() == outputs[1].read_bytes()

    # Compare entries, not bytes, with the committed file: another zlib build
    # (e.g. zlib-ng) compresses differently but the content must be the same.
    def entries(path: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    assert entries(outputs[0]) == entries(REFERENCE), (
        "templates/reference.docx is stale: run tools/build_reference_docx.py"
    )


def test_open_reference_keeps_section_only():
    doc = open_reference(REFERENCE)
    assert [child.tag for child in doc.element.body] == [qn("w:sectPr")]


def test_libreoffice_shows_numbers_in_order(sample_pdf_text):
    expected = [
        ("1.0", "Purpose of report"),
        ("1.1", "Alpha paragraph"),
        ("(a)", "Apple option"),
        ("(b)", "Banana option"),
        ("1.2", "Bravo paragraph"),
        ("(a)", "Cherry option"),  # second lettered list restarted
        ("2.0", "Recommendations"),
        ("2.1", "Charlie paragraph"),
        ("2.1.1", "Delta sub-point"),
        ("2.1.2", "Echo sub-point"),
    ]
    position = 0
    for number, text in expected:
        match = re.compile(re.escape(number) + r"\s+" + re.escape(text)).search(
            sample_pdf_text, position
        )
        assert match, f"{number} {text!r} not found after offset {position}:\n{sample_pdf_text}"
        position = match.end()
    assert re.search(r"•\s+First bullet point", sample_pdf_text)


def test_libreoffice_aligns_wrapped_lines_with_text(sample_pdf_text):
    # Hanging indent: the wrapped line starts under "Alpha", not under "1.1".
    lines = sample_pdf_text.splitlines()
    first = next(i for i, line in enumerate(lines) if "Alpha paragraph" in line)
    text_column = lines[first].index("Alpha")
    wrapped = lines[first + 1]
    assert wrapped.strip().startswith("second line")
    assert len(wrapped) - len(wrapped.lstrip()) == text_column


def test_libreoffice_shows_page_footer_and_header(sample_pdf_text):
    pages = sample_pdf_text.split("\f")
    assert "Page 1 of 2" in pages[0]
    assert "Page 2 of 2" in pages[1]
    assert "Recommendations" in pages[1] and "Recommendations" not in pages[0]
    assert sample_pdf_text.count("Cabinet, 14 March 2024") == 2
    assert "Service" in pages[1] and "£2m" in pages[1]


def test_pandoc_sees_headings_lists_and_link(sample_docx):
    markdown = pandoc_markdown(sample_docx)
    assert re.search(r"^# Purpose of report", markdown, re.M), markdown
    assert re.search(r"^# Recommendations", markdown, re.M), markdown
    assert re.search(r"^## Delta sub-point", markdown, re.M), markdown
    assert re.search(r"^-\s+First bullet point\n+-\s+Second bullet point", markdown, re.M), markdown
    assert re.search(r"^\s*\(?[a1][.)]\)?\s+Apple option", markdown, re.M), markdown
    assert "[council website](https://example.gov.uk/papers)" in markdown


def test_table_header_row_repeats(sample_docx):
    table = docx.Document(sample_docx).tables[0]
    tr_pr = table.rows[0]._tr.trPr
    assert tr_pr is not None and tr_pr.find(qn("w:tblHeader")) is not None
    assert table.rows[1]._tr.trPr is None or table.rows[1]._tr.trPr.find(qn("w:tblHeader")) is None
    caption = table._tbl.tblPr.find(qn("w:tblCaption"))
    assert caption.get(qn("w:val")) == "Budget by service"


def test_header_row_must_start_at_top():
    doc = open_reference(REFERENCE)
    table = doc.add_table(rows=2, cols=1)
    with pytest.raises(ValueError):
        repeat_header_row(table.rows[1], table=table)


def test_footer_uses_fields_without_fixed_words(sample_docx):
    footer = docx.Document(sample_docx).sections[0].footer.paragraphs[0]
    instructions = [f.get(qn("w:instr")).split()[0] for f in footer._p.iter(qn("w:fldSimple"))]
    assert instructions == ["PAGE", "NUMPAGES"]
    doc = open_reference(REFERENCE)
    paragraph = add_page_number_footer(doc.sections[0], "Tudalen {page} o {pages}")
    assert paragraph.text.startswith("Tudalen ")
    with pytest.raises(ValueError):
        add_page_number_footer(doc.sections[0], "Page {page} of {total}")


def test_core_properties_read_back(sample_docx):
    props = docx.Document(sample_docx).core_properties
    assert props.title == "Budget monitoring report"
    assert props.author == "Example Borough Council"
    assert props.subject == "Cabinet report"
    assert props.language == "en-GB"
    assert props.created.replace(tzinfo=None) == CREATED.replace(tzinfo=None)
    assert props.modified == props.created


def test_saves_are_byte_identical(tmp_path):
    first, second = io.BytesIO(), tmp_path / "second.docx"
    save_deterministic(build_sample(), first)
    save_deterministic(build_sample(), second)
    assert first.getvalue() == second.read_bytes()
    with zipfile.ZipFile(second) as archive:
        infos = archive.infolist()
    assert infos[0].filename == "[Content_Types].xml"
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_lettered_lists_get_restarting_instances():
    doc = open_reference(REFERENCE)
    abstract = add_multilevel_numbering(doc, ["(%1)"], ["lowerLetter"])
    first, second = add_num(doc, abstract), add_num(doc, abstract)
    assert first != second
    numbering = doc.part.numbering_part.element
    num = numbering.num_having_numId(second)
    assert num.xpath("./w:lvlOverride/w:startOverride/@w:val") == ["1"]
    # Schema order: every abstractNum precedes every num.
    tags = [child.tag for child in numbering]
    assert max(i for i, t in enumerate(tags) if t == qn("w:abstractNum")) < tags.index(qn("w:num"))


@pytest.mark.parametrize("text", ["Cabinet", "  leading and trailing  ", "a\ttab", "two\nlines", "cr\rhere", "",
                                  "é ü —"])
def test_add_run_writes_what_python_docx_writes(text):
    """docx_tools.add_run skips python-docx's character-by-character walk; the XML is the same."""
    from lxml import etree

    from cabinet_reports.docx_tools import add_run

    document = docx.Document()
    ours, theirs = document.add_paragraph(), document.add_paragraph()
    assert add_run(ours, text).text == theirs.add_run(text).text
    assert etree.tostring(ours._p) == etree.tostring(theirs._p)
