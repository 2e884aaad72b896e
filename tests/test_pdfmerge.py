"""Tests for cabinet_reports.pdfmerge, checked with readers other than pikepdf.

Inputs are rendered with WeasyPrint here so the tests exercise the real
structure trees, named destinations and attachments the project produces.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zlib
from collections.abc import Iterator
from datetime import datetime, timezone

import pikepdf
import pypdf
import pytest
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from cabinet_reports.pdfmerge import MergePart, merge_pdfs

import weasyprint

SECRET = "EXEMPT-PARA-3-SECRET"
TITLE = "Cabinet 14 January 2026: agenda pack"

needs_poppler = pytest.mark.skipif(
    shutil.which("pdfinfo") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils not installed",
)
needs_qpdf = pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf not installed")


def _report_html(name: str, *, extra: str = "") -> str:
    """Return a small report with a link to #recs on the page before its target."""
    return f"""<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{name} report title</title></head>
<body>
<h1>{name} report</h1>
<p>{name} summary. See the <a href="#recs">{name} recommendations</a>.</p>
<h2>{name} financial implications</h2>
<table><thead><tr><th>Budget line</th><th>Cost</th></tr></thead>
<tbody><tr><td>{name} line</td><td>1,000</td></tr></tbody></table>
{extra}
<h2 id="recs" style="break-before: page">{name} recommendations</h2>
<p>{name} recommendation text.</p>
</body></html>"""


def _render(html: str, *, tagged: bool = True) -> bytes:
    document = weasyprint.HTML(string=html)
    if tagged:
        return document.write_pdf(pdf_variant="pdf/ua-1")
    return document.write_pdf()


@pytest.fixture(scope="module")
def parts() -> list[MergePart]:
    """Return three tagged reports (the third with attachments) and one untagged PDF."""
    alpha = _render(_report_html("Alpha"))
    bravo = _render(_report_html("Bravo"))
    attachments = (
        f'<link rel="attachment" href="data:text/plain,{SECRET}-document">'
        f'<p><a rel="attachment" href="data:text/plain,{SECRET}-annotation">Appendix</a></p>'
    )
    charlie = _with_document_baggage(_render(_report_html("Charlie", extra=attachments)))
    external = _render(
        "<html><head><title>External</title></head><body><p>External letter text.</p>"
        '<p style="break-before: page">External letter page two.</p></body></html>',
        tagged=False,
    )
    return [
        MergePart(alpha, "Item 1: Alpha"),
        MergePart(bravo, "Item 2: Bravo"),
        MergePart(charlie, "Item 3: Charlie"),
        MergePart(external, "Item 4: External letter", keep_outline=False),
    ]


def _with_document_baggage(pdf: bytes) -> bytes:
    """Add an /OpenAction script, document JavaScript and an author, as a hostile part might."""

    def add(doc: pikepdf.Pdf) -> None:
        script = doc.make_indirect(
            pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String(f"app.alert('{SECRET}-js')"))
        )
        doc.Root.OpenAction = script
        doc.Root.Names.JavaScript = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("js"), script]))
        doc.docinfo[pikepdf.Name.Author] = pikepdf.String(f"{SECRET}-author")
        doc.pages[0].obj.AA = pikepdf.Dictionary(O=script)
        _tag_file_attachments(doc)

    return _edited(pdf, add)


def _tag_file_attachments(doc: pikepdf.Pdf) -> None:
    """Tag file attachment annotations as PDF/UA asks (an /Annot element with an OBJR)."""
    tree = doc.Root.StructTreeRoot
    numbers = pikepdf.NumberTree(tree.ParentTree)
    document = tree.K[0]
    key = int(tree.get("/ParentTreeNextKey", max(numbers.keys()) + 1))
    for page in doc.pages:
        for annot in page.obj.get("/Annots", pikepdf.Array()):
            if annot.get("/Subtype") == pikepdf.Name.FileAttachment:
                element = doc.make_indirect(pikepdf.Dictionary(
                    Type=pikepdf.Name.StructElem, S=pikepdf.Name.Annot, P=document, Pg=page.obj,
                    K=pikepdf.Array([pikepdf.Dictionary(Type=pikepdf.Name.OBJR, Obj=annot, Pg=page.obj)]),
                ))
                document.K.append(element)
                annot.StructParent = key
                numbers[key] = element
                key += 1
    tree.ParentTreeNextKey = key


@pytest.fixture(scope="module")
def merged(parts: list[MergePart]) -> bytes:
    return merge_pdfs(parts, title=TITLE)


@pytest.fixture(scope="module")
def reader(merged: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(merged))


@pytest.fixture(scope="module")
def page_ranges(parts: list[MergePart]) -> list[range]:
    """Return the merged page indices occupied by each part."""
    ranges, start = [], 0
    for part in parts:
        count = len(pypdf.PdfReader(io.BytesIO(part.pdf)).pages)
        ranges.append(range(start, start + count))
        start += count
    return ranges


def _run(tmp_path, merged: bytes, *command: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "pack.pdf"
    path.write_bytes(merged)
    return subprocess.run([*command, str(path)], capture_output=True, text=True, check=False)


def _ref(obj: object) -> int:
    """Return the object number of a reference, whether or not pypdf resolved it."""
    if isinstance(obj, IndirectObject):
        return obj.idnum
    return obj.indirect_reference.idnum


def _page_numbers(reader: pypdf.PdfReader) -> dict[int, int]:
    return {page.indirect_reference.idnum: i for i, page in enumerate(reader.pages)}


def _number_tree(node: DictionaryObject) -> dict[int, object]:
    entries: dict[int, object] = {}
    nums = node.get("/Nums", ArrayObject())
    for i in range(0, len(nums), 2):
        entries[int(nums[i])] = nums[i + 1]
    for kid in node.get("/Kids", ArrayObject()):
        entries.update(_number_tree(kid.get_object()))
    return entries


def _struct_elements(kids: object) -> Iterator[tuple[DictionaryObject, object, object]]:
    """Yield (element, parent reference, own reference) for every element below kids."""
    stack = [(kids, None)]
    while stack:
        node, parent = stack.pop()
        ref = node if isinstance(node, IndirectObject) else None
        node = node.get_object() if isinstance(node, IndirectObject) else node
        if isinstance(node, ArrayObject):
            stack.extend((k, parent) for k in node)
        elif isinstance(node, DictionaryObject) and node.get("/Type") not in ("/MCR", "/OBJR"):
            yield node, parent, ref
            if "/K" in node:
                stack.append((node.raw_get("/K"), ref))


def _decompressed(pdf: bytes) -> bytes:
    """Return the PDF with all streams decoded, so text inside them can be searched."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        chunks = [repr(obj).encode() for obj in doc.objects]
        for obj in doc.objects:
            if isinstance(obj, pikepdf.Stream):
                try:
                    chunks.append(obj.read_bytes())
                except pikepdf.PdfError:
                    chunks.append(zlib.decompress(obj.read_raw_bytes()))
    return b"\n".join(chunks)


@needs_poppler
def test_pdfinfo_reports_tagged_title_and_all_pages(tmp_path, merged, page_ranges) -> None:
    info = _run(tmp_path, merged, "pdfinfo").stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    assert fields["Tagged"].strip() == "yes"
    assert int(fields["Pages"]) == sum(len(r) for r in page_ranges)
    assert fields["Title"].strip() == TITLE
    assert fields["JavaScript"].strip() == "no"


@needs_qpdf
def test_qpdf_check_is_clean(tmp_path, merged) -> None:
    result = _run(tmp_path, merged, "qpdf", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in (result.stdout + result.stderr).upper()


@needs_poppler
def test_text_of_each_part_appears_in_order(tmp_path, merged) -> None:
    _run(tmp_path, merged, "pdftotext", "-layout")  # writes pack.txt beside pack.pdf
    text = (tmp_path / "pack.txt").read_text()
    markers = ["Alpha report", "Alpha recommendation text", "Bravo report", "Bravo recommendation text",
               "Charlie report", "Charlie recommendation text", "External letter text",
               "External letter page two"]
    positions = [text.find(marker) for marker in markers]
    assert -1 not in positions, dict(zip(markers, positions))
    assert positions == sorted(positions)


def test_outline_has_one_entry_per_part_with_its_own_outline_nested(reader, parts, page_ranges) -> None:
    outline = reader.outline
    top = [item for item in outline if not isinstance(item, list)]
    assert [item.title for item in top] == [part.bookmark for part in parts]
    for item, pages in zip(top, page_ranges, strict=True):
        assert reader.get_destination_page_number(item) == pages.start

    # pypdf lists an entry's children as the list that follows it.
    children = {outline[i - 1].title: outline[i] for i in range(1, len(outline)) if isinstance(outline[i], list)}
    for item, pages, part in zip(top, page_ranges, parts, strict=True):
        if not part.keep_outline:
            assert item.title not in children
            continue
        nested = list(_flatten(children[item.title]))
        titles = [child.title for child in nested]
        name = part.bookmark.split(": ")[1]
        assert f"{name} recommendations" in titles
        for child in nested:
            assert reader.get_destination_page_number(child) in pages
        recs = next(child for child in nested if child.title == f"{name} recommendations")
        assert reader.get_destination_page_number(recs) == pages.start + 1


def _flatten(items: list) -> Iterator:
    for item in items:
        if isinstance(item, list):
            yield from _flatten(item)
        else:
            yield item


def test_every_struct_parents_key_maps_to_its_own_page(reader) -> None:
    root = reader.trailer["/Root"]
    tree = _number_tree(root["/StructTreeRoot"]["/ParentTree"].get_object())
    pages = _page_numbers(reader)
    checked_pages = checked_annots = 0
    for index, page in enumerate(reader.pages):
        if "/StructParents" in page:
            entry = tree[int(page["/StructParents"])]
            elements = [e.get_object() for e in entry.get_object() if e is not None]
            assert elements
            for element in elements:
                assert pages[_ref(element["/Pg"])] == index
            checked_pages += 1
        for annot in page.get("/Annots", ArrayObject()):
            annot = annot.get_object()
            if "/StructParent" in annot:
                element = tree[int(annot["/StructParent"])].get_object()
                objrs = [k.get_object() for k in element["/K"] if isinstance(k.get_object(), DictionaryObject)]
                assert any(o.get("/Type") == "/OBJR" and o["/Obj"].get_object() == annot for o in objrs)
                checked_annots += 1
    assert checked_pages >= 6 and checked_annots >= 3

    # No entry may point at an element that is not (or no longer) in the tree.
    in_tree = {ref.idnum for _, _, ref in _struct_elements(root["/StructTreeRoot"].raw_get("/K")) if ref}
    for value in tree.values():
        value = value.get_object()
        refs = list(value) if isinstance(value, ArrayObject) else [value.indirect_reference]
        assert {r.idnum for r in refs if r is not None} <= in_tree
    assert int(root["/StructTreeRoot"]["/ParentTreeNextKey"]) > max(tree)


def test_struct_tree_keeps_every_tagged_part_under_one_document(reader, parts, page_ranges) -> None:
    struct_root = reader.trailer["/Root"]["/StructTreeRoot"]
    document = struct_root["/K"].get_object()
    assert document["/S"] == "/Document"
    assert _ref(document["/P"]) == _ref(struct_root)

    pages = _page_numbers(reader)
    marked_pages: set[int] = set()
    headings: list[str] = []
    for element, parent, _ in _struct_elements(struct_root.raw_get("/K")):
        if element["/S"] != "/Document":
            assert _ref(element["/P"]) == parent.idnum, "structure element not re-parented"
        assert element.get("/K") not in (None, ArrayObject()), f"empty {element['/S']} element"
        if element["/S"] in ("/H1", "/TH"):
            headings.append(element["/S"])
        for kid in element["/K"] if isinstance(element.get("/K"), ArrayObject) else [element.get("/K")]:
            kid = kid.get_object() if isinstance(kid, IndirectObject) else kid
            if isinstance(kid, int):
                marked_pages.add(pages[_ref(element["/Pg"])])
            elif isinstance(kid, DictionaryObject) and kid.get("/Type") == "/MCR":
                marked_pages.add(pages[_ref(kid.get("/Pg") or element["/Pg"])])

    tagged_pages = {i for pages_, part in zip(page_ranges, parts, strict=True)
                    if part.bookmark != "Item 4: External letter" for i in pages_}
    assert tagged_pages <= marked_pages
    assert not marked_pages & set(page_ranges[3])
    assert headings.count("/H1") == 3 and headings.count("/TH") >= 6


def test_part_elements_are_titled_with_bookmarks(reader, parts) -> None:
    document = reader.trailer["/Root"]["/StructTreeRoot"]["/K"].get_object()
    titles = [kid.get_object().get("/T") for kid in document["/K"]]
    assert titles == [part.bookmark for part in parts[:3]]


def _link_target_page(reader: pypdf.PdfReader, annot: DictionaryObject) -> int:
    dest = annot.get("/Dest")
    if dest is None:
        dest = annot["/A"]["/D"]
    dest = dest.get_object()
    if isinstance(dest, ArrayObject):
        return _page_numbers(reader)[_ref(dest[0])]
    return reader.get_destination_page_number(reader.named_destinations[str(dest)])


def test_internal_links_stay_inside_their_own_part(reader, page_ranges) -> None:
    checked = 0
    for part_index in range(3):
        pages = page_ranges[part_index]
        for page_index in pages:
            for annot in reader.pages[page_index].get("/Annots", ArrayObject()):
                annot = annot.get_object()
                if annot["/Subtype"] == "/Link" and ("/Dest" in annot or "/D" in annot.get("/A", {})):
                    assert _link_target_page(reader, annot) == pages.start + 1
                    checked += 1
    assert checked == 3


def test_named_destinations_are_renamed_per_part(reader, page_ranges) -> None:
    dests = reader.named_destinations
    assert {"p1-recs", "p2-recs", "p3-recs"} <= set(dests)
    assert "recs" not in dests
    for number in (1, 2, 3):
        page = reader.get_destination_page_number(dests[f"p{number}-recs"])
        assert page == page_ranges[number - 1].start + 1


def test_document_metadata_is_the_callers_only(reader, merged) -> None:
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert dict(reader.metadata) == {"/Title": TITLE}
    assert reader.xmp_metadata.dc_title == {"x-default": TITLE}
    assert b"WeasyPrint" not in _decompressed(merged)
    assert b"report title" not in _decompressed(merged)


def test_attachments_and_scripts_do_not_leak(parts, reader, merged) -> None:
    # Guard against a vacuous pass: the input really carries the baggage.
    source = pypdf.PdfReader(io.BytesIO(parts[2].pdf))
    assert "/EmbeddedFiles" in source.trailer["/Root"]["/Names"]
    assert SECRET.encode() in _decompressed(parts[2].pdf)
    assert b"/OBJR" in _decompressed(parts[2].pdf) and b"/FileAttachment" in _decompressed(parts[2].pdf)

    root = reader.trailer["/Root"]
    assert "/EmbeddedFiles" not in root.get("/Names", {})
    assert "/JavaScript" not in root.get("/Names", {})
    assert "/OpenAction" not in root
    assert "/AcroForm" not in root
    subtypes = {a.get_object()["/Subtype"] for p in reader.pages for a in p.get("/Annots", ArrayObject())}
    assert subtypes == {"/Link"}
    assert SECRET.encode() not in merged
    assert SECRET.encode() not in _decompressed(merged)


def test_same_inputs_give_identical_bytes(parts, merged) -> None:
    assert merge_pdfs(parts, title=TITLE) == merged
    assert merge_pdfs(parts, title="Other title") != merged


def test_keep_outline_false_omits_the_parts_outline(parts) -> None:
    pack = merge_pdfs([MergePart(parts[0].pdf, "Only", keep_outline=False)], title=TITLE)
    assert [getattr(i, "title", i) for i in pypdf.PdfReader(io.BytesIO(pack)).outline] == ["Only"]


def test_created_date_is_written_only_when_given(parts) -> None:
    plain = pypdf.PdfReader(io.BytesIO(merge_pdfs(parts[:1], title=TITLE)))
    assert "/CreationDate" not in plain.metadata
    dated = merge_pdfs(parts[:1], title=TITLE, created=datetime(2026, 1, 14, 9, 30, tzinfo=timezone.utc))
    assert pypdf.PdfReader(io.BytesIO(dated)).metadata["/CreationDate"].startswith("D:20260114093000")


def test_pdf_ua_is_claimed_only_when_every_part_claims_it(parts, reader) -> None:
    tagged_only = merge_pdfs(parts[:2], title=TITLE)
    with pikepdf.open(io.BytesIO(tagged_only)) as doc:
        assert doc.open_metadata().get("pdfuaid:part") == "1"
    assert "pdfuaid" not in str(reader.xmp_metadata.rdf_root.toxml())


def test_empty_parts_are_rejected() -> None:
    with pytest.raises(ValueError):
        merge_pdfs([], title=TITLE)


def test_role_map_clash_keeps_each_parts_meaning(parts) -> None:
    first = _with_role(parts[0].pdf, "/Callout", "/P")
    second = _with_role(parts[1].pdf, "/Callout", "/H2")
    pack = pikepdf.open(io.BytesIO(merge_pdfs([MergePart(first, "A"), MergePart(second, "B")], title=TITLE)))
    role_map = pack.Root.StructTreeRoot.RoleMap
    document = pack.Root.StructTreeRoot.K
    meanings = []
    for part in document.K:
        custom = [e for e in _pikepdf_elements(part) if str(e.S) not in ("/Part",) and str(e.S) in role_map]
        meanings.append({str(role_map[str(e.S)]) for e in custom})
    assert meanings == [{"/P"}, {"/H2"}]


def _with_role(pdf: bytes, custom: str, standard: str) -> bytes:
    """Re-type the first paragraph as a custom role mapped to ``standard``."""

    def retype(doc: pikepdf.Pdf) -> None:
        tree = doc.Root.StructTreeRoot
        tree.RoleMap = pikepdf.Dictionary({custom: pikepdf.Name(standard)})
        paragraph = next(e for e in _pikepdf_elements(tree.K[0]) if e.S == pikepdf.Name.P)
        paragraph.S = pikepdf.Name(custom)

    return _edited(pdf, retype)


def _pikepdf_elements(element: pikepdf.Dictionary) -> Iterator[pikepdf.Dictionary]:
    yield element
    kids = element.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") not in ("/MCR", "/OBJR"):
            yield from _pikepdf_elements(kid)


def _edited(pdf: bytes, edit) -> bytes:
    """Return ``pdf`` after applying ``edit(doc)`` with pikepdf."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        edit(doc)
        buffer = io.BytesIO()
        doc.save(buffer)
    return buffer.getvalue()


def _explicit_link_dests(doc: pikepdf.Pdf) -> None:
    """Turn named link destinations into explicit page destinations, as other producers do."""
    named = dict(pikepdf.NameTree(doc.Root.Names.Dests).items())
    for page in doc.pages:
        for annot in page.obj.get("/Annots", pikepdf.Array()):
            if "/Dest" in annot:
                annot.Dest = pikepdf.Array(list(named[str(annot.Dest)]))
    del doc.Root.Names.Dests


def test_explicit_link_destinations_point_at_the_copied_pages(parts) -> None:
    explicit = _edited(parts[1].pdf, _explicit_link_dests)
    pack = merge_pdfs([parts[0], MergePart(explicit, "B")], title=TITLE)
    reader = pypdf.PdfReader(io.BytesIO(pack))
    start = len(pypdf.PdfReader(io.BytesIO(parts[0].pdf)).pages)
    links = [a.get_object() for a in reader.pages[start].get("/Annots", ArrayObject())]
    assert links and isinstance(links[0]["/Dest"], ArrayObject)
    assert _link_target_page(reader, links[0]) == start + 1


def _flatten_document(doc: pikepdf.Pdf) -> None:
    """Put the /Document element's children directly under the StructTreeRoot."""
    tree = doc.Root.StructTreeRoot
    children = pikepdf.Array(list(tree.K[0].K))
    for child in children:
        child.P = tree
    tree.K = children


def test_parts_without_a_document_element_are_wrapped_and_reparented(parts) -> None:
    flat = _edited(parts[1].pdf, _flatten_document)
    reader = pypdf.PdfReader(io.BytesIO(merge_pdfs([parts[0], MergePart(flat, "B")], title=TITLE)))
    document = reader.trailer["/Root"]["/StructTreeRoot"]["/K"]
    wrapper = document["/K"][1].get_object()
    assert wrapper["/S"] == "/Part" and wrapper["/T"] == "B"
    kids = [k.get_object() for k in wrapper["/K"]]
    assert [k["/S"] for k in kids][:2] == ["/H1", "/P"]
    for kid in kids:
        assert _ref(kid["/P"]) == _ref(wrapper)
