"""The sign-off record (clearances): validated like any field, checked by `check` and `pack`, and
printed only as the theme says — through the document model, so the PDF (pdftotext), the DOCX
(python-docx and LibreOffice) and the web page read back the same rows.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cabinet_reports import Theme
from cabinet_reports.api import build, load_report, render_bytes, render_report
from cabinet_reports.document import TableBlock
from cabinet_reports.errors import ThemeError
from cabinet_reports.lint import clearance_findings
from cabinet_reports.schema import report_schema
from cabinet_reports.starter import write_starter
from pack_inputs import run_cli
from readers import normalise, pdftotext, table_rows

ROOT = Path(__file__).resolve().parent.parent
DUDLEY = ROOT / "examples" / "dudley-2005-partnership-strategy"
README = (ROOT / "README.md").read_text(encoding="utf-8")

# A report: REPORT % key_decision; its clearances follow.
REPORT = """council: {name: Test Borough Council}
meeting: {body: Cabinet, date: 2026-03-10}
title: Leisure Centre Replacement
key_decision: %s
sections:
  purpose: [To decide the future of the leisure centre.]
  recommendations: [That Cabinet approves option 3.]
"""
CLEARED = """clearances:
  - {kind: finance, name: Jo Analyst, role: Finance Business Partner, date: 2026-02-24}
  - {kind: legal, name: Priya Lawyer, role: Deputy Monitoring Officer, date: 2026-02-25, reference: "LS/2026/031"}
"""
# Other lint checks off, so a finding printed is a clearance finding.
QUIET = "lint:\n  checks: {sections: off, background_papers: off, readability: off, acronyms: off}\n"
REQUIRING = QUIET + """clearances:
  kinds: {section_151: Section 151 officer}
  required: [finance, legal, {kind: portfolio_holder, when: key_decision}]
"""


def theme_dir(tmp_path: Path, text: str, name: str = "theme") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "theme.yaml").write_text(text, encoding="utf-8")
    return folder


def write(tmp_path: Path, text: str, name: str = "report.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the built-in theme
def test_built_in_theme_keeps_clearances_out_of_pdf_docx_and_web_page(tmp_path):
    """The seed examples reproduce exactly: a record the theme does not print changes no byte."""
    copy = write(tmp_path, (DUDLEY / "report.yaml").read_text(encoding="utf-8") + CLEARED.replace("2026", "2005")
                 .replace("-02-2", "-03-0"))
    plain, cleared = load_report(DUDLEY / "report.yaml"), load_report(copy)
    assert [c.name for c in cleared.clearances] == ["Jo Analyst", "Priya Lawyer"]
    for fmt in ("pdf", "docx", "html"):
        assert render_bytes(cleared, fmt) == render_bytes(plain, fmt), fmt
    # …and the built-in theme requires none, so check finds nothing to say about them.
    assert clearance_findings(plain, Theme()) == []


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("entry, line, field, message", [
    ("  - {kind: finanse, name: Jo Analyst, role: Finance Business Partner}", 9, "clearances[0].kind",
     "unknown clearance kind 'finanse' (did you mean 'finance'?): the theme's kinds are finance, legal, "
     "portfolio_holder, chief_executive, hr, procurement, equalities, section_151"),
    ("  - {kind: section_151, name: Jo Analyst}", 9, "clearances[0].role", "missing"),
    ("  - {kind: finance, name: Jo Analyst, role: CFO, date: 1705-02-24}", 9, "clearances[0].date",
     "the date 1705-02-24 is before 1800"),
    ("  - Finance cleared by Jo", 9, "clearances[0]", "a clearance is a mapping such as {kind: finance"),
])
@pytest.mark.parametrize("form", ["yaml", "md"])
def test_a_bad_clearance_is_one_located_line_in_yaml_and_markdown(tmp_path, entry, line, field, message, form):
    theme = theme_dir(tmp_path, REQUIRING)
    text = REPORT % "false" + "clearances:\n" + entry + "\n"
    if form == "md":  # the same fields as front matter, the sections as the Markdown body
        head = (REPORT % "false").split("sections:")[0]
        text = ("---\n" + head + "clearances:\n" + entry + "\n---\n\n# Purpose\n\nTo decide.\n\n"
                "# Recommendations\n\nThat Cabinet approves.\n")
        line = 7
    path = write(tmp_path, text, f"report.{form}")
    code, out, err = run_cli("check", "--theme", str(theme), str(path))
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    prefix = f"make-report: error: {path}:{line}: {field}: "
    assert err.startswith(prefix) and message in err[len(prefix):]


def test_json_clearances_are_located_too(tmp_path):
    data = {"council": {"name": "C"}, "meeting": {"body": "Cabinet", "date": "2026-03-10"}, "title": "T",
            "sections": {"purpose": ["P."], "recommendations": ["R."]},
            "clearances": [{"kind": "legal", "name": "Priya Lawyer", "role": "Monitoring Officer",
                            "date": "2026-02-31"}]}
    path = write(tmp_path, json.dumps(data, indent=2), "report.json")
    code, _, err = run_cli("check", str(path))
    line = json.dumps(data, indent=2).splitlines().index('      "date": "2026-02-31"') + 1
    assert code == 2 and err.startswith(f"make-report: error: {path}:{line}: clearances[0].date: ")


def test_markdown_front_matter_gives_the_same_record_as_yaml(tmp_path):
    yaml_path = write(tmp_path, REPORT % "false" + CLEARED)
    md = "---\n" + (REPORT % "false").split("sections:")[0] + CLEARED + "---\n\n# Purpose\n\n" \
         "To decide the future of the leisure centre.\n\n# Recommendations\n\nThat Cabinet approves option 3.\n"
    md_path = write(tmp_path, md, "report.md")
    theme = Theme(theme_dir(tmp_path, REQUIRING + "  print: details\n"))
    from_yaml, from_md = load_report(yaml_path, theme), load_report(md_path, theme)
    assert from_md.clearances == from_yaml.clearances
    assert build(from_md, theme).details == build(from_yaml, theme).details


# --------------------------------------------------------------------------- check
def test_check_reports_missing_undated_and_late_clearances_one_located_line_each(tmp_path):
    theme = theme_dir(tmp_path, REQUIRING)
    path = write(tmp_path, REPORT % '"FP/112/01/26"' + """clearances:
  - {kind: finance, name: Jo Analyst, role: Finance Business Partner, date: 2026-03-12}
  - {kind: section_151, name: Sam Treasurer, role: Section 151 Officer}
""")
    code, out, err = run_cli("check", "--theme", str(theme), str(path))
    assert code == 0 and out == f"{path}: ok\n"  # warnings: the check passes
    assert err.splitlines() == [
        f"{path}:8: clearances: warning: the Legal clearance is missing: the theme requires it for every report; "
        "add {kind: legal, name: …, role: …, date: YYYY-MM-DD} under clearances [clearances]",
        f"{path}:8: clearances: warning: the Portfolio holder clearance is missing: the theme requires it for a key "
        "decision; add {kind: portfolio_holder, name: …, role: …, date: YYYY-MM-DD} under clearances [clearances]",
        f"{path}:9: clearances[0].date: warning: the Finance clearance is dated 2026-03-12, after the meeting's date "
        "2026-03-10: a report is cleared before it goes out [clearances]",
        f"{path}:10: clearances[1]: warning: the Section 151 officer clearance (Sam Treasurer) has no date: add the "
        "date it was given, YYYY-MM-DD [clearances]",
    ]
    assert run_cli("check", "--strict", "--theme", str(theme), str(path))[0] == 2
    code, out, _ = run_cli("check", "--format", "json", "--theme", str(theme), str(path))
    found = json.loads(out)
    assert code == 0 and [(f["line"], f["field"], f["check"], f["severity"]) for f in found] == [
        (8, "clearances", "clearances", "warning"), (8, "clearances", "clearances", "warning"),
        (9, "clearances[0].date", "clearances", "warning"), (10, "clearances[1]", "clearances", "warning")]


def test_only_a_key_decision_needs_the_key_decision_clearances_and_a_complete_record_is_quiet(tmp_path):
    theme = theme_dir(tmp_path, REQUIRING)
    path = write(tmp_path, REPORT % "false" + CLEARED)
    assert run_cli("check", "--strict", "--theme", str(theme), str(path)) == (0, f"{path}: ok\n", "")
    path = write(tmp_path, REPORT % "true" + CLEARED)
    code, _, err = run_cli("check", "--theme", str(theme), str(path))
    assert "the Portfolio holder clearance is missing" in err and len(err.splitlines()) == 2  # with forward_plan


def test_a_report_is_cleared_by_its_meeting_date_not_its_own_issue_date(tmp_path):
    theme = Theme(theme_dir(tmp_path, REQUIRING))
    text = REPORT % "false" + "date: 2026-03-01\n" + CLEARED.replace("2026-02-25", "2026-03-05")
    assert clearance_findings(load_report(write(tmp_path, text), theme), theme) == []


def test_a_briefing_note_needs_no_clearances_but_its_own_are_still_dated_checked(tmp_path):
    theme = theme_dir(tmp_path, REQUIRING)
    path = write(tmp_path, """kind: note
council: {name: Test Borough Council}
date: 2026-03-10
title: Progress note
sections:
  progress: {heading: Progress, blocks: [Work is on time.]}
clearances:
  - {kind: finance, name: Jo Analyst, role: Finance Business Partner, date: 2026-03-11}
""")
    code, _, err = run_cli("check", "--theme", str(theme), str(path))
    assert code == 0 and err.splitlines() == [
        f"{path}:8: clearances[0].date: warning: the Finance clearance is dated 2026-03-11, after the note's date "
        "2026-03-10: a report is cleared before it goes out [clearances]"]


def test_the_theme_can_make_missing_clearances_an_error_or_switch_them_off(tmp_path):
    strict = theme_dir(tmp_path, REQUIRING.replace("acronyms: off}", "acronyms: off, clearances: error}"), "strict")
    off = theme_dir(tmp_path, REQUIRING.replace("acronyms: off}", "acronyms: off, clearances: off}"), "off")
    path = write(tmp_path, REPORT % "false")
    code, out, err = run_cli("check", "--theme", str(strict), str(path))
    assert code == 2 and out == "" and err.count("error: the ") == 2 and "[clearances]" in err
    assert run_cli("check", "--strict", "--theme", str(off), str(path)) == (0, f"{path}: ok\n", "")


# --------------------------------------------------------------------------- pack
MEETING = ("council: Test Borough Council\nbody: Cabinet\ndate: 2026-03-10\ntime: \"10.00 am\"\n"
           "venue: Town Hall\ncontact: {name: Democratic Services}\nitems:\n  - {report: report.yaml}\n")


def test_pack_refuses_a_report_without_required_clearances_when_the_theme_says_error(tmp_path):
    theme = theme_dir(tmp_path, REQUIRING.replace("acronyms: off}", "acronyms: off, clearances: error}"))
    path = write(tmp_path, REPORT % "false" + CLEARED.split("  - {kind: legal")[0])
    meeting = write(tmp_path, MEETING, "meeting.yaml")
    code, out, err = run_cli("pack", "--theme", str(theme), str(meeting), "-o", str(tmp_path / "out"), "--quiet")
    assert code == 2 and out == ""
    assert err.splitlines() == [f"make-report: error: {path}:8: clearances: the Legal clearance is missing: the theme "
                                "requires it for every report; add {kind: legal, name: …, role: …, date: YYYY-MM-DD} "
                                "under clearances"]
    assert not (tmp_path / "out").exists()


def test_pack_warns_about_a_missing_clearance_and_builds(tmp_path):
    theme = theme_dir(tmp_path, REQUIRING)
    path = write(tmp_path, REPORT % "false" + CLEARED.split("  - {kind: legal")[0])
    meeting = write(tmp_path, MEETING, "meeting.yaml")
    code, _, err = run_cli("pack", "--theme", str(theme), str(meeting), "-o", str(tmp_path / "out"), "--quiet",
                           "--no-cache")
    assert code == 0, err
    # Only the clearance lines: other pack warnings (consistency with the meeting) are not this test's.
    assert [line for line in err.splitlines() if "clearance" in line] == [
        f"make-report: warning: {path}:8: clearances: the Legal clearance is missing: the theme requires it for every "
        "report; add {kind: legal, name: …, role: …, date: YYYY-MM-DD} under clearances"]
    assert (tmp_path / "out" / "public-pack.pdf").is_file()


def test_pack_judges_clearances_by_its_own_meeting_date(tmp_path):
    # To scrutiny on 24 February, then to this Cabinet on 10 March: cleared on 25 February is in time.
    theme = theme_dir(tmp_path, REQUIRING)
    text = (REPORT % "false").replace("meeting: {body: Cabinet, date: 2026-03-10}",
                                      "meeting: {body: Scrutiny Committee, date: 2026-02-24}\n"
                                      "meetings: [{body: Scrutiny Committee, date: 2026-02-24}, "
                                      "{body: Cabinet, date: 2026-03-10}]")
    path = write(tmp_path, text + CLEARED)
    meeting = write(tmp_path, MEETING, "meeting.yaml")
    code, _, err = run_cli("pack", "--theme", str(theme), str(meeting), "-o", str(tmp_path / "out"), "--quiet",
                           "--no-cache")
    assert code == 0, err
    assert [line for line in err.splitlines() if "clearance" in line] == []
    # `check` of the report alone judges by the first meeting it names, the scrutiny one.
    code, _, err = run_cli("check", "--theme", str(theme), str(path))
    assert "after the meeting's date 2026-02-24" in err


# --------------------------------------------------------------------------- printing
class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


ROWS = [["Finance", "Jo Analyst", "Finance Business Partner", "24th February 2026"],
        ["Legal", "Priya Lawyer", "Deputy Monitoring Officer", "25th February 2026"]]


def test_print_details_adds_header_table_rows_that_read_back_alike_in_every_format(tmp_path, libreoffice):
    import docx

    theme = theme_dir(tmp_path, REQUIRING + "  print: details\n")
    path = write(tmp_path, REPORT % "false" + CLEARED)
    files = render_report(path, tmp_path / "out", formats=("pdf", "docx", "html"), theme=theme)
    table = docx.Document(files["docx"]).tables[0]
    cells = [[c.text for c in row.cells] for row in table.rows]
    # The label heads the first clearance row and spans the second (a vertical merge, as the PDF's rowspan).
    assert [row for row in cells if row[0] == "Clearances"] == [["Clearances", *r] for r in ROWS]
    want = [["Clearances", *ROWS[0]], ["", *ROWS[1]]]
    assert table_rows(files["pdf"], "Clearances", 2) == want
    assert table_rows(libreoffice([files["docx"]])[0], "Clearances", 2) == want
    rows = " ".join(" ".join(r) for r in ROWS)
    page = _Text()
    page.feed(files["html"].read_text(encoding="utf-8"))
    assert "Clearances " + rows in normalise(" ".join(page.parts))


def test_a_theme_can_lay_out_its_own_header_rows_from_the_clearances_variable(tmp_path):
    theme = Theme(theme_dir(tmp_path, REQUIRING + """kinds:
  report:
    details:
      - ["Wards affected", "{{ wards | join(', ') }}"]
      - {label: "Signed off by", each: clearances, cells: ["{{ item.label }}: {{ item.name }}", "{{ item.date }}"]}
"""))
    doc = build(load_report(write(tmp_path, REPORT % "false" + CLEARED), theme), theme)
    assert [(row.label, row.cells, row.span) for row in doc.details] == [
        ("Signed off by", [["Finance: Jo Analyst"], ["24th February 2026"]], 2),
        (None, [["Legal: Priya Lawyer"], ["25th February 2026"]], 1)]


def test_print_section_ends_the_theme_section_with_the_table(tmp_path):
    sections = "sections:\n  - {key: purpose, title: PURPOSE, required: true}\n  - {key: recommendations, title: " \
               "RECOMMENDATIONS, required: true}\n  - {key: sign_off, title: SIGN-OFF, numbered: false}\n"
    theme = Theme(theme_dir(tmp_path, sections + REQUIRING + "  print: section\n  section: sign_off\n"
                            "  columns: [[kind, Clearance], [name, Name], [reference, Reference]]\n"))
    doc = build(load_report(write(tmp_path, REPORT % "false" + CLEARED), theme), theme)
    last = doc.sections[-1]
    assert (last.key, last.number, last.heading) == ("sign_off", None, "SIGN-OFF")
    [table] = last.blocks
    assert isinstance(table, TableBlock)
    text = [["".join(s.text for s in cell) for cell in row] for row in [table.header, *table.rows]]
    assert text == [["Clearance", "Name", "Reference"], ["Finance", "Jo Analyst", ""],
                    ["Legal", "Priya Lawyer", "LS/2026/031"]]
    # Text the report writes in the section stays, the table after it; no clearances, no table.
    own = REPORT % "false" + "  sign_off: [{text: Cleared by the officers below.}]\n" + CLEARED
    blocks = build(load_report(write(tmp_path, own), theme), theme).sections[-1].blocks
    assert [b.kind for b in blocks] == ["para", "table"]
    assert [s.key for s in build(load_report(write(tmp_path, REPORT % "false"), theme), theme).sections] == \
        ["purpose", "recommendations"]


def test_the_readme_snippets_print_the_clearances(tmp_path):
    theme_text = README.split("# a council's theme.yaml: clearances", 1)[1].split("```", 1)[0]
    report_text = README.split("# a report: its clearances", 1)[1].split("```", 1)[0]
    theme = theme_dir(tmp_path, theme_text)
    path = write(tmp_path, REPORT % "false" + report_text.replace("2026-02-27", "2026-02-28"))
    assert run_cli("check", "--theme", str(theme), str(path))[0] == 0
    files = render_report(path, tmp_path / "out", formats=("pdf",), theme=theme)
    text = normalise(pdftotext(files["pdf"]))
    assert "Clearances Finance Jo Analyst Finance Business Partner 24th February 2026" in text
    assert "Portfolio holder Councillor A. Example Portfolio Holder for Leisure 28th February 2026" in text


# --------------------------------------------------------------------------- theme, schema, starter
@pytest.mark.parametrize("text, line, field, message", [
    ("clearances:\n  required: [finance, legall]\n", 2, "clearances.required[1]",
     "'legall' is not a clearance kind of the theme"),
    ("clearances:\n  print: section\n  section: sign_off\n", 3, "clearances.section",
     "print: section needs `section:` to name one of the theme's sections"),
    ("clearances:\n  kinds: {Section-151: S151}\n", 2, "clearances.kinds", "must be lower-case letters"),
])
def test_a_bad_clearances_key_in_a_theme_is_a_located_error(tmp_path, text, line, field, message):
    theme = theme_dir(tmp_path, text)
    with pytest.raises(ThemeError) as raised:
        Theme(theme)
    [problem] = raised.value.problems
    assert (problem.file, problem.line, problem.field) == (str(theme / "theme.yaml"), line, field)
    assert message in problem.message


def test_schema_offers_the_theme_kinds_and_refuses_others(tmp_path):
    import jsonschema

    schema = report_schema(Theme(theme_dir(tmp_path, REQUIRING)))
    kind = schema["$defs"]["Clearance"]["properties"]["kind"]
    assert kind["enum"][-1] == "section_151" and "finance (Finance, required)" in kind["description"]
    assert "portfolio_holder (Portfolio holder, required for a key decision)" in kind["description"]
    validator = jsonschema.Draft202012Validator(schema)
    report = {"council": {"name": "C"}, "meeting": {"body": "Cabinet", "date": "2026-03-10"}, "title": "T",
              "sections": {"purpose": ["P."], "recommendations": ["R."]},
              "clearances": [{"kind": "section_151", "name": "N", "role": "R", "date": "2026-03-01"}]}
    assert validator.is_valid(report)
    report["clearances"][0]["kind"] = "finanse"
    assert not validator.is_valid(report)


def test_the_cover_table_schema_accepts_its_example_with_clearances():
    import jsonschema
    import yaml

    folder = ROOT / "examples" / "themes" / "cover-table"
    validator = jsonschema.Draft202012Validator(report_schema(Theme(folder)))
    # As an editor reads YAML 1.2: dates are strings.
    data = json.loads(json.dumps(yaml.safe_load((folder / "report.yaml").read_text(encoding="utf-8")), default=str))
    assert [c["kind"] for c in data["clearances"]] == ["finance", "legal", "portfolio_holder"]
    assert [e.message for e in validator.iter_errors(data)] == []


@pytest.mark.parametrize("suffix", [".yaml", ".md"])
def test_make_report_new_writes_the_required_clearances_as_placeholders_that_pass_check(tmp_path, suffix):
    folder = theme_dir(tmp_path, REQUIRING.replace("acronyms: off}", "acronyms: off, clearances: error}"))
    path = write_starter(tmp_path / f"starter{suffix}", Theme(folder))
    text = path.read_text(encoding="utf-8")
    assert "  - {kind: finance, name: \"[Insert who cleared it for finance]\"" in text
    assert "  - {kind: legal, " in text and "# A key decision also needs: portfolio_holder." in text
    code, out, err = run_cli("check", "--theme", str(folder), str(path))
    assert code == 0 and out == f"{path}: ok\n"
    assert "[clearances]" not in err and "[placeholders]" in err  # only the placeholders are left to fill in
