"""Property-based tests: random valid reports always build, and their numbering has no gaps.

Hypothesis generates reports with Unicode text (Welsh ŵ ŷ and other scripts), very long
words, lists nested up to the model's limit, big tables and many sections. Most examples are
only numbered (build_document, no rendering) to keep the suite fast; a few are rendered to PDF
and read back with pdftotext.

The numbering rules checked, by walking the built Document in reading order:
section numbers are 1..n; within each section paragraph numbers are s.1..s.k; sub-points are
s.p.1, s.p.2 … restarting after every paragraph; each lettered list runs (a), (b), (c) … in the
theme's format for its nesting level.
"""

from __future__ import annotations

import re
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cabinet_reports.api import build, render_bytes, report_from_data
from cabinet_reports.document import Document, ListBlock, Para, SubPoint, TableBlock, letter_marker
from cabinet_reports.limits import EARLIEST_DATE
from cabinet_reports.models import MAX_NESTING
from cabinet_reports.theme import Theme
from readers import NUMBER_TOKEN, numbered_labels, pdftotext

THEME = Theme()
KNOWN = [s.key for s in THEME.config.sections]
OPTIONAL = [k for k in KNOWN if k not in ("purpose", "recommendations")]
SETTINGS = dict(deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])

# Any letters, digits, punctuation and spaces from any script, but none of the characters
# inline Markdown or [[references]] give a meaning to (those have their own tests).
MARKUP = set("[]*_`\\<>&!")
unicode_text = st.text(
    alphabet=st.characters(categories=["L", "M", "N", "P", "S", "Zs"], exclude_characters=MARKUP),
    min_size=1, max_size=40)
welsh_text = st.text(alphabet="abcdefghilmnoprstuwyŵŷâêîôûÂŴŶ ", min_size=1, max_size=40)
long_word = st.text(alphabet=string.ascii_letters + "ŵŷ", min_size=60, max_size=300)
text = st.one_of(unicode_text, welsh_text, long_word).filter(lambda s: s.strip())


def blocks(depth: int, text=text, max_size: int = 4) -> st.SearchStrategy:
    """A list of blocks whose first is a numbered paragraph; lists nest up to ``depth`` more levels."""
    leaf = st.one_of(
        text,                                             # shorthand for a numbered paragraph
        st.builds(lambda t: {"p": t}, text),
        st.builds(lambda t: {"text": t}, text),
        st.builds(lambda t: {"heading": t}, text),
        st.builds(lambda h, t: {"subpoint": h, "text": t}, text, text),
        tables(text),
    )
    if depth > 0:
        inner = st.deferred(lambda: blocks(depth - 1, text, max_size=2))
        item = st.one_of(text, st.builds(lambda t, b: {"text": t, "blocks": b}, text, inner))
        leaf = st.one_of(
            leaf,
            st.builds(lambda items: {"letters": items}, st.lists(item, min_size=1, max_size=4)),
            st.builds(lambda items: {"bullets": items}, st.lists(item, min_size=1, max_size=3)),
            st.builds(lambda h, b: {"subpoint": h, "blocks": b}, text, inner),
        )
    return st.builds(lambda first, rest: [{"p": first}, *rest], text, st.lists(leaf, max_size=max_size))


def tables(text=text, max_rows: int = 12) -> st.SearchStrategy:
    return st.integers(1, 5).flatmap(lambda cols: st.builds(
        lambda header, rows: {"table": {"header": header, "rows": rows}},
        st.lists(text, min_size=cols, max_size=cols),
        st.lists(st.lists(text, min_size=cols, max_size=cols), max_size=max_rows)))


@st.composite
def reports(draw, text=text, max_depth: int = MAX_NESTING - 2, max_sections: int = 16):
    depth = draw(st.integers(0, max_depth))
    optional = draw(st.lists(st.sampled_from(OPTIONAL), unique=True, max_size=max_sections))
    custom = draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(lambda k: k not in KNOWN),
                           unique=True, max_size=3))
    sections = {}
    for key in ["purpose", *optional, "recommendations"]:
        sections[key] = draw(blocks(depth, text))
    for key in custom:
        sections[key] = {"heading": draw(text), "blocks": draw(blocks(depth, text))}
    return {
        "council": {"name": draw(text)},
        "meeting": {"body": draw(text), "date": draw(st.dates(min_value=EARLIEST_DATE)).isoformat()},
        "title": draw(text),
        "report_of": draw(st.lists(text, max_size=2)),
        "sections": sections,
        "appendices": draw(st.lists(st.builds(lambda t, b: {"title": t, "blocks": b}, text, blocks(1, text)),
                                    max_size=2)),
    }


# --------------------------------------------------------------------------- numbering checks
def check_numbering(doc: Document) -> None:
    """Assert the numbering rules on a built document (see the module docstring)."""
    numbered = [s for s in doc.sections if s.number]
    assert [s.number for s in numbered] == [f"{i}.0" for i in range(1, len(numbered) + 1)]
    letters_fmt = doc.numbering.letters
    for s_index, section in enumerate(numbered, start=1):
        state = {"p": 0, "q": 0}

        def walk(items, level=0):
            for b in items:
                if isinstance(b, Para) and b.number:
                    state["p"] += 1
                    state["q"] = 0
                    assert b.number == f"{s_index}.{state['p']}", (b.number, state)
                elif isinstance(b, SubPoint):
                    state["q"] += 1
                    assert state["p"] >= 1
                    assert b.number == f"{s_index}.{state['p']}.{state['q']}", (b.number, state)
                    walk(b.blocks, level)
                elif isinstance(b, ListBlock):
                    if b.style == "letters":
                        fmt = letters_fmt[min(b.level, len(letters_fmt) - 1)]
                        assert [it.marker for it in b.items] == \
                            [letter_marker(fmt, n) for n in range(1, len(b.items) + 1)]
                    for it in b.items:
                        walk(it.blocks, b.level + 1 if b.style == "letters" else level)
                elif isinstance(b, TableBlock):
                    assert all(len(row) == len(b.header) for row in b.rows)
        walk(section.blocks)
    all_numbers = [n for n in doc.numbered_labels() if not n.startswith("(")]
    assert len(all_numbers) == len(set(all_numbers)), "duplicate numbers"


@settings(max_examples=40, **SETTINGS)
@given(reports())
def test_random_valid_reports_build_with_consecutive_numbering(data):
    doc = build(report_from_data(data), THEME)
    check_numbering(doc)
    assert len(doc.sections) == len(data["sections"])
    assert [a.number for a in doc.appendices] == [f"Appendix {i}" for i in range(1, len(data["appendices"]) + 1)]


def test_numbering_checker_catches_a_gap():
    """Control: the checker is not vacuous; a skipped paragraph number fails it."""
    data = {"council": {"name": "C"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"}, "title": "T",
            "sections": {"purpose": ["One.", "Two.", {"subpoint": "S", "text": "x"}], "recommendations": ["R."]}}
    doc = build(report_from_data(data), THEME)
    check_numbering(doc)
    doc.sections[0].blocks[1].number = "1.3"
    try:
        check_numbering(doc)
    except AssertionError:
        return
    raise AssertionError("a gap in paragraph numbers went unnoticed")


# --------------------------------------------------------------------------- a few real renders
# Letters only (no digits, dots or brackets), so any number pdftotext sees came from us.
plain_text = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzŵŷâ ", min_size=1, max_size=30),
    st.text(alphabet=string.ascii_lowercase + "ŵŷ", min_size=40, max_size=120),
).filter(lambda s: s.strip())


@settings(max_examples=4, **SETTINGS)
@given(reports(text=plain_text, max_depth=3, max_sections=5))
def test_random_reports_render_to_pdf_showing_their_numbers(tmp_path_factory, data):
    report = report_from_data(data)
    doc = build(report, THEME)
    pdf = tmp_path_factory.mktemp("prop") / "r.pdf"
    pdf.write_bytes(render_bytes(report, "pdf", THEME))
    # -layout: poppler's default reading order can put a number that hangs inside a list
    # item (4.2 under (b)) after the next item; the physical layout keeps document order.
    text = pdftotext(pdf, body_only=True, layout=True)
    expected = [n for n in doc.numbered_labels() if NUMBER_TOKEN.match(n + " ")]
    assert numbered_labels(text) == expected
    assert re.search(r"\b1\.0\b", text)


def test_a_document_dated_before_1970_renders():
    """Found by the random reports: a 1965 meeting date gave a negative SOURCE_DATE_EPOCH,
    which the renderer then refused as malformed."""
    report = report_from_data({"council": {"name": "C"}, "meeting": {"body": "Council", "date": "1965-09-18"},
                               "title": "T", "sections": {"purpose": ["x"], "recommendations": ["y"]}})
    assert render_bytes(report, "pdf", THEME).startswith(b"%PDF-")
