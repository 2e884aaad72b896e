"""The limits on the expanded document (limits.py): each allows its value, refuses one more with
a located line that names it, and is applied by `check`, before numbering and before layout.

The issue-12 reproducers (one 5,000-character cell taking 71 s to lay out, 100 aliased cells
taking 15 minutes, 100,000 bullets taking 5 GB …) are refused this way; what the worst allowed
inputs cost is measured by benchmarks/limits_benchmark.py, not here. Dates and
SOURCE_DATE_EPOCH outside the years a document can carry are located errors too.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pikepdf
import pytest

from cabinet_reports import models
from cabinet_reports.api import build, render_bytes, report_from_data
from cabinet_reports.cli import main
from cabinet_reports.errors import InputError
from cabinet_reports.limits import LIMITS, LimitExceeded, check_report

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "bad_inputs"


def report(*blocks, **extra) -> dict:
    return {"council": {"name": "C"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"}, "title": "T",
            "sections": {"purpose": ["To test."], "recommendations": list(blocks) or ["R."]}, **extra}


def table(rows, header=None) -> dict:
    return {"table": {"header": header or ["A"] * len(rows[0]), "rows": rows}}


def bullets(n: int) -> list[dict]:
    size = LIMITS["list_items"].value
    return [{"bullets": ["b"] * min(size, n - k)} for k in range(0, n, size)]


# Inputs exactly at a document limit; (name, builder of data for a count) where count = value + 1 breaks it.
CELL = LIMITS["cell_chars"].value
AT_LIMIT = {
    # "To test." is one block, each list one more: the bullets make up the rest.
    "blocks": lambda extra: report(*bullets(LIMITS["blocks"].value - 1 - 3 + extra)),
    "table_cells": lambda extra: report(table([["c"] * 5] * (LIMITS["table_cells"].value // 5 - 1) + [["c"] * 5] * extra,
                                              header=["h"] * 5)),
    "cell_chars": lambda extra: report(table([["x" * (CELL + extra)]])),
    # header "A" 1 + 27 x 600² + 529² + 158 x 1² = 10,000,000 exactly
    "cell_cost": lambda extra: report(table([["x" * CELL]] * 27 + [["x" * 529]] + [["x"]] * (158 + extra))),
    # 2 x 20,000² + 10,000 x 19,999 + 100² = 10**9 exactly; a link's target is not laid out, so costs nothing
    "long_words": lambda extra: report("x" * 20_000, "x" * 20_000, "y" * 10_000 + " ab" * 3_333,
                                       "[a](https://" + "h" * 5_000 + ")", "v" * (100 + extra)),
    "references": lambda extra: report({"p": "Target.", "label": "t"},
                                       " ".join(["[[t]]"] * (LIMITS["references"].value + extra))),
}


def test_the_table_names_every_limit_once_with_a_reason():
    assert all(name == limit.name and limit.value > 0 and len(limit.why) > 30 for name, limit in LIMITS.items())
    assert (models.MAX_TEXT, models.MAX_ITEMS, models.MAX_NESTING) == tuple(
        LIMITS[n].value for n in ("text_chars", "list_items", "nesting"))


def test_the_readme_lists_every_limit_and_its_value():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    safety = readme[readme.index("## Safety"):]
    safety = safety[:safety.index("\n## ", 5)]
    for limit in LIMITS.values():
        assert re.search(rf"`{limit.name}`[^\n]*\b{limit.value:,}\b", safety), limit.name
    assert "Not yet done: a cap on the total size of tables" not in readme


@pytest.mark.parametrize("name", AT_LIMIT)
def test_a_document_limit_allows_its_value_and_refuses_one_more(name):
    check_report(report_from_data(AT_LIMIT[name](0)))
    with pytest.raises(LimitExceeded) as exc:
        check_report(report_from_data(AT_LIMIT[name](1)))
    [problem] = exc.value.problems
    assert problem.field and problem.field.startswith("sections.recommendations")
    assert problem.message.endswith(f"(limit: {name})") or f"(limit: {name});" in problem.message


def characters(data) -> int:
    """Count the characters of every text in a report, defaults included (as the limit does)."""
    if isinstance(data, str):
        return len(data)
    if isinstance(data, dict):
        return sum(characters(v) for v in data.values())
    if isinstance(data, list):
        return sum(characters(v) for v in data)
    return 0


def test_total_chars_allows_its_value_and_refuses_one_more():
    size, total = LIMITS["text_chars"].value, LIMITS["total_chars"].value
    paragraphs = ["w " * (size // 2 - 1) + "w"] * (total // size)
    data = dict(report(), sections={"purpose": paragraphs + ["x"], "recommendations": ["R."]})
    short = total - characters(report_from_data(data).model_dump())
    data["sections"]["purpose"][-1] = "x" * (1 + short)
    assert characters(report_from_data(data).model_dump()) == total
    check_report(report_from_data(data))
    data["sections"]["recommendations"] = ["R.!"]
    with pytest.raises(LimitExceeded) as exc:
        check_report(report_from_data(data))
    assert exc.value.lines() == ["sections.recommendations[0].p: too much text: the report reaches 1,000,001 "
                                 "characters here; the limit is 1,000,000 characters (limit: total_chars)"]


def test_limits_are_checked_before_references_are_resolved_or_anything_laid_out(monkeypatch):
    """The 150,000-reference report took minutes to number; the limit stops it first."""
    import cabinet_reports.document as document
    import cabinet_reports.renderers.pdf as pdf

    def fail(*args, **kwargs):
        raise AssertionError("reached after a limit was exceeded")
    monkeypatch.setattr(document, "parse_inline", fail)
    monkeypatch.setattr(pdf, "layout_html", fail)
    over = report_from_data(report({"p": "Target.", "label": "t"}, *[" ".join(["[[t]]"] * 3000)] * 50))
    for call in (lambda: build(over), lambda: render_bytes(over, "pdf"), lambda: render_bytes(over, "docx")):
        with pytest.raises(InputError, match=r"\(limit: references\)"):
            call()


# --------------------------------------------------------------------------- through the command line
def run_check(path: Path, capsys) -> tuple[int, list[str]]:
    code = main(["check", str(path)])
    return code, capsys.readouterr().err.splitlines()


def test_total_chars_through_check(tmp_path, capsys):
    path = tmp_path / "long.yaml"
    paragraphs = "".join(f"    - \"{'w ' * 9_999}w\"\n" for _ in range(51))  # 51 x 19,999 characters
    path.write_text("council: {name: C}\nmeeting: {body: Cabinet, date: 2026-01-14}\ntitle: T\nsections:\n"
                    "  purpose:\n" + paragraphs + "  recommendations: [R.]\n", encoding="utf-8")
    code, err = run_check(path, capsys)
    assert code == 2 and len(err) == 1
    found = re.fullmatch(rf"make-report: error: {re.escape(str(path))}:56: sections.purpose\[50\].p: too much text: "
                         r"the report reaches ([\d,]+) characters here; the limit is 1,000,000 characters "
                         r"\(limit: total_chars\)", err[0])
    assert found and 1_000_000 < int(found.group(1).replace(",", "")) < 1_000_000 + 19_999


def test_values_through_check(tmp_path, capsys):
    path = tmp_path / "many.json"
    path.write_text(json.dumps(report({"bullets": ["b"] * LIMITS["values"].value})), encoding="utf-8")
    code, err = run_check(path, capsys)
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"make-report: error: {path}:1: sections.recommendations[0].bullets[")
    limit = LIMITS["values"].value
    assert err[0].endswith(f"the file holds more than {limit:,} values; the limit is {limit:,} values (limit: values)")


def test_file_bytes_through_check(tmp_path, capsys):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (LIMITS["file_bytes"].value + 1))
    assert run_check(path, capsys) == (2, [
        f"make-report: error: {path}: file is 2,097,153 bytes; the limit is 2,097,152 bytes (limit: file_bytes)"])


def test_file_bytes_holds_for_a_file_without_an_honest_size(capsys):
    """/dev/zero says it has 0 bytes: reading it whole would never end."""
    assert run_check(Path("/dev/zero"), capsys) == (2, [
        "make-report: error: /dev/zero: file is more than 2,097,152 bytes; the limit is 2,097,152 bytes "
        "(limit: file_bytes)"])


@pytest.mark.parametrize("case", sorted(CORPUS.glob("limit_*.yaml")), ids=lambda p: p.name)
def test_check_refuses_the_corpus_limit_cases_as_render_does(case, capsys, monkeypatch):
    monkeypatch.chdir(CORPUS)
    expected = case.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect: ")
    line, field, message = expected.split(": ", 2)
    code, err = run_check(Path(case.name), capsys)
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"make-report: error: {case.name}:{line}: {field}: ") and message in err[0]


# --------------------------------------------------------------------------- dates
def test_a_report_dated_before_1800_is_a_located_error():
    with pytest.raises(InputError) as exc:
        report_from_data(dict(report(), meeting={"body": "Cabinet", "date": "0001-01-01"}))
    assert exc.value.lines() == ["<data>: meeting.date: the date 0001-01-01 is before 1800: is the year mistyped? "
                                 "(got '0001-01-01')"]
    with pytest.raises(InputError, match="date: the date 1799-12-31 is before 1800"):
        report_from_data(dict(report(), kind="note", meeting=None, date="1799-12-31"))


def test_the_earliest_and_latest_dates_render_with_representable_pdf_and_docx_dates(monkeypatch):
    import docx

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    early = report_from_data(dict(report(), meeting={"body": "Cabinet", "date": "1800-01-01"}))
    with pikepdf.open(io.BytesIO(render_bytes(early, "pdf"))) as pdf:
        assert str(pdf.docinfo["/CreationDate"]) == "D:18000101000000Z"
        assert pdf.open_metadata()["xmp:CreateDate"] == "1800-01-01T00:00:00Z"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "253402300799")  # 9999-12-31T23:59:59Z
    props = docx.Document(io.BytesIO(render_bytes(early, "docx"))).core_properties
    assert props.created == dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("epoch", ["253402300800", "-5364662401", "99999999999999999999999", "9" * 5000,
                                   "-" + "9" * 5000])
def test_source_date_epoch_outside_the_years_is_refused_by_check_render_and_pack(epoch, tmp_path, capsys,
                                                                                 monkeypatch):
    src = tmp_path / "r.json"
    src.write_text(json.dumps(report()), encoding="utf-8")
    meeting = tmp_path / "meeting.yaml"
    meeting.write_text("council: C\nbody: Cabinet\ndate: 2026-01-14\ntime: '6 pm'\nvenue: Hall\n"
                       "contact: {name: Democratic Services}\nitems: [{title: Apologies}]\n", encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    for argv in (["check", str(src)], ["render", str(src), "-o", str(tmp_path / "out")],
                 ["pack", str(meeting), "-o", str(tmp_path / "pack"), "-q"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.splitlines()
        assert err == [f"make-report: error: SOURCE_DATE_EPOCH: SOURCE_DATE_EPOCH {epoch[:40]} is outside the dates "
                       "a document can carry (from -5364662400 for 1800-01-01 to 253402300799 for 9999-12-31)"], argv
    assert not (tmp_path / "out").exists() and not (tmp_path / "pack").exists()
