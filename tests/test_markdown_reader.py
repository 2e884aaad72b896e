"""Markdown reports: the same document as the equivalent YAML, and errors at the .md line.

The examples exist in both forms and must render byte-identical PDF and DOCX. Each mapping
rule is checked by writing a small report both ways and comparing the validated models;
each error is checked for its file, line and field, several through the real command line.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cabinet_reports import load_report
from cabinet_reports.api import build
from cabinet_reports.cli import main
from cabinet_reports.errors import InputError
from cabinet_reports.loader import Source
from cabinet_reports.models import Report
from cabinet_reports.pack import load_meeting
from cabinet_reports.readers import parse_markdown
from cabinet_reports.readers.markdown import MAX_MARKDOWN_NESTING
from cabinet_reports.theme import Theme
from cabinet_reports.validation import validate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ["dudley-2005-partnership-strategy", "salford-2003-progress-note"]
THEME = Theme()

COVER = "council: {name: Test Borough Council}\nmeeting: {body: Cabinet, date: 2026-01-14}\ntitle: Test report\n"
NOTE_COVER = "kind: note\ncouncil: {name: Test Borough Council}\ndate: 2026-01-14\ntitle: Test note\n"


def md(body: str, cover: str = COVER) -> str:
    return f"---\n{cover}---\n" + textwrap.dedent(body).lstrip("\n")


def from_md(text: str, theme: Theme = THEME) -> Report:
    data, lines = parse_markdown(text, "report.md", theme)
    report = validate(Report, data, Source("report.md", lines))
    report._source = Source("report.md", lines)  # as load_report does, so build() locates its errors
    return report


def from_yaml(text: str, cover: str = COVER) -> Report:
    return validate(Report, yaml.safe_load(cover + textwrap.dedent(text)))


def md_error(text: str, theme: Theme = THEME) -> list[str]:
    with pytest.raises(InputError) as info:
        report = from_md(text, theme)
        build(report, theme)
    return info.value.lines()


# --------------------------------------------------------------------------- the examples
@pytest.mark.parametrize("example", EXAMPLES)
def test_example_in_markdown_is_the_same_model_as_its_yaml(example):
    folder = ROOT / "examples" / example
    assert load_report(folder / "report.md").model_dump() == load_report(folder / "report.yaml").model_dump()


def test_windows_line_endings_read_the_same(tmp_path):
    source = ROOT / "examples" / EXAMPLES[0] / "report.md"
    crlf = tmp_path / "report.md"
    crlf.write_bytes(source.read_bytes().replace(b"\n", b"\r\n"))
    assert load_report(crlf).model_dump() == load_report(source).model_dump()


def test_html_in_text_stays_text_as_in_yaml():
    report = from_md(md("""
        # Purpose

        A <script>alert(1)</script> and <b>tags</b> {{ jinja }} stay as typed.

        # Recommendations

        y
    """))
    assert report.sections["purpose"].blocks[0].p == "A <script>alert(1)</script> and <b>tags</b> {{ jinja }} stay as typed."


def test_examples_in_markdown_render_byte_identical_pdf_and_docx(tmp_path):
    # Through the command line, as an officer would: report.md takes its folder's name too.
    for form in ("yaml", "md"):
        paths = [str(ROOT / "examples" / e / f"report.{form}") for e in EXAMPLES]
        assert main(["render", *paths, "-o", str(tmp_path / form), "--quiet"]) == 0
    names = sorted(p.name for p in (tmp_path / "yaml").iterdir())
    assert names == sorted(f"{e}.{s}" for e in EXAMPLES for s in ("pdf", "docx"))
    assert sorted(p.name for p in (tmp_path / "md").iterdir()) == names
    for name in names:
        assert (tmp_path / "md" / name).read_bytes() == (tmp_path / "yaml" / name).read_bytes(), name


# --------------------------------------------------------------------------- mapping rules
def test_headings_find_theme_sections_by_title_in_any_case_or_by_key():
    report = from_md(md("""
        # purpose

        To test.

        # Equal Opportunities {#equalities}

        The council's own heading.

        # Recommendations {#recommendations}

        That Cabinet notes.
    """))
    assert report.model_dump() == from_yaml("""
        sections:
          purpose: [To test.]
          equalities: {heading: Equal Opportunities, blocks: [The council's own heading.]}
          recommendations: [That Cabinet notes.]
    """).model_dump()


def test_paragraphs_labels_inline_markdown_and_line_breaks_are_kept_as_typed():
    report = from_md(md(r"""
        # Purpose

        A **bold**, *italic* and [linked](https://example.gov.uk) paragraph that
        wraps onto a second line, with a \*literal star\* and [[section:purpose]]. {#aim}

        Hard\
        break and `code`.

        # Recommendations

        See [[aim]].
    """))
    assert report.model_dump() == from_yaml(r"""
        sections:
          purpose:
            - p: "A **bold**, *italic* and [linked](https://example.gov.uk) paragraph that wraps onto a second line, with a \\*literal star\\* and [[section:purpose]]."
              label: aim
            - p: "Hard break and `code`."
          recommendations: ["See [[aim]]."]
    """).model_dump()


def test_subpoints_take_what_follows_until_the_next_subpoint_or_a_thematic_break():
    report = from_md(md("""
        # Background

        Some proposals:

        ## First proposal {#first}

        Its text.

        ### A sub-heading inside it

        - a bullet

        ## {#second}

        A sub-point with no heading: this is its text.

        More text.

        ***

        The section's next numbered paragraph.

        # Purpose

        x

        # Recommendations

        y
    """))
    assert report.model_dump() == from_yaml("""
        sections:
          background:
            - p: "Some proposals:"
            - subpoint: First proposal
              label: first
              blocks:
                - text: Its text.
                - heading: A sub-heading inside it
                - bullets: [a bullet]
            - subpoint: null
              label: second
              text: "A sub-point with no heading: this is its text."
              blocks: [{text: More text.}]
            - p: The section's next numbered paragraph.
          purpose: [x]
          recommendations: [y]
    """).model_dump()


def test_lettered_items_are_read_from_paragraph_lines_and_continue_across_paragraphs():
    report = from_md(md("""
        # Purpose

        That Cabinet:

        (a) approves the strategy in
            two lines; {#approve}
        (b) notes the plan.

        c. continues the same list after a blank line
        d) in any of the three marker styles

        A paragraph ends the list.

        a. and a new one starts at (a).

        # Recommendations

        1. A CommonMark ordered list is a lettered list too

           - with a nested bullet
        2. second
    """))
    assert report.model_dump() == from_yaml("""
        sections:
          purpose:
            - p: "That Cabinet:"
            - letters:
                - {text: approves the strategy in two lines;, label: approve}
                - notes the plan.
                - continues the same list after a blank line
                - in any of the three marker styles
            - p: A paragraph ends the list.
            - letters: [and a new one starts at (a).]
          recommendations:
            - letters:
                - text: A CommonMark ordered list is a lettered list too
                  blocks: [{bullets: [with a nested bullet]}]
                - second
    """).model_dump()


def test_a_backslash_keeps_a_paragraph_that_starts_like_a_letter():
    report = from_md(md(r"""
        # Purpose

        \(a) is how the old report began.

        # Recommendations

        y
    """))
    assert report.sections["purpose"].blocks[0].p == r"\(a) is how the old report began."


def test_bullets_tables_captions_and_timelines():
    report = from_md(md("""
        # Purpose

        - first, with follow-on text

          More about it.
        - second {#second}

        Table: Costs {#costs}

        | Item | Cost \\| £ |
        |---|---|
        | Staff | 10 |
        | | |

        | After |
        |---|
        | table |

        Table: A caption after its table

        Week commencing 20th January
        :   workshops, to consider:

            a) the report,
            b) the options.

        27th February
        :   a decision

        # Recommendations

        y
    """))
    assert report.model_dump() == from_yaml("""
        sections:
          purpose:
            - bullets:
                - {text: "first, with follow-on text", blocks: [{text: More about it.}]}
                - {text: second, label: second}
            - table: {caption: Costs, header: [Item, Cost | £], rows: [[Staff, "10"], ["", ""]]}
              label: costs
            - table: {caption: A caption after its table, header: [After], rows: [[table]]}
            - timeline:
                - when: Week commencing 20th January
                  text: "workshops, to consider:"
                  blocks: [{letters: ["the report,", "the options."]}]
                - {when: 27th February, text: a decision}
          recommendations: [y]
    """).model_dump()


def test_appendices_follow_the_marker_and_comments_are_dropped():
    report = from_md(md("""
        <!-- a note to the author before the first section -->
        # Purpose

        See [[plan]].
        <!-- a comment between blocks
             over two lines -->

        # Recommendations

        y

        # Appendix: The Plan {#plan}

        An unnumbered paragraph.

        ## A sub-heading

        - a bullet

        # appendix: Second
    """))
    assert report.model_dump() == from_yaml("""
        sections:
          purpose: ["See [[plan]]."]
          recommendations: [y]
        appendices:
          - title: The Plan
            label: plan
            blocks: [{text: An unnumbered paragraph.}, {heading: A sub-heading}, {bullets: [a bullet]}]
          - {title: Second}
    """).model_dump()


def test_a_note_has_plain_paragraphs_and_sub_headings_and_sections_in_file_order():
    report = from_md(md("""
        # {#progress}

        Progress so far:

        ## A sub-heading

        (a) one

        # Current Position: {#current_position}

        Next.
    """, NOTE_COVER))
    assert report.model_dump() == from_yaml("""
        sections:
          progress: [{text: "Progress so far:"}, {heading: A sub-heading}, {letters: [one]}]
          current_position: {heading: "Current Position:", blocks: [{text: Next.}]}
    """, NOTE_COVER).model_dump()


def test_headings_are_matched_against_the_theme_in_use(tmp_path):
    theme_dir = tmp_path / "my-theme"
    theme_dir.mkdir()
    (theme_dir / "theme.yaml").write_text(
        "sections:\n  - {key: purpose, title: Purpose of report, required: true}\n"
        "  - {key: recommendations, title: Recommendations, required: true}\n", encoding="utf-8")
    (tmp_path / "r.md").write_text(md("# Purpose of report\n\nx\n\n# Recommendations\n\ny\n"), encoding="utf-8")
    assert main(["check", str(tmp_path / "r.md"), "--theme", str(theme_dir)]) == 0
    assert main(["check", str(tmp_path / "r.md")]) == 2  # the built-in theme calls it PURPOSE
    # A meeting pack loads its Markdown reports with the pack's theme.
    (tmp_path / "meeting.yaml").write_text(
        "council: Test Borough Council\nbody: Cabinet\ndate: 2026-01-14\ntime: \"6.00 pm\"\nvenue: Hall\n"
        "contact: {name: Democratic Services}\nitems:\n  - report: r.md\n", encoding="utf-8")
    loaded = load_meeting(tmp_path / "meeting.yaml", theme_dir)
    assert [item.title for item in loaded.items] == ["Test report"]


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("text, expected", [
    ("# Purpose\n\nx\n", "report.md:1: a Markdown report starts with front matter"),
    ("---\ntitle: x\n# Purpose\n", "report.md:1: a Markdown report starts with front matter: a line ---, "
     "the cover fields in YAML (title, council, meeting …) and a closing line --- (the front matter has no "
     "closing line ---)"),
    (md("# Backgrond\n\nx\n"), "report.md:6: unknown section title 'Backgrond' (did you mean 'BACKGROUND'?): "
     "the theme's sections are PURPOSE, SUMMARY, BACKGROUND,"),
    (md("# Purpose\n\nx\n\n# PURPOSE\n\ny\n"), "report.md:10: sections.purpose: section 'purpose' appears twice "
     "(first at line 6)"),
    (md("Stray text.\n\n# Purpose\n\nx\n"), "report.md:6: text before the first section"),
    (md("# Appendix: A\n\nx\n\n# Purpose\n\ny\n"), "report.md:10: sections come before the appendices"),
    (md("# Appendix 1: Plan\n\nx\n"), "report.md:6: write an appendix heading as '# Appendix: Title'"),
    (md("# Appendix:\n\nx\n"), "report.md:6: an appendix heading needs a title"),
    (md("# Purpose\n\n(a) one\n\n(c) three\n"), "report.md:10: lettered item '(c)' where (b) comes next"),
    (md("# Purpose\n\nb. starts at b\n"), "report.md:8: lettered item 'b.' where (a) comes next"),
    (md("# Purpose\n\n    indented code\n"), "report.md:8: code blocks are not part of a report"),
    (md("# Purpose\n\n> quoted\n"), "report.md:8: block quotes"),
    (md("# Purpose\n\n<div>raw</div>\n"), "report.md:8: raw HTML is not part of a report"),
    (md("# Purpose\n\nTable: lost caption\n\nx\n"), "report.md:8: a 'Table:' caption must come right before"),
    (md("# Purpose\n\nx\n", COVER + "sections: {purpose: [x]}\n"), "report.md:5: sections: sections are written "
     "in the Markdown body"),
    ("---\ncouncil: {name: X}\ntitle: A\ntitle: B\n---\n# Purpose\n", "report.md:4: title: duplicate key 'title'"),
    # libyaml reports an unclosed flow mapping where the front matter ends (its closing fence).
    ("---\n\ncouncil: {name: X\n---\n# Purpose\n", "report.md:4: invalid YAML"),
    ("---\n- a list\n---\n", "report.md:2: the front matter must be cover fields"),
    (md("# Purpose\n\nWhen\n: first\n: second\n"), "report.md:10: a timeline entry has one ': text'"),
])
def test_reader_errors_name_the_md_file_and_line(text, expected):
    lines = md_error(text)
    assert len(lines) == 1 and lines[0].startswith(expected), lines


def test_nesting_deeper_than_markdown_it_parses_is_refused_not_truncated():
    deep = "".join("  " * i + f"- level {i}\n" for i in range(MAX_MARKDOWN_NESTING))
    lines = md_error(md("# Purpose\n\n" + deep))
    assert len(lines) == 1 and "report.md:" in lines[0] and "nested more than" in lines[0], lines


def test_nesting_the_model_refuses_is_located_on_its_md_line():
    deep = "".join("  " * i + f"- level {i}\n" for i in range(12))
    lines = md_error(md("# Purpose\n\nx\n\n" + deep + "\n# Recommendations\n\ny\n"))
    assert len(lines) == 1 and lines[0].startswith("report.md:") and "nested more than 10 deep" in lines[0]
    assert int(lines[0].split(":")[1]) >= 10, lines


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cabinet_reports", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


LOCATED = [
    # a front-matter field: the YAML line shifted to the .md file
    (md("# Purpose\n\nx\n\n# Recommendations\n\ny\n", COVER + "contact: {name: A, email: a.officer}\n"),
     "report.md:5: contact.email: "),
    # a body field validated by the model
    (md("# Purpose\n\nx\n\n# Recommendations\n\nA first paragraph.\n\nSecond. {#1st}\n"),
     "report.md:14: sections.recommendations[1].label: "),
    # a lettered item's label, on its own line of the paragraph
    (md("# Purpose\n\nx\n\n(a) one\n(b) two {#bad label}\n\n# Recommendations\n\ny\n"),
     "report.md:11: sections.purpose[1].letters[1].label: "),
    (md("# Purpose\n\nx\n\n(a) one\n(b) two {#2}\n\n# Recommendations\n\ny\n"),
     "report.md:11: sections.purpose[1].letters[1].label: "),
    # found while numbering: a reference to no label
    (md("# Purpose\n\nx\n\n# Recommendations\n\ny\n\n- See [[nowhere]].\n"),
     "report.md:14: sections.recommendations[1].bullets[0].text: unknown label 'nowhere'"),
    # found while numbering, in a section written with its own heading
    (md("# Purpose\n\nx\n\n# Our proposals {#proposal}\n\n## Too early\n\n# Recommendations\n\ny\n"),
     "report.md:12: sections.proposal[0]: a sub-point must follow a numbered paragraph"),
    # a missing required section: the section list's first line
    (md("# Purpose\n\nx\n"), "report.md:6: sections.recommendations: required section 'recommendations' is missing"),
]


def test_located_errors_through_the_command_line(tmp_path):
    # One run of the real command over every case: each file gets its own single line.
    names = []
    for i, (text, _) in enumerate(LOCATED):
        names.append(f"case{i}.md")
        (tmp_path / names[-1]).write_text(text, encoding="utf-8")
    result = run("check", *names, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == len(LOCATED), result.stderr
    for name, line, (_, expected) in zip(names, lines, LOCATED):
        assert line.startswith("make-report: error: " + expected.replace("report.md", name)), line


# --------------------------------------------------------------------------- the README
README = (ROOT / "README.md").read_text(encoding="utf-8")
SNIPPET = README.split("## Writing a report in Markdown", 1)[1].split("```markdown\n", 1)[1].split("```\n", 1)[0]


def test_readme_markdown_snippet_numbers_and_resolves_as_documented():
    doc = build(from_md(SNIPPET))
    assert doc.numbered_labels() == ["1.0", "1.1", "2.0", "2.1", "2.1.1", "3.0", "3.1", "(a)", "(b)",
                                     "4.0", "4.1", "5.0", "5.1"]
    assert [s.heading for s in doc.sections][3] == "4.0 EQUAL OPPORTUNITIES"
    assert [a.heading for a in doc.appendices] == ["Appendix 1: Partnership Strategy"]


@pytest.mark.parametrize("typo, expected", [
    (("# Background", "# Backgrond"), "report.md:16: unknown section title 'Backgrond' (did you mean 'BACKGROUND'?)"),
    (("in [[strategy]]", "in [[stratgy]]"), "report.md:28: sections.proposal[1].letters[0].text: unknown label "
                                            "'stratgy' in [[stratgy]]"),
])
def test_readme_markdown_error_examples_are_what_check_prints(typo, expected):
    shown = README.split("$ make-report check report.md", 3)
    assert expected in "".join(shown[1:])
    lines = md_error(SNIPPET.replace(*typo))
    assert len(lines) == 1 and lines[0].startswith(expected), lines


# --------------------------------------------------------------------------- property: any body, both ways
# Each generated block is a pair: the YAML data and the Markdown that must mean the same. Words
# start paragraphs and wrapped lines with a capital or a non-marker, as prose does; the rules
# for lines that look like markup have their own tests above.
FIRST = st.sampled_from(["Cabinet", "The", "Ŵyr", "Members", "Budget", "Cyngor", "£5m", "It's"])
WORD = st.sampled_from(["council", "plan", "ŵyn", "2026", "(see", "note)", "**key**", "*draft*",
                        "[[section:purpose]]", "[link](https://example.gov.uk)", "costs,", "A.N.", "—"])
LABELS = st.sampled_from(["aim", "costs", "x1", "plan.b", None, None])


@st.composite
def sentence(draw) -> tuple[str, str]:
    """Return (text, markdown): the same words, the Markdown wrapped over several lines."""
    words = [draw(FIRST), *draw(st.lists(WORD, max_size=8))]
    cuts = draw(st.sets(st.integers(1, max(1, len(words) - 1)), max_size=2))
    lines, start = [], 0
    for cut in sorted(cuts) + [len(words)]:
        if cut > start:
            lines.append(" ".join(words[start:cut]))
            start = cut
    return " ".join(words), "\n".join(lines)


def indent(text: str, by: str) -> str:
    return "\n".join(by + line if line else line for line in text.split("\n"))


@st.composite
def labelled(draw, key: str) -> tuple[dict, str]:
    text, source = draw(sentence())
    label = draw(LABELS)
    return ({key: text, "label": label} if label else {key: text}), source + (f" {{#{label}}}" if label else "")


@st.composite
def lettered(draw) -> tuple[dict, str]:
    items = draw(st.lists(labelled("text"), min_size=1, max_size=4))
    style = draw(st.sampled_from(["({}) ", "{}. ", "{}) "]))
    lines = [style.format(chr(97 + i)) + indent(src, "    ").lstrip() for i, (_, src) in enumerate(items)]
    return {"letters": [data for data, _ in items]}, "\n".join(lines)


@st.composite
def bullets(draw) -> tuple[dict, str]:
    items = []
    for _ in range(draw(st.integers(1, 3))):
        data, src = draw(labelled("text"))
        if draw(st.booleans()):
            follow, follow_src = draw(sentence())
            data = {**data, "blocks": [{"text": follow}]}
            src += "\n\n" + follow_src
        items.append((data, "- " + indent(src, "  ").lstrip()))
    return {"bullets": [d for d, _ in items]}, "\n".join(s for _, s in items)


@st.composite
def table(draw) -> tuple[dict, str]:
    cols = draw(st.integers(1, 3))
    cell = st.sampled_from(["Staff", "10", "£5m", "", "ŵyn", "**key**"])
    header = [draw(st.sampled_from(["Item", "Cost", "Lead"])) for _ in range(cols)]
    rows = draw(st.lists(st.lists(cell, min_size=cols, max_size=cols), max_size=3))
    data: dict = {"table": {"header": header, "rows": rows}}
    src = "\n".join("| " + " | ".join(r) + " |" for r in [header, ["---"] * cols, *rows])
    if draw(st.booleans()):
        caption, _ = draw(sentence())
        data["table"]["caption"] = caption
        src = f"Table: {caption}\n\n{src}"
    return data, src


@st.composite
def timeline(draw) -> tuple[dict, str]:
    entries = []
    for _ in range(draw(st.integers(1, 3))):
        when = draw(st.sampled_from(["Week commencing 20th January", "27th February", "Spring 2026"]))
        text, src = draw(sentence())
        entries.append(({"when": when, "text": text}, f"{when}\n:   " + indent(src, "    ").lstrip()))
    return {"timeline": [d for d, _ in entries]}, "\n\n".join(s for _, s in entries)


@st.composite
def subpoint(draw) -> tuple[dict, str]:
    heading, _ = draw(sentence())
    label = draw(LABELS)
    inner = draw(st.lists(st.one_of(sentence().map(lambda d: ({"text": d[0]}, d[1])), bullets()), max_size=2))
    data = {"subpoint": heading, **({"label": label} if label else {}), "blocks": [d for d, _ in inner]}
    src = f"## {heading}" + (f" {{#{label}}}" if label else "")
    return data, "\n\n".join([src, *separate(inner)])


def separate(parts: list[tuple[dict, str]]) -> list[str]:
    """Return each block's Markdown; a comment keeps two lists (or timelines) in a row apart."""
    out, previous = [], None
    for data, src in parts:
        kind = next(iter(data))
        out.append(f"<!-- next list -->\n\n{src}" if kind == previous and kind in ("bullets", "timeline") else src)
        previous = kind
    return out


@st.composite
def section_body(draw) -> tuple[list[dict], str]:
    parts = draw(st.lists(st.one_of(labelled("p"), lettered(), bullets(), table(), timeline(), subpoint()),
                          min_size=1, max_size=6))
    out, previous = [], None
    for (data, src), joined in zip(parts, separate(parts)):
        if previous == "subpoint" and "subpoint" not in data:
            out.append("***")  # back to the section's own numbered paragraphs
        out.append(joined)
        previous = next(iter(data))
    return [d for d, _ in parts], "\n\n".join(out)


@settings(max_examples=30, deadline=None, database=None)
@given(purpose=section_body(), recommendations=section_body())
def test_any_body_reads_the_same_as_its_yaml(purpose, recommendations):
    (p_data, p_src), (r_data, r_src) = purpose, recommendations
    text = md(f"# Purpose\n\n{p_src}\n\n# Recommendations\n\n{r_src}\n")
    expected = yaml.safe_load(COVER)
    expected["sections"] = {"purpose": p_data, "recommendations": r_data}
    assert from_md(text).model_dump() == validate(Report, expected).model_dump(), text
