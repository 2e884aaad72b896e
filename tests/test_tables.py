"""Tables as councils use them (issue 8, item 5): column alignment and widths, total rows,
captions and figures written unquoted in YAML, read back from the PDF and from the DOCX
through LibreOffice (poppler word boxes, pypdf font names, pixels of the header shading).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from cabinet_reports.cli import main
from readers import pdftotext, require

FINANCE = """\
council: {name: Test Borough Council}
meeting: {body: Cabinet, date: 2026-01-14}
title: Budget monitoring
sections:
  purpose:
    - p: Intro paragraph at the text margin.
  finance:
    - table:
        caption: Revenue budget
        header: [Service, Budget, Forecast]
        align: [left, right, right]
        widths: [3, 1, 1]
        rows:
          - [Adult social care, 12500, 0.50]
          - [Highways, -300, "1,000"]
          - [Libraries and community centres, 1.5, "250.75"]
        footer: [Total, 12201.5, "1,251.25"]
  recommendations: ["That Cabinet notes the forecast."]
"""
# Unquoted in the YAML: 12500, 0.50 (YAML reads 0.5), -300, 1.5, 12201.5.
FIGURES = ["12500", "0.50", "-300", "1,000", "1.5", "250.75", "12201.5", "1,251.25"]


def boxes(pdf: Path) -> dict[str, tuple[float, float, float]]:
    """Return word -> (xMin, xMax, yMin) for the first occurrence of each word."""
    html = subprocess.run([require("pdftotext"), "-bbox", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    out: dict[str, tuple[float, float, float]] = {}
    for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)"[^>]*>([^<]*)</word>', html):
        out.setdefault(m.group(4), (float(m.group(1)), float(m.group(3)), float(m.group(2))))
    return out


def bold_words(pdf: Path) -> set[str]:
    """Return the words drawn in a bold font, as pypdf reads the content stream."""
    found: set[str] = set()

    def visit(text, cm, tm, font, size):
        if font and "Bold" in str(font.get("/BaseFont", "")):
            found.update(text.split())

    for page in PdfReader(pdf).pages:
        page.extract_text(visitor_text=visit)
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, libreoffice) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tables")
    src = folder / "finance.yaml"
    src.write_text(FINANCE, encoding="utf-8")
    assert main(["render", str(src), "-o", str(folder), "--quiet"]) == 0
    (converted,) = libreoffice([folder / "finance.docx"])
    return {"pdf": folder / "finance.pdf", "docx-pdf": converted}


@pytest.mark.parametrize("output", ["pdf", "docx-pdf"])
def test_figures_print_as_written_right_aligned_in_their_column(rendered, output):
    pdf = rendered[output]
    text = " ".join(pdftotext(pdf).split())
    for figure in FIGURES:
        assert f" {figure} " in f" {text} ", f"{figure} is not printed as written"
    found = boxes(pdf)
    # Right-aligned: the figures (and the heading) of a column end at the same x.
    budget = [found[w][1] for w in ("Budget", "12500", "-300", "1.5", "12201.5")]
    forecast = [found[w][1] for w in ("Forecast", "0.50", "1,000", "250.75", "1,251.25")]
    assert max(budget) - min(budget) < 1 and max(forecast) - min(forecast) < 1, (budget, forecast)


@pytest.mark.parametrize("output", ["pdf", "docx-pdf"])
def test_widths_are_relative_and_the_table_sits_on_the_text_margin(rendered, output):
    found = boxes(rendered[output])
    margin = found["Revenue"][0]  # the caption, at the text margin
    left, right = found["Service"][0], found["Forecast"][1]
    # Cell padding inside a border on the margin: the first column's text a few points in.
    assert 2 < left - margin < 8, f"table text at {left:.1f}, margin at {margin:.1f}"
    # [3, 1, 1]: the Budget column ends four fifths of the way across the table.
    width = (right - left)
    assert found["Budget"][1] - left == pytest.approx(0.8 * width, abs=0.03 * width)


@pytest.mark.parametrize("output", ["pdf", "docx-pdf"])
def test_the_total_row_is_bold_and_the_body_rows_are_not(rendered, output):
    bold = bold_words(rendered[output])
    assert {"Total", "12201.5", "1,251.25"} <= bold
    assert not {"Highways", "12500", "-300"} & bold


@pytest.mark.parametrize("output", ["pdf", "docx-pdf"])
def test_the_header_row_is_shaded(rendered, output, tmp_path):
    pdf = rendered[output]
    found = boxes(pdf)
    x0, x1, y = found["Service"]
    body_x, _, body_y = found["Highways"]
    subprocess.run([require("pdftoppm"), "-r", "72", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                   check=True)
    (png,) = tmp_path.glob("p*.png")
    image = Image.open(png).convert("L")
    # A point in the padding just before the header word, and the same point in a body row.
    header = image.getpixel((int(x0) - 2, int(y) + 4))
    body = image.getpixel((int(body_x) - 2, int(body_y) + 4))
    assert 200 <= header <= 245, f"header cell background {header}"
    assert body > 250, f"body cell background {body}"


def check(tmp_path, text: str) -> tuple[int, str]:
    src = tmp_path / "bad.yaml"
    src.write_text(text, encoding="utf-8")
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["check", str(src)])
    return code, err.getvalue()


@pytest.mark.parametrize("cell, says", [
    ("1_000", 'put the figure in quotes as it should be printed, for example "1,000"'),
    ("1:30", 'for example "1:30"'),
    ("yes", 'put the text in quotes, for example "Yes"'),
])
def test_numbers_yaml_would_change_are_errors_that_say_what_to_write(tmp_path, cell, says):
    code, err = check(tmp_path, FINANCE.replace('[Highways, -300, "1,000"]', f"[Highways, -300, {cell}]"))
    assert code == 2
    assert "sections.finance[0].table.rows[1][2]" in err and says in err, err
    assert "bad.yaml:15:" in err


def test_an_unquoted_thousands_comma_in_a_flow_row_says_to_quote_it(tmp_path):
    code, err = check(tmp_path, FINANCE.replace('[Highways, -300, "1,000"]', "[Highways, -300, 1,000]"))
    assert code == 2 and 'row 2 has 4 cells but the header has 3' in err and '"1,000"' in err, err


@pytest.mark.parametrize("key, value", [("align", "[left, right]"), ("widths", "[1, 2]"), ("widths", "[1, 0, 1]"),
                                        ("align", "[left, middle, right]")])
def test_column_settings_must_fit_the_header(tmp_path, key, value):
    code, err = check(tmp_path, re.sub(rf"        {key}: .*\n", f"        {key}: {value}\n", FINANCE))
    assert code == 2 and f"sections.finance[0].table" in err, err


def test_json_figures_print_as_written(tmp_path):
    import json

    import yaml

    data = yaml.safe_load(FINANCE)
    data["sections"]["finance"][0]["table"]["rows"][0][2] = "__HALF__"
    src = tmp_path / "finance.json"
    src.write_text(json.dumps(data, default=str).replace('"__HALF__"', "0.50"), encoding="utf-8")
    assert main(["render", str(src), "-o", str(tmp_path), "--format", "pdf", "--quiet"]) == 0
    assert " 0.50 " in " ".join(pdftotext(tmp_path / "finance.pdf").split())


def test_the_schema_lets_an_editor_accept_unquoted_figures():
    import datetime as dt

    import jsonschema
    import yaml

    from cabinet_reports.schema import report_schema

    data = yaml.safe_load(FINANCE)
    data["meeting"]["date"] = dt.date(2026, 1, 14).isoformat()  # as a YAML 1.2 editor reads it
    jsonschema.Draft202012Validator(report_schema()).validate(data)
