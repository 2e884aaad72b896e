"""The meeting file: validation with located errors, item kinds, Part B rules, settings.

These tests only load meetings (reports are loaded and numbered, nothing is rendered)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from cabinet_reports.errors import InputError
from cabinet_reports.meeting import Meeting
from cabinet_reports.pack import load_meeting, publication_warnings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "dudley-2005-cabinet" / "meeting.yaml"

HEAD = ("council: Test Borough Council\nbody: Cabinet\ndate: 2026-01-14\ntime: \"10.00 am\"\n"
        "venue: Town Hall\ncontact: {name: Democratic Services}\n")
REPORT = """council: {name: Test Borough Council}
meeting: {body: Cabinet, date: 2026-01-14}
title: Land sale
classification: %s
sections:
  purpose: [To test.]
  recommendations: [That Cabinet notes.]
"""


def write(tmp_path: Path, text: str, name: str = "meeting.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_meeting(path)
    return info.value.lines()


def test_example_loads_with_every_kind_of_item():
    loaded = load_meeting(EXAMPLE)
    kinds = [(it.number, it.kind, it.exempt) for it in loaded.items]
    assert kinds == [(1, "text", False), (2, "text", False), (3, "pdf", False), (4, "text", False),
                     (5, "report", False), (6, "report", False), (7, "report", True)]
    part_b = loaded.items[-1]
    assert part_b.exemption.paragraphs == [9] and part_b.exemption.jurisdiction == "england-pre-2006"
    assert part_b.public_title != part_b.title and part_b.shown_title(public=True) == part_b.public_title
    assert loaded.items[4].report_of == ["the Chief Executive", "the Director of Social Services"]
    assert loaded.warnings == []


def test_unknown_and_missing_fields_are_located(tmp_path):
    path = write(tmp_path, HEAD.replace("venue: Town Hall\n", "venu: Town Hall\n") + "items:\n  - title: A\n")
    # The suggestion explains the missing venue, so it is one problem on one line.
    # Written out, not taken from validation.fields_of: the list the user reads is what is tested.
    assert errors(path) == [f"{path}:5: venu: unknown field 'venu' (did you mean 'venue'?); fields here: "
                            "language, council, body, date, time, venue, contact, membership, items, settings"]


def test_unquoted_time_is_explained(tmp_path):
    path = write(tmp_path, HEAD.replace('time: "10.00 am"', "time: 18:00") + "items:\n  - title: A\n")
    assert errors(path) == [f'{path}:4: time: write the time in quotes, e.g. time: "6.00 pm" '
                            "(YAML reads 18:00 as a number) (got 18:00)"]


def test_a_meeting_needs_items(tmp_path):
    path = write(tmp_path, HEAD + "items: []\n")
    assert "items: needs at least 1 item (it is empty)" in errors(path)[0]


def test_exempt_shorthand_and_jurisdiction_default(tmp_path):
    path = write(tmp_path, HEAD + "settings: {jurisdiction: wales}\nitems:\n  - title: Staffing\n    exempt: 12\n"
                                  "    public_title: A staffing matter\n"
                                  "  - title: Contract\n    exempt: {paragraphs: [3], jurisdiction: england}\n"
                                  "    public_title: A contract\n")
    loaded = load_meeting(path)
    assert [(i.exemption.paragraphs, i.exemption.jurisdiction) for i in loaded.items] == [
        ([12], "wales"), ([3], "england")]


def test_a_single_paragraph_needs_no_list(tmp_path):
    path = write(tmp_path, HEAD + "items:\n  - title: Staffing\n    exempt: {paragraphs: 1}\n"
                                  "    public_title: A staffing matter\n")
    assert load_meeting(path).items[0].exemption.paragraphs == [1]


def test_exempt_paragraph_outside_the_schedule_is_located(tmp_path):
    path = write(tmp_path, HEAD + "items:\n  - title: A\n    exempt: 12\n    public_title: B\n")
    assert errors(path) == [f"{path}:9: items[0].exempt: paragraph 12 is not in Schedule 12A for england (1–7)"]


def test_report_classification_makes_the_item_part_b(tmp_path):
    write(tmp_path, REPORT % "{status: exempt, paragraphs: [3]}", "r.yaml")
    loaded = load_meeting(write(tmp_path, HEAD + "items:\n  - report: r.yaml\n    public_title: A property matter\n"))
    item = loaded.items[0]
    assert item.exempt and item.exemption.paragraphs == [3] and item.title == "Land sale"
    assert item.shown_title(public=True) == "A property matter"


PUBLIC_TITLE_MISSING = ("a Part B item needs a public_title: the title the public agenda and pack show "
                        "instead of its own")


def test_an_exempt_report_needs_a_public_title(tmp_path):
    """The report's own title may itself be exempt: it must never be the public default."""
    write(tmp_path, REPORT % "{status: exempt, paragraphs: [3]}", "r.yaml")
    path = write(tmp_path, HEAD + "items:\n  - title: Apologies\n  - report: r.yaml\n")
    assert errors(path) == [f"{path}:9: items[1].public_title: {PUBLIC_TITLE_MISSING}"]


@pytest.mark.parametrize("item", [
    "  - title: Staffing matter\n    exempt: 1\n",
    "  - title: Study\n    pdf: study.pdf\n    exempt: 3\n",
    "  - report: r.yaml\n    exempt: 3\n",
])
def test_every_item_marked_exempt_needs_a_public_title(tmp_path, item):
    import weasyprint

    write(tmp_path, REPORT % "public", "r.yaml")
    (tmp_path / "study.pdf").write_bytes(weasyprint.HTML(string="<p>Study</p>").write_pdf())
    path = write(tmp_path, HEAD + "items:\n" + item)
    assert [line for line in errors(path) if "public_title" in line] == [
        f"{path}:8: items[0].public_title: {PUBLIC_TITLE_MISSING}"]


def test_conflicting_paragraphs_are_an_error(tmp_path):
    write(tmp_path, REPORT % "{status: exempt, paragraphs: [3]}", "r.yaml")
    path = write(tmp_path, HEAD + "items:\n  - report: r.yaml\n    exempt: 1\n")
    assert errors(path) == [f"{path}:9: items[0].exempt: the report is exempt under paragraph(s) 3 (england); "
                            "make this agree or remove it"]


def test_public_report_on_a_part_b_item_is_treated_as_exempt(tmp_path):
    write(tmp_path, REPORT % "public", "r.yaml")
    path = write(tmp_path, HEAD + "items:\n  - report: r.yaml\n    exempt: 3\n    public_title: A matter\n")
    loaded = load_meeting(path)
    item = loaded.items[0]
    assert item.exempt and item.report.classification.exempt  # rendered marked NOT FOR PUBLICATION
    assert len(loaded.warnings) == 1 and "treated as exempt" in loaded.warnings[0]


def test_attached_file_that_is_not_a_pdf(tmp_path):
    write(tmp_path, "not a pdf", "minutes.pdf")
    path = write(tmp_path, HEAD + "items:\n  - title: Minutes\n    pdf: minutes.pdf\n")
    assert errors(path) == [f"{path}:9: items[0].pdf: attached PDF minutes.pdf is damaged or is not a PDF"]


def test_attached_pdf_with_a_password(tmp_path):
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(tmp_path / "minutes.pdf", encryption=pikepdf.Encryption(owner="o", user="u"))
    path = write(tmp_path, HEAD + "items:\n  - title: Minutes\n    pdf: minutes.pdf\n")
    assert errors(path) == [f"{path}:9: items[0].pdf: attached PDF minutes.pdf is encrypted: "
                            "attach a copy without a password"]


@pytest.mark.parametrize("jurisdiction, days, latest", [
    ("england", 5, dt.date(2005, 3, 8)),  # Wednesday meeting: Tuesday of the week before
    ("wales", 3, dt.date(2005, 3, 10)),
])
def test_clear_days_follow_the_jurisdiction(jurisdiction, days, latest):
    meeting = Meeting.model_validate({
        "council": "X", "body": "Cabinet", "date": "2005-03-16", "time": "6 pm", "venue": "Hall",
        "contact": {"name": "Clerk"}, "items": [{"title": "Apologies"}],
        "settings": {"jurisdiction": jurisdiction}})
    assert meeting.settings.days == days
    found, warnings = publication_warnings(meeting, latest)
    assert found == latest and warnings == []
    _, warnings = publication_warnings(meeting, latest + dt.timedelta(days=1))
    assert len(warnings) == 1 and f"{days} are required ({jurisdiction})" in warnings[0]


def test_easter_counts_against_the_deadline():
    # Meeting on Wednesday 4 April 2018: Good Friday (30 March) and Easter Monday (2 April) are not clear days.
    meeting = Meeting.model_validate({
        "council": "X", "body": "Cabinet", "date": "2018-04-04", "time": "6 pm", "venue": "Hall",
        "contact": {"name": "Clerk"}, "items": [{"title": "Apologies"}]})
    latest, _ = publication_warnings(meeting, None)
    assert latest == dt.date(2018, 3, 23)


@pytest.mark.parametrize("heading, html_heading, docx_heading", [
    ("Item {{ number }}: {{ title }}", '<span class="num">Item 1:</span>Apologies</h3>', "Item 1: Apologies"),
    ("{{ title }} (item {{ number }})", "<h3>Apologies (item 1)</h3>", "Apologies (item 1)"),
])
def test_both_agendas_take_every_format_from_the_theme(tmp_path, heading, html_heading, docx_heading):
    """agenda.html and agenda.docx lay out one AgendaContent: a theme's wording reaches both."""
    import io

    from docx import Document

    from cabinet_reports.pack import agenda_content, agenda_docx
    from cabinet_reports.pack.plan import _agenda_html
    from cabinet_reports.theme import Theme

    (tmp_path / "theme").mkdir()
    (tmp_path / "theme" / "theme.yaml").write_text(
        "words:\n"
        f"  agenda_item_heading: \"{heading}\"\n"
        "  agenda_member: \"{{ role }}: {{ name }}\"\n"
        "  agenda_date: \"{{ date }} ({{ weekday }})\"\n"
        "  agenda_contact: \"{{ name }}, telephone {{ phone }}\"\n", encoding="utf-8")
    theme = Theme(tmp_path / "theme")
    path = write(tmp_path, HEAD.replace("{name: Democratic Services}", "{name: Clerk, phone: 01234 567890}")
                 + "membership: [{name: Cllr A, role: Chair}]\nitems:\n  - title: Apologies\n")
    loaded = load_meeting(path, theme)
    content = agenda_content(loaded, theme, {}, None)
    assert content.members == ["Chair: Cllr A"] and content.items[0].heading == docx_heading
    assert content.details[0][1] == "14th January 2026 (Wednesday)"
    assert content.details[3][1] == "Clerk, telephone 01234 567890"
    html = _agenda_html(loaded, theme, {}, None)
    doc = Document(io.BytesIO(agenda_docx(loaded, theme, {}, None)))
    docx_text = [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert html_heading in html and docx_heading in docx_text
    for text in ("Chair: Cllr A", "14th January 2026 (Wednesday)", "Clerk, telephone 01234 567890"):
        assert f">{text}<" in html and text in docx_text


# --------------------------------------------------------------------------- issue 12: Part B safety
@pytest.mark.parametrize("second", ["r.yaml", "./sub/../r.yaml", "link.yaml", "hard.yaml"])
def test_a_report_listed_public_and_part_b_is_an_error(tmp_path, second):
    """Its exempt text would reach the public pack and items/ through the public listing."""
    write(tmp_path, REPORT % "public", "r.yaml")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.yaml").symlink_to(tmp_path / "r.yaml")
    os.link(tmp_path / "r.yaml", tmp_path / "hard.yaml")
    path = write(tmp_path, HEAD + "items:\n  - report: r.yaml\n"
                                  f"  - report: {second}\n    exempt: 3\n    public_title: A matter\n")
    assert [line for line in errors(path) if "also item" in line] == [
        f"{path}:8: items[0].report: r.yaml is also item 2, which is Part B: a file listed twice must be Part B "
        "both times (add exempt and public_title here) or be listed once"]


def test_a_report_listed_twice_with_the_same_status_is_allowed(tmp_path):
    write(tmp_path, REPORT % "{status: exempt, paragraphs: [3]}", "r.yaml")
    path = write(tmp_path, HEAD + "items:\n  - report: r.yaml\n    public_title: A matter\n"
                                  "  - report: r.yaml\n    public_title: The same matter\n")
    assert [it.exempt for it in load_meeting(path).items] == [True, True]


def test_an_attached_pdf_listed_public_and_part_b_is_an_error(tmp_path):
    import weasyprint

    (tmp_path / "study.pdf").write_bytes(weasyprint.HTML(string="<p>Study</p>").write_pdf())
    path = write(tmp_path, HEAD + "items:\n  - {title: Study, pdf: study.pdf}\n"
                                  "  - {title: Study, pdf: study.pdf, exempt: 3, public_title: A study}\n")
    assert any(line.startswith(f"{path}:8: items[0].pdf: study.pdf is also item 2, which is Part B")
               for line in errors(path))


@pytest.mark.parametrize("item, line, field", [
    ("  - report: r.yaml\n    public_title: [a, b]\n", 9, "items[0].public_title"),
    ("  - report: r.yaml\n    text: {a: 1}\n", 9, "items[0].text"),
    ("  - title: Study\n    pdf: s.pdf\n    public_title: [x]\n", 10, "items[0].public_title"),
    ("  - report: r.yaml\n    public_report_of: {a: 1}\n", 9, "items[0].public_report_of"),
])
def test_an_item_error_names_its_own_field_and_line(tmp_path, item, line, field):
    """Not the item's `report:` or `pdf:` key (pydantic's union tag in the error location)."""
    write(tmp_path, REPORT % "public", "r.yaml")
    path = write(tmp_path, HEAD + "items:\n" + item)
    [error] = errors(path)
    assert error.startswith(f"{path}:{line}: {field}: expected text (got ")


def test_a_part_b_public_title_equal_to_the_real_title_is_warned_about(tmp_path):
    write(tmp_path, REPORT % "{status: exempt, paragraphs: [3]}", "r.yaml")
    path = write(tmp_path, HEAD + "items:\n  - report: r.yaml\n    public_title: \"land  SALE\"\n"
                                  "  - title: Talks\n    exempt: 3\n    public_title: Talks\n"
                                  "  - title: Other\n    exempt: 3\n    public_title: A contract matter\n")
    warnings = load_meeting(path).warnings
    assert warnings == [f"{path}:{n}: items[{i}].public_title: the public title is the item's own title: if the "
                        "title itself is exempt information, give a neutral one (e.g. 'A property matter')"
                        for i, n in ((0, 9), (1, 12))]


def test_the_public_agenda_shows_only_the_cleared_report_of_line(tmp_path):
    from cabinet_reports.pack import agenda_content
    from cabinet_reports.theme import Theme

    write(tmp_path, (REPORT % "{status: exempt, paragraphs: [3]}").replace(
        "title: Land sale\n", "title: Land sale\nreport_of: the Zephyr Liaison Officer\n"), "r.yaml")
    write(tmp_path, REPORT % "public", "p.yaml")
    path = write(tmp_path, HEAD + "items:\n  - report: p.yaml\n"
                                  "  - report: r.yaml\n    public_title: A matter\n"
                                  "  - report: r.yaml\n    public_title: A matter\n"
                                  "    public_report_of: the Director of Resources\n"
                                  "  - {title: Study, pdf: s.pdf, report_of: Zephyr Consulting, exempt: 3,"
                                  " public_title: A study}\n")
    import weasyprint

    (tmp_path / "s.pdf").write_bytes(weasyprint.HTML(string="<p>Study</p>").write_pdf())
    loaded = load_meeting(path)
    public = agenda_content(loaded, Theme(), None, None)
    assert [e.report_of for e in public.items] == ["", "", "Report of the Director of Resources", ""]
    full = agenda_content(loaded, Theme(), None, None, public=False)
    assert [e.report_of for e in full.items] == ["", "Report of the Zephyr Liaison Officer",
                                                 "Report of the Zephyr Liaison Officer",
                                                 "Report of Zephyr Consulting"]
    assert [e.heading for e in full.items][1:3] == ["2. Land sale", "3. Land sale"]


def test_a_report_whose_logo_is_missing_is_a_problem_found_with_the_others(tmp_path):
    """Found while loading (with every other problem), not half way through rendering the pack."""
    write(tmp_path, (REPORT % "public").replace("council: {name: Test Borough Council}",
                                                "council: {name: Test Borough Council, logo: crest.png}"), "r.yaml")
    path = write(tmp_path, HEAD + "items:\n  - report: r.yaml\n  - report: gone.yaml\n")
    assert errors(path) == [f"{tmp_path / 'r.yaml'}:1: council.logo: logo file not found",
                            f"{path}:9: items[1].report: report file not found: gone.yaml"]
