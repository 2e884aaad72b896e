"""Large inputs: 300 numbered paragraphs and a 200-row table render in both formats, and the
table's header row repeats on every page the table spans.

Read back independently: pdftotext page by page for the PDF; for the DOCX the w:tblHeader
flag in word/document.xml and LibreOffice's own PDF of it, page by page.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from cabinet_reports.cli import main
from readers import numbered_labels, pdfinfo, pdftotext

PARAGRAPHS = 300
ROWS = 200
HEADER = ["Ward name", "Budget line", "Spend to date"]


def large_report() -> dict:
    paragraphs = [f"Paragraph body text number {i} of the background section." for i in range(1, PARAGRAPHS + 1)]
    table = {"table": {"header": HEADER, "caption": "Spend by ward",
                       "rows": [[f"Ward row{r:03d}", f"Line item {r}", f"£{r * 1000:,}"] for r in range(1, ROWS + 1)]}}
    return {"council": {"name": "Large Borough Council"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"},
            "title": "A long report",
            "sections": {"purpose": ["To test a long report."],
                         "background": paragraphs[:150] + [table] + paragraphs[150:],
                         "recommendations": ["That Cabinet notes the report."]}}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    import json

    tmp = tmp_path_factory.mktemp("large")
    src = tmp / "large.json"
    src.write_text(json.dumps(large_report()), encoding="utf-8")
    out = tmp / "out"
    assert main(["render", str(src), "-o", str(out), "--quiet"]) == 0
    return {"pdf": out / "large.pdf", "docx": out / "large.docx"}


def pages_with_rows(pdf: Path) -> dict[int, str]:
    """Return the text of every page that shows at least one table row, by page number."""
    pages = int(pdfinfo(pdf)["Pages"])
    found = {}
    for n in range(1, pages + 1):
        text = pdftotext(pdf, page=n)
        if re.search(r"Ward row\d{3}", text):
            found[n] = text
    return found


def assert_header_on_every_table_page(pdf: Path) -> None:
    pages = pages_with_rows(pdf)
    assert len(pages) >= 2, "the table should span several pages"
    missing = [n for n, text in pages.items() if not all(h in text for h in HEADER)]
    assert missing == []
    # Every row is there, once, in order.
    rows = [int(m) for text in pages.values() for m in re.findall(r"Ward row(\d{3})", text)]
    assert rows == list(range(1, ROWS + 1))


def test_pdf_has_every_paragraph_number(rendered):
    labels = numbered_labels(pdftotext(rendered["pdf"], body_only=True))
    assert labels[:2] == ["1.0", "1.1"]
    background = [x for x in labels if x.startswith("2.") and x != "2.0"]
    assert background == [f"2.{i}" for i in range(1, PARAGRAPHS + 1)]
    assert labels[-2:] == ["3.0", "3.1"]


def test_pdf_repeats_the_table_header_on_every_page(rendered):
    assert_header_on_every_table_page(rendered["pdf"])


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def test_docx_marks_the_header_row_to_repeat(rendered):
    with zipfile.ZipFile(rendered["docx"]) as z:
        body = ElementTree.fromstring(z.read("word/document.xml"))
    tables = list(body.iter(f"{W}tbl"))
    big = [t for t in tables if len(t.findall(f"{W}tr")) == ROWS + 1]
    assert len(big) == 1
    rows = big[0].findall(f"{W}tr")
    flags = [r.find(f"{W}trPr/{W}tblHeader") is not None for r in rows]
    assert flags[0] and not any(flags[1:])
    # Only the header row repeats; on/true/absent val all mean "on" in OOXML.
    assert rows[0].find(f"{W}trPr/{W}tblHeader").get(f"{W}val") in (None, "1", "true", "on")


def test_docx_repeats_the_header_row_in_libreoffice(rendered, libreoffice):
    [pdf] = libreoffice([rendered["docx"]])
    assert_header_on_every_table_page(pdf)


def word_boxes(pdf: Path) -> list[tuple[str, float]]:
    """Return (word, right edge in points) for every word poppler finds."""
    import subprocess

    from readers import require

    html = subprocess.run([require("pdftotext"), "-bbox", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    return [(m.group(2), float(m.group(1))) for m in re.finditer(r'<word [^>]*xMax="([\d.]+)"[^>]*>([^<]*)</word>', html)]


def test_long_words_stay_on_the_page(tmp_path):
    """Found by the random reports: a 120-letter word in a table cell widened the table past
    the right margin and the rest of the row was never printed. Now long words wrap."""
    long_word = "Averyveryverylongreferencewithoutanyspaces" * 3
    data = {"council": {"name": "C"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"}, "title": "T",
            "sections": {"purpose": [f"A paragraph with {long_word} in it."],
                         "recommendations": [{"table": {"header": ["A", "B", "C", "D"],
                                                        "rows": [[long_word, long_word, "c", "LastColumnCell"]]}},
                                             "That Cabinet notes."]}}
    import json

    src = tmp_path / "long.json"
    src.write_text(json.dumps(data), encoding="utf-8")
    assert main(["render", str(src), "-o", str(tmp_path), "--format", "pdf", "--quiet"]) == 0
    pdf = tmp_path / "long.pdf"
    boxes = word_boxes(pdf)
    assert boxes and max(right for _, right in boxes) <= 595 - 30, "text runs into the right margin or off the page"
    text = "".join(pdftotext(pdf).split())
    assert text.count(long_word) >= 3 and "LastColumnCell" in text


A4_WIDTH = 595.28
MARGIN = 2.2 / 2.54 * 72  # the built-in theme's left and right page margin (page.css), in points


def test_ordinary_words_in_narrow_columns_stay_whole_while_long_tokens_break(tmp_path):
    """Issue 8: with ``overflow-wrap: anywhere`` on the whole page, narrow table columns split
    ordinary words ("Complet/e"). Only unbreakable strings may break: a 200-character token
    in the same table, in a paragraph and as a link still stays inside the right margin."""
    token = "QZXJ" * 50  # letters no other word on the page is made of
    url = "https://www.example.gov.uk/" + "council-documents/" * 6 + "report.pdf"
    words = ["Complete", "Responsibilities", "Netherton", "Outstanding", "Implementation"]
    data = {"council": {"name": "C"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"}, "title": "T",
            "sections": {"purpose": [f"A paragraph with {token} in it, and [the policy]({url}) at {url}."],
                         "recommendations": [{"table": {"header": ["Ref", "Status", "Lead", "Ward", "Due", "Notes"],
                                                        "rows": [[token, *words]]}},
                                             "That Cabinet notes."]}}
    import json

    src = tmp_path / "narrow.json"
    src.write_text(json.dumps(data), encoding="utf-8")
    assert main(["render", str(src), "-o", str(tmp_path), "--format", "pdf", "--quiet"]) == 0
    pdf = tmp_path / "narrow.pdf"
    boxes = word_boxes(pdf)
    found = [word for word, _ in boxes]
    assert [w for w in words if w not in found] == [], f"an ordinary word was split: {found}"
    assert max(right for _, right in boxes) <= A4_WIDTH - MARGIN + 0.5, "text runs into the right margin"
    # The token broke into pieces (it is wider than the page) and every piece is printed:
    # in reading order, the pieces of each of its two occurrences join up again.
    pieces = "".join(word for word in found if set(word) <= set(token))
    assert pieces == token * 2 and token not in found


def test_only_unbreakable_strings_are_marked_breakable():
    from cabinet_reports.linebreaks import breakable_html

    html = breakable_html("See https://x.uk/a?b=1&c=2, mail a@b.uk: Responsibilities " + "y" * 21 + " <b>")
    assert html == ('See <span class="break-anywhere">https://x.uk/a?b=1&amp;c=2,</span> mail '
                    '<span class="break-anywhere">a@b.uk:</span> Responsibilities '
                    '<span class="break-anywhere">' + "y" * 21 + '</span> &lt;b&gt;')
    assert breakable_html("y" * 20) == "y" * 20  # twenty letters can still be a word
