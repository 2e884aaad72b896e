"""Golden tests of the readable intermediate: the HTML the PDF is made from.

Each folder in tests/golden holds a report.yaml and the expected.html it must render to.
Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/test_golden_html.py``
and review the diff like code.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from cabinet_reports import Theme, build, load_report
from cabinet_reports.api import render_options
from cabinet_reports.renderers.pdf import render_html

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = {p.parent.name: p for p in sorted(GOLDEN.glob("*/report.yaml"))}
CASES.update({p.parent.name: p for p in sorted((ROOT / "examples").glob("*/report.yaml"))})


STYLE = re.compile(r"<style>.*?</style>", re.S)


def html_for(path: Path) -> str:
    theme = Theme()
    report = load_report(path)
    html = render_html(build(report, theme), theme, render_options(report))
    # The golden files hold the document's structure; the stylesheet is the theme's, checked by
    # the PDF tests, and would otherwise be copied into every golden file.
    assert html.count("<style>") == 1
    return STYLE.sub("<style>/* theme stylesheet */</style>", html)


@pytest.mark.parametrize("name", sorted(CASES))
def test_html_matches_golden(name):
    expected = GOLDEN / name / "expected.html"
    actual = html_for(CASES[name])
    if os.environ.get("UPDATE_GOLDEN"):
        expected.parent.mkdir(parents=True, exist_ok=True)
        expected.write_text(actual, encoding="utf-8")
    assert expected.is_file(), f"no golden file for {name}; run with UPDATE_GOLDEN=1"
    assert actual == expected.read_text(encoding="utf-8")


def test_golden_html_escapes_markup_in_content():
    html = (GOLDEN / "exempt-with-details" / "expected.html").read_text(encoding="utf-8")
    assert "£2 &lt;b&gt;not bold&lt;/b&gt;" in html
    assert '<a href="https://example.gov.uk/policy">the policy</a>' in html
    assert '<th scope="col">Bidder</th>' in html
    assert "NOT FOR PUBLICATION" in html
