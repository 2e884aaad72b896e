"""Locked-down URL fetcher for WeasyPrint.

Report bodies are written by officers and themes by councils; neither should be able to
make the renderer read arbitrary local files or reach the network. WeasyPrint's default
fetcher happily follows ``file:///etc/passwd`` and even embeds a
``<link rel="attachment" href="file:///…">`` target inside the PDF, so every render must
go through :func:`make_url_fetcher`.

Policy:

* ``data:`` URLs are allowed (they carry their own content).
* ``file:`` URLs are allowed only when the fully resolved real path (symlinks and ``..``
  resolved, percent-escapes decoded) lies inside one of the allowed roots.
* Everything else (``http``, ``https``, ``ftp``, unknown schemes) is refused, so there is
  no network access and therefore no redirect to worry about.
* No embedded files at all. WeasyPrint 70 embeds the target of every ``<link rel="attachment">``
  (as a document attachment, ``/EmbeddedFiles``) and of every ``<a rel="attachment">`` (as a
  ``/FileAttachment`` annotation), fetched through this same fetcher, which cannot tell such a
  fetch from a stylesheet's. Inside the allowed folders that would still let a theme embed any
  file of the report's folder, such as a Part B report lying beside a public one. So
  :func:`attachment_links` finds those elements the way WeasyPrint does, and the theme refuses
  the page before WeasyPrint sees it (``Theme.render``).

A refused URL raises :class:`URLRefused`, an ordinary :class:`ValueError`. WeasyPrint turns
ordinary exceptions into a logged error and simply does not load the resource; it only
aborts the render for ``FatalURLFetchingError`` (a ``BaseException``), which we never raise
because we always construct the fetcher with ``fail_on_errors=False``.
"""

from __future__ import annotations

import mimetypes
import os
import stat
from collections.abc import Sequence
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

# WeasyPrint needs the system's libharfbuzz-subset (Debian libharfbuzz-subset0, installed by
# .ci/system-deps); without it WeasyPrint warns at import, and the test suite fails on purpose.
from weasyprint.urls import URLFetcher, URLFetcherResponse

__all__ = ["LockedURLFetcher", "URLRefused", "attachment_links", "make_url_fetcher"]

from .attachments import attachment_links  # noqa: E402 - re-exported: the theme door uses it without WeasyPrint

# Schemes we serve. Kept as a tuple so the intent ("this and nothing else") is explicit.
_ALLOWED_SCHEMES = ("data", "file")
# A file: URL may name the local host explicitly; any other host would make urllib try
# FTP, i.e. the network.
_LOCAL_HOSTS = ("", "localhost")


class URLRefused(ValueError):
    """Raised when a URL is outside the fetcher's policy.

    It derives from ``ValueError`` (not WeasyPrint's ``FatalURLFetchingError``) so that
    WeasyPrint logs it and skips the resource instead of aborting the render.
    """


class LockedURLFetcher(URLFetcher):
    """Fetch only ``data:`` URLs and ``file:`` URLs inside a set of allowed folders.

    Subclassing :class:`weasyprint.urls.URLFetcher` (rather than passing a bare
    function) matters: WeasyPrint 68+ reads ``url_fetcher._fail_on_errors`` when a fetch
    fails, so a plain callable would crash with ``AttributeError`` on the first refusal.
    """

    def __init__(self, allowed_roots: Sequence[Path | str]) -> None:
        """Store the real paths of the allowed roots and disable every network scheme."""
        # fail_on_errors=False: a refusal must skip the resource, never stop the render.
        # allow_redirects=False: belt and braces, HTTP is refused anyway.
        super().__init__(
            allowed_protocols=list(_ALLOWED_SCHEMES),
            allow_redirects=False,
            fail_on_errors=False,
        )
        # Resolve roots once, so a root that is itself a symlink (e.g. /tmp on macOS)
        # compares equal to the resolved paths of the files beneath it.
        self.allowed_roots: tuple[Path, ...] = tuple(
            Path(os.path.realpath(os.fspath(root))) for root in allowed_roots
        )

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Return the resource at *url*, or raise :class:`URLRefused` if policy forbids it."""
        scheme = url.split(":", 1)[0].strip().lower() if ":" in url else ""
        if scheme == "data":
            # urllib's DataHandler decodes it; no I/O is involved.
            return super().fetch(url, headers)
        if scheme == "file":
            return self._fetch_file(url)
        raise URLRefused(f"URL scheme {scheme or '(none)'!r} is not allowed: {url}")

    def is_allowed_path(self, path: Path | str) -> bool:
        """Tell whether the real path of *path* lies inside one of the allowed roots."""
        real = Path(os.path.realpath(os.fspath(path)))
        return any(real == root or real.is_relative_to(root) for root in self.allowed_roots)

    def _fetch_file(self, url: str) -> URLFetcherResponse:
        """Open a ``file:`` URL after checking its real path against the allowed roots."""
        # WeasyPrint strips query and fragment from file URLs too (bpo-34702).
        parts = urlsplit(url.split("?", 1)[0].split("#", 1)[0])
        if parts.netloc.lower() not in _LOCAL_HOSTS:
            raise URLRefused(f"file URL with a remote host is not allowed: {url}")
        # url2pathname percent-decodes, so "%2e%2e" becomes ".." *before* realpath
        # collapses it; the containment check therefore sees the true target.
        raw_path = url2pathname(parts.path)
        if not os.path.isabs(raw_path):
            raise URLRefused(f"file URL without an absolute path: {url}")
        real = os.path.realpath(raw_path)
        if not self.is_allowed_path(real):
            raise URLRefused(f"file outside the allowed folders: {url}")

        flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        # O_NOFOLLOW on the resolved path: if someone swaps the final component for a
        # symlink between the check and the open, the open fails instead of following it.
        fd = os.open(real, flags)
        try:
            self._check_open_file(fd, url)
            file_stat = os.fstat(fd)
            file_obj = os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
        content_type = mimetypes.guess_type(real)[0] or "application/octet-stream"
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(file_stat.st_size),
            "Last-Modified": formatdate(file_stat.st_mtime, usegmt=True),
        }
        # Keep the URL as given so relative references inside CSS resolve the way the
        # author wrote them (as WeasyPrint's own FileHandler does).
        return URLFetcherResponse(url, file_obj, headers)

    def _check_open_file(self, fd: int, url: str) -> None:
        """Re-check the containment of an opened file and that it is a regular file."""
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise URLRefused(f"not a regular file: {url}")
        # On Linux, /proc tells us what was really opened, closing the window between
        # realpath() and open() in which a directory component could be swapped.
        proc_link = f"/proc/self/fd/{fd}"
        if os.path.islink(proc_link):
            opened = os.readlink(proc_link)
            if not self.is_allowed_path(opened):
                raise URLRefused(f"file outside the allowed folders: {url}")


def make_url_fetcher(allowed_roots: Sequence[Path | str]) -> LockedURLFetcher:
    """Build a fetcher for ``weasyprint.HTML(url_fetcher=...)`` limited to *allowed_roots*.

    Pass the theme folder and the report's own asset folder. An empty sequence allows
    ``data:`` URLs only.
    """
    return LockedURLFetcher(allowed_roots)


# Any "rel=" in any case: every element with a rel attribute holding a value contains this, so
# HTML without it needs no parsing (the built-in theme's pages never have one).
