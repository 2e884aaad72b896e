"""Numbering per section: unnumbered and cover sections, body numbering from 1, list formats
for recommendations, and appendix number styles — all computed once in the document model."""

from __future__ import annotations

from pathlib import Path

import pytest

from cabinet_reports import InputError, Theme, ThemeError, build, report_from_data
from cabinet_reports.document import Para, appendix_number, letter_marker


def report(**sections) -> dict:
    data = {"council": {"name": "Test Borough Council"},
            "meeting": {"body": "Cabinet", "date": "2026-01-14"},
            "title": "Test report",
            "sections": {"purpose": ["To test."], "recommendations": ["That Cabinet notes this."]}}
    data["sections"].update(sections)
    return data


def theme(tmp_path: Path, text: str) -> Theme:
    (tmp_path / "theme.yaml").write_text(text, encoding="utf-8")
    return Theme(tmp_path)


COVER_THEME = """
sections:
  - {key: summary, title: Executive Summary, place: cover}
  - {key: purpose, title: Purpose of Report, numbered: false, letters: ["{n}.", "{a}."]}
  - {key: background, title: INTRODUCTION AND BACKGROUND}
  - {key: options, title: AVAILABLE OPTIONS}
  - {key: recommendations, title: RECOMMENDATIONS}
kinds:
  report:
    numbering: {section: "{s}.", heading: "{number} {title}"}
"""


def test_unnumbered_and_cover_sections_leave_the_body_numbered_from_one(tmp_path):
    data = report(summary=[{"text": "In short."}], background=["Context.", "More [[opt]]."],
                  options=[{"p": "Option.", "label": "opt"}],
                  purpose=[{"text": "That the Committee:"}, {"letters": ["agrees [[opt]];", "notes."]}])
    doc = build(report_from_data(data), theme(tmp_path, COVER_THEME))
    assert [(s.key, s.heading, s.place) for s in doc.sections] == [
        ("summary", "Executive Summary", "cover"), ("purpose", "Purpose of Report", "body"),
        ("background", "1. INTRODUCTION AND BACKGROUND", "body"), ("options", "2. AVAILABLE OPTIONS", "body"),
        ("recommendations", "3. RECOMMENDATIONS", "body")]
    assert doc.numbered_labels() == ["1.", "2.", "1.", "1.1", "1.2", "2.", "2.1", "3.", "3.1"]
    # Cross-references give the body numbers.
    assert doc.labels["opt"] == "2.1"
    purpose = doc.sections[1].blocks
    assert [s.text for s in purpose[1].items[0].text] == ["agrees ", "2.1", ";"]


@pytest.mark.parametrize("fmt, markers", [
    ("{n}.", ["1.", "2.", "3."]), ("({n})", ["(1)", "(2)", "(3)"]), ("({a})", ["(a)", "(b)", "(c)"]),
    ("{a}.", ["a.", "b.", "c."]), ("{i}.", ["i.", "ii.", "iii."]), ("({i})", ["(i)", "(ii)", "(iii)"]),
])
def test_a_list_can_choose_its_own_format(fmt, markers):
    data = report(recommendations=[{"text": "It is recommended that Cabinet:"},
                                   {"letters": ["a", "b", {"text": "c", "blocks": [{"letters": ["x"], "format": "{a}."}]}],
                                    "format": fmt}])
    doc = build(report_from_data(data))
    assert doc.numbered_labels() == ["1.0", "1.1", "2.0", *markers, "a."]


def test_a_section_spec_can_make_a_section_unnumbered_under_any_heading_format(tmp_path):
    t = theme(tmp_path, """
sections:
  - {key: recommendations, title: RECOMMENDATIONS, numbered: false}
  - {key: purpose, title: PURPOSE OF THE REPORT}
kinds: {report: {numbering: {section: "{s}", paragraph: "{s}.{p}"}}}
""")
    doc = build(report_from_data(report()), t)
    assert [s.heading for s in doc.sections] == ["RECOMMENDATIONS", "1 PURPOSE OF THE REPORT"]
    assert doc.numbered_labels() == ["1", "1.1"]


def test_a_report_section_can_be_unnumbered_or_placed_in_the_cover():
    data = report(summary={"blocks": [{"text": "Summary."}], "place": "cover-top"},
                  background={"blocks": ["Context."], "numbered": False})
    doc = build(report_from_data(data))
    assert [(s.key, s.number, s.place) for s in doc.sections] == [
        ("summary", None, "cover-top"), ("purpose", "1.0", "body"), ("background", None, "body"),
        ("recommendations", "2.0", "body")]
    # A paragraph in an unnumbered section has no number.
    assert doc.sections[2].blocks[0].number is None


def test_old_default_numbering_is_unchanged():
    doc = build(report_from_data(report(background=["B."])))
    assert doc.numbered_labels() == ["1.0", "1.1", "2.0", "2.1", "3.0", "3.1"]


@pytest.mark.parametrize("fmt, numbers", [
    ("Appendix {n}", ["Appendix 1", "Appendix 2", "Appendix 3"]),
    ("Appendix {A}", ["Appendix A", "Appendix B", "Appendix C"]),
    ("Appendix {I}", ["Appendix I", "Appendix II", "Appendix III"]),
])
def test_appendix_styles_and_the_generated_list(tmp_path, fmt, numbers):
    t = theme(tmp_path, f'kinds: {{report: {{numbering: {{appendix: "{fmt}", appendix_list: "{{number}} – {{title}}"}}}}}}\n')
    data = report(background=[{"text": "Appendices:"}, {"appendix_list": True}, "See [[third]]."])
    data["appendices"] = [{"title": "Action plan"}, {"title": "Costs"}, {"title": "Map", "label": "third"}]
    doc = build(report_from_data(data), t)
    assert [a.number for a in doc.appendices] == numbers
    listed = [b for b in doc.sections[1].blocks if isinstance(b, Para) and b.number is None][1:]
    assert [(b.text[0].text, b.text[0].href) for b in listed] == [
        (f"{n} – {a.title}", "#" + a.anchor) for n, a in zip(numbers, doc.appendices)]
    assert doc.labels["third"] == numbers[2]


def test_appendix_list_without_appendices_is_a_located_error():
    with pytest.raises(InputError) as exc:
        build(report_from_data(report(background=[{"appendix_list": True}])))
    assert exc.value.problems[0].field == "sections.background[0]"


def test_bad_list_formats_are_refused():
    with pytest.raises(InputError, match="a list format needs one of"):
        report_from_data(report(background=[{"letters": ["x"], "format": "1."}]))
    with pytest.raises(InputError, match="may only use"):
        report_from_data(report(background=[{"letters": ["x"], "format": "{s}."}]))


def test_bad_section_spec_letters_are_a_theme_error(tmp_path):
    with pytest.raises(ThemeError, match="may only use"):
        theme(tmp_path, 'sections: [{key: purpose, title: P, letters: ["{x}"]}]\n')


def test_markers_and_appendix_numbers():
    assert [letter_marker("{i}.", n) for n in (1, 4, 9)] == ["i.", "iv.", "ix."]
    assert appendix_number("Appendix {A}", 27) == "Appendix AA"


@pytest.mark.parametrize("numbering, title, heading, para", [
    ('{section: "{s}.0"}', "PURPOSE", "1.0 PURPOSE", "1.1"),
    ('{section: "{s}."}', "Purpose/Executive Summary", "1. Purpose/Executive Summary", "1.1"),
    ('{section: "{s}"}', "PURPOSE OF THE REPORT", "1 PURPOSE OF THE REPORT", "1.1"),
])
def test_heading_formats(tmp_path, numbering, title, heading, para):
    t = theme(tmp_path, f"sections: [{{key: purpose, title: {title}}}, {{key: recommendations, title: R}}]\n"
                        f"kinds: {{report: {{numbering: {numbering}}}}}\n")
    doc = build(report_from_data(report()), t)
    assert doc.sections[0].heading == heading
    assert doc.numbered_labels()[1] == para


def test_a_list_format_word_cannot_express_falls_back_to_literal_numbers():
    import io

    import docx

    from cabinet_reports.api import render_bytes

    def texts(fmt):
        data = report_from_data(report(recommendations=[{"text": "That Cabinet:"},
                                                        {"letters": ["agrees;", "notes."], "format": fmt}]))
        return [p.text for p in docx.Document(io.BytesIO(render_bytes(data, "docx"))).paragraphs
                if p.style.name == "List Letter"]
    assert texts("{n}.") == ["agrees;", "notes."]  # Word numbering shows 1., 2.
    assert texts("{n}%") == ["1%\tagrees;", "2%\tnotes."]  # "%" cannot be in a Word level text
