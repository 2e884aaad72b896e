"""Atomic output files.

A committee officer re-running a build while the previous pack is open, a crash in the
renderer, or Ctrl-C half way through must never leave a truncated PDF where yesterday's
good one was: a half-written agenda published on the council website is worse than a
stale one. Everything here writes to a temporary file in the *same folder* as the target
(so the final ``os.replace`` is a rename within one file system, which POSIX makes atomic),
fsyncs it, renames it into place, and fsyncs the folder so the rename survives a power cut.

Temporary files are named ``.<target name>.<random>.tmp``: hidden, next to their target,
and easy to recognise. They are removed on any failure, including ``KeyboardInterrupt``;
only a process killed outright (SIGKILL, power loss) can leave one behind, and then the
previous output is still intact.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

__all__ = [
    "OutputSet",
    "TEMP_SUFFIX",
    "atomic_output",
    "atomic_outputs",
    "atomic_write_bytes",
]

TEMP_SUFFIX = ".tmp"
# os.O_BINARY exists only on Windows, where omitting it would translate newlines.
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _create_temp(path: Path) -> tuple[int, Path]:
    """Create an empty, exclusively-owned temp file beside *path*; return its fd and path."""
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
        try:
            # Mode 0o666 lets the umask decide, so the final file gets the same
            # permissions an ordinary open() would give it (mkstemp would force 0o600,
            # and a published pack must stay readable by the web server).
            fd = os.open(temp, _OPEN_FLAGS, 0o666)
        except FileExistsError:  # pragma: no cover - 48 random bits; just try again
            continue
        return fd, temp


def _fsync_path(path: Path) -> None:
    """Flush *path*'s data to disk, whoever wrote it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    """Flush a folder's entries so a completed rename survives a crash."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - Windows cannot open folders; rename is enough
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def _remove_quietly(path: Path) -> None:
    """Delete *path* if it exists, ignoring errors (used while already failing)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:  # pragma: no cover - cleanup must not mask the original error
        pass


def _copy_mode(source: Path, dest: Path) -> None:
    """Give *dest* the permission bits of an existing *source*, so replacing keeps them."""
    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError:
        return
    os.chmod(dest, mode & 0o7777)


@contextmanager
def atomic_output(path: Path | str) -> Iterator[Path]:
    """Yield a temp path to write; move it onto *path* only if the block succeeds.

    The temp file already exists (empty) when yielded, which reserves the name; the
    caller may write it by path (``document.write_pdf(temp)``) or open it. On any
    exception the temp file is removed and *path* is left as it was.
    """
    path = Path(path)
    fd, temp = _create_temp(path)
    os.close(fd)
    try:
        yield temp
        # The caller wrote through its own handle; fsync by reopening.
        _fsync_path(temp)
        _copy_mode(path, temp)
        os.replace(temp, path)
    except BaseException:
        _remove_quietly(temp)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write *data* to *path* so that readers see either the old file or all of the new one."""
    with atomic_output(path) as temp:
        temp.write_bytes(data)


class OutputSet(Mapping[Path, Path]):
    """Several output files that must all be replaced, or none.

    Use as a context manager; it maps each final path to the temp path to write::

        with OutputSet([pdf_path, docx_path]) as outputs:
            html.write_pdf(outputs[pdf_path])
            docx.save(outputs[docx_path])

    On success every temp file is fsynced first and only then renamed into place, so a
    failure while *writing* (the slow, likely part) never touches a previous output.
    Renames themselves cannot fail together atomically across several files; if one
    fails, the targets already replaced are restored from hard-link backups taken just
    before, so the previous set is left as it was. A SIGKILL *during* the rename phase
    (microseconds long) can still leave a mix of old and new files.
    """

    def __init__(self, paths: Iterable[Path | str]) -> None:
        """Record the target paths; temp files are created on ``__enter__``."""
        self._targets: list[Path] = [Path(p) for p in paths]
        if len(set(self._targets)) != len(self._targets):
            raise ValueError("OutputSet paths must be distinct")
        self._temps: dict[Path, Path] = {}
        self._done = False

    # Mapping interface: final path -> temp path.
    def __getitem__(self, path: Path | str) -> Path:
        """Return the temp path to write for the final *path*."""
        return self._temps[Path(path)]

    def __iter__(self) -> Iterator[Path]:
        """Iterate over the final paths in the order given."""
        return iter(self._targets)

    def __len__(self) -> int:
        """Count the outputs."""
        return len(self._targets)

    def __enter__(self) -> OutputSet:
        """Create one temp file beside each target."""
        try:
            for target in self._targets:
                fd, temp = _create_temp(target)
                os.close(fd)
                self._temps[target] = temp
        except BaseException:
            self.discard()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Commit on success; discard the temp files on any exception."""
        if exc_type is None:
            self.commit()
        else:
            self.discard()

    def discard(self) -> None:
        """Remove every temp file and leave the previous outputs untouched."""
        for temp in self._temps.values():
            _remove_quietly(temp)
        self._done = True

    def commit(self) -> None:
        """Fsync all temp files, then rename them all into place (rolling back on failure)."""
        if self._done:
            raise RuntimeError("OutputSet already committed or discarded")
        backups: dict[Path, Path | None] = {}
        replaced: list[Path] = []
        try:
            # Phase 1: make every new file durable before any old one is touched.
            for target in self._targets:
                temp = self._temps[target]
                _fsync_path(temp)
                _copy_mode(target, temp)
            # Phase 2: keep a way back, then swap.
            for target in self._targets:
                backups[target] = self._backup(target)
            for target in self._targets:
                os.replace(self._temps[target], target)
                replaced.append(target)
        except BaseException:
            self._roll_back(replaced, backups)
            self.discard()
            raise
        finally:
            for backup in backups.values():
                if backup is not None:
                    _remove_quietly(backup)
        self._done = True
        for directory in {target.parent for target in self._targets}:
            _fsync_dir(directory)

    @staticmethod
    def _backup(target: Path) -> Path | None:
        """Hard-link (or copy) an existing *target* aside; return None if it did not exist."""
        if not target.exists():
            return None
        fd, backup = _create_temp(target)
        os.close(fd)
        os.unlink(backup)
        try:
            # A hard link costs nothing and keeps the very same bytes.
            os.link(target, backup)
        except OSError:  # pragma: no cover - file systems without hard links
            shutil.copy2(target, backup)
        return backup

    @staticmethod
    def _roll_back(replaced: list[Path], backups: Mapping[Path, Path | None]) -> None:
        """Put back the targets already replaced before a failed commit."""
        for target in reversed(replaced):
            backup = backups.get(target)
            try:
                if backup is None:
                    os.unlink(target)  # it did not exist before this commit
                else:
                    os.replace(backup, target)
            except OSError:  # pragma: no cover - best effort while already failing
                pass


@contextmanager
def atomic_outputs(paths: Iterable[Path | str]) -> Iterator[OutputSet]:
    """Yield an :class:`OutputSet` for *paths*: all appear on success, none on failure."""
    with OutputSet(paths) as outputs:
        yield outputs


def write_files(files: Mapping[Path, bytes]) -> list[Path]:
    """Write several files as one set: every file appears complete, or none changes.

    Missing folders are created for the commit and removed again if it fails. An error names
    the file the user asked for, never our hidden temporary file.
    """
    targets = [Path(p) for p in files]
    created: list[Path] = []
    for folder in dict.fromkeys(p.parent for p in targets):
        missing = [d for d in (folder, *folder.parents) if not d.exists()]
        for d in reversed(missing):
            d.mkdir()
            created.append(d)
    temps: dict[str, Path] = {}
    try:
        with OutputSet(targets) as outputs:
            for target, data in files.items():
                temp = outputs[Path(target)]
                temps[str(temp)] = Path(target)
                temp.write_bytes(data)
    except OSError as exc:
        _remove_created(created)
        if exc.filename and str(exc.filename) in temps:
            raise OSError(exc.errno, exc.strerror, str(temps[str(exc.filename)])) from None
        raise
    except BaseException:
        _remove_created(created)
        raise
    return targets


def _remove_created(folders: list[Path]) -> None:
    for d in reversed(folders):
        try:
            d.rmdir()
        except OSError:
            pass
