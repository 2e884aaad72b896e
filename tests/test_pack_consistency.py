"""Pack consistency warnings (pack/consistency.py) and the "Agenda Item N" stamp on each report.

The warnings are checked on purpose-built meeting/report pairs through `make-report check` and
`make-report pack` (one located line each, in the file whose line it is; --strict exits 2 and
writes nothing); the stamp is read back with pdftotext from the public pack, the full pack and
the items/ files, and from the items/ DOCX through LibreOffice.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pack_inputs import HEAD, REPORT, run_cli
from pdf_structure import problems as structure_problems
from readers import A4_W, normalise, pdfinfo, pdftotext

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "dudley-2005-cabinet" / "meeting.yaml"
STAMP = re.compile(r"Agenda Item (\d+)")  # the stamp; the agenda's "Agenda items" heading does not match


def meeting_with(folder: Path, report: str, *, head: str = HEAD, items: str = "  - title: Apologies\n"
                 "  - report: r.yaml\n") -> Path:
    """Write r.yaml and a meeting listing it (as item 2 unless ``items`` says otherwise)."""
    (folder / "r.yaml").write_text(report, encoding="utf-8")
    path = folder / "meeting.yaml"
    path.write_text(head + items, encoding="utf-8")
    return path


def report_text(meeting: str = "meeting: {body: Cabinet, date: 2026-01-14}",
                council: str = "council: {name: Test Borough Council}") -> str:
    return (f"{council}\n{meeting}\ntitle: A report\nsections:\n  purpose: [Roads.]\n"
            "  recommendations: [That Cabinet notes.]\n")


def check(meeting: Path, *extra: str) -> tuple[int, list[str]]:
    """Run `make-report check MEETING`; return its exit code and its finding lines."""
    code, _, err = run_cli("check", *extra, str(meeting))
    return code, err.splitlines()


# --------------------------------------------------------------------------- the report's meeting
def test_a_report_for_another_date_is_warned_about_at_its_own_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    meeting = meeting_with(tmp_path, report_text("meeting:\n  body: Cabinet\n  date: 2026-01-07"))
    code, lines = check(meeting)
    assert code == 0
    assert lines == ["r.yaml:4: meeting.date: warning: this report is for 2026-01-07 but the meeting is on "
                     "2026-01-14 [report-meeting]"]


def test_a_report_for_another_body_or_council_is_warned_about(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    meeting = meeting_with(tmp_path, report_text("meeting: {body: Scrutiny Committee, date: 2026-01-14}",
                                                 "council: {name: Other District Council}"))
    code, lines = check(meeting)
    assert code == 0
    assert lines == [
        "r.yaml:1: council.name: warning: this report is from Other District Council but the meeting is of "
        "Test Borough Council [report-meeting]",
        "r.yaml:2: meeting.body: warning: this report is for Scrutiny Committee but the meeting is of Cabinet "
        "[report-meeting]"]


def test_a_wrong_agenda_item_number_is_warned_about(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    meeting = meeting_with(tmp_path, report_text('meeting: {body: Cabinet, date: 2026-01-14, item: "7"}'))
    assert check(meeting)[1] == [
        "r.yaml:2: meeting.item: warning: this report says it is agenda item 7 but it is item 2 on the agenda "
        "(the pack prints 2) [report-meeting]"]


@pytest.mark.parametrize("meeting", [
    'meeting: {body: Cabinet, date: 2026-01-14, item: "2"}',
    'meeting: {body: the cabinet, date: 2026-01-14, item: "Item 2."}',
    # on its way through scrutiny: this meeting is one of its `meetings`
    'meeting: {body: Scrutiny, date: 2026-01-05, item: "9"}\nmeetings: [{body: Cabinet, date: 2026-01-14, item: "2"}]',
])
def test_a_report_that_names_this_meeting_and_item_is_not_warned_about(tmp_path, meeting):
    path = meeting_with(tmp_path, report_text(meeting, "council: {name: Test Borough}"))
    assert check(path, "--strict") == (0, [])


# --------------------------------------------------------------------------- the meeting's day
@pytest.mark.parametrize("date, jurisdiction, expected", [
    ("2026-01-17", "england", "the meeting is on Saturday 2026-01-17, a weekend: check the date"),
    ("2026-01-18", "wales", "the meeting is on Sunday 2026-01-18, a weekend: check the date"),
    ("2005-03-28", "england", "the meeting is on Monday 2005-03-28, a bank holiday in England (Easter Monday): "
                              "check the date"),
    ("2026-08-31", "wales", "the meeting is on Monday 2026-08-31, a bank holiday in Wales (Late Summer Bank Holiday): "
                            "check the date"),
])
def test_a_meeting_on_a_weekend_or_bank_holiday_is_warned_about(tmp_path, date, jurisdiction, expected):
    head = HEAD.replace("date: 2026-01-14", f"date: {date}").replace(
        "items:\n", f"settings: {{jurisdiction: {jurisdiction}}}\nitems:\n")
    meeting = meeting_with(tmp_path, "", head=head, items="  - title: Apologies\n")
    code, lines = check(meeting)
    assert code == 0 and lines == [f"{meeting}:3: date: warning: {expected} [meeting-day]"]


def test_a_report_listed_twice_is_warned_about_and_mixed_listing_is_still_an_error(tmp_path):
    items = "  - report: r.yaml\n  - title: Apologies\n  - report: r.yaml\n"
    meeting = meeting_with(tmp_path, report_text(), items=items)
    assert check(meeting)[1] == [f"{meeting}:10: items[2].report: warning: this report is also item 1: it is on "
                                 "the agenda twice [listed-twice]"]
    meeting.write_text(HEAD + items + "    exempt: 3\n    public_title: A matter\n", encoding="utf-8")
    code, lines = check(meeting)
    assert code == 2 and "is also item 3, which is Part B" in lines[0]


def test_check_json_gives_the_pack_warnings_with_their_check(tmp_path):
    import json

    meeting = meeting_with(tmp_path, report_text("meeting: {body: Cabinet, date: 2026-01-07}"))
    code, out, _ = run_cli("check", "--format", "json", "--strict", str(meeting))
    assert code == 2
    assert [(f["field"], f["check"], f["severity"], f["line"]) for f in json.loads(out)] == [
        ("meeting.date", "report-meeting", "warning", 2)]


def test_the_example_pack_has_no_warnings():
    code, out, err = run_cli("check", "--strict", str(EXAMPLE))
    assert (code, out, err) == (0, f"{EXAMPLE}: ok\n", "")


# --------------------------------------------------------------------------- pack: warn, or --strict
def test_pack_prints_warnings_and_builds_but_strict_writes_nothing(tmp_path):
    head = HEAD.replace("date: 2026-01-14", "date: 2026-01-17")  # a Saturday
    meeting = meeting_with(tmp_path, "", head=head, items="  - title: Apologies\n")
    out = tmp_path / "out"
    code, _, err = run_cli("pack", "--strict", "-q", str(meeting), "-o", str(out))
    assert code == 2
    assert err.splitlines() == [
        f"make-report: warning: {meeting}:3: date: the meeting is on Saturday 2026-01-17, a weekend: check the date",
        "make-report: error: --strict: 1 warning (above), so nothing was written"]
    assert not out.exists()
    code, _, err = run_cli("pack", "-q", str(meeting), "-o", str(out))
    assert code == 0 and err.count("make-report: warning:") == 1 and (out / "public-pack.pdf").is_file()


# --------------------------------------------------------------------------- the stamp
LONG = ", ".join(f"Paragraph {n} about the roads and pavements of the borough and what they cost" for n in range(60))


@pytest.fixture(scope="module")
def stamped(tmp_path_factory) -> Path:
    """A clean pack: procedural item 1, a two-page public report (item 2), a Part B report (item 3)."""
    folder = tmp_path_factory.mktemp("stamp")
    long = "\n".join(f"    - {LONG}" for _ in range(4))
    (folder / "a.yaml").write_text(REPORT.replace("  purpose: [%s]", "  purpose:\n%s")
                                   % ("Roads", "public", long), encoding="utf-8")
    (folder / "c.yaml").write_text(REPORT % ("Land", "{status: exempt, paragraphs: [3]}", "Land."),
                                   encoding="utf-8")
    (folder / "meeting.yaml").write_text(HEAD + "  - title: Apologies\n  - report: a.yaml\n"
                                         "  - report: c.yaml\n    public_title: A property matter\n",
                                         encoding="utf-8")
    out = folder / "out"
    code, _, err = run_cli("pack", "-q", str(folder / "meeting.yaml"), "-o", str(out))
    assert (code, err) == (0, "")  # no warnings: the stamp's pack is consistent
    return out


def stamps(pdf: Path) -> dict[int, list[str]]:
    """Return each page's stamps as pdftotext reads them: {page: ["2"], …}, pages without none."""
    found = {}
    for page in range(1, int(pdfinfo(pdf)["Pages"]) + 1):
        numbers = STAMP.findall(pdftotext(pdf, page=page))
        if numbers:
            found[page] = numbers
    return found


def top_right(pdf: Path, page: int) -> str:
    """Return the text at the top right of a page: its right half, 80 points below the running header."""
    import subprocess

    from readers import BODY_TOP, require

    return subprocess.run([require("pdftotext"), "-f", str(page), "-l", str(page), "-x", str(A4_W // 2),
                           "-y", str(BODY_TOP), "-W", str(A4_W // 2), "-H", "80", str(pdf), "-"],
                          check=True, capture_output=True, text=True).stdout


def test_each_report_is_stamped_on_its_first_page_in_both_packs(stamped):
    public, full = stamped / "public-pack.pdf", stamped / "full-pack.pdf"
    agenda = int(pdfinfo(stamped / "agenda.pdf")["Pages"])
    report_pages = int(pdfinfo(next((stamped / "items").glob("02-*.pdf")))["Pages"])
    assert report_pages >= 2  # so "first page only" means something
    first = agenda + 1
    assert stamps(public) == {first: ["2"]}  # the Part B notice is not stamped
    assert stamps(full) == {first: ["2"], first + report_pages: ["3"]}
    for pdf, page in ((public, first), (full, first), (full, first + report_pages)):
        assert STAMP.search(top_right(pdf, page)), (pdf.name, page)
    # the pack fills in the report's own item number, too
    assert "Agenda item 2" in normalise(pdftotext(public, page=first))


def test_item_files_are_stamped_on_their_first_page(stamped, libreoffice):
    roads, land = next((stamped / "items").glob("02-*.pdf")), next((stamped / "items" / "part-b").glob("*.pdf"))
    assert stamps(roads) == {1: ["2"]} and STAMP.search(top_right(roads, 1))
    assert stamps(land) == {1: ["3"]}
    assert structure_problems(roads) == []  # the stamp is tagged text, not stray content
    docx = libreoffice([next((stamped / "items").glob("02-*.docx")),
                        next((stamped / "items" / "part-b").glob("*.docx"))])
    assert stamps(docx[0]) == {1: ["2"]} and stamps(docx[1]) == {1: ["3"]}
    assert STAMP.search(top_right(docx[0], 1))  # right-aligned in Word's view too


def test_a_report_rendered_alone_has_no_stamp(tmp_path):
    from cabinet_reports.api import load_report, render_bytes

    (tmp_path / "a.yaml").write_text(REPORT % ("Roads", "public", "Roads."), encoding="utf-8")
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(render_bytes(load_report(tmp_path / "a.yaml"), "pdf"))
    text = normalise(pdftotext(pdf))
    assert not STAMP.search(text) and "Agenda item" not in text


def test_a_renumbered_report_is_rendered_again_with_its_new_number(tmp_path):
    from cabinet_reports.pack import build_pack

    (tmp_path / "a.yaml").write_text(REPORT % ("Roads", "public", "Roads."), encoding="utf-8")
    meeting = tmp_path / "meeting.yaml"
    meeting.write_text(HEAD + "  - report: a.yaml\n", encoding="utf-8")
    out = tmp_path / "out"
    build_pack(meeting, out, jobs=1)
    assert stamps(next((out / "items").glob("01-*.pdf"))) == {1: ["1"]}
    meeting.write_text(HEAD + "  - title: Apologies\n  - report: a.yaml\n", encoding="utf-8")
    build_pack(meeting, out, jobs=1)  # the cache holds item 1's render: it must not be reused
    assert stamps(next((out / "items").glob("02-*.pdf"))) == {1: ["2"]}


def test_the_theme_words_the_stamp_and_can_switch_it_off(tmp_path):
    from cabinet_reports.api import build
    from cabinet_reports.pack.load import load_meeting, stamp_document
    from cabinet_reports.theme import Theme

    meeting = meeting_with(tmp_path, report_text())
    for words, expected in (('"Item {{ number }}"', "Item 2"), ('""', "")):
        theme_dir = tmp_path / f"theme{len(expected)}"
        theme_dir.mkdir()
        (theme_dir / "theme.yaml").write_text(f"words:\n  agenda_item_stamp: {words}\n", encoding="utf-8")
        item = load_meeting(meeting, Theme(theme_dir)).items[1]
        assert item.stamp == expected
        doc = build(item.report, Theme(theme_dir))
        lines = [(line.role, line.text) for line in stamp_document(doc, item.stamp).title_lines]
        assert lines[0] == ("agenda-item", "Item 2") if expected else lines == [
            (line.role, line.text) for line in doc.title_lines]


def test_a_further_check_is_one_function_and_an_error_stops_the_pack(tmp_path, monkeypatch):
    from cabinet_reports.errors import Problem
    from cabinet_reports.pack import consistency
    from cabinet_reports.pack.consistency import PackWarning

    meeting = meeting_with(tmp_path, report_text())
    severity = "warning"

    def clearances(loaded):
        item = loaded.items[1]
        yield PackWarning("clearances", Problem("no finance clearance", str(item.path), 1, "clearances"), severity)

    monkeypatch.setattr(consistency, "CHECKS", consistency.CHECKS + [clearances])
    assert check(meeting) == (0, [f"{tmp_path / 'r.yaml'}:1: clearances: warning: no finance clearance [clearances]"])
    severity = "error"
    out = tmp_path / "out"
    code, _, err = run_cli("pack", "-q", str(meeting), "-o", str(out))
    assert (code, err) == (2, f"make-report: error: {tmp_path / 'r.yaml'}:1: clearances: no finance clearance\n")
    assert not out.exists()
