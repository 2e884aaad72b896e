"""End-to-end: render both seed examples to PDF and read them back with poppler and pypdf."""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest

from cabinet_reports.cli import main
from readers import normalise, numbered_labels, pdfinfo, pdftotext, seed_fragments

ROOT = Path(__file__).resolve().parent.parent
SEEDS = Path(__file__).resolve().parent / "data" / "seeds"
DUDLEY = ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"
SALFORD = ROOT / "examples" / "salford-2003-progress-note" / "report.yaml"


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """Render both examples once, through the command line, as a user would."""
    out = tmp_path_factory.mktemp("examples")
    assert main(["render", str(DUDLEY), str(SALFORD), "-o", str(out), "--format", "pdf", "--quiet"]) == 0
    return {"dudley": out / "dudley-2005-partnership-strategy.pdf",
            "salford": out / "salford-2003-progress-note.pdf"}


DUDLEY_LABELS = ["1.0", "1.1", "2.0", "2.1", "2.1.1", "2.1.2", "2.1.3", "2.1.4", "3.0", "3.1",
                 "(a)", "(b)", "(c)", "(d)", "(e)", "4.0", "4.1", "5.0", "5.1", "6.0", "6.1",
                 "7.0", "7.1", "8.0", "8.1"]


def test_dudley_numbering_reads_in_order(rendered):
    text = pdftotext(rendered["dudley"], body_only=True)
    assert numbered_labels(text) == DUDLEY_LABELS


def test_dudley_carries_every_seed_sentence(rendered):
    text = normalise(pdftotext(rendered["dudley"], body_only=True))
    missing = [f for f in seed_fragments(SEEDS / "004_fa8b6a0a8b720f86.txt") if f not in text]
    assert missing == []


def test_dudley_typed_duplicate_number_is_gone(rendered):
    text = normalise(pdftotext(rendered["dudley"]))
    assert "3.1 3.1" not in text
    assert "3.1 That members of the Cabinet:" in text


def test_dudley_headings_and_cross_references(rendered):
    text = normalise(pdftotext(rendered["dudley"], body_only=True))
    for heading in ["1.0 PURPOSE", "6.0 EQUAL OPPORTUNITIES", "8.0 BACKGROUND DOCUMENTS"]:
        assert heading in text
    assert "7.1 That the Executive endorse the proposals in 3.0." in text
    assert "(c) Endorse the Partnership Evaluation Tool at Appendix 4." in text
    assert "Linda Sanders Director of Social Services" in text


def test_dudley_appendices_each_start_a_page(rendered):
    reader = pypdf.PdfReader(rendered["dudley"])
    starts = []
    for i, page in enumerate(reader.pages):
        body = normalise(pdftotext(rendered["dudley"], body_only=True, page=i + 1))
        m = re.match(r"Appendix (\d): ", body)
        if m:
            starts.append(int(m.group(1)))
    assert starts == [1, 2, 3, 4]


def test_salford_carries_every_seed_sentence(rendered):
    text = normalise(pdftotext(rendered["salford"], body_only=True))
    missing = [f for f in seed_fragments(SEEDS / "000_c2d2441a58a48b50.txt") if f not in text]
    assert missing == []


def test_salford_lettered_items_and_timeline(rendered):
    text = pdftotext(rendered["salford"], body_only=True)
    assert numbered_labels(text) == ["a)", "b)", "c)", "a)", "b)", "c)"]
    flat = normalise(text)
    order = [flat.index(w) for w in ["Week commencing 20th January - workshops", "Week commencing 27th January - discussion",
                                     "Week commencing 3rd February - meeting", "27th February - Joint meeting",
                                     "11th March - Cabinet Briefing", "19th March - Cabinet decision"]]
    assert order == sorted(order)


@pytest.mark.parametrize("name", ["dudley", "salford"])
def test_pdf_is_tagged_titled_and_in_english(rendered, name):
    info = pdfinfo(rendered[name])
    assert info["Tagged"] == "yes"
    assert info["Title"] in {"Partnership Strategy", "Strategic Partnership Project"}
    reader = pypdf.PdfReader(rendered[name])
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert "/StructTreeRoot" in root
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"]) is True


@pytest.mark.parametrize("name", ["dudley", "salford"])
def test_every_page_says_page_n_of_m(rendered, name):
    pages = int(pdfinfo(rendered[name])["Pages"])
    for n in range(1, pages + 1):
        assert f"Page {n} of {pages}" in pdftotext(rendered[name], page=n)


def test_bookmarks_cover_sections_and_appendices(rendered):
    reader = pypdf.PdfReader(rendered["dudley"])

    def titles(outline):
        for item in outline:
            if isinstance(item, list):
                yield from titles(item)
            else:
                yield item.title
    found = [normalise(t) for t in titles(reader.outline)]
    for expected in ["1.0 PURPOSE", "3.0 PROPOSAL", "8.0 BACKGROUND DOCUMENTS", "Appendix 1: Improvement Plan",
                     "Appendix 4: Partnership Evaluation Tool", "2.1.1 Adoption of a Members' and Officers' Protocol"]:
        assert expected in found


def test_fonts_are_embedded_from_the_package(rendered):
    reader = pypdf.PdfReader(rendered["dudley"])
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"] if "/DescendantFonts" in font \
                else font["/FontDescriptor"]
            fonts[str(font["/BaseFont"])] = "/FontFile2" in descriptor.get_object()
    # "Report Sans" is the @font-face family built on the shipped Liberation Sans files; a
    # machine font would appear under its own name (DejaVu, Liberation) instead.
    assert fonts and all("Report-Sans" in name for name in fonts), fonts
    assert all(fonts.values()), "every font must be embedded"


def test_table_header_cells_are_tagged_th(rendered):
    reader = pypdf.PdfReader(rendered["dudley"])
    kinds = set()

    def walk(node, depth=0):
        node = node.get_object()
        if isinstance(node, dict) or hasattr(node, "get"):
            if "/S" in node:
                kinds.add(str(node["/S"]))
            kids = node.get("/K")
            if kids is not None:
                kids = kids if isinstance(kids, list) else [kids]
                for k in kids:
                    if hasattr(k, "get_object") and hasattr(k.get_object(), "get"):
                        walk(k, depth + 1)
    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    assert {"/TH", "/Table", "/H1", "/H2", "/L", "/LI"} <= kinds
