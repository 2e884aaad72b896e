"""Compiled theme templates kept between runs, so a fresh ``make-report render`` skips Jinja's compiler.

Takes nothing; gives a Jinja bytecode cache in an owner-only folder under the user's cache
directory, ``$XDG_CACHE_HOME/cabinet_reports/templates/<compiler>/`` (else
``~/.cache/cabinet_reports/templates/…``; ``%LOCALAPPDATA%\\cabinet_reports\\templates\\…`` on
Windows), or None when there is no such folder to use. Compiling the theme's report templates
took about 0.1 s of every command that rendered; loading them compiled takes a few milliseconds.

Only ``make-report render`` uses it (unless ``--no-cache``): a Python program calling the
library, ``watch`` and ``pack`` write nothing of it.

What keeps it as strong as compiling afresh:

- The sandbox decides part of what a template may do when it is compiled (the loop and size
  guards sandbox.py inserts, the operators it intercepts); the rest (attribute access, calls)
  is checked as the code runs, compiled or loaded. So the folder is named by a hash of the
  code that compiles (this package's sandbox.py, theme.py and this file), the Jinja and
  Python versions: a change to any of them starts an empty folder, and nothing compiled by
  other rules is ever loaded. Within a folder Jinja keys each template by its name and file
  and checks a hash of its source, so an edited template is compiled again.
- Loading compiled code runs it: the folder is created readable and writable by its owner
  only, and is used only if it is a real folder (not a symlink) owned by this user with no
  access for anyone else, as Jinja's own default cache folder is checked.
- An entry that cannot be read back whole (damaged, truncated, another version's) is
  compiled again, never trusted; failing to write one only costs the time it would save.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import sys
import types
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket, FileSystemBytecodeCache

FOLDER = Path("cabinet_reports") / "templates"
_COMPILER_SOURCES = ("sandbox.py", "theme.py", "template_cache.py")


def cache_home() -> Path | None:
    """Return the user's cache folder (XDG_CACHE_HOME, ~/.cache or LOCALAPPDATA), or None without one."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"])
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG spec: a relative one is ignored
        return Path(xdg)
    try:
        return Path.home() / ".cache"
    except (RuntimeError, KeyError):  # no HOME and no passwd entry
        return None


@functools.lru_cache(maxsize=1)
def compiler_digest() -> str:
    """Return a hash of everything that decides what a theme template compiles to."""
    digest = hashlib.sha256()
    digest.update(f"{jinja2.__version__}\0{sys.version}\0{sys.implementation.cache_tag}\0".encode())
    package = Path(__file__).resolve().parent
    for name in _COMPILER_SOURCES:
        digest.update(name.encode() + b"\0" + (package / name).read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def compiled_templates() -> jinja2.BytecodeCache | None:
    """Return the bytecode cache for theme templates, or None when no safe folder is available."""
    home = cache_home()
    if home is None:
        return None
    folder = home / FOLDER / compiler_digest()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = os.lstat(folder)
    except OSError:  # a read-only home, a file in the way: render without the cache
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    if hasattr(os, "getuid"):
        if st.st_uid != os.getuid():
            return None
        if st.st_mode & 0o077:
            return None  # someone else could write code here for this user to run
        if not _safe_parents(folder):
            return None
    return _Templates(str(folder))


def _safe_parents(folder: Path) -> bool:
    """Return True when no other user can replace ``folder``: every folder above it is this
    user's or root's, and writable by nobody else (or sticky, as /tmp is).

    Otherwise another user could rename the checked folder away after the check and put one of
    their own, full of compiled code for this user to load, in its place.
    """
    for parent in folder.parents:
        try:
            st = os.lstat(parent)
        except OSError:
            return False
        if stat.S_ISLNK(st.st_mode):
            try:
                st = os.stat(parent)
            except OSError:
                return False
        if st.st_uid not in (0, os.getuid()):
            return False
        if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
            return False
    return True


class _Templates(FileSystemBytecodeCache):
    """Jinja's file cache, made to treat every damaged entry as missing and never fail a render."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - an unreadable entry (a truncated pickle) is compiled again
            bucket.reset()
        if bucket.code is not None and not isinstance(bucket.code, types.CodeType):
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:  # a full disk or a folder removed meanwhile: next time it compiles again
            pass
