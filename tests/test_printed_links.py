"""Printed links (issue 8, item 6): papers are printed, so the PDF can show each web link's
address after its text, "the guidance (https://…)", switched on by the theme or per render.
Read back with pdftotext; the DOCX (edited in Word, where links stay clickable) is unchanged.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

import pdf_structure
from cabinet_reports.api import load_report, render_bytes
from cabinet_reports.cli import main
from cabinet_reports.inline import Span, with_printed_urls
from readers import normalise, pdftotext

REPORT = """\
council: {name: Test Borough Council}
meeting: {body: Cabinet, date: 2026-01-14}
title: Links
sections:
  purpose:
    - p: "Read [the guidance](https://www.gov.uk/guidance/accessibility-requirements) and
        [www.gov.uk](https://www.gov.uk/), write to [the team](mailto:team@example.gov.uk)
        and see [[section:recommendations]]."
  recommendations: ["That Cabinet notes the guidance."]
"""
PRINTED = ("Read the guidance (https://www.gov.uk/guidance/accessibility-requirements) and www.gov.uk, "
           "write to the team (team@example.gov.uk) and see 2.0.")
PLAIN = "Read the guidance and www.gov.uk, write to the team and see 2.0."


@pytest.fixture()
def report(tmp_path) -> Path:
    src = tmp_path / "links.yaml"
    src.write_text(REPORT, encoding="utf-8")
    return src


def body_text(pdf: Path) -> str:
    return normalise(pdftotext(pdf, body_only=True))


def test_links_print_no_address_by_default(report, tmp_path):
    assert main(["render", str(report), "-o", str(tmp_path), "--format", "pdf", "--quiet"]) == 0
    assert PLAIN in body_text(tmp_path / "links.pdf")


def test_the_render_option_prints_addresses_not_cross_references_nor_repeats(report, tmp_path):
    assert main(["render", str(report), "-o", str(tmp_path), "--format", "pdf", "--quiet",
                 "--print-link-urls"]) == 0
    pdf = tmp_path / "links.pdf"
    assert PRINTED in body_text(pdf)
    # The links are still links the PDF/UA checker finds described and tagged.
    assert pdf_structure.problems(pdf.read_bytes()) == []


def test_the_theme_setting_prints_addresses_and_the_option_can_turn_it_off(report, tmp_path):
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "theme.yaml").write_text("print_link_urls: true\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["render", str(report), "-o", str(out), "--format", "pdf,docx", "--quiet", "-t", str(theme)]) == 0
    assert PRINTED in body_text(out / "links.pdf")
    # The DOCX keeps its clickable links without printed addresses.
    with zipfile.ZipFile(out / "links.docx") as z:
        xml = z.read("word/document.xml").decode("utf-8")
    assert "team@example.gov.uk)" not in xml and "(https://" not in xml
    assert main(["render", str(report), "-o", str(out), "--format", "pdf", "--quiet", "-t", str(theme),
                 "--no-print-link-urls"]) == 0
    assert PLAIN in body_text(out / "links.pdf")


def test_the_library_takes_the_option(report, tmp_path):
    pdf = tmp_path / "lib.pdf"
    pdf.write_bytes(render_bytes(load_report(report), "pdf", print_link_urls=True))
    assert PRINTED in body_text(pdf)


def test_a_link_split_by_formatting_gets_its_address_once_after_its_last_part():
    spans = (Span("see "), Span("the ", href="https://x.example/a"), Span("rules", bold=True, href="https://x.example/a"),
             Span(" now"))
    assert "".join(s.text for s in with_printed_urls(spans)) == "see the rules (https://x.example/a) now"
