"""Every DOCX we write passes openxml-audit (the Open XML SDK's validation, in Python) with no finding.

The audit checks the package, the schema of every part (element order, attributes, values) and
the SDK's semantic rules, for Microsoft 365, with its security checks on. The one warning it
gives by design, "External relationship target", is allowed for hyperlink relationships to
http(s) addresses: they are the report's own web links, and a report must be able to link.
Anything else, error or warning, fails. Under CI=true a missing openxml-audit fails the test.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/report.yaml"))
THEMES = sorted(f"theme-{p.name}" for p in (ROOT / "examples" / "themes").iterdir() if (p / "report.yaml").is_file())
HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


@pytest.fixture(scope="session")
def auditor():
    """Return openxml-audit's validator: Microsoft 365, every error reported, security checks on."""
    try:
        from openxml_audit import FileFormat, OpenXmlValidator
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("openxml-audit is not installed; pip install -e '.[test]'")
        pytest.skip("openxml-audit is not installed")
    return OpenXmlValidator(file_format=FileFormat.MICROSOFT_365, max_errors=0, security_validation=True)


def web_links(path: Path, rels_part: str) -> set[str]:
    """Return the ids of a relationships part's external hyperlinks to http(s) addresses."""
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read(rels_part.lstrip("/")))
    return {r.get("Id") for r in root.iter(RELS)
            if r.get("Type") == HYPERLINK and r.get("TargetMode") == "External"
            and r.get("Target", "").startswith(("https://", "http://"))}


def findings(auditor, path: Path) -> list[str]:
    """Return openxml-audit's findings for one file, as lines, without the allowed web links."""
    out = []
    for error in auditor.validate(path).errors:
        if error.id == "Sec_ExternalRelationship" and error.related_node in web_links(path, error.part_uri):
            continue
        out.append(f"{path.name}: {error.severity.value}: {error.part_uri} {error.path}: {error.description}")
    return out


def documents(every_docx: dict[str, Path], name: str) -> list[Path]:
    """Return the DOCX files one test id stands for (the pack's items: every public or Part B one)."""
    if name == "pack-items":
        chosen = [p for n, p in every_docx.items() if n.startswith("pack-") and n != "pack-agenda"
                  and not n.startswith("pack-part-b-")]
    elif name == "pack-items-part-b":
        chosen = [p for n, p in every_docx.items() if n.startswith("pack-part-b-")]
    else:
        chosen = [every_docx[name]]
    assert chosen, name
    return chosen


@pytest.mark.parametrize("name", [*EXAMPLES, *THEMES, "exempt", "pack-agenda", "pack-items", "pack-items-part-b"])
def test_openxml_audit_finds_nothing(auditor, every_docx, name):
    found = [line for path in documents(every_docx, name) for line in findings(auditor, path)]
    assert found == []


def test_every_docx_written_is_audited(every_docx):
    """The ids above cover every file the fixture wrote (a new kind of DOCX must be added there)."""
    covered = {p for name in [*EXAMPLES, *THEMES, "exempt", "pack-agenda", "pack-items", "pack-items-part-b"]
               for p in documents(every_docx, name)}
    assert covered == set(every_docx.values())


def test_the_audit_sees_a_misordered_table_property(auditor, every_docx, tmp_path):
    """The check can fail: our kind of mistake (a child out of schema order) is a finding."""
    source = every_docx["dudley-2005-partnership-strategy"]
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(broken, "w") as out:
        for entry in z.namelist():
            data = z.read(entry)
            if entry == "word/document.xml":
                text = data.decode()
                assert '<w:tblLayout w:type="fixed"/>' in text
                text = text.replace('<w:tblLayout w:type="fixed"/>', "", 1)
                data = text.replace("<w:tblPr>", '<w:tblPr><w:tblLayout w:type="fixed"/>', 1).encode()
            out.writestr(entry, data)
    assert any("Unexpected element" in line for line in findings(auditor, broken))
