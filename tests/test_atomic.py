"""Tests for atomic output: all-or-nothing files, even under Ctrl-C and SIGKILL."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cabinet_reports import atomic
from cabinet_reports.atomic import OutputSet, atomic_output, atomic_outputs, atomic_write_bytes

OLD = b"%PDF-1.7 yesterday's good pack\n"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def names(folder: Path) -> set[str]:
    """List the entries of *folder*, hidden ones included."""
    return set(os.listdir(folder))


# ---------------------------------------------------------------------------------------
# atomic_write_bytes
# ---------------------------------------------------------------------------------------


def test_write_bytes_creates_and_replaces(tmp_path: Path) -> None:
    """A new file appears; an existing one is replaced; no temp file is left."""
    target = tmp_path / "pack.pdf"
    atomic_write_bytes(target, OLD)
    assert target.read_bytes() == OLD
    atomic_write_bytes(target, b"new" * 100_000)
    assert target.read_bytes() == b"new" * 100_000
    assert names(tmp_path) == {"pack.pdf"}


def test_write_bytes_uses_umask_not_0600(tmp_path: Path) -> None:
    """A new file gets ordinary permissions (a web server must be able to read the pack)."""
    old_umask = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.pdf", OLD)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "a.pdf").stat().st_mode) == 0o644


def test_write_bytes_keeps_existing_permissions(tmp_path: Path) -> None:
    """Replacing a file keeps the mode the previous file had."""
    target = tmp_path / "a.pdf"
    target.write_bytes(OLD)
    target.chmod(0o640)
    atomic_write_bytes(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_write_bytes_failure_leaves_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    """A failure (even Ctrl-C) after the data is written keeps the old file and no temp."""
    target = tmp_path / "pack.pdf"
    target.write_bytes(OLD)

    def failing_fsync(fd: int) -> None:
        raise error

    monkeypatch.setattr(atomic.os, "fsync", failing_fsync)
    with pytest.raises(type(error)):
        atomic_write_bytes(target, b"half-baked")
    assert target.read_bytes() == OLD
    assert names(tmp_path) == {"pack.pdf"}


def test_write_bytes_replace_failure_leaves_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the final rename fails, the temp is removed and the old file kept."""
    target = tmp_path / "pack.pdf"
    target.write_bytes(OLD)

    def failing_replace(src: object, dst: object) -> None:
        raise PermissionError("locked by a PDF viewer")

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(PermissionError):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == OLD
    assert names(tmp_path) == {"pack.pdf"}


def test_write_bytes_missing_folder_raises(tmp_path: Path) -> None:
    """A missing output folder is an ordinary FileNotFoundError."""
    with pytest.raises(FileNotFoundError):
        atomic_write_bytes(tmp_path / "nope" / "a.pdf", OLD)


# ---------------------------------------------------------------------------------------
# atomic_output
# ---------------------------------------------------------------------------------------


def test_atomic_output_success(tmp_path: Path) -> None:
    """The temp is beside the target, hidden, and becomes the target on success."""
    target = tmp_path / "report.pdf"
    target.write_bytes(OLD)
    with atomic_output(target) as temp:
        assert temp.parent == tmp_path
        assert temp.name.startswith(".report.pdf.") and temp.name.endswith(".tmp")
        assert temp.exists()
        temp.write_bytes(b"new report")
        assert target.read_bytes() == OLD  # nothing visible until the block ends
    assert target.read_bytes() == b"new report"
    assert names(tmp_path) == {"report.pdf"}


@pytest.mark.parametrize("error", [RuntimeError("render failed"), KeyboardInterrupt()])
def test_atomic_output_failure_midway(tmp_path: Path, error: BaseException) -> None:
    """An exception after writing half the file keeps the old file and removes the temp."""
    target = tmp_path / "report.pdf"
    target.write_bytes(OLD)
    with pytest.raises(type(error)), atomic_output(target) as temp:
        with open(temp, "wb") as handle:
            handle.write(b"%PDF-1.7 half")
        raise error
    assert target.read_bytes() == OLD
    assert names(tmp_path) == {"report.pdf"}


def test_atomic_output_failure_without_previous_file(tmp_path: Path) -> None:
    """With no previous file, a failure leaves nothing at all."""
    with pytest.raises(RuntimeError), atomic_output(tmp_path / "new.pdf") as temp:
        temp.write_bytes(b"partial")
        raise RuntimeError
    assert names(tmp_path) == set()


def test_atomic_output_with_weasyprint_target(tmp_path: Path) -> None:
    """Works with a writer that takes a path, as WeasyPrint's write_pdf(target) does."""
    target = tmp_path / "x.bin"
    with atomic_output(target) as temp:
        Path(temp).write_bytes(b"written by path")
    assert target.read_bytes() == b"written by path"


# ---------------------------------------------------------------------------------------
# OutputSet / atomic_outputs
# ---------------------------------------------------------------------------------------


def test_outputs_all_appear(tmp_path: Path) -> None:
    """Every file of the set appears, and none before the block ends."""
    pdf, docx = tmp_path / "pack.pdf", tmp_path / "pack.docx"
    pdf.write_bytes(OLD)
    with atomic_outputs([pdf, docx]) as outputs:
        assert list(outputs) == [pdf, docx]
        outputs[pdf].write_bytes(b"new pdf")
        outputs[str(docx)].write_bytes(b"new docx")  # str keys work too
        assert pdf.read_bytes() == OLD and not docx.exists()
    assert pdf.read_bytes() == b"new pdf"
    assert docx.read_bytes() == b"new docx"
    assert names(tmp_path) == {"pack.pdf", "pack.docx"}


def test_outputs_across_folders(tmp_path: Path) -> None:
    """Targets may live in different folders; each temp sits beside its own target."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "1.pdf", tmp_path / "b" / "2.pdf"
    with OutputSet([first, second]) as outputs:
        assert outputs[first].parent == first.parent
        assert outputs[second].parent == second.parent
        outputs[first].write_bytes(b"1")
        outputs[second].write_bytes(b"2")
    assert first.read_bytes() == b"1" and second.read_bytes() == b"2"


@pytest.mark.parametrize("error", [RuntimeError("docx failed"), KeyboardInterrupt()])
def test_outputs_failure_midway_changes_nothing(tmp_path: Path, error: BaseException) -> None:
    """If the second output fails, the first previous output is untouched and no temp stays."""
    pdf, docx, html = tmp_path / "pack.pdf", tmp_path / "pack.docx", tmp_path / "pack.html"
    pdf.write_bytes(OLD)
    docx.write_bytes(b"old docx")
    with pytest.raises(type(error)), atomic_outputs([pdf, docx, html]) as outputs:
        outputs[pdf].write_bytes(b"new pdf")
        outputs[docx].write_bytes(b"new docx, half")
        raise error
    assert pdf.read_bytes() == OLD
    assert docx.read_bytes() == b"old docx"
    assert names(tmp_path) == {"pack.pdf", "pack.docx"}


def test_outputs_rename_failure_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the second rename fails, the first target is restored and a new one removed."""
    old_a, new_b, c = tmp_path / "a.pdf", tmp_path / "b.pdf", tmp_path / "c.pdf"
    old_a.write_bytes(b"old a")
    c.write_bytes(b"old c")
    real_replace = os.replace
    calls: list[Path] = []

    def flaky_replace(src: os.PathLike[str], dst: os.PathLike[str]) -> None:
        # Fail only the third swap into place (c.pdf); let rollback renames through.
        if Path(dst) == c and Path(src).name.startswith(".c.pdf."):
            calls.append(Path(dst))
            raise PermissionError("c.pdf is open in a viewer")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", flaky_replace)
    with pytest.raises(PermissionError), atomic_outputs([old_a, new_b, c]) as outputs:
        for target in outputs:
            outputs[target].write_bytes(b"new " + target.name.encode())
    assert calls == [c]
    assert old_a.read_bytes() == b"old a"
    assert not new_b.exists()
    assert c.read_bytes() == b"old c"
    assert names(tmp_path) == {"a.pdf", "c.pdf"}


def test_outputs_rejects_duplicates(tmp_path: Path) -> None:
    """The same path twice is a caller error, caught before anything is written."""
    with pytest.raises(ValueError, match="distinct"):
        OutputSet([tmp_path / "a.pdf", tmp_path / "a.pdf"])


def test_outputs_commit_twice_is_an_error(tmp_path: Path) -> None:
    """A committed set cannot be committed again."""
    outputs = OutputSet([tmp_path / "a.pdf"])
    with outputs:
        outputs[tmp_path / "a.pdf"].write_bytes(b"x")
    with pytest.raises(RuntimeError):
        outputs.commit()


# ---------------------------------------------------------------------------------------
# A process killed mid-write
# ---------------------------------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from cabinet_reports.atomic import atomic_output, atomic_outputs

    mode, *targets = sys.argv[1:]
    half = b"%PDF-1.7 NEW CONTENT " * 50_000
    if mode == "single":
        with atomic_output(Path(targets[0])) as temp:
            with open(temp, "wb") as handle:
                handle.write(half)
                handle.flush()
                print("HALF", flush=True)
                time.sleep(60)  # the parent kills us here
    else:
        with atomic_outputs([Path(t) for t in targets]) as outputs:
            first = outputs[Path(targets[0])]
            first.write_bytes(half)  # the first file is complete...
            with open(outputs[Path(targets[1])], "wb") as handle:
                handle.write(half)  # ...the second half written
                handle.flush()
                print("HALF", flush=True)
                time.sleep(60)
    """
)


def _run_and_kill(tmp_path: Path, mode: str, *targets: Path) -> None:
    """Start the child writer, wait until it has written half, then SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, mode, *map(str, targets)],
        stdout=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == b"HALF", line
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:  # pragma: no cover - only if an assertion fired early
            child.kill()
            child.wait()
        assert child.stdout is not None
        child.stdout.close()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_killed_mid_write_leaves_old_file(tmp_path: Path) -> None:
    """SIGKILL half way through a write leaves the old file byte for byte."""
    target = tmp_path / "pack.pdf"
    target.write_bytes(OLD)
    _run_and_kill(tmp_path, "single", target)
    assert target.read_bytes() == OLD
    # The only possible residue is the hidden temp beside it, never a truncated target.
    leftovers = names(tmp_path) - {"pack.pdf"}
    assert all(n.startswith(".pack.pdf.") and n.endswith(".tmp") for n in leftovers)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_killed_mid_output_set_leaves_old_files(tmp_path: Path) -> None:
    """SIGKILL while writing the second of two outputs leaves both old files intact."""
    pdf, docx = tmp_path / "pack.pdf", tmp_path / "pack.docx"
    pdf.write_bytes(OLD)
    docx.write_bytes(b"old docx")
    _run_and_kill(tmp_path, "set", pdf, docx)
    assert pdf.read_bytes() == OLD
    assert docx.read_bytes() == b"old docx"
    leftovers = names(tmp_path) - {"pack.pdf", "pack.docx"}
    assert leftovers and all(n.startswith(".pack.") and n.endswith(".tmp") for n in leftovers)
