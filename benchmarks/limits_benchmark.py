"""Benchmark: what the worst inputs the limits allow cost, and how fast the refused ones fail.

    python benchmarks/limits_benchmark.py                 # every scenario at its limit
    python benchmarks/limits_benchmark.py cell_chars      # one scenario
    python benchmarks/limits_benchmark.py cell_chars --size 300 600 1000   # calibrate a limit
    python benchmarks/limits_benchmark.py --refused       # `make-report check` on the issue's inputs
    python benchmarks/limits_benchmark.py --css-probe 2000   # why one long table cell is quadratic

Each scenario builds the worst report a limit allows (at ``--size``, by default the limit's
value), and renders it in a fresh process: PDF layout, PDF writing and DOCX, with the CPU
time of each and the peak resident memory. ``--refused`` times ``make-report check`` on
inputs just over the limits (the reproducers from issue 12) and prints the error line.
Times are CPU seconds on whatever machine runs it (the README quotes a 2-core one). It is a
benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cabinet_reports.limits import LIMITS  # noqa: E402

WORDS = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "


def words(n: int) -> str:
    return (WORDS * (n // len(WORDS) + 1))[:n].strip().ljust(n, "x")


def report(blocks: list[Any], appendices: list[Any] | None = None) -> dict[str, Any]:
    return {"council": {"name": "Benchmark Borough Council"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"},
            "title": "Benchmark report", "sections": {"purpose": ["To measure."], "recommendations": blocks},
            "appendices": appendices or []}


def paragraphs(n: int) -> dict[str, Any]:
    """A report of n blocks: numbered paragraphs in as many sections as list_items requires."""
    data = report([f"Paragraph {i} of the recommendations." for i in range(min(n - 2, LIMITS["list_items"].value))])
    left, k = n - 2 - len(data["sections"]["recommendations"]), 0
    while left > 0:
        k += 1
        size = min(left, LIMITS["list_items"].value)
        data["sections"][f"part_{k}"] = {"heading": f"Part {k}", "blocks": [f"Paragraph {i}." for i in range(size)]}
        left -= size
    return data


def table(rows: list[list[str]], header: list[str] | None = None) -> dict[str, Any]:
    return {"table": {"header": header or [f"Column {j + 1}" for j in range(len(rows[0]))], "rows": rows}}


# Each scenario: (limit it probes, what the worst case is, report builder for a size).
SCENARIOS: dict[str, tuple[str, str, Callable[[int], dict[str, Any]]]] = {
    "baseline": ("cell_chars", "the smallest report with a two-cell table (SIZE is ignored): the fixed cost",
                 lambda n: report([table([["a", "b"]])])),
    "cell_chars": ("cell_chars", "one table cell of SIZE letters with no spaces (the worst text)",
                   lambda n: report([table([["x" * n, "b"]])])),
    "cell_chars_words": ("cell_chars", "one table cell of SIZE characters of ordinary words",
                         lambda n: report([table([[words(n), "b"]])])),
    "cell_cost": ("cell_cost", "as many cells of cell_chars letters as cell_cost allows (SIZE is the budget)",
                  lambda n: report([table([["x" * LIMITS["cell_chars"].value, "b"]
                                           for _ in range(max(1, n // LIMITS["cell_chars"].value ** 2))])])),
    "table_cells": ("table_cells", "one table of SIZE short cells, 5 columns",
                    lambda n: report([table([[f"r{r}c{c}" for c in range(5)] for r in range(n // 5 - 1)])])),
    "blocks": ("blocks", "SIZE bullets (list items are blocks), in lists of list_items",
               lambda n: report([{"bullets": [f"Item {i} of the list." for i in range(min(LIMITS["list_items"].value, n - k))]}
                                 for k in range(0, n - 4, LIMITS["list_items"].value)])),
    "paragraphs": ("blocks", "SIZE numbered paragraphs, in sections of list_items",
                   lambda n: paragraphs(n)),
    "text_chars": ("text_chars", "one paragraph that is a single word of SIZE letters (the worst text)",
                   lambda n: report(["x" * n])),
    "long_words": ("long_words", "as many paragraphs that are a single word of text_chars letters as long_words allows "
                   "(SIZE is the budget)",
                   lambda n: report(["x" * LIMITS["text_chars"].value] * max(1, n // LIMITS["text_chars"].value ** 2))),
    "total_chars": ("total_chars", "SIZE characters of ordinary words in paragraphs of text_chars",
                    lambda n: report([words(LIMITS["text_chars"].value)
                                      for _ in range((n - 1_000) // LIMITS["text_chars"].value)])),
    "references": ("references", "SIZE [[label]] references in paragraphs",
                   lambda n: report([{"p": "The target.", "label": "t"}]
                                    + [" ".join(["See [[t]]."] * 100) for _ in range(n // 100)])),
}


def run_one(name: str, size: int) -> None:
    """Render one scenario in this process and print one line of measurements."""
    import resource

    from cabinet_reports.api import render_options, report_from_data
    from cabinet_reports.document import build_document
    from cabinet_reports.renderers.docx import render_docx
    from cabinet_reports.renderers.pdf import layout, write_tagged_pdf
    from cabinet_reports.theme import Theme

    import cabinet_reports.document

    # Measure what the input costs, whatever the limits say (to calibrate them).
    cabinet_reports.document.check_report = lambda report: None
    theme = Theme(None)
    clock = time.process_time
    start = clock()
    report_obj = report_from_data(SCENARIOS[name][2](size))
    doc = build_document(report_obj, theme)
    options = render_options(report_obj)
    built = clock()
    document = layout(doc, theme, options)
    laid_out = clock()
    pdf = write_tagged_pdf(document, doc.date)
    written = clock()
    docx = render_docx(doc, theme, options)
    done = clock()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"scenario": name, "size": size, "pages": len(document.pages),
                      "build_s": round(built - start, 2), "layout_s": round(laid_out - built, 2),
                      "write_pdf_s": round(written - laid_out, 2), "docx_s": round(done - written, 2),
                      "peak_mb": peak, "pdf_kb": len(pdf) // 1024, "docx_kb": len(docx) // 1024}))


REFUSED = {
    # name: (file suffix, text) — each just over a limit, or one of issue 12's reproducers
    "5,000-character cell (5 KB)": ("yaml", lambda: json.dumps(report([table([["x" * 5000]])]))),
    "100 aliased 20,000-character cells (21 KB)": ("yaml", lambda: "\n".join(
        ["council: {name: C}", "meeting: {body: Cabinet, date: 2026-01-14}", "title: T", "sections:",
         "  purpose: [To test.]", "  recommendations:", "    - table:", "        header: [A]", "        rows:",
         f"          - [&c {'x' * 20000}]"] + ["          - [*c]"] * 99) + "\n"),
    "100,000 bullets (201 KB)": ("yaml", lambda: json.dumps(report([{"bullets": ["a"] * 2000}] * 50)).replace(" ", "")),
    "4,000 x 50 table": ("yaml", lambda: json.dumps(report([table([["1"] * 50] * 4000)])).replace(" ", "")),
    "150,000 [[a]] references": ("yaml", lambda: json.dumps(report(
        [{"p": "x", "label": "a"}] + [" ".join(["[[a]]"] * 3000)] * 50))),
    "95 KB of aliases": ("yaml", lambda: "a: &a " + "x" * 90000 + "\nb: [" + ", ".join(["*a"] * 1000) + "]\n"),
    "blocks + 1": ("json", lambda: json.dumps(report([{"bullets": ["a"] * 1000}] * (LIMITS["blocks"].value // 1000)))),
}


def run_refused() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for label, (suffix, make) in REFUSED.items():
            path = Path(tmp) / f"input.{suffix}"
            path.write_text(make(), encoding="utf-8")
            before = os.times()
            wall = time.monotonic()
            result = subprocess.run([sys.executable, "-m", "cabinet_reports", "check", str(path)],
                                    capture_output=True, text=True, cwd=ROOT)
            after = os.times()
            cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
            line = (result.stderr.strip().splitlines() or ["(no error)"])[0].replace(str(path), path.name)
            print(f"{label:45} {path.stat().st_size // 1024:>6} KB  exit {result.returncode}  "
                  f"{cpu:5.2f} s CPU  {time.monotonic() - wall:5.2f} s wall\n    {line}")


# Why one cell is quadratic: with ``overflow-wrap: anywhere`` (renderers/pdf.py puts it on
# the body so long words cannot push a table off the page) a cell's min-content width is one
# line per character, and WeasyPrint's split_first_line (text/line_break.py, step 5) lays out
# the whole rest of the text again for each of them. The probe lays out one long cell under
# the CSS variants a fix could use, straight through WeasyPrint.
CSS_VARIANTS = {
    "body anywhere (today)": "body { overflow-wrap: anywhere }",
    "cells break-word": "body { overflow-wrap: anywhere } td, th { overflow-wrap: break-word }",
    "fixed table layout": "body { overflow-wrap: anywhere } table { table-layout: fixed; width: 100% }",
}


def run_css_probe(size: int) -> None:
    import weasyprint

    text = words(size)
    html = (f"<html><body><table><tr><th>A</th><th>B</th></tr><tr><td>{text}</td><td>b</td></tr>"
            f"</table></body></html>")
    for label, css in CSS_VARIANTS.items():
        start = time.process_time()
        document = weasyprint.HTML(string=html).render(stylesheets=[weasyprint.CSS(string=css)])
        print(f"{label:24} {size:,}-character cell: {time.process_time() - start:6.2f} s, "
              f"{len(document.pages)} page(s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help=f"which to run (default: all): {', '.join(SCENARIOS)}")
    parser.add_argument("--size", type=int, nargs="+", help="sizes to run instead of the limit's value")
    parser.add_argument("--refused", action="store_true", help="time `make-report check` on inputs over the limits")
    parser.add_argument("--css-probe", type=int, metavar="CHARS",
                        help="lay out one cell of CHARS characters under CSS variants (why cells are quadratic)")
    parser.add_argument("--one", nargs=2, metavar=("SCENARIO", "SIZE"), help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.one:
        run_one(args.one[0], int(args.one[1]))
        return
    if args.refused:
        run_refused()
        return
    if args.css_probe:
        run_css_probe(args.css_probe)
        return
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r} (choose from {', '.join(SCENARIOS)})")
    for name in args.scenarios or SCENARIOS:
        limit, what, _ = SCENARIOS[name]
        for size in args.size or [LIMITS[limit].value]:
            over = " -- over the limit, refused by make-report" if size > LIMITS[limit].value else ""
            print(f"# {name}: {what.replace('SIZE', f'{size:,}')} (limit {limit} = {LIMITS[limit].value:,}){over}",
                  flush=True)
            subprocess.run([sys.executable, __file__, "--one", name, str(size)], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
