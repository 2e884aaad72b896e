"""Typography defects of issue 8, read back from the PDF (poppler's word boxes) and from the
DOCX through LibreOffice: what a reader of the printed page sees, not what the HTML says.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from cabinet_reports.cli import main
from readers import BODY_TOP, normalise, pdfinfo, pdftotext, require

ROOT = Path(__file__).resolve().parent.parent
DUDLEY = ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"

LONG = "so that the text runs on over more than one line of the page and we can see where it wraps"
LONG_TITLE = ("The disposal of the former depot site at Lower Gornal and the acquisition of land for the new "
              "integrated transport interchange")
SAMPLE = f"""\
council: {{name: Test Borough Council}}
meeting: {{body: Cabinet, date: 2026-01-14}}
title: {LONG_TITLE}
classification: {{status: exempt, paragraphs: [3]}}
sections:
  purpose:
    - p: Numberedpara starts here {LONG}.
    - subpoint: Heading
      text: Subpointtext starts here {LONG}.
    - letters:
        - Letteredone starts here {LONG}.
        - text: Letteredtwo sees [[app]] {LONG}.
    - bullets:
        - Bodybullet starts here {LONG}.
  recommendations: ["That it be approved."]
signatories: [{{name: Ann Officer, title: Director}}]
appendices:
  - title: Plan
    label: app
    blocks:
      - text: Appendixtext at the margin.
      - bullets:
          - Appendixbullet starts here {LONG}.
      - letters:
          - Appendixletter starts here {LONG}.
"""


def words(pdf: Path, page: int | None = None) -> list[tuple[str, float, float, int]]:
    """Return (word, xMin, yMin, page) for every word poppler finds."""
    cmd = [require("pdftotext"), "-bbox"]
    if page is not None:
        cmd += ["-f", str(page), "-l", str(page)]
    html = subprocess.run(cmd + [str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    out = []
    for n, chunk in enumerate(html.split("<page ")[1:], start=page or 1):
        for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', chunk):
            out.append((m.group(3), float(m.group(1)), float(m.group(2)), n))
    return out


def lines(pdf: Path) -> list[list[tuple[str, float]]]:
    """Return the PDF's lines in reading order, each a list of (word, xMin)."""
    rows: dict[tuple[int, int], list[tuple[str, float]]] = {}
    for word, x, y, page in words(pdf):
        rows.setdefault((page, round(y)), []).append((word, x))
    return [sorted(rows[key], key=lambda w: w[1]) for key in sorted(rows)]


def first_and_wrapped(pdf: Path, first_word: str) -> tuple[float, float]:
    """Return the x of ``first_word`` and of the first word of the line after it."""
    found = lines(pdf)
    for i, line in enumerate(found):
        if any(w == first_word for w, _ in line):
            x = next(x for w, x in line if w == first_word)
            return x, found[i + 1][0][1]
    raise AssertionError(f"{first_word!r} not in the PDF")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("typo")
    src = folder / "sample.yaml"
    src.write_text(SAMPLE, encoding="utf-8")
    assert main(["render", str(src), "-o", str(folder), "--quiet"]) == 0
    return folder


@pytest.mark.parametrize("first", ["Numberedpara", "Letteredone", "Letteredtwo", "Bodybullet", "Appendixbullet",
                                   "Appendixletter"])
def test_the_first_line_of_a_hanging_item_starts_where_its_wrapped_lines_do(sample, first):
    # The old templates put a space between the number's gutter and the text: the first line
    # sat 3.3 pt to the right of the lines under it.
    x, wrapped = first_and_wrapped(sample / "sample.pdf", first)
    assert abs(x - wrapped) < 0.5, f"{first} starts at {x:.1f} pt, its next line at {wrapped:.1f} pt"


def test_appendix_lists_start_at_the_appendix_text_margin(sample):
    # The old style sheet indented appendix lists by the 3.4em paragraph-number gutter,
    # although nothing in an appendix is numbered: the bullets sat far right of the text.
    found = {w: x for w, x, _, _ in words(sample / "sample.pdf")}
    margin = found["Appendixtext"]
    body_bullet_text, appendix_bullet_text = found["Bodybullet"], found["Appendixbullet"]
    body_numbered_text = found["Numberedpara"]
    # In the body a bullet hangs under the numbered paragraph's text; in an appendix it hangs
    # from the margin by the same list gutter.
    assert appendix_bullet_text - margin == pytest.approx(body_bullet_text - body_numbered_text, abs=0.5)
    assert found["Appendixletter"] == pytest.approx(appendix_bullet_text, abs=0.5)


def test_the_running_title_and_the_marking_stay_on_one_line(sample):
    pdf = sample / "sample.pdf"
    header = [(w, x, y) for w, x, y, page in words(pdf) if page == 2 and y < BODY_TOP]
    assert {w for w, _, _ in header} >= {"NOT", "FOR", "PUBLICATION", "THE", "DISPOSAL"}
    assert len({round(y) for _, _, y in header}) == 1, f"the running header has several lines: {header}"
    # The full title is still the document's title.
    assert pdfinfo(pdf)["Title"] == LONG_TITLE


def test_the_signatory_is_never_alone_on_a_page(tmp_path):
    # The Dudley example put "Linda Sanders, Director of Social Services" alone on page 3.
    assert main(["render", str(DUDLEY), "-o", str(tmp_path), "--format", "pdf", "--quiet"]) == 0
    pdf = tmp_path / "dudley-2005-partnership-strategy.pdf"
    pages = int(pdfinfo(pdf)["Pages"])
    (page,) = [n for n in range(1, pages + 1) if "Linda Sanders" in pdftotext(pdf, page=n)]
    body = pdftotext(pdf, page=page, body_only=True)
    others = [line for line in body.splitlines() if line.strip() and line.strip() not in
              ("Linda Sanders", "Director of Social Services")]
    assert others, f"page {page} holds only the signature"
    assert "8.0 BACKGROUND DOCUMENTS" in body


# --------------------------------------------------------------------------- DOCX as the PDF
@pytest.fixture(scope="module")
def sample_docx_pdf(sample, libreoffice) -> Path:
    (converted,) = libreoffice([sample / "sample.docx"])
    return converted


@pytest.mark.parametrize("first", ["Numberedpara", "Letteredone", "Bodybullet", "Appendixbullet", "Appendixletter"])
def test_docx_hanging_items_align_as_in_the_pdf(sample_docx_pdf, first):
    x, wrapped = first_and_wrapped(sample_docx_pdf, first)
    assert abs(x - wrapped) < 0.5, f"{first} starts at {x:.1f} pt, its next line at {wrapped:.1f} pt"


def test_docx_appendix_lists_start_at_the_appendix_text_margin(sample, sample_docx_pdf):
    # The DOCX indented appendix lists by the 1.5 cm number gutter too.
    found = {w: x for w, x, _, _ in words(sample_docx_pdf)}
    pdf = {w: x for w, x, _, _ in words(sample / "sample.pdf")}
    docx_indent = found["Appendixbullet"] - found["Appendixtext"]
    pdf_indent = pdf["Appendixbullet"] - pdf["Appendixtext"]
    assert docx_indent == pytest.approx(pdf_indent, abs=4), (docx_indent, pdf_indent)


def word_heights(pdf: Path) -> dict[str, float]:
    cmd = [require("pdftotext"), "-bbox", str(pdf), "-"]
    html = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    out: dict[str, float] = {}
    for m in re.finditer(r'<word [^>]*yMin="([\d.]+)"[^>]*yMax="([\d.]+)">([^<]*)</word>', html):
        # The largest occurrence: the title's words are also in the smaller running header.
        out[m.group(3)] = max(out.get(m.group(3), 0.0), float(m.group(2)) - float(m.group(1)))
    return out


def test_docx_title_and_heading_sizes_are_the_pdfs(sample, sample_docx_pdf):
    # The DOCX set the title at 16 pt and headings at 14 pt over 12 pt text; the PDF sets
    # the title and section headings at the text size and appendix headings at 13 pt.
    pdf, docx = word_heights(sample / "sample.pdf"), word_heights(sample_docx_pdf)
    for word in ("DISPOSAL", "PURPOSE", "Plan"):  # title, section heading, appendix heading
        pdf_ratio, docx_ratio = pdf[word] / pdf["Numberedpara"], docx[word] / docx["Numberedpara"]
        assert docx_ratio == pytest.approx(pdf_ratio, rel=0.04), (word, pdf_ratio, docx_ratio)


def test_agenda_members_with_a_bracketed_role_print_without_nested_brackets(tmp_path):
    from cabinet_reports.pack import build_pack

    meeting = tmp_path / "meeting.yaml"
    meeting.write_text("""\
council: Test Borough Council
body: Cabinet
date: 2026-01-14
time: "6.00 pm"
venue: Council House
contact: {name: Democratic Services, email: ds@example.gov.uk}
membership:
  - {name: Councillor A. Leader, role: Leader of the Council (Chair)}
  - {name: Councillor B. Deputy, role: Deputy Leader}
items:
  - {title: Apologies for absence, text: To receive apologies for absence.}
""", encoding="utf-8")
    out = tmp_path / "pack"
    build_pack(meeting, out, jobs=1)
    text = normalise(pdftotext(out / "agenda.pdf"))
    assert "Councillor A. Leader, Leader of the Council (Chair)" in text
    assert "Councillor B. Deputy, Deputy Leader" in text
    assert "))" not in text


def test_an_item_with_a_reference_does_not_break_after_its_first_word(tmp_path):
    # Reported as "(a) Notes" alone on a line. Not reproduced on the built-in theme: this
    # guard moves the reference through every position of the first line.
    lead = "the progress with the capital programme and asks for more on it while".split()
    items = "".join(f'        - "Notes {" ".join(lead[:n])} [[app]] and the rest of the sentence that goes on."\n'
                    for n in range(len(lead) + 1))
    src = tmp_path / "refs.yaml"
    src.write_text(f"""\
council: {{name: Test Borough Council}}
meeting: {{body: Cabinet, date: 2026-01-14}}
title: References
sections:
  purpose:
    - p: Intro.
    - letters:
{items}  recommendations: ["That it be approved."]
appendices:
  - title: The long appendix title of the capital programme for 2004/05
    label: app
    blocks: [text: x]
""", encoding="utf-8")
    assert main(["render", str(src), "-o", str(tmp_path), "--format", "pdf", "--quiet"]) == 0
    alone = [line for line in lines(tmp_path / "refs.pdf") if [w for w, _ in line][1:] == ["Notes"]]
    assert not alone, alone
