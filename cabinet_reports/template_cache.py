"""Compiled theme templates kept between runs, so a fresh ``make-report render`` skips Jinja's compiler.

Takes nothing; gives a Jinja bytecode cache in an owner-only folder under the user's cache
directory, ``$XDG_CACHE_HOME/cabinet_reports/templates/<compiler>/`` (else
``~/.cache/cabinet_reports/templates/…``; ``%LOCALAPPDATA%\\cabinet_reports\\templates\\…`` on
Windows), or None when there is no such folder to use. Compiling the theme's report templates
took about 0.1 s of every command that rendered; loading them compiled takes a few milliseconds.

Only ``make-report render`` and ``make-report pack`` (its workers too) use it, unless
``--no-cache`` (cache_folder.keep_compiled): a Python program calling the library and
``watch`` write nothing of it.

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
  access for anyone else, as Jinja's own default cache folder is checked (cache_folder.py).
- An entry that cannot be read back whole (damaged, truncated, another version's) is
  compiled again, never trusted; failing to write one only costs the time it would save.
"""

from __future__ import annotations

import functools
import hashlib
import sys
import types
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket, FileSystemBytecodeCache

from .cache_folder import private_folder

FOLDER = Path("cabinet_reports") / "templates"
_COMPILER_SOURCES = ("sandbox.py", "theme.py", "template_cache.py", "cache_folder.py")


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
    folder = private_folder(FOLDER / compiler_digest())
    return None if folder is None else _Templates(str(folder))


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
