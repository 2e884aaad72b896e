"""The DOCX pages as LibreOffice lays them out: tables on the text margin, nothing left alone.

Every DOCX is converted by headless LibreOffice and the PDF read back with poppler
(``pdftotext -bbox`` for positions, ``-layout`` for lines, ``pdftoppm`` for the table borders,
which are lines, not text). What a paragraph is and whether it keeps with the next one is read
from the DOCX XML with python-docx, not from our renderer.
"""

from __future__ import annotations

import collections
import copy
import datetime as dt
import re
import subprocess
from pathlib import Path

import docx
import pytest
import yaml
from docx.oxml.ns import qn

from cabinet_reports.api import render_bytes, report_from_data
from readers import normalise, require

ROOT = Path(__file__).resolve().parent.parent
DUDLEY = ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"
MEETING = ROOT / "examples" / "dudley-2005-cabinet" / "meeting.yaml"
A4_W = 595.3
MARGIN = 72.0  # the reference document's 2.54 cm margins, in points
LABEL = re.compile(r"^(\d+(\.\d+)*\.?|\([a-z0-9]{1,4}\)|[a-z]{1,4}\.)\s+")


# --------------------------------------------------------------------------- readers
def keeps_with_next(paragraph) -> bool:
    """Tell whether a paragraph keeps with the next: its own w:keepNext, else its styles'."""
    elements = [paragraph._p.pPr]
    style = paragraph.style
    while style is not None:
        elements.append(style.element.pPr)
        style = style.base_style
    for ppr in elements:
        keep = ppr.find(qn("w:keepNext")) if ppr is not None else None
        if keep is not None:
            return keep.get(qn("w:val")) not in ("0", "false", "off")
    return False


def kept_pairs(path: Path) -> list[tuple[str, str]]:
    """Return (text of a paragraph that keeps with the next, text of what follows it) in body order.

    Empty paragraphs are skipped; a table counts as its first non-empty cell.
    """
    document = docx.Document(str(path))
    blocks: list[tuple[str, bool]] = []
    for element in document.element.body:
        if element.tag == qn("w:p"):
            p = docx.text.paragraph.Paragraph(element, document._body)
            if p.text.strip():
                blocks.append((normalise(p.text), keeps_with_next(p)))
        elif element.tag == qn("w:tbl"):
            cells = [normalise(t.text or "") for t in element.iter(qn("w:t")) if (t.text or "").strip()]
            blocks.append((cells[0] if cells else "", False))
    return [(text, after) for (text, keep), (after, _) in zip(blocks, blocks[1:]) if keep]


def page_lines(pdf: Path) -> list[list[str]]:
    """Return each page's body lines (no running header or footer) as LibreOffice laid them out."""
    out = subprocess.run([require("pdftotext"), "-layout", "-x", "0", "-y", "60", "-W", "596", "-H", "720",
                          str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [[normalise(line) for line in page.splitlines() if line.strip()] for page in out.split("\f")[:-1]]


def alone_at_page_end(docx_path: Path, pdf: Path) -> list[str]:
    """Return the pages that end with a kept paragraph whose next paragraph starts the next page."""
    return alone(kept_pairs(docx_path), page_lines(pdf))


def alone(pairs: list[tuple[str, str]], pages: list[list[str]]) -> list[str]:
    found = []
    for n, (page, following) in enumerate(zip(pages, pages[1:]), 1):
        if not page or not following:
            continue
        last, first = LABEL.sub("", page[-1]), LABEL.sub("", following[0])
        for kept, after in pairs:
            if last and kept.endswith(last) and after.startswith(first[:20]):
                found.append(f"page {n} ends with {page[-1]!r}, its next paragraph starts page {n + 1}")
    return found


def words(pdf: Path, page: int = 1) -> list[tuple[float, float, float, float, str]]:
    """Return (xMin, yMin, xMax, yMax, word) for every word of a page (pdftotext -bbox)."""
    out = subprocess.run([require("pdftotext"), "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [(float(a), float(b), float(c), float(d), html_unescape(w)) for a, b, c, d, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out)]


def html_unescape(text: str) -> str:
    import html
    return html.unescape(text)


def dark_columns(pdf: Path, top: float, bottom: float) -> list[int]:
    """Return the x (points) of pixel columns with a dark pixel between ``top`` and ``bottom`` on page 1."""
    raw = subprocess.run([require("pdftoppm"), "-f", "1", "-l", "1", "-r", "72", "-gray", str(pdf)],
                         capture_output=True, check=True).stdout
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", raw)
    width, height = int(header.group(1)), int(header.group(2))
    pixels = raw[header.end():]
    rows = range(max(int(top), 0), min(int(bottom) + 1, height))
    return [x for x in range(width) if any(pixels[y * width + x] < 128 for y in rows)]


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def laid_out(every_docx, libreoffice) -> dict[str, tuple[Path, Path]]:
    """Every DOCX we write, with LibreOffice's PDF of it."""
    names = list(every_docx)
    pdfs = libreoffice([every_docx[n] for n in names])
    return {n: (every_docx[n], pdf) for n, pdf in zip(names, pdfs)}


@pytest.fixture(scope="module")
def dudley_variants(tmp_path_factory, libreoffice) -> list[tuple[Path, Path]]:
    """The Dudley report with its purpose paragraph 0, 9 and 18 words longer (the old DOCX left
    "2.1.4" alone at the foot of page 1 in all three)."""
    out = tmp_path_factory.mktemp("dudley-variants")
    source = yaml.safe_load(DUDLEY.read_text(encoding="utf-8"))
    paths = []
    for extra in (0, 9, 18):
        data = copy.deepcopy(source)
        data["sections"]["purpose"][0]["p"] += " more" * extra
        path = out / f"dudley-plus-{extra}.docx"
        path.write_bytes(render_bytes(report_from_data(data), "docx"))
        paths.append(path)
    return list(zip(paths, libreoffice(paths)))


@pytest.fixture(scope="module")
def agenda_variants(tmp_path_factory, libreoffice) -> list[tuple[Path, Path]]:
    """Agendas of 4 to 7 procedural items and the example's Part B report, with a publication date.

    With 4 items the old agenda DOCX began page 2 with the Part B item's "Pages 5 to 9" line, cut
    off from its heading; with 4 and 5 a chained Part B heading was left alone on page 1.
    """
    from cabinet_reports.pack import agenda_docx, load_meeting
    from cabinet_reports.theme import Theme

    out = tmp_path_factory.mktemp("agenda-variants")
    head = MEETING.read_text(encoding="utf-8").split("\nitems:")[0]
    paths = []
    for count in (4, 5, 6, 7):
        items = "".join(f"  - title: Procedural item number {n}\n    text: To receive the item number {n} and to "
                        "note what the officers say about it in the meeting.\n" for n in range(count))
        items += (f"  - report: {MEETING.parent / 'depot-disposal.yaml'}\n"
                  "    public_title: Disposal of the Former Highways Depot, Northfield Road\n")
        meeting = out / f"meeting-{count}.yaml"
        meeting.write_text(f"{head}\nitems:\n{items}", encoding="utf-8")
        pages = collections.defaultdict(lambda: (5, 9))  # every report item: pages 5 to 9
        path = out / f"agenda-{count}.docx"
        path.write_bytes(agenda_docx(load_meeting(meeting), Theme(), pages, dt.date(2005, 3, 8)))
        paths.append(path)
    return list(zip(paths, libreoffice(paths)))


# --------------------------------------------------------------------------- nothing left alone
def test_the_checker_sees_a_heading_alone(laid_out):
    """The reader is not blind: the Dudley "2.1.4" heading moved to the foot of page 1 is found."""
    docx_path, pdf = laid_out["dudley-2005-partnership-strategy"]
    pages = page_lines(pdf)
    lines = [line for page in pages[:2] for line in page]
    at = next(i for i, line in enumerate(lines) if "Development and use of Partnership" in line)
    fake = [lines[:at + 1], lines[at + 1:], *pages[2:]]
    assert len(alone(kept_pairs(docx_path), fake)) == 1


@pytest.mark.parametrize("name", ["dudley-2005-partnership-strategy", "salford-2003-progress-note", "exempt",
                                  "theme-classic-1-0", "theme-cover-table", "theme-welsh-council", "pack-agenda"])
def test_no_heading_or_lead_in_ends_a_page(laid_out, name):
    assert alone_at_page_end(*laid_out[name]) == []


def test_no_heading_ends_a_page_wherever_the_text_falls(dudley_variants):
    for docx_path, pdf in dudley_variants:
        assert alone_at_page_end(docx_path, pdf) == [], docx_path.name


def test_lettered_list_lead_ins_keep_with_their_list(laid_out):
    pairs = kept_pairs(laid_out["dudley-2005-partnership-strategy"][0])
    assert ("That members of the Cabinet:", "Approve the key principles of the draft Partnership Strategy "
            "outlined in Appendix 2.") in pairs


def test_agenda_items_are_never_cut_and_the_last_page_is_not_one_line(agenda_variants):
    for docx_path, pdf in agenda_variants:
        document = docx.Document(str(docx_path))
        headings = [normalise(p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
        pages = page_lines(pdf)
        assert len(pages) > 1, docx_path.name  # the variants are meant to need a second page
        for n, page in enumerate(pages[1:], 2):
            assert page[0] in headings, f"{docx_path.name}: page {n} starts inside an item: {page[0]!r}"
        assert len(pages[-1]) > 1, docx_path.name
        assert alone_at_page_end(docx_path, pdf) == [], docx_path.name


# --------------------------------------------------------------------------- tables
DETAILS = {  # document: (first row label, a body word on the text margin, full width?)
    "dudley-2005-partnership-strategy": ("Wards", "DUDLEY", False),
    "exempt": (None, None, False),
    "theme-cover-table": ("Agenda", "Example", True),
    "pack-agenda": ("Date", "Dudley", False),
}


@pytest.mark.parametrize("name", ["dudley-2005-partnership-strategy", "theme-cover-table", "pack-agenda"])
def test_details_table_border_is_on_the_text_margin(laid_out, name):
    label, body_word, full = DETAILS[name]
    _, pdf = laid_out[name]
    page = words(pdf)
    margin = next(w for w in page if w[4] == body_word)[0]
    first = next(w for w in page if w[4] == label)
    columns = dark_columns(pdf, first[1], first[3])
    left, right = min(columns), max(columns)
    assert abs(left - margin) <= 1.5, (left, margin)  # not sticking out past the margin
    assert right <= A4_W - MARGIN + 1.5, right
    if full:
        assert abs(right - (A4_W - MARGIN)) <= 1.5, right
    assert 3 <= first[0] - left <= 8, (first[0], left)  # cell padding between border and text


def test_details_labels_do_not_wrap(laid_out):
    """Column widths come from the content: every label of the cover-table header table is one line."""
    docx_path, pdf = laid_out["theme-cover-table"]
    table = docx.Document(str(docx_path)).tables[0]
    labels = {normalise(row.cells[0].text) for row in table.rows if row.cells[0].text.strip()}
    lines = page_lines(pdf)[0]
    assert len(labels) > 10
    for text in labels:
        assert any(text in line for line in lines), f"label {text!r} wraps"


def _look(table) -> dict[str, str]:
    look = table._tbl.tblPr.find(qn("w:tblLook"))
    return {k.split("}")[1]: v for k, v in look.attrib.items()}


def _header_rows(table) -> list[int]:
    return [n for n, row in enumerate(table.rows) if row._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None]


@pytest.mark.parametrize("name", ["pack-agenda", "dudley-2005-partnership-strategy", "exempt", "theme-cover-table"])
def test_key_value_tables_have_no_header_row(every_docx, name):
    """#9 defect 6: the details tables head their rows (first column), not a header row."""
    table = docx.Document(str(every_docx[name])).tables[0]
    look = _look(table)
    assert look["firstRow"] == "0" and look["firstColumn"] == "1"
    assert int(look["val"], 16) & 0x0020 == 0 and int(look["val"], 16) & 0x0080
    assert _header_rows(table) == []


def test_real_tables_mark_their_header_row(every_docx):
    tables = docx.Document(str(every_docx["theme-cover-table"])).tables[1:]
    assert tables
    for table in tables:
        look = _look(table)
        assert look["firstRow"] == "1" and look["firstColumn"] == "0" and int(look["val"], 16) & 0x0020
        assert _header_rows(table) == [0]


# --------------------------------------------------------------------------- page furniture
@pytest.mark.parametrize("name", ["theme-classic-1-0", "pack-part-b-07-not-for-publication-disposal-of-the-former-highways"
                                  "-depot-northfield"])
def test_running_title_stays_on_one_line(laid_out, name):
    """A long title is cut with an ellipsis in the header, as in the PDF, instead of wrapping."""
    docx_path, pdf = laid_out[name]
    header = subprocess.run([require("pdftotext"), "-layout", "-f", "1", "-l", "1", "-x", "0", "-y", "0", "-W", "596",
                             "-H", "62", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    lines = [line for line in header.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    shown = lines[0].split("  ")[-1].strip()
    title = normalise(docx.Document(str(docx_path)).core_properties.title).upper()
    if shown.endswith("…"):
        assert title.startswith(shown[:-1].upper()) and len(shown) > 20
    else:
        assert shown.upper() == title
