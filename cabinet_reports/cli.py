"""The `make-report` command: parse arguments, make one library call, map errors to exit codes.

Exit codes: 0 success; 2 bad input (report, meeting, theme or options), printed as one located
line per problem without a traceback; 1 an unexpected internal error.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

from . import __version__, pango_ffi
from .errors import CabinetReportsError

EXIT_OK, EXIT_BUG, EXIT_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="make-report",
        description="Validate, number and render UK council cabinet reports (PDF and DOCX) "
                    "and build meeting packs.",
        epilog="Exit codes: 0 success, 2 invalid input (one located line per problem), 1 internal error.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    render = sub.add_parser(
        "render", help="render report files to PDF, DOCX and HTML web pages",
        description="Render one or more report files (YAML, JSON or Markdown) into OUTDIR. Each REPORT.yaml "
                    "gives OUTDIR/REPORT.pdf and .docx (and .html with --format html); a file named "
                    "report.yaml (or report.md) takes its folder's name. All inputs are checked before anything is written.")
    render.add_argument("reports", nargs="+", metavar="REPORT", type=Path, help="report file (.yaml, .yml, .json or .md)")
    render.add_argument("-o", "--outdir", type=Path, default=Path("."), metavar="OUTDIR",
                        help="folder to write into (created if missing; default: current folder)")
    render.add_argument("-f", "--format", default="pdf,docx", metavar="FORMATS",
                        help="comma-separated output formats: pdf, docx, html (default: pdf,docx); "
                             "html is the accessible web page, one self-contained file")
    render.add_argument("-t", "--theme", type=Path, metavar="DIR",
                        help="theme folder whose files override the built-in theme")
    render.add_argument("--html", action="store_true",
                        help="also write the HTML intermediate the PDF is made from, as NAME.html (for theme "
                             "authors: print CSS, not the web page; cannot be combined with --format html)")
    render.add_argument("--print-link-urls", action=argparse.BooleanOptionalAction, default=None,
                        help="print each web link's address after its text in the PDF, for paper "
                             "(default: the theme's print_link_urls setting)")
    render.add_argument("--no-cache", action="store_true",
                        help="compile the theme's templates afresh and keep nothing in the user's cache folder "
                             "(by default compiled templates are kept in ~/.cache/cabinet_reports/templates, "
                             "readable by you only)")
    render.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")

    check = sub.add_parser(
        "check", help="validate and lint report files (or check meeting files) without rendering",
        description="Validate and number report files, then run the theme's report lint (expected sections, "
                    "length, word limits, readability, acronyms, placeholders, link text, forward plan, "
                    "background papers, clearances); print problems, write nothing. A meeting file (one with agenda items) "
                    "is checked as `pack` would: every report validated, and the pack's warnings (reports for "
                    "another meeting, date or item number; a meeting on a weekend or bank holiday; …). Findings "
                    "print one a line on stderr as FILE:LINE: FIELD: SEVERITY: MESSAGE [CHECK]; a file that "
                    "passes prints FILE: ok.")
    check.add_argument("reports", nargs="+", metavar="FILE", type=Path,
                       help="report file (.yaml, .yml, .json or .md) or meeting file (.yaml, .yml or .json)")
    check.add_argument("-t", "--theme", type=Path, metavar="DIR", help="theme folder (see render)")
    check.add_argument("--strict", action="store_true", help="warnings fail the check too (exit 2)")
    check.add_argument("--format", choices=["text", "json"], default="text", dest="output",
                       help="text (default), or json: one JSON list on stdout of every problem and finding "
                            "(file, line, field, check, severity, message), for editors and CI")

    watch = sub.add_parser(
        "watch", help="render a report again every time it is saved (live preview)",
        description="Render REPORT into OUTDIR, then again on every save of the report, its logo or the "
                    "theme folder, keeping the theme loaded so a re-render is quick. An invalid save prints its "
                    "located problems and keeps the last good output. Ctrl-C stops (exit 0).")
    watch.add_argument("report", metavar="REPORT", type=Path, help="report file (.yaml, .yml, .json or .md)")
    watch.add_argument("-o", "--outdir", type=Path, required=True, metavar="OUTDIR",
                       help="folder to write into (created if missing)")
    watch.add_argument("-f", "--format", default="pdf", metavar="FORMATS",
                       help="comma-separated output formats: pdf, docx, html (default: pdf)")
    watch.add_argument("-t", "--theme", type=Path, metavar="DIR", help="theme folder (see render); watched too")

    pack = sub.add_parser(
        "pack", help="build a meeting's agenda and reports packs",
        description="Build the agenda (PDF and DOCX), public-pack.pdf (Part B items replaced by a notice), "
                    "full-pack.pdf (with Part B items, marked NOT FOR PUBLICATION) and items/ (one file per "
                    "item) into OUTDIR; with several meetings, each into OUTDIR/<meeting name>/. Every report is "
                    "checked first; on any problem nothing is written. Reports unchanged since the last build "
                    "are not rendered again (cache: the user's cache folder, see --cache-dir).")
    pack.add_argument("meetings", nargs="+", metavar="MEETING", type=Path, help="meeting file (.yaml, .yml or .json)")
    pack.add_argument("-o", "--outdir", type=Path, required=True, metavar="OUTDIR",
                      help="folder to write into (created if missing)")
    pack.add_argument("--published-on", type=_date, metavar="DATE",
                      help="planned publication date (YYYY-MM-DD): warn if it gives too few clear days")
    pack.add_argument("-t", "--theme", type=Path, metavar="DIR", help="theme folder (see render)")
    pack.add_argument("-j", "--jobs", type=_positive, metavar="N",
                      help="reports rendered in parallel (default: one per CPU for 4 or more reports to render)")
    pack.add_argument("--cache-dir", type=Path, metavar="DIR",
                      help="keep rendered reports in DIR, never inside OUTDIR: it holds Part B renders "
                           "(default: $XDG_CACHE_HOME/cabinet_reports/packs, else ~/.cache/cabinet_reports/packs)")
    pack.add_argument("--no-cache", action="store_true",
                      help="render every report again and keep nothing")
    pack.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary; warnings still print")
    pack.add_argument("--strict", action="store_true",
                      help="any warning is an error: exit 2 and write nothing (default: warn and build)")

    new = sub.add_parser(
        "new", help="write a starter report to fill in",
        description="Write a starter report: every section of the theme in order, mandatory ones marked, "
                    "the theme's guidance as comments and placeholders that pass `check`. Never overwrites "
                    "a file.")
    new.add_argument("file", metavar="FILE", type=Path, help="the file to create (.md or .yaml)")
    new.add_argument("-t", "--theme", type=Path, metavar="DIR", help="theme folder (see render)")
    new.add_argument("-k", "--kind", choices=["report", "note"], default="report",
                     help="a cabinet report (numbered) or a briefing note (default: report)")
    new.add_argument("-f", "--format", choices=["md", "yaml"],
                     help="Markdown or YAML (default: from FILE's suffix)")

    schema = sub.add_parser(
        "schema", help="print the JSON Schema of the report format (for editors)",
        description="Print the JSON Schema of the report format (or, with --meeting, the meeting format) "
                    "for editor completion and checking: make-report schema > report.schema.json")
    schema.add_argument("-t", "--theme", type=Path, metavar="DIR",
                        help="theme folder whose section keys, headings and guidance the schema offers")
    schema.add_argument("--meeting", action="store_true", help="the meeting format instead of the report format")
    return parser


def _positive(text: str) -> int:
    """Parse a whole number of at least 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date '{text}' (use YYYY-MM-DD)") from None


class _RichProgress:
    """A rich progress bar on stderr for `pack`."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        self.task = None

    def start(self, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("checking", total=total)

    def advance(self, description: str) -> None:
        if self.task is not None:
            self.bar.update(self.task, advance=1, description=description)

    def stop(self) -> None:
        self.bar.stop()


def _pack(args: argparse.Namespace) -> int:
    from .pool import WarmPool, report_items, user_theme_dir

    def warn(line: str) -> None:
        print(f"make-report: warning: {line}", file=sys.stderr)

    progress = _RichProgress() if sys.stderr.isatty() and not args.quiet else None
    options = dict(theme=args.theme, published_on=args.published_on, progress=progress, jobs=args.jobs, warn=warn,
                   cache=False if args.no_cache else (args.cache_dir or True), strict=args.strict)
    try:
        with _terminate_cleanly():
            # Before the pack's stages are imported (0.7 s: the models, pikepdf, python-docx):
            # its first worker imports WeasyPrint and lays out a first page meanwhile.
            warm = None
            try:
                warm = WarmPool.start(None, args.jobs, sum(report_items(m) for m in args.meetings),
                                      user_theme_dir(args.theme))
                from .pack import build_pack, build_packs

                if len(args.meetings) == 1:
                    results = [build_pack(args.meetings[0], args.outdir, warm_pool=warm, **options)]
                else:
                    results = build_packs(args.meetings, args.outdir, warm_pool=warm, **options)
            except BaseException:
                if warm is not None:  # the build stops it too; stopping twice is harmless
                    warm.stop(abort=True)
                raise
    finally:
        if progress is not None:
            progress.stop()
    if not args.quiet:
        for meeting, result in zip(args.meetings, results):
            if len(results) > 1:
                print(f"{meeting}:")
            print(f"latest publication date: {result.latest_publication.strftime('%A')} "
                  f"{result.latest_publication.isoformat()}")
            print(f"public pack: {result.public_pages} pages; full pack: {result.full_pages} pages")
            for path in result.files:
                exempt = path.name == "full-pack.pdf" or path.parent.name == "part-b"
                print(f"wrote {path}" + ("  (contains Part B: not for publication)" if exempt else ""))
            for path in result.removed:
                print(f"removed {path}  (written by an earlier build, not by this one)")
    return EXIT_OK


class _Terminated(BaseException):
    """SIGTERM arrived: unwind (stopping worker processes and removing temp files) and exit."""


# Set once SIGTERM has arrived: whatever the unwinding raises instead (a library that caught
# the exception halfway and raised its own), the build was stopped by the signal.
_SIGTERM_SEEN: list[bool] = []


def _on_sigterm(signum: int, frame: Any) -> None:
    _SIGTERM_SEEN.append(True)
    raise _Terminated()


@contextlib.contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """Turn SIGTERM into an exception while a pack builds, so its worker processes are stopped.

    Python's default for SIGTERM is to die on the spot, leaving workers and temp files.
    Signal handlers can only be set from the main thread; elsewhere the default stays.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _prepare_all(paths: Sequence[Path], theme: Any, meetings: bool = False) -> list[Any]:
    """Validate every input before anything is rendered; report every problem at once.

    With ``meetings``, a meeting file is loaded as a pack would load it (a LoadedMeeting).
    """
    from .api import prepare

    jobs, problems = [], []
    for path in paths:
        try:
            jobs.append(_prepare_check(path, theme) if meetings else prepare(path, theme))
        except CabinetReportsError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CabinetReportsError(problems)
    return jobs


def _prepare_check(path: Path, theme: Any) -> Any:
    """Load a file for `check`: a meeting file as `pack` loads it, a report file for rendering."""
    from .api import prepare
    from .loader import load_file
    from .meeting import is_meeting_data
    from .readers import is_markdown

    if not is_markdown(path):
        try:
            data, _ = load_file(path)
        except CabinetReportsError:  # loading it as a report says what is wrong
            data = None
        if is_meeting_data(data):
            from .pack.load import load_meeting

            return load_meeting(path, theme)
    return prepare(path, theme)


def _findings(job: Any, theme: Any) -> list[Any]:
    """Return the lint findings of a prepared report, or the pack warnings of a loaded meeting."""
    from .lint import lint_report

    if hasattr(job, "findings"):  # a LoadedMeeting
        return [w.finding() for w in job.findings]
    return lint_report(job.report, job.doc, theme, job.options)


def _render(args: argparse.Namespace, own_process: bool = False) -> int:
    from .renderers.pdf_worker import maybe_pdf_worker

    # Started before the models are imported: it imports WeasyPrint meanwhile.
    with maybe_pdf_worker(args.format, own_process=own_process) as pdf_worker:
        from .api import parse_formats, render_jobs, resolve_theme
        from .cache_folder import KEEP_COMPILED

        formats = parse_formats(args.format)
        # --no-cache, or CABINET_REPORTS_KEEP_COMPILED=0 from the user, compiles afresh.
        theme = resolve_theme(args.theme, compiled_cache=not args.no_cache and os.environ.get(KEEP_COMPILED) != "0")
        jobs = _prepare_all(args.reports, theme)
        written = render_jobs(jobs, args.outdir, formats=formats, theme=theme, html=args.html,
                              print_link_urls=args.print_link_urls, pdf_worker=pdf_worker)
    if not args.quiet:
        for target in written:
            print(f"wrote {target}")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from .api import resolve_theme

    if args.output == "json":
        return _check_json(args)
    theme = resolve_theme(args.theme)
    jobs = _prepare_all(args.reports, theme, meetings=True)
    failed = False
    for path, job in zip(args.reports, jobs):
        findings = _findings(job, theme)
        for finding in findings:
            print(finding, file=sys.stderr)
        if any(f.severity == "error" or args.strict for f in findings):
            failed = True
        else:
            print(f"{path}: ok")
    return EXIT_INPUT if failed else EXIT_OK


def _check_json(args: argparse.Namespace) -> int:
    """`check --format json`: every problem of every file, validation and lint alike, as one list."""
    import json

    from .api import resolve_theme
    from .lint import Finding

    findings: list[Finding] = []
    try:
        theme = resolve_theme(args.theme)
        for path in args.reports:
            try:
                job = _prepare_check(path, theme)
                findings += _findings(job, theme)
            except CabinetReportsError as exc:
                findings += [Finding(exc.category, "error", p.message, p.file, p.line, p.field) for p in exc.problems]
    except CabinetReportsError as exc:  # the theme itself: no report can be checked
        findings += [Finding(exc.category, "error", p.message, p.file, p.line, p.field) for p in exc.problems]
    print(json.dumps([f.as_dict() for f in findings], indent=2, ensure_ascii=False))
    failed = any(f.severity == "error" or args.strict for f in findings)
    return EXIT_INPUT if failed else EXIT_OK


def _watch(args: argparse.Namespace, own_process: bool = False) -> int:
    from .watch import Preview

    def say(line: str) -> None:
        print(line, flush=True)

    def warn(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    # The PDF worker is this process's to start only when it is make-report itself, as for render.
    preview = Preview(args.report, args.outdir, formats=args.format, theme_dir=args.theme, say=say, warn=warn,
                      pdf_worker=own_process)
    say(f"watching {args.report}" + (f" and {args.theme}" if args.theme else "") + " for changes (Ctrl-C to stop)")
    with preview:
        try:
            preview.watch()
        except KeyboardInterrupt:
            say("stopped watching")
    return EXIT_OK


def _new(args: argparse.Namespace) -> int:
    from .api import resolve_theme
    from .starter import write_starter

    path = write_starter(args.file, resolve_theme(args.theme), kind=args.kind, fmt=args.format)
    print(f"wrote {path}: fill in the [Insert ...] placeholders, then run make-report check {path}")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    import json

    from .api import resolve_theme
    from .schema import meeting_schema, report_schema

    schema = meeting_schema() if args.meeting else report_schema(resolve_theme(args.theme))
    print(json.dumps(schema, indent=2))  # ASCII: safe to redirect whatever the console encoding
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    if argv is None:  # make-report itself (see run): WeasyPrint's declarations loaded precompiled
        pango_ffi.enable(keep=not getattr(args, "no_cache", False))
    _SIGTERM_SEEN.clear()
    try:
        return _run_command(args, argv)
    except _Terminated:
        return _terminated()
    except BaseException:
        if _SIGTERM_SEEN:  # stopped by SIGTERM, though what reached here is another exception
            return _terminated()
        raise


def _terminated() -> int:
    print("make-report: terminated; no partial output was written", file=sys.stderr)
    return 128 + 15


def _run_command(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    """Run the parsed command; turn what the user must fix into one line and an exit code."""
    try:
        if args.command == "render":
            return _render(args, own_process=argv is None)  # see renderers/pdf_worker.py
        if args.command == "check":
            return _check(args)
        if args.command == "pack":
            return _pack(args)
        if args.command == "watch":
            return _watch(args, own_process=argv is None)
        if args.command == "new":
            return _new(args)
        if args.command == "schema":
            return _schema(args)
        raise AssertionError(args.command)  # pragma: no cover
    except BaseException as exc:
        if _SIGTERM_SEEN or isinstance(exc, _Terminated):
            raise  # main's: the signal stopped it, whatever the unwinding raised
        return _report(exc)


def _report(exc: BaseException) -> int:
    """Say in one line what stopped the command and return its exit code; raise anything else."""
    if isinstance(exc, CabinetReportsError):
        for line in exc.lines():
            print(f"make-report: error: {line}", file=sys.stderr)
        return EXIT_INPUT
    if isinstance(exc, OSError):
        # An unwritable output folder or a full disk: the user's to fix, so one line, exit 2.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"make-report: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_INPUT
    if isinstance(exc, KeyboardInterrupt):
        print("make-report: interrupted; no partial output was written", file=sys.stderr)
        return 130
    if isinstance(exc, Exception) and not os.environ.get("MAKE_REPORT_DEBUG"):
        # The last line of defence for a clean exit.
        print(f"make-report: internal error: {type(exc).__name__}: {exc} "
              "(this is a bug; set MAKE_REPORT_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_BUG
    raise exc


def run() -> None:
    """Run make-report as a program (the console script and ``python -m cabinet_reports``) and exit.

    A finished ``render`` exits without the interpreter's teardown: freeing every module and
    object one by one took 0.1-0.2 s after the outputs were written, time the user waits for
    and nothing needs. What teardown does that matters still happens first: the atexit
    handlers (they remove WeasyPrint's font folder, stop worker processes) and flushing
    stdout and stderr. Only when no other thread runs, which the interpreter would wait for.
    """
    render = sys.argv[1:2] == ["render"]
    code = main()
    if render and threading.active_count() == 1:
        import atexit

        atexit._run_exitfuncs()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # a closed pipe: let the interpreter's own exit say so, as before
            sys.exit(code)
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
