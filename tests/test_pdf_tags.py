"""PDF/UA structure (issue 9): the post-pass in renderers/pdf_tags.py, read back independently.

Two readers that are not ours check the PDFs: the structure checker in pdf_structure.py
(pikepdf, its own walk of tree and content streams) and Mozilla pdf.js (tests/js, run with
Node) for what a structure-aware reader gets. Each defect is also shown on WeasyPrint's own
output, written without the post-pass, so the tests fail on the old code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Name

import pdf_structure
from cabinet_reports.api import build, load_report, render_options, resolve_theme
from cabinet_reports.pdfmerge import MergePart, merge_pdfs
from cabinet_reports.renderers.pdf import font_timestamps, layout, render_overlay_pdf, write_tagged_pdf
from cabinet_reports.renderers.pdf_tags import fix_tags
from readers import pdftotext, require

ROOT = Path(__file__).resolve().parent.parent
JS = Path(__file__).resolve().parent / "js"
DUDLEY = ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"
SALFORD = ROOT / "examples" / "salford-2003-progress-note" / "report.yaml"

# A small report with what the examples lack: a logo (Figure), a web link long enough to
# wrap onto a second line, lists nested to (i), a table, and bullets broken by a page break.
LONG = " ".join(["This sentence makes the bullet long enough to run over a page break."] * 10)
BULLETS = 5
SAMPLE = """\
council:
  name: Test Borough Council
  logo: logo.png
meeting: {body: Cabinet, date: 2026-01-14}
title: Sample of every tagged construct
sections:
  purpose:
    - text: >-
        The full guidance, [the Public Sector Bodies Accessibility Regulations 2018 and the
        guidance that goes with them](https://www.gov.uk/guidance/accessibility-requirements-for-public-sector-websites-and-apps),
        applies to every paper.
  background:
    - bullets:
""" + "".join(f"        - Bullet {n}. {LONG}\n" for n in range(1, BULLETS + 1)) + """\
  recommendations:
    - letters:
        - text: First
          blocks:
            - letters: [one, two, three]
        - Second
    - table:
        caption: Costs
        header: [Item, Cost]
        rows: [[Staff, "10"], [Rent, "20"]]
"""


def render_both(report_path: Path) -> tuple[bytes, bytes]:
    """Return (WeasyPrint's own PDF, the PDF with the post-pass) from one layout."""
    report = load_report(report_path)
    theme = resolve_theme(None)
    doc = build(report, theme)
    document = layout(doc, theme, render_options(report))
    with font_timestamps(doc.date):
        raw = document.write_pdf(pdf_variant="pdf/ua-1")
    return raw, write_tagged_pdf(document, doc.date)


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory) -> Path:
    from PIL import Image

    folder = tmp_path_factory.mktemp("sample")
    Image.new("RGB", (40, 20), (0, 90, 160)).save(folder / "logo.png")
    (folder / "report.yaml").write_text(SAMPLE, encoding="utf-8")
    return folder / "report.yaml"


@pytest.fixture(scope="module")
def reports(sample_path, tmp_path_factory) -> dict[str, dict[str, Path]]:
    """The examples and the sample, each as WeasyPrint wrote it ("raw") and as we ship it."""
    out = tmp_path_factory.mktemp("tagged")
    paths: dict[str, dict[str, Path]] = {}
    for name, source in (("dudley", DUDLEY), ("salford", SALFORD), ("sample", sample_path)):
        raw, fixed = render_both(source)
        paths[name] = {"raw": out / f"{name}-raw.pdf", "fixed": out / f"{name}.pdf"}
        paths[name]["raw"].write_bytes(raw)
        paths[name]["fixed"].write_bytes(fixed)
    return paths


@pytest.fixture(scope="module")
def pack(example_pack_uncached) -> Path:
    """The example meeting pack, built once through the library (conftest.py)."""
    return example_pack_uncached


def pack_pdfs(pack: Path) -> list[Path]:
    return sorted(pack.rglob("*.pdf"))


# --------------------------------------------------------------------------- the checker
def test_weasyprint_output_has_every_defect_the_checker_knows(reports):
    dudley = pdf_structure.problems(reports["dudley"]["raw"].read_bytes())
    # The audit's count: 14 furniture items (7 pages × running title and "Page N of M").
    assert sum(p.startswith("content:") for p in dudley) == 14
    assert {"content", "parent-tree", "link", "table", "list"} <= pdf_structure.kinds(dudley)
    sample = pdf_structure.problems(reports["sample"]["raw"].read_bytes())
    assert "figure" in pdf_structure.kinds(sample)


@pytest.mark.parametrize("name", ["dudley", "salford", "sample"])
def test_reports_pass_the_structure_checker(reports, name):
    assert pdf_structure.problems(reports[name]["fixed"].read_bytes()) == []


def test_packs_agenda_notice_and_items_pass_the_structure_checker(pack):
    names = {p.relative_to(pack).as_posix() for p in pack_pdfs(pack)}
    assert {"public-pack.pdf", "full-pack.pdf", "agenda.pdf", "items/03-minutes.pdf"} <= names
    assert {path.relative_to(pack).as_posix(): pdf_structure.problems(path.read_bytes())
            for path in pack_pdfs(pack)} == {name: [] for name in names}


def test_a_merge_of_raw_weasyprint_parts_fails_and_of_fixed_parts_passes(reports):
    def merged(kind: str) -> bytes:
        parts = [MergePart(reports[n][kind].read_bytes(), n) for n in ("dudley", "salford", "sample")]
        return merge_pdfs(parts, title="Pack")

    assert {"content", "link", "table", "list"} <= pdf_structure.kinds(pdf_structure.problems(merged("raw")))
    assert pdf_structure.problems(merged("fixed")) == []


# --------------------------------------------------------------------------- each fix
def link_contents(path: Path) -> list[str]:
    pdf = pikepdf.open(path)
    return [str(a.Contents) for page in pdf.pages for a in page.obj.get(Name.Annots, [])
            if a.get(Name.Subtype) == Name.Link]


def test_links_are_described_by_their_text(reports):
    assert link_contents(reports["dudley"]["raw"]) == ["cr28", "cr29", "cr30", "cr26", "cr9"]
    # The text a reader sees on the page, in reading order ("... at Appendix 2 ... in 3.0").
    assert link_contents(reports["dudley"]["fixed"]) == ["Appendix 2", "Appendix 3", "Appendix 4",
                                                         "Appendix 1", "3.0"]
    body = " ".join(pdftotext(reports["dudley"]["fixed"]).split())
    assert "endorse the proposals in 3.0." in body


def test_a_web_link_over_two_lines_is_described_whole_with_its_address(reports):
    url = "https://www.gov.uk/guidance/accessibility-requirements-for-public-sector-websites-and-apps"
    text = ("the Public Sector Bodies Accessibility Regulations 2018 and the guidance that goes "
            "with them")
    contents = link_contents(reports["sample"]["fixed"])
    assert len(contents) >= 2  # the link wraps: one annotation per line
    assert set(contents) == {f"{text} ({url})"}


def test_furniture_is_pagination_artifacts_header_and_footer(reports):
    pdf = pikepdf.open(reports["dudley"]["fixed"])
    for n, page in enumerate(pdf.pages, start=1):
        kinds = Counter()
        for instruction in pikepdf.parse_content_stream(page, "BDC"):
            tag, props = instruction.operands
            if str(tag) == "/Artifact" and props.get("/Type") == Name.Pagination:
                kinds[str(props.get("/Subtype"))] += 1
        # The running title at the top of the page, "Page N of M" at the bottom.
        assert kinds == {"/Header": 1, "/Footer": 1}, f"page {n}"


def structure_elements(path: Path):
    pdf = pikepdf.open(path)
    return pdf, pdf_structure.Tree(pdf.Root.StructTreeRoot)


def test_table_headers_have_scope_and_an_id_tree(reports, pack):
    _, tree = structure_elements(reports["dudley"]["fixed"])
    scopes = Counter()
    for th in (e for e in tree.elements if pdf_structure.role(e) == "TH"):
        row = tree.parent[th.objgen]
        in_head = pdf_structure.role(tree.parent[row.objgen]) == "THead"
        scope = str(th.A.Scope) if isinstance(th.A, pikepdf.Dictionary) else None
        scopes[(in_head, scope)] += 1
    # The report-details table has row headers (scope="row" in the HTML), the appendix
    # tables a header row.
    assert set(scopes) == {(False, "/Row"), (True, "/Column")}
    pdf = pikepdf.open(pack / "full-pack.pdf")
    ids = list(pikepdf.NameTree(pdf.Root.StructTreeRoot.IDTree).keys())
    assert len(ids) == len(set(ids)) > 0
    assert all(re.match(r"p\d+-", i) for i in ids)  # renamed per part by the merge


def lists(path: Path) -> list[tuple[str, list[str]]]:
    """Return each list's /ListNumbering and its items' Lbl texts, via pdf.js and pikepdf."""
    pdf, tree = structure_elements(path)
    texts = mcid_texts(path)
    found = []
    for lst in (e for e in tree.elements if pdf_structure.role(e) == "L"):
        labels = []
        for item in pdf_structure.kids_of(lst):
            for kid in pdf_structure.kids_of(item):
                if pdf_structure.is_elem(kid) and pdf_structure.role(kid) == "Lbl":
                    labels.append("".join(texts[k] for k in tree.content(kid)).strip())
        found.append((str(lst.A.ListNumbering), labels))
    return found


def test_list_items_have_labels_and_lists_their_numbering(reports, pack):
    for name in ("dudley", "salford", "sample"):
        assert pdf_structure.unlabelled_items(pikepdf.open(reports[name]["fixed"])) == 0
    # Salford: the progress bullets with a)-c) below the first, then the timeline (a bullet
    # before each "when - what" entry) with a)-c) below its first entry.
    assert lists(reports["salford"]["fixed"]) == [("/Disc", ["•"] * 8), ("/LowerAlpha", ["a)", "b)", "c)"]),
                                                  ("/Disc", ["•"] * 6), ("/LowerAlpha", ["a)", "b)", "c)"])]
    sample = lists(reports["sample"]["fixed"])
    assert ("/LowerAlpha", ["(a)", "(b)"]) in sample and ("/LowerRoman", ["(i)", "(ii)", "(iii)"]) in sample
    # The bullets run over a page break, which WeasyPrint tags as two lists, the item broken
    # by the break as two LI (the second without a marker). The rest of that item joins the
    # item it continues: every LI is one bullet, labelled "•".
    _, raw_tree = structure_elements(reports["sample"]["raw"])
    raw_items = [e for e in raw_tree.elements if pdf_structure.role(e) == "LI"]
    assert len(raw_items) == BULLETS + 1 + 2 + 3  # the bullets and the rest of one, (a)-(b), (i)-(iii)
    bullets = [labels for numbering, labels in sample if numbering == "/Disc"]
    assert len(bullets) == 2 and sum(bullets, []) == ["•"] * BULLETS
    # The agenda's membership list shows no markers: declared /None, with no labels; set in
    # two CSS columns, it is still one list of six members.
    assert lists(pack / "agenda.pdf") == [("/None", [])]
    _, tree = structure_elements(pack / "agenda.pdf")
    (members,) = [e for e in tree.elements if pdf_structure.role(e) == "L"]
    assert [pdf_structure.role(k) for k in pdf_structure.kids_of(members)] == ["LI"] * 6
    raw = pdf_structure.problems(reports["salford"]["raw"].read_bytes())
    assert sum("has no Lbl" in p for p in raw) == 8 + 3 + 6 + 3


def test_the_logo_figure_bbox_is_in_pdf_user_space(reports):
    _, tree = structure_elements(reports["sample"]["fixed"])
    (figure,) = [e for e in tree.elements if pdf_structure.role(e) == "Figure"]
    # The 40 × 20 px logo at the 2.2 cm top-left page margin of an A4 page (style.css), in
    # points with y up: 1 px = 0.75 pt.
    left, top = 2.2 / 2.54 * 72, 841.89 - 2.2 / 2.54 * 72
    assert [float(v) for v in figure.A.BBox] == pytest.approx([left, top - 15, left + 30, top], abs=0.05)
    assert str(figure.Alt) == "Test Borough Council logo"


def test_the_post_pass_is_deterministic_idempotent_and_leaves_untagged_pdfs_alone(reports):
    raw = reports["dudley"]["raw"].read_bytes()
    once = fix_tags(raw)
    assert fix_tags(raw) == once
    assert pdf_structure.problems(fix_tags(once)) == []
    from cabinet_reports.theme import Theme

    overlay = render_overlay_pdf("<html lang=en><title>t</title><p>x</p></html>", Theme(None),
                                 __import__("datetime").date(2026, 1, 14))
    assert fix_tags(overlay) == overlay


# --------------------------------------------------------------------------- pdf.js
def pdfjs(path: Path) -> list[dict]:
    """Run tests/js/struct_text.mjs on a PDF: the text pdf.js reaches per page."""
    key = str(path)
    if key not in _PDFJS:
        _PDFJS[key] = _run_pdfjs(path)
    return _PDFJS[key]


_PDFJS: dict[str, list[dict]] = {}  # one node run per file: the outputs are written once


def _run_pdfjs(path: Path) -> list[dict]:
    node = require("node")
    if not (JS / "node_modules" / "pdfjs-dist").is_dir():
        message = "pdfjs-dist is not installed: run `npm ci` in tests/js (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    out = subprocess.run([node, str(JS / "struct_text.mjs"), str(path)], check=True,
                         capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout)


def mcid_texts(path: Path) -> dict[tuple[tuple[int, int], int], str]:
    """Return the text of each MCID, as pdf.js decodes it (ids "p{obj}R_mc{mcid}")."""
    texts = {}
    for key, text in ((k, t) for page in pdfjs(path) for k, t in page["mcids"].items()):
        m = re.fullmatch(r"p(\d+)R_mc(\d+)", key)
        texts[((int(m.group(1)), 0), int(m.group(2)))] = text
    return texts


def words(text: str) -> Counter:
    return Counter(re.findall(r"\w+", text))


FOOTER = re.compile(r"Page (\d+) of (\d+)")


def check_with_pdfjs(path: Path, running_title: str | None) -> None:
    pages = pdfjs(path)
    bodies = pdftotext(path, body_only=True).split("\f")
    for page in pages:
        n = page["page"]
        body = bodies[n - 1]
        # Everything in the page body reaches the structure tree, and nothing else does.
        assert words(page["structure"]) == words(body), f"page {n}"
        assert page["untagged"].strip() == "" and page["unreached"].strip() == "", f"page {n}"
        assert not FOOTER.search(page["structure"]), f"page {n}"
        if running_title:
            assert running_title in page["artifacts"], f"page {n}"
        assert FOOTER.search(page["artifacts"]), f"page {n}"


def test_pdfjs_reaches_all_body_text_and_no_furniture_in_reports(reports):
    check_with_pdfjs(reports["dudley"]["fixed"], "PARTNERSHIP STRATEGY")
    check_with_pdfjs(reports["salford"]["fixed"], "STRATEGIC PARTNERSHIP PROJECT")
    check_with_pdfjs(reports["sample"]["fixed"], "SAMPLE OF EVERY TAGGED CONSTRUCT")
    # WeasyPrint's own output: the furniture is neither an artifact nor reachable.
    raw = pdfjs(reports["dudley"]["raw"])
    assert all(FOOTER.search(p["unreached"]) and not p["artifacts"].strip() for p in raw)


def test_pdfjs_reaches_all_body_text_and_no_furniture_in_packs(pack):
    for name in ("public-pack.pdf", "full-pack.pdf"):
        check_with_pdfjs(pack / name, None)
    full = pdfjs(pack / "full-pack.pdf")
    assert any("NOT FOR PUBLICATION" in " ".join(p["artifacts"].split()) for p in full)
