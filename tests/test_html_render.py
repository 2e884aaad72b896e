"""The web page (``--format html``) read back with tools that are not ours.

lxml parses the page for its structure; pdftotext reads the PDF of the same report, so the page
must show the same headings and numbers in the same order; axe-core in headless Chromium
(tests/js-axe/check.mjs, puppeteer-core) checks WCAG 2.0–2.2 A/AA rules, sideways scrolling at
320 px, and that the page loads nothing but itself.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import lxml.html
import pytest
from fontTools.ttLib import TTFont

from cabinet_reports import Theme, build, load_report
from cabinet_reports.api import render_bytes, render_options
from cabinet_reports.cli import main
from cabinet_reports.renderers import html as web
from cabinet_reports.renderers.pdf import render_html as pdf_intermediate
from readers import normalise, numbered_labels, pdftotext, require

ROOT = Path(__file__).resolve().parent.parent
AXE_DIR = Path(__file__).resolve().parent / "js-axe"
PARITY = {p.parent.name: p for p in sorted((ROOT / "examples").glob("*/report.yaml"))}
PARITY["exempt-with-details"] = Path(__file__).resolve().parent / "golden" / "exempt-with-details" / "report.yaml"

THEMES = sorted(p.name for p in (Path(__file__).resolve().parent.parent / "examples" / "themes").iterdir()
                if (p / "theme.yaml").is_file())

LONG_URL = ("https://www.example.gov.uk/council/democracy/committees/cabinet/2026/01/14/reports/"
            "a-very-long-path-segment-without-any-break-0123456789abcdefghijklmnopqrstuvwxyz")
LONG_REF = "CAB/2026/012/ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PNG_1PX = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYPgPAAEDAQAIicLsAAAAAElFTkSuQmCC")
SVG_LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
            '<rect width="120" height="40" fill="#005ea5"/></svg>')

# A report made to be awkward on a phone: long unbroken words and links in text and tables,
# a wide table without a caption, lists nested three deep, a PNG logo.
NARROW = f"""\
council: {{name: Test Borough Council, logo: logo.png}}
meeting: {{body: Cabinet, date: 2026-01-14, item: "7"}}
title: "Review of {LONG_REF}"
reference: "{LONG_REF}"
contact: {{name: Sam Officer, email: sam.officer.with.a.long.address@democratic-services.example.gov.uk}}
sections:
  purpose:
    - "The policy is at [{LONG_URL}]({LONG_URL}) and the reference is {LONG_REF}; see [[costs]]."
  proposal:
    - p: That Cabinet notes the costs below.
      label: costs
    - table:
        header: [Item, Lead officer, Start, End, Cost, Funding source, Link]
        rows:
          - [Depot roof, Head of Property Services, April 2026, March 2027, "£1,250,000", Capital programme, "[{LONG_URL}]({LONG_URL})"]
          - [Vehicles, Head of Fleet, May 2026, June 2026, "£80,000", Reserves, none]
    - letters:
        - text: First
          blocks:
            - letters:
                - text: Second level
                  blocks:
                    - letters: [Third level with {LONG_REF}]
        - Another
  recommendations:
    - That Cabinet approves the review.
"""


def _html_of(path: Path) -> lxml.html.HtmlElement:
    page = lxml.html.fromstring(path.read_bytes())
    for br in page.iter("br"):  # a line break reads as a space, as in pdftotext's text
        br.tail = " " + (br.tail or "")
    return page


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """Render the examples and an exempt report to HTML and PDF, and the awkward reports to HTML."""
    out = tmp_path_factory.mktemp("web")
    assert main(["render", *map(str, PARITY.values()), "-o", str(out), "--format", "html,pdf", "--quiet"]) == 0
    src = tmp_path_factory.mktemp("web-src")
    (src / "narrow").mkdir()
    (src / "narrow" / "logo.png").write_bytes(PNG_1PX)
    (src / "narrow" / "narrow.yaml").write_text(NARROW, encoding="utf-8")
    (src / "svg").mkdir()
    (src / "svg" / "logo.svg").write_text(SVG_LOGO, encoding="utf-8")
    (src / "svg" / "svg-logo.yaml").write_text(
        "council: {name: Test Borough Council, logo: logo.svg}\nmeeting: {body: Cabinet, date: 2026-01-14}\n"
        "title: T\nsections: {purpose: [x], recommendations: [y]}\n", encoding="utf-8")
    assert main(["render", str(src / "narrow" / "narrow.yaml"), str(src / "svg" / "svg-logo.yaml"),
                 "-o", str(out), "--format", "html", "--quiet"]) == 0
    result = {name: {"html": out / f"{name}.html", "pdf": out / f"{name}.pdf", "src": path}
              for name, path in PARITY.items()}
    result["narrow"] = {"html": out / "narrow.html", "src": src / "narrow" / "narrow.yaml"}
    result["svg-logo"] = {"html": out / "svg-logo.html", "src": src / "svg" / "svg-logo.yaml"}
    # Each example theme's report through its own theme (issue 9: the checks run on each theme).
    for name in THEMES:
        folder = ROOT / "examples" / "themes" / name
        assert main(["render", str(folder / "report.yaml"), "--theme", str(folder), "-o", str(out / "themes"),
                     "--format", "html", "--quiet"]) == 0
        result[f"theme-{name}"] = {"html": out / "themes" / f"{name}.html", "src": folder / "report.yaml"}
    return result


# --------------------------------------------------------------------------- reading the page
BLOCKS = {"header", "main", "section", "div", "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li",
          "table", "caption", "thead", "tbody", "tr", "th", "td"}
NOT_IN_PDF = {"nav", "footer", "head", "style", "script"}  # the contents list and page footer are the web's own


def text_lines(root: lxml.html.HtmlElement) -> list[str]:
    """Return the page's text one block per line, as pdftotext gives one line per line."""
    lines: list[list[str]] = [[]]

    def walk(el) -> None:
        if not isinstance(el.tag, str) or el.tag in NOT_IN_PDF or "skip-link" in (el.get("class") or ""):
            return
        block = el.tag in BLOCKS
        if block:
            lines.append([])
        lines[-1].append(el.text or "")
        for child in el:
            walk(child)
            lines[-1].append(child.tail or "")
        if block:
            lines.append([])

    walk(root.find("body"))
    return [" ".join("".join(parts).split()) for parts in lines if "".join(parts).strip()]


def headings(root: lxml.html.HtmlElement) -> list[tuple[str, str]]:
    return [(h.tag, " ".join(h.text_content().split())) for h in root.iter("h1", "h2", "h3", "h4", "h5", "h6")
            if not any(a.tag == "nav" for a in h.iterancestors())]


# --------------------------------------------------------------------------- parity with the PDF
@pytest.mark.parametrize("name", sorted(PARITY))
def test_numbers_read_as_in_the_pdf(pages, name):
    page = _html_of(pages[name]["html"])
    pdf_labels = numbered_labels(pdftotext(pages[name]["pdf"], body_only=True))
    assert pdf_labels, "the PDF should show numbers"
    assert numbered_labels("\n".join(text_lines(page))) == pdf_labels


@pytest.mark.parametrize("name", sorted(PARITY))
def test_headings_are_the_pdfs_in_order_and_level(pages, name):
    page = _html_of(pages[name]["html"])
    theme = Theme()
    report = load_report(pages[name]["src"])
    printed = lxml.html.fromstring(pdf_intermediate(build(report, theme), theme, render_options(report)))
    assert headings(page) == headings(printed)
    assert [tag for tag, _ in headings(page)].count("h1") == 1
    text = normalise(pdftotext(pages[name]["pdf"], body_only=True))
    at = 0
    for _, heading in headings(page):
        found = text.find(normalise(heading), at)
        assert found >= 0, f"{heading!r} not in the PDF after position {at}"
        at = found + len(heading)


@pytest.mark.parametrize("name", sorted(PARITY))
def test_every_paragraph_reads_as_in_the_pdf(pages, name):
    page = _html_of(pages[name]["html"])
    text = normalise(pdftotext(pages[name]["pdf"], body_only=True))
    paragraphs = [normalise(p.text_content()) for p in page.find("body").iter("p")
                  if not any(a.tag in ("nav", "footer") for a in p.iterancestors())]
    assert paragraphs
    assert [p for p in paragraphs if p not in text] == []


# --------------------------------------------------------------------------- the page itself
@pytest.mark.parametrize("name", sorted(PARITY) + ["narrow", "svg-logo"])
def test_page_is_self_contained_and_structured(pages, name):
    raw = pages[name]["html"].read_text(encoding="utf-8")
    page = lxml.html.fromstring(raw)
    doc = build(load_report(pages[name]["src"]))
    assert page.get("lang") == doc.language
    assert page.findtext("head/title") == doc.title
    assert page.find("head/meta[@name='viewport']") is not None
    assert "file:" not in raw
    for printed_only in ("@page", "counter(page", "string-set", "string(", "target-counter", "bookmark-", "break-before"):
        assert printed_only not in raw, printed_only
    body = page.find("body")
    # Landmarks, each once, and the skip link first.
    for tag in ("header", "main", "footer"):
        assert len(body.findall(f".//{tag}")) == 1, tag
    first = next(el for el in body.iter() if el is not body)
    assert first.tag == "a" and first.get("href") == "#main" and body.find(".//main").get("id") == "main"
    # Every in-page link has a target; ids are unique.
    ids = [el.get("id") for el in page.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    targets = [a.get("href")[1:] for a in page.iter("a") if (a.get("href") or "").startswith("#")]
    assert targets and set(targets) <= set(ids)
    # Tables: scoped header cells, each table in a focusable scrolling region with a name.
    for table in page.iter("table"):
        region = table.getparent()
        assert region.get("role") == "region" and region.get("tabindex") == "0"
        name_of = region.get("aria-label") or page.get_element_by_id(region.get("aria-labelledby")).text_content()
        assert name_of.strip()
        assert all(th.get("scope") == "col" for th in table.iterfind("thead//th"))
        assert all(th.get("scope") == "row" for th in table.iterfind("tbody//th"))
        assert table.find("thead") is not None or table.find("tbody//th") is not None
    for img in page.iter("img"):
        assert img.get("src").startswith("data:image/") and img.get("alt") == doc.logo_alt


@pytest.mark.parametrize("name", ["dudley-2005-partnership-strategy", "exempt-with-details"])
def test_contents_lists_every_section_and_appendix(pages, name):
    page = _html_of(pages[name]["html"])
    doc = build(load_report(pages[name]["src"]))
    nav = page.find(".//nav")
    links = [(a.get("href"), " ".join(a.text_content().split())) for a in nav.iter("a")]
    assert links == [(f"#{x.anchor}", x.heading) for x in [*doc.sections, *doc.appendices]]
    assert nav.get("aria-labelledby") == nav.find("h2").get("id")


def test_cross_references_link_to_the_numbered_item(pages):
    page = _html_of(pages["dudley-2005-partnership-strategy"]["html"])
    link = next(a for a in page.iter("a") if a.text_content() == "Appendix 4")
    target = page.get_element_by_id(link.get("href")[1:])
    assert target.find("h2").text_content().startswith("Appendix 4: ")
    link = next(a for a in page.iter("a") if a.text_content() == "3.0")
    assert page.get_element_by_id(link.get("href")[1:]).find("h2").text_content() == "3.0 PROPOSAL"


def test_exempt_page_is_marked_at_the_top_and_public_pages_are_not(pages):
    page = _html_of(pages["exempt-with-details"]["html"])
    header = page.find(".//header")
    assert header[0].get("class") == "marking" and header[0].text_content() == "NOT FOR PUBLICATION"
    assert "Schedule 12A" in header.find("p[@class='exempt-reason']").text_content()
    assert page.find("head/meta[@name='robots']").get("content") == "noindex, nofollow"
    for name in PARITY:
        if name != "exempt-with-details":
            raw = pages[name]["html"].read_text(encoding="utf-8")
            assert "NOT FOR PUBLICATION" not in raw and 'name="robots"' not in raw


def test_logos_are_embedded_as_data_uris(pages):
    for name, mime, data in (("narrow", "image/png", PNG_1PX), ("svg-logo", "image/svg+xml", SVG_LOGO.encode())):
        src = _html_of(pages[name]["html"]).find(".//img").get("src")
        prefix = f"data:{mime};base64,"
        assert src.startswith(prefix) and base64.b64decode(src[len(prefix):]) == data


def test_fonts_are_embedded_subsets_covering_the_page(pages):
    raw = pages["dudley-2005-partnership-strategy"]["html"].read_text(encoding="utf-8")
    fonts = re.findall(r'url\("data:font/woff2;base64,([A-Za-z0-9+/=]+)"\)', raw)
    assert len(fonts) == 4
    shown = set(lxml.html.fromstring(raw).find("body").text_content()) - set(" \n\t")
    full = TTFont(ROOT / "templates" / "fonts" / "LiberationSans-Regular.ttf")
    for data in fonts:
        font = TTFont(io.BytesIO(base64.b64decode(data)))
        assert font.flavor == "woff2"
        cmap = font.getBestCmap()
        assert {c for c in shown if ord(c) not in cmap} == set()
        assert len(font.getGlyphOrder()) < len(full.getGlyphOrder()) / 5
    assert sum(len(f) for f in fonts) < 80_000  # base64 characters: the four faces, subset


def test_same_report_gives_the_same_bytes():
    report = load_report(PARITY["exempt-with-details"])
    first = render_bytes(report, "html")
    web._woff2_subset.cache_clear()  # make the fonts again, not from the cache
    assert render_bytes(report, "html") == first


def test_a_theme_overrides_the_web_stylesheet_and_wording(tmp_path):
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "web.css").write_text("/* council web look */ body { color: #111; }\n", encoding="utf-8")
    (theme / "theme.yaml").write_text('words: {skip_link: "Neidio i\'r prif gynnwys"}\n', encoding="utf-8")
    html = render_bytes(load_report(PARITY["exempt-with-details"]), "html", theme=theme).decode("utf-8")
    assert "/* council web look */" in html and "@font-face" not in html
    assert '<a class="skip-link" href="#main">Neidio i&#39;r prif gynnwys</a>' in html


@pytest.mark.parametrize("css, message", [
    ("""src: url("{{ font('../../../../../../etc/passwd') }}")""", "climbs out of the theme folder"),
    ("""src: url("{{ font('broken.ttf') }}")""", "not a font that can be embedded in the web page"),
    ("""src: url("{{ font('fonts/missing.ttf') }}")""", "theme file 'fonts/missing.ttf' not found"),
])
def test_bad_theme_fonts_are_one_line_errors(tmp_path, capsys, css, message):
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "broken.ttf").write_bytes(b"not a font at all" * 10)
    (theme / "web.css").write_text("@font-face { font-family: X; " + css + "; }\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["render", str(PARITY["exempt-with-details"]), "-o", str(out), "-f", "html", "-t", str(theme)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_a_logo_that_is_no_image_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "logo.png").write_text("<html>not an image</html>", encoding="utf-8")
    (tmp_path / "r.yaml").write_text("council: {name: C, logo: logo.png}\nmeeting: {body: Cabinet, date: 2026-01-14}\n"
                                     "title: T\nsections: {purpose: [x], recommendations: [y]}\n", encoding="utf-8")
    assert main(["render", str(tmp_path / "r.yaml"), "-o", str(tmp_path / "out"), "-f", "html"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    # images.py inspects every logo at validation, so the web page sees only a good one.
    assert len(err) == 1 and "r.yaml:1: council.logo: the logo is XML but not an SVG image" in err[0], err
    assert not (tmp_path / "out").exists()


def test_html_option_and_html_format_together_are_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["render", str(PARITY["exempt-with-details"]), "-o", str(out), "-f", "pdf,html", "--html"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--html" in err[0] and "--format html" in err[0], err
    assert not out.exists()


def test_render_report_writes_the_web_page(tmp_path):
    from cabinet_reports import render_report

    written = render_report(PARITY["exempt-with-details"], tmp_path, formats=["html"])
    assert written == {"html": tmp_path / "exempt-with-details.html"}
    assert written["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_hostile_content_stays_text_in_the_web_page(tmp_path):
    from test_hostile_content import hostile_report

    secret = tmp_path / "secret.txt"
    secret.write_text("secret", encoding="utf-8")
    data, _ = hostile_report(secret)
    (tmp_path / "hostile.json").write_text(json.dumps(data), encoding="utf-8")
    assert main(["render", str(tmp_path / "hostile.json"), "-o", str(tmp_path), "-f", "html", "--quiet"]) == 0
    raw = (tmp_path / "hostile.html").read_text(encoding="utf-8")
    body = raw.split("<body", 1)[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    for markup in ("<script", "<b>", "<img src=\"file:", "<link", "<style", "style=\"background"):
        assert markup not in body, markup
    page = lxml.html.fromstring(raw)
    for el in page.iter():
        for attr in ("href", "src"):
            value = el.get(attr)
            assert value is None or re.match(r"#|https?:|mailto:|tel:|data:image/", value), value


# --------------------------------------------------------------------------- in a real browser
@pytest.fixture(scope="module")
def browser(pages, tmp_path_factory) -> dict[str, dict]:
    """Run tests/js-axe/check.mjs over every page once: axe-core at 1280 and 320 px in Chromium."""
    node = require("node")
    require("chromium")
    if not (AXE_DIR / "node_modules" / "axe-core").is_dir():
        if os.environ.get("CI"):
            pytest.fail("tests/js-axe/node_modules is missing; .ci/run must run npm ci there")
        pytest.skip("run `npm ci` in tests/js-axe to check pages in Chromium")
    # Each page alone in an empty folder: it must not need any file beside it.
    alone = {}
    for name, files in pages.items():
        folder = tmp_path_factory.mktemp(f"alone-{name}")
        alone[name] = shutil.copy(files["html"], folder / files["html"].name)
    result = subprocess.run([node, str(AXE_DIR / "check.mjs"), *map(str, alone.values())],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    return {name: report[str(path)] for name, path in alone.items()}


PAGES = sorted(PARITY) + ["narrow", "svg-logo"] + [f"theme-{name}" for name in THEMES]


@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_wcag_violations(browser, name):
    violations = [(v["width"], v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in browser[name]["violations"]]
    assert violations == []


@pytest.mark.parametrize("name", PAGES)
def test_page_does_not_scroll_sideways_at_320px(browser, name):
    assert browser[name]["scrollWidth"] <= 320


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_nothing_but_itself(browser, name):
    assert browser[name]["requests"] == []
    assert browser[name]["brokenImages"] == []
    assert {"Report Sans normal normal", "Report Sans bold normal"} <= set(browser[name]["fontsLoaded"])


def test_exempt_marking_is_visible_at_the_top_on_a_phone(browser):
    top, *_ = browser["exempt-with-details"]["markings"]
    assert top["text"] == "NOT FOR PUBLICATION" and top["height"] > 0 and top["top"] < 100
    assert browser["dudley-2005-partnership-strategy"]["markings"] == []
