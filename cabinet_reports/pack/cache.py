"""Rendered items (and whole packs) kept between builds, keyed by everything they depend on.

Takes a cache folder; gives back, for a key, the bytes stored under it by an earlier build, or
None. A rebuild after one report changed re-renders only that report; a rebuild with nothing
changed reuses the assembled pack.

Where: by default the user's cache folder, ``$XDG_CACHE_HOME/cabinet_reports/packs`` (else
``~/.cache/cabinet_reports/packs``; ``%LOCALAPPDATA%\\cabinet_reports\\packs`` on Windows), never
the output folder: the cache holds exempt (Part B) renders, and clerks upload output folders
whole. It is created readable by its owner only. One folder serves every meeting and output
folder: entries are found by the hash of their content's inputs, so two meetings cannot
collide, and a report on two agendas (with the same classification) is rendered once when it is
the same item of the same-named meeting on both (its render carries its item number and stamp).

Keys are SHA-256 hashes of a canonical description of every input (see :func:`item_key` and
:func:`pack_key`): the report file's bytes and the logo it uses, the effective classification
and the audience (a Part B render is keyed "full", so no key of a public render can ever find
it), every theme file, the library's own source code and the versions of the libraries and
system text engine that render, and ``SOURCE_DATE_EPOCH``. An entry stores a checksum of its
content: a damaged or truncated entry is deleted and rebuilt, never used. Entries are written
to a temporary file and renamed into place, so concurrent builds sharing a cache see whole
entries or none. After a build, the least recently used entries beyond the size cap (2 GB by
default) are removed — never the ones the build just used.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Mapping

from ..atomic import TEMP_SUFFIX, atomic_write_bytes
from ..errors import InputError, Problem
from ..renderers import source_date_setting
from ..theme import Theme

__all__ = ["CACHE_FOLDER", "Cache", "CheckedReports", "DEFAULT_MAX_BYTES", "Memo", "default_cache_dir",
           "environment_digest", "item_key", "pack_key", "remove_legacy_cache", "theme_digest"]

CACHE_FOLDER = ".cache"  # where earlier versions kept the cache: inside the output folder
FORMAT = 1
_MAGIC = b"make-report cache entry 1\n"
DEFAULT_MAX_BYTES = 2 * 1024 ** 3  # the size cap: least recently used entries beyond it are removed
_STALE_TEMP_SECONDS = 3600  # a temp file this old belongs to no running build
_ENTRY = re.compile(r"[0-9a-f]{64}\.entry")


def default_cache_dir() -> Path:
    """Return the user's cache folder for packs: under XDG_CACHE_HOME, ~/.cache or LOCALAPPDATA."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "cabinet_reports" / "packs"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG spec: a relative one is ignored
        base = Path(xdg)
    else:
        try:
            base = Path.home() / ".cache"
        except (RuntimeError, KeyError):  # no HOME and no passwd entry: a container's arbitrary user
            raise InputError(Problem("there is no home folder to keep the pack cache in: give --cache-dir DIR "
                                     "(or set XDG_CACHE_HOME), or build with --no-cache", field="cache")) from None
    return base / "cabinet_reports" / "packs"


def remove_legacy_cache(outdir: Path) -> bool:
    """Remove ``outdir/.cache`` if an earlier version left its cache there; return True if removed.

    It holds Part B renders inside the folder clerks upload. Only a folder holding nothing
    but cache entries and their temp files is removed: anything else there is not ours.
    """
    import shutil

    folder = Path(outdir) / CACHE_FOLDER
    if folder.is_symlink() or not folder.is_dir():
        return False
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).parts
        if path.is_symlink():
            return False
        if path.is_dir():
            if len(relative) != 1 or not re.fullmatch(r"[0-9a-f]{2}", relative[0]):
                return False
        elif len(relative) != 2 or not (_ENTRY.fullmatch(relative[1]) or relative[1].endswith(TEMP_SUFFIX)):
            return False
    shutil.rmtree(folder, ignore_errors=True)
    return not folder.exists()


class Cache:
    """A folder of checksummed entries (see the module docstring)."""

    def __init__(self, folder: str | Path, max_bytes: int = DEFAULT_MAX_BYTES):
        """Use ``folder`` (created, for its owner only, when the first entry is stored), capped at ``max_bytes``."""
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.used: set[str] = set()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.entry"

    def get(self, key: str) -> bytes | None:
        """Return the payload stored under ``key``, or None (missing or damaged: deleted)."""
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        header, _, rest = raw.partition(b"\n")
        digest, _, payload = rest.partition(b"\n")
        if header + b"\n" != _MAGIC or hashlib.sha256(payload).hexdigest().encode() != digest:
            try:
                path.unlink()
            except OSError:
                pass
            return None
        self.used.add(key)
        try:
            os.utime(path)  # least recently used goes first when pruning
        except OSError:
            pass
        return payload

    def put(self, key: str, payload: bytes) -> None:
        """Store ``payload`` under ``key`` (a failure to store is not an error: it is a cache)."""
        path = self._path(key)
        self.used.add(key)
        try:
            # Part B renders live here: the folder is its owner's alone (its parents, such as
            # ~/.cache, keep the permissions they are given).
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.parent.mkdir(exist_ok=True, mode=0o700)
            atomic_write_bytes(path, _MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
        except OSError:
            pass

    def secure(self) -> None:
        """Make sure only its owner can read the cache folder (it holds Part B renders), or refuse it.

        A folder this library creates is owner-only already; one that existed before (made by
        hand on a shared drive, or by an earlier version) is tightened if it is ours, and
        refused if another user owns it.
        """
        if os.name != "posix":
            return
        try:
            st = self.folder.stat()
        except FileNotFoundError:
            return  # created owner-only by the first put
        except OSError as exc:
            raise InputError(Problem(f"cannot use the cache folder {self.folder}: {exc.strerror}", field="cache")) \
                from None
        if st.st_uid != os.getuid():
            raise InputError(Problem(f"the cache folder {self.folder} belongs to another user: it would hold Part B "
                                     "renders, so keep it in a folder of your own (--cache-dir) or use --no-cache",
                                     field="cache"))
        if st.st_mode & 0o077:
            try:
                self.folder.chmod(0o700)
            except OSError as exc:
                raise InputError(Problem(f"cannot make the cache folder {self.folder} private: {exc.strerror}",
                                         field="cache")) from None

    def prune(self) -> None:
        """Remove stale temp files, then the least recently used entries beyond the size cap.

        Entries this build used are kept even beyond the cap. Safe beside other builds: an
        entry removed under another build's feet is a miss for it, rendered again.
        """
        if not self.folder.is_dir():
            return
        now = time.time()
        entries = []
        for path in self.folder.glob("*/*"):
            try:
                stat = path.stat()
            except OSError:
                continue
            if path.name.endswith(TEMP_SUFFIX):
                if now - stat.st_mtime > _STALE_TEMP_SECONDS:
                    _unlink(path)
            elif path.suffix == ".entry":
                entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            if path.stem not in self.used:
                _unlink(path)
                total -= size


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


# --------------------------------------------------------------------------- entries
def encode(meta: Mapping[str, Any], blobs: Mapping[str, bytes]) -> bytes:
    """Pack a small JSON description and named byte strings into one payload."""
    head = json.dumps({"meta": meta, "blobs": [[name, len(data)] for name, data in blobs.items()]})
    return head.encode("utf-8") + b"\n" + b"".join(blobs.values())


def decode(payload: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Unpack :func:`encode`'s payload."""
    head, _, rest = payload.partition(b"\n")
    described = json.loads(head)
    blobs, at = {}, 0
    for name, size in described["blobs"]:
        blobs[name] = rest[at:at + size]
        at += size
    return described["meta"], blobs


# --------------------------------------------------------------------------- keys
def _hash(description: Any) -> str:
    return hashlib.sha256(json.dumps(description, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def file_digest(path: str | Path | None) -> str | None:
    """Return the SHA-256 of a file's bytes (None for no file)."""
    return None if path is None else hashlib.sha256(Path(path).read_bytes()).hexdigest()


_DISTRIBUTIONS = ("weasyprint", "pydyf", "fonttools", "python-docx", "pikepdf", "jinja2", "pydantic", "pyyaml",
                  "markdown-it-py", "tinycss2", "cssselect2", "pillow", "lxml", "holidays")


@functools.lru_cache(maxsize=1)
def environment_digest() -> str:
    """Hash what renders besides the inputs: this library's source, its libraries, Pango.

    The library's own source, not just its version number: a change to a renderer during
    development must not be answered from the cache.
    """
    package = Path(__file__).resolve().parent.parent
    source = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        source.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    versions = {}
    for name in _DISTRIBUTIONS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return _hash({"source": source.hexdigest(), "versions": versions, "pango": _pango_version(),
                  "python": list(sys.version_info[:2])})


def _pango_version() -> str | None:
    """Return the system Pango's version (it lays text out), without importing WeasyPrint."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("pango-1.0")
    try:
        return str(ctypes.CDLL(name or "libpango-1.0.so.0").pango_version())
    except (OSError, AttributeError):
        return None


def theme_digest(theme: Theme) -> str:
    """Hash every file of every folder of a theme (a user theme and the built-in one)."""
    digest = hashlib.sha256()
    for folder in theme.dirs:
        folder = Path(folder)
        digest.update(b"\1" + str(len(theme.dirs)).encode())
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def item_key(report_file: Path, logo: Path | None, classification: Mapping[str, Any], public: bool,
             theme_hash: str, options: Mapping[str, Any] | None = None) -> str:
    """Return the key of a report item's render (PDF without page numbers, and DOCX).

    ``options`` is what else the render takes as plain data (its agenda item number and stamp).
    """
    return _hash({"kind": "report item", "format": FORMAT, "environment": environment_digest(),
                  "theme": theme_hash, "report": file_digest(report_file), "logo": file_digest(logo),
                  "classification": dict(classification), "audience": "public" if public else "full",
                  "epoch": source_date_setting(), "options": {"page_numbers": False, **(options or {})}})


def pack_key(meeting_file: Path, attachments: list[str], items: list[str], theme_hash: str,
             published_on: str | None) -> str:
    """Return the key of a whole pack's outputs, from the keys and digests of all its inputs."""
    return _hash({"kind": "pack", "format": FORMAT, "environment": environment_digest(), "theme": theme_hash,
                  "meeting": file_digest(meeting_file), "attachments": attachments, "items": items,
                  "published_on": published_on, "epoch": source_date_setting()})


class Memo:
    """Layouts of the assembly stage (agendas, page-number strips) remembered by their input.

    A rebuild whose page counts did not change lays out the same agenda HTML and the same
    numbers again: the cache answers them. Without a cache every call is a miss.
    """

    def __init__(self, cache: Cache | None, theme_hash: str):
        """Remember in ``cache`` (None: remember nothing) layouts made with the given theme."""
        self.cache = cache
        self.theme_hash = theme_hash

    def _key(self, kind: str, text: str) -> str:
        return _hash({"kind": kind, "format": FORMAT, "environment": environment_digest(), "theme": self.theme_hash,
                      "text": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                      "epoch": source_date_setting()})

    def get(self, kind: str, text: str) -> tuple[dict[str, Any], dict[str, bytes]] | None:
        """Return the (meta, blobs) stored for a layout of ``text``, or None."""
        payload = self.cache.get(self._key(kind, text)) if self.cache is not None else None
        if payload is None:
            return None
        try:
            return decode(payload)
        except (ValueError, KeyError, TypeError):
            return None

    def put(self, kind: str, text: str, meta: Mapping[str, Any], blobs: Mapping[str, bytes]) -> None:
        """Remember a layout of ``text``."""
        if self.cache is not None:
            self.cache.put(self._key(kind, text), encode(meta, blobs))


class CheckedReports:
    """Report files an earlier build loaded and numbered without a problem, remembered by their inputs.

    Loading a meeting numbers every report (``api.build``) only so that its errors are found
    before anything renders; the render numbers it again in its worker. For a report file whose
    bytes, place, theme and library are those of a build that numbered it without a problem,
    numbering it again can only succeed, so a rebuild skips it: about 70 % of the CPU time of
    loading a meeting (1.3 s for 40 reports). The entry holds nothing, so nothing of the report
    is ever read back from the cache.
    """

    def __init__(self, cache: Cache | None, theme_hash: str):
        """Remember in ``cache`` (None: remember nothing, check every report) with the given theme."""
        self.cache = cache
        self.theme_hash = theme_hash

    def _key(self, digest: str, file: Path) -> str:
        return _hash({"kind": "report numbered", "format": FORMAT, "environment": environment_digest(),
                      "theme": self.theme_hash, "report": digest, "file": str(Path(file).resolve())})

    def known(self, digest: str, file: Path) -> bool:
        """Return True when the text ``file`` was loaded from (its ``Source.digest``) numbered cleanly before."""
        return self.cache is not None and self.cache.get(self._key(digest, file)) is not None

    def remember(self, digest: str, file: Path) -> None:
        """Record that the text with this digest, loaded from ``file``, was numbered without a problem."""
        if self.cache is not None:
            self.cache.put(self._key(digest, file), b"")
