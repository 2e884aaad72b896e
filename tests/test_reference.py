"""docs/reference.md names every report field, section key, theme key and template variable."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from cabinet_reports import Theme, build, models, report_from_data, theme as theme_module
from cabinet_reports.document import _Builder

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
FENCES = re.compile(r"^```.*?^```", re.S | re.M)
# Names count when they are code: `spans` outside fenced blocks, and keys inside them.
CODE_WORDS = set(re.findall(r"`([^`]+)`", FENCES.sub("", REFERENCE)))
CODE_WORDS |= {m for block in FENCES.findall(REFERENCE) for m in re.findall(r"([a-z_]+):", block)}
NAMED = {w for phrase in CODE_WORDS for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", phrase)}


def _input_models() -> set[type[BaseModel]]:
    found = {models.Report}
    todo = [models.Report]
    while todo:
        cls = todo.pop()
        for sub in vars(models).values():
            if isinstance(sub, type) and issubclass(sub, models.Model) and sub is not models.Model and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_report_model_field_is_documented():
    missing = sorted(f"{cls.__name__}.{name}" for cls in _input_models() for name in cls.model_fields
                     if name not in NAMED)
    assert not missing


def test_every_theme_key_is_documented():
    classes = [theme_module.ThemeConfig, theme_module.SectionSpec, theme_module.KindSpec, theme_module.Numbering,
               theme_module.CoverField, theme_module.DetailRows, theme_module.ClearanceSettings,
               theme_module.RequiredClearance]
    missing = sorted(f"{cls.__name__}.{name}" for cls in classes for name in cls.model_fields if name not in NAMED)
    assert not missing
    words = [w for w in Theme().config.words if not w.startswith(("agenda_", "notice_", "pack_"))]
    assert [w for w in words if w not in NAMED] == []


def test_every_built_in_section_key_is_documented():
    assert [s.key for s in Theme().config.sections if f"`{s.key}`" not in REFERENCE] == []


def test_every_title_context_variable_is_documented():
    report = report_from_data({"council": {"name": "C"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"},
                               "title": "T", "sections": {"purpose": ["P."], "recommendations": ["R."]}})
    context = _Builder(report, Theme()).title_context({})
    assert [k for k in context if k not in NAMED] == []
    doc = build(report)
    assert [k for k in vars(doc) if k not in NAMED] == []


def test_the_readme_links_the_reference():
    assert "docs/reference.md" in (ROOT / "README.md").read_text(encoding="utf-8")
