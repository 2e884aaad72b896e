"""Merge rendered reports into one meeting-pack PDF without losing their tags.

Why this module exists: pypdf, pikepdf's page copying and ``qpdf --pages`` all
copy pages but drop the structure tree (the accessibility tags), so a pack
built from PDF/UA reports would come out untagged and unusable with a screen
reader. Rendering the whole pack in one WeasyPrint run would keep the tags, but
committee services assemble packs from reports rendered (and sometimes
published) separately, plus the odd external PDF. So this module copies pages
with pikepdf and then grafts each report's structure tree under one new
``/Document`` element, re-keying the ``/ParentTree`` that links marked content
and link annotations back to their structure elements.

Two further hazards of a naive merge are handled here:

* WeasyPrint links use named destinations taken from HTML ids, so two reports
  that both have ``id="recs"`` would make report 2's link jump into report 1.
  Every part's names are prefixed (``p2-recs``).
* Exempt (confidential) reports must never leak into public packs through
  document-level baggage. Only pages, their link annotations, named
  destinations, outlines and structure are taken from a part; its ``/Info``,
  XMP, attachments, ``/OpenAction``, JavaScript, forms and non-link
  annotations are not.

Each part's top-level structure becomes one ``/Part`` element (its original
``/Document`` element re-typed, or a new wrapper) titled with the part's
bookmark, because nesting ``/Document`` inside ``/Document`` is not valid
structure and a per-report grouping helps assistive technology navigate.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import pikepdf
from pikepdf import Array, Dictionary, Name, String
from pikepdf.models.metadata import encode_pdf_date

__all__ = ["MergePart", "conforms_to_pdf_ua", "is_tagged", "merge_pdfs"]

# Attributes a page may inherit from its /Pages ancestors (ISO 32000-1, 7.7.3.4).
# They must be pushed onto the page before copying, because the source /Pages
# tree is not copied.
_INHERITABLE = (Name.Resources, Name.MediaBox, Name.CropBox, Name.Rotate)

# Link actions that cannot run code, open files or submit data.
_SAFE_LINK_ACTIONS = (Name.GoTo, Name.URI, Name.Named)

# Operators that put something on the page (ISO 32000-1, 8.2 Table 51 and 9.4): text, paths
# painted, shadings, images and form XObjects. PDF/UA (ISO 14289-1, 7.1) wants each inside
# marked content, tagged or /Artifact.
_PAINTING = frozenset({"Tj", "TJ", "'", '"', "S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "Do",
                       "INLINE IMAGE"})


@dataclass(frozen=True)
class MergePart:
    """One PDF to place in a merged pack."""

    pdf: bytes
    """A whole PDF file."""
    bookmark: str
    """Title of this part's top-level outline entry."""
    keep_outline: bool = True
    """Nest the part's own outline entries under its top-level entry."""
    then: tuple[tuple[str, int], ...] = ()
    """Further top-level entries right after this part's: (title, 0-based page of the merged
    PDF), e.g. an agenda item without papers pointing at the agenda page that lists it."""
    ours: bool = False
    """Rendered by this library, so tagged by construction (renderers/pdf_tags.py, checked by
    the tests' structure checker): its pages are not scanned again for the PDF/UA claim. An
    attached PDF from elsewhere is always scanned (:func:`is_tagged`)."""


@dataclass
class _OutlineNode:
    """A source outline entry, detached from its source file."""

    title: str
    target: Array | String | None
    closed: bool
    children: list[_OutlineNode]


def merge_pdfs(
    parts: Sequence[MergePart],
    *,
    title: str,
    lang: str = "en-GB",
    created: datetime | None = None,
) -> bytes:
    """Merge PDFs into one pack, keeping tags, links and outlines of each part.

    Pages keep their order. Each part gets a top-level bookmark to its first
    page with its own outline nested below (and any ``then`` entries after it). Tagged parts keep their structure
    trees under one ``/Document`` element; untagged parts contribute pages with
    no structure. Named destinations are renamed per part (``p<n>-<name>``,
    n counting from 1) so links stay inside their own part. No document-level
    metadata, attachment, action or script of any part is carried over. The result claims
    PDF/UA-1 only when every part claims it and is really tagged (:func:`conforms_to_pdf_ua`).

    The output is deterministic: the same inputs give identical bytes. No
    dates are written unless ``created`` is given.

    Raises ``ValueError`` if ``parts`` is empty or a part has no pages.
    """
    if not parts:
        raise ValueError("merge_pdfs needs at least one part")

    out = pikepdf.new()
    doc_elem = out.make_indirect(
        Dictionary(Type=Name.StructElem, S=Name.Document, K=Array(), Lang=String(lang))
    )
    parent_tree: list[tuple[int, pikepdf.Object]] = []
    dests: list[tuple[str, pikepdf.Object]] = []
    id_tree: list[tuple[str, pikepdf.Object]] = []
    role_map: dict[str, pikepdf.Object] = {}
    class_map: dict[str, pikepdf.Object] = {}
    outline_items: list[pikepdf.OutlineItem] = []
    extra_entries: list[tuple[int, str, int]] = []  # (position among top-level entries, title, page)
    next_key = 0
    version = "1.7"
    all_ua = True

    for number, part in enumerate(parts, start=1):
        src = pikepdf.open(io.BytesIO(part.pdf))
        if len(src.pages) == 0:
            raise ValueError(f"part {number} ({part.bookmark!r}) has no pages")
        prefix = f"p{number}-"
        first_page = len(out.pages)
        version = max(version, src.pdf_version, key=_version_key)
        all_ua = all_ua and (_claims_pdf_ua(src) if part.ours else _conforms_once(part.pdf, src))

        page_index = {page.obj.objgen: i for i, page in enumerate(src.pages)}
        outline = _read_outline(src, page_index, prefix) if part.keep_outline else []
        struct_root = src.Root.get(Name.StructTreeRoot)
        tagged = isinstance(struct_root, Dictionary) and Name.K in struct_root

        dropped, dropped_keys = _sanitize_pages(src, page_index, prefix)
        if tagged:
            if dropped:
                _unlink_objrs(struct_root, dropped)
            entries, span = _number_tree_items(struct_root.get(Name.ParentTree))
            span = max(span, int(struct_root.get(Name.ParentTreeNextKey, 0)))
            entries = [(key, value) for key, value in entries if key not in dropped_keys]
            _shift_struct_parents(src, next_key)
        else:
            _strip_struct_parents(src)

        for page in src.pages:
            out.pages.append(page)
        _resolve_page_placeholders(out, first_page, len(src.pages))

        # Everything else is copied in one call, after the pages, so that the
        # page references inside it map onto the pages just appended (qpdf
        # turns references to not-yet-copied pages into null).
        bundle = Dictionary(
            Dests=Array(v for _, v in _dest_items(src)),
        )
        if tagged and _name_tree_items(struct_root.get(Name.IDTree)):
            _prefix_headers(src, prefix)
        if tagged:
            bundle.K = _as_array(struct_root.K)
            bundle.PT = Array(v for _, v in entries)
            bundle.IDs = Array(v for _, v in _name_tree_items(struct_root.get(Name.IDTree)))
            bundle.RoleMap = struct_root.get(Name.RoleMap, Dictionary())
            bundle.ClassMap = struct_root.get(Name.ClassMap, Dictionary())
        copied = out.copy_foreign(src.make_indirect(bundle))

        dests.extend(
            (prefix + name, value)
            for (name, _), value in zip(_dest_items(src), copied.Dests, strict=True)
        )

        part_elem = None
        if tagged:
            parent_tree.extend(
                (key + next_key, value)
                for (key, _), value in zip(entries, copied.PT, strict=True)
            )
            ids = _name_tree_items(struct_root.get(Name.IDTree))
            for (elem_id, _), elem in zip(ids, copied.IDs, strict=True):
                elem.ID = String(prefix + elem_id)
                id_tree.append((prefix + elem_id, elem))
            top = list(copied.K)
            _merge_map(role_map, copied.RoleMap, top, Name.S, prefix)
            _merge_map(class_map, copied.ClassMap, top, Name.C, prefix)
            part_elem = _graft(out, doc_elem, top, part.bookmark, src.Root.get(Name.Lang), lang)
            next_key += span

        item = pikepdf.OutlineItem(part.bookmark, first_page)
        if part_elem is not None:
            item.structure_element = part_elem
        item.children = [_outline_item(out, node, first_page) for node in outline]
        outline_items.append(item)
        extra_entries.extend((len(outline_items), title, page) for title, page in part.then)
        src.close()

    # Entries that follow a part may point at any page, even a later part's: add them now.
    # (Not named "title": that is the pack's own, set below; the loop once overwrote it with the
    # last entry's, so a pack opening with "Apologies" was titled "1. Apologies for absence".)
    for position, entry, page in reversed(extra_entries):
        if not 0 <= page < len(out.pages):
            raise ValueError(f"bookmark {entry!r} points at page {page + 1} of {len(out.pages)}")
        outline_items.insert(position, pikepdf.OutlineItem(entry, page))

    _finish_catalog(out, doc_elem, parent_tree, next_key, dests, id_tree, role_map, class_map)
    with out.open_outline() as pack_outline:
        pack_outline.root.extend(outline_items)
    _set_metadata(out, title=title, lang=lang, created=created, pdf_ua=all_ua)

    buffer = io.BytesIO()
    out.save(
        buffer,
        deterministic_id=True,
        min_version=version,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
    )
    return buffer.getvalue()


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def conforms_to_pdf_ua(src: pikepdf.Pdf) -> bool:
    """Return True when a PDF claims PDF/UA-1 and its tags bear the claim out.

    A merged pack claims PDF/UA only when every part does (:func:`merge_pdfs`). The claim
    (``pdfuaid:part`` 1 in the XMP) is only metadata: any tool can write it, and an attached
    PDF from elsewhere may carry it without a single tag. So the claim counts only with the
    tags it promises (:func:`is_tagged`).
    """
    return _claims_pdf_ua(src) and is_tagged(src)


def _conforms_once(data: bytes, src: pikepdf.Pdf) -> bool:
    """Return :func:`conforms_to_pdf_ua` of a part, scanning each distinct PDF once a process.

    An attached PDF goes into the public pack, the full pack and its items/ file: reading every
    page's content three times cost seconds on a large pack.
    """
    digest = hashlib.sha256(data).digest()
    if digest not in _SCANNED:
        if len(_SCANNED) >= 256:
            _SCANNED.pop(next(iter(_SCANNED)))
        _SCANNED[digest] = conforms_to_pdf_ua(src)
    return _SCANNED[digest]


_SCANNED: dict[bytes, bool] = {}


def is_tagged(src: pikepdf.Pdf) -> bool:
    """Return True when a PDF is really tagged, whatever its metadata says.

    That is: a ``/StructTreeRoot`` with structure elements, ``/MarkInfo`` ``/Marked`` true,
    and on every page every painting operator (text, paths, images, forms) inside marked
    content, a tagged sequence or an ``/Artifact``. It does not judge the tags' quality (the
    tests' structure checker and pdf.js do that for our own PDFs).
    """
    root = src.Root
    struct_root = root.get(Name.StructTreeRoot)
    if not isinstance(struct_root, Dictionary) or not _has_kids(struct_root.get(Name.K)):
        return False
    mark_info = root.get(Name.MarkInfo)
    if not isinstance(mark_info, Dictionary) or mark_info.get(Name.Marked) is not True:
        return False
    return all(_content_is_marked(page) for page in src.pages)


def _has_kids(kids: pikepdf.Object | None) -> bool:
    if isinstance(kids, Array):
        return len(kids) > 0
    return isinstance(kids, Dictionary)


def _tags_content(page: pikepdf.Page, operands, op: str) -> bool:
    """Return True when a BDC/BMC opens tagged content: an /Artifact, or properties with an /MCID."""
    if not operands or operands[0] == Name.Artifact:
        return bool(operands)
    if op == "BMC" or len(operands) < 2:
        return False
    props = operands[1]
    if isinstance(props, Name):  # a named property list, in the page's /Properties resources
        props = page.obj.get(Name.Resources, Dictionary()).get(Name.Properties, Dictionary()).get(props)
    return isinstance(props, Dictionary) and Name.MCID in props


def _content_is_marked(page: pikepdf.Page) -> bool:
    """Return True when nothing on the page is drawn outside marked content."""
    try:
        instructions = pikepdf.parse_content_stream(page)
    except pikepdf.PdfError:  # content qpdf cannot read cannot be shown to be tagged
        return False
    # One entry per open sequence: does it tag its content (an MCID, or an /Artifact)? An
    # optional-content (/OC) or other untagged sequence around a drawing does not.
    open_: list[bool] = []
    for instruction in instructions:
        op = str(instruction.operator)
        if op in ("BDC", "BMC"):
            open_.append(_tags_content(page, instruction.operands, op))
        elif op == "EMC":
            if not open_:
                return False
            open_.pop()
        elif op in _PAINTING and not any(open_):
            return False
    return not open_


def _claims_pdf_ua(src: pikepdf.Pdf) -> bool:
    if Name.Metadata not in src.Root:
        return False
    meta = src.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False)
    return str(meta.get("pdfuaid:part", "")) == "1"


def _as_array(obj: pikepdf.Object) -> Array:
    return Array(list(obj)) if isinstance(obj, Array) else Array([obj])


def _number_tree_items(tree: pikepdf.Object | None) -> tuple[list[tuple[int, pikepdf.Object]], int]:
    """Return a number tree's entries in key order and one past the largest key."""
    if not isinstance(tree, Dictionary):
        return [], 0
    items = sorted(pikepdf.NumberTree(tree).items(), key=lambda kv: kv[0])
    return items, (items[-1][0] + 1 if items else 0)


def _name_tree_items(tree: pikepdf.Object | None) -> list[tuple[str, pikepdf.Object]]:
    if not isinstance(tree, Dictionary):
        return []
    return sorted(pikepdf.NameTree(tree).items())


def _dest_items(src: pikepdf.Pdf) -> list[tuple[str, pikepdf.Object]]:
    """List a document's named destinations, from the name tree or the old /Dests dict."""
    names = src.Root.get(Name.Names)
    if isinstance(names, Dictionary) and Name.Dests in names:
        return _name_tree_items(names.Dests)
    legacy = src.Root.get(Name.Dests)
    if isinstance(legacy, Dictionary):
        return sorted((str(k)[1:], legacy[k]) for k in legacy.keys())
    return []


def _page_target(
    dest: pikepdf.Object, page_index: dict[tuple[int, int], int], prefix: str
) -> Array | String | None:
    """Rewrite a destination so it survives the merge.

    Named destinations get the part's prefix. Explicit destinations get the
    page's index in the part as a placeholder, because the page reference
    itself would be nulled if the annotation is copied before its target page.
    """
    if isinstance(dest, Dictionary):  # /Dests values may be wrapped as << /D [...] >>
        dest = dest.get(Name.D)
    if isinstance(dest, (String, Name)):
        name = str(dest)[1:] if isinstance(dest, Name) else str(dest)
        return String(prefix + name)
    if isinstance(dest, Array) and len(dest) > 0:
        page = dest[0]
        if isinstance(page, Dictionary) and page.is_indirect and page.objgen in page_index:
            return Array([page_index[page.objgen], *list(dest)[1:]])
    return None


def _link_target(annot: Dictionary) -> pikepdf.Object | None:
    if Name.Dest in annot:
        return annot.Dest
    action = annot.get(Name.A)
    if isinstance(action, Dictionary) and action.get(Name.S) == Name.GoTo:
        return action.get(Name.D)
    return None


def _sanitize_pages(
    src: pikepdf.Pdf, page_index: dict[tuple[int, int], int], prefix: str
) -> tuple[set[tuple[int, int]], set[int]]:
    """Strip a part's pages down to what may be published.

    Only link annotations with harmless actions survive, because other
    annotations can carry attachments, comments or form data. Link targets are
    rewritten via ``_page_target``. Returns the object ids and /StructParent
    keys of the dropped annotations, which the structure tree must forget.
    """
    dropped: set[tuple[int, int]] = set()
    dropped_keys: set[int] = set()
    for page in src.pages:
        obj = page.obj
        for key in _INHERITABLE:
            if key not in obj:
                value = _inherited(obj, key)
                if value is not None:
                    obj[key] = value
        # Page-level actions can run JavaScript; page XMP and PieceInfo are
        # authoring metadata of the part.
        for key in (Name.AA, Name.Metadata, Name.PieceInfo):
            if key in obj:
                del obj[key]
        annots = obj.get(Name.Annots)
        if not isinstance(annots, Array):
            continue
        kept = Array()
        for annot in annots:
            if not isinstance(annot, Dictionary):
                continue
            link = _clean_link(annot, page_index, prefix)
            if link is None:
                if annot.is_indirect:
                    dropped.add(annot.objgen)
                if isinstance(annot.get(Name.StructParent), int):
                    dropped_keys.add(int(annot.StructParent))
                continue
            kept.append(link)
        obj.Annots = kept
    return dropped, dropped_keys


def _clean_link(
    annot: Dictionary, page_index: dict[tuple[int, int], int], prefix: str
) -> Dictionary | None:
    if annot.get(Name.Subtype) != Name.Link:
        return None
    action = annot.get(Name.A)
    if isinstance(action, Dictionary) and action.get(Name.S) not in _SAFE_LINK_ACTIONS:
        return None
    for key in (Name.AA, Name.PA):
        if key in annot:
            del annot[key]
    if Name.Dest in annot or (isinstance(action, Dictionary) and action.get(Name.S) == Name.GoTo):
        target = _page_target(_link_target(annot), page_index, prefix)
        if Name.A in annot:
            del annot[Name.A]
        if target is None:
            if Name.Dest in annot:
                del annot[Name.Dest]
        else:
            annot.Dest = target
    elif isinstance(action, Dictionary):
        # Rebuild rather than keep the action, to drop any /Next chain.
        fresh = Dictionary(S=action.S)
        for key in (Name.URI, Name.N, Name.IsMap):
            if key in action:
                fresh[key] = action[key]
        annot.A = fresh
    return annot


def _inherited(page: Dictionary, key: Name) -> pikepdf.Object | None:
    node = page.get(Name.Parent)
    seen = set()
    while isinstance(node, Dictionary) and node.objgen not in seen:
        seen.add(node.objgen)
        if key in node:
            return node[key]
        node = node.get(Name.Parent)
    return None


def _resolve_page_placeholders(out: pikepdf.Pdf, first: int, count: int) -> None:
    """Replace the page-index placeholders left by ``_page_target`` with real pages."""
    for page in out.pages[first : first + count]:
        for annot in page.obj.get(Name.Annots, Array()):
            dest = annot.get(Name.Dest)
            if isinstance(dest, Array) and len(dest) > 0 and isinstance(dest[0], int):
                dest[0] = out.pages[first + int(dest[0])].obj


def _iter_struct(kids: pikepdf.Object) -> Iterator[Dictionary]:
    """Yield every structure element below ``kids``, depth first."""
    stack = [kids]
    seen: set[tuple[int, int]] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, Array):
            stack.extend(reversed(list(node)))
        elif isinstance(node, Dictionary):
            if node.get(Name.Type) in (Name.MCR, Name.OBJR):
                continue
            if node.is_indirect:
                if node.objgen in seen:
                    continue
                seen.add(node.objgen)
            yield node
            if Name.K in node:
                stack.append(node.K)


def _prefix_headers(src: pikepdf.Pdf, prefix: str) -> None:
    """Rename the ids that table cells' /Headers name, as the part's /ID values are renamed.

    (Added for issue 9 by the PDF/UA post-pass, which gives every report an /IDTree.) Done in
    the part before it is copied, over its objects in one flat pass: walking the copied
    structure tree element by element cost ~90 ms a report, most of a pack merge. A cell
    outside the tree is renamed too, harmlessly: it is not copied.
    """
    for obj in src.objects:
        if not isinstance(obj, Dictionary) or Name.A not in obj:
            continue
        attrs = obj.A
        for attr in [attrs] if isinstance(attrs, Dictionary) else list(attrs) if isinstance(attrs, Array) else []:
            if isinstance(attr, Dictionary) and isinstance(attr.get(Name.Headers), Array):
                attr.Headers = Array(String(prefix + str(h)) for h in attr.Headers)


def _unlink_objrs(struct_root: Dictionary, dropped: set[tuple[int, int]]) -> None:
    """Remove references to dropped annotations from the structure tree.

    Left in place, an object reference would drag the dropped annotation (and
    any attachment it carries) into the merged file through the tree.
    Elements left empty are removed too, since empty tags confuse readers.
    """
    emptied: list[Dictionary] = []
    for elem in _iter_struct(struct_root.K):
        kids = elem.get(Name.K)
        if isinstance(kids, Dictionary):
            kids = Array([kids])
        if not isinstance(kids, Array):
            continue
        keep = [
            k
            for k in kids
            if not (
                isinstance(k, Dictionary)
                and k.get(Name.Type) == Name.OBJR
                and isinstance(k.get(Name.Obj), Dictionary)
                and k.Obj.objgen in dropped
            )
        ]
        if len(keep) != len(kids):
            elem.K = Array(keep)
            if not keep:
                emptied.append(elem)
    for elem in emptied:
        parent = elem.get(Name.P)
        siblings = parent.get(Name.K) if isinstance(parent, Dictionary) else None
        if isinstance(siblings, Array):
            parent.K = Array(k for k in siblings if not (k.is_indirect and k.objgen == elem.objgen))


def _shift_struct_parents(src: pikepdf.Pdf, offset: int) -> None:
    """Add ``offset`` to every /StructParent(s) key so parts share one parent tree.

    The keys live on what content can be marked in (ISO 32000-1, 14.7.4.4): pages, their
    annotations and the XObjects their content draws (and those XObjects' own XObjects). Only
    those are visited: walking every object of a 400-page pack took most of the merge's time.
    """
    if offset == 0:
        return
    seen: set[tuple[int, int]] = set()
    for page in src.pages:
        _shift_one(page.obj, offset)
        for annot in page.obj.get(Name.Annots, Array()):
            if isinstance(annot, Dictionary):
                if annot.is_indirect:
                    if annot.objgen in seen:
                        continue
                    seen.add(annot.objgen)
                _shift_one(annot, offset)
                for appearance in _appearance_streams(annot):
                    _shift_xobjects(appearance, offset, seen, top=True)
        _shift_xobjects(page.obj, offset, seen)


def _appearance_streams(annot: Dictionary) -> Iterator[pikepdf.Object]:
    appearances = annot.get(Name.AP)
    if not isinstance(appearances, Dictionary):
        return
    for value in appearances.values():
        if isinstance(value, pikepdf.Stream):
            yield value
        elif isinstance(value, Dictionary):
            yield from (v for v in value.values() if isinstance(v, pikepdf.Stream))


def _shift_xobjects(holder: pikepdf.Object, offset: int, seen: set[tuple[int, int]], top: bool = False) -> None:
    """Shift the keys of the XObjects ``holder``'s resources name, recursively (``top``: holder too)."""
    stack = [holder]
    while stack:
        node = stack.pop()
        if top or node is not holder:
            if node.is_indirect:
                if node.objgen in seen:
                    continue
                seen.add(node.objgen)
            _shift_one(node, offset)
        resources = node.get(Name.Resources)
        xobjects = resources.get(Name.XObject) if isinstance(resources, Dictionary) else None
        if isinstance(xobjects, Dictionary):
            stack.extend(x for x in xobjects.values() if isinstance(x, pikepdf.Stream))


def _shift_one(obj: pikepdf.Object, offset: int) -> None:
    for key in (Name.StructParents, Name.StructParent):
        value = obj.get(key)
        if isinstance(value, int):
            obj[key] = value + offset


def _strip_struct_parents(src: pikepdf.Pdf) -> None:
    # Keys of an untagged part would point into other parts' parent tree entries.
    for page in src.pages:
        if Name.StructParents in page.obj:
            del page.obj[Name.StructParents]
        for annot in page.obj.get(Name.Annots, Array()):
            if Name.StructParent in annot:
                del annot[Name.StructParent]


def _merge_map(
    merged: dict[str, pikepdf.Object],
    part_map: Dictionary,
    top: list[pikepdf.Object],
    attr: Name,
    prefix: str,
) -> None:
    """Merge a RoleMap or ClassMap; on a clash, rename the part's key and its uses."""
    renames: dict[str, str] = {}
    for key in sorted(part_map.keys()):
        value = part_map[key]
        if key in merged and repr(merged[key]) != repr(value):
            renames[key] = "/" + prefix + key[1:]
            merged[renames[key]] = value
        else:
            merged.setdefault(key, value)
    if not renames:
        return
    for elem in _iter_struct(Array(top)):
        used = elem.get(attr)
        if isinstance(used, Name) and str(used) in renames:
            elem[attr] = Name(renames[str(used)])
        elif isinstance(used, Array):
            elem[attr] = Array(
                Name(renames[str(u)]) if isinstance(u, Name) and str(u) in renames else u
                for u in used
            )


def _graft(
    out: pikepdf.Pdf,
    doc_elem: Dictionary,
    top: list[pikepdf.Object],
    bookmark: str,
    part_lang: pikepdf.Object | None,
    lang: str,
) -> Dictionary:
    """Hang a part's top-level structure elements under the pack's /Document."""
    elements = [e for e in top if isinstance(e, Dictionary)]
    if len(elements) == 1 and elements[0].get(Name.S) == Name.Document and elements[0].is_indirect:
        part_elem = elements[0]
        part_elem.S = Name.Part
    else:
        part_elem = out.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Part, K=Array(elements)))
        for elem in elements:
            elem.P = part_elem
    part_elem.P = doc_elem
    part_elem.T = String(bookmark)
    # A report in another language (e.g. Welsh) keeps its own language.
    if isinstance(part_lang, String) and str(part_lang) and str(part_lang) != lang:
        if Name.Lang not in part_elem:
            part_elem.Lang = part_lang
    doc_elem.K.append(part_elem)
    return part_elem


def _read_outline(
    src: pikepdf.Pdf, page_index: dict[tuple[int, int], int], prefix: str
) -> list[_OutlineNode]:
    """Read a part's outline into plain nodes before its pages are modified."""
    outlines = src.Root.get(Name.Outlines)
    if not isinstance(outlines, Dictionary):
        return []
    seen: set[tuple[int, int]] = set()

    def siblings(first: pikepdf.Object | None) -> list[_OutlineNode]:
        nodes = []
        item = first
        while isinstance(item, Dictionary) and item.objgen not in seen:
            seen.add(item.objgen)
            target = _link_target(item)
            nodes.append(
                _OutlineNode(
                    title=str(item.get(Name.Title, "")),
                    target=_page_target(target, page_index, prefix) if target is not None else None,
                    closed=int(item.get(Name.Count, 0)) < 0,
                    children=siblings(item.get(Name.First)),
                )
            )
            item = item.get(Name.Next)
        return nodes

    return siblings(outlines.get(Name.First))


def _outline_item(out: pikepdf.Pdf, node: _OutlineNode, first_page: int) -> pikepdf.OutlineItem:
    target = node.target
    if isinstance(target, Array):
        target = Array([out.pages[first_page + int(target[0])].obj, *list(target)[1:]])
    item = pikepdf.OutlineItem(node.title, target)
    item.is_closed = node.closed
    item.children = [_outline_item(out, child, first_page) for child in node.children]
    return item


def _finish_catalog(
    out: pikepdf.Pdf,
    doc_elem: Dictionary,
    parent_tree: list[tuple[int, pikepdf.Object]],
    next_key: int,
    dests: list[tuple[str, pikepdf.Object]],
    id_tree: list[tuple[str, pikepdf.Object]],
    role_map: dict[str, pikepdf.Object],
    class_map: dict[str, pikepdf.Object],
) -> None:
    root = out.Root
    if len(doc_elem.K) > 0:
        struct_root = out.make_indirect(Dictionary(Type=Name.StructTreeRoot, K=doc_elem))
        doc_elem.P = struct_root
        numbers = pikepdf.NumberTree.new(out)
        for key, value in parent_tree:
            numbers[key] = value
        struct_root.ParentTree = numbers.obj
        struct_root.ParentTreeNextKey = next_key
        if id_tree:
            ids = pikepdf.NameTree.new(out)
            for key, value in id_tree:
                ids[key] = value
            struct_root.IDTree = ids.obj
        if role_map:
            struct_root.RoleMap = Dictionary({k: role_map[k] for k in sorted(role_map)})
        if class_map:
            struct_root.ClassMap = Dictionary({k: class_map[k] for k in sorted(class_map)})
        root.StructTreeRoot = struct_root
        root.MarkInfo = Dictionary(Marked=True)
    if dests:
        tree = pikepdf.NameTree.new(out)
        for key, value in dests:
            tree[key] = value
        root.Names = Dictionary(Dests=tree.obj)
    root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
    root.PageMode = Name.UseOutlines


def _set_metadata(
    out: pikepdf.Pdf, *, title: str, lang: str, created: datetime | None, pdf_ua: bool
) -> None:
    out.Root.Lang = String(lang)
    with out.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["dc:title"] = title
        if created is not None:
            meta["xmp:CreateDate"] = created.isoformat()
        if pdf_ua:
            meta["pdfuaid:part"] = "1"
    out.docinfo[Name.Title] = String(title)
    if created is not None:
        out.docinfo[Name.CreationDate] = String(encode_pdf_date(created))
