"""The user's cache folder, and private folders in it that only this user could have written.

Takes a folder name; gives the folder, created owner-only, or None when it cannot be trusted.
The three things kept there between runs (compiled theme templates, template_cache.py;
WeasyPrint's Pango declarations and its fonts.py with two imports deferred, pango_ffi.py) are
code this process will run, so a folder is used only
if it is a real folder (not a symlink) owned by this user with no access for anyone else, and
no other user could swap it for one of their own (every folder above it is this user's or
root's and writable by nobody else, or sticky as /tmp is). Standard library only: the PDF
worker imports this before WeasyPrint.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path


# Set by make-report for itself and the workers it starts (pango_ffi.enable): "1" keeps compiled
# code between runs (the Pango declarations, the theme templates), "0" (its --no-cache) does not.
KEEP_COMPILED = "CABINET_REPORTS_KEEP_COMPILED"


def keep_compiled() -> bool:
    """Return True in make-report's processes (and their workers) that keep compiled code between runs."""
    return os.environ.get(KEEP_COMPILED) == "1"


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


def private_folder(relative: Path) -> Path | None:
    """Return ``relative`` under the user's cache folder, created owner-only, or None when it is unsafe."""
    home = cache_home()
    if home is None:
        return None
    folder = home / relative
    try:
        _make_private(folder)
        st = os.lstat(folder)
    except OSError:  # a read-only home, a file in the way: go without the cache
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
    return folder


def _make_private(folder: Path) -> None:
    """Create ``folder`` and any missing folder above it, each owner-only.

    ``mkdir(parents=True)`` gives the folders above the last one the umask's mode: with umask
    002, common on shared machines, ``~/.cache/cabinet_reports`` came out group-writable and the
    safety check below then refused every cache in it, silently.
    """
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for level in reversed(missing):
        level.mkdir(mode=0o700, exist_ok=True)


def _safe_parents(folder: Path) -> bool:
    """Return True when no other user can replace ``folder``: every folder above it is this
    user's or root's, and writable by nobody else (or sticky, as /tmp is).

    Otherwise another user could rename the checked folder away after the check and put one of
    their own, full of code for this user to run, in its place.
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
