"""Independent readers for the outputs under test: poppler's pdftotext/pdfinfo and pypdf.

Tests must read what we wrote with tools that are not ours. When a tool is missing the test
fails under CI (which must install it) and skips on a developer machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

# A4 in points, and the body area inside the running header and footer (see style.css margins).
A4_W, A4_H = 595, 842
BODY_TOP, BODY_BOTTOM = 58, 842 - 64


def require(tool: str) -> str:
    """Return the path of a command-line tool; fail under CI, skip elsewhere, when missing."""
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed; .ci/run must install it")
        pytest.skip(f"{tool} is not installed")
    return path


def pdftotext(pdf: Path, *, body_only: bool = False, page: int | None = None, layout: bool = False) -> str:
    """Return the text of a PDF as poppler sees it (optionally only the body area or one page)."""
    cmd = [require("pdftotext")]
    if layout:
        cmd.append("-layout")
    if page is not None:
        cmd += ["-f", str(page), "-l", str(page)]
    if body_only:
        cmd += ["-x", "0", "-y", str(BODY_TOP), "-W", str(A4_W), "-H", str(BODY_BOTTOM - BODY_TOP)]
    cmd += [str(pdf), "-"]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def pdfinfo(pdf: Path) -> dict[str, str]:
    """Return pdfinfo's fields as a dict."""
    out = subprocess.run([require("pdfinfo"), str(pdf)], check=True, capture_output=True, text=True).stdout
    info = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def normalise(text: str) -> str:
    """Collapse all whitespace to single spaces and unify quotes, as a reader would compare."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split())


NUMBER_TOKEN = re.compile(r"^(\d+\.\d+(?:\.\d+)*|\d+\.|\([a-z]{1,4}\)|[a-z]{1,4}\))\s*")


def numbered_labels(text: str) -> list[str]:
    """Return every line-leading paragraph number or list letter, in order."""
    labels = []
    for line in text.splitlines():
        m = NUMBER_TOKEN.match(line.strip())
        if m:
            labels.append(m.group(1))
    return labels


def seed_fragments(seed: Path) -> list[str]:
    """Split a seed document into whitespace-normalised sentences, without typed numbers or bullets."""
    fragments = []
    for block in re.split(r"\n\s*\n", seed.read_text(encoding="utf-8")):
        lines = []
        for line in block.splitlines():
            line = line.strip()
            line = re.sub(r"^[-·•]\s*", "", line)
            while True:  # "3.1 3.1 That …": strip every typed number, however often repeated
                stripped = NUMBER_TOKEN.sub("", line, count=1)
                if stripped == line:
                    break
                line = stripped
            lines.append(line)
        paragraph = normalise(" ".join(lines))
        for sentence in re.split(r"(?<=[.:])\s+(?=[A-Z])", paragraph):
            if sentence:
                fragments.append(sentence)
    return fragments
