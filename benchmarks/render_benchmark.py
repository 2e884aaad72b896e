"""Benchmark: one report, rendered by make-report, by bare WeasyPrint and by LibreOffice.

    python benchmarks/render_benchmark.py                 # the Dudley example, 7 rounds
    python benchmarks/render_benchmark.py --runs 11 --report path/to/report.yaml

Prints, from one interleaved run (every round runs each contender once, in a rotating
order, so a busy machine slows them alike), the median wall-clock and CPU time of each and
the ratios issue 10 sets goals for:

- P1  ``make-report render --format pdf`` (a fresh process) vs bare WeasyPrint in a fresh
      process rendering the same HTML (``--html``) with the same pdf_variant, fonts and
      base_url; goal <= 1.10.
- P2  ``make-report render`` (PDF and DOCX, a fresh process) vs
      ``soffice --headless --convert-to pdf`` of our DOCX (what councils do today); goal <= 1.0.
- P2w a warm re-render (PDF and DOCX) inside one long-lived Python process, as a watch or
      preview loop does after the officer saves the file: load, validate, number, render and
      write again; vs the same soffice run; goal <= 0.5.
- the layout cost of the base stylesheet renderers.pdf puts under every theme (in this
  process, CPU time): layout with it vs with none, and with the ``overflow-wrap: anywhere``
  on the whole page it replaced.

CPU time is user + system time of the process and its children (``resource``): it is what
the work costs, whatever else the machine is doing; wall time is what a user waits. A first
round that is not counted warms the disk cache and creates soffice's own user profile. It is
a benchmark, not a test: nothing is asserted.
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

# A preview loop: one process that re-renders the report each time it is told to.
WARM_LOOP = textwrap.dedent("""
    import sys, time
    from cabinet_reports.api import prepare, render_jobs, resolve_theme
    report, outdir = sys.argv[1:3]
    for line in sys.stdin:
        wall, cpu = time.perf_counter(), time.process_time()
        theme = resolve_theme(None)
        render_jobs([prepare(report, theme)], outdir, formats=("pdf", "docx"), theme=theme)
        print(time.perf_counter() - wall, time.process_time() - cpu, flush=True)
""")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command to completion; return its wall-clock and CPU seconds."""
    cpu, wall = children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - wall, children_cpu() - cpu


class WarmLoop:
    """A long-lived Python process that re-renders the report on request."""

    def __init__(self, report: Path, outdir: Path, env: dict[str, str]):
        self.proc = subprocess.Popen([sys.executable, "-c", WARM_LOOP, str(report), str(outdir)], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def render(self) -> tuple[float, float]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        wall, cpu = self.proc.stdout.readline().split()
        return float(wall), float(cpu)

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    parser.add_argument("--runs", type=int, default=7, help="counted rounds (default 7)")
    parser.add_argument("--json", action="store_true", help="also print the medians as JSON")
    args = parser.parse_args()
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    report = args.report.resolve()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

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
        warm = WarmLoop(report, tmp / "warm", env)
        names = [*contenders, "warm re-render in-process (PDF+DOCX)"]
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        load_before = os.getloadavg()
        try:
            for round_no in range(args.runs + 1):  # round 0 warms disk caches and the soffice profile
                shift = round_no % len(names)
                for name in names[shift:] + names[:shift]:
                    sample = warm.render() if name not in contenders else timed(contenders[name], env)
                    if round_no:
                        results[name].append(sample)
        finally:
            warm.close()
        load_after = os.getloadavg()

    wall = {name: statistics.median(s[0] for s in samples) for name, samples in results.items()}
    cpu = {name: statistics.median(s[1] for s in samples) for name, samples in results.items()}
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"report: {report.relative_to(ROOT) if report.is_relative_to(ROOT) else report}; "
          f"{args.runs} interleaved rounds, medians")
    print(f"{'':42} {'wall s':>7} {'CPU s':>7}")
    for name in names:
        print(f"{name:42} {wall[name]:7.2f} {cpu[name]:7.2f}")

    def ratio(label: str, a: str, b: str, goal: float) -> None:
        if b not in wall:
            print(f"{label}: {b} not available")
            return
        print(f"{label}: {wall[a] / wall[b]:.2f}x wall, {cpu[a] / cpu[b]:.2f}x CPU   (goal <= {goal:.2f}x)")

    print()
    ratio("P1  render --format pdf / bare WeasyPrint", "make-report render --format pdf",
          "bare WeasyPrint (same HTML)", 1.10)
    ratio("P2  render PDF+DOCX, cold / soffice", "make-report render (PDF+DOCX)",
          "soffice --convert-to pdf (our DOCX)", 1.0)
    ratio("P2w render PDF+DOCX, warm / soffice", "warm re-render in-process (PDF+DOCX)",
          "soffice --convert-to pdf (our DOCX)", 0.5)
    layout = layout_costs(report, args.runs)
    print(f"layout of the same HTML, CPU s: {', '.join(f'{k} {v:.3f}' for k, v in layout.items())}")
    print(f"     base stylesheet / none: {layout['base stylesheet'] / layout['none']:.2f}x;  "
          f"anywhere on the page / none: {layout['anywhere on the page'] / layout['none']:.2f}x")
    if args.json:
        print(json.dumps({"wall": wall, "cpu": cpu, "layout": layout}, indent=1))


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
