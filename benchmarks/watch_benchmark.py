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
and in CPU seconds of this process (which a busy machine disturbs less) and of the PDF
worker, and then the time from a save to the new PDF through the real file watcher.

``--stages`` also prints, for the warm re-renders, when each stage started and ended in
either process (median seconds from the start of ``Preview.render``), with its wall-clock
and CPU time: loading the report, its HTML, the DOCX and the wait in this process; the layout,
the PDF writing and the PDF/UA post-pass in the worker. A stage whose wall time exceeds its
CPU time waited for a CPU. A benchmark, not a test: nothing is asserted.
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


def worker_cpu(preview: Preview) -> float:
    """Return the CPU seconds the preview's PDF worker has used so far (0 without one)."""
    process = getattr(preview._worker, "_process", None)
    try:
        with open(f"/proc/{process.pid}/stat") as stat:  # a child not reaped yet: not in RUSAGE_CHILDREN
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (AttributeError, OSError, ValueError):
        return 0.0


# What --stages times, by module and function name (each looked up there when it is called).
# The worker is forked from this process at its first render, so it runs them wrapped too.
STAGES = [("cabinet_reports.watch", "prepare", "load, validate, number"),
          ("cabinet_reports.renderers.pdf", "render_html", "HTML"),
          ("cabinet_reports.renderers.docx", "render_docx", "DOCX"),
          ("cabinet_reports.renderers.pdf", "layout_html", "PDF layout (worker)"),
          ("cabinet_reports.renderers.pdf", "write_tagged_pdf", "PDF writing + post-pass (worker)"),
          ("cabinet_reports.renderers.pdf_tags", "fix_tags", "PDF/UA post-pass (worker)"),
          ("cabinet_reports.atomic", "write_files", "write the files")]


def record_stages(log: Path) -> None:
    """Wrap each stage to append (pid, stage, wall start, wall end, CPU seconds) to ``log``."""
    import functools
    import importlib
    import json

    def wrapped(fn, label):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            start, cpu = time.time(), time.process_time()  # time.time: one clock for both processes
            try:
                return fn(*args, **kwargs)
            finally:
                with log.open("a") as out:
                    out.write(json.dumps([os.getpid(), label, start, time.time(), time.process_time() - cpu]) + "\n")
        return run

    for module_name, name, label in STAGES:
        module = importlib.import_module(module_name)
        setattr(module, name, wrapped(getattr(module, name), label))


def print_stages(log: Path, renders: list[tuple[float, float]]) -> None:
    """Print each stage's median start, end, wall and CPU seconds within the given renders."""
    import json

    rows = [json.loads(line) for line in log.read_text().splitlines()]
    stages: dict[str, list[tuple[float, float, float, float]]] = {}
    for start, end in renders:
        for _pid, label, t0, t1, cpu in rows:
            if start <= t0 <= end:
                stages.setdefault(label, []).append((t0 - start, t1 - start, t1 - t0, cpu))
    print("stages of the warm re-renders (median s from the start of Preview.render):")
    print(f"  {'':34} {'start':>6} {'end':>6} {'wall':>6} {'CPU':>6}")
    for label, values in sorted(stages.items(), key=lambda item: statistics.median(v[0] for v in item[1])):
        print(f"  {label:34} " + " ".join(f"{statistics.median(v[i] for v in values):6.3f}" for i in range(4)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=DUDLEY)
    parser.add_argument("--saves", type=int, default=5)
    parser.add_argument("--format", default="pdf")
    parser.add_argument("--no-worker", action="store_true",
                        help="render in this process, without the PDF worker `make-report watch` keeps")
    parser.add_argument("--stages", action="store_true",
                        help="also time each stage of the warm re-renders, in this process and the worker")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "report"
        shutil.copytree(args.report.parent, folder)
        report = folder / args.report.name
        original = report.read_text(encoding="utf-8")
        preview = Preview(report, Path(tmp) / "out", formats=args.format, say=lambda _: None, warn=print,
                          pdf_worker=not args.no_worker)

        log = Path(tmp) / "stages.jsonl"
        if args.stages:
            record_stages(log)
        first = timed(lambda: preview.render())
        warm, spans, workers = [], [], []
        for n in range(args.saves):
            report.write_text(original.replace("title: ", f"title: Draft {n} ", 1), encoding="utf-8")
            before, start = worker_cpu(preview), time.time()
            warm.append(timed(lambda: preview.changed([str(report)])))
            spans.append((start, time.time()))
            workers.append(worker_cpu(preview) - before)
        walls, cpus = [w for w, _ in warm], [c for _, c in warm]
        print(f"watch {args.report.relative_to(ROOT) if args.report.is_relative_to(ROOT) else args.report} "
              f"({args.format}, {os.cpu_count()} CPUs, {'no ' if args.no_worker else ''}PDF worker): first render {first[0]:.2f} s ({first[1]:.2f} s CPU); "
              f"warm re-render median {statistics.median(walls):.2f} s ({statistics.median(cpus):.2f} s CPU here"
              + (f", {statistics.median(workers):.2f} s in the worker" if any(workers) else "")
              + f"), worst {max(walls):.2f} s over {args.saves} saves")
        if args.stages:
            print_stages(log, spans)

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
