"""Benchmark: build the pack for a generated meeting of 40 reports (about 400 pages).

    python benchmarks/pack_benchmark.py               # default: 40 reports, jobs = CPU count
    python benchmarks/pack_benchmark.py --reports 10 --jobs 1

Prints the page counts, the wall-clock build time and peak memory: the resident set size of
this process and of the largest worker process (``resource.getrusage``). With
``--tracemalloc`` it also prints the peak of Python allocations in this process (slower).
It is a benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cabinet_reports.pack import build_pack  # noqa: E402

SENTENCE = ("The council has reviewed the arrangements for service delivery in this area and considered "
            "the views of partners, residents and the relevant scrutiny committee before making proposals. ")


def report_yaml(n: int, paragraphs: int, exempt: bool) -> str:
    body = "\n".join(f"    - p: \"{n}.{i} {SENTENCE * 4}\"" for i in range(paragraphs))
    rows = "\n".join(f"          - [Line {r}, \"{r * 1000:,}\", \"{r * 900:,}\"]" for r in range(1, 16))
    classification = "{status: exempt, paragraphs: [3]}" if exempt else "public"
    return f"""council: {{name: Benchmark Borough Council}}
meeting: {{body: Cabinet, date: 2026-03-18}}
title: Benchmark report {n}
report_of: the Director of Resources
key_decision: FP/{n:03d}/26
classification: {classification}
sections:
  purpose:
    - To report on benchmark topic {n}.
  background:
{body}
  finance:
    - p: The figures are set out below.
    - table:
        caption: Budget lines
        header: [Line, Budget, Forecast]
        rows:
{rows}
  recommendations:
    - That Cabinet notes the report.
"""


def make_meeting(folder: Path, reports: int, paragraphs: int) -> Path:
    items = ["  - title: Apologies for absence", "  - title: Declarations of interest"]
    for n in range(1, reports + 1):
        exempt = n == reports  # the last report is Part B, so both packs differ
        (folder / f"report-{n:02d}.yaml").write_text(report_yaml(n, paragraphs, exempt), encoding="utf-8")
        items.append(f"  - report: report-{n:02d}.yaml" + (f"\n    public_title: Item {n}" if exempt else ""))
    meeting = folder / "meeting.yaml"
    meeting.write_text(
        "council: Benchmark Borough Council\nbody: Cabinet\ndate: 2026-03-18\ntime: \"6.00 pm\"\n"
        "venue: Town Hall\ncontact: {name: Democratic Services}\nitems:\n" + "\n".join(items) + "\n",
        encoding="utf-8")
    return meeting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--paragraphs", type=int, default=33, help="background paragraphs per report (~10 pages)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPU count)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        meeting = make_meeting(folder, args.reports, args.paragraphs)
        if args.tracemalloc:
            tracemalloc.start()
        start = time.perf_counter()
        result = build_pack(meeting, folder / "out", jobs=args.jobs)
        elapsed = time.perf_counter() - start
        size = sum(p.stat().st_size for p in (folder / "out").rglob("*") if p.is_file())
        print(f"reports: {args.reports}; jobs: {args.jobs or 'auto'} on {os.cpu_count()} CPUs")
        print(f"public pack: {result.public_pages} pages; full pack: {result.full_pages} pages; "
              f"outputs: {len(result.files)} files, {size / 1e6:.1f} MB")
        print(f"build time: {elapsed:.1f} s")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak RSS: main process {own:.0f} MB; largest worker {children:.0f} MB")
        if args.tracemalloc:
            _, peak = tracemalloc.get_traced_memory()
            print(f"tracemalloc peak (main process, Python allocations): {peak / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
