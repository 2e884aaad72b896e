"""Small meeting and report texts for the pack tests, and the command line run in-process."""

from __future__ import annotations

import contextlib
import io

from cabinet_reports.cli import main

# A meeting file's head: its items follow, one "  - …" line each.
HEAD = ("council: Test Borough Council\nbody: Cabinet\ndate: 2026-01-14\ntime: \"10.00 am\"\n"
        "venue: Town Hall\ncontact: {name: Democratic Services}\nitems:\n")
# A report: REPORT % (title, classification, purpose text).
REPORT = """council: {name: Test Borough Council}
meeting: {body: Cabinet, date: 2026-01-14}
title: %s
classification: %s
sections:
  purpose: [%s]
  recommendations: [That Cabinet notes.]
"""


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run make-report in this process; return its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()
