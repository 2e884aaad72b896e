"""`make-report new`: a starter that holds every theme section, with guidance, and passes `check`."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cabinet_reports import load_report
from cabinet_reports.cli import main
from cabinet_reports.starter import markdown_starter, write_starter, yaml_starter
from cabinet_reports.theme import Theme

THEME = Theme()
KEYS = [s.key for s in THEME.config.sections]


@pytest.mark.parametrize("kind", ["report", "note"])
@pytest.mark.parametrize("suffix", [".md", ".yaml"])
def test_new_writes_every_theme_section_in_order_and_check_passes(tmp_path, capsys, kind, suffix):
    path = tmp_path / f"draft{suffix}"
    assert main(["new", str(path), "--kind", kind]) == 0
    assert main(["check", str(path)]) == 0
    assert f"{path}: ok" in capsys.readouterr().out
    report = load_report(path)
    assert report.kind == kind
    assert list(report.sections) == KEYS
    text = path.read_text(encoding="utf-8")
    # guidance from the theme, in the council template's words, as comments (wrapped)
    unwrapped = re.sub(r"\s*\n\s*#?\s*", " ", text)
    assert "Set out at least three options, including do nothing" in unwrapped
    assert text.count("[Insert") >= len(KEYS)
    mandatory = text.count("Mandatory." if suffix == ".md" else "(mandatory)")
    assert mandatory == (2 if kind == "report" else 0)  # purpose and recommendations, reports only


def test_markdown_starter_marks_the_mandatory_sections_where_they_are():
    text = markdown_starter(THEME, "report", dt.date(2026, 1, 14))
    purpose = text.split("# Purpose\n", 1)[1].split("\n# ", 1)[0]
    summary = text.split("# Summary\n", 1)[1].split("\n# ", 1)[0]
    assert "<!-- Mandatory." in purpose and "Mandatory" not in summary
    assert "date: 2026-01-14" in text


def test_yaml_starter_puts_the_guidance_comment_above_its_section():
    lines = yaml_starter(THEME, "report", dt.date(2026, 1, 14)).splitlines()
    at = lines.index("  options:")
    comment = " ".join(line.strip("# ") for line in lines[at - 3:at] if line.strip().startswith("#"))
    assert "OPTIONS CONSIDERED" in comment and "including do nothing" in comment


def test_new_refuses_to_overwrite_a_file(tmp_path):
    path = tmp_path / "report.md"
    path.write_text("my work\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "cabinet_reports", "new", str(path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"make-report: error: {path}: already exists: make-report new never overwrites a file; choose another name"]
    assert path.read_text(encoding="utf-8") == "my work\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


@pytest.mark.parametrize("args, message", [
    (["draft.txt"], "draft.txt: give the file a .md or .yaml suffix, or choose --format md or yaml"),
    (["draft.md", "--format", "yaml"], "draft.md: the file name ends in .md but --format is yaml"),
])
def test_new_needs_a_format_it_can_tell(tmp_path, capsys, args, message):
    assert main(["new", *(str(tmp_path / a) if a.startswith("draft") else a for a in args)]) == 2
    assert capsys.readouterr().err.strip() == f"make-report: error: {tmp_path}/{message}"
    assert list(tmp_path.iterdir()) == []


def test_format_option_names_a_file_without_suffix(tmp_path):
    assert main(["new", str(tmp_path / "draft"), "--format", "yaml"]) == 0
    assert (tmp_path / "draft").read_text(encoding="utf-8").count("sections:") == 1


def test_new_follows_a_council_theme_and_names_keys_a_title_cannot_find(tmp_path):
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "theme.yaml").write_text(
        "sections:\n"
        "  - {key: purpose, title: Purpose of report, required: true, guidance: \"One sentence.\"}\n"
        "  - {key: implications, title: Implications}\n"
        "  - {key: legal, title: Implications}\n"          # same title: the key must be written
        "  - {key: recommendations, title: Recommendations, required: true}\n", encoding="utf-8")
    path = tmp_path / "draft.md"
    assert main(["new", str(path), "--theme", str(theme)]) == 0
    text = path.read_text(encoding="utf-8")
    assert "# Purpose of report\n" in text and "One sentence." in text
    assert "# Implications\n" in text and "# Implications {#legal}\n" in text
    assert main(["check", str(path), "--theme", str(theme)]) == 0
    assert list(load_report(path, theme).sections) == ["purpose", "implications", "legal", "recommendations"]


def test_a_starter_that_would_not_pass_check_is_not_written(tmp_path, capsys):
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "theme.yaml").write_text("sections:\n  - {key: Bad-Key, title: Odd}\n", encoding="utf-8")
    assert main(["new", str(tmp_path / "draft.yaml"), "--theme", str(theme)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"make-report: error: {tmp_path / 'draft.yaml'}:") and "sections.Bad-Key" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["theme"]


def test_write_starter_creates_missing_folders(tmp_path):
    path = write_starter(tmp_path / "reports" / "2026" / "budget.md", today=dt.date(2026, 1, 14))
    assert path.is_file() and load_report(path).meeting.date == dt.date(2026, 1, 14)
    assert [p.name for p in path.parent.iterdir()] == ["budget.md"]  # no temporary file left behind
