"""Benchmark: the PDF/UA post-pass (renderers/pdf_tags.py) as a share of the render time.

    python benchmarks/pdf_tags_benchmark.py                 # the Dudley example, 5 rounds
    python benchmarks/pdf_tags_benchmark.py --rounds 3 REPORT.yaml

For each round it lays the report out, writes WeasyPrint's PDF, then runs the post-pass on
those bytes, and prints the median of each step and the post-pass as a fraction of the whole
render (layout + write + post-pass), in CPU time (``time.process_time``: steady on a shared
machine) and wall-clock time. It is a benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cabinet_reports.api import build, load_report, render_options, resolve_theme  # noqa: E402
from cabinet_reports.renderers.pdf import font_timestamps, layout  # noqa: E402
from cabinet_reports.renderers.pdf_tags import fix_tags  # noqa: E402

DUDLEY = ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", type=Path, default=DUDLEY)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    report = load_report(args.report)
    theme = resolve_theme(None)
    doc = build(report, theme)
    options = render_options(report)
    steps = ("layout", "write", "post-pass")
    cpu: dict[str, list[float]] = {step: [] for step in steps}
    wall: dict[str, list[float]] = {step: [] for step in steps}
    pages = 0
    for _ in range(args.rounds):
        marks = [(time.process_time(), time.perf_counter())]
        document = layout(doc, theme, options)
        marks.append((time.process_time(), time.perf_counter()))
        with font_timestamps(doc.date):
            raw = document.write_pdf(pdf_variant="pdf/ua-1")
        marks.append((time.process_time(), time.perf_counter()))
        fix_tags(raw)
        marks.append((time.process_time(), time.perf_counter()))
        pages = len(document.pages)
        for step, before, after in zip(steps, marks, marks[1:]):
            cpu[step].append(after[0] - before[0])
            wall[step].append(after[1] - before[1])
    print(f"{args.report.name}: {pages} pages, median of {args.rounds} rounds")
    print(f"  {'':10s} {'CPU ms':>9s} {'wall ms':>9s}")
    for step in steps:
        print(f"  {step:10s} {statistics.median(cpu[step]) * 1000:9.1f} {statistics.median(wall[step]) * 1000:9.1f}")
    for label, times in (("CPU", cpu), ("wall-clock", wall)):
        median = {step: statistics.median(values) for step, values in times.items()}
        print(f"  post-pass share of the render ({label}): {median['post-pass'] / sum(median.values()):.1%}")


if __name__ == "__main__":
    main()
