"""Property: no exempt content reaches a public output, whatever the meeting (issue 12).

Hypothesis draws small meetings — one to four items, each procedural, a report or an attached
PDF, public or Part B (a report through its own classification or through ``exempt:`` on the
item) — and puts a unique marker word in every field of every item that a public output must
not show. Each meeting is built, then its classifications are flipped and it is rebuilt into
the same folder (so stale files of the first build are tested too). After each build no
marker of a then-exempt item may appear in any public output: its text (pdftotext), any
string or decompressed stream in the PDF (bookmarks, metadata, XMP, structure, attachments),
any part of a DOCX, the web agenda and item pages (markup and text), or any file name in the
output folder. The full pack must show the markers, and each public report's web page its own:
a check that the markers are visible at all.
"""

from __future__ import annotations

import html
import io
import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import pikepdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cabinet_reports.pack import build_pack
from readers import pdftotext

HEAD = ("council: Test Borough Council\nbody: Cabinet\ndate: 2026-01-14\ntime: \"10.00 am\"\n"
        "venue: Town Hall\ncontact: {name: Democratic Services}\nitems:\n")


@dataclass(frozen=True)
class Item:
    key: int  # identity across both builds (its files and markers)
    kind: str  # "text", "report" or "pdf"
    part_b: bool
    via_item: bool  # a Part B report: exempt through the item's `exempt:`, not its own classification


def marker(item: Item, field: str) -> str:
    """A word that appears nowhere else: letters only, so no renderer splits or changes it."""
    return f"Zq{'abcdefgh'[item.key]}{field}x"


REPORT_FIELDS = ["title", "subtitle", "reportof", "contact", "ward", "plan", "purpose", "background", "cell",
                 "recs", "signer", "appendix", "reason"]
PDF_FIELDS = ["page", "info", "xmp", "attachment", "outline", "script"]
ITEM_FIELDS = ["itemtitle", "itemtext"]


def report_yaml(item: Item, exempt: bool) -> str:
    m = {f: marker(item, f) for f in REPORT_FIELDS}
    classification = (f"{{status: exempt, paragraphs: [3], reason: {m['reason']} matters}}" if exempt
                      else "public")
    return f"""council: {{name: Test Borough Council}}
meeting: {{body: Cabinet, date: 2026-01-14}}
title: {m['title']} report
subtitle: {m['subtitle']} subtitle
report_of: the {m['reportof']} Officer
contact: {{name: {m['contact']} Person, email: a@example.org}}
wards: [{m['ward']} ward]
key_decision: {{key: true, forward_plan: {m['plan']}}}
classification: {classification}
sections:
  purpose: [To decide on {m['purpose']}.]
  background:
    - The {m['background']} case.
    - table:
        header: [Bidder, Amount]
        rows: [["{m['cell']}", "100"]]
  recommendations: [That Cabinet agrees {m['recs']}.]
signatories: [{{name: {m['signer']} Signer}}]
appendices:
  - title: {m['appendix']} appendix
    blocks: [Appendix text.]
"""


def attached_pdf(item: Item) -> bytes:
    import weasyprint

    m = {f: marker(item, f) for f in PDF_FIELDS}
    pdf = pikepdf.open(io.BytesIO(weasyprint.HTML(string=f"<p>Study of {m['page']} options.</p>").write_pdf()))
    pdf.docinfo["/Title"] = f"{m['info']} study"
    pdf.docinfo["/Author"] = f"{m['info']} author"
    with pdf.open_metadata() as meta:
        meta["dc:description"] = f"{m['xmp']} description"
    pdf.attachments[f"{m['attachment']}.txt"] = pikepdf.AttachedFileSpec(pdf, f"{m['attachment']} data".encode())
    with pdf.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem(f"{m['outline']} section", 0))
    pdf.Root.OpenAction = pdf.make_indirect(pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String(f"app.alert('{m['script']}')")))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def write_meeting(folder: Path, items: list[Item], build: int) -> Path:
    lines = []
    for it in sorted(items, key=lambda i: i.part_b):  # Part B items come last
        title = f"{marker(it, 'itemtitle')} item"
        exempt_here = it.part_b and (it.kind != "report" or it.via_item)
        extra = ""
        if it.part_b:
            extra += f"    public_title: Public matter {it.key}\n"
            if it.kind != "text":
                extra += "    public_report_of: the Director of Resources\n"
        if exempt_here:
            extra += "    exempt: 3\n"
        text = f"    text: About {marker(it, 'itemtext')}.\n"
        if it.kind == "text":
            lines.append(f"  - title: {title}\n{text}{extra}")
        elif it.kind == "pdf":
            (folder / f"study{it.key}.pdf").write_bytes(attached_pdf(it))
            lines.append(f"  - title: {title}\n    pdf: study{it.key}.pdf\n"
                         f"    report_of: the {marker(it, 'reportof')} Officer\n{text}{extra}")
        else:
            (folder / f"report{it.key}.yaml").write_text(
                report_yaml(it, exempt=it.part_b and not it.via_item), encoding="utf-8")
            lines.append(f"  - report: report{it.key}.yaml\n    title: {title}\n{text}{extra}")
    path = folder / f"meeting{build}.yaml"
    path.write_text(HEAD + "".join(lines), encoding="utf-8")
    return path


def all_markers(item: Item) -> list[str]:
    fields = ITEM_FIELDS + (REPORT_FIELDS if item.kind == "report" else [])
    fields += (PDF_FIELDS + ["reportof"]) if item.kind == "pdf" else []
    return [marker(item, f) for f in fields]


def pdf_strings(path: Path) -> str:
    """Return every string and every decoded stream of a PDF, as text to search."""
    found: list[str] = []
    with pikepdf.open(path) as pdf:
        seen: set[tuple[int, int]] = set()

        def walk(obj) -> None:
            if isinstance(obj, pikepdf.String):
                found.append(str(obj))
            elif isinstance(obj, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)):
                if obj.is_indirect:
                    if obj.objgen in seen:
                        return
                    seen.add(obj.objgen)
                if isinstance(obj, pikepdf.Stream):
                    try:
                        found.append(obj.read_bytes().decode("latin-1"))
                    except pikepdf.PdfError:  # an image codec qpdf cannot decode: search it raw
                        found.append(obj.read_raw_bytes().decode("latin-1"))
                children = obj.values() if not isinstance(obj, pikepdf.Array) else list(obj)
                for child in children:
                    walk(child)
        walk(pdf.trailer)
        for obj in pdf.objects:
            walk(obj)
        found.extend(str(v) for v in pdf.docinfo.values())
        for name, spec in pdf.attachments.items():
            found.append(name)
            found.append(spec.get_file().read_bytes().decode("latin-1"))
    text = "\n".join(found)
    # UTF-16 strings (bookmarks, metadata) read back as text above; streams may hold UTF-16 too.
    return text + "\n" + text.replace("\x00", "")


def public_outputs(out: Path) -> list[Path]:
    files = [out / "agenda.pdf", out / "agenda.docx", out / "agenda.html", out / "public-pack.pdf"]
    files += [p for p in (out / "items").iterdir() if p.is_file()] if (out / "items").is_dir() else []
    return files


def assert_no_leak(out: Path, items: list[Item]) -> None:
    secrets = [m.lower() for it in items if it.part_b for m in all_markers(it)]
    names = "\n".join(p.relative_to(out).as_posix() for p in out.rglob("*")).lower()
    manifest = (out / ".make-report-manifest.json").read_text(encoding="utf-8").lower()
    for secret in secrets:
        assert secret not in names and secret not in manifest, secret
    for path in public_outputs(out):
        if path.suffix == ".pdf":
            haystacks = [pdftotext(path), pdf_strings(path)]
        elif path.suffix == ".html":
            raw = path.read_text(encoding="utf-8")
            haystacks = [raw, html.unescape(raw)]
        else:
            with zipfile.ZipFile(path) as z:
                haystacks = [z.read(name).decode("utf-8", "replace") for name in z.namelist()]
        for hay in haystacks:
            hay = hay.lower()
            for secret in secrets:
                assert secret not in hay, (path.name, secret)
    # No web page of a Part B item, anywhere; every public report has one, showing its markers.
    assert not (out / ".cache").exists()  # the cache (it holds Part B renders) is kept elsewhere
    pages = {p.relative_to(out).as_posix() for p in out.rglob("*.html")}
    reports = [it for it in items if it.kind == "report" and not it.part_b]
    assert len(pages) == 1 + len(reports) and all(p == "agenda.html" or p.startswith("items/") for p in pages)
    assert not any(p.startswith("items/part-b/") for p in pages)
    shown = "\n".join((out / p).read_text(encoding="utf-8") for p in pages).lower()
    for it in reports:
        assert marker(it, "purpose").lower() in shown, it
    full = pdftotext(out / "full-pack.pdf").lower()
    for it in items:
        if it.part_b:  # the markers are real: the full pack shows them
            shown = marker(it, {"text": "itemtitle", "report": "purpose", "pdf": "page"}[it.kind]).lower()
            assert shown in full, shown


items_strategy = st.lists(
    st.tuples(st.sampled_from(["text", "report", "pdf"]), st.booleans(), st.booleans()), min_size=1, max_size=4,
).map(lambda drawn: [Item(n, kind, part_b, via) for n, (kind, part_b, via) in enumerate(drawn)])


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(items=items_strategy)
def test_no_marker_of_an_exempt_item_reaches_a_public_output(items):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        out = folder / "out"
        for build, current in enumerate([items, [replace(it, part_b=not it.part_b) for it in items]]):
            build_pack(write_meeting(folder, current, build), out, jobs=1)
            assert_no_leak(out, current)
