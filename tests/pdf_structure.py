"""A PDF/UA structure-tree checker of our own, read with pikepdf (issue 9).

It shares no code with cabinet_reports.renderers.pdf_tags, the pass that fixes these defects:
it walks the tree and the content streams itself. ``problems(pdf)`` returns one line per
defect, each starting with its kind:

- ``content``: a marked-content sequence that is neither /Artifact nor owned by an element
  reachable from the StructTreeRoot, or something painted outside any marked content;
- ``parent-tree``: a ParentTree entry that points at an element the tree does not reach, or
  disagrees with the tree about who owns an MCID;
- ``link``: a Link annotation whose /Contents is missing or is an anchor id, or that has no
  /StructParent, or whose Link element does not hold it as an OBJR (ISO 14289-1 7.18.5);
- ``table``: a TH without /Scope, or ids that are repeated, missing from the /IDTree or named
  by a TD /Headers without a TH behind them;
- ``list``: an L without /ListNumbering, an LI without Lbl (only a list declared /None, one
  without visible markers, may go without: :func:`unlabelled_items` counts those), or an LI
  with kids other than one Lbl then LBody;
- ``figure``: a Figure whose /BBox is missing, outside its page or not where its image is drawn;
- ``heading``: a first heading that is not H1, or a heading that skips a level below the one
  before it (H1 then H3), in reading order (ISO 14289-1 7.4.2).
"""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name

PAINTING = {"Tj", "TJ", "'", '"', "Do", "S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh"}


def problems(pdf_source: Path | bytes | pikepdf.Pdf) -> list[str]:
    """Return every structure defect of a tagged PDF, one line each (empty when clean)."""
    if isinstance(pdf_source, pikepdf.Pdf):
        pdf = pdf_source
    elif isinstance(pdf_source, (bytes, bytearray)):
        pdf = pikepdf.open(io.BytesIO(pdf_source))
    else:
        pdf = pikepdf.open(pdf_source)
    root = pdf.Root.get(Name.StructTreeRoot)
    if not isinstance(root, Dictionary):
        return ["tree: no StructTreeRoot"]
    tree = Tree(root)
    page_no = {page.obj.objgen: n for n, page in enumerate(pdf.pages, start=1)}
    found: list[str] = []
    found += _content(pdf, tree)
    found += _parent_tree(pdf, root, tree, page_no)
    found += _links(pdf, root, tree)
    found += _tables(root, tree)
    found += _lists(pdf, tree)
    found += _figures(pdf, tree, page_no)
    found += _headings(tree)
    return found


def kinds(found: list[str]) -> set[str]:
    """Return the kinds (``content``, ``link`` …) of a list of problems."""
    return {p.split(":", 1)[0] for p in found}


def kids_of(elem: Dictionary) -> list:
    k = elem.get(Name.K)
    return [] if k is None else (list(k) if isinstance(k, Array) else [k])


def is_elem(obj) -> bool:
    return isinstance(obj, Dictionary) and Name.S in obj and obj.get(Name.Type) not in (Name.MCR, Name.OBJR)


def role(elem: Dictionary) -> str:
    return str(elem.get(Name.S))[1:]


class Tree:
    """What the StructTreeRoot reaches, walked from the top (as a screen reader reads it)."""

    def __init__(self, root: Dictionary):
        self.elements: list[Dictionary] = []
        self.reached: set[tuple[int, int]] = set()
        self.mcids: dict[tuple[tuple[int, int], int], Dictionary] = {}
        self.objrs: dict[tuple[int, int], Dictionary] = {}
        self.parent: dict[tuple[int, int], Dictionary] = {}
        self.duplicates: list[str] = []

        def walk(elem: Dictionary, page) -> None:
            if elem.objgen in self.reached:
                return
            self.reached.add(elem.objgen)
            self.elements.append(elem)
            page = elem.get(Name.Pg, page)
            for kid in kids_of(elem):
                if isinstance(kid, int):
                    self._own((page.objgen, int(kid)), elem)
                elif isinstance(kid, Dictionary) and kid.get(Name.Type) == Name.MCR:
                    self._own((kid.get(Name.Pg, page).objgen, int(kid.MCID)), elem)
                elif isinstance(kid, Dictionary) and kid.get(Name.Type) == Name.OBJR:
                    self.objrs[kid.Obj.objgen] = elem
                elif is_elem(kid):
                    self.parent[kid.objgen] = elem
                    walk(kid, page)

        for top in kids_of(root):
            if is_elem(top):
                walk(top, None)

    def _own(self, key, elem) -> None:
        if key in self.mcids:
            self.duplicates.append(f"MCID {key[1]} is owned twice")
        self.mcids[key] = elem

    def content(self, elem: Dictionary, page=None):
        """Yield (page objgen, mcid) of all content below ``elem``."""
        page = elem.get(Name.Pg, page)
        for kid in kids_of(elem):
            if isinstance(kid, int):
                yield page.objgen, int(kid)
            elif isinstance(kid, Dictionary) and kid.get(Name.Type) == Name.MCR:
                yield kid.get(Name.Pg, page).objgen, int(kid.MCID)
            elif is_elem(kid):
                yield from self.content(kid, page)


def _headings(tree: Tree) -> list[str]:
    found, before = [], 0
    for elem in tree.elements:
        name = role(elem)
        if len(name) == 2 and name[0] == "H" and name[1] in "123456":
            level = int(name[1])
            if before == 0 and level != 1:
                found.append(f"heading: the first heading is {name}, not H1")
            elif level > before + 1:
                found.append(f"heading: {name} follows H{before} (skips a level)")
            before = level
    return found


def _mul(m, n):
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _image_box(ctm):
    pts = [(ctm[0] * x + ctm[2] * y + ctm[4], ctm[1] * x + ctm[3] * y + ctm[5]) for x in (0, 1) for y in (0, 1)]
    return (min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts))


def page_marked_content(page: pikepdf.Page):
    """Yield, for one page, ``(mcid or None, in_artifact, texts, image boxes)`` per sequence,
    and ``("unmarked", operator)`` for painting outside all marked content."""
    ctm, saved = (1, 0, 0, 1, 0, 0), []
    stack: list[dict] = []
    xobjects = page.obj.get(Name.Resources, Dictionary()).get(Name.XObject, Dictionary())
    for instruction in pikepdf.parse_content_stream(page):
        if isinstance(instruction, pikepdf.ContentStreamInlineImage):
            op = "BI"
        else:
            op = str(instruction.operator)
        if op == "q":
            saved.append(ctm)
        elif op == "Q":
            ctm = saved.pop()
        elif op == "cm":
            ctm = _mul(tuple(float(v) for v in instruction.operands), ctm)
        elif op in ("BDC", "BMC"):
            tag = str(instruction.operands[0])
            props = instruction.operands[1] if op == "BDC" else None
            mcid = props.get(Name.MCID) if isinstance(props, Dictionary) else None
            artifact = tag == "/Artifact" or any(s["artifact"] for s in stack)
            stack.append({"mcid": int(mcid) if isinstance(mcid, int) else None, "artifact": artifact,
                          "tag": tag, "images": []})
        elif op == "EMC":
            yield stack.pop()
        elif op in PAINTING or op == "BI":
            if not stack:
                yield {"unmarked": op}
            elif op in ("Do", "BI"):
                name = None if op == "BI" else instruction.operands[0]
                xobject = xobjects.get(name) if name is not None else None
                if op == "BI" or (isinstance(xobject, pikepdf.Stream) and xobject.get(Name.Subtype) == Name.Image):
                    for s in reversed(stack):
                        if s["mcid"] is not None:
                            s["images"].append(_image_box(ctm))
                            break


def _content(pdf: pikepdf.Pdf, tree: Tree) -> list[str]:
    found = [f"content: {d}" for d in tree.duplicates]
    for n, page in enumerate(pdf.pages, start=1):
        seen = set()
        for seq in page_marked_content(page):
            if "unmarked" in seq:
                found.append(f"content: page {n}: '{seq['unmarked']}' painted outside marked content")
                continue
            if seq["artifact"]:
                continue
            mcid = seq["mcid"]
            if mcid is None:
                found.append(f"content: page {n}: {seq['tag']} marked content with no MCID, not an artifact")
                continue
            if mcid in seen:
                found.append(f"content: page {n}: MCID {mcid} used twice")
            seen.add(mcid)
            if (page.obj.objgen, mcid) not in tree.mcids:
                found.append(f"content: page {n}: MCID {mcid} is owned by no element the tree reaches")
    return found


def _parent_tree(pdf: pikepdf.Pdf, root: Dictionary, tree: Tree, page_no) -> list[str]:
    found = []
    if Name.ParentTree not in root:
        return ["parent-tree: none"]
    entries = dict(pikepdf.NumberTree(root.ParentTree).items())
    for key, value in entries.items():
        values = list(value) if isinstance(value, Array) else [value]
        for v in values:
            if isinstance(v, Dictionary) and v.objgen not in tree.reached:
                found.append(f"parent-tree: entry {key} points at {role(v)} {v.objgen}, which the tree does not reach")
    for page in pdf.pages:
        key = page.obj.get(Name.StructParents)
        owned = {m: e for (p, m), e in tree.mcids.items() if p == page.obj.objgen}
        if not owned:
            continue
        array = entries.get(int(key)) if isinstance(key, int) else None
        if not isinstance(array, Array):
            found.append(f"parent-tree: page {page_no[page.obj.objgen]} has no ParentTree array")
            continue
        for mcid, elem in owned.items():
            if mcid >= len(array) or not isinstance(array[mcid], Dictionary) or array[mcid].objgen != elem.objgen:
                found.append(f"parent-tree: page {page_no[page.obj.objgen]}: MCID {mcid} maps to the wrong element")
    return found


def _dest_names(pdf: pikepdf.Pdf) -> set[str]:
    names = pdf.Root.get(Name.Names)
    if isinstance(names, Dictionary) and Name.Dests in names:
        return {str(k) for k in pikepdf.NameTree(names.Dests).keys()}
    return set()


def _is_anchor_id(contents: str, dests: set[str], dest) -> bool:
    # A merged pack renames destinations per part ("p5-cr28"), so a /Contents left as the
    # part's anchor id ("cr28") is the tail of a destination name.
    names = dests | ({str(dest)} if isinstance(dest, pikepdf.String) else set())
    return any(name == contents or name.endswith("-" + contents) for name in names)


def _links(pdf: pikepdf.Pdf, root: Dictionary, tree: Tree) -> list[str]:
    found = []
    dests = _dest_names(pdf)
    entries = dict(pikepdf.NumberTree(root.ParentTree).items()) if Name.ParentTree in root else {}
    for n, page in enumerate(pdf.pages, start=1):
        for annot in page.obj.get(Name.Annots, Array()):
            if annot.get(Name.Subtype) != Name.Link:
                continue
            contents = str(annot.get(Name.Contents, "")).strip()
            dest = annot.get(Name.Dest)
            if not contents:
                found.append(f"link: page {n}: a Link annotation has no /Contents")
            elif _is_anchor_id(contents, dests, dest):
                found.append(f"link: page {n}: /Contents {contents!r} is an anchor id, not a description")
            key = annot.get(Name.StructParent)
            owner = tree.objrs.get(annot.objgen)
            if owner is None or role(owner) != "Link":
                found.append(f"link: page {n}: Link annotation {contents!r} is in no Link element of the tree")
            if not isinstance(key, int):
                found.append(f"link: page {n}: Link annotation {contents!r} has no /StructParent")
            elif owner is not None and (not isinstance(entries.get(int(key)), Dictionary)
                                        or entries[int(key)].objgen != owner.objgen):
                found.append(f"link: page {n}: /StructParent of {contents!r} does not lead to its Link element")
    return found


def _attrs(elem: Dictionary, owner: str) -> list[Dictionary]:
    a = elem.get(Name.A)
    a = [a] if isinstance(a, Dictionary) else list(a or [])
    return [d for d in a if isinstance(d, Dictionary) and str(d.get(Name.O)) == owner]


def _tables(root: Dictionary, tree: Tree) -> list[str]:
    found = []
    ids: dict[str, Dictionary] = {}
    for elem in tree.elements:
        if Name.ID in elem:
            key = str(elem.ID)
            if key in ids:
                found.append(f"table: id {key!r} is used twice")
            ids[key] = elem
        if role(elem) == "TH":
            scopes = [str(d.get(Name.Scope)) for d in _attrs(elem, "/Table") if Name.Scope in d]
            if not scopes or scopes[0] not in ("/Row", "/Column", "/Both"):
                found.append(f"table: TH {elem.objgen} has no /Scope")
    id_tree = dict(pikepdf.NameTree(root.IDTree).items()) if Name.IDTree in root else {}
    if ids and not id_tree:
        found.append(f"table: {len(ids)} element ids but no /IDTree")
    for key, elem in ids.items():
        if id_tree and (key not in id_tree or id_tree[key].objgen != elem.objgen):
            found.append(f"table: id {key!r} is not in the /IDTree")
    for elem in (e for e in tree.elements if role(e) == "TD"):
        for d in _attrs(elem, "/Table"):
            for h in d.get(Name.Headers, Array()):
                target = id_tree.get(str(h))
                if target is None or role(target) != "TH":
                    found.append(f"table: TD /Headers names {str(h)!r}, which the /IDTree does not give as a TH")
    return found


def _lists(pdf: pikepdf.Pdf, tree: Tree) -> list[str]:
    found = []
    for lst in (e for e in tree.elements if role(e) == "L"):
        numbering = [str(d.ListNumbering) for d in _attrs(lst, "/List") if Name.ListNumbering in d]
        if not numbering:
            found.append(f"list: L {lst.objgen} has no /ListNumbering")
        for item in kids_of(lst):
            if not (is_elem(item) and role(item) == "LI"):
                continue
            roles = [role(k) for k in kids_of(item) if is_elem(k)]
            if roles not in (["Lbl", "LBody"], ["LBody"], ["Lbl"]):
                found.append(f"list: LI {item.objgen} holds {roles}, not Lbl then LBody")
            if "Lbl" not in roles and numbering != ["/None"]:
                found.append(f"list: LI {item.objgen} has no Lbl")
    return found


def unlabelled_items(pdf: pikepdf.Pdf) -> int:
    """Return how many list items the tree reaches have no Lbl."""
    tree = Tree(pdf.Root.StructTreeRoot)
    return sum(1 for e in tree.elements if role(e) == "LI"
               and not any(is_elem(k) and role(k) == "Lbl" for k in kids_of(e)))


def _figures(pdf: pikepdf.Pdf, tree: Tree, page_no) -> list[str]:
    found = []
    figures = [e for e in tree.elements if role(e) == "Figure"]
    if not figures:
        return found
    drawn: dict[tuple[tuple[int, int], int], list] = {}
    for page in pdf.pages:
        for seq in page_marked_content(page):
            if seq.get("mcid") is not None:
                drawn.setdefault((page.obj.objgen, seq["mcid"]), []).extend(seq["images"])
    for fig in figures:
        layout = [d for d in _attrs(fig, "/Layout") if Name.BBox in d]
        page = fig.get(Name.Pg)
        where = f"page {page_no.get(page.objgen, '?')}" if page is not None else "no page"
        if not layout:
            found.append(f"figure: {where}: Figure has no /BBox")
            continue
        x0, y0, x1, y1 = (float(v) for v in layout[0].BBox)
        mx0, my0, mx1, my1 = (float(v) for v in pikepdf.Page(page).mediabox)
        if not (mx0 <= x0 < x1 <= mx1 and my0 <= y0 < y1 <= my1):
            found.append(f"figure: {where}: /BBox {[x0, y0, x1, y1]} is not inside the page")
        boxes = [b for key in tree.content(fig) for b in drawn.get(key, [])]
        if boxes:
            bx = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
            if any(abs(a - b) > 1 for a, b in zip((x0, y0, x1, y1), bx)):
                found.append(f"figure: {where}: /BBox {[round(v, 1) for v in (x0, y0, x1, y1)]} is not where "
                             f"the image is drawn {[round(v, 1) for v in bx]}")
    return found
