"""Numbering and cross-references are computed once, in the document model."""

from __future__ import annotations

from pathlib import Path

import pytest

from cabinet_reports import InputError, Theme, build, report_from_data

THEMES = Path(__file__).resolve().parent / "themes"


def report(**sections) -> dict:
    data = {"council": {"name": "Test Borough Council"},
            "meeting": {"body": "Cabinet", "date": "2026-01-14"},
            "title": "Test report",
            "sections": {"purpose": ["To test."], "recommendations": ["That Cabinet notes this."]}}
    data["sections"].update(sections)
    return data


def labels(data, theme=None) -> list[str]:
    return build(report_from_data(data), theme).numbered_labels()


def test_sections_follow_the_theme_order_not_the_file_order():
    data = report(law=["Law."], background=["Background."])
    doc = build(report_from_data(data))
    assert [s.heading for s in doc.sections] == ["1.0 PURPOSE", "2.0 BACKGROUND", "3.0 LAW", "4.0 RECOMMENDATIONS"]


def test_paragraphs_subpoints_and_letters_number_like_a_cabinet_paper():
    data = report(background=[
        "First.", {"subpoint": "A"}, {"subpoint": "B", "blocks": [{"text": "unnumbered"}]},
        "Second.", {"subpoint": "C"}, {"letters": ["x", {"text": "y", "blocks": [{"letters": ["deep"]}]}]},
        {"letters": ["again"]}])
    assert labels(data) == ["1.0", "1.1", "2.0", "2.1", "2.1.1", "2.1.2", "2.2", "2.2.1",
                            "(a)", "(b)", "(i)", "(a)", "3.0", "3.1"]


def test_unknown_sections_need_a_heading_and_go_before_recommendations():
    doc = build(report_from_data(report(climate_emergency={"heading": "CLIMATE EMERGENCY", "blocks": ["Net zero."]})))
    assert [s.key for s in doc.sections] == ["purpose", "climate_emergency", "recommendations"]
    with pytest.raises(InputError, match=r"sections\.mystery: the theme does not know section 'mystery'"):
        build(report_from_data(report(mystery=["?"])))


def test_cross_references_render_as_numbers():
    data = report(proposal=[{"p": "Do it.", "label": "doit"}, {"letters": [{"text": "x", "label": "x"}]}],
                  law=["See [[doit]], [[x]], [[section:proposal]] and [[app]]."])
    data["appendices"] = [{"title": "One", "blocks": ["a"]}, {"title": "Two", "label": "app", "blocks": ["b"]}]
    doc = build(report_from_data(data))
    law = next(s for s in doc.sections if s.key == "law")
    text = "".join(span.text for span in law.blocks[0].text)
    assert text == "See 2.1, 2.1(a), 2.0 and Appendix 2."
    assert [a.heading for a in doc.appendices] == ["Appendix 1: One", "Appendix 2: Two"]


def test_unknown_label_is_an_error_naming_it_and_its_field():
    with pytest.raises(InputError) as err:
        build(report_from_data(report(law=["See [[nowhere]]."])))
    assert err.value.lines() == [
        "<data>: sections.law[0].p: unknown label 'nowhere' in [[nowhere]] (labels: section:law, section:purpose, "
        "section:recommendations)"]


def test_duplicate_label_is_an_error_naming_both_places():
    data = report(law=[{"p": "a", "label": "dup"}, {"p": "b", "label": "dup"}])
    with pytest.raises(InputError, match=r"sections\.law\[1\]\.label: duplicate label 'dup' \(first used at sections\.law\[0\]\)"):
        build(report_from_data(data))


def test_missing_required_section_and_empty_section_are_errors():
    data = report(background=[])
    del data["sections"]["recommendations"]
    with pytest.raises(InputError) as err:
        build(report_from_data(data))
    assert err.value.lines() == ["<data>: sections.background: section has no content",
                                 "<data>: sections.recommendations: required section 'recommendations' is missing"]


def test_subpoint_before_any_paragraph_is_an_error():
    with pytest.raises(InputError, match="sub-point must follow a numbered paragraph"):
        build(report_from_data(report(background=[{"subpoint": "Too early"}])))


def test_a_theme_changes_headings_order_and_number_style():
    theme = Theme(THEMES / "plain")
    data = report(background=["B.", {"letters": ["one", "two"]}])
    doc = build(report_from_data(data), theme)
    assert [s.heading for s in doc.sections] == ["1. Purpose of report", "2. Recommendations", "3. Background"]
    assert doc.numbered_labels() == ["1.", "1.1", "2.", "2.1", "3.", "3.1", "(1)", "(2)"]
    assert doc.words["page_footer"] == "{page} / {pages}"
    assert doc.words["exempt_marking"] == "NOT FOR PUBLICATION"  # fell back to the built-in wording


def test_notes_are_unnumbered_and_keep_file_order():
    data = {"kind": "note", "council": {"name": "C"}, "date": "2003-01-16", "title": "Note",
            "sections": {"b": {"heading": "Second", "blocks": ["x"]}, "a": {"blocks": [{"letters": ["y"]}]}}}
    doc = build(report_from_data(data))
    assert [s.heading for s in doc.sections] == ["Second", ""]
    assert doc.numbered_labels() == ["a)"]


def test_exempt_report_carries_the_schedule_12a_wording():
    data = report()
    data["classification"] = {"status": "exempt", "paragraphs": [3], "jurisdiction": "england"}
    doc = build(report_from_data(data))
    assert doc.exempt
    assert doc.marking == ["NOT FOR PUBLICATION",
                           "This report contains exempt information as defined in paragraph 3 of Part 1 of "
                           "Schedule 12A to the Local Government Act 1972."]


def test_exempt_paragraph_must_exist_in_its_jurisdiction():
    data = report()
    data["classification"] = {"status": "exempt", "paragraphs": [3], "jurisdiction": "wales"}
    with pytest.raises(InputError, match=r"classification: paragraph 3 is not in Schedule 12A for wales \(12–18\)"):
        report_from_data(data)


def test_reference_to_a_lettered_item_names_the_paragraph_it_belongs_to():
    # (a) holds a nested numbered paragraph (1.2); (b) still belongs to 1.1.
    data = report(purpose=["Intro.", {"letters": [{"text": "x", "blocks": ["Nested."]},
                                                  {"text": "y", "label": "second"}]},
                           {"text": "See [[second]]."}])
    doc = build(report_from_data(data))
    assert doc.labels["second"] == "1.1(b)"


def test_lettered_references_name_their_subpoint_or_section():
    data = report(background=["Para.", {"subpoint": "Point", "blocks": [{"letters": [{"text": "x", "label": "in-sub"}]}]},
                              {"letters": [{"text": "y", "label": "after-sub"}]}],
                  recommendations=[{"letters": [{"text": "z", "label": "bare"}]}])
    labels = build(report_from_data(data)).labels
    assert (labels["in-sub"], labels["after-sub"], labels["bare"]) == ("2.1.1(a)", "2.1(a)", "3.0(a)")


def test_section_references_drop_a_trailing_full_stop():
    data = report(law=["See [[section:purpose]]."])
    doc = build(report_from_data(data), Theme(THEMES / "plain"))
    law = next(s for s in doc.sections if s.key == "law")
    assert "".join(span.text for span in law.blocks[0].text) == "See 1."


@pytest.mark.parametrize("text", ["See [[ strategy ]].", "See [[section:purpose.", "See [[]]."])
def test_malformed_references_are_errors_not_published_brackets(text):
    with pytest.raises(InputError, match=r"sections\.law\[0\]\.p: malformed reference near"):
        build(report_from_data(report(law=[text])))


def test_a_label_on_a_bullet_is_refused_where_it_is_written():
    data = report(law=[{"bullets": [{"text": "b", "label": "bee"}]}])
    with pytest.raises(InputError, match=r"sections\.law\[0\]\.bullets\[0\]\.label: label 'bee' is on an item that has no number"):
        build(report_from_data(data))


def test_theme_text_template_errors_name_the_user_theme_file_line_and_key(tmp_path):
    (tmp_path / "theme.yaml").write_text(
        'kinds:\n  report:\n    title_block:\n      - [council, "{{ council.name }}"]\n'
        '      - [title, "{{ title.__class__ }}"]\n', encoding="utf-8")
    with pytest.raises(Exception) as err:
        build(report_from_data(report()), Theme(tmp_path))
    (line,) = err.value.lines()
    assert line.startswith(f"{tmp_path / 'theme.yaml'}:5: kinds.report.title_block[1][1]: template error: "
                           "access to attribute '__class__' of 'str' object is unsafe")
