"""Shared fixtures. Keep this small and generic: helpers that read outputs live in readers.py."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable, Iterable

import pytest

from readers import require


# With pytest-xdist (the README runs `-n auto --dist loadfile`) each worker has its own session:
# its own tmp_path_factory folder, hence its own LibreOffice profile and pack cache folder, and
# each module runs whole on one worker, so a module-scoped fixture is built once.


@pytest.fixture(scope="session", autouse=True)
def _private_cache_home(tmp_path_factory):
    """Keep every pack cache the tests make (the default is under XDG_CACHE_HOME) out of the user's own."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture(autouse=True)
def _cache_home_per_test(_private_cache_home, tmp_path_factory, monkeypatch):
    """One cache folder per test: a report another test rendered is never found in the cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture(scope="session")
def libreoffice(tmp_path_factory) -> Callable[[Iterable[Path]], list[Path]]:
    """Return ``convert(paths) -> pdfs``: DOCX (or ODT …) → PDF with headless LibreOffice.

    One private profile per session (parallel runs do not share LibreOffice's lock), one
    ``soffice`` start for all files given in a call (it takes ~2 s), and every file is
    converted at most once per session. Fails under CI, skips elsewhere, without soffice.
    """
    profile = tmp_path_factory.mktemp("lo-profile")
    done: dict[Path, Path] = {}

    def convert(paths: Iterable[Path]) -> list[Path]:
        paths = [Path(p).resolve() for p in paths]
        todo = [p for p in paths if p not in done]
        if todo:
            outdir = tmp_path_factory.mktemp("lo-pdf")  # one per call: equal stems never collide
            stems = [p.stem for p in todo]
            assert len(set(stems)) == len(stems), f"file names must differ: {stems}"
            result = subprocess.run(
                [require("soffice"), f"-env:UserInstallation={profile.as_uri()}", "--headless",
                 "--convert-to", "pdf", "--outdir", str(outdir), *map(str, todo)],
                capture_output=True, text=True, timeout=300)
            for p in todo:
                pdf = outdir / (p.stem + ".pdf")
                # soffice exits 0 even when a conversion fails: check for each file.
                assert pdf.is_file(), f"LibreOffice did not convert {p.name}:\n{result.stdout}\n{result.stderr}"
                done[p] = pdf
        return [done[p] for p in paths]

    return convert


ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_MEETING = ROOT / "examples" / "dudley-2005-cabinet" / "meeting.yaml"


# The example meeting pack takes ~5 s to build and several modules read it: they share these two
# builds (once per session, or per xdist worker). Tests only read them; one that changes files
# copies the folder first.
@pytest.fixture(scope="session")
def example_pack_cli(tmp_path_factory) -> tuple[Path, int, str, str]:
    """Build the example meeting pack through the command line (default options, the session's
    cache folder); return its folder, the exit code, stdout and stderr."""
    from pack_inputs import run_cli

    out = tmp_path_factory.mktemp("example-pack") / "dudley-cabinet"
    code, stdout, stderr = run_cli("pack", str(EXAMPLE_MEETING), "-o", str(out))
    return out, code, stdout, stderr


@pytest.fixture(scope="session")
def example_pack_uncached(tmp_path_factory) -> Path:
    """Build the example meeting pack through the library, one job and no cache; return its folder."""
    from cabinet_reports.pack import build_pack

    out = tmp_path_factory.mktemp("example-pack-uncached") / "pack"
    build_pack(EXAMPLE_MEETING, out, jobs=1, cache=False)
    return out


@pytest.fixture(scope="session")
def every_docx(tmp_path_factory, example_pack_uncached) -> dict[str, Path]:
    """Write every kind of DOCX the project makes, once per session; return them by name.

    Both example reports (YAML), each example theme's report, an exempt report, and the
    example meeting pack's agenda and items/ files, public and Part B.
    """
    from cabinet_reports.api import render_report

    out = tmp_path_factory.mktemp("every-docx")
    found: dict[str, Path] = {}
    for report in sorted((ROOT / "examples").glob("*/report.yaml")):
        found[report.parent.name] = render_report(report, out, formats=("docx",))["docx"]
    for theme in sorted(p for p in (ROOT / "examples" / "themes").iterdir() if (p / "report.yaml").is_file()):
        found[f"theme-{theme.name}"] = render_report(theme / "report.yaml", out, theme=theme, name=f"theme-{theme.name}",
                                                     formats=("docx",))["docx"]
    found["exempt"] = render_report(ROOT / "tests" / "golden" / "exempt-with-details" / "report.yaml", out,
                                    name="exempt", formats=("docx",))["docx"]
    pack = example_pack_uncached
    found["pack-agenda"] = pack / "agenda.docx"
    for item in sorted((pack / "items").rglob("*.docx")):
        found["pack-" + item.relative_to(pack / "items").with_suffix("").as_posix().replace("/", "-")] = item
    return found
