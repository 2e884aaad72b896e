"""Page furniture: the pack's "Page N of M" drawn over rendered pages as ``/Artifact`` content.

Takes rendered PDFs laid out without their page numbers (reports, the agenda, notices: their
render leaves the theme's footer margin box empty) and each one's first page and the pack's
length; gives the same PDFs with "Page N of M" on every page, drawn exactly where, and as,
the theme's footer would have printed it, inside ``/Artifact <</Type /Pagination>>`` marked
content so that the structure tree (the accessibility tags) does not see it.

Why not render the numbers with each report: a report's pack page numbers are known only
once every report has been laid out, so numbering in the render laid every report out twice.

How the numbers keep the theme's look: WeasyPrint lays out ONE page with the theme's own
stylesheet whose footer margin box holds every number the pack needs, one per line
(``white-space: pre``; every other margin box emptied). Each line's drawing operators are cut
out of that page's content stream into a small Form XObject, moved vertically onto the line a
single number occupies in that margin box, and drawn on its page. One layout serves hundreds
of pages (laying out a page per number costs ~20 ms a page: most of a pack's furniture time).
The lines of a centred footer stay centred because a margin box centres every line it holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from typing import Sequence

from ..errors import ThemeError
from ..renderers.pdf import css_string, font_config, font_timestamps, weasy_html
from ..theme import Theme
from .cache import Memo

__all__ = ["Numbered", "footer_box", "number_pages"]

# Every margin box of CSS Paged Media; all but the footer's are emptied in the number strip.
_MARGIN_BOXES = [f"@{side}-{where}" for side in ("top", "bottom") for where in
                 ("left-corner", "left", "center", "right", "right-corner")] + \
                [f"@{side}-{where}" for side in ("left", "right") for where in ("top", "middle", "bottom")]
_LINE_BOXES = {f"@{side}-{where}" for side in ("top", "bottom") for where in ("left", "center", "right")}
_MARKER = "CRPAGEFOOTERMARKER"
_SHOW_TEXT = {"Tj", "TJ", "'", '"'}


@dataclass(frozen=True)
class Numbered:
    """One PDF to number: its bytes, its first page's number in the pack and its stylesheet."""

    pdf: bytes
    first: int  # pack page number of its first page
    stylesheet: str  # the theme stylesheet its pages were laid out with: "style.css" or "agenda.css"
    pages: int | None = None  # its page count if known (from its layout): saves opening it to count


def number_pages(parts: Sequence[Numbered], total: int, theme: Theme, day: dt.date,
                 memo: Memo | None = None) -> list[bytes]:
    """Return each part with "Page N of M" (the theme's ``page_footer``) drawn on every page.

    With a ``memo``, a part numbered before with the same numbers, the same strip and the same
    bytes (a rebuild after another report changed, no page count having moved) is taken from
    it: only the parts that changed are opened, drawn on and saved again.
    """
    import pikepdf

    template = theme.word("page_footer")
    out: list[bytes | None] = [None] * len(parts)
    for stylesheet in dict.fromkeys(p.stylesheet for p in parts):
        group = [(i, p) for i, p in enumerate(parts) if p.stylesheet == stylesheet]
        opened = {}
        if any(p.pages is None for _, p in group):
            opened = {i: pikepdf.open(io.BytesIO(p.pdf)) for i, p in group}
        counts = {i: len(opened[i].pages) if i in opened else p.pages for i, p in group}
        lines = [template.replace("{page}", str(p.first + n)).replace("{pages}", str(total))
                 for i, p in group for n in range(counts[i])]
        # A numbered part depends on its bytes, the strip (every line of it, and the day its
        # fonts are stamped with) and where its lines start in the strip.
        strip_id = hashlib.sha256("\n".join([stylesheet, day.isoformat()] + lines).encode("utf-8")).hexdigest()
        starts, keys, line = {}, {}, 0
        for i, p in group:
            starts[i], keys[i] = line, f"{strip_id} {line} {hashlib.sha256(p.pdf).hexdigest()}"
            line += counts[i]
            known = memo.get("numbered part", keys[i]) if memo is not None else None
            if known is not None and "pdf" in known[1]:
                out[i] = known[1]["pdf"]
        todo = [(i, p) for i, p in group if out[i] is None]
        strip = _Strip.build(theme, stylesheet, lines, day, memo) if todo else None
        for i, p in todo:
            pdf = opened.pop(i) if i in opened else pikepdf.open(io.BytesIO(p.pdf))
            if len(pdf.pages) != counts[i]:  # pragma: no cover - counts come from the same layout
                raise RuntimeError(f"a part said to have {counts[i]} pages has {len(pdf.pages)}")
            if strip is not None:
                fonts = pdf.copy_foreign(strip.resources)  # one copy of the fonts per output file
                for n, page in enumerate(pdf.pages):
                    strip.draw(pdf, page, starts[i] + n, fonts)
            buffer = io.BytesIO()
            pdf.save(buffer, deterministic_id=True)
            out[i] = buffer.getvalue()
            pdf.close()
            if memo is not None:
                memo.put("numbered part", keys[i], {}, {"pdf": out[i]})
        for pdf in opened.values():
            pdf.close()
    return out  # type: ignore[return-value]


# --------------------------------------------------------------------------- the number strip
def _stylesheet_css(theme: Theme, stylesheet: str, footer: str) -> str:
    return theme.render(stylesheet, {"asset": lambda name: theme.find(name).as_uri(),
                                     "footer_css": css_string(footer), "marking_css": "none", "page_offset": 0})


def _strip_html(theme: Theme, stylesheet: str, footer: str, keyword: str | None) -> str:
    override = ""
    if keyword is not None:
        emptied = " ".join(f"{box} {{ content: none }}" for box in _MARGIN_BOXES if box != keyword)
        override = f"@page {{ {emptied} {keyword} {{ white-space: pre }} }}"
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>page numbers</title>"
            f"<style>{_stylesheet_css(theme, stylesheet, footer)}</style><style>{override}</style></head>"
            "<body></body></html>")


_FOOTER_BOXES: dict[str, tuple[str | None, tuple[float, float]]] = {}


def footer_box(theme: Theme, stylesheet: str, memo: Memo | None = None) -> tuple[str | None, tuple[float, float]]:
    """Return the margin box the theme prints ``footer_css`` in (None: none), and the page size.

    Found by laying out one page with a marker as the footer and looking for it among the
    page's margin boxes (WeasyPrint's box tree). Remembered per stylesheet text, in this
    process and in ``memo``: a rebuild whose page counts did not change then lays nothing out
    in the build's own process, which need not import WeasyPrint at all (0.6 s or more).
    """
    html = _strip_html(theme, stylesheet, _MARKER, None)
    key = hashlib.sha256(html.encode("utf-8")).hexdigest()
    known = memo.get("footer box", html) if memo is not None and key not in _FOOTER_BOXES else None
    if known is not None:
        try:
            keyword, size = known[0]["keyword"], known[0]["size"]
            _FOOTER_BOXES[key] = (None if keyword is None else str(keyword), (float(size[0]), float(size[1])))
        except (KeyError, TypeError, IndexError, ValueError):  # checksummed, so only an older format
            pass
    if key not in _FOOTER_BOXES:
        from weasyprint.formatting_structure import boxes

        def text(box) -> str:
            if isinstance(box, boxes.TextBox):
                return box.text
            return "".join(text(child) for child in getattr(box, "children", ()))

        page = weasy_html(html, theme).render().pages[0]
        found = [box.at_keyword for box in page._page_box.children
                 if isinstance(box, boxes.MarginBox) and _MARKER in text(box)]
        if len(found) > 1 or (found and found[0] not in _LINE_BOXES):
            raise ThemeError(f"{stylesheet}: the page footer (footer_css) is in {', '.join(found)}: meeting packs "
                             "draw it in one top or bottom margin box (@bottom-center, @top-right …)")
        # WeasyPrint's page size is in CSS pixels; PDF points are 3/4 of one.
        _FOOTER_BOXES[key] = (found[0] if found else None, (page.width * 0.75, page.height * 0.75))
        if memo is not None:
            keyword, size = _FOOTER_BOXES[key]
            memo.put("footer box", html, {"keyword": keyword, "size": list(size)}, {})
    return _FOOTER_BOXES[key]


@dataclass
class _Line:
    x: float
    y: float  # baseline, in the strip page's PDF coordinates
    ops: list  # the operators that draw it, from its text matrix on


class _Strip:
    """One laid-out page whose footer holds every number, cut into one drawing per line."""

    def __init__(self, source, resources, prefix: list, depth: int, lines: list[_Line], baseline: float,
                 size: tuple[float, float]):
        self.source = source  # the strip's open PDF, which its resources belong to
        self.resources = resources
        self.prefix = prefix
        self.depth = depth
        self.lines = lines
        self.baseline = baseline  # where a single line sits in the footer box
        self.size = size

    @classmethod
    def build(cls, theme: Theme, stylesheet: str, lines: list[str], day: dt.date,
              memo: Memo | None = None) -> _Strip | None:
        """Lay out the strip for ``lines`` (or find it in ``memo``); None when the theme prints no numbers."""
        import pikepdf

        keyword, size = footer_box(theme, stylesheet, memo)
        if keyword is None or not lines:
            return None
        html = _strip_html(theme, stylesheet, "\n".join(lines), keyword)
        # The key is the strip's page and the day its fonts are stamped with (font_timestamps).
        memo_key = f"{day.isoformat()}\n{html}"
        known = memo.get("page numbers", memo_key) if memo is not None else None
        if known is not None:
            many, baseline = known[1]["pdf"], float(known[0]["baseline"])
        else:
            with font_timestamps(day):
                one = weasy_html(_strip_html(theme, stylesheet, lines[0], keyword), theme).write_pdf(font_config=font_config(theme))
                many = weasy_html(html, theme).write_pdf(font_config=font_config(theme))
            with pikepdf.open(io.BytesIO(one)) as reference:
                single = _cut(reference)[3]
            baseline = single[0].y
        pdf = pikepdf.open(io.BytesIO(many))
        resources, prefix, depth, cut = _cut(pdf)
        if known is None and (len(single) != 1 or len(cut) != len(lines) or abs(cut[0].x - single[0].x) > 0.01):
            # Each number must be one run of text on one line: a footer that wraps, or mixes
            # fonts, would come out differently cut from the strip.
            raise ThemeError(f"{stylesheet}: the page footer must be one line of text in one style for "
                             "meeting packs to number their pages")
        if known is None and memo is not None:
            memo.put("page numbers", memo_key, {"baseline": baseline}, {"pdf": many})
        return cls(pdf, resources, prefix, depth, cut, baseline, size)

    def draw(self, pdf, page, index: int, fonts) -> None:
        """Draw line ``index`` on ``page`` (of ``pdf``, which holds ``fonts``) as a Pagination artifact."""
        import pikepdf

        box = page.mediabox
        width, height = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
        if abs(width - self.size[0]) > 0.01 or abs(height - self.size[1]) > 0.01 or float(box[0]) or float(box[1]):
            raise ThemeError("a page of a different size from the theme's @page: meeting packs need every "
                             "report page to have the theme's page size")
        line = self.lines[index]
        ops = (self.prefix + [([], pikepdf.Operator("BT"))] + line.ops + [([], pikepdf.Operator("ET"))]
               + [([], pikepdf.Operator("Q"))] * self.depth)
        form = pikepdf.Stream(pdf, pikepdf.unparse_content_stream(ops))
        form.Type = pikepdf.Name.XObject
        form.Subtype = pikepdf.Name.Form
        form.BBox = pikepdf.Array([-width, line.y - height, 2 * width, line.y + height])
        form.Matrix = pikepdf.Array([1, 0, 0, 1, 0, round(self.baseline - line.y, 6)])
        form.Resources = fonts
        # Pages of one render share a /Resources dictionary: give this page its own, so that
        # each page's name points at its own number.
        resources = pikepdf.Dictionary({k: v for k, v in page.obj.get("/Resources", pikepdf.Dictionary()).items()})
        xobjects = pikepdf.Dictionary({k: v for k, v in resources.get("/XObject", pikepdf.Dictionary()).items()})
        name = next(f"/CRPageNumber{n}" for n in range(1000) if f"/CRPageNumber{n}" not in xobjects)
        xobjects[name] = pdf.make_indirect(form)
        resources.XObject = xobjects
        page.obj.Resources = resources
        page.contents_add(b"q\n", prepend=True)
        page.contents_add(b"Q\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n" + name.encode() + b" Do\nEMC\n")


def _multiply(m: list[float], n: list[float]) -> list[float]:
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return [a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F]


def _cut(pdf) -> tuple[object, list, int, list[_Line]]:
    """Split page 1's only text object into its lines (one per text matrix).

    Returns the page's resources, the operators before the text object (the page transform
    and graphics state), how many ``q`` are open there, and each line's operators with the
    text state in force where it starts.
    """
    import pikepdf

    page = pdf.pages[0]
    ops = list(pikepdf.parse_content_stream(page))
    ctm, stack, prefix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], [], []
    position = 0
    while position < len(ops) and str(ops[position][1]) != "BT":
        operands, op = ops[position]
        if str(op) == "q":
            stack.append(ctm)
        elif str(op) == "Q":
            ctm = stack.pop()
        elif str(op) == "cm":
            ctm = _multiply([float(v) for v in operands], ctm)
        prefix.append(ops[position])
        position += 1
    lines: list[_Line] = []
    state: dict[str, tuple] = {}  # the latest text-state and colour operators, by operator
    for operands, op in ops[position + 1:]:
        name = str(op)
        if name == "ET":
            break
        if name == "Tm":
            matrix = _multiply([float(v) for v in operands], ctm)
            lines.append(_Line(matrix[4], matrix[5], list(state.values()) + [(operands, op)]))
        elif name in _SHOW_TEXT:
            if not lines:
                raise ThemeError("page footer text without a position")
            lines[-1].ops.append((operands, op))
        elif name in ("Td", "TD", "T*", "BT", "Do"):
            raise ThemeError("the page footer is drawn in a way meeting packs cannot number "
                             f"(PDF operator {name})")
        else:
            state[name] = (operands, op)
            if lines:
                lines[-1].ops.append((operands, op))
    return page.obj.get("/Resources", pikepdf.Dictionary()), prefix, len(stack), lines
