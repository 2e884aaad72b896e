"""Meeting packs end to end: build the Dudley 2005 Cabinet example through the CLI once, then
read every output back with tools that are not ours (poppler, qpdf, pypdf, python-docx's zip)."""

from __future__ import annotations

import contextlib
import html
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pypdf
import pytest
import yaml

from cabinet_reports.cli import main
from readers import normalise, pdfinfo, pdftotext, require

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "dudley-2005-cabinet"
MEETING = EXAMPLE / "meeting.yaml"
SECRET = "Castlegate Quarry Holdings"  # from the Part B report: never in a public output
SECRET_TITLE = "Tender Results"  # the Part B report's own title; the agenda shows a public title
PUBLIC_TITLE = "Disposal of the Former Highways Depot, Northfield Road"
FOOTER = re.compile(r"Page (\d+) of (\d+)")


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def pack(example_pack_cli) -> Path:
    """The example pack, built once through the command line (conftest.py)."""
    out, code, stdout, stderr = example_pack_cli
    assert code == 0, stderr
    assert stderr == ""  # the example is clean: no warnings
    assert "latest publication date: Tuesday 2005-03-08" in stdout
    return out


@pytest.fixture(scope="session")
def items() -> list[dict]:
    return yaml.safe_load(MEETING.read_text(encoding="utf-8"))["items"]


def outline(path: Path) -> list[tuple[str, int, list]]:
    """Return the top-level bookmarks as (title, 1-based page, children)."""
    reader = pypdf.PdfReader(path)
    entries: list[tuple[str, int, list]] = []
    for entry in reader.outline:
        if isinstance(entry, list):
            entries[-1] = (entries[-1][0], entries[-1][1], entry)
        else:
            entries.append((entry.title, reader.get_destination_page_number(entry) + 1, []))
    return entries


def all_titles(path: Path) -> list[str]:
    reader = pypdf.PdfReader(path)
    titles: list[str] = []

    def walk(nodes):
        for node in nodes:
            if isinstance(node, list):
                walk(node)
            else:
                titles.append(node.title)
    walk(reader.outline)
    return titles


def test_pack_writes_every_output(pack):
    names = {p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file()}
    assert {"agenda.pdf", "agenda.docx", "public-pack.pdf", "full-pack.pdf"} <= names
    assert "items/03-minutes.pdf" in names
    assert "items/05-partnership-strategy.pdf" in names and "items/05-partnership-strategy.docx" in names
    assert any(n.startswith("items/part-b/07-not-for-publication-") for n in names)
    # Part B files are kept apart: uploading every file in items/ publishes nothing exempt
    public_items = sorted(p.name for p in (pack / "items").iterdir() if p.is_file())
    assert public_items == ["03-minutes.pdf", "05-partnership-strategy.docx", "05-partnership-strategy.html",
                            "05-partnership-strategy.pdf", "06-capital-programme-monitoring-2004-05.docx",
                            "06-capital-programme-monitoring-2004-05.html",
                            "06-capital-programme-monitoring-2004-05.pdf"]
    assert "agenda.html" in names
    assert sorted(p.name for p in (pack / "items" / "part-b").iterdir()) == [
        "07-not-for-publication-disposal-of-the-former-highways-depot-northfield.docx",
        "07-not-for-publication-disposal-of-the-former-highways-depot-northfield.pdf"]
    assert not any(n.endswith(".tmp") for n in names)


def test_public_pack_bookmarks_list_every_item(pack, items):
    titles = [title for title, _, _ in outline(pack / "public-pack.pdf")]
    expected = ["Agenda"]
    for n, item in enumerate(items, start=1):
        expected.append(f"{n}. {item.get('public_title') or item.get('title') or ''}".rstrip())
    assert len(titles) == len(expected) == 8
    for got, want in zip(titles, expected):
        assert got.startswith(want), (got, want)
    assert titles[5] == "5. Partnership Strategy" and titles[6] == "6. Capital Programme Monitoring 2004/05"


def test_report_bookmarks_are_nested_under_their_item(pack):
    entries = {title: children for title, _, children in outline(pack / "public-pack.pdf")}
    nested = [c.title for c in entries["5. Partnership Strategy"] if not isinstance(c, list)]
    assert nested == ["PARTNERSHIP STRATEGY"]
    assert "1.0 PURPOSE" in all_titles(pack / "public-pack.pdf")


@pytest.mark.parametrize("name", ["public-pack.pdf", "full-pack.pdf"])
def test_every_page_prints_its_position(pack, name):
    pages = int(pdfinfo(pack / name)["Pages"])
    for position in range(1, pages + 1):
        found = FOOTER.findall(pdftotext(pack / name, page=position))
        assert found == [(str(position), str(pages))], (position, found)


def test_full_pack_is_longer_by_the_part_b_pages(pack):
    public = int(pdfinfo(pack / "public-pack.pdf")["Pages"])
    full = int(pdfinfo(pack / "full-pack.pdf")["Pages"])
    part_b = next((pack / "items" / "part-b").glob("*.pdf"))
    # the Part B report's pages replace its one public notice page
    assert full == public - 1 + int(pdfinfo(part_b)["Pages"]) and full > public


def _agenda_references(text: str, titles: list[str]) -> dict[str, int]:
    """Return the first page the agenda gives for each item title."""
    refs = {}
    for title in titles:
        after = text[text.index(title) + len(title):]
        m = re.search(r"Pages? (\d+)", after)
        refs[title] = int(m.group(1))
    return refs


@pytest.mark.parametrize("name", ["public-pack.pdf", "full-pack.pdf"])
def test_agenda_page_references_match_where_items_start(pack, name):
    entries = outline(pack / name)
    agenda_pages = entries[1][1]  # a procedural item's bookmark points at the agenda
    starts = {title.split(". ", 1)[1]: page for title, page, _ in entries[1:]}
    with_papers = {t: p for t, p in starts.items() if p > 2}  # the agenda is two pages
    assert len(with_papers) == 4 and agenda_pages == 1
    agenda_text = normalise(pdftotext(pack / name, body_only=True).split("\f")[0] + " " +
                            pdftotext(pack / name, body_only=True, page=2))
    public_titles = {t: (PUBLIC_TITLE if t.startswith(PUBLIC_TITLE) else t) for t in with_papers}
    refs = _agenda_references(agenda_text, list(public_titles.values()))
    for title, page in with_papers.items():
        assert refs[public_titles[title]] == page, title
        # and the item really starts there: its first page names it
        first_page = normalise(pdftotext(pack / name, page=page)).upper()
        key = {"Minutes": "MINUTES OF THE MEETING"}.get(title, title.upper()[:30])
        assert key in first_page, (title, page)


def test_standalone_agenda_gives_public_pack_pages(pack):
    agenda = normalise(pdftotext(pack / "agenda.pdf"))
    public = normalise(pdftotext(pack / "public-pack.pdf", page=1) + " " + pdftotext(pack / "public-pack.pdf", page=2))
    for ref in ("Pages 3 to 4", "Pages 5 to 11", "Pages 12 to 13", "Page 14"):
        assert ref in agenda and ref in public
    assert FOOTER.findall(agenda) == [("1", "2"), ("2", "2")]


def test_agenda_lists_part_b_with_its_reason_only(pack):
    agenda = normalise(pdftotext(pack / "agenda.pdf"))
    assert PUBLIC_TITLE in agenda
    assert ("Not for publication by virtue of paragraph 9 of Part 1 of Schedule 12A to the "
            "Local Government Act 1972.") in agenda
    assert "Part B: items not for publication" in agenda


def test_public_pack_has_one_notice_page_for_part_b(pack):
    last = normalise(pdftotext(pack / "public-pack.pdf", page=14))
    assert "NOT FOR PUBLICATION" in last and f"Item 7: {PUBLIC_TITLE}" in last
    assert "by virtue of paragraph 9 of Part 1 of Schedule 12A to the Local Government Act 1972" in last


def _public_files(pack: Path) -> list[Path]:
    files = [pack / "public-pack.pdf", pack / "agenda.pdf", pack / "agenda.docx", pack / "agenda.html"]
    files += [p for p in (pack / "items").iterdir() if p.is_file()]
    assert not any("not-for-publication" in p.name for p in files)
    return files


def _raw_decompressed(pdf: Path, tmp_path: Path) -> bytes:
    target = tmp_path / (pdf.stem + ".qdf.pdf")
    subprocess.run([require("qpdf"), "--qdf", "--object-streams=disable", "--decode-level=all", str(pdf),
                    str(target)], check=True, capture_output=True)
    return target.read_bytes()


@pytest.mark.parametrize("secret", [SECRET, "1,275,000", SECRET_TITLE])
def test_part_b_content_never_reaches_public_outputs(pack, tmp_path, secret):
    for path in _public_files(pack):
        if path.suffix == ".pdf":
            assert secret.lower() not in normalise(pdftotext(path)).lower(), path
            assert not any(secret.lower() in t.lower() for t in all_titles(path)), path
            reader = pypdf.PdfReader(path)
            assert secret.lower() not in str(reader.metadata or {}).lower(), path
            assert not reader.attachments, path
            raw = _raw_decompressed(path, tmp_path).lower()
            assert secret.lower().encode() not in raw, path
            assert secret.lower().encode("utf-16-be") not in raw, path
        elif path.suffix == ".html":
            raw = path.read_text(encoding="utf-8")
            assert secret.lower() not in (raw + html.unescape(raw)).lower(), path
        else:
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    assert secret.lower().encode() not in z.read(name).lower(), (path, name)


def test_part_b_content_is_in_the_full_pack_marked(pack, tmp_path):
    full = pack / "full-pack.pdf"
    # the raw-bytes check above can see a title: the full pack's bookmarks carry it
    assert SECRET_TITLE.lower().encode() in _raw_decompressed(full, tmp_path).lower()
    pages = int(pdfinfo(full)["Pages"])
    text = normalise(pdftotext(full))
    assert SECRET in text and SECRET_TITLE.upper() in text
    start = next(page for title, page, _ in outline(full) if title.startswith("7. "))  # the Part B report
    assert pages - start + 1 >= 2
    for page in range(start, pages + 1):  # every page of the Part B report carries the marking
        assert "NOT FOR PUBLICATION" in normalise(pdftotext(full, page=page))
    for page in range(1, start):
        assert "NOT FOR PUBLICATION" not in normalise(pdftotext(full, page=page)).replace(
            "Part B items (not for publication)", "")


def _struct_pages(path: Path) -> set[int]:
    """Return the 1-based pages the structure tree reaches (via /Pg of its elements), read with pypdf."""
    reader = pypdf.PdfReader(path)
    index = {page.indirect_reference.idnum: i + 1 for i, page in enumerate(reader.pages)}
    root = reader.trailer["/Root"]["/StructTreeRoot"]
    reached: set[int] = set()
    stack = [root["/K"]]
    seen = set()
    while stack:
        node = stack.pop()
        ref = getattr(node, "idnum", None)
        if ref is not None:
            if ref in seen:
                continue
            seen.add(ref)
        node = node.get_object()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            pg = node.get("/Pg")
            if pg is not None:
                reached.add(index[pg.idnum])
            if "/K" in node:
                stack.append(node["/K"])
    return reached


@pytest.mark.parametrize("name, title", [
    ("public-pack.pdf", "Cabinet, Wednesday 16th March 2005: public reports pack"),
    ("full-pack.pdf", "Cabinet, Wednesday 16th March 2005: full reports pack including Part B items (not for publication)"),
])
def test_each_pack_is_titled_as_the_theme_words_it(pack, name, title):
    # A reader shows the title (DisplayDocTitle) in place of the file name: it once read
    # "1. Apologies for absence", the bookmark of the first procedural item.
    assert pdfinfo(pack / name)["Title"] == title


def test_public_pack_is_tagged_and_its_structure_reaches_every_item(pack):
    path = pack / "public-pack.pdf"
    info = pdfinfo(path)
    assert info["Tagged"] == "yes"
    pages = int(info["Pages"])
    reached = _struct_pages(path)
    assert reached == set(range(1, pages + 1))
    parts = [o.get_object() for o in pypdf.PdfReader(path).trailer["/Root"]["/StructTreeRoot"]["/K"]["/K"]]
    assert [str(p["/T"]) for p in parts][:1] == ["Agenda"]
    assert len(parts) == 5  # the agenda and the four items with papers


def test_packs_pass_qpdf_check(pack):
    for name in ("public-pack.pdf", "full-pack.pdf", "agenda.pdf"):
        result = subprocess.run([require("qpdf"), "--check", str(pack / name)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_agenda_docx_says_what_the_pdf_says(pack):
    from docx import Document

    doc = Document(str(pack / "agenda.docx"))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "5. Partnership Strategy" in text and "Pages 5 to 11" in text and f"7. {PUBLIC_TITLE}" in text
    assert "Not for publication by virtue of paragraph 9" in text
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "Agenda items" in headings and "3. Minutes" in headings


# --------------------------------------------------------------------------- failures and warnings
def _meeting(tmp_path: Path, items: str, extra: str = "") -> Path:
    path = tmp_path / "meeting.yaml"
    path.write_text(
        "council: Test Borough Council\nbody: Cabinet\ndate: 2026-01-14\ntime: \"10.00 am\"\n"
        "venue: Town Hall\ncontact: {name: Democratic Services}\n" + extra + "items:\n" + items,
        encoding="utf-8")
    return path


REPORT = """council: {name: Test Borough Council}
meeting: {body: Cabinet, date: 2026-01-14}
title: Test report
key_decision: %s
classification: %s
sections:
  purpose: [To test.]
  recommendations: [That Cabinet notes.]
"""


def test_missing_report_file_exits_2_with_one_located_line_and_writes_nothing(tmp_path):
    meeting = _meeting(tmp_path, "  - title: Apologies\n  - report: missing/report.yaml\n")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "cabinet_reports", "pack", str(meeting), "-o", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"make-report: error: {meeting}:9: items[1].report: report file not found: missing/report.yaml"]
    assert not out.exists()


def test_every_failing_item_is_reported_with_its_own_file_and_field(tmp_path):
    (tmp_path / "bad.yaml").write_text(REPORT.replace("title: Test report\n", "titel: Test report\n")
                                       % ("false", "public"), encoding="utf-8")
    meeting = _meeting(tmp_path, "  - report: bad.yaml\n  - title: Minutes\n    pdf: nowhere.pdf\n"
                                 "  - report: gone.yaml\n")
    out = tmp_path / "out"
    code, _, err = run_cli("pack", str(meeting), "-o", str(out))
    assert code == 2
    lines = err.strip().splitlines()
    assert any("bad.yaml:3: titel: unknown field 'titel' (did you mean 'title'?)" in l for l in lines), lines
    assert f"make-report: error: {meeting}:10: items[1].pdf: attached PDF not found: nowhere.pdf" in lines
    assert f"make-report: error: {meeting}:11: items[2].report: report file not found: gone.yaml" in lines
    assert not out.exists()


def test_existing_outputs_survive_a_failed_build(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "public-pack.pdf").write_bytes(b"yesterday")
    meeting = _meeting(tmp_path, "  - report: gone.yaml\n")
    assert run_cli("pack", str(meeting), "-o", str(out))[0] == 2
    assert (out / "public-pack.pdf").read_bytes() == b"yesterday"
    assert sorted(p.name for p in out.iterdir()) == ["public-pack.pdf"]


def test_publication_and_key_decision_warnings(tmp_path):
    (tmp_path / "r.yaml").write_text(REPORT % ("true", "public"), encoding="utf-8")
    meeting = _meeting(tmp_path, "  - report: r.yaml\n")
    out = tmp_path / "out"
    code, stdout, err = run_cli("pack", str(meeting), "-o", str(out), "--published-on", "2026-01-09")
    assert code == 0
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("make-report: warning: ") and "r.yaml:4: key_decision: key decision without a " \
        "forward plan reference" in lines[0]
    assert lines[1] == ("make-report: warning: publishing on 2026-01-09 leaves 2 clear working days before the "
                        "meeting on 2026-01-14; 5 are required (england): publish by 2026-01-06")
    assert "latest publication date: Tuesday 2026-01-06" in stdout
    assert (out / "public-pack.pdf").is_file()


def test_publishing_in_time_does_not_warn(tmp_path):
    meeting = _meeting(tmp_path, "  - title: Apologies\n")
    code, _, err = run_cli("pack", str(meeting), "-o", str(tmp_path / "out"), "--published-on", "2026-01-06", "-q")
    assert code == 0 and err == ""


def test_item_marked_exempt_over_a_public_report_is_treated_as_exempt(tmp_path):
    (tmp_path / "r.yaml").write_text(REPORT.replace("To test.", "The secret figure is 4321.") % ("false", "public"),
                                     encoding="utf-8")
    meeting = _meeting(tmp_path, "  - report: r.yaml\n    exempt: 3\n    public_title: A matter\n")
    out = tmp_path / "out"
    code, _, err = run_cli("pack", str(meeting), "-o", str(out), "-q")
    assert code == 0
    assert "classified public but this item is Part B: treated as exempt" in err
    assert "4321" not in pdftotext(out / "public-pack.pdf")
    full = normalise(pdftotext(out / "full-pack.pdf"))
    assert "4321" in full and "NOT FOR PUBLICATION" in full


def test_part_b_items_must_come_last(tmp_path):
    meeting = _meeting(tmp_path, "  - title: Secret\n    exempt: 1\n    public_title: A matter\n  - title: Apologies\n")
    code, _, err = run_cli("pack", str(meeting), "-o", str(tmp_path / "out"))
    assert code == 2 and "items[1]: public item 2 follows Part B item 1" in err


def test_part_b_item_without_public_title_exits_2_and_writes_nothing(tmp_path):
    (tmp_path / "r.yaml").write_text(REPORT.replace("Test report", "Sale to Zephyr Widgets")
                                     % ("false", "{status: exempt, paragraphs: [3]}"), encoding="utf-8")
    meeting = _meeting(tmp_path, "  - title: Apologies\n  - report: r.yaml\n")
    out = tmp_path / "out"
    code, stdout, err = run_cli("pack", str(meeting), "-o", str(out))
    assert code == 2 and stdout == ""
    assert err.strip().splitlines() == [
        f"make-report: error: {meeting}:9: items[1].public_title: a Part B item needs a public_title: the title "
        "the public agenda and pack show instead of its own"]
    assert not out.exists()


def test_part_b_attachment_untagged_is_stamped_marked_and_withheld(tmp_path):
    import pikepdf
    import weasyprint

    (tmp_path / "study.pdf").write_bytes(weasyprint.HTML(string=(
        "<p>Consultant study: the preferred bidder is Zephyr Widgets.</p>"
        "<p style='break-before: page'>Second page.</p>")).write_pdf())
    meeting = _meeting(tmp_path, "  - title: Apologies\n  - title: Consultant's study\n    pdf: study.pdf\n"
                                 "    exempt: 3\n    public_title: Study\n")
    out = tmp_path / "out"
    code, _, err = run_cli("pack", str(meeting), "-o", str(out), "-q")
    assert code == 0
    assert "study.pdf is not a tagged PDF" in err
    public, full = out / "public-pack.pdf", out / "full-pack.pdf"
    assert "Zephyr" not in pdftotext(public) and int(pdfinfo(public)["Pages"]) == 2
    assert int(pdfinfo(full)["Pages"]) == 3
    for page in (2, 3):
        text = normalise(pdftotext(full, page=page))
        assert f"Page {page} of 3" in text and "NOT FOR PUBLICATION" in text
    # the stamp is drawn inside /Artifact marked content, never mixed into the page's own content
    with pikepdf.open(full) as pdf:
        streams = pdf.pages[1].obj.Contents
        last = streams[len(streams) - 1].read_bytes()
        assert last.startswith(b"Q\n/Artifact") and last.rstrip().endswith(b"EMC")


class _Recorder:
    def start(self, total: int) -> None:
        self.total, self.steps = total, []

    def advance(self, description: str) -> None:
        self.steps.append(description)


@pytest.mark.parametrize("part_b", [False, True])
def test_progress_bar_ends_at_exactly_its_total(tmp_path, part_b):
    from cabinet_reports.pack import build_pack

    (tmp_path / "r.yaml").write_text(REPORT % ("false", "public"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(REPORT % ("false", "{status: exempt, paragraphs: [3]}"), encoding="utf-8")
    items = "  - title: Apologies\n  - report: r.yaml\n"
    if part_b:
        items += "  - report: b.yaml\n    public_title: A property matter\n"
    progress = _Recorder()
    build_pack(_meeting(tmp_path, items), tmp_path / "out", progress=progress, jobs=1)
    assert len(progress.steps) == progress.total, progress.steps


def test_agenda_docx_dates_follow_source_date_epoch(tmp_path, monkeypatch):
    from cabinet_reports.pack import agenda_docx, load_meeting
    from cabinet_reports.theme import Theme

    loaded = load_meeting(_meeting(tmp_path, "  - title: Apologies\n"))
    created = {}
    for epoch in ("", "1700000000"):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        with zipfile.ZipFile(io.BytesIO(agenda_docx(loaded, Theme(), {}, None))) as z:
            core = z.read("docProps/core.xml").decode()
        created[epoch] = re.search(r"<dcterms:created[^>]*>([^<]+)<", core).group(1)
    assert created == {"": "2026-01-14T00:00:00Z", "1700000000": "2023-11-14T22:13:20Z"}
