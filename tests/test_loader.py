"""The loader reads YAML and JSON the same careful way: every refusal is a located InputError.

Found by an adversarial review (issue 12): JSON duplicate keys were silently accepted, the
last one winning, so an exempt report with a later ``"classification": "public"`` was
published; and any raw control character stopped PyYAML with an internal error (exit 1).
"""

from __future__ import annotations

import json
import time

import pytest

from cabinet_reports.api import build, load_report
from cabinet_reports.errors import InputError
from cabinet_reports.limits import LIMITS
from cabinet_reports.loader import load_file, parse_text

REPORT = {"council": {"name": "Test Borough Council"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"},
          "title": "Disposal of the depot",
          "sections": {"purpose": ["To decide."], "recommendations": ["That Cabinet agrees."]}}

EXEMPT_THEN_PUBLIC = """{
  "council": {"name": "Test Borough Council"},
  "meeting": {"body": "Cabinet", "date": "2026-01-14"},
  "title": "Disposal of the depot",
  "classification": {"status": "exempt", "paragraphs": [3]},
  "sections": {"purpose": ["To decide."], "recommendations": ["That Cabinet agrees."]},
  "classification": "public"
}
"""


def refusal(path) -> list[str]:
    with pytest.raises(InputError) as exc:
        load_report(path)
    return exc.value.lines()


# --------------------------------------------------------------------------- duplicate keys
def test_json_duplicate_key_is_refused_at_the_second_key(tmp_path):
    path = tmp_path / "depot.json"
    path.write_text(EXEMPT_THEN_PUBLIC, encoding="utf-8")
    assert json.loads(EXEMPT_THEN_PUBLIC)["classification"] == "public"  # what json.loads alone would publish
    assert refusal(path) == [f"{path}:7: classification: duplicate key 'classification'"]


def test_nested_json_duplicate_key_names_its_path(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"sections": {\n  "purpose": ["a"],\n  "purpose": ["b"]}}', encoding="utf-8")
    assert refusal(path) == [f"{path}:3: sections.purpose: duplicate key 'purpose'"]


def test_json_duplicate_key_after_an_emoji_escape_keeps_its_line():
    # json.dumps writes 😀 as the surrogate pair \ud83d\ude00, which YAML (our line map) refuses.
    text = '{"title": "Hello \\ud83d\\ude00",\n "title": "again"}'
    with pytest.raises(InputError) as exc:
        parse_text(text, "r.json", json_syntax=True)
    assert exc.value.lines() == ["r.json:2: title: duplicate key 'title'"]
    data, lines = parse_text('{"a": "\\ud83d\\ude00",\n "b": 1}', "r.json", json_syntax=True)
    assert data == {"a": "😀", "b": 1} and lines[("b",)] == 2


def test_json_duplicate_key_is_refused_even_where_yaml_cannot_give_its_line():
    key = "k" * 1100  # YAML allows implicit keys of at most 1,024 characters; JSON has no limit
    with pytest.raises(InputError) as exc:
        parse_text(f'{{"{key}": 1, "{key}": 2}}', "r.json", json_syntax=True)
    assert exc.value.lines() == [f"r.json: duplicate key '{key}'"]


def test_meeting_json_duplicate_key_is_refused(tmp_path):
    path = tmp_path / "meeting.json"
    path.write_text('{"council": "C", "body": "Cabinet",\n "body": "Council"}', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_file(path)
    assert exc.value.lines() == [f"{path}:2: body: duplicate key 'body'"]


# --------------------------------------------------------------------------- raw characters
RAW = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f", "\x80", "\x9f", "\ufffe"]


@pytest.mark.parametrize("char", RAW, ids=[f"U+{ord(c):04X}" for c in RAW])
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_raw_control_character_is_a_located_error(tmp_path, suffix, char):
    data = dict(REPORT, title="Disposal@ of the depot")
    # JSON is YAML too: one text for both (json.dumps would escape the character, so put it in after)
    text = json.dumps(data, indent=1, ensure_ascii=False).replace("@", char)
    path = tmp_path / f"r{suffix}"
    path.write_text(text, encoding="utf-8")
    rows = text.split("\n")  # not splitlines(): it also splits at U+000B, U+001C …
    line = next(i for i, row in enumerate(rows, 1) if char in row)
    column = rows[line - 1].index(char) + 1
    kind = "character" if char == "\ufffe" else "control character"
    assert refusal(path) == [f"{path}:{line}: the {kind} U+{ord(char):04X} at column {column} cannot appear "
                             "in a report file (delete it, or retype the text around it)"]


def test_tab_and_newlines_are_still_fine(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text('council: {name: "Test\tBorough Council"}\r\nmeeting: {body: Cabinet, date: 2026-01-14}\n'
                    "title: Disposal\nsections: {purpose: [a], recommendations: [b]}\n", encoding="utf-8")
    assert load_report(path).council.name == "Test\tBorough Council"


# --------------------------------------------------------------------------- other crashes
def test_a_json_number_too_long_for_python_is_a_located_error():
    with pytest.raises(InputError) as exc:
        parse_text('{"a": 1,\n "b": ' + "9" * 5000 + "}", "r.json", json_syntax=True)
    assert exc.value.lines() == ["r.json:2: invalid JSON: a number has more than 4,300 digits"]


def test_a_yaml_key_too_long_for_a_number_is_kept_as_text():
    data, _ = parse_text("? " + "9" * 5000 + "\n: x\n", "r.yaml")
    assert data == {"9" * 5000: "x"}


def test_a_wrongly_tagged_scalar_is_kept_as_text():
    """Found by the fuzzer: ``!!timestamp purpose:`` raised AttributeError inside PyYAML."""
    data, _ = parse_text("!!timestamp purpose: [x]\ndate: !!timestamp soon\nn: !!int many\n", "r.yaml")
    assert data == {"purpose": ["x"], "date": "soon", "n": "many"}


def test_an_aliased_key_bomb_is_refused_at_once():
    """A mapping key built from nested aliases: the old error message printed its repr,
    which never finished (10**8 items)."""
    anchors = ["&a [x, x, x, x, x, x, x, x, x, x]"] + [
        f"&{b} [{', '.join([f'*{a}'] * 10)}]" for a, b in zip("abcdefg", "bcdefgh")]
    start = time.process_time()
    with pytest.raises(InputError) as exc:
        parse_text(f"? [{', '.join(anchors)}]\n: x\n", "r.yaml")
    assert exc.value.lines() == ["r.yaml:1: keys must be text, not a list"]
    assert time.process_time() - start < 5  # a bound on a hang, not a speed test


def test_libyaml_nesting_limit_is_the_usual_message():
    with pytest.raises(InputError) as exc:
        parse_text("a:\n  b: " + "[" * 2000 + "]" * 2000, "r.yaml")
    assert exc.value.lines() == ["r.yaml:2: input is nested too deeply"]


# --------------------------------------------------------------------------- alias and value limits
def test_aliases_may_repeat_only_so_much_text():
    cell = "x" * 20_000
    rows = [f"  - [&c {cell}]"] + ["  - [*c]"] * 10
    text = "rows:\n" + "\n".join(rows) + "\n"
    with pytest.raises(InputError) as exc:
        parse_text(text, "r.yaml")
    # five repeats are 100,000 characters, the limit; the sixth (line 8) is over it
    assert exc.value.lines() == [
        "r.yaml:8: rows[6][0]: YAML aliases repeat more than 100,000 characters of text; "
        "the limit is 100,000 characters (limit: alias_chars)"]
    data, _ = parse_text("rows:\n" + "\n".join(rows[:6]) + "\n", "r.yaml")
    assert len(data["rows"]) == 6


def test_a_file_may_hold_only_so_many_values():
    limit = LIMITS["values"].value
    with pytest.raises(InputError) as exc:
        parse_text("[" + ", ".join(["a"] * limit) + "]", "r.yaml")
    assert exc.value.lines() == [f"r.yaml:1: [{limit - 1}]: the file holds more than {limit:,} values; "
                                 f"the limit is {limit:,} values (limit: values)"]
    data, _ = parse_text("[" + ", ".join(["a"] * (limit - 1)) + "]", "r.yaml")  # the list is a value too
    assert len(data) == limit - 1


def test_values_limit_applies_to_json_too():
    limit = LIMITS["values"].value
    with pytest.raises(InputError) as exc:
        parse_text(json.dumps({"a": [1] * limit}), "r.json", json_syntax=True)
    assert "(limit: values)" in exc.value.lines()[0]


# --------------------------------------------------------------------------- lines
def test_errors_in_a_section_written_with_blocks_point_at_the_block(tmp_path):
    """document.py names a section's blocks sections.KEY[i]; an author who wrote
    ``purpose: {heading: …, blocks: […]}`` gets the line of the block, not of the section."""
    path = tmp_path / "r.yaml"
    path.write_text("council: {name: C}\nmeeting: {body: Cabinet, date: 2026-01-14}\ntitle: T\nsections:\n"
                    "  purpose:\n    heading: Why\n    blocks:\n      - To test.\n      - See [[nowhere]].\n"
                    "  recommendations: [That Cabinet notes.]\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        build(load_report(path))
    assert exc.value.lines()[0].startswith(f"{path}:9: sections.purpose[1].p: unknown label 'nowhere'")
