"""Logos: what `check` accepts, PDF and DOCX can both show; what they cannot is refused first.

Every bad logo of the corpus (tests/bad_inputs/logo_*.yaml, whose `render` runs are checked by
test_bad_inputs.py) is refused by `check` with the same line. A good SVG logo is drawn as
vectors in the PDF and as a PNG in the DOCX, and LibreOffice shows it; the pictures are read
back with pdftoppm, pikepdf, Pillow and LibreOffice, not with our code. A 9000×9000 PNG
(250 KB) is refused from its header, which a child process's peak memory shows.
"""

from __future__ import annotations

import base64
import io
import os
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

from cabinet_reports import images
from cabinet_reports.images import ImageError, inspect_image
from readers import require
from test_bad_inputs import CORPUS, expectations, run_cli

BLUE, YELLOW = (0, 80, 160), (255, 204, 0)
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="120" viewBox="0 0 300 120">'
       '<rect width="300" height="120" fill="#0050a0"/><circle cx="60" cy="60" r="40" fill="#ffcc00"/></svg>')
REPORT = ("council:\n  name: Test Borough Council\n  logo: {logo}\nmeeting: {{body: Cabinet, date: 2026-01-14}}\n"
          "title: Test report\nsections:\n  purpose: [To test.]\n  recommendations: [That Cabinet notes.]\n")
LOGO_CASES = sorted(p for p in CORPUS.glob("logo_*.yaml"))


def report_with_logo(folder: Path, name: str, data: bytes | str) -> Path:
    """Write a logo file and a report naming it into ``folder``; return the report's path."""
    logo = folder / name
    logo.write_bytes(data.encode() if isinstance(data, str) else data)
    src = folder / "r.yaml"
    src.write_text(REPORT.format(logo=name), encoding="utf-8")
    return src


def png(width: int, height: int) -> bytes:
    """Return a valid all-black 1-bit PNG of any size, built row by row without the pixels in memory.

    One bit a pixel keeps even 81 megapixels quick to compress (10 MB of rows); a reader that
    decodes it still holds one byte or more a pixel.
    """
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then the row's bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def count_colour(picture: Image.Image, colour: tuple[int, int, int], tolerance: int = 40) -> int:
    """Count the pixels within ``tolerance`` of ``colour`` (anti-aliasing and colour management shift them)."""
    rgb = picture.convert("RGB")
    return sum(n for n, px in rgb.getcolors(rgb.width * rgb.height)
               if all(abs(a - b) <= tolerance for a, b in zip(px, colour)))


def page_image(pdf: Path, dpi: int = 80, width: int = 400, height: int = 200) -> Image.Image:
    """Render the top-left corner of page 1 (where the logo goes) with poppler's pdftoppm."""
    out = subprocess.run([require("pdftoppm"), "-r", str(dpi), "-png", "-f", "1", "-l", "1", "-singlefile",
                          "-x", "0", "-y", "0", "-W", str(width), "-H", str(height), str(pdf)],
                         check=True, capture_output=True).stdout  # no output root: the PNG goes to stdout
    return Image.open(io.BytesIO(out))


# --------------------------------------------------------------------------- check agrees with render
def test_check_refuses_every_bad_logo_of_the_corpus_with_the_line_render_gives():
    assert len(LOGO_CASES) >= 10
    result = run_cli("check", *(c.name for c in LOGO_CASES), cwd=CORPUS)  # one process for all
    assert (result.returncode, result.stdout) == (2, "")
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == len(LOGO_CASES), result.stderr
    for case, line in zip(LOGO_CASES, lines):
        [want] = expectations(case)
        prefix = want.prefix(case.name)
        assert line.startswith(prefix) and want.message in line[len(prefix):], line


def jpeg_noise() -> bytes:
    noise = Image.frombytes("RGB", (64, 48), bytes((i * 7919) % 251 for i in range(64 * 48 * 3)))
    return encoded(noise, "JPEG")


@pytest.mark.parametrize("name, data, message", [
    ("logo.png", lambda: encoded(Image.new("RGB", (40, 16), BLUE), "PNG")[:-20],
     "the logo is a damaged or truncated image (the file ends too soon)"),
    ("logo.jpg", lambda: jpeg_noise()[:40], "the logo is a damaged or truncated image (unexpected end of file)"),
    ("logo.jpg", lambda: jpeg_noise()[:1500], "the logo is a damaged or truncated JPEG image (image file is truncated"),
    ("logo.bmp", lambda: encoded(Image.new("RGB", (4, 4)), "BMP"), "the logo is not a PNG, JPEG, GIF or SVG image (it is BMP)"),
    ("logo.webp", lambda: encoded(Image.new("RGB", (4, 4)), "WEBP"), "the logo is not a PNG, JPEG, GIF or SVG image"),
    ("logo.tif", lambda: encoded(Image.new("RGB", (4, 4)), "PNG"), "must be a PNG, JPEG, GIF or SVG image named .png"),
    ("logo", lambda: SVG, "must be a PNG, JPEG, GIF or SVG image named .png, .jpg, .gif or .svg, not 'logo'"),
    ("logo.png", lambda: SVG, "logo.png is an SVG image but its name ends in .png: rename it to end in .svg"),
    ("logo.svg", lambda: encoded(Image.new("RGB", (4, 4)), "GIF"), "logo.svg is a GIF image but its name ends in .svg"),
    ("logo.svg", lambda: '<svg xmlns="http://www.w3.org/2000/svg" width="10"><rect></svg>',
     "the SVG logo is not well-formed XML (mismatched tag: line 1, column"),
    ("logo.svg", lambda: '<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>',
     "the SVG logo has no size: give its <svg> element a viewBox, or a width and height"),
    ("logo.svg", lambda: '<svg xmlns="http://www.w3.org/2000/svg" width="10cm" height="-2cm"/>',
     "the SVG logo's height '-2cm' is not a positive length"),
    ("logo.svg", lambda: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10"/>', "the SVG logo's viewBox '0 0 10'"),
    ("logo.svg", lambda: ('<!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                          '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><title>&b;</title></svg>'),
     "the SVG logo declares an XML entity made of other entities"),
    ("logo.svg", lambda: ('<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
                          '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><title>&x;</title></svg>'),
     "the SVG logo declares an external or parameter XML entity"),
])
def test_bad_logos_are_refused_with_a_reason(tmp_path, name, data, message):
    import weasyprint  # noqa: F401  (importing it turns Pillow's LOAD_TRUNCATED_IMAGES on)
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES
    logo = tmp_path / name
    content = data()
    logo.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(ImageError) as caught:
        inspect_image(logo)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


# --------------------------------------------------------------------------- SVG logos
def test_an_svg_logo_is_drawn_as_vectors_in_the_pdf_and_as_a_png_in_the_docx(tmp_path, libreoffice):
    from cabinet_reports.cli import main

    src = report_with_logo(tmp_path, "logo.svg", SVG)
    assert main(["render", str(src), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    pdf, docx_file = tmp_path / "out" / "r.pdf", tmp_path / "out" / "r.docx"

    # PDF: the SVG itself, drawn as vector paths (no image XObject), visible where the logo goes.
    import pikepdf
    with pikepdf.open(pdf) as doc:
        xobjects = doc.pages[0].Resources.get("/XObject", {})
        assert [k for k, v in xobjects.items() if v.get("/Subtype") == "/Image"] == []
    top = page_image(pdf)
    assert count_colour(top, BLUE) > 3000 and count_colour(top, YELLOW) > 500

    # DOCX: one PNG rasterised to fit the 6 cm × 2.5 cm logo box at 300 dpi, with the alt text.
    with zipfile.ZipFile(docx_file) as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
        assert len(media) == 1 and media[0].endswith(".png")
        raster = Image.open(io.BytesIO(z.read(media[0])))
        assert raster.size == (709, 284)  # 300:120 fitted into 709 × 295 pixels
        assert 'descr="Test Borough Council logo"' in z.read("word/document.xml").decode()

    # LibreOffice shows it: the converted page has the blue box and the yellow disc.
    [converted] = libreoffice([docx_file])
    top = page_image(converted)
    assert count_colour(top, BLUE) > 3000 and count_colour(top, YELLOW) > 500


def test_an_svg_sized_only_by_its_viewbox_and_one_with_absurd_sizes_fit_the_box(tmp_path):
    tall = tmp_path / "tall.svg"
    tall.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 40"><rect width="10" height="40"/></svg>')
    picture = inspect_image(tall)
    assert (picture.format, picture.width, picture.height, picture.ratio) == ("svg", None, None, 0.25)
    assert Image.open(io.BytesIO(picture.raster)).size == (74, 295)

    wide = tmp_path / "wide.svg"  # a declared size of 1 km × 1 m: the raster is still box-sized
    wide.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="100000cm" height="100cm" viewBox="0 0 1000 1">'
                    '<rect width="1000" height="1"/></svg>')
    assert Image.open(io.BytesIO(inspect_image(wide).raster)).size == (709, 1)


def test_svg_features_councils_use_are_accepted(tmp_path):
    pixel = base64.b64encode(encoded(Image.new("RGB", (8, 8), BLUE), "PNG")).decode()
    svg = ('<?xml version="1.0" encoding="utf-8"?>\n'
           '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [\n'
           '  <!ENTITY ns_extend "http://ns.adobe.com/Extensibility/1.0/">\n]>\n'
           '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
           'xmlns:x="&ns_extend;" width="80mm" height="20mm">'
           '<defs><linearGradient id="g"><stop offset="0" stop-color="#0050a0"/></linearGradient>'
           '<path id="p" d="M0 0h10v10z"/></defs>'
           '<style>.a { fill: url(#g); }</style>'
           '<a href="https://www.example.gov.uk/"><rect class="a" width="80" height="20"/></a>'
           '<use xlink:href="#p"/><use href="#p" x="20"/>'
           f'<image href="data:image/png;base64,{pixel}" width="8" height="8"/>'
           '<text x="30" y="15" font-family="sans-serif">Borough</text></svg>')
    (tmp_path / "crest.svg").write_text(svg, encoding="utf-8")
    picture = inspect_image(tmp_path / "crest.svg")
    assert picture.format == "svg" and round(picture.width / picture.height, 3) == 4.0


@pytest.mark.parametrize("body, message", [
    ('<rect style="fill: url(pattern.svg#p)" width="1" height="1"/>', "refers to another file (pattern.svg#p)"),
    ("<style>@import 'brand.css';</style>", "imports another file"),
    ('<image href="file:///etc/hostname" width="1" height="1"/>', "refers to another file (file:///etc/hostname)"),
    ('<use href="other.svg#crest"/>', "refers to another file (other.svg#crest)"),
    ('<g id="a"><use href="#a"/></g>', "refers to itself"),
    ("<g>" * 70 + "</g>" * 70, "more than 64 deep"),
    ('<image href="data:image/svg+xml;base64,PHN2Zy8+" width="1" height="1"/>', "embeds another SVG"),
    ('<image href="data:image/png;base64,@@@" width="1" height="1"/>', "base64 data is damaged"),
])
def test_svg_logos_that_reach_outside_or_explode_are_refused(tmp_path, body, message):
    logo = tmp_path / "logo.svg"
    logo.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40">{body}</svg>')
    with pytest.raises(ImageError) as caught:
        inspect_image(logo)
    assert message in str(caught.value)


def test_an_svg_logo_embedding_a_huge_picture_is_refused_from_its_header(tmp_path):
    huge = base64.b64encode(png(6000, 5000)).decode()  # 30 megapixels, 40 KB
    logo = tmp_path / "logo.svg"
    logo.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40">'
                    f'<image href="data:image/png;base64,{huge}" width="100" height="40"/></svg>')
    with pytest.raises(ImageError, match=r"picture embedded in the SVG logo is 6000×5000 pixels"):
        inspect_image(logo)


def test_an_svg_in_another_encoding_or_whose_entities_grow_too_much_is_refused(tmp_path):
    latin = tmp_path / "latin.svg"
    latin.write_bytes('<?xml version="1.0" encoding="iso-8859-1"?><svg xmlns="http://www.w3.org/2000/svg" '
                      'width="10" height="10"><title>Conseil général</title></svg>'.encode("latin-1"))
    with pytest.raises(ImageError, match="not UTF-8"):
        inspect_image(latin)
    quadratic = tmp_path / "quadratic.svg"  # no entity of entities, but 4,000 × 1,000 characters
    quadratic.write_text('<!DOCTYPE svg [<!ENTITY e "' + "x" * 1000 + '">]><svg xmlns="http://www.w3.org/2000/svg" '
                         'width="10" height="10"><title>' + "&e;" * 4000 + "</title></svg>")
    with pytest.raises(ImageError, match="entities expand to more than 1 MB"):
        inspect_image(quadratic)


# --------------------------------------------------------------------------- raster logos
def test_raster_logos_reach_the_docx_as_their_own_bytes(tmp_path):
    from cabinet_reports.cli import main

    sources, files = [], {}
    for name, fmt in [("logo.png", "PNG"), ("logo.PNG", "PNG"), ("logo.jpeg", "JPEG"), ("logo.jpg", "JPEG"),
                      ("logo.gif", "GIF")]:
        folder = tmp_path / name.replace(".", "-")
        folder.mkdir()
        files[folder.name] = encoded(Image.new("RGB", (120, 48), BLUE), fmt)
        sources.append(report_with_logo(folder, name, files[folder.name]).rename(folder / f"{folder.name}.yaml"))
    assert main(["render", *map(str, sources), "-o", str(tmp_path / "out"), "--format", "docx", "--quiet"]) == 0
    for stem, data in files.items():
        with zipfile.ZipFile(tmp_path / "out" / f"{stem}.docx") as z:
            [media] = [n for n in z.namelist() if n.startswith("word/media/")]
            assert z.read(media) == data, stem  # not decoded, not re-encoded


@pytest.mark.parametrize("size, message", [
    ((10_001, 10), "10001×10 pixels (0.1 megapixels); the limit is 25 megapixels and 10000 pixels a side"),
    ((5001, 5000), "5001×5000 pixels (25.0 megapixels)"),
])
def test_pixel_limits_are_checked_from_the_header(tmp_path, size, message):
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(*size))
    with pytest.raises(ImageError) as caught:
        inspect_image(logo)
    assert message in str(caught.value)


def test_a_logo_of_5000_by_5000_pixels_is_accepted_and_one_over_5_mb_is_not(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(5000, 5000))
    assert (inspect_image(logo).width, inspect_image(logo).height) == (5000, 5000)
    big = tmp_path / "big.png"
    big.write_bytes(png(40, 16) + b"\0" * images.MAX_BYTES)  # bytes after IEND: a valid PNG, too many bytes
    with pytest.raises(ImageError, match=r"the logo file is 5\.0 MB; the limit is 5 MB"):
        inspect_image(big)


def test_a_9000_pixel_square_png_is_refused_by_check_and_render_without_decoding_it(tmp_path):
    """A few KB of PNG hold 81 megapixels; decoding such a logo (WeasyPrint did) took 700 MB."""
    src = report_with_logo(tmp_path, "logo.png", png(9000, 9000))
    want = (f"make-report: error: {src}:3: council.logo: the logo is 9000×9000 pixels (81.0 megapixels); "
            "the limit is 25 megapixels")
    for args in (["check", str(src)], ["render", str(src), "-o", str(tmp_path / "out")]):
        code, stdout, stderr, peak_mb = run_measured([sys.executable, "-m", "cabinet_reports", *args])
        assert (code, stdout) == (2, ""), stderr
        assert stderr.startswith(want) and len(stderr.splitlines()) == 1, stderr
        assert peak_mb < 250, f"{args[0]} peaked at {peak_mb:.0f} MB"
    assert not (tmp_path / "out").exists()


def test_run_measured_reports_the_commands_memory_not_this_test_process(tmp_path):
    held = bytearray(150 * 1024 * 1024)
    held[::4096] = b"1" * len(held[::4096])  # resident, not just reserved
    assert run_measured(["true"])[3] < 60
    script = "x = bytearray(100 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])"
    assert run_measured([sys.executable, "-c", script])[3] >= 100
    del held


def run_measured(cmd: list[str]) -> tuple[int, str, str, float]:
    """Run a command; return its exit code, stdout, stderr and peak resident memory in MB.

    The command runs under a small launcher process that reads its one child's ru_maxrss:
    Linux keeps, across exec, the resident size of the process a child was forked from, so a
    child of this test process would report at least the test run's own size (which grows
    with every in-process test) whatever the command used.
    """
    launcher = ("import resource, subprocess, sys\n"
                "code = subprocess.call(sys.argv[2:])\n"
                "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
                "sys.exit(code)\n")
    with tempfile.TemporaryDirectory() as tmp:
        rss = Path(tmp) / "maxrss"
        run = subprocess.run([sys.executable, "-c", launcher, str(rss), *cmd], capture_output=True, text=True)
        return run.returncode, run.stdout, run.stderr, int(rss.read_text()) / 1024


def test_inspection_happens_once_per_file_version(tmp_path, monkeypatch):
    from cabinet_reports.api import render_report

    images._inspect.cache_clear()
    drawn = []
    real = images.rasterise_svg
    monkeypatch.setattr(images, "rasterise_svg", lambda *a: drawn.append(a) or real(*a))
    src = report_with_logo(tmp_path, "logo.svg", SVG)
    render_report(src, tmp_path / "out", formats="docx")  # validate, then the DOCX
    render_report(src, tmp_path / "out", formats="docx")
    assert len(drawn) == 1
    (tmp_path / "logo.svg").write_text(SVG.replace("#ffcc00", "#ff0000"))
    os.utime(tmp_path / "logo.svg", ns=(1, 1))  # a new version even within the clock's resolution
    render_report(src, tmp_path / "out", formats="docx")
    assert len(drawn) == 2


def test_a_renderer_given_an_unchecked_bad_logo_raises_a_render_error(tmp_path):
    from cabinet_reports.api import build, report_from_data
    from cabinet_reports.errors import RenderError
    from cabinet_reports.renderers import RenderOptions, get_renderer
    from cabinet_reports.theme import Theme

    bad = tmp_path / "logo.png"
    bad.write_text("not a picture")
    report = report_from_data({"council": {"name": "T"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"},
                               "title": "T", "sections": {"purpose": ["p"], "recommendations": ["r"]}})
    with pytest.raises(RenderError, match="council.logo: the logo is not a PNG, JPEG, GIF or SVG image"):
        get_renderer("docx")(build(report), Theme(None), RenderOptions(logo=bad))


def blue_box_cm(pdf: Path) -> tuple[float, float]:
    """Return the width and height in cm of the blue on page 1's top-left corner, as poppler draws it."""
    from PIL import ImageChops

    red, _, blue = page_image(pdf, dpi=254, width=1200, height=600).convert("RGB").split()  # 100 px to the cm
    no_red = red.point(lambda v: 255 if v < 60 else 0)
    much_blue = blue.point(lambda v: 255 if v > 120 else 0)
    left, top, right, bottom = ImageChops.multiply(no_red, much_blue).getbbox()
    return (right - left) / 100, (bottom - top) / 100


def test_the_docx_logo_has_the_size_the_pdf_prints(tmp_path):
    """style.css's rule: intrinsic size at 96 px to the inch, shrunk to fit 6 cm × 2.5 cm."""
    import docx

    from cabinet_reports.cli import main

    logos = {
        "small-png": ("logo.png", encoded(Image.new("RGB", (60, 24), BLUE), "PNG")),  # 1.59 × 0.64 cm
        "small-svg": ("logo.svg", '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="24">'
                                  '<rect width="60" height="24" fill="#0050a0"/></svg>'),
        "width-only": ("logo.svg", '<svg xmlns="http://www.w3.org/2000/svg" width="60" viewBox="0 0 30 12">'
                                   '<rect width="30" height="12" fill="#0050a0"/></svg>'),
        "tall-viewbox": ("logo.svg", '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 40">'
                                     '<rect width="10" height="40" fill="#0050a0"/></svg>'),  # fills 2.5 cm high
        "big-png": ("logo.png", encoded(Image.new("RGB", (900, 300), BLUE), "PNG")),  # 6 × 2 cm
    }
    sources = []
    for stem, (name, data) in logos.items():
        folder = tmp_path / stem
        folder.mkdir()
        sources.append(report_with_logo(folder, name, data).rename(folder / f"{stem}.yaml"))
    assert main(["render", *map(str, sources), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    sizes = {}
    for stem in logos:
        [shape] = docx.Document(str(tmp_path / "out" / f"{stem}.docx")).inline_shapes
        pdf_w, pdf_h = blue_box_cm(tmp_path / "out" / f"{stem}.pdf")
        assert abs(shape.width.cm - pdf_w) < 0.05 and abs(shape.height.cm - pdf_h) < 0.05, (stem, shape, pdf_w, pdf_h)
        sizes[stem] = round(shape.width.cm, 1), round(shape.height.cm, 1)
    assert sizes == {"small-png": (1.6, 0.6), "small-svg": (1.6, 0.6), "width-only": (1.6, 0.6),
                     "tall-viewbox": (0.6, 2.5), "big-png": (6.0, 2.0)}


def test_pictures_embedded_anywhere_in_an_svg_count_towards_the_pixel_limit(tmp_path):
    """resvg draws <feImage> pictures too; eight 2000×2000 pictures are 32 megapixels together."""
    picture = base64.b64encode(png(2000, 2000)).decode()
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40">'
                    f'<filter id="f"><feImage href="data:image/png;base64,{picture}"/></filter>'
                    + f'<image href="data:image/png;base64,{picture}" width="1" height="1"/>' * 7 + "</svg>")
    with pytest.raises(ImageError, match="embeds pictures of 32.0 megapixels; the limit is 25 megapixels"):
        inspect_image(logo)


def test_svg_logos_too_heavy_to_draw_are_refused_but_embedded_pictures_do_not_count_as_markup(tmp_path):
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40">'
                    + '<rect width="1" height="1"/>' * 10_001 + "</svg>")
    with pytest.raises(ImageError, match="draws more than 10000 elements"):
        inspect_image(logo)
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40"><path d="M0 0'
                    + " l1 1" * 210_000 + '"/></svg>')  # one path of 1.1 MB: WeasyPrint parses it for ~5 s
    with pytest.raises(ImageError, match=r"has 1\.0 MB of markup; the limit is 1 MB"):
        inspect_image(logo)
    photo = base64.b64encode(encoded(Image.frombytes("L", (800, 800), os.urandom(640_000)), "PNG")).decode()
    assert len(photo) > 800_000
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40"><path d="M0 0'
                    + " l1 1" * 100_000 + f'"/><image href="data:image/png;base64,{photo}" width="9" height="9"/></svg>')
    assert inspect_image(logo).format == "svg"
