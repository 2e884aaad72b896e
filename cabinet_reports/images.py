"""Logo images: inspect a logo once, and give Word a picture it can show.

A logo has two readers that accept different things. WeasyPrint draws PNG, JPEG, GIF and SVG
itself (and silently leaves out what it cannot read); python-docx embeds PNG, JPEG and GIF as
they are, trusting their header, and cannot embed SVG at all. So :func:`inspect_image` looks
at a logo once, when the report is checked, and refuses anything either reader would choke
on, with a reason an officer can act on:

- the format comes from the file's content and must agree with its name (a PNG called
  ``logo.jpg`` is refused rather than trusted to whichever tool sniffs and whichever trusts
  the name);
- raster sizes come from the header, read without decoding, and must stay within
  :data:`MAX_PIXELS` and :data:`MAX_SIDE` *before* anything is decoded (a 236 KB PNG can hold
  81 megapixels, 700 MB once WeasyPrint decodes it);
- the picture is then decoded once to prove it is whole (a truncated JPEG has a good header);
- an SVG must be self-contained, well-formed, sized, and small once ``<use>`` is expanded
  (a 2 KB SVG of nested ``<use>`` makes WeasyPrint draw 10⁸ rectangles), and must draw.

:func:`docx_picture` then gives the DOCX renderer the bytes to embed: a raster logo's own
file, or, for SVG, a PNG rasterised (with resvg, through ``resvg_py``) to fit the logo box at
:data:`RASTER_DPI`. The PDF keeps drawing the SVG itself, as vectors.
"""

from __future__ import annotations

import base64
import io
import re
import threading
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote_to_bytes
from xml.parsers import expat

__all__ = ["ImageError", "Picture", "display_size_cm", "docx_picture", "inspect_image", "rasterise_svg",
           "MAX_BYTES", "MAX_PIXELS", "MAX_SIDE", "MAX_SVG_ELEMENTS", "MAX_SVG_MARKUP"]

# Limits. A logo is printed at most LOGO_MAX_WIDTH_CM × LOGO_MAX_HEIGHT_CM (style.css `.logo`
# and the DOCX renderer), 709 × 295 pixels at 300 dpi; these limits leave a council's
# master artwork plenty of room and still bound what a render may decode.
MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 25_000_000
MAX_SIDE = 10_000
# WeasyPrint draws an SVG element in about 0.3 ms and parses path data at about 5 s a MB, so
# these bound an SVG logo's drawing time to a few seconds (a detailed crest has a few thousand
# elements and a few hundred KB).
MAX_SVG_ELEMENTS = 10_000  # elements drawn, counting every <use> expansion
MAX_SVG_MARKUP = 1024 * 1024  # bytes of markup, not counting pictures embedded as data: URLs
MAX_SVG_DEPTH = 64  # nesting, through elements and <use> chains (WeasyPrint draws recursively)
MAX_SVG_ENTITY_EXPANSION = 1024 * 1024  # characters XML entities may add

# The logo box, shared with the DOCX renderer (and equal to style.css's `.logo`).
LOGO_MAX_WIDTH_CM, LOGO_MAX_HEIGHT_CM = 6.0, 2.5
RASTER_DPI = 300  # print resolution for an SVG logo rasterised for Word

# Pillow's format names, python-docx's content types and the file suffixes of each format.
_RASTERS = {
    "image/png": ("PNG", ("PNG",), (".png",)),
    "image/jpeg": ("JPEG", ("JPEG", "MPO"), (".jpg", ".jpeg")),
    "image/gif": ("GIF", ("GIF",), (".gif",)),
}
_SVG_SUFFIXES = (".svg",)
_ACCEPTED = "a PNG, JPEG, GIF or SVG image"

_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_LENGTH = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(px|pt|pc|mm|cm|in|em|ex)?\s*")
_CSS_PX = {None: 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0,
           "em": 16.0, "ex": 8.0}
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""", re.IGNORECASE | re.DOTALL)


class ImageError(ValueError):
    """A logo file that cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class Picture:
    """An inspected logo: its format, its intrinsic size and, for SVG, the PNG Word gets instead.

    ``width`` and ``height`` are CSS pixels (a raster image's own pixels, 96 to the inch, as
    WeasyPrint prints them); both are None for an SVG sized by its viewBox alone, which has
    only a shape (``ratio``, width / height) and fills the logo box.
    """

    path: Path
    format: str  # "png", "jpeg", "gif" or "svg"
    width: float | None
    height: float | None
    ratio: float
    raster: bytes | None = None  # SVG only: the PNG rasterised for the DOCX


def inspect_image(path: str | Path) -> Picture:
    """Inspect a logo file once (format, size, integrity) or raise :class:`ImageError`.

    The result is remembered per file version (path, size, modification time, inode), so a
    pack that renders a report several times inspects its logo once.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        raise ImageError(f"the logo file cannot be read ({exc.strerror or exc})") from None
    return _inspect(str(path), st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


def docx_picture(path: str | Path) -> tuple[bytes, float, float]:
    """Return what python-docx should embed for a logo and its size in cm, the PDF's size.

    The bytes are the file's own, or for an SVG the PNG rasterised when it was inspected.
    """
    picture = inspect_image(path)
    data = picture.raster if picture.raster is not None else _read(picture.path)
    return (data, *display_size_cm(picture))


def display_size_cm(picture: Picture) -> tuple[float, float]:
    """Return the size (width, height) in cm the PDF prints a logo at.

    style.css's rule for ``.logo``: the intrinsic size at 96 CSS pixels to the inch, shrunk
    (never enlarged) to fit the logo box, keeping the shape; a logo without an intrinsic size
    is as large as the box allows.
    """
    if picture.width is None or picture.height is None:
        width, height = LOGO_MAX_WIDTH_CM, LOGO_MAX_WIDTH_CM / picture.ratio
    else:
        width, height = picture.width / 96 * 2.54, picture.height / 96 * 2.54
    scale = min(1.0, LOGO_MAX_WIDTH_CM / width, LOGO_MAX_HEIGHT_CM / height)
    return width * scale, height * scale


def rasterise_svg(data: bytes, max_width_px: int, max_height_px: int) -> bytes:
    """Rasterise an SVG (already inspected) to a PNG fitting the box, keeping its shape."""
    import resvg_py

    try:
        # Given both sizes resvg fits the drawing inside the box, keeping its aspect ratio.
        # svg_string, not svg_path: the bytes drawn are the bytes inspected, and with every
        # reference refused resvg has no file to open.
        # dpi=96 is CSS's (and WeasyPrint's): resvg's default of 0 makes mm, cm and in lengths zero.
        return bytes(resvg_py.svg_to_bytes(svg_string=_svg_text(data), width=max_width_px,
                                           height=max_height_px, dpi=96.0))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a Rust panic arrives as pyo3's PanicException, a BaseException
        raise ImageError(f"the SVG logo cannot be drawn ({_reason(exc)})") from None


def logo_box_px(dpi: int = RASTER_DPI) -> tuple[int, int]:
    """Return the logo box (width, height) in pixels at ``dpi``."""
    return round(LOGO_MAX_WIDTH_CM / 2.54 * dpi), round(LOGO_MAX_HEIGHT_CM / 2.54 * dpi)


# --------------------------------------------------------------------------- inspection
@lru_cache(maxsize=64)
def _inspect(name: str, size: int, _mtime: int, _ino: int, _dev: int) -> Picture:
    path = Path(name)
    if size == 0:
        raise ImageError("the logo file is empty")
    if size > MAX_BYTES:
        raise ImageError(f"the logo file is {_mb(size)}; the limit is {_mb(MAX_BYTES)}")
    data = _read(path)
    if _looks_like_xml(data):
        width, height, ratio = _inspect_svg(data)
        _check_suffix(path, "SVG", _SVG_SUFFIXES)
        return Picture(path, "svg", width, height, ratio, rasterise_svg(data, *logo_box_px()))
    content_type, width, height = _raster_header(data, "logo")
    kind, _, suffixes = _RASTERS[content_type]
    _check_suffix(path, kind, suffixes)
    _decode(data, kind, "logo")
    return Picture(path, kind.lower(), width, height, width / height)


def _read(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ImageError(f"the logo file cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_BYTES:  # grew since it was measured
        raise ImageError(f"the logo file is over {_mb(MAX_BYTES)}, the limit")
    return data


def _check_suffix(path: Path, kind: str, suffixes: tuple[str, ...]) -> None:
    if path.suffix.lower() in suffixes:
        return
    if path.suffix.lower() not in (*_SVG_SUFFIXES, *(s for *_, ss in _RASTERS.values() for s in ss)):
        raise ImageError(f"the logo must be {_ACCEPTED} named .png, .jpg, .gif or .svg, "
                         f"not '{path.suffix or path.name}'")
    raise ImageError(f"{path.name} is {_article(kind)} {kind} image but its name ends in {path.suffix}: "
                     f"rename it to end in {suffixes[0]}")


def _raster_header(data: bytes, what: str) -> tuple[str, int, int]:
    """Return (content type, width, height) of a PNG, JPEG or GIF within the limits, from its header."""
    from docx.image.exceptions import UnexpectedEndOfFileError, UnrecognizedImageError
    from docx.image.image import Image as DocxImage

    # python-docx's own header parser: what it reads here, add_picture will read in the renderer.
    try:
        header = DocxImage.from_blob(data)
        content_type, width, height = header.content_type, header.px_width, header.px_height
    except UnrecognizedImageError:
        raise ImageError(f"the {what} is not {_ACCEPTED}") from None
    except UnexpectedEndOfFileError:
        raise ImageError(f"the {what} is a damaged or truncated image (the file ends too soon)") from None
    except Exception as exc:  # python-docx raises bare Exception("unexpected end of file") too
        raise ImageError(f"the {what} is a damaged or truncated image ({_reason(exc)})") from None
    if content_type not in _RASTERS:
        raise ImageError(f"the {what} is not {_ACCEPTED} (it is {header.ext.upper()})")
    kind = _RASTERS[content_type][0]
    if width <= 0 or height <= 0:
        raise ImageError(f"the {what} is a {kind} image of {width}×{height} pixels: it has nothing to show")
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise ImageError(f"the {what} is {width}×{height} pixels ({width * height / 1e6:.1f} megapixels); "
                         f"the limit is {MAX_PIXELS // 1_000_000} megapixels and {MAX_SIDE} pixels a side: "
                         f"scale it down (it is printed at most {LOGO_MAX_WIDTH_CM:g} cm wide)")
    return content_type, width, height


def _decode(data: bytes, kind: str, what: str) -> None:
    """Decode the picture once (its size already bounded) to prove the data is whole."""
    from PIL import Image, ImageFile

    # Importing WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES, so that a damaged
    # picture prints in part; with it on, a truncated JPEG decodes "fine". Turn it off while
    # we decode (under a lock: the flag is global), so the answer never depends on what else
    # the process has imported.
    with _PILLOW_FLAG:
        saved, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
        try:
            with Image.open(io.BytesIO(data), formats=list(_RASTERS_BY_KIND[kind])) as im:
                if im.format in ("JPEG", "MPO"):
                    # DCT scaling still reads every byte but decodes at 1/8 size: 64 times less memory.
                    im.draft(None, (max(1, im.width // 8), max(1, im.height // 8)))
                im.load()
        except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError … for bad data
            raise ImageError(f"the {what} is a damaged or truncated {kind} image ({_reason(exc)})") from None
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = saved


_PILLOW_FLAG = threading.Lock()


_RASTERS_BY_KIND = {kind: formats for kind, formats, _ in _RASTERS.values()}


# --------------------------------------------------------------------------- SVG
def _looks_like_xml(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _svg_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImageError("the SVG logo is not UTF-8 text") from None


def _inspect_svg(data: bytes) -> tuple[float | None, float | None, float]:
    """Check an SVG is safe and sized for both readers; return its width, height and ratio."""
    _svg_text(data)
    _check_entities(data)
    try:
        root = ElementTree.fromstring(data)  # the parser WeasyPrint uses
    except ElementTree.ParseError as exc:
        raise ImageError(f"the SVG logo is not well-formed XML ({exc})") from None
    if _local(root.tag) != "svg":
        raise ImageError(f"the logo is XML but not an SVG image (its root element is <{_local(root.tag)}>)")
    ids = {el.get("id"): el for el in root.iter() if el.get("id")}
    embedded = _check_references(root)
    if len(data) - embedded > MAX_SVG_MARKUP:
        raise ImageError(f"the SVG logo has {_mb(len(data) - embedded)} of markup; the limit is "
                         f"{_mb(MAX_SVG_MARKUP)}: simplify it or use a PNG logo")
    _count_drawn(root, ids)
    return _svg_size(root)


def _check_entities(data: bytes) -> None:
    """Refuse XML entities that could make the file expand (billion laughs, quadratic blow-up).

    Illustrator's classic export declares a few plain entities for its namespaces; those are
    fine. Entities defined through other entities, parameter or external entities are not.
    """
    expanded = 0

    def declared(name, is_parameter, value, _base, system_id, public_id, _notation):
        nonlocal expanded
        if is_parameter or system_id or public_id or value is None:
            raise ImageError("the SVG logo declares an external or parameter XML entity")
        if "&" in value or "%" in value:
            raise ImageError("the SVG logo declares an XML entity made of other entities")
        expanded += data.count(f"&{name};".encode()) * len(value)
        if expanded > MAX_SVG_ENTITY_EXPANSION:
            raise ImageError("the SVG logo's XML entities expand to more than "
                             f"{MAX_SVG_ENTITY_EXPANSION // 1024 // 1024} MB")

    parser = expat.ParserCreate()
    parser.EntityDeclHandler = declared
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ImageError(f"the SVG logo is not well-formed XML ({expat.ErrorString(exc.code)}: "
                         f"line {exc.lineno}, column {exc.offset})") from None


def _check_references(root: ElementTree.Element) -> int:
    """Refuse references to other files: WeasyPrint and resvg would each resolve them their own way.

    ``#fragment`` and ``data:`` URLs stay inside the file; embedded pictures are inspected
    like a logo of their own. Return the characters the data: URLs take.
    """
    data_urls = 0
    embedded: list[tuple[bytes, str, int]] = []
    for el in root.iter():
        tag = _local(el.tag)
        if tag == "style" and el.text:
            _check_css(el.text)
        for key, value in el.attrib.items():
            if key in ("href", _XLINK_HREF):
                if tag == "a":  # a link is followed by the reader, never loaded by the renderer
                    continue
                target = value.strip()
                if target.startswith("#"):
                    continue
                if not target.lower().startswith("data:"):
                    raise ImageError(f"the SVG logo refers to another file ({_short(target)}): "
                                     "embed it in the SVG or use a PNG logo")
                # <image>, and <feImage> or any other element resvg may draw a picture for.
                embedded.append(_embedded_header(target))
                data_urls += len(value)
            elif "url(" in value.lower():
                _check_css(value)
    pixels = sum(n for *_, n in embedded)
    if pixels > MAX_PIXELS:  # from the headers, before any is decoded
        raise ImageError(f"the SVG logo embeds pictures of {pixels / 1e6:.1f} megapixels; "
                         f"the limit is {MAX_PIXELS // 1_000_000} megapixels")
    for data, kind, _ in embedded:
        _decode(data, kind, _EMBEDDED)
    return data_urls


def _check_css(css: str) -> None:
    if "@import" in css.lower():
        raise ImageError("the SVG logo's style imports another file: put the styles in the SVG")
    for _, target in _CSS_URL.findall(css):
        target = target.strip()
        if not target.startswith("#") and not target.lower().startswith("data:"):
            raise ImageError(f"the SVG logo refers to another file ({_short(target)}): "
                             "embed it in the SVG or use a PNG logo")


_EMBEDDED = "picture embedded in the SVG logo"


def _embedded_header(url: str) -> tuple[bytes, str, int]:
    """Read a picture embedded in an SVG as a data: URL; return its bytes, format and pixel count."""
    header, comma, payload = url[len("data:"):].partition(",")
    if not comma:
        raise ImageError("the SVG logo embeds a picture whose data: URL has no data")
    try:
        if header.lower().rstrip().endswith(";base64"):
            data = base64.b64decode("".join(payload.split()), validate=True)
        else:
            data = unquote_to_bytes(payload)
    except ValueError:
        raise ImageError("the SVG logo embeds a picture whose base64 data is damaged") from None
    if len(data) > MAX_BYTES:
        raise ImageError(f"the SVG logo embeds a picture of {_mb(len(data))}; the limit is {_mb(MAX_BYTES)}")
    if _looks_like_xml(data):
        raise ImageError("the SVG logo embeds another SVG: embed PNG, JPEG or GIF pictures only")
    content_type, width, height = _raster_header(data, _EMBEDDED)
    return data, _RASTERS[content_type][0], width * height


def _count_drawn(root: ElementTree.Element, ids: dict[str, ElementTree.Element]) -> None:
    """Count the elements a renderer draws, expanding each ``<use>``; refuse bombs and cycles."""
    cost: dict[int, int] = {}
    active: set[int] = set()

    def count(el: ElementTree.Element, depth: int) -> int:
        key = id(el)
        if key in cost:
            return cost[key]
        if depth > MAX_SVG_DEPTH:
            raise ImageError(f"the SVG logo nests elements or <use> references more than {MAX_SVG_DEPTH} deep")
        if key in active:
            raise ImageError("the SVG logo has a <use> element that refers to itself")
        active.add(key)
        total = 1 + sum(count(child, depth + 1) for child in el)
        if _local(el.tag) == "use":
            ref = (el.get(_XLINK_HREF) or el.get("href") or "").strip()
            target = ids.get(ref[1:]) if ref.startswith("#") else None
            if target is not None:
                total += count(target, depth + 1)
        active.discard(key)
        if total > MAX_SVG_ELEMENTS:
            raise ImageError(f"the SVG logo draws more than {MAX_SVG_ELEMENTS} elements "
                             "once its <use> references are expanded")
        cost[key] = total
        return total

    count(root, 0)


def _svg_size(root: ElementTree.Element) -> tuple[float | None, float | None, float]:
    """Return the SVG's intrinsic width, height (None where it has none) and shape; refuse no shape.

    As WeasyPrint sizes it: width and height win; the viewBox gives the shape, and the
    missing one of the two when only one is given.
    """
    width, height = _length(root.get("width"), "width"), _length(root.get("height"), "height")
    if width is not None and height is not None:
        return width, height, width / height
    box = root.get("viewBox")
    if box is None:
        raise ImageError("the SVG logo has no size: give its <svg> element a viewBox, or a width and height")
    try:
        numbers = [float(n) for n in box.replace(",", " ").split()]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(map(_finite, numbers)) or numbers[2] <= 0 or numbers[3] <= 0:
        raise ImageError(f"the SVG logo's viewBox '{_short(box)}' is not four numbers with a positive "
                         "width and height")
    ratio = numbers[2] / numbers[3]
    if width is not None:
        return width, width / ratio, ratio
    if height is not None:
        return height * ratio, height, ratio
    return None, None, ratio


def _length(value: str | None, what: str) -> float | None:
    """Return an absolute SVG length in CSS pixels, None for none or a percentage."""
    if value is None or value.strip().endswith("%") or value.strip() == "auto":
        return None
    match = _LENGTH.fullmatch(value)
    if not match:
        raise ImageError(f"the SVG logo's {what} '{_short(value)}' is not a length")
    px = float(match.group(1)) * _CSS_PX[match.group(2)]
    if not _finite(px) or px <= 0:
        raise ImageError(f"the SVG logo's {what} '{_short(value)}' is not a positive length")
    return px


# --------------------------------------------------------------------------- wording
def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size % (1024 * 1024) else f"{size // 1024 // 1024} MB"


def _article(kind: str) -> str:
    return "an" if kind == "SVG" else "a"  # a PNG, a JPEG, a GIF, an SVG


def _reason(exc: BaseException) -> str:
    text = _short(str(exc), 80)
    return text or type(exc).__name__
