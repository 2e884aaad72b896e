"""Independent readers for the outputs under test: poppler's pdftotext/pdfinfo and pypdf.

Tests must read what we wrote with tools that are not ours. When a tool is missing the test
fails under CI (which must install it) and skips on a developer machine.
"""

from __future__ import annotations

import html
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


def pdf_words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Return each page's words as poppler places them: (xMin, yMin, xMax, yMax, text), in reading order."""
    out = subprocess.run([require("pdftotext"), "-bbox", str(pdf), "-"], check=True, capture_output=True,
                         text=True).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [[(float(x0), float(y0), float(x1), float(y1), html.unescape(text))
             for x0, y0, x1, y1, text in re.findall(pattern, page)] for page in out.split("<page ")[1:]]


def table_rows(pdf: Path, first: str, count: int, key_column: int = 1) -> list[list[str]]:
    """Read ``count`` rows of a table from a PDF, starting at the first line whose first word is ``first``.

    Columns start where that line's cells do (a gap wider than 6 pt between words: cell padding,
    not a space). A line with a word in ``key_column`` starts a row; a line without one, less
    than one and a half lines under the line above, continues it (a cell's wrapped lines).
    """
    for words in pdf_words(pdf):
        lines: list[list[tuple[float, float, float, float, str]]] = []
        for word in sorted(words, key=lambda w: (round(w[1]), w[0])):
            if lines and abs(lines[-1][0][1] - word[1]) < 2:
                lines[-1].append(word)
            else:
                lines.append([word])
        start = next((i for i, line in enumerate(lines) if line[0][4] == first), None)
        if start is None:
            continue
        head = lines[start]
        columns = [w[0] for n, w in enumerate(head) if n == 0 or w[0] - head[n - 1][2] > 6]
        rows: list[list[str]] = []
        above = head
        for line in lines[start:]:
            cells = [""] * len(columns)
            for x0, _, _, _, text in line:
                column = max((i for i, c in enumerate(columns) if c <= x0 + 1), default=0)
                cells[column] = (cells[column] + " " + text).strip()
            if not rows or cells[key_column]:
                if len(rows) == count:
                    break
                rows.append(cells)
            elif line[0][1] - above[0][1] < 1.5 * (above[0][3] - above[0][1]):
                rows[-1] = [(a + " " + b).strip() for a, b in zip(rows[-1], cells)]
            else:
                break
            above = line
        return rows
    raise AssertionError(f"no line starts with {first!r}")
