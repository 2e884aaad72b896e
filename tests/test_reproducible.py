"""Reproducible output: the same input gives byte-identical PDF and DOCX in any process.

Every render here is a separate ``python -m cabinet_reports`` process. The second run of
each pair differs in everything that must not matter: the input lives in another folder
(absolute paths must not leak into the output), the working folder, the time zone, the
locale and Python's hash seed. Dates come from the meeting date, or from SOURCE_DATE_EPOCH
when it is set, never from the clock.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from readers import pdfinfo

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ["dudley-2005-partnership-strategy", "salford-2003-progress-note"]
MEETING = "dudley-2005-cabinet"
EPOCH = 1_700_000_000  # 2023-11-14 22:13:20 UTC


def run(args: list[str], *, cwd: Path, tz: str, seed: str, epoch: int | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env.update(TZ=tz, PYTHONHASHSEED=seed, LC_ALL="C.UTF-8")
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    result = subprocess.run([sys.executable, "-m", "cabinet_reports", *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def render_twice(tmp: Path, epoch: int | None) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Render both examples in two processes that differ in folder, cwd, TZ, locale and seed."""
    copy = tmp / "somewhere" / "else"
    copy.mkdir(parents=True)
    for name in EXAMPLES:
        shutil.copytree(ROOT / "examples" / name, copy / name)
    outs = []
    for i, (base, tz, seed) in enumerate([(ROOT / "examples", "UTC", "0"),
                                          (copy, "Pacific/Kiritimati", "4242")]):
        out = tmp / f"out{i}"
        cwd = tmp / f"cwd{i}"
        cwd.mkdir()
        run(["render", *(str(base / n / "report.yaml") for n in EXAMPLES), "-o", str(out), "-q"],
            cwd=cwd, tz=tz, seed=seed, epoch=epoch)
        outs.append(files(out))
    return outs[0], outs[1]


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return render_twice(tmp_path_factory.mktemp("repro"), None)


@pytest.fixture(scope="module")
def with_epoch(tmp_path_factory):
    return render_twice(tmp_path_factory.mktemp("repro-epoch"), EPOCH)


def assert_identical(a: dict[str, bytes], b: dict[str, bytes]) -> None:
    assert sorted(a) == sorted(b)
    different = [name for name in a if a[name] != b[name]]
    assert different == []


def test_every_example_renders_byte_identical_pdf_and_docx(plain):
    first, second = plain
    assert sorted(first) == sorted(f"{n}.{ext}" for n in EXAMPLES for ext in ("docx", "pdf"))
    assert_identical(first, second)


def test_identical_with_source_date_epoch(with_epoch):
    assert_identical(*with_epoch)


def _pdf_date(tmp: Path, data: bytes) -> str:
    path = tmp / "probe.pdf"
    path.write_bytes(data)
    return pdfinfo(path)["CreationDate"]


def test_dates_come_from_the_meeting_or_source_date_epoch(plain, with_epoch, tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    dudley = "dudley-2005-partnership-strategy"
    assert "2005" in _pdf_date(tmp_path, plain[0][f"{dudley}.pdf"])
    assert "2023" in _pdf_date(tmp_path, with_epoch[0][f"{dudley}.pdf"])
    # DOCX: fixed zip entry times and core-property dates, never today's.
    today = dt.date.today()
    for outputs, year in [(plain[0], "2005"), (with_epoch[0], "2023")]:
        path = tmp_path / f"probe-{year}.docx"
        path.write_bytes(outputs[f"{dudley}.docx"])
        with zipfile.ZipFile(path) as z:
            stamps = {info.date_time[:3] for info in z.infolist()}
            core = z.read("docProps/core.xml").decode()
        assert (today.year, today.month, today.day) not in stamps
        assert f"<dcterms:created xsi:type=\"dcterms:W3CDTF\">{year}" in core


def test_meeting_pack_is_byte_identical_across_processes(tmp_path):
    """The meeting pack (agenda, public and full packs, items) is reproducible too."""
    copy = tmp_path / "elsewhere" / MEETING
    shutil.copytree(ROOT / "examples", tmp_path / "elsewhere", dirs_exist_ok=True)
    outs = []
    for i, (base, tz, seed) in enumerate([(ROOT / "examples" / MEETING, "UTC", "0"),
                                          (copy, "America/St_Johns", "99")]):
        out = tmp_path / f"pack{i}"
        cwd = tmp_path / f"cwd{i}"
        cwd.mkdir()
        run(["pack", str(base / "meeting.yaml"), "-o", str(out), "-q"], cwd=cwd, tz=tz, seed=seed, epoch=None)
        outs.append(files(out))
    assert any(name.endswith(".docx") for name in outs[0]) and "full-pack.pdf" in outs[0]
    assert_identical(*outs)
