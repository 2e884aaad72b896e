"""PDF/UA post-pass: repair the structure tags WeasyPrint 70 writes, in the written PDF.

WeasyPrint tags what it lays out, but five things in its output fail a PDF/UA audit (issue 9).
:func:`fix_tags` opens the PDF with pikepdf, reads the structure tree and each page's content
stream once, and fixes them in place:

1. **Links.** Link annotations' /Contents is the anchor id ("cr28"). It becomes the link's own
   text, found through the Link element's marked content ("Appendix 1"; for a web link the
   text and the address). Every Link annotation gets a /StructParent and an OBJR in a Link
   element.
2. **Page furniture.** The content of page-margin boxes (running title, Part B marking, "Page N
   of M") is marked content whose elements WeasyPrint builds but never hangs in the tree
   (upstream #1836). Every marked-content sequence not owned by an element reachable from the
   StructTreeRoot becomes ``/Artifact <</Type /Pagination /Subtype /Header|/Footer>>``, and
   the ParentTree is rebuilt from the tree, so no entry points at a detached element.
3. **Table headers.** TD /Headers point at TH /ID values with no /IDTree. Every TH gets
   ``/Scope /Column`` or ``/Row`` (which one, from the cells that name it), the ids are made
   unique and an /IDTree is written (pdfmerge prefixes them per part in a pack).
4. **List labels.** Our templates print a list item's marker ("(a)", "•") in its own span at
   the start of the item, so WeasyPrint puts it inside LBody. That span becomes the item's Lbl,
   and each L gets /ListNumbering from its labels (LowerAlpha, Disc …; None for labels that
   are not a sequence, or for a list without visible markers). A list set in CSS columns,
   which WeasyPrint tags as one L per column inside the L, is made one list again, and the
   rest of an item broken by a page break joins the item it continues.
5. **Figure BBox.** WeasyPrint writes it in CSS pixels with y down; it becomes the image's
   placement in PDF user space, computed from the page's transformation matrix.

The fixes rely only on what is in the PDF, so the pass can run on any PDF WeasyPrint wrote;
a PDF without a structure tree is returned unchanged.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterator

import pikepdf
from pikepdf import Array, Dictionary, Name, Operator, String

__all__ = ["fix_tags"]

Matrix = tuple[float, float, float, float, float, float]
Box = tuple[float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)

_SHOW_TEXT = {"Tj", "TJ", "'", '"'}
_SCANNED = "q Q cm BT Tm Td TD TL T* Tf BDC BMC EMC Tj TJ ' \" Do BI ID EI"
_BDC = re.compile(rb"/[A-Za-z][A-Za-z0-9_.-]*\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC")


def fix_tags(pdf_bytes: bytes) -> bytes:
    """Return ``pdf_bytes`` with WeasyPrint's tagging defects fixed (see the module docstring).

    The result is deterministic: the same input gives the same bytes.
    """
    pdf = pikepdf.open(io.BytesIO(pdf_bytes))
    struct_root = pdf.Root.get(Name.StructTreeRoot)
    if not isinstance(struct_root, Dictionary) or Name.K not in struct_root:
        return pdf_bytes
    tree = _Tree(struct_root)
    pages = [_PageContent(page) for page in pdf.pages]
    for page in pages:
        page.mark_furniture(tree)
    _describe_links(pdf, tree, pages)
    _label_lists(tree, pages)
    _scope_table_headers(pdf, struct_root, tree)
    _place_figures(tree, pages)
    _rebuild_parent_tree(pdf, struct_root, tree, pages)
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


# --------------------------------------------------------------------------- structure tree
_K, _S, _PG, _TYPE, _MCID, _STM, _OBJ = Name.K, Name.S, Name.Pg, Name.Type, Name.MCID, Name.Stm, Name.Obj
_MCR, _OBJR = Name.MCR, Name.OBJR


def _kids(obj: Dictionary) -> list[pikepdf.Object]:
    if _K not in obj:
        return []
    kids = obj[_K]
    return list(kids) if isinstance(kids, Array) else [kids]


Key = tuple[int, int]
"""An indirect object's (number, generation): how elements, pages and annotations are told apart."""


@dataclass
class _Kid:
    """One entry of an element's /K, classified once."""

    obj: pikepdf.Object
    elem: Dictionary | None = None
    """The child element, for an element kid."""
    content: tuple[Key, int] | None = None
    """(page, MCID), for marked content."""


class _Tree:
    """The elements reachable from the StructTreeRoot, and what each one owns.

    Reading a pikepdf dictionary costs far more than a Python dict, so every element's role
    and kids are read once here; the fixes change the tree through :meth:`set_kids`.
    """

    def __init__(self, struct_root: Dictionary):
        self.elements: list[Dictionary] = []
        self.roles: dict[Key, str] = {}
        self.kids: dict[Key, list[_Kid]] = {}
        self.mcid_owner: dict[tuple[Key, int], Dictionary] = {}
        self.objr_owner: dict[Key, Dictionary] = {}
        self.parent: dict[Key, Dictionary] = {}
        # The hot loop of the pass: names are module constants and dictionaries are read with
        # `in` and [] (pikepdf's .get and Name.X lookups each cost microseconds).
        stack: list[tuple[pikepdf.Object, Key | None]] = [(k, None) for k in reversed(_kids(struct_root))]
        while stack:
            elem, page = stack.pop()
            if not isinstance(elem, Dictionary) or _S not in elem or elem.objgen in self.roles:
                continue
            self.roles[elem.objgen] = str(elem[_S])[1:]
            self.elements.append(elem)
            if _PG in elem:
                page = elem[_PG].objgen
            kids = []
            for obj in _kids(elem):
                kid = _Kid(obj)
                if isinstance(obj, int):
                    if page is not None:
                        kid.content = (page, obj)
                        self.mcid_owner[kid.content] = elem
                elif isinstance(obj, Dictionary):
                    kind = obj[_TYPE] if _TYPE in obj else None
                    if kind == _MCR:
                        kid_page = obj[_PG].objgen if _PG in obj else page
                        if _STM not in obj and kid_page is not None:
                            kid.content = (kid_page, int(obj[_MCID]))
                            self.mcid_owner[kid.content] = elem
                    elif kind == _OBJR:
                        if _OBJ in obj and isinstance(obj[_OBJ], Dictionary):
                            self.objr_owner[obj[_OBJ].objgen] = elem
                    elif _S in obj:
                        kid.elem = obj
                        self.parent.setdefault(obj.objgen, elem)
                        stack.append((obj, page))
                kids.append(kid)
            self.kids[elem.objgen] = kids
            # Children go on the stack in reverse, so that they come off it in order.
            added = sum(1 for k in kids if k.elem is not None)
            if added:
                stack[-added:] = stack[-added:][::-1]

    def role(self, elem: Dictionary | None) -> str:
        """Return an element's structure type ("P", "LI"), or "" for anything else."""
        return self.roles.get(elem.objgen, "") if isinstance(elem, Dictionary) else ""

    def children(self, elem: Dictionary, *roles: str) -> list[Dictionary]:
        """Return an element's child elements (only those with one of ``roles``, if given)."""
        return [k.elem for k in self.kids.get(elem.objgen, ())
                if k.elem is not None and (not roles or self.role(k.elem) in roles)]

    def by_role(self, *roles: str) -> list[Dictionary]:
        """Return the reachable elements with one of ``roles``, in document order."""
        return [e for e in self.elements if self.roles[e.objgen] in roles]

    def set_kids(self, elem: Dictionary, kids: list[_Kid]) -> None:
        """Replace an element's /K, keeping what this tree knows about it in step."""
        self.kids[elem.objgen] = kids
        elem.K = Array(k.obj for k in kids)
        for kid in kids:
            if kid.elem is not None:
                kid.elem.P = elem
                self.parent[kid.elem.objgen] = elem
            if kid.content is not None:
                self.mcid_owner[kid.content] = elem

    def remove(self, elem: Dictionary) -> None:
        """Take an element out of its parent, and the parent too if that leaves it empty."""
        parent = self.parent.pop(elem.objgen, None)
        if parent is None:
            return
        kids = [k for k in self.kids[parent.objgen] if k.elem is None or k.elem.objgen != elem.objgen]
        self.set_kids(parent, kids)
        if not kids:
            self.remove(parent)

    def content(self, elem: Dictionary) -> Iterator[tuple[Key, int]]:
        """Yield ``(page, mcid)`` of all marked content below ``elem``, in reading order."""
        for kid in self.kids.get(elem.objgen, ()):
            if kid.content is not None:
                yield kid.content
            elif kid.elem is not None:
                yield from self.content(kid.elem)

    def text(self, elem: Dictionary, pages: dict[Key, _PageContent]) -> str:
        """Return the text of ``elem``'s marked content, whitespace collapsed."""
        parts = []
        for page_id, mcid in self.content(elem):
            page = pages.get(page_id)
            if page is not None and mcid in page.marked:
                parts.append(page.text(mcid))
        return " ".join("".join(parts).split())


def _attr(elem: Dictionary, owner: Name) -> Dictionary:
    """Return ``elem``'s attribute dictionary for ``owner`` (/Table, /List, /Layout), adding one."""
    attrs = elem.get(Name.A)
    if isinstance(attrs, Dictionary):
        if attrs.get(Name.O) == owner:
            return attrs
        attrs = Array([attrs])
        elem.A = attrs
    elif isinstance(attrs, Array):
        for a in attrs:
            if isinstance(a, Dictionary) and a.get(Name.O) == owner:
                return a
    new = Dictionary(O=owner)
    if isinstance(attrs, Array):
        attrs.append(new)
    else:
        elem.A = new
    return new


# --------------------------------------------------------------------------- content streams
def _mul(m: Matrix, n: Matrix) -> Matrix:
    """Return m × n (apply m, then n), as PDF composes transformation matrices."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _box(m: Matrix, x0: float, y0: float, x1: float, y1: float) -> Box:
    """Return the bounding box of rectangle (x0, y0)-(x1, y1) transformed by ``m``."""
    points = [_apply(m, x, y) for x in (x0, x1) for y in (y0, y1)]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _union(a: Box | None, b: Box) -> Box:
    return b if a is None else (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


@dataclass
class _Marked:
    """One marked-content sequence with an MCID, as drawn on its page."""

    mcid: int
    ctm: Matrix
    """The transformation matrix in force at its BDC."""
    origin: tuple[float, float] | None = None
    """Where its first text starts, in user space."""
    shown: list[tuple[Dictionary | None, pikepdf.Object]] = field(default_factory=list)
    """The operand of each text-showing operator, with the font in force (decoded on demand)."""
    images: Box | None = None
    """The user-space bounding box of the images it draws."""


class _PageContent:
    """A page's content stream, parsed once: its marked content, their text and images."""

    def __init__(self, page: pikepdf.Page):
        self.page = page
        self.id = page.obj.objgen
        # Only the operators the scan needs: parsing is most of the pass's cost.
        self.instructions = pikepdf.parse_content_stream(page, _SCANNED)
        self.marked: dict[int, _Marked] = {}
        self.furniture: dict[int, Dictionary] = {}
        resources = page.obj.get(Name.Resources, Dictionary())
        self._fonts = resources.get(Name.Font, Dictionary())
        self._xobjects = resources.get(Name.XObject, Dictionary())
        self._decoders: dict[tuple[int, int], _Decoder] = {}
        self._scan()

    def _scan(self) -> None:
        ctm, stack = IDENTITY, []
        tm = tlm = IDENTITY
        leading = 0.0
        font = None
        open_: list[_Marked | None] = []
        for instruction in self.instructions:
            if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                if open_ and open_[-1] is not None:
                    open_[-1].images = _union(open_[-1].images, _box(ctm, 0, 0, 1, 1))
                continue
            op = str(instruction.operator)
            operands = instruction.operands
            if op == "q":
                stack.append(ctm)
            elif op == "Q":
                ctm = stack.pop() if stack else IDENTITY
            elif op == "cm":
                ctm = _mul(tuple(float(v) for v in operands), ctm)
            elif op == "BT":
                tm = tlm = IDENTITY
            elif op == "Tm":
                tm = tlm = tuple(float(v) for v in operands)
            elif op in ("Td", "TD"):
                tx, ty = float(operands[0]), float(operands[1])
                if op == "TD":
                    leading = -ty
                tm = tlm = _mul((1, 0, 0, 1, tx, ty), tlm)
            elif op == "TL":
                leading = float(operands[0])
            elif op == "T*":
                tm = tlm = _mul((1, 0, 0, 1, 0, -leading), tlm)
            elif op == "Tf":
                font = self._fonts.get(operands[0])
            elif op in ("BDC", "BMC"):
                props = operands[1] if op == "BDC" and len(operands) > 1 else None
                mcid = props.get(Name.MCID) if isinstance(props, Dictionary) else None
                if isinstance(mcid, int):
                    marked = _Marked(int(mcid), ctm)
                    self.marked[marked.mcid] = marked
                    open_.append(marked)
                else:
                    open_.append(open_[-1] if open_ else None)
            elif op == "EMC":
                if open_:
                    open_.pop()
            elif op in _SHOW_TEXT:
                if op in ("'", '"'):
                    tm = tlm = _mul((1, 0, 0, 1, 0, -leading), tlm)
                current = open_[-1] if open_ else None
                if current is not None:
                    if current.origin is None:
                        current.origin = _apply(_mul(tm, ctm), 0, 0)
                    current.shown.append((font, operands[-1]))
            elif op == "Do":
                current = open_[-1] if open_ else None
                xobject = self._xobjects.get(operands[0])
                if current is not None and isinstance(xobject, pikepdf.Stream):
                    if xobject.get(Name.Subtype) == Name.Image:
                        current.images = _union(current.images, _box(ctm, 0, 0, 1, 1))
                    elif xobject.get(Name.Subtype) == Name.Form and Name.BBox in xobject:
                        inner = tuple(float(v) for v in xobject.get(Name.Matrix, Array(IDENTITY)))
                        x0, y0, x1, y1 = (float(v) for v in xobject.BBox)
                        current.images = _union(current.images, _box(_mul(inner, ctm), x0, y0, x1, y1))

    def text(self, mcid: int) -> str:
        """Return the text one marked-content sequence shows, decoded through ToUnicode."""
        out = []
        strings = ((font, bytes(item)) for font, operand in self.marked[mcid].shown
                   for item in (operand if isinstance(operand, Array) else [operand]) if isinstance(item, String))
        for font, data in strings:
            if font is None:
                out.append(data.decode("latin-1"))
                continue
            decoder = self._decoders.get(font.objgen)
            if decoder is None:
                decoder = self._decoders[font.objgen] = _Decoder(font)
            out.append(decoder.decode(data))
        return "".join(out)

    def mark_furniture(self, tree: _Tree) -> None:
        """Turn marked content owned by no reachable element into /Artifact /Pagination."""
        box = self.page.mediabox
        middle = (float(box[1]) + float(box[3])) / 2
        for mcid, marked in list(self.marked.items()):
            if (self.id, mcid) in tree.mcid_owner:
                continue
            props = Dictionary(Type=Name.Pagination)
            y = marked.origin[1] if marked.origin else (marked.images[3] if marked.images else None)
            if y is not None:
                props.Subtype = Name.Header if y > middle else Name.Footer
            self.furniture[mcid] = props
            del self.marked[mcid]

    def save(self, pdf: pikepdf.Pdf) -> None:
        """Rewrite the furniture's BDC operators in the page's content stream, if it has any."""
        if not self.furniture:
            return
        contents = self.page.obj.Contents
        streams = list(contents) if isinstance(contents, Array) else [contents]
        data = b"\n".join(s.read_bytes() for s in streams)
        done: set[int] = set()

        def artifact(match: re.Match) -> bytes:
            mcid = int(match.group(1))
            if mcid not in self.furniture or mcid in done:
                return match.group(0)
            done.add(mcid)
            return pikepdf.unparse_content_stream(
                [pikepdf.ContentStreamInstruction([Name.Artifact, self.furniture[mcid]], Operator("BDC"))])

        # WeasyPrint writes "/Span <</MCID 7>> BDC": replace those bytes where they are. Should
        # a stream hold them in another form, parse it whole and rewrite it instead.
        rewritten = _BDC.sub(artifact, data)
        if done != set(self.furniture):
            instructions = pikepdf.parse_content_stream(self.page)
            for i, instruction in enumerate(instructions):
                if isinstance(instruction, pikepdf.ContentStreamInstruction) and \
                        str(instruction.operator) == "BDC" and len(instruction.operands) == 2:
                    props = instruction.operands[1]
                    mcid = props.get(Name.MCID) if isinstance(props, Dictionary) else None
                    if isinstance(mcid, int) and int(mcid) in self.furniture:
                        instructions[i] = pikepdf.ContentStreamInstruction(
                            [Name.Artifact, self.furniture[int(mcid)]], Operator("BDC"))
            rewritten = pikepdf.unparse_content_stream(instructions)
        if isinstance(contents, Array):
            self.page.obj.Contents = pdf.make_stream(rewritten)
        else:
            contents.write(rewritten)


class _Decoder:
    """Map a font's character codes to Unicode through its /ToUnicode CMap."""

    _HEX = rb"<([0-9A-Fa-f]*)>"

    def __init__(self, font: Dictionary):
        self.width = 1
        self.map: dict[bytes, str] = {}
        cmap = font.get(Name.ToUnicode)
        if isinstance(cmap, pikepdf.Stream):
            self._parse(cmap.read_bytes())
        elif font.get(Name.Subtype) == Name.Type0:
            self.width = 2

    def _parse(self, data: bytes) -> None:
        space = re.search(rb"begincodespacerange\s*" + self._HEX, data)
        if space:
            self.width = max(1, len(space.group(1)) // 2)
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
            for src, dst in re.findall(self._HEX + rb"\s*" + self._HEX, block):
                self.map[bytes.fromhex(src.decode())] = _utf16(dst)
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
            pattern = self._HEX + rb"\s*" + self._HEX + rb"\s*(" + self._HEX + rb"|\[[^\]]*\])"
            for lo, hi, dst, _ in re.findall(pattern, block):
                start, end = int(lo, 16), int(hi, 16)
                width = len(lo) // 2
                if dst.startswith(b"["):
                    targets = [_utf16(t) for t in re.findall(self._HEX, dst)]
                    for offset, text in enumerate(targets[: end - start + 1]):
                        self.map[(start + offset).to_bytes(width, "big")] = text
                else:
                    base = bytes.fromhex(dst[1:-1].decode())
                    for offset in range(min(end - start, 0xFFFF) + 1):
                        last = int.from_bytes(base[-2:] or b"\0", "big") + offset
                        text = (base[:-2] + last.to_bytes(2, "big")).decode("utf-16-be", "replace")
                        self.map[(start + offset).to_bytes(width, "big")] = text

    def decode(self, data: bytes) -> str:
        """Return the Unicode text of a shown string."""
        w = self.width
        if not self.map:
            return data.decode("latin-1") if w == 1 else ""
        return "".join(self.map.get(data[i:i + w], "") for i in range(0, len(data), w))


def _utf16(hex_digits: bytes) -> str:
    return bytes.fromhex(hex_digits.decode()).decode("utf-16-be", "replace")


# --------------------------------------------------------------------------- 1. links
def _describe_links(pdf: pikepdf.Pdf, tree: _Tree, pages: list[_PageContent]) -> None:
    """Give every Link annotation a Link element and a /Contents that describes the link."""
    by_id = {page.id: page for page in pages}
    groups: dict[tuple[int, int], list[Dictionary]] = {}
    for page in pages:
        for annot in page.page.obj.get(Name.Annots, Array()):
            if not isinstance(annot, Dictionary) or annot.get(Name.Subtype) != Name.Link:
                continue
            owner = tree.objr_owner.get(annot.objgen) if annot.is_indirect else None
            if owner is None:
                owner = _adopt_link(pdf, tree, page, annot)
            groups.setdefault(owner.objgen, []).append(annot)
    # A link broken over two lines is two Link elements side by side with the same target:
    # each annotation is described by the whole link's text, not by its half.
    texts = {}
    for elem in tree.elements:
        kids = tree.children(elem)
        i = 0
        while i < len(kids):
            if kids[i].objgen not in groups:
                i += 1
                continue
            j = i + 1
            target = _target(groups[kids[i].objgen][0])
            while j < len(kids) and kids[j].objgen in groups and _target(groups[kids[j].objgen][0]) == target:
                j += 1
            text = " ".join(t for t in (tree.text(e, by_id) for e in kids[i:j]) if t)
            for e in kids[i:j]:
                texts[e.objgen] = text
            i = j
    for objgen, annots in groups.items():
        for annot in annots:
            annot.Contents = String(_description(texts.get(objgen, ""), annot))


def _target(annot: Dictionary) -> str:
    action = annot.get(Name.A)
    if isinstance(action, Dictionary) and Name.URI in action:
        return "uri:" + str(action.URI)
    return "dest:" + repr(annot.get(Name.Dest))


def _description(text: str, annot: Dictionary) -> str:
    action = annot.get(Name.A)
    uri = str(action.URI) if isinstance(action, Dictionary) and Name.URI in action else None
    if uri is None:
        return text or "Link"
    bare = lambda s: re.sub(r"^[a-z]+:(//)?|/$", "", s.strip().lower())  # noqa: E731
    if not text or bare(text) == bare(uri):
        return uri
    return f"{text} ({uri})"


def _adopt_link(pdf: pikepdf.Pdf, tree: _Tree, page: _PageContent, annot: Dictionary) -> Dictionary:
    """Hang an annotation WeasyPrint left out of the tree in a new Link element.

    It goes beside the element whose text starts inside the link's rectangle, or at the end
    of the document element when no text does.
    """
    if not annot.is_indirect:
        annot = pdf.make_indirect(annot)
    xs, ys = sorted(float(v) for v in annot.Rect[0::2]), sorted(float(v) for v in annot.Rect[1::2])
    parent = tree.elements[0]
    for mcid, marked in page.marked.items():
        x, y = marked.origin or (float("nan"), float("nan"))
        if xs[0] - 1 <= x <= xs[1] + 1 and ys[0] - 1 <= y <= ys[1] + 1:
            parent = tree.mcid_owner.get((page.id, mcid), parent)
            break
    objr = pdf.make_indirect(Dictionary(Type=Name.OBJR, Obj=annot, Pg=page.page.obj))
    link = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Link, P=parent, Pg=page.page.obj,
                                        K=Array([objr])))
    tree.roles[link.objgen] = "Link"
    tree.kids[link.objgen] = [_Kid(objr)]
    tree.set_kids(parent, tree.kids[parent.objgen] + [_Kid(link, elem=link)])
    tree.objr_owner[annot.objgen] = link
    tree.elements.append(link)
    return link


# --------------------------------------------------------------------------- 4. lists
_BULLETS = {"•": Name.Disc, "●": Name.Disc, "◦": Name.Circle, "○": Name.Circle, "▪": Name.Square,
            "■": Name.Square, "□": Name.Square}
_NONE = Name("/None")  # a Python keyword, so not Name.None
_ROMAN = re.compile(r"^(?=[ivxlcdm]+$)m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")


def _label_lists(tree: _Tree, pages: list[_PageContent]) -> None:
    """Move each list item's marker into an Lbl element and set /ListNumbering on each list."""
    by_id = {page.id: page for page in pages}
    dissolved: set[Key] = set()
    last_at_depth: dict[int, Dictionary] = {}
    for lst in tree.by_role("L"):
        if lst.objgen in dissolved:
            continue
        columns = tree.children(lst)
        if columns and all(tree.role(c) == "L" for c in columns):
            # A list laid out in CSS columns comes out as one L per column inside the list:
            # make it one list again.
            dissolved.update(c.objgen for c in columns)
            tree.set_kids(lst, [kid for c in columns for kid in tree.kids[c.objgen]])
        depth = _list_depth(tree, lst)
        labels = []
        for n, item in enumerate(tree.children(lst, "LI")):
            label = next(iter(tree.children(item, "Lbl")), None) or _split_label(tree, item, by_id)
            if label is not None:
                labels.append(tree.text(label, by_id))
            elif n == 0 and _continue_item(tree, last_at_depth.get(depth), item):
                continue
        if lst.objgen in tree.parent or tree.kids.get(lst.objgen):
            _attr(lst, Name.List).ListNumbering = _numbering(labels)
        last_at_depth[depth] = lst


def _list_depth(tree: _Tree, lst: Dictionary) -> int:
    depth, elem = 0, tree.parent.get(lst.objgen)
    while elem is not None:
        depth += tree.role(elem) == "L"
        elem = tree.parent.get(elem.objgen)
    return depth


def _split_label(tree: _Tree, item: Dictionary, pages: dict[Key, _PageContent]) -> Dictionary | None:
    """Make the marker span at the start of an LI's body its Lbl; return it, or None.

    Our templates write ``<li><span class="marker">(a)</span> <span class="item-text">``, so
    the marker is the first element of the body's first line (through WeasyPrint's
    anonymous NonStruct blocks) when it is a span of its own (holding a text run, not a bare
    one) followed by the bare run of the space. The rest of an item continued from the
    previous page starts with its text, and gets no label.
    """
    body = next(iter(tree.children(item, "LBody")), None)
    if body is None:
        return None
    holder = body
    while True:
        kids = tree.kids[holder.objgen]
        if not kids or kids[0].elem is None:
            return None
        first = kids[0].elem
        if tree.role(first) != "NonStruct":
            break
        holder = first
    inner = tree.kids[first.objgen]
    if tree.role(first) != "Span" or not inner or any(k.elem is None for k in inner) or len(kids) < 2:
        return None
    space = kids[1].elem
    if space is None or any(k.elem is not None for k in tree.kids[space.objgen]) or tree.text(space, pages):
        return None
    tree.set_kids(holder, kids[1:])
    first.S = Name.Lbl
    tree.roles[first.objgen] = "Lbl"
    siblings = tree.kids[item.objgen]
    at = next(i for i, k in enumerate(siblings) if k.elem is not None and k.elem.objgen == body.objgen)
    tree.set_kids(item, siblings[:at] + [kids[0]] + siblings[at:])
    return first


def _continue_item(tree: _Tree, previous: Dictionary | None, item: Dictionary) -> bool:
    """Join the rest of a list item continued from the previous page to the item it continues.

    WeasyPrint tags each page on its own, so an item broken by a page break becomes two LI
    elements in two lists, the second with no label (upstream #2903). When the first item
    of a list has no marker and the last list at the same depth, on an earlier page, had
    labels, the item's body is moved to the end of that list's last item.
    """
    if previous is None or not tree.children(previous, "LI") or item.get(Name.Pg) is None:
        return False
    last = tree.children(previous, "LI")[-1]
    if not tree.children(last, "Lbl") or last.get(Name.Pg) is None or last.Pg.objgen == item.Pg.objgen:
        return False
    into, body = next(iter(tree.children(last, "LBody")), None), next(iter(tree.children(item, "LBody")), None)
    moved = tree.kids[body.objgen] if body is not None else []
    if into is None or any(k.elem is None for k in moved):  # marked content straight in LBody: leave it
        return False
    tree.set_kids(into, tree.kids[into.objgen] + moved)
    tree.remove(item)
    return True


def _numbering(labels: list[str]) -> Name:
    """Return the /ListNumbering that the list's label texts show."""
    cores = [re.sub(r"^[(\[]|[).:\]]$", "", label.strip()).strip(" ()[].:") for label in labels]
    if not cores or any(not c for c in cores):
        return _NONE
    if all(c in _BULLETS for c in cores):
        return _BULLETS[cores[0]]
    if all(c.isdigit() for c in cores):
        return Name.Decimal
    for case, alpha, roman in ((str.islower, Name.LowerAlpha, Name.LowerRoman),
                               (str.isupper, Name.UpperAlpha, Name.UpperRoman)):
        if all(c.isalpha() and case(c) for c in cores):
            if cores[0].lower() == "i" and all(_ROMAN.match(c.lower()) for c in cores):
                return roman
            return alpha
    return _NONE


# --------------------------------------------------------------------------- 3. tables
def _scope_table_headers(pdf: pikepdf.Pdf, struct_root: Dictionary, tree: _Tree) -> None:
    """Give every TH a /Scope, make every /ID unique and write the /IDTree."""
    taken: set[str] = set()
    id_tree: dict[str, Dictionary] = {}
    for table in tree.by_role("Table"):
        rows = list(_rows(tree, table))
        cells = [(r, cell) for r, row in enumerate(rows) for cell in tree.children(row, "TH", "TD")]
        # Ids are made unique per table: WeasyPrint's are unique within one PDF, but a
        # document assembled from parts may repeat them.
        renamed: dict[str, str] = {}
        for _, cell in cells:
            if Name.ID in cell:
                old = str(cell.ID)
                new, n = old, 1
                while new in taken:
                    n += 1
                    new = f"{old}-{n}"
                taken.add(new)
                renamed[old] = new
                cell.ID = String(new)
                id_tree[new] = cell
        referenced_from: dict[str, set[int]] = defaultdict(set)
        for r, cell in cells:
            table_attr = _attr(cell, Name.Table) if tree.role(cell) == "TD" and _has_headers(cell) else None
            if table_attr is not None:
                ids = [renamed.get(str(h)) for h in table_attr.Headers]
                table_attr.Headers = Array(String(h) for h in ids if h is not None)
                for h in ids:
                    if h is not None:
                        referenced_from[h].add(r)
        for r, cell in cells:
            if tree.role(cell) != "TH":
                continue
            users = referenced_from.get(str(cell.get(Name.ID, "")), set())
            if users:
                row_header = r in users
            else:  # named by no cell: a header row is column headers, a header beside data a row header
                in_head = tree.role(rows[r].get(Name.P)) == "THead"
                row_header = not in_head and bool(tree.children(rows[r], "TD"))
            _attr(cell, Name.Table).Scope = Name.Row if row_header else Name.Column
    if Name.IDTree in struct_root:
        del struct_root[Name.IDTree]
    if id_tree:
        names = pikepdf.NameTree.new(pdf)
        for key in sorted(id_tree):
            names[key] = id_tree[key]
        struct_root.IDTree = names.obj


def _has_headers(cell: Dictionary) -> bool:
    attrs = cell.get(Name.A)
    attrs = [attrs] if isinstance(attrs, Dictionary) else list(attrs or [])
    return any(isinstance(a, Dictionary) and Name.Headers in a for a in attrs)


def _rows(tree: _Tree, elem: Dictionary) -> Iterator[Dictionary]:
    for kid in tree.children(elem):
        if tree.role(kid) == "TR":
            yield kid
        elif tree.role(kid) in ("THead", "TBody", "TFoot"):
            yield from _rows(tree, kid)


# --------------------------------------------------------------------------- 5. figures
def _place_figures(tree: _Tree, pages: list[_PageContent]) -> None:
    """Set each Figure's /BBox to where its image is drawn, in PDF user space."""
    by_id = {page.id: page for page in pages}
    for figure in tree.by_role("Figure"):
        box = None
        for page_id, mcid in tree.content(figure):
            marked = by_id[page_id].marked.get(mcid) if page_id in by_id else None
            if marked is None:
                continue
            if marked.images is not None:
                box = _union(box, marked.images)
            elif isinstance(figure.get(Name.A), Dictionary) and Name.BBox in figure.A:
                # Drawn without an image (an SVG): WeasyPrint's box, in the CSS pixels of
                # the page, mapped through the matrix in force where the figure starts.
                box = _union(box, _box(marked.ctm, *(float(v) for v in figure.A.BBox)))
        if box is not None:
            _attr(figure, Name.Layout).BBox = Array([round(v, 3) for v in box])


# --------------------------------------------------------------------------- parent tree
def _rebuild_parent_tree(pdf: pikepdf.Pdf, struct_root: Dictionary, tree: _Tree,
                         pages: list[_PageContent]) -> None:
    """Write the ParentTree from the tree itself: one owner per MCID, one Link per annotation.

    Entries for detached elements (the page margins') are gone, so nothing in the file
    points at them any more and they are not written out.
    """
    entries: dict[int, pikepdf.Object] = {}
    pending: list[tuple[Dictionary, pikepdf.Object]] = []
    for page in pages:
        page.save(pdf)
        owners = {mcid: tree.mcid_owner[(page.id, mcid)] for mcid in page.marked}
        obj = page.page.obj
        if not owners:
            if Name.StructParents in obj:
                del obj[Name.StructParents]
        else:
            array = Array([owners.get(i) for i in range(max(owners) + 1)])
            key = obj.get(Name.StructParents)
            if isinstance(key, int) and int(key) not in entries:
                entries[int(key)] = array
            else:
                pending.append((obj, array))
        for annot in obj.get(Name.Annots, Array()):
            owner = tree.objr_owner.get(annot.objgen) if isinstance(annot, Dictionary) else None
            if owner is None:
                continue
            key = annot.get(Name.StructParent)
            if isinstance(key, int) and int(key) not in entries:
                entries[int(key)] = owner
            else:
                pending.append((annot, owner))
    next_key = max(entries, default=-1) + 1
    for obj, value in pending:
        key = Name.StructParents if value is not None and isinstance(value, Array) else Name.StructParent
        obj[key] = next_key
        entries[next_key] = value
        next_key += 1
    numbers = pikepdf.NumberTree.new(pdf)
    for key in sorted(entries):
        numbers[key] = entries[key]
    struct_root.ParentTree = numbers.obj
    struct_root.ParentTreeNextKey = next_key
