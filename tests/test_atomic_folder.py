"""write_folder: an output folder that holds exactly the last build's files, switched as a set.

The kill tests run the switch in a child process and SIGKILL it at every call of os.replace,
os.unlink and os.fsync in turn (a monkeypatched hook inside the child), then check what a
reader would see and that the next run leaves exactly the new set and no debris.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cabinet_reports import atomic
from cabinet_reports.atomic import MANIFEST_NAME, recover_folder, write_folder

OLD = {"agenda.pdf": b"old agenda", "public-pack.pdf": b"old pack", "items/01-budget.pdf": b"old item 1",
       "items/part-b/07-not-for-publication-x.pdf": b"old exempt item"}
NEW = {"agenda.pdf": b"new agenda", "public-pack.pdf": b"new pack " * 20_000, "full-pack.pdf": b"new full",
       "items/02-budget.pdf": b"new item 2", "items/part-b/01-not-for-publication-budget.pdf": b"new exempt"}
USER = {"items/notes.txt": b"a clerk's own file", "README.txt": b"also not ours"}


def visible(folder: Path) -> dict[str, bytes]:
    """Return every file a reader browsing the folder sees (nothing hidden), by relative name."""
    out = {}
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            out[rel.as_posix()] = path.read_bytes()
    return out


def hidden(folder: Path) -> set[str]:
    """Return every hidden entry anywhere in the folder (temp files, staging folders, records)."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob(".*")}


def seed_user_files(folder: Path) -> None:
    for name, data in USER.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


def test_a_rebuild_removes_what_the_last_build_wrote_and_only_that(tmp_path):
    out = tmp_path / "out"
    written, removed = write_folder(out, OLD)
    assert removed == [] and sorted(written) == sorted(out / n for n in OLD)
    seed_user_files(out)
    written, removed = write_folder(out, NEW)
    assert visible(out) == {**NEW, **USER}
    assert sorted(p.relative_to(out).as_posix() for p in removed) == [
        "items/01-budget.pdf", "items/part-b/07-not-for-publication-x.pdf"]
    assert hidden(out) == {MANIFEST_NAME}
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert sorted(manifest["files"]) == sorted(NEW)


def test_a_stale_file_someone_changed_is_left_alone(tmp_path):
    out = tmp_path / "out"
    write_folder(out, OLD)
    (out / "items" / "01-budget.pdf").write_bytes(b"edited by hand since")
    _, removed = write_folder(out, NEW)
    assert (out / "items" / "01-budget.pdf").read_bytes() == b"edited by hand since"
    assert out / "items" / "01-budget.pdf" not in removed


def test_empty_folders_the_stale_files_leave_are_removed_but_not_others(tmp_path):
    out = tmp_path / "out"
    write_folder(out, {"items/part-b/07-x.pdf": b"x", "agenda.pdf": b"a"})
    (out / "keep").mkdir()
    write_folder(out, {"agenda.pdf": b"b"})
    assert not (out / "items").exists()
    assert (out / "keep").is_dir()


def test_without_a_manifest_nothing_is_removed(tmp_path):
    """A folder from before manifests (or with a damaged one): the tool cannot know what is its own."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "items").mkdir()
    (out / "items" / "01-old.pdf").write_bytes(b"unknown origin")
    (out / MANIFEST_NAME).write_text("{not json")
    write_folder(out, {"agenda.pdf": b"a"})
    assert visible(out) == {"agenda.pdf": b"a", "items/01-old.pdf": b"unknown origin"}


def test_a_manifest_naming_files_outside_the_folder_is_not_followed(tmp_path):
    out = tmp_path / "out"
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    write_folder(out, {"agenda.pdf": b"a"})
    digest = atomic._digest(b"precious")
    (out / MANIFEST_NAME).write_text(json.dumps({"files": {"../victim.txt": digest, str(victim): digest}}))
    write_folder(out, {"agenda.pdf": b"b"})
    assert victim.read_bytes() == b"precious"


def test_stray_temp_files_and_staging_folders_of_killed_runs_are_removed(tmp_path):
    out = tmp_path / "out"
    write_folder(out, OLD)
    debris = [out / ".full-pack.pdf.0123456789ab.tmp", out / "items" / ".01-budget.pdf.a1b2c3d4e5f6.tmp",
              out / ".make-report-manifest.json.00000000beef.tmp"]
    for path in debris:
        path.write_bytes(b"half a file")
    (out / ".make-report-build-0123456789ab" / "items").mkdir(parents=True)
    (out / ".make-report-build-0123456789ab" / "items" / "x.pdf").write_bytes(b"staged")
    (out / ".hidden-but-mine.tmp").write_bytes(b"not the tool's naming")
    write_folder(out, NEW)
    assert hidden(out) == {MANIFEST_NAME, ".hidden-but-mine.tmp"}


def test_a_dangling_symlink_as_the_folder_is_explained(tmp_path):
    out = tmp_path / "out"
    out.symlink_to(tmp_path / "gone")
    with pytest.raises(OSError) as info:
        write_folder(out, {"agenda.pdf": b"a"})
    assert info.value.filename == str(out)
    assert "symbolic link" in info.value.strerror and "does not exist" in info.value.strerror
    assert not (tmp_path / "gone").exists()


def test_a_folder_in_the_way_of_an_output_changes_nothing_and_names_the_output(tmp_path):
    out = tmp_path / "out"
    write_folder(out, OLD)
    (out / "full-pack.pdf").mkdir()
    with pytest.raises(OSError) as info:
        write_folder(out, NEW)
    assert info.value.filename == str(out / "full-pack.pdf")
    assert visible(out) == OLD and hidden(out) == {MANIFEST_NAME}


def test_a_write_error_names_the_output_not_the_staging_file(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_folder(out, OLD)
    real = atomic._write_durably

    def full_disk(path, data):
        if path.name == "full-pack.pdf":
            raise OSError(28, "No space left on device", str(path))
        real(path, data)
    monkeypatch.setattr(atomic, "_write_durably", full_disk)
    with pytest.raises(OSError) as info:
        write_folder(out, NEW)
    assert info.value.filename == str(out / "full-pack.pdf")
    assert visible(out) == OLD and hidden(out) == {MANIFEST_NAME}


def test_a_new_folder_is_removed_again_when_the_write_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_write_durably", lambda path, data: (_ for _ in ()).throw(OSError(28, "full")))
    with pytest.raises(OSError):
        write_folder(tmp_path / "a" / "out", NEW)
    assert not (tmp_path / "a").exists()


# --------------------------------------------------------------------------- SIGKILL at every step
_CHILD = textwrap.dedent("""
    import importlib.util, os, signal, sys, json
    # atomic.py needs only the standard library: load it alone, without the package's imports.
    spec = importlib.util.spec_from_file_location("atomic", sys.argv[4])
    atomic = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(atomic)

    out, func, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = json.loads(sys.stdin.read())
    real = getattr(os, func)
    calls = 0

    def hook(*args, **kwargs):
        global calls
        calls += 1
        if calls == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(os, func, hook)
    atomic.write_folder(out, {name: data.encode("latin-1") for name, data in files.items()})
    print("FINISHED", calls)
""")


def _child(out: Path, func: str, nth: int, files: dict[str, bytes]) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    payload = json.dumps({n: d.decode("latin-1") for n, d in files.items()})
    return subprocess.run([sys.executable, "-c", _CHILD, str(out), func, str(nth), atomic.__file__], input=payload,
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize("func", ["replace", "unlink", "fsync", "rmdir"])
def test_sigkill_at_every_step_of_the_switch(tmp_path, func):
    """A kill at any step leaves the old set or (with the journal) a switch the next run completes."""
    killed_states = 0
    for nth in range(1, 60):
        out = tmp_path / f"{func}-{nth}"
        write_folder(out, OLD)
        seed_user_files(out)
        result = _child(out, func, nth, NEW)
        if result.returncode == 0:
            assert result.stdout.startswith("FINISHED"), result.stderr
            assert nth > 1 or func == "rmdir", f"os.{func} never called"
            break
        assert result.returncode == -signal.SIGKILL, result.stderr
        killed_states += 1
        seen = visible(out)
        # User files are never touched, whenever the kill came.
        assert {n: seen.get(n) for n in USER} == USER
        if not (out / atomic.JOURNAL_NAME).exists():
            # Before the commit point (or after the switch finished): one whole set, nothing mixed.
            assert seen in ({**OLD, **USER}, {**NEW, **USER}), (func, nth, sorted(seen))
        # The next run completes or discards what the killed one left, then does its own work.
        write_folder(out, NEW)
        assert visible(out) == {**NEW, **USER}, (func, nth)
        assert hidden(out) == {MANIFEST_NAME}, (func, nth)
    assert killed_states >= 1 or func == "rmdir"


def test_recover_folder_completes_a_killed_switch_without_a_new_build(tmp_path):
    out = tmp_path / "out"
    write_folder(out, OLD)
    # os.replace calls: the journal's temp file (1), then the files; kill after two have moved.
    assert _child(out, "replace", 3, NEW).returncode == -signal.SIGKILL
    assert (out / atomic.JOURNAL_NAME).exists()
    assert visible(out) != OLD and visible(out) != NEW  # mixed: the case the journal exists for
    recover_folder(out)
    assert visible(out) == NEW and hidden(out) == {MANIFEST_NAME}
