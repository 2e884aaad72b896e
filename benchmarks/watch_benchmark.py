"""Benchmark: how quickly `make-report watch` renders a report again after a save.

    python benchmarks/watch_benchmark.py                 # the Dudley example, PDF, 5 saves
    python benchmarks/watch_benchmark.py --saves 10 --format pdf,docx
    python benchmarks/watch_benchmark.py --report examples/salford-2003-progress-note/report.yaml

Runs :class:`cabinet_reports.watch.Preview` in this process on a temporary copy of the report,
as `watch` does (with its PDF worker process unless ``--no-worker``; the CPU seconds are this
process's only, so with the worker they leave the PDF out): one first render (WeasyPrint
imported, theme loaded, fonts found), then a change to the report saved and rendered again
``--saves`` times with the theme kept warm.
Prints the first render and the warm re-renders (median and worst), in wall-clock seconds
and in CPU seconds of this process (which a busy machine disturbs less), and then the time
from a save to the new PDF through the real file watcher. A benchmark, not a test: nothing
is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cabinet_reports.watch import Preview  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DUDLEY = ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"


def timed(action) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=DUDLEY)
    parser.add_argument("--saves", type=int, default=5)
    parser.add_argument("--format", default="pdf")
    parser.add_argument("--no-worker", action="store_true",
                        help="render in this process, without the PDF worker `make-report watch` keeps")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "report"
        shutil.copytree(args.report.parent, folder)
        report = folder / args.report.name
        original = report.read_text(encoding="utf-8")
        preview = Preview(report, Path(tmp) / "out", formats=args.format, say=lambda _: None, warn=print,
                          pdf_worker=not args.no_worker)

        first = timed(lambda: preview.render())
        warm = []
        for n in range(args.saves):
            report.write_text(original.replace("title: ", f"title: Draft {n} ", 1), encoding="utf-8")
            warm.append(timed(lambda: preview.changed([str(report)])))
        walls, cpus = [w for w, _ in warm], [c for _, c in warm]
        print(f"watch {args.report.relative_to(ROOT) if args.report.is_relative_to(ROOT) else args.report} "
              f"({args.format}, {os.cpu_count()} CPUs, {'no ' if args.no_worker else ''}PDF worker): first render {first[0]:.2f} s ({first[1]:.2f} s CPU); "
              f"warm re-render median {statistics.median(walls):.2f} s ({statistics.median(cpus):.2f} s CPU), "
              f"worst {max(walls):.2f} s over {args.saves} saves")

        # Through the real watcher: save, then wait for the PDF to change on disk.
        stop = threading.Event()
        rendered = threading.Event()
        preview.say = lambda _: rendered.set()
        thread = threading.Thread(target=preview.watch, kwargs={"stop_event": stop}, daemon=True)
        thread.start()
        rendered.wait(120)
        latencies = []
        for n in range(args.saves):
            rendered.clear()
            time.sleep(0.5)  # let the watcher settle before the next save
            started = time.perf_counter()
            tmp_file = report.with_name("." + report.name + ".swp")
            tmp_file.write_text(original.replace("title: ", f"title: Saved {n} ", 1), encoding="utf-8")
            os.replace(tmp_file, report)
            if rendered.wait(120):
                latencies.append(time.perf_counter() - started)
        stop.set()
        thread.join(30)
        preview.close()
        if latencies:
            print(f"save to new output through the file watcher: median {statistics.median(latencies):.2f} s, "
                  f"worst {max(latencies):.2f} s over {len(latencies)} saves")


if __name__ == "__main__":
    main()
