"""`make-report schema`: the JSON Schema accepts every example and rejects the corpus's shape errors.

The schema is checked with an independent validator (jsonschema) on data read the way an
editor's YAML language server reads it: dates are strings (YAML 1.2).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cabinet_reports.cli import main
from cabinet_reports.loader import parse_text, read_text
from cabinet_reports.readers import read_markdown
from cabinet_reports.schema import DESCRIPTIONS, meeting_schema, report_schema
from cabinet_reports.starter import markdown_starter, yaml_starter
from cabinet_reports.theme import Theme

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "bad_inputs"
THEME = Theme()
Validator = jsonschema.Draft202012Validator


def as_editor_sees(data: Any) -> Any:
    """Return data as JSON values: a YAML 1.2 editor reads 2005-03-16 as a string."""
    if isinstance(data, dict):
        return {k: as_editor_sees(v) for k, v in data.items()}
    if isinstance(data, list):
        return [as_editor_sees(v) for v in data]
    return data.isoformat() if isinstance(data, dt.date) else data


def load(path: Path) -> Any:
    data, _ = parse_text(read_text(path), str(path), json_syntax=path.suffix == ".json")
    return as_editor_sees(data)


def validator(schema: dict[str, Any]) -> jsonschema.Validator:
    Validator.check_schema(schema)
    return Validator(schema, format_checker=Validator.FORMAT_CHECKER)


REPORTS = validator(report_schema(THEME))
PLAIN_REPORTS = validator(report_schema())
MEETINGS = validator(meeting_schema())

EXAMPLE_REPORTS = sorted(p for p in (ROOT / "examples").glob("*/*.yaml") if p.name != "meeting.yaml")
# The corpus's meeting files with shape errors, which the schema must reject; the others are well formed.
MEETING_SHAPE_ERRORS = ["meeting_shape_errors.yaml"]
EXAMPLE_MEETINGS = sorted((ROOT / "examples").glob("*/meeting.yaml")) + sorted(
    p for p in CORPUS.glob("meeting_*.yaml") if p.name not in MEETING_SHAPE_ERRORS)

# The corpus's pure shape errors: a wrong type, an unknown or missing key, a pattern, a length.
SHAPE_ERRORS = [
    "bad_email.yaml", "bad_label_pattern.yaml", "block_without_kind.yaml", "date_month_13.yaml",
    "date_next_tuesday.yaml", "huge_title.yaml", "json_top_level_string.json", "json_unknown_key.json",
    "json_wrong_type.json", "label_on_plain_text.yaml", "missing_council_name.yaml", "missing_title.yaml",
    "several_problems.yaml", "text_too_long_in_table_cell.yaml", "too_many_items.yaml", "top_level_list.yaml",
    "unknown_key_lable.yaml", "unknown_key_meeting_dat.yaml", "unknown_key_titel.yaml",
    "wrong_type_key_decision.yaml", "wrong_type_sections_number.yaml", "wrong_type_title_list.yaml",
]
# Mandatory sections are in the schema only when it is made for a theme.
THEME_ERRORS = ["missing_purpose.yaml", "missing_recommendations.yaml"]


@pytest.mark.parametrize("path", EXAMPLE_REPORTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_schema_accepts_every_example_report(path):
    for schema in (REPORTS, PLAIN_REPORTS):
        assert [e.message for e in schema.iter_errors(load(path))] == []


@pytest.mark.parametrize("path", EXAMPLE_MEETINGS, ids=lambda p: p.name)
def test_schema_accepts_every_example_meeting(path):
    assert [e.message for e in MEETINGS.iter_errors(load(path))] == []


@pytest.mark.parametrize("example", ["dudley-2005-partnership-strategy", "salford-2003-progress-note"])
def test_schema_accepts_what_the_markdown_reader_gives(example):
    data, _ = read_markdown(ROOT / "examples" / example / "report.md", THEME)
    assert [e.message for e in REPORTS.iter_errors(as_editor_sees(data))] == []


@pytest.mark.parametrize("kind", ["report", "note"])
def test_schema_accepts_the_yaml_starter(kind):
    import yaml

    data = yaml.safe_load(yaml_starter(THEME, kind, dt.date(2026, 1, 14)))
    assert [e.message for e in REPORTS.iter_errors(as_editor_sees(data))] == []
    assert markdown_starter(THEME, kind).startswith("---\n")


@pytest.mark.parametrize("name", SHAPE_ERRORS + THEME_ERRORS)
def test_schema_rejects_the_corpus_shape_errors(name):
    assert (CORPUS / name).is_file()
    assert not REPORTS.is_valid(load(CORPUS / name))
    if name in SHAPE_ERRORS:
        assert not PLAIN_REPORTS.is_valid(load(CORPUS / name))


@pytest.mark.parametrize("name", MEETING_SHAPE_ERRORS)
def test_schema_rejects_the_corpus_meeting_shape_errors(name):
    assert not MEETINGS.is_valid(load(CORPUS / name))


@pytest.mark.parametrize("data, where", [
    ({"purpose": [{"text": "x", "label": "a"}]}, "a plain paragraph has no label"),
    ({"purpose": [{"subpoint": "Heading", "p": "x"}]}, "a block has one kind"),
    ({"Purpose": ["x"]}, "section keys are lower case"),
    ({"purpose": "x"}, "a section is a list of blocks, not a string"),
])
def test_schema_rejects_block_shapes_check_rejects(data, where):
    report = {"council": {"name": "X"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"}, "title": "T",
              "sections": {"recommendations": ["y"], **data}}
    assert not PLAIN_REPORTS.is_valid(report), where
    assert PLAIN_REPORTS.is_valid({**report, "sections": {"purpose": ["x"], "recommendations": ["y"]}})


def test_shorthands_the_models_accept_are_in_the_schema():
    report = {"council": {"name": "X"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"}, "title": "T",
              "report_of": "the Chief Executive", "key_decision": "FP/1/26", "classification": "public",
              "signatories": {"name": "A Officer"},
              "sections": {"purpose": ["A bare paragraph.", {"letters": ["a bare item"]}, {"subpoint": None,
                                                                                            "text": "x"}],
                           "background": None, "recommendations": {"heading": "Ours", "blocks": ["y"]}}}
    assert [e.message for e in PLAIN_REPORTS.iter_errors(report)] == []


def test_every_field_has_hover_text():
    missing = []
    for schema, root in ((report_schema(), "Report"), (meeting_schema(), "MeetingFile")):
        for name, definition in [(root, schema), *schema["$defs"].items()]:
            missing += [f"{name}.{field}" for field, prop in definition.get("properties", {}).items()
                        if not prop.get("description")]
    assert missing == [], "describe these fields in cabinet_reports/schema.py DESCRIPTIONS"
    assert set(DESCRIPTIONS) >= {"Report", "MeetingFile"}


def test_theme_schema_offers_section_keys_with_their_guidance():
    sections = report_schema(THEME)["properties"]["sections"]["properties"]
    assert list(sections) == [s.key for s in THEME.config.sections]
    assert "including do nothing" in sections["options"]["description"]
    assert "mandatory" in sections["purpose"]["description"]


def test_schema_command_prints_the_schema(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == report_schema(THEME)
    assert main(["schema", "--meeting"]) == 0
    assert json.loads(capsys.readouterr().out) == meeting_schema()


def test_schema_command_follows_the_theme(tmp_path, capsys):
    (tmp_path / "theme.yaml").write_text("sections:\n  - {key: aims, title: Aims, required: true}\n",
                                         encoding="utf-8")
    assert main(["schema", "--theme", str(tmp_path)]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert list(schema["properties"]["sections"]["properties"]) == ["aims"]
    report = {"council": {"name": "X"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"}, "title": "T",
              "sections": {"purpose": ["x"]}}
    assert not validator(schema).is_valid(report)  # aims is mandatory in this theme
    assert validator(schema).is_valid({**report, "kind": "note", "date": "2026-01-14"})  # not in a note
