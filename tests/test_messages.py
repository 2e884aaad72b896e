"""Plain-language errors: no pydantic phrasing reaches an officer, whatever they get wrong.

Every model a user fills in (the report, the meeting file, theme.yaml with its ``lint:`` and
``cover_fields``) is run against generated wrong values for every field, and every error
pydantic raises is translated; the test fails on pydantic wording in any message and lists
the error types met, so a new type (a new constraint in a model) must be met here and given
words. The messages for each kind of mistake are checked against the model they describe
(field lists and choices come from the model, so they stay true), and YAML's silent lists and
mappings are explained where the loader can tell.
"""

from __future__ import annotations

import datetime as dt
import json
import typing

import pytest
from pydantic import BaseModel, BeforeValidator, ValidationError

from cabinet_reports import meeting, models, theme, validation
from cabinet_reports.errors import InputError, ThemeError
from cabinet_reports.loader import Source, parse_text
from cabinet_reports.validation import fields_of, problems_from, validate
from test_bad_inputs import PYDANTIC_WORDING

ROOTS = {"report": models.Report, "meeting": meeting.Meeting, "theme": theme.ThemeConfig}


def reachable(root: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Return every model reachable from ``root``'s fields, by name."""
    found: dict[str, type[BaseModel]] = {}

    def visit(annotation: typing.Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation.__name__ in found:
                return
            found[annotation.__name__] = annotation
            for info in annotation.model_fields.values():
                visit(info.annotation)
                for meta in info.metadata:
                    visit(meta)
        for arg in typing.get_args(annotation):
            visit(arg)
    visit(root)
    return found


# Wrong values of every shape: each field of each model is given each of them.
WRONG = [42, 4.5, -5, 0, 10 ** 30, 1.5e300, float("nan"), True, None, "text", "", " ", "x" * 20_001, "Bad Key",
         "{zz}", "2005-13-45", "2005-02-30", "0000-02-30", "9999-12-32", "2024-02-30", "2005-03-00",
         "2005-03-16T10:00", "next Tuesday", "not an email", [], [1], ["a", "b"],
         [["a"]], [{"a": 1}], [0], ["x"] * 3000, {}, {"a": 1}, {"Bad Key": "x"}, {"checks": "x"},
         dt.datetime(2005, 3, 16, 10, 30), dt.date(1700, 1, 1), dt.time(18, 0)]

# The error types the models raise for those values (pydantic's names): met below, each translated.
EXPECTED_TYPES = {
    "missing", "extra_forbidden", "string_type", "string_too_short", "string_too_long", "string_pattern_mismatch",
    "date_type", "date_from_datetime_parsing", "date_from_datetime_inexact", "bool_type", "bool_parsing",
    "int_type", "int_parsing", "int_from_float", "int_parsing_size", "float_type", "float_parsing",
    "finite_number", "greater_than", "greater_than_equal", "less_than_equal", "literal_error", "list_type",
    "tuple_type", "dict_type", "model_type", "too_short", "too_long", "value_error", "block_kind",
}


def all_errors():
    """Yield (root, model, data, ValidationError) for every wrong value of every field."""
    for root_name, root in ROOTS.items():
        for name, cls in reachable(root).items():
            yield root_name, cls, {"zz_unknown": 1}, _error(cls, {"zz_unknown": 1})
            for value in WRONG:
                yield root_name, cls, value, _error(cls, value)
                for field, info in cls.model_fields.items():
                    data = {info.alias or field: value}
                    yield root_name, cls, data, _error(cls, data)


def _error(cls: type[BaseModel], data: typing.Any) -> ValidationError | None:
    try:
        cls.model_validate(data)
    except ValidationError as exc:
        return exc
    return None


def test_every_error_type_the_models_raise_is_told_without_pydantic_wording():
    met: set[str] = set()
    for root_name, cls, data, exc in all_errors():
        if exc is None:
            continue
        met.update(e["type"] for e in exc.errors())
        for problem in problems_from(exc, data, None, cls):
            text = str(problem)
            assert problem.message.strip(), (cls.__name__, data)
            assert "\n" not in text
            bad = [w for w in PYDANTIC_WORDING if w.lower() in text.lower()]
            assert not bad, f"{root_name}/{cls.__name__} {data!r:.80}: {text}"
            assert len(text) < 600, text
    assert met >= EXPECTED_TYPES, sorted(EXPECTED_TYPES - met)
    # Any type met here that the list does not name is new: name it (and check its words).
    assert met <= EXPECTED_TYPES, sorted(met - EXPECTED_TYPES)


@pytest.mark.parametrize("kind", ["union_tag_invalid", "url_parsing", "enum", "uuid_type", "something_new"])
def test_error_types_our_models_do_not_raise_yet_still_get_plain_words(kind):
    message = validation.explain({"type": kind, "loc": ("title",), "msg": "Input should be a valid URL",
                                  "input": "x", "ctx": {"expected": "'a' or 'b'"}}, models.Report)
    assert message and not [w for w in PYDANTIC_WORDING if w in message]
    assert "expected text" in message or "expected" in message


def test_every_shorthand_validator_is_described():
    """A BeforeValidator that accepts a short form must say so in messages (validation.SHORTHANDS)."""
    names = set()
    for root in ROOTS.values():
        for cls in reachable(root).values():
            for info in cls.model_fields.values():
                stack = [info.annotation, *info.metadata]
                while stack:
                    item = stack.pop()
                    if isinstance(item, BeforeValidator):
                        names.add(item.func.__name__)
                    stack.extend(getattr(item, "__metadata__", ()))
                    stack.extend(typing.get_args(item))
    assert names and names <= set(validation.SHORTHANDS), sorted(names - set(validation.SHORTHANDS))


# --------------------------------------------------------------------------- each kind of message
BASE = ("council: {name: Test Borough Council}\nmeeting: {body: Cabinet, date: 2026-01-14}\ntitle: Test report\n"
        "sections:\n  purpose: [To test.]\n  recommendations: [That Cabinet notes.]\n")


def report_errors(extra: str, base: str = BASE) -> list[str]:
    text = base + extra
    data, lines = parse_text(text, "report.yaml")
    with pytest.raises(InputError) as caught:
        validate(models.Report, data, Source("report.yaml", lines))
    return [p.message for p in caught.value.problems]


def the_error(extra: str, base: str = BASE) -> str:
    found = report_errors(extra, base)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("extra, expected", [
    ("date: 16/03/2005\n", "expected a date as YYYY-MM-DD, e.g. 2005-03-16 (got '16/03/2005')"),
    ("date: 2005-02-30\n", "February 2005 has 28 days: expected a date as YYYY-MM-DD, e.g. 2005-03-16"),
    ("date: 2005-13-01\n", "there is no month 13"),
    ("date: 2024-02-30\n", "February 2024 has 29 days"),
    ("date: 9999-12-32\n", "December 9999 has 31 days"),
    ("date: 2026-03-00\n", "there is no day 0 in a month"),
    ("date: 0000-02-30\n", "expected a date as YYYY-MM-DD, e.g. 2005-03-16 (got '0000-02-30')"),
    ("date: 2005-03-16 10:30\n", "expected a date without a time"),
    ("contact: {name: A, email: a.officer at council}\n",
     "expected an email address such as name@council.gov.uk (got 'a.officer at council')"),
    ("purpose: agree\n", "expected one of: decision, discussion, noting, information, consultation (got 'agree')"),
    ("purpose: decison\n", "(got 'decison'; did you mean 'decision'?)"),
    ("reference: " + "x" * 112 + "\n", "expected text of at most 80 characters (this has 112)"),
    ("subtitle: ''\n", "must not be empty: expected text"),
    ("language: English\n", "expected a language tag such as en-GB or cy (got 'English')"),
    ("classification: {status: exempt, paragraphs: [three]}\n", "expected a whole number (got 'three')"),
    ("key_decision: [1]\n", "expected true or false, a forward plan reference such as FP/830/05/17, or a mapping "
                            "with key, forward_plan (got a list)"),
    ("classification: {status: exempt, paragraphs: [9]}\n", "paragraph 9 is not in Schedule 12A for england (1–7)"),
    ("subtitle: 2026-01-14\n", 'expected text (got 2026-01-14); YAML read this as a date; put it in quotes: "2026-01-14"'),
    ("subtitle: 1.10\n", 'expected text (got 1.10); YAML read this as a number; put it in quotes: "1.10"'),
    ("subtitle: no\n", "expected text (got false); YAML read this as true or false (from yes/no, on/off or "
                       "true/false); put the text in quotes"),
])
def test_a_wrong_value_says_what_is_expected(extra, expected):
    message = the_error(extra)
    assert expected in message
    assert not message.startswith("Value error")


def test_a_mapping_is_described_by_the_model_fields():
    message = the_error("contact: A. Officer\n")
    assert message == f"expected a mapping with {', '.join(fields_of(models.Contact))} (got 'A. Officer')"
    assert "name, role, phone, email" in message  # what an officer reads today


def test_a_missing_field_says_what_to_give():
    base = BASE.replace("council: {name: Test Borough Council}\n", "")
    assert the_error("", base) == f"required field is missing: expected a mapping with {', '.join(fields_of(models.Council))}"


def test_a_list_too_short_or_too_long_says_how_many():
    assert the_error("wards: [" + ", ".join(["W"] * 101) + "]\n") == "expected at most 100 items (this has 101)"
    base = BASE.replace("purpose: [To test.]", "purpose: [{bullets: []}]")
    assert the_error("", base).startswith("needs at least 1 item (it is empty)")


def test_an_unknown_field_lists_the_valid_ones_in_model_order_with_did_you_mean():
    message = the_error("contact: {name: A, emial: a@council.gov.uk}\n")
    assert message == "unknown field 'emial' (did you mean 'email'?); fields here: " + ", ".join(fields_of(models.Contact))
    # A long list is cut to one readable line: the first names in the model's order, then a count.
    message = the_error("autor: A\n")
    names = fields_of(models.Report)
    assert message == f"unknown field 'autor'; fields here: {', '.join(names[:10])} … and {len(names) - 10} more"
    # A real field in the wrong place is not "did you mean" itself.
    base = BASE.replace("purpose: [To test.]", "purpose: [{text: To test., label: aim}]")
    assert the_error("", base) == "field 'label' is not allowed here; fields here: text"


def test_yaml_list_from_a_comma_inside_brackets_is_explained():
    message = the_error("decision_maker: [Cabinet Member for Finance, Cllr Smith]\n")
    assert message == ("expected text (got a list); YAML read this as a list because of the [ ] and split it at "
                       'each comma; if it is one text, put it in quotes: "Cabinet Member for Finance, Cllr Smith"')


def test_yaml_field_from_a_comma_inside_braces_is_explained():
    message = the_error("signatories: [{name: Linda Sanders, Director of Social Services}]\n")
    assert message == ("YAML read 'Director of Social Services' as a new field because of the comma inside { }; "
                       'put the text in quotes: name: "Linda Sanders, Director of Social Services"')


def test_yaml_mapping_from_a_colon_is_explained_once():
    base = BASE.replace("purpose: [To test.]", "purpose:\n    - To test.\n    - bullets:\n        - Note: the budget")
    assert the_error("", base) == ("expected text, or a mapping with text, label, blocks; YAML read this as a mapping "
                                   "because of the ': ' after 'Note'; put the text in quotes: \"Note: the budget\"")
    assert "after 'Ward'" in the_error("wards:\n  - Ward: all\n")


def test_yaml_colon_in_a_title_is_a_yaml_error_that_says_to_quote():
    with pytest.raises(InputError) as caught:
        parse_text("title: Consultation: results\n", "report.yaml")
    assert caught.value.problems[0].message.endswith('put the whole text in quotes (title: "Consultation: results")')


def test_json_gets_no_yaml_quoting_advice():
    data = json.loads(json.dumps({"council": {"name": "X"}, "meeting": {"body": "C", "date": "2026-01-14"},
                                  "title": "T", "decision_maker": ["A", "B"]}, indent=1))
    text = json.dumps(data, indent=1)
    data, lines = parse_text(text, "r.json", json_syntax=True)
    with pytest.raises(InputError) as caught:
        validate(models.Report, data, Source("r.json", lines))
    assert [p.message for p in caught.value.problems] == ["expected text (got a list)"]


def test_an_undiscriminated_union_is_one_message(tmp_path):
    (tmp_path / "theme.yaml").write_text("kinds: {report: {details: [42]}}\n", encoding="utf-8")
    with pytest.raises(ThemeError) as caught:
        theme.Theme(tmp_path)
    [problem] = caught.value.problems
    assert problem.message == ("expected a list of text items, or a mapping with label, each, cells (got 42)")
    assert problem.line == 1 and problem.field == "kinds.report.details[0]"


@pytest.mark.parametrize("text, field, expected", [
    ("lint: {checks: {lenght: warning}}\n", "lint.checks.lenght",
     "expected one of: sections, length, word_count"),
    ("lint: {checks: {lenght: warning}}\n", "lint.checks.lenght", "did you mean 'length'?"),
    ("lint: {checks: {length: loud}}\n", "lint.checks.length", "expected one of: error, warning, off (got 'loud')"),
    ("lint: {max_sides: many}\n", "lint.max_sides", "expected a whole number (got 'many')"),
    ("lint: {max_sides: 0}\n", "lint.max_sides", "expected a number at least 1 (got 0)"),
    ("lint: {placeholders: TBC}\n", "lint.placeholders", "expected a list of text items (got 'TBC')"),
    ("cover_fields: {call_in: {label: Call-in, type: yes-no}}\n", "cover_fields.call_in.type",
     "expected one of: text, date, list, bool, email (got 'yes-no')"),
    ("cover_fields: {ward: {lable: Ward}}\n", "cover_fields.ward.lable",
     "unknown field 'lable' (did you mean 'label'?); fields here: label, type, required"),
    ("cover_fields: {ward: Ward}\n", "cover_fields.ward", "expected a mapping with label, type, required (got 'Ward')"),
])
def test_theme_yaml_errors_are_plain(tmp_path, text, field, expected):
    (tmp_path / "theme.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ThemeError) as caught:
        theme.Theme(tmp_path)
    [problem] = caught.value.problems
    assert problem.field == field and expected in problem.message, str(problem)
    assert problem.file == str(tmp_path / "theme.yaml") and problem.line == 1


def test_meeting_file_errors_are_plain(tmp_path):
    text = ("council: Test Borough Council\nbody: Cabinet\ndate: 2026-01-14\ntime: \"10.00 am\"\nvenue: Room 1\n"
            "contact: {name: A, email: a at council}\nmembership: [{name: Cllr A, Chair}]\n"
            "items:\n  - titel: Apologies\n")
    data, lines = parse_text(text, "meeting.yaml")
    with pytest.raises(InputError) as caught:
        validate(meeting.Meeting, data, Source("meeting.yaml", lines))
    assert [str(p) for p in caught.value.problems] == [
        "meeting.yaml:6: contact.email: expected an email address such as name@council.gov.uk (got 'a at council')",
        "meeting.yaml:7: membership[0].Chair: YAML read 'Chair' as a new field because of the comma inside { }; "
        'put the text in quotes: name: "Cllr A, Chair"',
        "meeting.yaml:9: items[0].titel: unknown field 'titel' (did you mean 'title'?); fields here: "
        + ", ".join(fields_of(meeting.ProceduralItem)),
    ]


def test_the_readme_examples_are_what_the_corpus_expects():
    """Each example message in the README is a corpus case's expected line, word for word."""
    from pathlib import Path

    from test_bad_inputs import CASES, expectations

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("Every message says what the place expects", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    expected = {(f"{e.field}: " if e.field else "") + e.message for case in CASES for e in expectations(case)}
    examples = [line.split(": ", 1)[1] for line in block.strip().splitlines()]
    assert len(examples) >= 8
    assert [e for e in examples if e not in expected] == []


def test_a_theme_declared_cover_value_of_the_wrong_kind_is_plain(tmp_path):
    from cabinet_reports.api import build, load_report

    (tmp_path / "theme.yaml").write_text("cover_fields: {ward: {label: Ward}}\n", encoding="utf-8")
    (tmp_path / "r.yaml").write_text(BASE + "cover: {ward: {a: 1}}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        build(load_report(tmp_path / "r.yaml"), theme=theme.Theme(tmp_path))
    assert [p.message for p in caught.value.problems] == ["Ward: expected text (got a mapping)"]
