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

A folder of outputs that the tool owns (a meeting pack) is replaced as a whole by
:func:`write_folder`: staged in a hidden folder, switched over through a journal that the next
run completes if this one is killed, and recorded in a manifest so that files an earlier build
wrote and this one does not are removed — and nothing the tool did not write is ever touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
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
    "check_folder",
    "check_targets",
    "recover_folder",
    "write_folder",
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


# --------------------------------------------------------------------------- whole output folders
MANIFEST_NAME = ".make-report-manifest.json"
JOURNAL_NAME = ".make-report-journal.json"
STAGING_PREFIX = ".make-report-build-"
# The temp files atomic_output and OutputSet create (".<name>.<12 hex digits>.tmp").
_TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{12}" + re.escape(TEMP_SUFFIX) + r"$")
_STAGING_NAME = re.compile(r"^" + re.escape(STAGING_PREFIX) + r"[0-9a-f]{12}$")


class OutputFolderError(OSError):
    """The output folder cannot be used (a dangling link, a file in the way)."""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_digest(path: Path) -> str | None:
    """Return the SHA-256 of a regular file, or None if it is missing, a link or unreadable."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        hasher = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(block)
        return hasher.hexdigest()
    except OSError:
        return None


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # damaged: treated as absent (for a manifest: nothing is known to be ours)
    return data if isinstance(data, dict) else None


def _relative(name: str) -> Path:
    """Check an output name is a plain relative path inside the folder, not a hidden one of ours."""
    path = _safe_name(name)
    if path is None:
        raise ValueError(f"output names must be relative paths inside the folder, not the tool's own: {name!r}")
    return path


def _safe_name(name: object) -> Path | None:
    """Return ``name`` as a relative path inside the folder, or None for anything else.

    Names read back from a manifest or journal pass here too: one edited to say
    ``../../elsewhere`` must not make the tool delete or write outside the folder.
    """
    if not isinstance(name, str):
        return None
    path = Path(name)
    if path.is_absolute() or not path.parts or any(part in ("", ".", "..") for part in path.parts) \
            or "\\" in name or path.parts[0].startswith(".make-report"):
        return None
    return path


def _records(value: object) -> dict[str, str]:
    """Keep the well-formed ``{name: sha256}`` entries of a manifest or journal field."""
    if not isinstance(value, dict):
        return {}
    return {n: d for n, d in value.items() if _safe_name(n) is not None and isinstance(d, str)}


def check_folder(outdir: Path | str) -> None:
    """Raise OutputFolderError if ``outdir`` cannot become an output folder (checked early, so a
    long build does not end in an error it could have given at the start)."""
    outdir = Path(outdir)
    if outdir.is_symlink() and not outdir.exists():
        raise OutputFolderError(2, f"the output folder is a symbolic link to {os.readlink(outdir)}, which "
                                   "does not exist", str(outdir))
    if outdir.exists():
        if not outdir.is_dir():
            raise OutputFolderError(20, "the output folder exists and is not a folder", str(outdir))
        return
    for d in outdir.parents:
        if d.is_symlink() and not d.exists():
            raise OutputFolderError(2, f"{d} is a symbolic link to {os.readlink(d)}, which does not exist",
                                    str(outdir))
        if d.exists():
            if not d.is_dir():
                raise OutputFolderError(20, f"{d} is not a folder", str(outdir))
            break


def _prepare_folder(outdir: Path) -> list[Path]:
    """Create ``outdir`` if missing (returning the folders created); refuse unusable ones."""
    check_folder(outdir)
    if outdir.is_dir():
        return []
    missing = [d for d in (outdir, *outdir.parents) if not d.exists()]
    created = []
    for d in reversed(missing):
        d.mkdir()
        created.append(d)
    return created


@contextmanager
def _folder_lock(outdir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder itself, so two builds never switch it at once.

    flock on the folder's own descriptor: no lock file to leave behind, and the kernel drops
    the lock when a killed process's descriptors close.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks; one build at a time
        yield
        return
    fd = os.open(outdir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    fd = os.open(path, _OPEN_FLAGS, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _apply(outdir: Path, journal: dict) -> list[Path]:
    """Roll a journalled switch forward (idempotent); return the stale files removed.

    Stale files go first: a file an earlier build published that this build no longer writes
    (an item now Part B) must not outlive the switch. A stale file is removed only if it still
    holds the bytes the tool wrote, so a file someone has since edited or replaced is left.
    """
    staging = outdir / journal["staging"]
    removed = []
    touched: set[Path] = set()
    for name, digest in sorted(_records(journal.get("remove")).items()):
        path = outdir / name
        if _file_digest(path) == digest:
            os.unlink(path)
            removed.append(path)
            touched.add(path.parent)
    files = _records(journal.get("files"))
    for name in sorted(files):
        source, target = staging / name, outdir / name
        if not source.exists():
            continue  # moved before the earlier run was killed
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_mode(target, source)
        os.replace(source, target)
        touched.add(target.parent)
    for folder in sorted(touched, key=lambda p: len(p.parts), reverse=True):
        _fsync_dir(folder)
    # Folders the stale files leave empty (items/part-b once no item is Part B) go too; rmdir
    # refuses a folder that still holds anything, so nothing else is lost.
    for path in removed:
        for folder in path.parents:
            if folder == outdir or outdir not in folder.parents:
                break
            try:
                folder.rmdir()
            except OSError:
                break
    atomic_write_bytes(outdir / MANIFEST_NAME, _manifest_bytes(files))
    os.unlink(outdir / JOURNAL_NAME)
    _fsync_dir(outdir)
    shutil.rmtree(staging, ignore_errors=True)
    return removed


def _journal(outdir: Path) -> dict | None:
    """Read the journal of an unfinished switch, if there is one that names a staging folder."""
    journal = _read_json(outdir / JOURNAL_NAME)
    if journal is None:
        return None
    if not _STAGING_NAME.match(str(journal.get("staging", ""))):
        # Not one we wrote: finishing it could only guess. Drop it; the staging folders are tidied.
        _remove_quietly(outdir / JOURNAL_NAME)
        return None
    return journal


def _manifest_bytes(files: Mapping[str, str]) -> bytes:
    record = {"written_by": "make-report", "version": 1, "files": dict(sorted(files.items()))}
    return (json.dumps(record, indent=1) + "\n").encode("utf-8")


def _tidy(outdir: Path, names: Iterable[str]) -> None:
    """Remove what killed runs left: staging folders and hidden temp files of the tool's naming."""
    for entry in outdir.iterdir():
        if _STAGING_NAME.match(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
    folders = {outdir} | {(outdir / name).parent for name in names}
    for folder in folders:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if _TEMP_NAME.match(entry.name) and entry.is_file() and not entry.is_symlink():
                _remove_quietly(entry)


def recover_folder(outdir: Path | str) -> list[Path]:
    """Finish a switch that a killed run left half done; return the stale files it removed."""
    outdir = Path(outdir)
    if not (outdir / JOURNAL_NAME).exists():
        return []
    with _folder_lock(outdir):
        journal = _journal(outdir)  # read under the lock: another process may have finished it
        return _apply(outdir, journal) if journal is not None else []


def write_folder(outdir: Path | str, files: Mapping[str, bytes]) -> tuple[list[Path], list[Path]]:
    """Make ``outdir`` hold exactly ``files`` among the files the tool manages there.

    ``files`` maps relative names (``items/03-minutes.pdf``) to bytes. Files an earlier call
    wrote (listed in ``outdir/.make-report-manifest.json``) that are not in ``files`` are
    removed, if unchanged since; files the tool never wrote are never touched, and the hidden
    ``.cache`` folder is not the manifest's business. Returns (files written, stale files removed).

    The switch: every file is first written and fsynced into a hidden staging folder
    ``outdir/.make-report-build-<random>/`` (a failure here changes nothing). Then a journal
    naming the new set and the stale files is written atomically — the commit point — and
    the files are renamed into place. A run killed after the commit point leaves the journal,
    and the next call (or :func:`recover_folder`) completes the switch before anything else; a
    run killed before it leaves only a staging folder, which the next call removes, as it
    removes stray temp files. A reader sees the old or the new set except during the
    renames themselves (milliseconds) or after a kill during them, until the next run.
    """
    outdir = Path(outdir)
    names = {str(_relative(name).as_posix()): data for name, data in files.items()}
    created = _prepare_folder(outdir)
    try:
        with _folder_lock(outdir):
            journal = _journal(outdir)
            if journal is not None:
                _apply(outdir, journal)
            previous = _records((_read_json(outdir / MANIFEST_NAME) or {}).get("files"))
            _tidy(outdir, [*names, *previous])
            for name in names:
                _check_target(outdir, Path(name))
            staging = outdir / f"{STAGING_PREFIX}{secrets.token_hex(6)}"
            staging.mkdir()
            try:
                for name, data in names.items():
                    path = staging / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        _write_durably(path, data)
                    except OSError as exc:
                        raise OSError(exc.errno, exc.strerror, str(outdir / name)) from None
                for folder in sorted({(staging / n).parent for n in names}, key=lambda p: -len(p.parts)):
                    _fsync_dir(folder)
                digests = {name: _digest(data) for name, data in names.items()}
                stale = {name: digest for name, digest in previous.items() if name not in names}
                journal = {"staging": staging.name, "files": digests, "remove": stale}
                atomic_write_bytes(outdir / JOURNAL_NAME, (json.dumps(journal) + "\n").encode("utf-8"))
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            removed = _apply(outdir, journal)
    except BaseException:
        _remove_created(created)
        raise
    return [outdir / name for name in names], removed


def check_targets(outdir: Path | str, names: Iterable[str]) -> None:
    """Raise OutputFolderError, naming the output, if a file or folder is in the way of one."""
    outdir = Path(outdir)
    if outdir.is_dir():
        for name in names:
            _check_target(outdir, _relative(name))


def _check_target(outdir: Path, name: Path) -> None:
    """Refuse, before the commit point, a target the switch could not replace."""
    target = outdir / name
    for folder in list(reversed(name.parents))[1:]:
        path = outdir / folder
        if path.is_symlink():
            # The rename into place would go wherever the link points (another file system even).
            raise OutputFolderError(20, "is a symbolic link: the tool writes this folder itself", str(path))
        if path.exists() and not path.is_dir():
            raise OutputFolderError(20, "a file is in the way of a folder the output needs", str(path))
    if target.is_dir() and not target.is_symlink():
        raise OutputFolderError(21, "a folder is in the way of an output file", str(target))
