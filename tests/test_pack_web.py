"""The pack's web version (agenda.html and the public items' pages), read with tools that are not ours.

lxml reads the pages' structure and links; pdftotext and pdfinfo read agenda.pdf and the item
PDFs the links name, so the web agenda must say what the PDF agenda says and count pages as
poppler does; axe-core in headless Chromium (tests/js-axe/check.mjs, as for the single report's
page) checks WCAG 2.0–2.2 A/AA at 1280 and 320 px, sideways scrolling and that a page loads
nothing but itself, in a copy of the whole output folder moved elsewhere (uploaded as it is).
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest
from fontTools.ttLib import TTFont

from cabinet_reports.pack import build_packs
from pack_inputs import HEAD, REPORT, run_cli
from readers import normalise, pdfinfo, pdftotext, require
from test_html_render import AXE_DIR

ROOT = Path(__file__).resolve().parent.parent
REPORTS = {"05-partnership-strategy": ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml",
           "06-capital-programme-monitoring-2004-05": ROOT / "examples" / "dudley-2005-cabinet" / "capital-programme.yaml"}
PUBLIC_TITLE = "Disposal of the Former Highways Depot, Northfield Road"
SECRETS = ["Castlegate Quarry Holdings", "1,275,000", "Tender Results"]  # from the Part B report
PAGE_REF = re.compile(r"Pages? \d+(?: to \d+)?")


@pytest.fixture(scope="module")
def pack(example_pack_cli) -> Path:
    """The example pack, built once through the command line (conftest.py)."""
    out, code, _, stderr = example_pack_cli
    assert code == 0, stderr
    return out


def web_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.html") if ".cache" not in p.relative_to(folder).parts)


def page(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


def text(el) -> str:
    return " ".join(el.text_content().split())


def agenda_item(agenda: lxml.html.HtmlElement, number: int) -> lxml.html.HtmlElement:
    return agenda.get_element_by_id(f"item-{number}")


# --------------------------------------------------------------------------- what is written
def test_pack_writes_the_web_agenda_and_a_page_per_public_report(pack):
    names = [p.relative_to(pack).as_posix() for p in web_files(pack)]
    assert names == ["agenda.html"] + [f"items/{stem}.html" for stem in sorted(REPORTS)]
    manifest = json.loads((pack / ".make-report-manifest.json").read_text(encoding="utf-8"))
    assert set(names) <= set(manifest["files"])  # written in the pack's one folder switch


def test_part_b_is_never_a_web_page(pack):
    assert list((pack / "items" / "part-b").glob("*.html")) == []
    for path in web_files(pack):
        raw = path.read_text(encoding="utf-8").lower()
        for secret in SECRETS:
            assert secret.lower() not in raw, (path.name, secret)
        assert "not-for-publication" not in raw and "part-b/" not in raw, path.name


def test_part_b_item_shows_its_public_title_and_reason_only(pack):
    item = agenda_item(page(pack / "agenda.html"), 7)
    assert text(item.find("h3")) == f"7. {PUBLIC_TITLE}"
    assert [p.get("class") for p in item.iter("p")] == ["ag-reason", "ag-pages"]
    assert text(item.find("p")) == ("Not for publication by virtue of paragraph 9 of Part 1 of Schedule 12A to the "
                                    "Local Government Act 1972.")
    assert list(item.iter("a")) == []


def test_procedural_items_have_their_text_and_no_links(pack):
    agenda = page(pack / "agenda.html")
    item = agenda_item(agenda, 1)
    assert text(item.find("h3")) == "1. Apologies for absence"
    assert text(item.find("p[@class='ag-text']")) == "To receive apologies for absence from the meeting."
    assert list(item.iter("a")) == []


# --------------------------------------------------------------------------- links
def _links(path: Path) -> list[tuple[str, str]]:
    return [(a.get("href"), text(a)) for a in page(path).iter("a")]


def _resolve(folder: Path, path: Path, href: str) -> Path | str:
    """Return the file a relative link names (inside ``folder``), or the in-page id."""
    parts = urlsplit(href)
    assert not parts.scheme and not parts.netloc and not href.startswith("/"), href  # relative, never file:
    if not parts.path:
        return parts.fragment
    target = (path.parent / unquote(parts.path)).resolve()
    assert target.is_relative_to(folder.resolve()), href
    return target


def test_every_link_resolves_to_a_file_of_the_output_even_moved(pack, tmp_path):
    moved = shutil.copytree(pack, tmp_path / "uploaded" / "cabinet-16-march")  # the folder uploaded as is
    checked = 0
    for path in web_files(moved):
        ids = {el.get("id") for el in page(path).iter() if el.get("id")}
        for href, _ in _links(path):
            if href.startswith(("https:", "http:", "mailto:")):
                continue
            target = _resolve(moved, path, href)
            if isinstance(target, str):
                assert target in ids, (path.name, href)
            else:
                assert target.is_file(), (path.name, href)
                checked += 1
        assert "file:" not in path.read_text(encoding="utf-8")
    assert checked >= 3 + 3 + 3 + 1 + 2  # the agenda's papers, items 3, 5 and 6, and each item page's way back


def test_agenda_links_name_each_public_item_and_its_files(pack):
    agenda = pack / "agenda.html"
    expected = {3: ["items/03-minutes.pdf"]}
    for stem in REPORTS:
        number = int(stem[:2])
        expected[number] = [f"items/{stem}.html", f"items/{stem}.pdf", f"items/{stem}.docx"]
    root = page(agenda)
    for number in range(1, 8):
        links = [(a.get("href"), text(a)) for a in agenda_item(root, number).iter("a")]
        assert [href for href, _ in links] == expected.get(number, []), number
        title = text(agenda_item(root, number).find("h3")).split(". ", 1)[1]
        for href, label in links:
            kind = href.rsplit(".", 1)[1]
            if kind == "pdf":  # the page count as poppler reads the linked file
                pages = int(pdfinfo(pack / href)["Pages"])
                assert label == f"Item {number}: {title} (PDF, {pages} page{'s' if pages > 1 else ''})"
            else:
                assert label == f"Item {number}: {title} ({'web page' if kind == 'html' else 'Word document'})"
    papers = [(href, label) for href, label in _links(agenda) if not href.startswith(("items/", "#"))]
    assert papers == [("agenda.pdf", f"Agenda (PDF, {pdfinfo(pack / 'agenda.pdf')['Pages']} pages)"),
                      ("agenda.docx", "Agenda (Word document)"),
                      ("public-pack.pdf", "Public reports pack: the agenda and every public paper (PDF, "
                                          f"{pdfinfo(pack / 'public-pack.pdf')['Pages']} pages)")]


def test_item_pages_link_back_to_the_agenda(pack):
    for stem in REPORTS:
        back = page(pack / "items" / f"{stem}.html").find(".//header/p[@class='back-link']/a")
        assert back.get("href") == "../agenda.html"
        assert text(back) == "Agenda: Cabinet, Wednesday 16th March 2005"


# --------------------------------------------------------------------------- the same words
def test_agenda_page_says_what_agenda_pdf_says(pack):
    pdf = normalise(pdftotext(pack / "agenda.pdf", body_only=True))
    root = page(pack / "agenda.html")
    body = root.find("body")
    # Every block of the agenda's own wording (not the web's links, skip link or footer) is in the PDF.
    web_only = {"ag-links", "skip-link", "ag-papers"}
    blocks = []
    for el in body.iter("h1", "h2", "h3", "p", "li", "th", "td", "caption"):
        if any(a.tag == "footer" or (a.get("class") or "") in web_only for a in [el, *el.iterancestors()]):
            continue
        blocks.append(normalise(el.text_content()))
    assert len(blocks) > 30
    assert [b for b in blocks if b not in pdf] == []
    # The items' headings in the PDF's order, and the same page references, in the same order.
    at = 0
    headings = [normalise(text(h)) for h in body.iter("h3")]
    assert len(headings) == 7
    for heading in headings:
        number, title = heading.split(". ", 1)
        found = re.compile(rf"{number}\.\s+{re.escape(title)}").search(pdf, at)
        assert found, heading
        at = found.end()
    items_text = " ".join(text(p) for p in body.iterfind(".//section[@class='ag-item']/p"))
    assert PAGE_REF.findall(items_text) == PAGE_REF.findall(pdf) == ["Pages 3 to 4", "Pages 5 to 11",
                                                                      "Pages 12 to 13", "Page 14"]
    assert root.get("lang") == "en-GB" and root.findtext("head/title") == "Cabinet, Wednesday 16th March 2005: agenda"


def test_agenda_page_has_landmarks_headings_and_skip_link(pack):
    root = page(pack / "agenda.html")
    body = root.find("body")
    first = next(el for el in body.iter() if el is not body)
    assert first.tag == "a" and first.get("href") == "#main" and body.find(".//main").get("id") == "main"
    for tag in ("header", "main", "footer"):
        assert len(body.findall(f".//{tag}")) == 1, tag
    assert [h.tag for h in body.iter("h1", "h2", "h3")][:4] == ["h1", "h2", "h2", "h2"]
    assert [h.tag for h in body.iter("h1")] == ["h1"]
    table = body.find(".//table")
    assert table.getparent().get("role") == "region" and all(th.get("scope") == "row" for th in table.iter("th"))
    fonts = re.findall(r'url\("data:font/woff2;base64,', (pack / "agenda.html").read_text(encoding="utf-8"))
    assert len(fonts) == 4


FONT = re.compile(r'url\("data:font/woff2;base64,([A-Za-z0-9+/=]+)"\)')


def test_item_pages_are_the_reports_own_web_pages(pack, tmp_path):
    """An item's page is `render --format html` of its report, plus the way back to the agenda,
    numbered as its PDF and DOCX are: the "Agenda Item N" stamp and the pack's item number.

    Only the embedded fonts differ otherwise: the pack's pages share one subset.
    """
    code, _, err = run_cli("render", *map(str, REPORTS.values()), "-o", str(tmp_path), "--format", "html", "--quiet")
    assert code == 0, err
    for stem, report in REPORTS.items():
        number = int(stem[:2])
        alone = tmp_path / f"{'dudley-2005-partnership-strategy' if stem.startswith('05') else report.stem}.html"
        in_pack = (pack / "items" / f"{stem}.html").read_text(encoding="utf-8")
        # What the item's PDF shows too (tests/test_pack_consistency.py reads the stamp there).
        stamp = f'<p class="tb-agenda-item">Agenda Item {number}</p>\n'
        row = f'<tr><th scope="row">Agenda item</th><td>{number}</td></tr>\n'
        assert stamp in in_pack and row in in_pack, stem
        alone_text = alone.read_text(encoding="utf-8")
        assert stamp not in alone_text and row not in alone_text
        without = re.sub(r'<p class="back-link">.*?</p>\n', "", in_pack, count=1).replace(stamp, "").replace(row, "")
        assert FONT.sub("FONT", without) == FONT.sub("FONT", alone_text), stem


def test_pack_pages_share_one_font_subset_covering_every_page(pack):
    pages = web_files(pack)
    fonts = {tuple(FONT.findall(p.read_text(encoding="utf-8"))) for p in pages}
    assert len(fonts) == 1 and len(next(iter(fonts))) == 4
    shown = set()
    for path in pages:
        shown |= set(page(path).find("body").text_content()) - set(" \n\t")
    for data in next(iter(fonts)):
        font = TTFont(io.BytesIO(base64.b64decode(data)))
        assert font.flavor == "woff2"
        assert {c for c in shown if ord(c) not in font.getBestCmap()} == set()
    assert sum(map(len, next(iter(fonts)))) < 100_000  # base64 characters: still a subset


# --------------------------------------------------------------------------- several meetings
def test_each_meeting_of_a_batch_gets_its_own_web_agenda(tmp_path):
    (tmp_path / "r.yaml").write_text(REPORT % ("Roads Review", "public", "To review the roads."), encoding="utf-8")
    (tmp_path / "cabinet.yaml").write_text(HEAD + "  - title: Apologies\n  - report: r.yaml\n", encoding="utf-8")
    (tmp_path / "scrutiny.yaml").write_text(HEAD.replace("Cabinet", "Scrutiny") + "  - title: Apologies\n",
                                            encoding="utf-8")
    out = tmp_path / "out"
    build_packs([tmp_path / "cabinet.yaml", tmp_path / "scrutiny.yaml"], out, jobs=1, cache=False)
    assert [p.relative_to(out).as_posix() for p in web_files(out)] == [
        "cabinet/agenda.html", "cabinet/items/02-roads-review.html", "scrutiny/agenda.html"]
    links = _links(out / "cabinet" / "agenda.html")
    assert ("items/02-roads-review.html", "Item 2: Roads Review (web page)") in links
    assert ("items/02-roads-review.pdf", "Item 2: Roads Review (PDF, 1 page)") in links
    assert [href for href, _ in _links(out / "scrutiny" / "agenda.html") if not href.startswith("#")] == [
        "agenda.pdf", "agenda.docx", "public-pack.pdf"]
    assert "Scrutiny: agenda" in text(page(out / "scrutiny" / "agenda.html").find(".//h1"))


# --------------------------------------------------------------------------- in a real browser
@pytest.fixture(scope="module")
def browser(pack, tmp_path_factory) -> dict[str, dict]:
    """Run tests/js-axe/check.mjs over the agenda and every item page, in a moved copy of the folder."""
    node = require("node")
    require("chromium")
    if not (AXE_DIR / "node_modules" / "axe-core").is_dir():
        pytest.fail("tests/js-axe/node_modules is missing: run `npm ci --prefix tests/js-axe`")
    moved = shutil.copytree(pack, tmp_path_factory.mktemp("uploaded") / "pack", ignore=shutil.ignore_patterns(".cache"))
    files = web_files(moved)
    result = subprocess.run([node, str(AXE_DIR / "check.mjs"), *map(str, files)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    return {path.relative_to(moved).as_posix(): report[str(path)] for path in files}


WEB_PAGES = ["agenda.html"] + [f"items/{stem}.html" for stem in sorted(REPORTS)]


@pytest.mark.parametrize("name", WEB_PAGES)
def test_axe_finds_no_wcag_violations(browser, name):
    violations = [(v["width"], v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in browser[name]["violations"]]
    assert violations == []


@pytest.mark.parametrize("name", WEB_PAGES)
def test_page_does_not_scroll_sideways_at_320px_and_loads_nothing_else(browser, name):
    assert browser[name]["scrollWidth"] <= 320
    assert browser[name]["requests"] == [] and browser[name]["brokenImages"] == []
    assert {"Report Sans normal normal", "Report Sans bold normal"} <= set(browser[name]["fontsLoaded"])
