"""End-to-end: the DOCX says what the PDF says, read back with independent tools.

Every case is rendered to PDF (WeasyPrint) and DOCX (python-docx); the DOCX is converted by
headless LibreOffice, as a user's software would read it, and both PDFs are read with poppler's
pdftotext. The numbered labels and the text of their paragraphs must be the same sequence.
pandoc shows the Word structure (headings, lists, links); python-docx's reader checks the XML
flags a screen reader and Word rely on. LibreOffice is started once for all cases.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from cabinet_reports import load_report
from cabinet_reports.api import render_bytes, render_report, report_from_data
from readers import NUMBER_TOKEN, normalise, pdfinfo, pdftotext, require

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {p.parent.name: p for p in sorted((ROOT / "examples").glob("*/report.yaml"))}
DUDLEY = ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"
EXEMPT = Path(__file__).resolve().parent / "golden" / "exempt-with-details" / "report.yaml"

DUDLEY_LABELS = ["1.0", "1.1", "2.0", "2.1", "2.1.1", "2.1.2", "2.1.3", "2.1.4", "3.0", "3.1",
                 "(a)", "(b)", "(c)", "(d)", "(e)", "4.0", "4.1", "5.0", "5.1", "6.0", "6.1",
                 "7.0", "7.1", "8.0", "8.1"]

# A theme whose paragraph format Word's level text cannot express ("{p:d}" has a format spec):
# the renderer must fall back to literal numbers that still equal the PDF's.
LITERAL_THEME = 'kinds:\n  report:\n    numbering:\n      paragraph: "{s}.{p:d}"\n'

# 28 lettered items: Word counts "… z, aa, bb", the model "… z, aa, ab"; the renderer must
# notice and print the model's letters.
LONG_LIST = {
    "council": {"name": "Test Borough Council"},
    "meeting": {"body": "Cabinet", "date": "2026-02-04"},
    "title": "Long list",
    "sections": {
        "purpose": ["To test a long lettered list."],
        "recommendations": [{"p": "That Cabinet notes:"},
                            {"letters": [f"Item number {n} of the list." for n in range(1, 29)]},
                            {"p": "That Cabinet agrees the next step."}],
    },
}


@pytest.fixture(scope="session")
def cases(tmp_path_factory, libreoffice) -> dict[str, dict[str, Path]]:
    """Render every case to PDF and DOCX and convert each DOCX once with LibreOffice."""
    out = tmp_path_factory.mktemp("docx-cases")
    found: dict[str, dict[str, Path]] = {}
    for name, path in EXAMPLES.items():
        found[name] = render_report(path, out)
    found["exempt"] = render_report(EXEMPT, out, name="exempt")
    theme = out / "literal-theme"
    theme.mkdir()
    (theme / "theme.yaml").write_text(LITERAL_THEME, encoding="utf-8")
    found["literal"] = render_report(DUDLEY, out, theme=theme, name="literal")
    found["long-list"] = render_report(report_from_data(LONG_LIST), out, name="long-list")
    lo = libreoffice([files["docx"] for files in found.values()])
    for files, pdf in zip(found.values(), lo):
        files["lo"] = pdf
    return found


def labelled_paragraphs(pdf: Path) -> list[tuple[str, str]]:
    """Return (label, paragraph text) for every line-leading number or list letter.

    Reads the page bodies (no running header or footer) in layout mode, where a hanging
    paragraph's wrapped lines are indented to its text: a paragraph is the label line plus
    the following lines at least as far indented, up to a blank line or the next label, and
    it continues across a page break.
    """
    out: list[list[str]] = []
    current: list[str] | None = None
    column = 0
    for page in pdftotext(pdf, body_only=True, layout=True).split("\f"):
        lines = page.strip("\n").splitlines()
        for line in lines:
            stripped = line.strip()
            indent = len(line) - len(line.lstrip())
            m = NUMBER_TOKEN.match(stripped)
            if m:
                current = [m.group(1), stripped[m.end():]]
                column = indent + m.end()
                out.append(current)
            elif not stripped or stripped[0] in "•-·":
                current = None
            elif current is not None and indent >= column - 2:
                current[1] += " " + stripped
            else:
                current = None
    return [(label, normalise(text)) for label, text in out]


ATTRS = r"( \{[^}]*\})?"  # pandoc's heading attributes: {#id .Style-Name}


def pandoc_markdown(path: Path) -> str:
    return subprocess.run([require("pandoc"), "-f", "docx", "-t", "markdown", "--wrap=none", str(path)],
                          capture_output=True, text=True, check=True).stdout


# --------------------------------------------------------------------------- parity
@pytest.mark.parametrize("name", [*EXAMPLES, "exempt", "literal", "long-list"])
def test_docx_numbers_and_texts_equal_the_pdf(cases, name):
    pdf = labelled_paragraphs(cases[name]["pdf"])
    word = labelled_paragraphs(cases[name]["lo"])
    assert pdf, "no numbered labels found in the PDF"
    assert [label for label, _ in word] == [label for label, _ in pdf]
    assert word == pdf


@pytest.mark.parametrize("name", ["dudley-2005-partnership-strategy", "literal"])
def test_dudley_docx_shows_the_seed_numbering(cases, name):
    labels = [label for label, _ in labelled_paragraphs(cases[name]["lo"])]
    assert labels == DUDLEY_LABELS
    texts = dict(labelled_paragraphs(cases[name]["lo"]))
    assert texts["7.1"] == "That the Executive endorse the proposals in 3.0."
    assert texts["(c)"] == "Endorse the Partnership Evaluation Tool at Appendix 4."


def test_long_lettered_list_keeps_the_model_letters(cases):
    labels = [label for label, _ in labelled_paragraphs(cases["long-list"]["lo"])]
    letters = [label for label in labels if label.startswith("(")]
    assert letters[-3:] == ["(z)", "(aa)", "(ab)"]
    assert labels[-1] == "2.2"


def test_salford_lettered_items_in_the_docx(cases):
    labels = [label for label, _ in labelled_paragraphs(cases["salford-2003-progress-note"]["lo"])]
    assert labels == ["a)", "b)", "c)", "a)", "b)", "c)"]


# --------------------------------------------------------------------------- Word numbering
def _paragraph_styles(path: Path) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in docx.Document(path).paragraphs]


def test_built_in_theme_uses_real_word_numbering(cases):
    path = cases["dudley-2005-partnership-strategy"]["docx"]
    numbering = zipfile.ZipFile(path).read("word/numbering.xml").decode()
    for level_text in ("%1.0", "%1.%2", "%1.%2.%3", "(%1)"):
        assert f'w:val="{level_text}"' in numbering
    styles = _paragraph_styles(path)
    # Numbers come from Word, not from the text: an inserted paragraph gets the next number.
    assert ("Section Heading", "PURPOSE") in styles
    numbered = [text for style, text in styles if style == "Numbered Paragraph"]
    assert numbered and not any(re.match(r"\d", text) for text in numbered)
    assert ("List Letter", "Approve the commitment to Elected Member and officer training.") in styles


def test_inexpressible_theme_format_falls_back_to_literal_numbers(cases):
    styles = _paragraph_styles(cases["literal"]["docx"])
    assert ("Section Heading", "1.0 PURPOSE") in styles
    numbered = [text for style, text in styles if style == "Numbered Paragraph"]
    assert numbered[0].startswith("1.1\t")


# --------------------------------------------------------------------------- structure
def test_pandoc_sees_headings_lists_and_links(cases):
    md = pandoc_markdown(cases["dudley-2005-partnership-strategy"]["docx"])
    for heading in ["PURPOSE", "BACKGROUND", "EQUAL OPPORTUNITIES", "BACKGROUND DOCUMENTS",
                    "Appendix 1: Improvement Plan", "Appendix 4: Partnership Evaluation Tool"]:
        assert re.search(rf"^# {re.escape(heading)}{ATTRS}$", md, re.M), heading
    assert re.search(rf"^## Adoption of a Members\\' and Officers\\' Protocol{ATTRS}$", md, re.M), md
    assert re.search(rf"^## Representing the council{ATTRS}$", md, re.M)  # an appendix sub-heading
    assert re.search(r"^-\s+Every partnership has a clear purpose", md, re.M)
    assert re.search(r"\[Appendix 4\]\(#[\w-]+\)", md)  # cross-reference → internal link

    note = pandoc_markdown(cases["salford-2003-progress-note"]["docx"])
    assert re.search(rf"^# Current Position:{ATTRS}$", note, re.M)
    assert re.search(r"^-\s+\*\*Week commencing 20th January -\*\* workshops", note, re.M)

    exempt = pandoc_markdown(cases["exempt"]["docx"])
    assert "[the policy](https://example.gov.uk/policy)" in exempt


def test_tables_repeat_their_header_row_and_have_captions(cases):
    document = docx.Document(cases["dudley-2005-partnership-strategy"]["docx"])
    details, *tables = document.tables
    assert tables
    for table in tables:
        first = table.rows[0]._tr
        assert first.trPr is not None and first.trPr.find(qn("w:tblHeader")) is not None
        assert all(row._tr.trPr is None or row._tr.trPr.find(qn("w:tblHeader")) is None
                   for row in table.rows[1:])
        assert table._tbl.tblPr.find(qn("w:tblCaption")) is not None
    look = details._tbl.tblPr.find(qn("w:tblLook"))
    assert look.get(qn("w:firstColumn")) == "1" and look.get(qn("w:firstRow")) == "0"
    assert [c.text for c in details.columns[0].cells][:1] == ["Wards affected"]


# --------------------------------------------------------------------------- page furniture
@pytest.mark.parametrize("name", [*EXAMPLES, "exempt"])
def test_libreoffice_shows_page_n_of_m(cases, name):
    pdf = cases[name]["lo"]
    pages = int(pdfinfo(pdf)["Pages"])
    for n in range(1, pages + 1):
        assert f"Page {n} of {pages}" in pdftotext(pdf, page=n)


def test_running_header_and_exempt_marking(cases):
    pdf = cases["exempt"]["lo"]
    pages = int(pdfinfo(pdf)["Pages"])
    for n in range(1, pages + 1):
        page = normalise(pdftotext(pdf, page=n))
        assert page.startswith("NOT FOR PUBLICATION DISPOSAL OF THE OLD DEPOT"), page[:80]
    text = normalise(pdftotext(pdf))
    assert "This report contains exempt information as defined in paragraph 3 of Part 1 of Schedule 12A" in text
    dudley = cases["dudley-2005-partnership-strategy"]["lo"]
    assert normalise(pdftotext(dudley, page=2)).startswith("PARTNERSHIP STRATEGY")


def test_appendices_each_start_a_page(cases):
    pdf = cases["dudley-2005-partnership-strategy"]["lo"]
    starts = []
    for n in range(1, int(pdfinfo(pdf)["Pages"]) + 1):
        m = re.match(r"Appendix (\d): ", normalise(pdftotext(pdf, body_only=True, page=n)))
        if m:
            starts.append(int(m.group(1)))
    assert starts == [1, 2, 3, 4]


def test_signatories_and_title_block_present(cases):
    text = normalise(pdftotext(cases["dudley-2005-partnership-strategy"]["lo"]))
    for words in ["DUDLEY METROPOLITAN BOROUGH", "MEETING OF THE CABINET", "16th March 2005",
                  "REPORT OF THE CHIEF EXECUTIVE AND THE DIRECTOR OF SOCIAL SERVICES", "Report details",
                  "Linda Sanders Director of Social Services"]:
        assert words in text


# --------------------------------------------------------------------------- metadata, bytes
def test_core_properties(cases):
    props = docx.Document(cases["dudley-2005-partnership-strategy"]["docx"]).core_properties
    assert props.title == "Partnership Strategy"
    assert props.author == "the Chief Executive, the Director of Social Services"
    assert props.subject.startswith("Dudley Metropolitan Borough Cabinet")
    assert props.language == "en-GB"
    if "SOURCE_DATE_EPOCH" not in os.environ:
        assert props.created.date().isoformat() == "2005-03-16"
    assert props.modified == props.created


def test_two_renders_are_byte_identical(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    report = load_report(DUDLEY)
    first, second = render_bytes(report, "docx"), render_bytes(load_report(DUDLEY), "docx")
    assert first == second
    props = docx.Document(io.BytesIO(first)).core_properties
    assert props.created.date().isoformat() == report.meeting.date.isoformat()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    stamped = docx.Document(io.BytesIO(render_bytes(report, "docx"))).core_properties
    assert stamped.created.timestamp() == pytest.approx(1700000000)


def test_theme_wording_reaches_the_docx(tmp_path):
    theme = tmp_path / "theme"
    theme.mkdir()
    builtin = (ROOT / "templates" / "theme.yaml").read_text(encoding="utf-8")
    assert "{key: purpose, title: PURPOSE," in builtin
    (theme / "theme.yaml").write_text(
        builtin.replace("{key: purpose, title: PURPOSE,", '{key: purpose, title: "Why this report",')
        .replace('page_footer: "Page {page} of {pages}"', 'page_footer: "Tudalen {page} o {pages}"'),
        encoding="utf-8")
    data = render_bytes(load_report(DUDLEY), "docx", theme=theme)
    document = docx.Document(io.BytesIO(data))
    assert document.sections[0].footer.paragraphs[0].text.startswith("Tudalen ")
    assert ("Section Heading", "Why this report") in [(p.style.name, p.text) for p in document.paragraphs]


def test_council_line_and_not_for_publication_marking_look_as_in_the_pdf():
    """style.css prints the council's name at 14 pt and page.css the running marking in bold."""
    depot = ROOT / "examples" / "dudley-2005-cabinet" / "depot-disposal.yaml"
    document = docx.Document(io.BytesIO(render_bytes(load_report(depot), "docx")))
    council = next(p for p in document.paragraphs if p.text == "DUDLEY METROPOLITAN BOROUGH")
    assert {r.font.size.pt for r in council.runs} == {14.0}
    header = document.sections[0].header.paragraphs[0]
    assert header.runs[0].text == "NOT FOR PUBLICATION" and header.runs[0].bold
    assert header.text.startswith("NOT FOR PUBLICATION\t\t") and not header.runs[1].bold
