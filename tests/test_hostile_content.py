"""Hostile report content through the whole pipeline: content is data, never markup.

One report carries every vector (raw HTML, ``<script>``, local-file ``<img>``, ``<link
rel="attachment">``, ``<style>@import``, CSS ``url()``, ``javascript:``/``file:`` Markdown
links, Jinja-looking text) in every kind of text field: title, council name, meeting body,
headings, paragraphs, list items, table header/cells/caption, timeline, appendix title,
contact (including the email), wards, signatories. It is rendered with the real CLI and read
back with tools that are not ours: pdftotext for what a reader sees, pikepdf for what the file
holds (attachments, annotations, actions, every decompressed stream), zipfile + ElementTree
for the DOCX.

The fetcher has its own WeasyPrint-level tests (tests/test_fetcher.py); here every vector goes
through load → validate → number → theme → renderer. Control tests remove one protection at a
time (HTML escaping, the locked fetcher, the link-scheme filter) and show the same checks then
fail, so none of them passes vacuously.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import Iterator
from xml.etree import ElementTree

import pikepdf
import pytest

from cabinet_reports import inline
from cabinet_reports.api import build, load_report, render_options
from cabinet_reports.cli import main
from cabinet_reports.renderers.pdf import render_html, render_pdf
from cabinet_reports.theme import Theme
from readers import pdftotext

# /etc/hostname is often a couple of letters ("vm") that occur by chance in font data, so
# its vector is checked through attachments; byte searches use /etc/passwd's first line and
# a random token in a file of our own outside every allowed folder.
PASSWD_FIRST_LINE = Path("/etc/passwd").read_text(encoding="utf-8").splitlines()[0].encode()


def vectors(secret: Path) -> list[str]:
    """Return the hostile strings; ``secret`` is a file outside every allowed folder."""
    return [
        "<script>alert(1)</script>",
        "<b>raw bold</b>",
        '<img src="file:///etc/passwd">',
        '<link rel="attachment" href="file:///etc/hostname">',
        f'<link rel="attachment" href="{secret.as_uri()}">',
        f'<img src="{secret.as_uri()}">',
        "<style>@import url(file:///etc/passwd)</style>",
        f'<p style="background: url({secret.as_uri()})">styled</p>',
        "{{ 7*7 }}",
        "{% raw %}",
        "{{ cycler.__init__.__globals__ }}",
    ]


MD_LINKS = ["[jslink](javascript:alert(1))", "[filelink](file:///etc/passwd)", "[datalink](data:text/html,<b>x</b>)"]
EMAIL = "<script>alert(1)</script>{{7*7}}@evil.example"


def hostile_report(secret: Path) -> tuple[dict, list[str]]:
    """Return a report with a tagged vector in every text field, and the tagged strings to find."""
    vs = vectors(secret)
    tags: list[str] = []
    counter = iter(range(10_000))

    def t(v: str) -> str:
        n = next(counter)  # tags are letters only: a digit could fake or hide "49"
        s = "Q" + "".join(chr(ord("a") + d) for d in (n // 676, n // 26 % 26, n % 26)) + v
        tags.append(s)
        return s

    def all_of(prefix: str = "") -> list[str]:
        return [t(v) for v in vs]

    # Title, council, meeting body and report_of also become document metadata (PDF Info,
    # DOCX core properties, which hold at most 255 characters): a few vectors each there,
    # every vector in the other fields.
    report = {
        "council": {"name": t(vs[3])},
        "meeting": {"body": t(vs[6]), "date": "2026-01-14", "item": "7"},
        "title": f"{t(vs[0])} {t(vs[8])}",
        "subtitle": " ".join(all_of()),
        "reference": t(vs[1]),
        "report_of": [t(v) for v in vs[1:3]],
        "contact": {"name": t(vs[0]), "role": t(vs[8]), "email": EMAIL, "phone": "0121 000 0000"},
        "wards": [t(v) for v in vs[5:9]],
        "sections": {
            "purpose": [t(v) for v in vs] + [f"Links: {link}" for link in MD_LINKS],
            "background": {
                "heading": " ".join(all_of()),
                "blocks": [
                    "A paragraph.",
                    {"subpoint": t(vs[0]), "text": " ".join(all_of())},
                    {"heading": " ".join(all_of())},
                    {"letters": [t(v) for v in vs] + [{"text": t(vs[2]), "blocks": [{"bullets": all_of()}]}]},
                    {"timeline": [{"when": t(v), "text": t(v)} for v in vs]},
                    {"table": {"header": [t(vs[0]), t(vs[8])], "caption": " ".join(all_of()),
                               "rows": [[t(v), t(v)] for v in vs]}},
                ],
            },
            "recommendations": [" ".join(all_of()), f"Also {MD_LINKS[0]}"],
        },
        "signatories": [{"name": t(v), "title": t(v)} for v in vs[:4]],
        "appendices": [{"title": " ".join(all_of()), "blocks": [{"text": " ".join(all_of())}]}],
    }
    return report, tags


def squash(text: str) -> str:
    """Compare as a reader would, ignoring line breaks and case (title lines are upper case)."""
    # Underscores go too: in Markdown fields "__init__" is bold "init", as officers expect.
    return "".join(text.split()).casefold().replace("_", "")


# --------------------------------------------------------------------------- independent PDF checks
def pdf_findings(pdf_bytes: bytes, secrets: list[bytes]) -> list[str]:
    """Return everything in a PDF that shows a vector got through (empty when safe)."""
    found = []
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        if len(pdf.attachments):
            found.append(f"attachments: {list(pdf.attachments)}")
        names = pdf.Root.get("/Names")
        if names is not None and "/EmbeddedFiles" in names:
            found.append("/EmbeddedFiles in the name tree")
        haystack = [pdf_bytes]
        for obj in _all_dictionaries(pdf):
            if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                keys = set(obj.keys())
                for bad in ("/JS", "/JavaScript", "/Launch", "/EmbeddedFile", "/EF"):
                    if bad in keys:
                        found.append(f"object with {bad}")
                if obj.get("/Subtype") == "/FileAttachment":
                    found.append("FileAttachment annotation")
                if obj.get("/Type") == "/EmbeddedFile":
                    found.append("EmbeddedFile stream")
                if obj.get("/S") in ("/JavaScript", "/Launch", "/ImportData", "/SubmitForm"):
                    found.append(f"action {obj.get('/S')}")
                uri = obj.get("/URI")
                if uri is not None and not str(uri).lower().startswith(("http://", "https://", "mailto:", "tel:")):
                    found.append(f"/URI {str(uri)!r}")
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream):
                try:
                    haystack.append(obj.read_bytes())
                except pikepdf.PdfError:
                    haystack.append(obj.read_raw_bytes())
        for page in pdf.pages:
            for annot in page.get("/Annots", []):
                if annot.get("/Subtype") == "/FileAttachment":
                    found.append("FileAttachment annotation on a page")
        blob = b"\n".join(haystack)
        found.extend(f"secret {s[:20]!r} in the PDF" for s in secrets if s in blob)
    return found


def _all_dictionaries(pdf: pikepdf.Pdf):
    """Yield every dictionary and stream, including direct ones nested inside others
    (a link's /A action is usually a direct dictionary inside its annotation)."""
    def walk(obj, top: bool):
        if not top and getattr(obj, "is_indirect", False):
            return  # visited as a top-level object
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            yield obj
            for key in obj.keys():
                yield from walk(obj[key], False)
        elif isinstance(obj, pikepdf.Array):
            for item in obj:
                yield from walk(item, False)
    for obj in pdf.objects:
        yield from walk(obj, True)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Iterator[dict]:
    """Render the hostile report to PDF and DOCX once, through the CLI, and keep what we need."""
    tmp = tmp_path_factory.mktemp("hostile")
    # Not the report's folder, not the theme's; no "-" in the path, which pdftotext would
    # take for a hyphen at a line end and drop.
    outside = Path(tempfile.mkdtemp(prefix="outside", dir="/tmp"))
    secret = outside / "secret.txt"
    token = f"SECRET-{uuid.uuid4().hex}"
    secret.write_text(token + "\n", encoding="utf-8")
    data, tags = hostile_report(secret)
    src = tmp / "hostile.json"
    src.write_text(json.dumps(data, indent=1), encoding="utf-8")
    out = tmp / "out"
    assert main(["render", str(src), "-o", str(out), "--html", "--quiet"]) == 0
    yield {"src": src, "secret": secret, "token": token.encode(), "tags": tags, "out": out,
            "pdf": out / "hostile.pdf", "docx": out / "hostile.docx", "html": out / "hostile.html"}
    shutil.rmtree(outside)


def secrets_of(h: dict) -> list[bytes]:
    return [h["token"], PASSWD_FIRST_LINE]


def test_every_vector_shows_as_literal_text_in_the_pdf(hostile):
    text = squash(pdftotext(hostile["pdf"]))
    missing = [tag for tag in hostile["tags"] if squash(tag) not in text]
    assert missing == []
    assert squash(EMAIL) in text
    for shown in ("jslink", "filelink", "datalink"):  # as plain text (Markdown declined the link)
        assert squash(shown) in text


def test_jinja_looking_text_is_never_evaluated(hostile):
    text = pdftotext(hostile["pdf"])
    assert "{{ 7*7 }}" in text and "{% raw %}" in text
    assert "49" not in text
    assert "<function" not in text and "__builtins__" not in text


def test_pdf_has_no_attachment_script_file_link_or_leaked_file(hostile):
    assert pdf_findings(hostile["pdf"].read_bytes(), secrets_of(hostile)) == []


def test_the_html_intermediate_escapes_every_vector(hostile):
    html = hostile["html"].read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    body = html.split("<body", 1)[1]
    for raw in ("<script", "<b>", "<img src=\"file:", "<link", "<style", "style=\"background"):
        assert raw not in body, raw
    assert not re.search(r'(href|src)="(?!#|https?:|mailto:|tel:)', body)


def docx_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def docx_text(parts: dict[str, bytes]) -> str:
    """Return the text Word shows (w:t runs, paragraph by paragraph) of the body, header and footers."""
    out = []
    for name, data in parts.items():
        if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", name):
            for para in ElementTree.fromstring(data).iter(f"{W}p"):
                out.append("".join(t.text or "" for t in para.iter(f"{W}t")))
    return "\n".join(out)


def test_docx_shows_every_vector_as_text_and_holds_nothing_else(hostile):
    parts = docx_parts(hostile["docx"])
    text = squash(docx_text(parts))
    missing = [tag for tag in hostile["tags"] if squash(tag) not in text]
    assert missing == []
    assert squash(EMAIL) in text and squash("jslink") in text
    assert "49" not in docx_text(parts)
    # No embedded objects, no altChunk (raw HTML import), no external targets but web/mail links.
    assert not [n for n in parts if n.startswith(("word/embeddings", "word/activeX")) or n.endswith((".bin", ".html"))]
    for name, data in parts.items():
        assert b"altChunk" not in data and b"attachedTemplate" not in data, name
        for secret in secrets_of(hostile):
            assert secret not in data, name
        if name.endswith(".rels"):
            for rel in ElementTree.fromstring(data).iter(f"{REL}Relationship"):
                if rel.get("TargetMode") == "External":
                    assert rel.get("Target", "").lower().startswith(("http://", "https://", "mailto:", "tel:")), rel.attrib


# --------------------------------------------------------------------------- controls
@pytest.fixture(scope="module")
def hostile_doc(hostile):
    report = load_report(hostile["src"])
    theme = Theme()
    return report, theme, build(report, theme)


def test_control_without_escaping_or_fetcher_the_checks_fail(hostile, hostile_doc, monkeypatch):
    """Turn off HTML escaping and use WeasyPrint's default fetcher: the same checks now fire."""
    from weasyprint.urls import URLFetcher

    import cabinet_reports.attachments as attachments
    import cabinet_reports.fetcher as fetcher
    report, _, _ = hostile_doc
    theme = Theme()
    theme.env.autoescape = False  # the protection under test, removed
    monkeypatch.setattr(fetcher, "make_url_fetcher", lambda roots: URLFetcher(fail_on_errors=False))
    monkeypatch.setattr(attachments, "attachment_links", lambda html: [])  # the theme door's refusal, removed too
    doc = build(report, theme)
    html = render_html(doc, theme, render_options(report))
    assert "&lt;script&gt;" not in html and "<script>alert(1)</script>" in html
    pdf = render_pdf(doc, theme, render_options(report))
    findings = pdf_findings(pdf, secrets_of(hostile))
    assert any("attachments" in f for f in findings), findings
    assert any("SECRET" in f for f in findings), findings
    tmp = hostile["out"] / "control.pdf"
    tmp.write_bytes(pdf)
    assert squash("<script>alert(1)</script>") not in squash(pdftotext(tmp))
    tmp.unlink()


def test_control_escaping_alone_keeps_text_as_text(hostile, hostile_doc, monkeypatch):
    """With only the fetcher removed, escaping still keeps every vector as visible text."""
    from weasyprint.urls import URLFetcher

    import cabinet_reports.fetcher as fetcher
    report, theme, doc = hostile_doc
    monkeypatch.setattr(fetcher, "make_url_fetcher", lambda roots: URLFetcher(fail_on_errors=False))
    pdf = render_pdf(doc, theme, render_options(report))
    assert pdf_findings(pdf, secrets_of(hostile)) == []


def test_control_link_scheme_filter_matters(hostile, monkeypatch):
    """Allow every scheme in Markdown links: javascript: and file: URIs appear in the PDF.

    Two layers decline them: markdown-it's own link validation and our scheme allow-list;
    both are removed here.
    """
    monkeypatch.setattr(inline, "SAFE_SCHEMES", inline.SAFE_SCHEMES + ("javascript:", "file:", "data:"))
    monkeypatch.setattr(inline._md, "validateLink", lambda url: True)
    report = load_report(hostile["src"])
    theme = Theme()
    doc = build(report, theme)
    # WeasyPrint itself drops javascript: links from the PDF, but the HTML intermediate (a
    # future web output) would carry it.
    assert 'href="javascript:alert(1)"' in render_html(doc, theme, render_options(report))
    findings = pdf_findings(render_pdf(doc, theme, render_options(report)), [])
    assert any("file:///etc/passwd" in f for f in findings), findings


def test_control_text_templates_would_evaluate_it(hostile_doc):
    """Theme text templates do evaluate {{ 7*7 }}: report values must never become template source."""
    _, theme, _ = hostile_doc
    assert theme.text("{{ 7*7 }}", {}) == "49"
    assert theme.text("{{ title }}", {"title": "{{ 7*7 }}"}) == "{{ 7*7 }}"


def test_a_long_title_renders_to_docx():
    from cabinet_reports.api import render_bytes, report_from_data

    report = report_from_data({
        "council": {"name": "Test Borough Council"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"},
        "title": "A very long title " * 20, "sections": {"purpose": ["To test."], "recommendations": ["R."]}})
    data = render_bytes(report, "docx")
    import io

    import docx
    props = docx.Document(io.BytesIO(data)).core_properties
    # The property is shortened to the OOXML limit; the body keeps the whole title.
    assert len(props.title) <= 255 and props.title.endswith("…")
    assert props.title.startswith("A very long title A very long title")
