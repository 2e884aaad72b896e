"""Cover fields: first-class fields, theme-declared fields under `cover:` (validated like the
built-in ones), header-table rows with several cells and stacked lines, and the title rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cabinet_reports import InputError, Theme, ThemeError, build, report_from_data
from cabinet_reports.api import render_bytes
from cabinet_reports.renderers.pdf import render_html

ROOT = Path(__file__).resolve().parent.parent


def report(**extra) -> dict:
    data = {"council": {"name": "Test Borough Council"},
            "meeting": {"body": "Cabinet", "date": "2026-01-14", "item": "7"},
            "title": "Test report",
            "sections": {"purpose": ["To test."], "recommendations": ["That Cabinet notes this."]}}
    data.update(extra)
    return data


def theme(tmp_path: Path, text: str) -> Theme:
    (tmp_path / "theme.yaml").write_text(text, encoding="utf-8")
    return Theme(tmp_path)


FIELDS_THEME = """
cover_fields:
  call_in: {label: Subject to call-in, type: bool, required: true}
  scrutiny: {label: Scrutiny date, type: date}
  partners: {label: Partners, type: list}
  enquiries: {label: Enquiries, type: email}
  note: {label: Note, type: text}
kinds:
  report:
    title_block:
      - [council, "{{ council.name }}"]
    details:
      - ["Title", "{{ title }}"]
      - ["Meetings", "{% for m in meetings %}{{ m.body }}, {{ m.date }}\\n{% endfor %}"]
      - {label: Contacts, each: contacts, cells: ["{{ item.name }}\\n{{ item.role }}", "{{ item.phone }}", "{{ item.email }}"]}
      - ["Portfolio holder", "{{ portfolio_holder | join('\\n') }}"]
      - ["Decision maker", "{{ decision_maker }}"]
      - ["Lead officer", "{{ lead_officer | join(', ') }}"]
      - ["Purpose", "{{ purpose }}"]
      - ["Urgency", "{{ urgency }}"]
      - ["Release", "{{ 'Not for publication' if exempt else 'For general release' }}"]
      - ["Call-in", "{{ 'Yes' if cover.call_in else 'No' }}"]
      - ["Scrutiny", "{{ cover.scrutiny }}"]
      - ["Partners", "{{ cover.partners | join('\\n') }}"]
      - ["Enquiries", "{{ cover.enquiries }}"]
      - ["Note", "{{ cover.note }}"]
"""

FULL = dict(
    meetings=[{"body": "Council", "date": "2026-02-01"}, {"body": "Scrutiny", "date": "2026-01-05"}],
    contact={"name": "A Officer", "role": "Manager", "phone": "01234 5", "email": "a@x.gov.uk"},
    contacts=[{"name": "B Officer", "email": "b@x.gov.uk"}],
    portfolio_holder=["Cllr One", "Cllr Two"], decision_maker="Cabinet", lead_officer="Head of Service",
    purpose="decision", urgency="Late: figures arrived on 10 January.",
    cover={"call_in": False, "scrutiny": "2026-01-05", "partners": "Police", "enquiries": "e@x.gov.uk",
           "note": 42},
)


def rows(doc):
    return [(r.label, r.cells, r.span) for r in doc.details]


def test_first_class_and_theme_fields_reach_the_header_table(tmp_path):
    doc = build(report_from_data(report(**FULL)), theme(tmp_path, FIELDS_THEME))
    assert rows(doc) == [
        ("Title", [["Test report"]], 1),
        # All meetings, in date order, one stacked line each.
        ("Meetings", [["Scrutiny, 5th January 2026", "Cabinet, 14th January 2026", "Council, 1st February 2026"]], 1),
        # One row per contact (contact first, then contacts); the label spans them; empty cells stay.
        ("Contacts", [["A Officer", "Manager"], ["01234 5"], ["a@x.gov.uk"]], 2),
        (None, [["B Officer"], [], ["b@x.gov.uk"]], 1),
        ("Portfolio holder", [["Cllr One", "Cllr Two"]], 1),
        ("Decision maker", [["Cabinet"]], 1), ("Lead officer", [["Head of Service"]], 1),
        ("Purpose", [["decision"]], 1), ("Urgency", [["Late: figures arrived on 10 January."]], 1),
        ("Release", [["For general release"]], 1), ("Call-in", [["No"]], 1),
        ("Scrutiny", [["5th January 2026"]], 1), ("Partners", [["Police"]], 1),
        ("Enquiries", [["e@x.gov.uk"]], 1), ("Note", [["42"]], 1)]


def test_a_theme_without_a_title_line_gets_no_forced_title(tmp_path):
    t = theme(tmp_path, FIELDS_THEME)
    doc = build(report_from_data(report(**FULL)), t)
    assert not doc.title_in_block
    html = render_html(doc, t)
    assert "<h1" not in html  # the old template added <h1 class="tb-title"> regardless
    assert 'data-title="Test report"' in html  # the running header still names the report
    docx_bytes = render_bytes(report_from_data(report(**FULL)), "docx", theme=t)
    import io

    import docx
    titles = [p.text for p in docx.Document(io.BytesIO(docx_bytes)).paragraphs if p.style.name == "Title"]
    assert titles == []


def test_a_title_block_without_a_title_line_adds_none(tmp_path):
    # Only the title block changes: the old templates added <h1>Test report</h1> and a DOCX Title.
    import io

    import docx
    t = theme(tmp_path, 'kinds: {report: {title_block: [[council, "{{ council.name }}"]]}}\n')
    data = report_from_data(report())
    assert "<h1" not in render_html(build(data, t), t)
    paragraphs = docx.Document(io.BytesIO(render_bytes(data, "docx", theme=t))).paragraphs
    assert "Test report" not in [p.text for p in paragraphs]


def test_a_theme_can_repeat_the_title_before_the_body(tmp_path):
    t = theme(tmp_path, FIELDS_THEME + "    title_before_body: true\n")
    doc = build(report_from_data(report(**FULL)), t)
    html = render_html(doc, t)
    assert html.count("<h1") == 1
    assert html.index('<h1 class="body-title">Test report</h1>') > html.index('<table class="details wide">')


def test_stacked_lines_and_spans_in_the_pdf_html(tmp_path):
    t = theme(tmp_path, FIELDS_THEME)
    html = render_html(build(report_from_data(report(**FULL)), t), t)
    assert '<th scope="row" rowspan="2">Contacts</th><td>A Officer<br>Manager</td>' in html
    assert '<tr><td>B Officer</td><td></td><td>b@x.gov.uk</td></tr>' in html
    assert '<th scope="row">Decision maker</th><td colspan="3">Cabinet</td>' in html


@pytest.mark.parametrize("cover, field, message", [
    ({"call_in": "yes"}, "cover.call_in", "Subject to call-in: expected true or false"),
    ({"call_in": True, "scrutiny": "next week"}, "cover.scrutiny", "is not a date written YYYY-MM-DD"),
    ({"call_in": True, "enquiries": "nobody"}, "cover.enquiries", "is not an email address"),
    ({"call_in": True, "partners": {"a": 1}}, "cover.partners", "expected a list of text"),
    ({"call_in": True, "note": ""}, "cover.note", "must not be empty"),
    ({"call_in": True, "note": "bad \x07"}, "cover.note", "control character"),
    ({"call_in": True, "colour": "red"}, "cover.colour", "the theme declares no cover field 'colour'"),
    ({}, "cover.call_in", "the theme requires the cover field 'call_in'"),
])
def test_theme_cover_fields_are_validated(tmp_path, cover, field, message):
    with pytest.raises(InputError) as exc:
        build(report_from_data(report(cover=cover)), theme(tmp_path, FIELDS_THEME))
    assert [(p.field, message in p.message) for p in exc.value.problems] == [(field, True)]


def test_cover_without_declarations_is_an_error_naming_the_field():
    with pytest.raises(InputError, match="declares no cover field 'x' .cover fields: none."):
        build(report_from_data(report(cover={"x": "y"})))


def test_a_bad_cover_field_is_exit_2_with_file_and_line(tmp_path):
    (tmp_path / "theme").mkdir()
    theme(tmp_path / "theme", FIELDS_THEME)
    path = tmp_path / "report.yaml"
    path.write_text("council: {name: C}\nmeeting: {body: Cabinet, date: 2026-01-14}\ntitle: T\n"
                    "cover:\n  call_in: maybe\nsections:\n  purpose: [P.]\n  recommendations: [R.]\n",
                    encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "cabinet_reports", "render", "-t", str(tmp_path / "theme"),
                          "-o", str(tmp_path / "out"), str(path)], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip() == (f"make-report: error: {path}:5: cover.call_in: "
                                  "Subject to call-in: expected true or false")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("text, message", [
    ("cover_fields: {Bad-Key: {label: X}}\n", "must be lower-case"),
    ("cover_fields: {x: {label: X, type: colour}}\n", "expected one of: text, date, list, bool, email"),
    ("kinds: {report: {details: [[only-a-label]]}}\n", "needs a label and at least one cell"),
])
def test_bad_theme_cover_declarations_are_theme_errors(tmp_path, text, message):
    with pytest.raises(ThemeError, match=message):
        theme(tmp_path, text)


def test_each_must_name_a_list(tmp_path):
    t = theme(tmp_path, 'kinds: {report: {details: [{label: X, each: title, cells: ["{{ item }}"]}]}}\n')
    with pytest.raises(ThemeError, match="'each: title' is not a list"):
        build(report_from_data(report()), t)


def test_contact_and_contacts_both_work_and_bad_contacts_are_located():
    doc = build(report_from_data(report(contact={"name": "Old Style", "phone": "1"})))
    assert ("Contact officer", [["Old Style"]]) in [(r.label, r.cells) for r in doc.details]
    with pytest.raises(InputError) as exc:
        report_from_data(report(contacts=[{"name": "A", "email": "not-an-email"}]))
    assert exc.value.problems[0].field == "contacts[0].email"
    with pytest.raises(InputError) as exc:
        report_from_data(report(purpose="to decide"))
    assert exc.value.problems[0].field == "purpose"


def test_the_schema_offers_the_theme_cover_fields(tmp_path):
    import jsonschema

    from cabinet_reports.schema import report_schema

    schema = report_schema(theme(tmp_path, FIELDS_THEME))
    cover = schema["properties"]["cover"]
    assert cover["properties"]["call_in"] == {"type": "boolean", "description": "Subject to call-in"}
    assert cover["required"] == ["call_in"]
    validator = jsonschema.Draft202012Validator(schema)
    good = report(cover={"call_in": True, "scrutiny": "2026-01-05"})
    assert not list(validator.iter_errors(good))
    assert list(validator.iter_errors(report(cover={"call_in": True, "colour": "red"})))


@pytest.mark.parametrize("extra", ["", "    title_before_body: true\n"])
def test_the_web_page_always_starts_with_the_title_heading(tmp_path, extra):
    import re

    t = theme(tmp_path, FIELDS_THEME + extra)
    page = render_bytes(report_from_data(report(**FULL, sections={
        "summary": {"place": "cover", "blocks": [{"text": "In short."}]},
        "purpose": ["P."], "recommendations": ["R."]})), "html", theme=t).decode()
    headings = re.findall(r"<h([1-6])[^>]*>([^<]*)", page)
    assert headings[0] == ("1", "Test report")
    assert [level for level, _ in headings].count("1") == 1
    assert "In short." in page


def test_running_header_names_the_report_without_a_title_heading(tmp_path):
    from readers import pdftotext

    t = theme(tmp_path, 'kinds: {report: {title_block: [[council, "{{ council.name }}"]]}}\n')
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(render_bytes(report_from_data(report()), "pdf", theme=t))
    lines = [line for line in pdftotext(pdf, page=1).splitlines() if line.strip()]
    assert lines[0] == "Test report"  # the running header
    assert lines.count("Test report") == 1  # and no title line in the body


def test_cover_sections_sit_before_or_after_the_header_table(tmp_path):
    t = theme(tmp_path, """
sections:
  - {key: exempt_note, title: "Note: exempt information", place: cover-top, box: true}
  - {key: summary, title: Executive Summary, place: cover}
  - {key: purpose, title: PURPOSE}
  - {key: recommendations, title: RECOMMENDATIONS}
""")
    data = report_from_data(report(sections={
        "exempt_note": [{"text": "Appendix 2 is exempt."}], "summary": [{"table": {"header": ["A"], "rows": [["1"]]}}],
        "purpose": ["P."], "recommendations": ["R."]}))
    doc = build(data, t)
    assert [(s.key, s.number, s.place, s.box) for s in doc.sections] == [
        ("exempt_note", None, "cover-top", True), ("summary", None, "cover", False),
        ("purpose", "1.0", "body", False), ("recommendations", "2.0", "body", False)]
    html = render_html(doc, t)
    order = [html.index(marker) for marker in ('section-exempt_note cover-section box', '<table class="details',
                                               'section-summary cover-section', "<main>", "1.0 PURPOSE")]
    assert order == sorted(order)
    import io

    import docx
    body = [p.text for p in docx.Document(io.BytesIO(render_bytes(data, "docx", theme=t))).paragraphs]
    assert body.index("Note: exempt information") < body.index("Report details") < body.index("Executive Summary")
