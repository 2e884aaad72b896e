"""End-to-end: the example themes in examples/themes/ render their example reports to PDF and
DOCX, and both read back (pdftotext; LibreOffice → PDF → pdftotext) with the same numbered
labels and texts: unnumbered cover sections, then body sections numbered from 1, with
cross-references giving the body numbers and recommendations in every list format.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cabinet_reports.api import render_report
from readers import normalise, pdftotext, table_rows

ROOT = Path(__file__).resolve().parent.parent
THEMES = ROOT / "examples" / "themes"
NAMES = sorted(p.name for p in THEMES.iterdir() if (p / "report.yaml").is_file())

# Every label form the example themes print: 1.1 / 2.1.1 / 1.0, "1." and "1 PURPOSE" section
# headings, (1), (a), (ii), a., ii.
LABEL = re.compile(r"^(\d+\.\d+(?:\.\d+)*|\d+\.(?=\s)|\d+(?=\s+[A-Z]{2})|\(\d+\)|\([a-z]{1,4}\)|[a-z]{1,4}\.(?=\s))\s*")


def labelled(pdf: Path) -> list[tuple[str, str]]:
    """Return (label, text) for each line-leading label of the page bodies, with its wrapped lines."""
    out: list[list[str]] = []
    current: list[str] | None = None
    column = 0
    for page in pdftotext(pdf, body_only=True, layout=True).split("\f"):
        for line in page.strip("\n").splitlines():
            stripped = line.strip()
            indent = len(line) - len(line.lstrip())
            found = LABEL.match(stripped)
            if found:
                current = [found.group(1), stripped[found.end():]]
                column = indent + found.end()
                out.append(current)
            elif current is not None and stripped and indent >= column - 2:
                current[1] += " " + stripped
            else:
                current = None
    return [(label, normalise(text)) for label, text in out]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, libreoffice) -> dict[str, dict[str, Path]]:
    out = tmp_path_factory.mktemp("example-themes")
    found = {name: render_report(THEMES / name / "report.yaml", out, theme=THEMES / name, name=f"theme-{name}")
             for name in NAMES}
    for files, lo in zip(found.values(), libreoffice([f["docx"] for f in found.values()])):
        files["lo"] = lo
    return found


def test_there_are_at_least_three_example_themes():
    assert {"classic-1-0", "cover-table", "welsh-council"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_pdf_and_docx_read_back_the_same_labels_and_texts(rendered, name):
    pdf, word = labelled(rendered[name]["pdf"]), labelled(rendered[name]["lo"])
    assert pdf
    assert [label for label, _ in word] == [label for label, _ in pdf]
    assert word == pdf


EXPECTED = {
    # Unnumbered cover part (Purpose of Report: 1., 2. with a., b.), then the body from 1.
    "cover-table": ["1.", "2.", "a.", "b.", "1.", "1.1", "1.2", "2.", "2.1", "2.1.1", "2.1.2", "2.1.3",
                    "3.", "3.1", "4.", "4.1", "4.2", "5.", "5.1", "6.", "6.1", "7.", "8."],
    "classic-1-0": ["1.0", "1.1", "2.0", "2.1", "2.2", "2.2.1", "2.2.2", "3.0", "3.1", "(a)", "(b)", "(c)",
                    "(i)", "(ii)", "4.0", "4.1", "5.0", "5.1", "6.0", "6.1", "7.0", "7.1", "(a)", "(b)",
                    "(i)", "(ii)", "(c)", "7.2", "(1)", "(2)", "8.0"],
    # Unnumbered Recommendations ((1), (2) with i., ii.), then "1 PURPOSE OF THE REPORT".
    "welsh-council": ["(1)", "(2)", "i.", "ii.", "(3)", "1", "1.1", "2", "2.1", "2.2", "3", "3.1", "4", "4.1",
                      "5", "5.1", "6", "6.1", "7", "7.1"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_numbering_reads_back_as_the_theme_prints_it(rendered, name):
    assert [label for label, _ in labelled(rendered[name]["lo"])] == EXPECTED[name]


def test_cross_references_give_body_numbers(rendered):
    cover = labelled(rendered["cover-table"]["pdf"])
    assert cover[0] == ("1.", "Notes the condition survey summarised in 1.1.")
    assert ("b.", "the capital budget set out in 4.1.") in cover
    assert ("3.1", "Option 3 is recommended because it gives the lowest cost over the building's life, "
                   "as section 4 explains.") in cover
    assert ("1.", "INTRODUCTION AND BACKGROUND") in cover
    assert ("6.1", "An equality impact assessment is at Appendix B.") in cover
    classic = dict(labelled(rendered["classic-1-0"]["lo"]))
    assert classic["(c)"] == "notes that charges were last changed as set out in paragraph 2.1."
    assert classic["4.1"] == "The tiered tariff would raise about £180,000 a year, as explained at 2.2.1."
    welsh = labelled(rendered["welsh-council"]["lo"])
    assert ("(3)", "notes the consultation responses summarised in section 7.") in welsh
    assert ("ii.", "the walking distances set out in paragraph 2.1.") in welsh
    assert ("1", "PURPOSE OF THE REPORT") in welsh
    assert welsh[0] == ("(1)", "approves the revised School Transport Policy at Appendix I;")


COVER_TEXTS = {
    "cover-table": ["Report title", "Leisure Centre Replacement", "Sam Officer", "Jo Analyst", "For decision",
                    "For general release", "Subject to call-in", "Executive Summary",
                    "Appendix A – Options appraisal", "Appendix B – Equality impact assessment"],
    "classic-1-0": ["Reason for urgency", "This report was not available when the agenda was published",
                    "CABINET – 15th April 2026; COUNCIL – 27th April 2026", "Appendix 1: Proposed tariff"],
    "welsh-council": ["Mae’r adroddiad hwn ar gael yn Gymraeg", "Consultation closes", "30 April 2026",
                      "Appendix II: Consultation responses"],
}


@pytest.mark.parametrize("name", NAMES)
def test_cover_and_appendices_read_back_in_both_formats(rendered, name):
    for kind in ("pdf", "lo"):
        text = normalise(pdftotext(rendered[name][kind])).replace("'", "’")
        for words in COVER_TEXTS[name]:
            assert words in text, (kind, words)
    if name == "cover-table":  # the title is in the header table and repeated before the body, once each
        body = normalise(pdftotext(rendered[name]["pdf"], body_only=True))
        assert body.count("Leisure Centre Replacement") == 2


def test_header_table_has_a_row_per_contact_with_three_cells(rendered):
    import docx

    details = docx.Document(rendered["cover-table"]["docx"]).tables[0]
    rows = [[cell.text for cell in row.cells] for row in details.rows]
    authors = [row for row in rows if row[0] == "Report authors"]
    # The label spans both rows (a vertical merge, as the PDF's rowspan); stacked lines in a cell.
    assert authors == [["Report authors", "Sam Officer\nLeisure Manager", "01234 567890", "sam.officer@example.gov.uk"],
                       ["Report authors", "Jo Analyst\nFinance Business Partner", "01234 567891",
                        "jo.analyst@example.gov.uk"]]
    # A one-cell row spans the remaining columns.
    assert [row for row in rows if row[0] == "Decision maker"] == [["Decision maker"] + ["Cabinet"] * 3]


def test_cover_table_prints_its_clearances_alike_in_pdf_and_docx(rendered):
    """The cover-table theme prints the sign-off record as a table ending its "Report sign-off" section."""
    want = [["Clearance", "Name", "Role", "Date"],
            ["Finance", "Jo Analyst", "Finance Business Partner", "24th February 2026"],
            ["Legal", "Priya Lawyer", "Deputy Monitoring Officer", "25th February 2026"],
            ["Portfolio holder", "Councillor A. Example", "Portfolio Holder for Leisure", "27th February 2026"]]
    for kind in ("pdf", "lo"):
        assert "Report sign-off" in pdftotext(rendered["cover-table"][kind]), kind
        assert table_rows(rendered["cover-table"][kind], "Clearance", len(want), key_column=0) == want, kind
    # The other example themes keep the built-in setting: a report's clearances are not printed.
    for name in NAMES:
        if name != "cover-table":
            assert "Clearance" not in pdftotext(rendered[name]["pdf"])


@pytest.mark.parametrize("name", NAMES)
def test_example_theme_pdfs_have_a_clean_structure_tree(rendered, name):
    from pdf_structure import problems

    assert problems(rendered[name]["pdf"]) == []


@pytest.mark.parametrize("name", NAMES)
def test_example_theme_docx_uses_real_word_numbering(rendered, name):
    import docx

    paragraphs = docx.Document(rendered[name]["docx"]).paragraphs
    numbered = [p.text for p in paragraphs if p.style.name in ("Numbered Paragraph", "List Letter")]
    # Word computes the numbers (an inserted paragraph gets the next one): none is typed in.
    assert numbered and not any(re.match(r"\(?[0-9a-z]{1,4}[.)]?\t", text) for text in numbered)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("suffix", [".yaml", ".md"])
def test_make_report_new_writes_a_starter_that_checks_with_each_example_theme(tmp_path, name, suffix):
    from cabinet_reports import Theme
    from cabinet_reports.starter import write_starter

    theme = Theme(THEMES / name)
    path = write_starter(tmp_path / f"report{suffix}", theme)  # checked before it is written
    text = path.read_text(encoding="utf-8")
    for key in theme.config.cover_fields:
        assert f"  {key}: " in text
