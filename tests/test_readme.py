"""The README's examples are run, so the documentation cannot drift from the code."""

from __future__ import annotations

from pathlib import Path

from cabinet_reports.cli import main
from readers import normalise, pdftotext

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def snippet(after: str) -> str:
    """Return the first fenced yaml block after the heading or marker ``after``."""
    return README.split(after, 1)[1].split("```yaml", 1)[1].split("```", 1)[0]


def test_report_snippet_renders_with_its_cross_references(tmp_path):
    (tmp_path / "snippet.yaml").write_text(snippet("## Writing a report"), encoding="utf-8")
    assert main(["render", str(tmp_path / "snippet.yaml"), "-o", str(tmp_path), "--quiet"]) == 0
    text = normalise(pdftotext(tmp_path / "snippet.pdf"))
    assert "Approve the draft Partnership Strategy in Appendix 1." in text
    assert "That the Executive endorse the proposals in 3.0." in text


def test_theme_snippet_changes_headings_and_numbering(tmp_path):
    (tmp_path / "snippet.yaml").write_text(snippet("## Writing a report"), encoding="utf-8")
    theme = tmp_path / "my-theme"
    theme.mkdir()
    (theme / "theme.yaml").write_text(README.split("# my-theme/theme.yaml", 1)[1].split("```", 1)[0], encoding="utf-8")
    assert main(["render", str(tmp_path / "snippet.yaml"), "-o", str(tmp_path), "--theme", str(theme),
                 "--format", "pdf", "--quiet"]) == 0
    text = normalise(pdftotext(tmp_path / "snippet.pdf"))
    assert "1. Purpose of report" in text and "2. Recommendations" in text
    assert "That the Executive endorse the proposals in 4." in text  # "4.", not "4.."
