"""Benchmark: one report, rendered by make-report, by bare WeasyPrint and by LibreOffice.

    python benchmarks/render_benchmark.py                 # the Dudley example, 7 rounds
    python benchmarks/render_benchmark.py --runs 11 --report path/to/report.yaml
    git archive main | tar -x -C /tmp/old                 # then, old and new watch loops side by side:
    python benchmarks/render_benchmark.py --only-warm --compare-with /tmp/old

Prints, from one interleaved run (every round runs each contender once, in a rotating
order, so a busy machine slows them alike), the median wall-clock and CPU time of each and
the ratios issue 10 sets goals for:

- P1  ``make-report render --format pdf`` (a fresh process) vs bare WeasyPrint in a fresh
      process rendering the same HTML (``--html``) with the same pdf_variant, fonts and
      base_url; goal <= 1.10.
- P2  ``make-report render`` (PDF and DOCX, a fresh process) vs
      ``soffice --headless --convert-to pdf`` of our DOCX (what councils do today); goal <= 1.0.
- P2w a warm re-render (PDF and DOCX) as ``make-report watch`` does after the officer saves
      the file (:class:`watch.Preview` with its PDF worker process, kept for the session): load,
      validate, number, render and write again; vs the same soffice run; goal <= 0.5. Before
      each round the loop saves its copy of the report with a new title (not timed), so each
      re-render lays out changed content. Also shown: the same re-render in-process without a
      worker (what a Python program calling ``api.render_jobs`` gets), the CPU time of its
      stages, and the PDF worker's CPU seconds alone: on two free CPUs the watch loop's wall
      time is about the worker's CPU time plus 0.05 s (loading the report and its HTML before
      the worker can start, writing after); on a machine whose other jobs leave one CPU free,
      the DOCX shares it with the layout and the wall time is nearer both processes' CPU time
      together (``benchmarks/watch_benchmark.py --stages`` shows each stage in both processes).
- the layout cost of the base stylesheet renderers.pdf puts under every theme (in this
  process, CPU time): layout with it vs with none, and with the ``overflow-wrap: anywhere``
  on the whole page it replaced.

CPU time is user + system time of the process and its children (``resource``): it is what
the work costs, whatever else the machine is doing; wall time is what a user waits. A first
round that is not counted warms the disk cache and creates soffice's own user profile. The
Python processes run with their bytecode cached (``PYTHONDONTWRITEBYTECODE`` is dropped and
the package compiled first), as an installed package is: recompiling cabinet_reports in every
process added about 0.08 s CPU to each command. It is a benchmark, not a test: nothing is
asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REPORT = ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"

BARE_WEASYPRINT = textwrap.dedent("""
    import sys
    import weasyprint
    html, base_url, out = sys.argv[1:4]
    weasyprint.HTML(filename=html, base_url=base_url).write_pdf(out, pdf_variant="pdf/ua-1")
""")

# A preview loop: one process that re-renders the report each time it is told to, as
# `make-report watch` does (with its PDF worker), or as a program calling the library does.
# Each request first saves the report with a new title (the officer's edit, not timed), so
# every re-render lays out new content as after a real save.
WARM_LOOP = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from cabinet_reports import pango_ffi
    from cabinet_reports.watch import Preview
    pango_ffi.enable()  # as `make-report watch` does
    report, outdir, worker = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "worker"
    original = report.read_text(encoding="utf-8")

    def worker_cpu(preview):
        # The worker is a child this process has not reaped: its CPU seconds so far, from /proc.
        process = getattr(preview._worker, "_process", None)
        try:
            with open(f"/proc/{process.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (AttributeError, OSError, ValueError):
            return 0.0

    with Preview(report, outdir, formats="pdf,docx", pdf_worker=worker, say=lambda _: None) as preview:
        for n, line in enumerate(sys.stdin):
            report.write_text(original.replace("title: ", f"title: Draft {n} ", 1), encoding="utf-8")
            before = worker_cpu(preview)
            wall, cpu = time.perf_counter(), time.process_time()
            assert preview.render()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(wall, cpu, worker_cpu(preview) - before, flush=True)
""")


WATCH = "warm re-render, make-report watch (PDF+DOCX)"
IN_PROCESS = "warm re-render, in-process (PDF+DOCX)"
WATCH_OTHER = "warm re-render, watch,"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command to completion; return its wall-clock and CPU seconds."""
    cpu, wall = children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - wall, children_cpu() - cpu


class WarmLoop:
    """A long-lived Python process that re-renders (its own copy of) the report on request."""

    def __init__(self, report: Path, workdir: Path, env: dict[str, str], worker: bool):
        shutil.copytree(report.parent, workdir / "report")
        self.proc = subprocess.Popen([sys.executable, "-c", WARM_LOOP, str(workdir / "report" / report.name),
                                      str(workdir / "out"), "worker" if worker else "in-process"], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def render(self) -> tuple[float, float, float]:
        """Save a change and render again; return the wall-clock and CPU seconds (with the
        worker's), and the worker's CPU seconds alone."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        wall, cpu, worker = map(float, self.proc.stdout.readline().split())
        return wall, cpu + worker, worker

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    parser.add_argument("--runs", type=int, default=7, help="counted rounds (default 7)")
    parser.add_argument("--json", action="store_true", help="also print the medians as JSON")
    parser.add_argument("--compare-with", type=Path, metavar="DIR",
                        help="also time the watch loop of the cabinet_reports in DIR (another checkout, e.g. "
                             "`git archive` of an older commit), in the same interleaved rounds")
    parser.add_argument("--only-warm", action="store_true",
                        help="time only the warm re-renders and soffice (for a quick old-against-new check)")
    args = parser.parse_args()
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    report = args.report.resolve()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    other = args.compare_with.resolve() if args.compare_with else None
    for tree in filter(None, [ROOT, other]):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "cabinet_reports")], check=True,
                       env=env, stdout=subprocess.DEVNULL)

    with tempfile.TemporaryDirectory(prefix="render-bench-") as tmp_name:
        tmp = Path(tmp_name)
        # The HTML the PDF is made from, and our DOCX for LibreOffice.
        subprocess.run([sys.executable, "-m", "cabinet_reports", "render", str(report), "-o", str(tmp / "seed"),
                        "--html", "--quiet"], check=True, env=env)
        html = next((tmp / "seed").glob("*.html"))
        docx = next((tmp / "seed").glob("*.docx"))
        sys.path.insert(0, str(ROOT))
        from cabinet_reports.theme import builtin_theme_dir

        base_url = str(builtin_theme_dir().resolve()) + "/"  # what renderers.pdf.weasy_html passes
        ours = [sys.executable, "-m", "cabinet_reports", "render", str(report), "--quiet", "-o"]
        contenders = {
            "make-report render --format pdf": ours + [str(tmp / "pdf"), "--format", "pdf"],
            "bare WeasyPrint (same HTML)": [sys.executable, "-c", BARE_WEASYPRINT, str(html), base_url,
                                            str(tmp / "bare.pdf")],
            "make-report render (PDF+DOCX)": ours + [str(tmp / "both")],
        }
        if soffice:
            contenders["soffice --convert-to pdf (our DOCX)"] = [
                soffice, f"-env:UserInstallation=file://{tmp / 'lo-profile'}", "--headless", "--convert-to", "pdf",
                "--outdir", str(tmp / "lo"), str(docx)]
        if args.only_warm:
            contenders = {name: cmd for name, cmd in contenders.items() if name.startswith("soffice")}
        loops = {WATCH: WarmLoop(report, tmp / "watch", env, worker=True),
                 IN_PROCESS: WarmLoop(report, tmp / "warm", env, worker=False)}
        if other is not None:
            other_env = dict(env, PYTHONPATH=str(other))
            loops[f"{WATCH_OTHER} {other.name}"] = WarmLoop(report, tmp / "watch-other", other_env, worker=True)
        names = [*contenders, *loops]
        results: dict[str, list[tuple[float, ...]]] = {name: [] for name in names}
        load_before = os.getloadavg()
        try:
            for round_no in range(args.runs + 1):  # round 0 warms disk caches and the soffice profile
                shift = round_no % len(names)
                for name in names[shift:] + names[:shift]:
                    sample = loops[name].render() if name in loops else timed(contenders[name], env)
                    if round_no:
                        results[name].append(sample)
        finally:
            for loop in loops.values():
                loop.close()
        load_after = os.getloadavg()

    wall = {name: statistics.median(s[0] for s in samples) for name, samples in results.items()}
    cpu = {name: statistics.median(s[1] for s in samples) for name, samples in results.items()}
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"report: {report.relative_to(ROOT) if report.is_relative_to(ROOT) else report}; "
          f"{args.runs} interleaved rounds, medians")
    print(f"{'':44} {'wall s':>7} {'CPU s':>7}")
    for name in names:
        print(f"{name:44} {wall[name]:7.2f} {cpu[name]:7.2f}")
    worker_cpu = {name: statistics.median(s[2] for s in results[name]) for name in loops}
    print("  (a watch loop's CPU is its main process's and its PDF worker's; the worker's alone, median: "
          + ", ".join(f"{name.split(', ', 1)[1]} {seconds:.2f} s" for name, seconds in worker_cpu.items() if seconds)
          + ")")

    def ratio(label: str, a: str, b: str, goal: float) -> None:
        if a not in wall or b not in wall:
            print(f"{label}: {b if a in wall else a} not measured")
            return
        print(f"{label}: {wall[a] / wall[b]:.2f}x wall, {cpu[a] / cpu[b]:.2f}x CPU   (goal <= {goal:.2f}x)")

    print()
    ratio("P1  render --format pdf / bare WeasyPrint", "make-report render --format pdf",
          "bare WeasyPrint (same HTML)", 1.10)
    ratio("P2  render PDF+DOCX, cold / soffice", "make-report render (PDF+DOCX)",
          "soffice --convert-to pdf (our DOCX)", 1.0)
    ratio("P2w render PDF+DOCX, warm (watch) / soffice", WATCH, "soffice --convert-to pdf (our DOCX)", 0.5)
    ratio("    same, in-process without a worker", IN_PROCESS, "soffice --convert-to pdf (our DOCX)", 0.5)
    if other is not None:
        ratio(f"    same, watch with the code in {other.name}", f"{WATCH_OTHER} {other.name}",
              "soffice --convert-to pdf (our DOCX)", 0.5)
    if args.only_warm:
        return
    stages = warm_stages(report, args.runs)
    print(f"warm in-process stages, CPU s: {', '.join(f'{k} {v:.3f}' for k, v in stages.items())}")
    layout = layout_costs(report, args.runs)
    print(f"layout of the same HTML, CPU s: {', '.join(f'{k} {v:.3f}' for k, v in layout.items())}")
    print(f"     base stylesheet / none: {layout['base stylesheet'] / layout['none']:.2f}x;  "
          f"anywhere on the page / none: {layout['anywhere on the page'] / layout['none']:.2f}x")
    if args.json:
        print(json.dumps({"wall": wall, "cpu": cpu, "layout": layout}, indent=1))


def warm_stages(report: Path, runs: int) -> dict[str, float]:
    """Return the median CPU seconds of each stage of a warm in-process PDF+DOCX re-render."""
    from cabinet_reports.api import prepare, resolve_theme
    from cabinet_reports.renderers import pdf, pdf_tags
    from cabinet_reports.renderers.docx import render_docx

    samples: dict[str, list[float]] = {}
    for round_no in range(runs + 1):
        laps = {}
        cpu = time.process_time()

        def lap(name: str) -> None:
            nonlocal cpu
            now = time.process_time()
            laps[name], cpu = now - cpu, now

        theme = resolve_theme(None)
        job = prepare(report, theme)
        lap("prepare")
        html = pdf.render_html(job.doc, theme, job.options)
        lap("HTML")
        document = pdf.layout_html(html, theme, job.doc.date, job.options.asset_dir)
        lap("layout")
        with pdf.font_timestamps(job.doc.date):
            raw = document.write_pdf(pdf_variant="pdf/ua-1")
        lap("write_pdf")
        pdf_tags.fix_tags(raw)
        lap("fix_tags")
        render_docx(job.doc, theme, job.options)
        lap("DOCX")
        if round_no:
            for name, value in laps.items():
                samples.setdefault(name, []).append(value)
    return {name: statistics.median(values) for name, values in samples.items()}


def layout_costs(report: Path, runs: int) -> dict[str, float]:
    """Return the median CPU seconds of laying out the report's HTML under each base stylesheet."""
    import weasyprint

    from cabinet_reports.api import prepare, resolve_theme
    from cabinet_reports.renderers import pdf

    theme = resolve_theme(None)
    job = prepare(report, theme)
    html = pdf.render_html(job.doc, theme, job.options)
    variants = {"base stylesheet": [pdf._wrap_css()], "none": [],
                "anywhere on the page": [weasyprint.CSS(string="body { overflow-wrap: anywhere; }")]}
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for round_no in range(runs + 1):
        for name, sheets in variants.items():
            cpu = time.process_time()
            with pdf.font_timestamps(job.doc.date):
                pdf.weasy_html(html, theme, job.options.asset_dir).render(
                    pdf_variant="pdf/ua-1", stylesheets=sheets, font_config=pdf.font_config(theme))
            if round_no:
                samples[name].append(time.process_time() - cpu)
    return {name: statistics.median(values) for name, values in samples.items()}


if __name__ == "__main__":
    main()
