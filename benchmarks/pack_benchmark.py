"""Benchmark: meeting packs, as ratios measured in one run (issue 10's P3 and P4 targets).

    python benchmarks/pack_benchmark.py                 # everything (a few minutes on 2 cores)
    python benchmarks/pack_benchmark.py --no-scale      # skip the 1,000-page pack
    python benchmarks/pack_benchmark.py --reports 10 --jobs 1

Every build is a fresh `make-report pack` process, as a clerk runs it, on a generated meeting
of reports of about ten pages each (the last one Part B, so both packs differ). It prints:

- P3: a 40-report pack (about 400 pages, tagged) against rendering the same reports' HTML as
  ONE tagged WeasyPrint document (a fresh process too); target ≤ 0.6.
- P3: pages per second of a 1,000-page pack against a 100-page one; target ≥ 0.9.
- P3: peak resident memory of the pack's main process and of its largest worker; ≤ 500 MB.
- P4: a rebuild after one sentence of one report changed, and a rebuild with nothing changed,
  against the full build of the same round (with the cache that build left, in a --cache-dir
  of its own under the benchmark's temporary folder), each round's rebuilds right after its
  full build; the median of the rounds' ratios; targets ≤ 0.15 and ≤ 0.10.

Each ratio is given for wall time (the target) and for CPU time (user + system of the whole
process tree): on a machine busy with other work, wall times stretch and the CPU ratio is the
steadier figure. The load average is printed before and after, and the benchmark's own running
time at the end (about 4 minutes on a quiet 2-core machine with the defaults; each --repeat adds
a pack, a one-document build and two rebuilds).

It is a benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = ("The council has reviewed the arrangements for service delivery in this area and considered "
            "the views of partners, residents and the relevant scrutiny committee before making proposals. ")

# Runs the CLI and reports its own peak RSS and its largest child's (the workers), in MB.
_PACK = textwrap.dedent("""
    import json, resource, sys
    from cabinet_reports import pango_ffi
    from cabinet_reports.cli import main
    pango_ffi.enable(keep="--no-cache" not in sys.argv)  # as make-report does
    code = main(sys.argv[1:])
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"code": code, "main_mb": own, "worker_mb": workers}), file=sys.stderr)
""")

# Renders every report's HTML as one WeasyPrint document: the bodies one after another.
_ONE_DOCUMENT = textwrap.dedent("""
    import re, sys
    from pathlib import Path
    from cabinet_reports.api import build, load_report, render_options
    from cabinet_reports.renderers.pdf import render_html, layout_html, write_tagged_pdf
    from cabinet_reports.theme import Theme

    theme = Theme()
    head, bodies = None, []
    for path in sys.argv[2:]:
        report = load_report(path)
        html = render_html(build(report, theme), theme, render_options(report))
        head = head or html[:html.index("<body")]
        body = html[html.index(">", html.index("<body")) + 1:html.rindex("</body>")]
        bodies.append('<div style="break-before: page">' + body + "</div>")
    report = load_report(sys.argv[2])
    document = layout_html(head + "<body>" + "".join(bodies) + "</body></html>", theme, report.meeting.date,
                           Path(sys.argv[2]).parent)
    Path(sys.argv[1]).write_bytes(write_tagged_pdf(document, report.meeting.date))
    print(len(document.pages))
""")


def report_yaml(n: int, paragraphs: int, exempt: bool, variant: str = "") -> str:
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
    - To report on benchmark topic {n}.{variant}
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
    folder.mkdir(parents=True, exist_ok=True)
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


def _env() -> dict[str, str]:
    # With their bytecode kept (as an installed package's is; render_benchmark.py does the same):
    # a PYTHONDONTWRITEBYTECODE=1 environment made every process compile the package again.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _cpu() -> float:
    """CPU seconds (user + system) of every finished child process and its children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pack(meeting: Path, out: Path, jobs: int | None, *extra: str) -> dict:
    """Build a pack in a fresh process; return its wall and CPU time, peak memory and pages."""
    args = ["pack", str(meeting), "-o", str(out), *extra] + (["--jobs", str(jobs)] if jobs else [])
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run([sys.executable, "-c", _PACK, *args], capture_output=True, text=True, env=_env())
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    stats = json.loads(done.stderr.strip().splitlines()[-1])
    if stats["code"] != 0:
        raise SystemExit(done.stdout + done.stderr)
    pages = [int(w) for line in done.stdout.splitlines() if line.startswith("public pack:")
             for w in line.replace(";", " ").split() if w.isdigit()]
    return dict(stats, seconds=seconds, cpu=cpu, public_pages=pages[0], full_pages=pages[1])


def one_document(folder: Path, reports: int) -> dict:
    paths = [str(folder / f"report-{n:02d}.yaml") for n in range(1, reports + 1)]
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run([sys.executable, "-c", _ONE_DOCUMENT, str(folder / "one.pdf"), *paths],
                          capture_output=True, text=True, env=_env(), check=True)
    return {"seconds": time.perf_counter() - start, "cpu": _cpu() - cpu, "pages": int(done.stdout.split()[-1])}


def _median(runs: list[dict]) -> dict:
    """The run with the median wall time (its other figures come with it)."""
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def _load() -> str:
    """The machine's load while measuring (other work on it stretches wall times, not CPU times)."""
    try:
        return "load average %.1f %.1f %.1f" % os.getloadavg()
    except OSError:  # pragma: no cover - no getloadavg
        return "load unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=40, help="reports in the P3/P4 pack (default 40)")
    parser.add_argument("--paragraphs", type=int, default=33, help="background paragraphs per report (~10 pages)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: make-report's)")
    parser.add_argument("--no-scale", action="store_true", help="skip the 100- and 1,000-page packs")
    parser.add_argument("--repeat", type=int, default=1,
                        help="build the pack, the one document and the two rebuilds this many times, "
                             "interleaved; report medians (default 1)")
    args = parser.parse_args()
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "cabinet_reports")], check=True,
                   env=_env(), stdout=subprocess.DEVNULL)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "meeting"
        meeting = make_meeting(folder, args.reports, args.paragraphs)
        print(f"machine: {os.cpu_count()} CPUs; Python {sys.version.split()[0]}; "
              f"{args.reports} reports; jobs: {args.jobs or 'default'}; {_load()}")

        # P3: the pack against one WeasyPrint document of the same reports; P4: each pack rebuilt
        # right after it (with the cache it left), after one sentence of one report changed and
        # with nothing changed, so that each rebuild is divided by the full build of its round.
        target = folder / f"report-{args.reports // 2:02d}.yaml"
        runs, singles, changed, unchanged = [], [], [], []
        for n in range(args.repeat):  # each full build with a cache of its own: a cold build
            out, cache = tmp / f"out-{n}", str(tmp / f"cache-{n}")
            runs.append(pack(meeting, out, args.jobs, "--cache-dir", cache))
            target.write_text(report_yaml(args.reports // 2, args.paragraphs, False, f" One sentence changed ({n})."),
                              encoding="utf-8")
            changed.append(pack(meeting, out, args.jobs, "--cache-dir", cache))
            unchanged.append(pack(meeting, out, args.jobs, "--cache-dir", cache))
            singles.append(one_document(folder, args.reports))  # the same reports, one sentence apart
        full, single = _median(runs), _median(singles)
        if args.repeat > 1:
            print(f"P3 medians of {args.repeat} interleaved runs; pack wall times "
                  + ", ".join(f"{r['seconds']:.1f}" for r in runs) + " s; one document "
                  + ", ".join(f"{r['seconds']:.1f}" for r in singles) + " s")
        print(f"P3 pack build: {full['seconds']:.1f} s wall, {full['cpu']:.1f} s CPU for {full['public_pages']} "
              f"public + {full['full_pages']} full pages; one WeasyPrint document of the same reports: "
              f"{single['seconds']:.1f} s wall, {single['cpu']:.1f} s CPU for {single['pages']} pages")
        print(f"P3 pack / one document: {full['seconds'] / single['seconds']:.2f} wall, "
              f"{full['cpu'] / single['cpu']:.2f} CPU  (target <= 0.6 wall)")
        print(f"P3 peak RSS: main process {full['main_mb']:.0f} MB; largest worker {full['worker_mb']:.0f} MB  "
              "(target <= 500 MB each)")
        for label, rebuilds, goal in (("one report changed", changed, 0.15), ("nothing changed", unchanged, 0.10)):
            wall = [r["seconds"] / f["seconds"] for r, f in zip(rebuilds, runs)]
            cpu = [r["cpu"] / f["cpu"] for r, f in zip(rebuilds, runs)]
            each = (f"; rounds: {', '.join(f'{r:.2f}' for r in wall)}" if args.repeat > 1 else "")
            run = _median(rebuilds)
            print(f"P4 rebuild, {label}: {run['seconds']:.1f} s wall, {run['cpu']:.1f} s CPU; "
                  f"{statistics.median(wall):.2f} x its round's full build wall, {statistics.median(cpu):.2f} x CPU "
                  f"(median){each}  (target <= {goal})")

        if not args.no_scale:
            rates = {}
            for reports in (10, 100):
                m = make_meeting(tmp / f"scale-{reports}", reports, args.paragraphs)
                run = pack(m, tmp / f"scale-out-{reports}", args.jobs, "--no-cache")
                rates[reports] = (run["full_pages"] / run["seconds"], run["full_pages"] / run["cpu"])
                print(f"P3 scale: {run['full_pages']} pages in {run['seconds']:.1f} s wall "
                      f"({rates[reports][0]:.1f} pages/s), {run['cpu']:.1f} s CPU ({rates[reports][1]:.1f} pages/CPU s); "
                      f"peak RSS main {run['main_mb']:.0f} MB, largest worker {run['worker_mb']:.0f} MB")
            print(f"P3 pages/s at ~1,000 pages / at ~100 pages: {rates[100][0] / rates[10][0]:.2f} wall, "
                  f"{rates[100][1] / rates[10][1]:.2f} CPU  (target >= 0.9)")
        print(f"{_load()}; the benchmark ran {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
