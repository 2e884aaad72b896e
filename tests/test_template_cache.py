"""Compiled theme templates kept between runs (template_cache.py): the same bytes, the same sandbox.

Each test renders through the real command line twice, the second time in a new Theme whose
templates come from the compiled entries the first left in the user's cache folder (conftest
gives every test its own XDG_CACHE_HOME). Jinja's compiler is made to fail for that second
run, so a test cannot pass by compiling again.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import jinja2
import pytest
from jinja2.bccache import bc_magic

from cabinet_reports import api
from cabinet_reports.cli import main
from cabinet_reports.template_cache import FOLDER, compiled_templates, compiler_digest

ROOT = Path(__file__).resolve().parent.parent
DUDLEY = ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"
PAGE = '<!DOCTYPE html>\n<html lang="en-GB"><head><title>x</title></head>\n<body>\n{payload}\n</body></html>\n'


def cache_folder() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"]) / FOLDER / compiler_digest()


def render(out: Path, capsys, *extra: str) -> tuple[int, list[str]]:
    api._cached_theme.cache_clear()  # a new Theme, as in a new process: its templates come from the folder
    code = main(["render", str(DUDLEY), "-o", str(out), "--html", *extra])
    return code, capsys.readouterr().err.splitlines()


def no_compiling(monkeypatch) -> None:
    """Make compiling a theme file fail (theme.yaml's short text templates are not kept)."""
    compile_ = jinja2.Environment.compile

    def refuse(self, source, name=None, *args, **kwargs):
        if name is not None:
            raise AssertionError(f"{name} was compiled again instead of loaded from the cache")
        return compile_(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", refuse)


def test_compiled_templates_give_the_same_bytes(tmp_path, capsys, monkeypatch):
    assert render(tmp_path / "fresh", capsys, "--no-cache") == (0, [])
    assert not cache_folder().parent.exists()  # --no-cache keeps nothing
    assert render(tmp_path / "first", capsys) == (0, [])
    entries = list(cache_folder().iterdir())
    assert entries and all(stat.S_IMODE(e.stat().st_mode) & 0o077 == 0 for e in entries)
    assert stat.S_IMODE(cache_folder().stat().st_mode) == 0o700
    no_compiling(monkeypatch)
    assert render(tmp_path / "cached", capsys) == (0, [])
    for name in ("dudley-2005-partnership-strategy.pdf", "dudley-2005-partnership-strategy.docx",
                 "dudley-2005-partnership-strategy.html"):
        assert (tmp_path / "cached" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name


@pytest.mark.parametrize("payload, reason", [
    ("{{ cycler.__init__.__globals__.os.system('touch MARKER') }}", "is unsafe."),  # checked as it runs
    ("{% for a in range(100000) %}{% for b in range(100000) %}{{ b }}{% endfor %}{% endfor %}",
     "the template does too much work"),  # the loop guard is written into the code when it compiles
    ("{% set a = 'x' * 1000000 %}{% set b = a ~ a %}{% set c = b ~ b %}{% set d = c ~ c %}{% set e = d ~ d %}"
     "{% set f = e ~ e %}{{ f ~ f }}", "a string the template builds is too long"),  # so is the size guard
], ids=["attribute", "loop", "concat"])
def test_a_compiled_template_is_sandboxed_as_a_fresh_one(tmp_path, capsys, monkeypatch, payload, reason):
    monkeypatch.setattr("cabinet_reports.sandbox.MAX_STEPS", 300_000)  # the same refusal, sooner
    marker = tmp_path / "pwned"
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "report.html").write_text(PAGE.format(payload=payload.replace("MARKER", str(marker))), encoding="utf-8")
    first = render(tmp_path / "out", capsys, "--theme", str(theme))
    assert any(cache_folder().iterdir())
    no_compiling(monkeypatch)
    again = render(tmp_path / "out", capsys, "--theme", str(theme))
    assert first == again
    code, err = again
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"make-report: error: {theme / 'report.html'}:4: template error: "), err
    assert reason in err[0], err
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_a_damaged_entry_is_compiled_again(tmp_path, capsys):
    assert render(tmp_path / "first", capsys) == (0, [])
    entries = sorted(cache_folder().iterdir())
    assert len(entries) >= 3
    for i, entry in enumerate(entries):
        data = entry.read_bytes()
        # Cut short after the header, garbage after it, or not an entry at all.
        entry.write_bytes([data[:len(data) // 3], bc_magic + b"\x80not a pickle", b"junk"][i % 3])
    assert render(tmp_path / "again", capsys) == (0, [])
    for name in ("dudley-2005-partnership-strategy.pdf", "dudley-2005-partnership-strategy.html"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "first" / name).read_bytes()
    assert all(entry.read_bytes() not in (b"junk",) for entry in cache_folder().iterdir())  # written again


def test_a_folder_others_can_write_to_is_never_used(tmp_path, capsys, monkeypatch):
    folder = cache_folder()
    folder.mkdir(parents=True, mode=0o700)
    folder.chmod(0o777)
    assert compiled_templates() is None
    folder.chmod(0o700)
    link = tmp_path / "elsewhere"
    link.mkdir(mode=0o700)
    folder.rmdir()
    folder.symlink_to(link)
    assert compiled_templates() is None
    assert render(tmp_path / "out", capsys) == (0, [])  # renders, keeping nothing
    assert list(link.iterdir()) == []


def test_a_library_caller_keeps_nothing(tmp_path):
    """Only the command line keeps compiled templates: a program calling the library writes
    nothing outside its output folder."""
    api._cached_theme.cache_clear()
    api.render_report(DUDLEY, tmp_path / "out", formats="pdf")
    assert not (Path(os.environ["XDG_CACHE_HOME"]) / FOLDER).exists()


def test_a_folder_under_one_others_can_write_to_is_never_used(tmp_path, monkeypatch):
    """Another user who can write to a folder above it could swap the checked folder for one of
    their own after the check: the cache is then not used at all."""
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared / "cache"))
    assert compiled_templates() is not None  # an owner-only path is used
    shared.chmod(0o777)  # writable by anyone, and not sticky
    try:
        assert compiled_templates() is None
        shared.chmod(0o777 | stat.S_ISVTX)  # sticky, as /tmp: nobody may rename another's folder
        assert compiled_templates() is not None
    finally:
        shared.chmod(0o700)


def test_make_report_pack_loads_its_templates_compiled_and_a_library_build_keeps_none(tmp_path, monkeypatch):
    """make-report pack (KEEP_COMPILED=1, as it sets for itself and its workers) keeps the agenda,
    report and web templates compiled; a program calling build_pack writes none."""
    from pack_inputs import HEAD, REPORT, run_cli

    from cabinet_reports.cache_folder import KEEP_COMPILED

    (tmp_path / "roads.yaml").write_text(REPORT % ("Roads report", "public", "Roads."), encoding="utf-8")
    meeting = tmp_path / "meeting.yaml"
    meeting.write_text(HEAD + "  - title: Apologies\n  - report: roads.yaml\n", encoding="utf-8")

    def pack(name: str) -> dict[str, bytes]:
        api._cached_theme.cache_clear()  # a new Theme, as in a new process
        code = run_cli("pack", str(meeting), "-o", str(tmp_path / name), "--cache-dir", str(tmp_path / f"{name}-cache"),
                       "--jobs", "1", "-q")[0]  # each its own pack cache: every build renders
        assert code == 0
        return {p.name: p.read_bytes() for p in (tmp_path / name).iterdir() if p.suffix in (".pdf", ".html", ".docx")}

    monkeypatch.delenv(KEEP_COMPILED, raising=False)
    library = pack("library")
    assert not cache_folder().parent.exists()
    monkeypatch.setenv(KEEP_COMPILED, "1")
    first = pack("first")
    kept = list(cache_folder().iterdir())
    assert len(kept) >= 3  # the report, the agenda and the web page templates at least
    no_compiling(monkeypatch)
    assert pack("compiled") == first == library
