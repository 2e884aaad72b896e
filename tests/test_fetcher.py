"""Tests for the locked-down WeasyPrint URL fetcher.

Every attack is rendered through WeasyPrint for real and the resulting PDF is read back
with pikepdf (all streams decompressed, embedded files listed) and pypdf (text
extraction). Each vector also has a control render with WeasyPrint's default fetcher that
must leak, so these tests fail if the protection is removed or the fixture is toothless.
"""

from __future__ import annotations

import base64
import http.server
import io
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pypdf
import pytest
from PIL import Image

from cabinet_reports.fetcher import LockedURLFetcher, URLRefused, attachment_links, make_url_fetcher  # isort: skip
from weasyprint import HTML  # isort: skip
from weasyprint.urls import URLFetcher  # isort: skip

# ---------------------------------------------------------------------------------------
# Helpers that read a PDF back independently of WeasyPrint
# ---------------------------------------------------------------------------------------


def pdf_haystack(pdf_bytes: bytes) -> bytes:
    """Return every decoded stream, every embedded file and the extracted text of a PDF."""
    chunks: list[bytes] = [pdf_bytes]
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream):
                try:
                    chunks.append(obj.read_bytes())
                except pikepdf.PdfError:
                    # Filters pikepdf cannot decode (e.g. DCT) still get searched raw.
                    chunks.append(obj.read_raw_bytes())
        for spec in pdf.attachments.values():
            chunks.append(spec.get_file().read_bytes())
    reader = pypdf.PdfReader(io.BytesIO(pdf_bytes))
    # Text drawn from CSS (e.g. ::before content) is glyph ids in the content stream,
    # so it only becomes searchable through text extraction.
    chunks.extend(page.extract_text().encode() for page in reader.pages)
    return b"\n".join(chunks)


def pdf_attachments(pdf_bytes: bytes) -> dict[str, bytes]:
    """Return the embedded files of a PDF, by name."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        return {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}


def pdf_image_count(pdf_bytes: bytes) -> int:
    """Count the image XObjects in a PDF."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        return sum(
            1
            for obj in pdf.objects
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == pikepdf.Name.Image
        )


def render(html: str, base_url: Path, fetcher: URLFetcher | None) -> bytes:
    """Render *html* to PDF bytes with *fetcher* (``None`` means WeasyPrint's default)."""
    # base_url must end in "/" so relative URLs resolve inside the folder itself.
    return HTML(
        string=html, base_url=base_url.as_uri() + "/", url_fetcher=fetcher
    ).write_pdf()


def page(body: str, head: str = "") -> str:
    """Wrap *body* in a minimal HTML document with visible text."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>'
        f"{head}</head><body><p>Visible text</p>{body}</body></html>"
    )


def fetch_failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return WeasyPrint's log messages about resources it failed to load."""
    # Other WeasyPrint warnings (e.g. "Using fontTools instead of HarfBuzz-Subset") are
    # about the machine, not about fetching, and must not make these tests flaky.
    return [r.getMessage() for r in caplog.records if "Failed to load" in r.getMessage()]


def write_png(path: Path, colour: tuple[int, int, int] = (200, 30, 40)) -> Path:
    """Write a small solid PNG to *path*."""
    Image.new("RGB", (8, 8), colour).save(path, format="PNG")
    return path


# ---------------------------------------------------------------------------------------
# Fixtures: an allowed asset folder next to a secret folder outside it
# ---------------------------------------------------------------------------------------


@dataclass
class Layout:
    """Temp folders and secrets used by one test."""

    allowed: Path
    secret_dir: Path
    marker: str
    secret_txt: Path
    secret_png: Path
    secret_css: Path

    def fetcher(self) -> LockedURLFetcher:
        """Return a locked fetcher that allows only the asset folder."""
        return make_url_fetcher([self.allowed])


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    """Create ``assets/`` (allowed) and ``secret/`` (outside) with marker-bearing files."""
    allowed = tmp_path / "assets"
    secret_dir = tmp_path / "secret"
    allowed.mkdir()
    secret_dir.mkdir()
    marker = f"SECRETMARKER{uuid.uuid4().hex.upper()}"
    secret_txt = secret_dir / "secret.txt"
    secret_txt.write_text(f"password={marker}\n", encoding="utf-8")
    secret_png = write_png(secret_dir / "secret.png")
    secret_css = secret_dir / "secret.css"
    # If this stylesheet is ever loaded, the marker becomes visible text in the PDF.
    secret_css.write_text(f'body::after {{ content: "{marker}" }}\n', encoding="utf-8")
    return Layout(allowed, secret_dir, marker, secret_txt, secret_png, secret_css)


def leaks_marker(layout: Layout, pdf_bytes: bytes) -> bool:
    """Tell whether the secret marker text reached the PDF."""
    return layout.marker.encode() in pdf_haystack(pdf_bytes)


def has_image(_layout: Layout, pdf_bytes: bytes) -> bool:
    """Tell whether any image (the secret PNG is the only candidate) reached the PDF."""
    return pdf_image_count(pdf_bytes) > 0


@dataclass
class Vector:
    """One way a document can try to pull in a file from outside the allowed folder."""

    name: str
    build: Callable[[Layout], str]
    leaked: Callable[[Layout, bytes], bool]


def _symlink_attachment(lay: Layout) -> str:
    """Plant a symlink inside the allowed folder pointing at the secret file."""
    (lay.allowed / "innocent.txt").symlink_to(lay.secret_txt)
    return page('<link rel="attachment" href="innocent.txt">')


def _symlinked_dir_image(lay: Layout) -> str:
    """Plant a symlinked directory inside the allowed folder pointing at the secret folder."""
    (lay.allowed / "images").symlink_to(lay.secret_dir, target_is_directory=True)
    return page('<img src="images/secret.png" alt="">')


VECTORS = [
    Vector(
        "img-absolute-file-url",
        lambda lay: page(f'<img src="{lay.secret_png.as_uri()}" alt="">'),
        has_image,
    ),
    Vector(
        "link-attachment",
        lambda lay: page(f'<link rel="attachment" href="{lay.secret_txt.as_uri()}">'),
        leaks_marker,
    ),
    Vector(
        "a-attachment",
        lambda lay: page(f'<a rel="attachment" href="{lay.secret_txt.as_uri()}">file</a>'),
        leaks_marker,
    ),
    Vector(
        "css-url-in-style-attribute",
        lambda lay: page(
            f'<div style="width:20px;height:20px;'
            f'background-image:url({lay.secret_png.as_uri()})"></div>'
        ),
        has_image,
    ),
    Vector(
        "css-url-in-style-block",
        lambda lay: page(
            '<div class="x"></div>',
            head=f"<style>.x {{ width:20px; height:20px; "
            f"background: url('{lay.secret_png.as_uri()}') }}</style>",
        ),
        has_image,
    ),
    Vector(
        "css-import",
        lambda lay: page("", head=f'<style>@import url("{lay.secret_css.as_uri()}");</style>'),
        leaks_marker,
    ),
    Vector(
        "link-stylesheet",
        lambda lay: page("", head=f'<link rel="stylesheet" href="{lay.secret_css.as_uri()}">'),
        leaks_marker,
    ),
    Vector("symlink-file-inside-root", _symlink_attachment, leaks_marker),
    Vector("symlink-dir-inside-root", _symlinked_dir_image, has_image),
    Vector(
        "dotdot-escape",
        lambda lay: page('<link rel="attachment" href="../secret/secret.txt">'),
        leaks_marker,
    ),
    Vector(
        "percent-encoded-dotdot-escape",
        lambda lay: page('<link rel="attachment" href="%2e%2e/secret/secret.txt">'),
        leaks_marker,
    ),
    Vector(
        "percent-encoded-dotdot-escape-upper",
        lambda lay: page('<img src="%2E%2E%2Fsecret%2Fsecret.png" alt="">'),
        has_image,
    ),
]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_locked_fetcher_blocks_vector(
    vector: Vector, layout: Layout, caplog: pytest.LogCaptureFixture
) -> None:
    """A locked render completes, does not contain the secret, and logs the refusal."""
    html = vector.build(layout)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf_bytes = render(html, layout.allowed, layout.fetcher())
    assert pdf_bytes.startswith(b"%PDF")
    assert b"Visible text" in pdf_haystack(pdf_bytes)  # the rest of the page rendered
    assert not vector.leaked(layout, pdf_bytes)
    assert layout.marker.encode() not in pdf_haystack(pdf_bytes)
    assert pdf_attachments(pdf_bytes) == {}
    failures = fetch_failures(caplog)
    assert failures and all("URLRefused" in message for message in failures), failures


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_default_fetcher_leaks_vector(vector: Vector, layout: Layout) -> None:
    """Control: WeasyPrint's default fetcher really does leak each vector."""
    pdf_bytes = render(vector.build(layout), layout.allowed, None)
    assert vector.leaked(layout, pdf_bytes)


# ---------------------------------------------------------------------------------------
# The literal system files from the threat model
# ---------------------------------------------------------------------------------------


def test_etc_hostname_attachment_default_leaks_locked_does_not(layout: Layout) -> None:
    """``<link rel=attachment href=file:///etc/hostname>`` embeds the file only by default."""
    hostname = Path("/etc/hostname")
    if not hostname.is_file():
        pytest.skip("no /etc/hostname on this system")
    html = page('<link rel="attachment" href="file:///etc/hostname">')
    default = pdf_attachments(render(html, layout.allowed, None))
    assert list(default.values()) == [hostname.read_bytes()]
    assert pdf_attachments(render(html, layout.allowed, layout.fetcher())) == {}


def test_etc_passwd_is_not_loaded(layout: Layout) -> None:
    """``file:///etc/passwd`` as image and as attachment never reaches the PDF."""
    passwd = Path("/etc/passwd")
    if not passwd.is_file():
        pytest.skip("no /etc/passwd on this system")
    first_line = passwd.read_bytes().splitlines()[0]
    html = page(
        '<img src="file:///etc/passwd" alt="">'
        '<link rel="attachment" href="file:///etc/passwd">'
    )
    assert first_line in pdf_haystack(render(html, layout.allowed, None))  # control
    locked = render(html, layout.allowed, layout.fetcher())
    assert first_line not in pdf_haystack(locked)
    assert pdf_attachments(locked) == {}


# ---------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    """Serve one marker stylesheet and count requests."""

    body: bytes = b""
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - name fixed by http.server
        """Record the request and answer with the marker stylesheet."""
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Stay quiet: test output is not the place for access logs."""


@pytest.fixture
def css_server(layout: Layout, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[str]]]:
    """Run a local HTTP server that serves the marker stylesheet; yield (url, hits)."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    handler = type(
        "Handler",
        (_CountingHandler,),
        {"body": layout.secret_css.read_bytes(), "hits": []},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/style.css", handler.hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_http_stylesheet_default_fetches_locked_does_not(
    layout: Layout, css_server: tuple[str, list[str]]
) -> None:
    """An http:// stylesheet is fetched by default but never requested by the locked fetcher."""
    url, hits = css_server
    html = page("", head=f'<link rel="stylesheet" href="{url}">')
    assert leaks_marker(layout, render(html, layout.allowed, None))  # control
    assert hits == ["/style.css"]
    hits.clear()
    locked = render(html, layout.allowed, layout.fetcher())
    assert not leaks_marker(layout, locked)
    assert hits == []  # not even a connection attempt reached the server


def test_http_port_9_makes_no_connection(
    layout: Layout, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``http://127.0.0.1:9/`` is refused before any socket is opened."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def spy_connect(self: socket.socket, address: object) -> None:
        attempts.append(address)
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy_connect)
    html = page(
        '<img src="http://127.0.0.1:9/x.png" alt="">'
        '<link rel="attachment" href="http://127.0.0.1:9/a.txt">',
        head='<style>@import url("https://127.0.0.1:9/x.css");</style>',
    )
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf_bytes = render(html, layout.allowed, layout.fetcher())
    assert pdf_bytes.startswith(b"%PDF")
    assert attempts == []
    assert pdf_attachments(pdf_bytes) == {}
    failures = fetch_failures(caplog)
    assert len(failures) == 3 and all("URLRefused" in m for m in failures), failures


# ---------------------------------------------------------------------------------------
# What must still work
# ---------------------------------------------------------------------------------------


def test_image_inside_allowed_root_loads(layout: Layout, caplog: pytest.LogCaptureFixture) -> None:
    """A PNG in the asset folder, relative or absolute, becomes an image XObject."""
    write_png(layout.allowed / "logo.png", (10, 120, 200))
    sub = layout.allowed / "img"
    sub.mkdir()
    write_png(sub / "chart.png", (10, 200, 20))
    html = page(
        '<img src="logo.png" alt="Logo">'
        f'<img src="{(sub / "chart.png").as_uri()}" alt="Chart">'
    )
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf_bytes = render(html, layout.allowed, layout.fetcher())
    assert pdf_image_count(pdf_bytes) == 2
    assert fetch_failures(caplog) == []


def test_theme_root_and_asset_root_both_allowed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Stylesheets, @import and url() inside either allowed root all load."""
    theme, assets = tmp_path / "theme", tmp_path / "report"
    theme.mkdir()
    assets.mkdir()
    write_png(theme / "crest.png")
    (theme / "base.css").write_text('@import "extra.css";\n', encoding="utf-8")
    (theme / "extra.css").write_text(
        '.crest { width: 8px; height: 8px; background: url("crest.png") }\n'
        'body::after { content: "THEMEEXTRALOADED" }\n',
        encoding="utf-8",
    )
    (assets / "notes.txt").write_text("ATTACHMENTOK\n", encoding="utf-8")
    html = page(
        '<div class="crest"></div><link rel="attachment" href="notes.txt">',
        head=f'<link rel="stylesheet" href="{(theme / "base.css").as_uri()}">',
    )
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf_bytes = render(html, assets, make_url_fetcher([theme, assets]))
    assert fetch_failures(caplog) == []
    assert b"THEMEEXTRALOADED" in pdf_haystack(pdf_bytes)
    assert pdf_image_count(pdf_bytes) == 1
    assert pdf_attachments(pdf_bytes) == {"notes.txt": b"ATTACHMENTOK\n"}


def test_data_url_image_loads(layout: Layout) -> None:
    """``data:`` URLs are allowed even with no roots at all."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 0, 0)).save(buffer, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    pdf_bytes = render(page(f'<img src="{data_url}" alt="">'), layout.allowed, make_url_fetcher([]))
    assert pdf_image_count(pdf_bytes) == 1


# ---------------------------------------------------------------------------------------
# The fetcher on its own
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/",
        "https://example.org/x.png",
        "ftp://example.org/x",
        "gopher://example.org/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "file://evil.example/share/x.png",
        "FILE:///etc/passwd",
    ],
)
def test_fetch_refuses(url: str, layout: Layout) -> None:
    """Foreign schemes, remote hosts and files outside the roots raise URLRefused."""
    with pytest.raises(URLRefused):
        layout.fetcher().fetch(url)


def test_fetch_refuses_escapes_from_root(layout: Layout) -> None:
    """``..``, ``%2e%2e`` and symlinks cannot leave the root; a sibling with a shared prefix neither."""
    fetcher = layout.fetcher()
    root = layout.allowed.as_uri()
    (layout.allowed / "link.txt").symlink_to(layout.secret_txt)
    sibling = layout.allowed.parent / (layout.allowed.name + "-evil")
    sibling.mkdir()
    (sibling / "x.txt").write_text("x", encoding="utf-8")
    for url in (
        f"{root}/../secret/secret.txt",
        f"{root}/%2e%2e/secret/secret.txt",
        f"{root}/%2E%2E%2Fsecret%2Fsecret.txt",
        f"{root}/link.txt",
        sibling.joinpath("x.txt").as_uri(),  # "/assets-evil" starts with "/assets"
    ):
        with pytest.raises(URLRefused):
            fetcher.fetch(url)


def test_fetch_allows_file_inside_root(layout: Layout) -> None:
    """A file inside the root is served with its content type; query and fragment are ignored."""
    (layout.allowed / "style.css").write_text("p { color: red }", encoding="utf-8")
    (layout.allowed / "inner.txt").symlink_to(layout.allowed / "style.css")
    fetcher = layout.fetcher()
    for name in ("style.css?v=2", "style.css#frag", "inner.txt"):
        response = fetcher.fetch(f"{layout.allowed.as_uri()}/{name}")
        try:
            assert response.read() == b"p { color: red }"
        finally:
            response.close()
    response = fetcher.fetch(f"{layout.allowed.as_uri()}/style.css")
    response.close()
    assert response.content_type == "text/css"


def test_fetch_refuses_directory(layout: Layout) -> None:
    """A directory inside the root is not a file to embed."""
    (layout.allowed / "sub").mkdir()
    with pytest.raises((URLRefused, OSError)):
        layout.fetcher().fetch((layout.allowed / "sub").as_uri())


def test_root_given_through_symlink(tmp_path: Path, layout: Layout) -> None:
    """A root that is itself a symlink still admits the files beneath it."""
    alias = tmp_path / "alias"
    alias.symlink_to(layout.allowed, target_is_directory=True)
    write_png(layout.allowed / "a.png")
    response = make_url_fetcher([alias]).fetch((alias / "a.png").as_uri())
    response.close()
    assert os.path.basename(response.url) == "a.png"


# ---------------------------------------------------------------------------------------
# Embedded files: refused entirely, found the way WeasyPrint finds them
# ---------------------------------------------------------------------------------------


def embedded_files(pdf_bytes: bytes) -> int:
    """Count the files a PDF embeds: document attachments and /FileAttachment annotations."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        annots = sum(1 for p in pdf.pages for a in p.get("/Annots", []) if a.get("/Subtype") == "/FileAttachment")
        return len(pdf.attachments) + annots


# (markup, does WeasyPrint 70 embed the file?) Spellings a naive text search would miss.
ATTACHMENT_MARKUP = [
    ('<link rel="attachment" href="partb.yaml">', True),
    ('<LINK REL="Attachment" HREF="partb.yaml">', True),
    ('<link rel="&#97;ttachment" href="partb.yaml">', True),
    ('<link rel="stylesheet attachment" href="partb.yaml">', True),
    ('<link rel="\tattachment\n" href="partb.yaml">', True),
    ('<a rel="attachment" href="partb.yaml">file</a>', True),
    ("<a/rel=attachment href=partb.yaml>file</a>", True),
    ('<a title=">" rel="attachment" href="partb.yaml">file</a>', True),
    ('<a x="1"rel=attachment href="partb.yaml">file</a>', True),
    ('<a rel = \'attachment\' href="partb.yaml" download="x.txt">file</a>', True),
    ("<template><link rel=attachment href=partb.yaml></template>", True),
    ("<noscript><link rel=attachment href=partb.yaml></noscript>", True),
    ('<a rel="nofollow" href="partb.yaml">file</a>', False),
    ('&lt;link rel="attachment" href="partb.yaml"&gt;', False),
    ('<!-- <link rel="attachment" href="partb.yaml"> -->', False),
    ('<textarea><link rel="attachment" href="partb.yaml"></textarea>', False),
    ("<p>rel=attachment</p>", False),
]


@pytest.mark.parametrize("markup, embeds", ATTACHMENT_MARKUP, ids=range(len(ATTACHMENT_MARKUP)))
def test_attachment_links_finds_every_file_weasyprint_would_embed(layout: Layout, markup: str, embeds: bool) -> None:
    """Inside the allowed folder the locked fetcher serves a Part B file; attachment_links sees each such link."""
    (layout.allowed / "partb.yaml").write_text(f"title: {layout.marker}\n", encoding="utf-8")
    html = page(markup)
    pdf_bytes = render(html, layout.allowed, layout.fetcher())
    assert (embedded_files(pdf_bytes) > 0) is embeds  # the control: this spelling does (or does not) embed
    assert bool(attachment_links(html)) is embeds
    if embeds:
        assert layout.marker.encode() in pdf_haystack(pdf_bytes)
        assert attachment_links(html) == ["partb.yaml"]


def test_attachment_links_of_a_page_without_rel_is_empty() -> None:
    assert attachment_links(page('<a href="https://example.org">x</a><link href="x.css">')) == []
