"""A pack claims PDF/UA only when every part is really tagged, not because a part says so (issue 9, defect 7).

The claim (``pdfuaid:part`` in the XMP) is read back with pypdf, not with the pikepdf code that
wrote it; the attachments are generated here: an untagged WeasyPrint PDF given a PDF/UA claim in
its metadata, and tagged PDFs with one defect each.
"""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pypdf
import pytest
import weasyprint

from cabinet_reports.pdfmerge import MergePart, conforms_to_pdf_ua, is_tagged, merge_pdfs
from pack_inputs import HEAD, run_cli

PDFUAID = "http://www.aiim.org/pdfua/ns/id/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
HTML = "<!doctype html><html lang='en-GB'><head><title>Minutes</title></head><body><h1>Minutes</h1><p>Agreed.</p></body></html>"


def claimed_by_xmp(pdf: bytes | Path) -> bool:
    """Return whether the PDF's XMP says pdfuaid:part 1 (read by pypdf)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)
    xmp = reader.xmp_metadata
    if xmp is None:
        return False
    root = xmp.rdf_root
    values = [e.firstChild.data.strip() for e in root.getElementsByTagNameNS(PDFUAID, "part") if e.firstChild]
    values += [d.getAttributeNS(PDFUAID, "part") for d in root.getElementsByTagNameNS(RDF, "Description")
               if d.hasAttributeNS(PDFUAID, "part")]
    return "1" in values


def untagged_claiming_pdf() -> bytes:
    """An untagged PDF whose metadata nevertheless claims PDF/UA-1."""
    pdf = pikepdf.open(io.BytesIO(weasyprint.HTML(string=HTML).write_pdf()))
    assert "/StructTreeRoot" not in pdf.Root
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["pdfuaid:part"] = "1"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def tagged_pdf(change=None) -> bytes:
    pdf = pikepdf.open(io.BytesIO(weasyprint.HTML(string=HTML).write_pdf(pdf_variant="pdf/ua-1")))
    if change:
        change(pdf)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _open(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data))


def test_the_generated_attachment_claims_pdf_ua_without_tags():
    data = untagged_claiming_pdf()
    assert claimed_by_xmp(data)
    assert not is_tagged(_open(data)) and not conforms_to_pdf_ua(_open(data))


def _unmarked_drawing(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].contents_add(b"0 0 m 100 100 l S\n")  # a line drawn outside any marked content


def _no_mark_info(pdf: pikepdf.Pdf) -> None:
    del pdf.Root.MarkInfo


def _empty_structure(pdf: pikepdf.Pdf) -> None:
    pdf.Root.StructTreeRoot.K = pikepdf.Array()


def _optional_content_drawing(pdf: pikepdf.Pdf) -> None:
    # Marked content, but not tagged: an optional-content group or an untagged /Span without an MCID.
    pdf.pages[0].contents_add(b"/OC /oc1 BDC 0 0 m 100 100 l S EMC /Span BMC 0 0 m 50 50 l S EMC\n")


def _unclosed_sequence(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].contents_add(b"/Artifact BMC 0 0 m 100 100 l S\n")  # never closed by EMC


@pytest.mark.parametrize("change", [_unmarked_drawing, _no_mark_info, _empty_structure, _optional_content_drawing,
                                    _unclosed_sequence])
def test_a_tagged_pdf_with_a_gap_does_not_conform(change):
    assert conforms_to_pdf_ua(_open(tagged_pdf()))  # the same file, whole, does
    broken = tagged_pdf(change)
    assert claimed_by_xmp(broken) and not conforms_to_pdf_ua(_open(broken))


def test_drawing_inside_an_artifact_is_marked():
    def artifact(pdf: pikepdf.Pdf) -> None:
        pdf.pages[0].contents_add(b"/Artifact BMC 0 0 m 100 100 l S EMC\n")
    assert conforms_to_pdf_ua(_open(tagged_pdf(artifact)))


def test_a_merge_with_an_untagged_claiming_part_claims_nothing():
    tagged = tagged_pdf()
    assert claimed_by_xmp(merge_pdfs([MergePart(tagged, "A"), MergePart(tagged, "B")], title="T"))
    merged = merge_pdfs([MergePart(tagged, "A"), MergePart(untagged_claiming_pdf(), "Minutes")], title="T")
    assert not claimed_by_xmp(merged)


@pytest.mark.parametrize("attachment, claims", [(untagged_claiming_pdf, False), (tagged_pdf, True)])
def test_a_pack_claims_pdf_ua_only_when_its_attachment_is_tagged(tmp_path, attachment, claims):
    (tmp_path / "minutes.pdf").write_bytes(attachment())
    (tmp_path / "m.yaml").write_text(HEAD + "  - title: Apologies\n  - title: Minutes\n    pdf: minutes.pdf\n",
                                     encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run_cli("pack", str(tmp_path / "m.yaml"), "-o", str(out), "--quiet", "--no-cache")
    assert code == 0, err
    assert claimed_by_xmp(out / "agenda.pdf")  # our own agenda is tagged either way
    for name in ("public-pack.pdf", "full-pack.pdf", "items/02-minutes.pdf"):
        assert claimed_by_xmp(out / name) is claims, name
