"""Report lint (`make-report check`): each check fires on a purpose-built bad report and stays
quiet on the good one; severities come from the theme; --strict and --format json work through
the real command line.

Expected lines are found in the test's own YAML text (the line holding a marker), and reading
ease is recomputed with textstat from the test's own sentence, so neither comes from the code
under test. The length check is compared with the page where pdftotext finds Appendix 1.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import textstat

from cabinet_reports.api import prepare, render_report, resolve_theme
from cabinet_reports.cli import main
from cabinet_reports.errors import ThemeError
from cabinet_reports.lint import Finding, lint_report, placeholder_matcher, spells, word_count
from cabinet_reports.theme import LINT_CHECKS
from readers import normalise, pdfinfo, pdftotext

ROOT = Path(__file__).resolve().parent.parent

# A short, plainly written cabinet report that every check passes. Its background is long
# enough to be scored for readability, uses a spelt-out acronym (LGA) and two known ones (UK,
# VAT), a link with meaningful text and a bare web address as link text.
GOOD = """\
kind: report
council:
  name: Testshire County Council
meeting:
  body: Cabinet
  date: 2026-01-14
title: Library opening hours
report_of: [the Director of Communities]
key_decision: {key: true, forward_plan: FP/2026/014}
sections:
  purpose:
    - p: To ask Cabinet to agree new opening hours for the town library.
  background:
    - p: >-
        The library is open five days a week. Most people visit after school and on Saturdays.
        We asked people what they want. Many said they would like the library to open on Sunday
        mornings. Staff can work the new hours at no extra cost.
    - p: >-
        The Local Government Association (LGA) has advice on library hours. The LGA says
        councils should ask people first. Read [the LGA advice on library hours](https://www.local.gov.uk/libraries)
        or go to [https://www.local.gov.uk](https://www.local.gov.uk).
  finance:
    - p: There is no extra cost. The UK rate of VAT does not change.
  law:
    - p: The council must run a library service under the Public Libraries and Museums Act 1964.
  equalities:
    - p: Longer hours help people who work in the week.
  recommendations:
    - p: That Cabinet agrees the new opening hours.
  background_papers:
    - p: There are no background papers.
"""


def replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, marker: str) -> int:
    """Return the line of the test's own YAML that holds ``marker`` (1-based)."""
    lines = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(lines) == 1, marker
    return lines[0]


def write_theme(folder: Path, yaml_text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "theme.yaml").write_text(yaml_text, encoding="utf-8")
    return folder


def lint_text(tmp_path: Path, text: str, theme: Path | None = None, name: str = "report.yaml") -> list[Finding]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    resolved = resolve_theme(theme)
    job = prepare(path, resolved)
    return lint_report(job.report, job.doc, resolved, job.options)


def only(findings: list[Finding], check: str) -> list[Finding]:
    assert {f.check for f in findings} <= {check}, [str(f) for f in findings]
    return findings


# --------------------------------------------------------------------------- the good report
def test_the_good_report_has_no_findings_and_check_prints_what_it_always_did(tmp_path, capsys):
    assert lint_text(tmp_path, GOOD) == []
    # Every quiet check below is meaningful: the background really is scored for readability.
    background = "The library is open five days a week. Most people visit after school and on Saturdays."
    assert word_count(GOOD.split("background:")[1].split("finance:")[0]) >= 40
    assert textstat.flesch_reading_ease(background) >= 30
    path = tmp_path / "report.yaml"
    assert main(["check", str(path), "--strict"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{path}: ok\n" and captured.err == ""


def test_every_check_of_the_built_in_theme_is_on_except_length():
    checks = resolve_theme(None).config.lint.checks
    assert set(checks) == set(LINT_CHECKS)
    assert {name for name, severity in checks.items() if severity == "off"} == {"length"}


# --------------------------------------------------------------------------- one test per check
def test_sections_an_expected_section_missing_or_without_text(tmp_path):
    text = replace(GOOD, "  law:\n    - p: The council must run a library service under the Public Libraries and "
                         "Museums Act 1964.\n", "")
    [missing] = only(lint_text(tmp_path, text), "sections")
    assert (missing.field, missing.line, missing.severity) == ("sections.law", line_of(text, "sections:"), "warning")
    assert "LAW section is missing" in missing.message

    text = replace(GOOD, "    - p: Longer hours help people who work in the week.", "    - heading: Equality")
    [empty] = only(lint_text(tmp_path, text), "sections")
    assert (empty.field, empty.line) == ("sections.equalities", line_of(text, "equalities:"))
    assert "EQUALITY IMPLICATIONS section has headings but no text" in empty.message


def test_sections_a_briefing_note_needs_no_implications_sections(tmp_path):
    note = ("kind: note\ncouncil: {name: Testshire County Council}\ndate: 2026-01-14\ntitle: Library hours\n"
            "sections:\n  update:\n    heading: Update\n    blocks:\n      - text: The library now opens on Sundays.\n")
    assert lint_text(tmp_path, note) == []


SENTENCES = ("The library will open on Sunday mornings from ten until one. Staff will work the new hours by "
             "moving a weekday shift. People told us this is the time they can visit with their children. We "
             "will count visits for a year and report back to Cabinet.")


def paragraphs(count: int, key: str = "p", indent: int = 4) -> str:
    """Return ``count`` copies of a plain paragraph as YAML blocks at ``indent``."""
    return f"{' ' * indent}- {key}: {SENTENCES}\n" * count


APPENDIX = "appendices:\n  - title: Survey results\n    blocks:\n" + paragraphs(1, "text", 6)


def test_length_counts_sides_before_the_first_appendix(tmp_path):
    theme = write_theme(tmp_path / "theme", "lint:\n  checks: {length: warning}\n  max_sides: 2\n")
    # Long in the body: too long, and the count is the page where the appendix starts, less one.
    long_body = replace(GOOD, "  finance:\n", paragraphs(40) + "  finance:\n") + APPENDIX
    [finding] = only(lint_text(tmp_path, long_body, theme, "long.yaml"), "length")
    sides = int(re.search(r"runs to (\d+) A4 sides", finding.message).group(1))
    pdf = render_report(tmp_path / "long.yaml", tmp_path / "out", formats=["pdf"], theme=theme)["pdf"]
    pages = int(pdfinfo(pdf)["Pages"])
    appendix_page = next(n for n in range(1, pages + 1)
                         if "Appendix 1: Survey results" in normalise(pdftotext(pdf, page=n)))
    assert sides == appendix_page - 1 > 2
    assert (finding.field, finding.line) == ("sections", line_of(long_body, "sections:"))
    assert "the theme's limit is 2" in finding.message

    # Long only in its appendices: the body fits, so nothing to say.
    long_appendix = GOOD + APPENDIX + paragraphs(40, "text", 6)
    assert lint_text(tmp_path, long_appendix, theme, "appendix.yaml") == []
    pdf = render_report(tmp_path / "appendix.yaml", tmp_path / "out", formats=["pdf"], theme=theme)["pdf"]
    assert int(pdfinfo(pdf)["Pages"]) > 3


def test_length_is_not_laid_out_when_off(tmp_path, monkeypatch):
    import cabinet_reports.renderers.pdf as pdf

    def no_layout(*args, **kwargs):
        raise AssertionError("laid out although the length check is off")
    monkeypatch.setattr(pdf, "layout", no_layout)
    assert lint_text(tmp_path, GOOD) == []


def test_word_count_of_the_purpose(tmp_path):
    long_purpose = " ".join(["To agree new opening hours for the library."] * 13)
    text = replace(GOOD, "    - p: To ask Cabinet to agree new opening hours for the town library.",
                   f"    - p: {long_purpose}")
    [finding] = only(lint_text(tmp_path, text), "word_count")
    assert (finding.field, finding.line) == ("sections.purpose", line_of(text, "purpose:"))
    assert f"has {len(long_purpose.split())} words; the theme's limit is 100" in finding.message


HARD = ("The implementation of the aforementioned organisational restructuring methodology necessitates "
        "comprehensive consideration of interdepartmental accountability arrangements, notwithstanding the "
        "considerable administrative complexity associated with harmonising established operational "
        "procedures across geographically dispersed organisational subdivisions, and furthermore requires the "
        "systematic evaluation of institutional governance responsibilities by appropriately qualified "
        "professional representatives.")


def test_readability_names_the_score_and_the_longest_sentence(tmp_path):
    text = replace(GOOD, "    - p: The council must run a library service under the Public Libraries and Museums Act 1964.",
                   f"    - p: The council must run a library service.\n    - p: {HARD}")
    [finding] = only(lint_text(tmp_path, text), "readability")
    assert (finding.field, finding.line) == ("sections.law", line_of(text, "law:"))
    expected = textstat.flesch_reading_ease("The council must run a library service. " + HARD)
    assert expected < 30
    assert f"Flesch reading ease {expected:.0f}, below the theme's 30" in finding.message
    assert f"{len(HARD.split())} words at line {line_of(text, 'implementation')}" in finding.message
    assert "'The implementation of the aforementioned organisational restructuring methodology…'" \
        in finding.message


def test_readability_leaves_short_sections_unscored(tmp_path):
    short_hard = " ".join(HARD.split()[:20]) + "."
    text = replace(GOOD, "    - p: The council must run a library service under the Public Libraries and Museums Act 1964.",
                   f"    - p: {short_hard}")
    assert textstat.flesch_reading_ease(short_hard) < 30
    assert lint_text(tmp_path, text) == []


def test_acronyms_used_before_being_spelt_out_or_never(tmp_path):
    text = replace(GOOD, "to agree new opening hours for the town library.",
                   "to agree new opening hours for the town library, as the LGA advises.")
    [early] = only(lint_text(tmp_path, text), "acronyms")
    assert (early.field, early.line) == ("sections.purpose[0].p", line_of(text, "as the LGA advises"))
    # The definition is in a folded paragraph (p: >-): its line is the line of its p: key.
    assert f"'LGA' is used before it is spelt out at line {line_of(text, 'Association (LGA)') - 1}" in early.message

    text = replace(GOOD, "There is no extra cost.", "A SWOT analysis found no extra cost.")
    [never] = only(lint_text(tmp_path, text), "acronyms")
    assert (never.field, never.line) == ("sections.finance[0].p", line_of(text, "SWOT"))
    assert "'SWOT' is never spelt out" in never.message

    # Quiet: spelt out the other way round, Roman numerals, a line in capitals.
    quiet = replace(text, "A SWOT analysis", "A SWOT (strengths, weaknesses, opportunities and threats) analysis")
    quiet = replace(quiet, "under the Public Libraries", "under Part II of the Public Libraries")
    quiet = replace(quiet, "    - p: There are no background papers.",
                    "    - heading: LIST OF PAPERS FOR THE CABINET\n    - p: There are no background papers.")
    assert lint_text(tmp_path, quiet) == []


def test_acronyms_the_theme_knows_need_no_spelling_out(tmp_path):
    text = replace(GOOD, "There is no extra cost.", "A SWOT analysis found no extra cost.")
    theme = write_theme(tmp_path / "theme", "lint:\n  acronyms: {SWOT: ~}\n")
    assert lint_text(tmp_path, text, theme) == []
    # The theme's mapping adds to the built-in one: UK and VAT are still known.
    assert {"UK", "VAT", "SWOT"} <= set(resolve_theme(theme).config.lint.acronyms)


@pytest.mark.parametrize(("words", "acronym", "expected"), [
    ("Information and Communications Technology", "ICT", True),
    ("Greenhouse Gas", "GHG", True),
    ("Closed circuit television", "CCTV", True),
    ("Department for Work and Pensions", "DWP", True),
    ("the council", "MBS", False),
    ("Local Government", "LGA", False),
])
def test_spelt_out_matches_initials(words, acronym, expected):
    assert spells(acronym, words.lower().split()) is expected


def test_placeholders_anywhere_in_the_report(tmp_path):
    text = replace(GOOD, "title: Library opening hours", "title: \"[Insert the title]\"")
    text = replace(text, "There is no extra cost.", "The cost is TBC.")
    text = replace(text, "Staff can work the new hours at no extra cost.", "Staff cost £XXm.")
    text = replace(text, "    - p: There are no background papers.",
                   "    - p: Lorem ipsum dolor sit amet.")
    findings = only(lint_text(tmp_path, text), "placeholders")
    assert [(f.field, f.line) for f in findings] == [
        ("title", line_of(text, "[Insert the title]")),
        ("sections.background[0].p", line_of(text, "The library is open") - 1),  # its p: >- line
        ("sections.finance[0].p", line_of(text, "TBC")),
        ("sections.background_papers[0].p", line_of(text, "Lorem")),
    ]
    assert 'placeholder text left in: "[Insert the title]"' in findings[0].message
    assert "TBC" in findings[2].message and "£XXm" in findings[1].message

    quiet = replace(GOOD, "There is no extra cost.", "There is no extra cost to Tbc Ltd or to Xxon plc.")
    assert lint_text(tmp_path, quiet) == []


@pytest.mark.parametrize(("text", "found"), [
    ("£XXm", "XX"), ("in 20XX", "XX"), ("XXX", "XX"), ("EXXON", None), ("Date: [Insert date]", "[Insert"),
    ("TBC.", "TBC"), ("Tbc Ltd", None), ("lorem ipsum", "lorem ipsum"),
])
def test_placeholder_patterns_in_capitals_match_only_capitals_not_after_a_letter(text, found):
    match = placeholder_matcher(("[insert", "TBC", "XX", "Lorem ipsum"))(text)
    assert (match.group() if match else None) == found


def test_link_text_that_does_not_say_where_it_goes(tmp_path):
    text = replace(GOOD, "Read [the LGA advice on library hours](https://www.local.gov.uk/libraries)",
                   "[Click here](https://www.local.gov.uk/libraries) for the advice, or [here](https://x.example)")
    findings = only(lint_text(tmp_path, text), "link_text")
    assert [f.field for f in findings] == ["sections.background[1].p"] * 2
    assert "'Click here' does not say where it goes (https://www.local.gov.uk/libraries)" in findings[0].message
    assert "'here'" in findings[1].message


def test_forward_plan_of_a_key_decision(tmp_path):
    text = replace(GOOD, "key_decision: {key: true, forward_plan: FP/2026/014}", "key_decision: true")
    [finding] = only(lint_text(tmp_path, text), "forward_plan")
    assert (finding.field, finding.line) == ("key_decision", line_of(text, "key_decision"))
    assert "forward plan reference" in finding.message
    assert lint_text(tmp_path, replace(GOOD, "{key: true, forward_plan: FP/2026/014}", "false")) == []


def test_split_names_a_role_and_a_name_yaml_split_at_the_comma(tmp_path):
    # The issue's example: one officer written in [ ] with a comma reads as two entries.
    text = replace(GOOD, "report_of: [the Director of Communities]",
                   "report_of: [Executive Director of Place, Paul Johnston]")
    [finding] = only(lint_text(tmp_path, text), "split_names")
    assert (finding.field, finding.line, finding.severity) == ("report_of", line_of(text, "report_of"), "warning")
    assert finding.message == (
        "YAML read this as 2 entries, 'Executive Director of Place' and 'Paul Johnston', because of the comma "
        'inside [ ]; if it is one officer, put it in quotes: report_of: "Executive Director of Place, Paul Johnston" '
        "(for several, write one a line starting with '- ')")
    # The same in the other officer lists.
    text = replace(GOOD, "report_of: [the Director of Communities]",
                   "report_of: [the Director of Communities]\nlead_officer: [Head of Libraries, Dr A. Reader]")
    assert [f.field for f in only(lint_text(tmp_path, text), "split_names")] == ["lead_officer"]


@pytest.mark.parametrize("written", [
    "report_of: [the Chief Executive, the Director of Social Services]",  # two roles: meant as two
    "report_of: [Paul Johnston, Jo Analyst]",  # two people
    "report_of: \"Executive Director of Place, Paul Johnston\"",  # quoted: one entry
    "report_of:\n  - Executive Director of Place\n  - Paul Johnston",  # one a line: meant as two
])
def test_split_names_leaves_lists_that_are_meant_alone(tmp_path, written):
    text = replace(GOOD, "report_of: [the Director of Communities]", written)
    assert lint_text(tmp_path, text) == []


def test_background_papers_missing_or_empty(tmp_path):
    text = replace(GOOD, "  background_papers:\n    - p: There are no background papers.\n", "")
    [missing] = only(lint_text(tmp_path, text), "background_papers")
    assert (missing.field, missing.line) == ("sections.background_papers", line_of(text, "sections:"))
    assert "no BACKGROUND PAPERS section" in missing.message

    text = replace(GOOD, "    - p: There are no background papers.", "    - heading: Papers")
    findings = lint_text(tmp_path, text)
    # An empty section is also what the sections check reports: both name the same line.
    assert {f.check for f in findings} == {"background_papers", "sections"}
    [empty] = [f for f in findings if f.check == "background_papers"]
    assert (empty.field, empty.line) == ("sections.background_papers", line_of(text, "background_papers:"))
    assert "lists nothing" in empty.message


# --------------------------------------------------------------------------- the examples
def test_the_dudley_example_has_only_honest_warnings():
    """Its 2005 background and legal paragraphs really are hard going (41- and 47-word sentences)."""
    src = ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"
    theme = resolve_theme(None)
    job = prepare(src, theme)
    findings = lint_report(job.report, job.doc, theme, job.options)
    assert [(f.check, f.severity, f.field) for f in findings] == [
        ("readability", "warning", "sections.background"), ("readability", "warning", "sections.law")]


# --------------------------------------------------------------------------- severities and the CLI
def test_the_theme_sets_severities(tmp_path, capsys):
    text = replace(GOOD, "There is no extra cost.", "A SWOT analysis found the cost is TBC.")
    theme = write_theme(tmp_path / "theme", "lint:\n  checks:\n    acronyms: error\n    placeholders: off\n")
    assert resolve_theme(theme).config.lint.checks["placeholders"] == "off"  # unquoted YAML off is false
    [finding] = lint_text(tmp_path, text, theme)
    assert (finding.check, finding.severity) == ("acronyms", "error")
    path = tmp_path / "report.yaml"
    assert main(["check", str(path), "--theme", str(theme)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"{path}:{line_of(text, 'SWOT')}: sections.finance[0].p: error: 'SWOT' is never spelt "
                            "out: write it in full where it is first used, as in 'Full Words (SWOT)', or add it to "
                            "the theme's lint acronyms [acronyms]\n")


def test_an_unknown_check_in_the_theme_is_a_located_error(tmp_path):
    theme = write_theme(tmp_path / "theme", "lint:\n  checks:\n    spelling: warning\n")
    with pytest.raises(ThemeError) as caught:
        resolve_theme(theme)
    [line] = caught.value.lines()
    assert line.startswith(f"{theme / 'theme.yaml'}:3: lint.checks.spelling: ")


def test_strict_turns_warnings_into_failures(tmp_path, capsys):
    text = replace(GOOD, "There is no extra cost.", "The cost is TBC.")
    path = tmp_path / "report.yaml"
    path.write_text(text, encoding="utf-8")
    expected = (f"{path}:{line_of(text, 'TBC')}: sections.finance[0].p: warning: placeholder text left in: "
                '"The cost is TBC. The UK rate…" [placeholders]\n')
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr() == (f"{path}: ok\n", expected)
    assert main(["check", str(path), "--strict"]) == 2
    assert capsys.readouterr() == ("", expected)


def test_format_json_lists_problems_and_findings_for_tools(tmp_path, capsys):
    warned = tmp_path / "warned.yaml"
    warned.write_text(replace(GOOD, "There is no extra cost.", "The cost is TBC."), encoding="utf-8")
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text(replace(GOOD, "title: Library opening hours", "titel: Library opening hours"),
                       encoding="utf-8")
    assert main(["check", "--format", "json", str(warned)]) == 0
    run = capsys.readouterr()
    assert run.err == ""
    assert json.loads(run.out) == [{
        "file": str(warned), "line": line_of(warned.read_text(), "TBC"), "field": "sections.finance[0].p",
        "check": "placeholders", "severity": "warning",
        "message": 'placeholder text left in: "The cost is TBC. The UK rate…"'}]

    # The installed command, in a fresh process, as an editor or CI job would run it.
    run = subprocess.run([sys.executable, "-m", "cabinet_reports", "check", "--format", "json", "--strict",
                          str(warned), str(invalid)], capture_output=True, text=True, timeout=300)
    assert (run.returncode, run.stderr) == (2, "")
    found = json.loads(run.stdout)
    assert [(f["file"], f["check"], f["severity"]) for f in found] == [
        (str(warned), "placeholders", "warning"), (str(invalid), "input", "error")]
    assert found[1]["line"] == line_of(invalid.read_text(), "titel") and found[1]["field"] == "titel"
    assert "did you mean 'title'" in found[1]["message"]


# --------------------------------------------------------------------------- the README stays true
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_shows_what_check_prints_for_the_dudley_example(capsys, monkeypatch):
    shown = README.split("$ cd examples/dudley-2005-partnership-strategy && make-report check report.yaml\n", 1)[1]
    shown = shown.split("```", 1)[0].splitlines()
    monkeypatch.chdir(ROOT / "examples" / "dudley-2005-partnership-strategy")
    assert main(["check", "report.yaml"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() + captured.out.splitlines() == shown


def test_the_readme_lint_settings_are_a_valid_theme(tmp_path):
    snippet = README.split("# a council's theme.yaml: lint settings\n", 1)[1].split("```", 1)[0]
    lint = resolve_theme(write_theme(tmp_path / "theme", snippet)).config.lint
    assert (lint.checks["length"], lint.checks["readability"], lint.checks["acronyms"]) == ("error", "off", "warning")
    assert lint.max_sides == 4 and lint.max_words == {"purpose": 100, "summary": 200}
    assert {"DMBC", "UK", "NHS"} <= set(lint.acronyms)
    table = README.split("| check | finds |\n", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert [row.split("`")[1] for row in table] == list(LINT_CHECKS)  # the README lists every check, in order
