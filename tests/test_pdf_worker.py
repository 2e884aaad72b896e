"""The PDF worker: garbage collection paused while a report's PDF is laid out, the theme stylesheet kept.

The main process waits for the PDF, so collections during the layout delay every render;
they wait until the reply is sent. A big report collects as usual (its garbage would add
tens of MB to the worker's peak), and a worker forked by `watch` in the middle of a render,
whose collector is paused there, collects again. The theme's stylesheet, in every report's
HTML, is parsed once per theme generation and gives the same bytes as a fresh parse; one
whose at-rules reach further (@import, @layer, @counter-style) is parsed every time. Nothing
here is timed (benchmarks/).
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
from types import SimpleNamespace

import pytest

from cabinet_reports.api import resolve_theme
from cabinet_reports.renderers import pdf, pdf_worker

SMALL_HTML = "<html lang='en'><title>T</title><p>Text</p></html>"
BIG_HTML = SMALL_HTML.replace("Text", "x" * pdf_worker.DEFERRED_GC_CHARS)


class Connection:
    """The worker's end of the pipe: hands out the requests, then the end of the input."""

    def __init__(self, requests, events):
        self.requests, self.events, self.replies = list(requests), events, []

    def recv(self):
        if not self.requests:
            raise EOFError
        return self.requests.pop(0)

    def send(self, reply):
        self.events.append("reply sent")
        self.replies.append(reply)


@pytest.fixture
def events(monkeypatch):
    """What happens in order: layouts (with the collector's state), replies, full collections."""
    import weasyprint.css

    # _answer puts kept_stylesheets in place of WeasyPrint's CSS, as a worker process does: undone
    # after the test, or every later render in this test process would parse through it.
    monkeypatch.setattr(weasyprint.css, "CSS", weasyprint.css.CSS)
    log: list[str] = []

    def collection(phase, info):
        if phase == "start" and info["generation"] == 2:
            log.append("full collection")

    gc.callbacks.append(collection)
    yield log
    gc.callbacks.remove(collection)
    gc.unfreeze()  # _answer froze this test process's objects
    assert gc.isenabled()


def test_a_report_is_laid_out_with_the_collector_paused_and_collected_after_its_reply(events):
    def pdf_from_html(html, files, day, asset_dir):
        events.append(f"layout, collector {'on' if gc.isenabled() else 'paused'}")
        return b"%PDF"

    fake_pdf = SimpleNamespace(warm_up=lambda: None, theme_files=pdf.theme_files, pdf_from_html=pdf_from_html)
    day, dirs = dt.date(2026, 1, 14), tuple(resolve_theme(None).dirs)
    conn = Connection([(SMALL_HTML, dirs, 0, day, None), (BIG_HTML, dirs, 0, day, None)], events)
    pdf_worker._answer(conn, fake_pdf)
    assert conn.replies == [("pdf", b"%PDF")] * 2
    small, big = events.index("layout, collector paused"), events.index("layout, collector on")
    # The small report's garbage is collected after its reply, before the next request.
    assert events[small + 1:small + 3] == ["reply sent", "full collection"]
    assert gc.isenabled()
    assert big > small


def test_a_layout_that_fails_gives_its_error_and_leaves_the_collector_on(events):
    def pdf_from_html(html, files, day, asset_dir):
        raise ValueError("broken")

    fake_pdf = SimpleNamespace(warm_up=lambda: None, theme_files=pdf.theme_files, pdf_from_html=pdf_from_html)
    conn = Connection([(SMALL_HTML, (), 0, dt.date(2026, 1, 14), None)], events)
    pdf_worker._answer(conn, fake_pdf)
    assert conn.replies[0][:2] == ("bug", "ValueError: broken")
    assert events[-2:] == ["reply sent", "full collection"]
    assert gc.isenabled()


def _collector_state(html, files, day, asset_dir) -> bytes:
    return b"on" if gc.isenabled() else b"paused"


def test_a_worker_forked_during_a_paused_render_collects_again(monkeypatch):
    """`watch` forks its worker at the first render, when its own collector is paused."""
    # A fork carries this replacement into the worker: it tells what the worker's collector does.
    monkeypatch.setattr(pdf, "pdf_from_html", _collector_state)
    # Fonts this process loaded are its own: a forked worker must not remove their folder.
    monkeypatch.setattr(pdf, "release_fonts", lambda: None)
    ctx = multiprocessing.get_context("fork")
    conn, child = ctx.Pipe()
    gc.disable()
    try:
        process = ctx.Process(target=pdf_worker._serve, args=(child, conn), daemon=True)
        process.start()
    finally:
        gc.enable()
    child.close()
    try:
        dirs, day = tuple(resolve_theme(None).dirs), dt.date(2026, 1, 14)
        conn.send((BIG_HTML, dirs, 0, day, None))  # big: laid out with the worker's collector as it is
        assert conn.recv() == ("pdf", b"on")
        conn.send((SMALL_HTML, dirs, 0, day, None))
        assert conn.recv() == ("pdf", b"paused")
    finally:
        conn.close()
        process.join(60)
    assert process.exitcode == 0


@pytest.fixture
def parses(monkeypatch):
    """WeasyPrint's CSS parser, as the worker uses it: counted, behind kept_stylesheets."""
    import weasyprint.css

    counted = []
    parse = weasyprint.css.CSS

    def counting(*args, **kwargs):
        if kwargs.get("string") is not None:
            counted.append(kwargs["string"])
        return parse(*args, **kwargs)

    def use_kept() -> None:
        monkeypatch.setattr(weasyprint.css, "CSS", pdf_worker.kept_stylesheets(counting))
    return counted, use_kept


def report_html(title: str, style: str) -> str:
    return (f"<html lang='en'><head><title>{title}</title><style>{style}</style></head>"
            f"<body><h1>{title}</h1><p>Text</p></body></html>")


def test_the_theme_stylesheet_is_parsed_once_per_theme_generation_with_the_same_bytes(parses):
    """Each report's HTML carries the theme's stylesheet (its @page rules and @font-face fonts
    among it): kept from the first render, it gives every later one the same PDF."""
    counted, use_kept = parses
    theme = resolve_theme(None)
    font = theme.find("fonts/LiberationSans-Bold.ttf").as_uri()
    style = (f"@font-face {{ font-family: Kept; src: url({font}) }} body {{ font-family: Kept }} "
             "@page { size: A5; margin: 2cm; @bottom-center { content: 'Page ' counter(page) } } "
             "@page :first { margin-top: 4cm }")
    day, first, second = dt.date(2026, 1, 14), report_html("First", style), report_html("Second", style)
    files = pdf.theme_files(tuple(theme.dirs), 0)
    expected = [pdf.pdf_from_html(html, files, day) for html in (first, second, first)]
    use_kept()
    assert [pdf.pdf_from_html(html, files, day) for html in (first, second, first)] == expected
    assert counted == [style]
    # A changed theme (a new generation, with fonts of its own) parses it afresh.
    changed = pdf.theme_files(tuple(theme.dirs), 1)
    assert pdf.pdf_from_html(second, changed, day) == expected[1]
    assert counted == [style, style]


@pytest.mark.parametrize("rule", ["@import url(extra.css);", "@layer base { p { color: red } }",
                                  "@counter-style thumbs { system: cyclic; symbols: 'x' }"])
def test_a_stylesheet_whose_rules_reach_further_is_parsed_every_time(parses, rule):
    counted, use_kept = parses
    use_kept()
    theme, day = resolve_theme(None), dt.date(2026, 1, 14)
    files = pdf.theme_files(tuple(theme.dirs), 0)
    for title in ("First", "Second"):
        pdf.pdf_from_html(report_html(title, rule + " p { margin: 0 }"), files, day)
    assert len(counted) == 2


def test_a_stylesheet_whose_parse_adds_a_layer_however_written_is_parsed_every_time(parses):
    """`@\\6c ayer` is `@layer` to a CSS parser: what the parse added decides, not the spelling."""
    counted, use_kept = parses
    use_kept()
    theme, day = resolve_theme(None), dt.date(2026, 1, 14)
    files = pdf.theme_files(tuple(theme.dirs), 0)
    for title in ("First", "Second"):
        pdf.pdf_from_html(report_html(title, "@\\6c ayer base { p { color: red } } p { margin: 0 }"), files, day)
    assert len(counted) == 2
