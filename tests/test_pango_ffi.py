"""WeasyPrint's Pango declarations loaded precompiled (pango_ffi.py): the same PDF, no parse the second time.

Each test starts fresh Python processes (this one imported WeasyPrint long ago) with their own
cache folder, and asks them what they loaded: pycparser is imported only by a process that
parses the declarations, and an in-line cffi FFI is a ``cffi.FFI``, a precompiled one a
``_cffi_backend.FFI``.
"""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cabinet_reports import pango_ffi

PROBE = """
import json, sys
import cabinet_reports, weasyprint
import weasyprint.text.ffi as f
pdf = weasyprint.HTML(string='<html lang="en"><title>t</title><p>Cabinet &amp; fi ffl</p>').write_pdf(
    pdf_variant="pdf/ua-1", pdf_identifier=b"x" * 16)
import _cffi_backend, cffi
kind = "in-line" if isinstance(f.ffi, cffi.FFI) else "kept" if isinstance(f.ffi, _cffi_backend.FFI) else "?"
sys.stdout.write(json.dumps({"ffi": kind,
                             "parsed": "pycparser" in sys.modules, "pdf": pdf.hex()}))
"""
IN_LINE, KEPT = "in-line", "kept"


def probe(cache: Path, **env: str) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                            env={**os.environ, "XDG_CACHE_HOME": str(cache), "SOURCE_DATE_EPOCH": "0",
                                 pango_ffi.SWITCH: "1", **env})
    assert result.stderr == ""
    return json.loads(result.stdout)


def entries(cache: Path) -> list[Path]:
    folder = cache / pango_ffi.FOLDER
    return sorted(folder.glob("*.py")) if folder.exists() else []


def test_the_second_process_loads_the_kept_declarations_and_writes_the_same_pdf(tmp_path):
    first = probe(tmp_path)
    assert (first["ffi"], first["parsed"]) == (KEPT, True)  # parsed once, then used precompiled
    [entry] = entries(tmp_path)
    assert stat.S_IMODE(entry.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(entry.parent.stat().st_mode) == 0o700
    second = probe(tmp_path)
    assert (second["ffi"], second["parsed"]) == (KEPT, False)
    plain = probe(tmp_path / "off", **{pango_ffi.SWITCH: "0"})
    assert (plain["ffi"], plain["parsed"]) == (IN_LINE, True)
    assert not entries(tmp_path / "off")  # turned off, it keeps nothing
    assert first["pdf"] == second["pdf"] == plain["pdf"]


@pytest.mark.parametrize("damage", ["truncated", "one byte changed"])
def test_a_damaged_entry_is_parsed_again_not_run(tmp_path, damage):
    probe(tmp_path)
    [entry] = entries(tmp_path)
    whole = entry.read_bytes()
    if damage == "truncated":
        entry.write_bytes(whole[: len(whole) // 2])
    else:  # still valid Python, with a wrong type table: only the hash line can tell
        at = whole.index(b"_types = b'") + 20
        entry.write_bytes(whole[:at] + bytes([whole[at] ^ 1]) + whole[at + 1:])
    again = probe(tmp_path)
    assert (again["ffi"], again["parsed"]) == (KEPT, True)
    assert entry.read_bytes() == whole


def test_a_folder_others_can_write_is_not_used(tmp_path):
    folder = tmp_path / pango_ffi.FOLDER
    folder.mkdir(parents=True, mode=0o700)
    folder.chmod(0o770)  # another user in the group could put code here
    result = probe(tmp_path)
    assert (result["ffi"], result["parsed"]) == (IN_LINE, True)
    assert not entries(tmp_path)


def shape(source: str) -> tuple[str | None, str]:
    tree = ast.parse(source)
    return pango_ffi._take_declarations(tree), ast.unparse(tree)


def test_only_the_expected_shape_of_ffi_py_is_changed():
    assert shape("import cffi\nffi = cffi.FFI()\nffi.cdef('int f(int);')\nlib = ffi.dlopen('c')\n") == (
        "int f(int);", "import cffi\nffi = __precompiled_ffi__\nlib = ffi.dlopen('c')")
    for source in ("import cffi\nffi = cffi.FFI()\nffi.cdef(TEXT)\n",  # not a literal
                   "import cffi\nffi = cffi.FFI()\nffi.cdef('int f(int);')\nffi.cdef('int g(int);')\n",
                   "import cffi\nffi = cffi.FFI()\nffi.cdef('int f(int);')\nffi = cffi.FFI()\n",
                   "import cffi\nffi = cffi.FFI(backend=b)\nffi.cdef('int f(int);')\n",
                   "import cffi\nffi = cffi.FFI()\nx = 1\nffi.cdef('int f(int);')\n"):
        assert shape(source) == (None, ast.unparse(ast.parse(source))), source


def test_a_module_the_precompiled_ffi_cannot_run_is_run_as_written(tmp_path, monkeypatch):
    """Should WeasyPrint's ffi.py do something the out-of-line ffi cannot, the import still works."""
    package = tmp_path / "weasyprint" / "text"
    package.mkdir(parents=True)
    for folder in (package.parent, package):
        (folder / "__init__.py").write_text("", encoding="utf-8")
    (package / "ffi.py").write_text("import cffi\nffi = cffi.FFI()\nffi.cdef('int abs(int);')\n"
                                    "ffi.verify\n"  # an in-line-only attribute
                                    "libc = ffi.dlopen(None)\n", encoding="utf-8")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import cabinet_reports\n"
            "import weasyprint.text.ffi as f\n"
            "print(type(f.ffi).__module__, f.libc.abs(-3), '__precompiled_ffi__' in vars(f))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True,
                            env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), pango_ffi.SWITCH: "1"})
    assert (result.stdout.split(), result.stderr) == (["cffi.api", "3", "False"], "")


UNLOAD = """
import gc, sys
import cabinet_reports
import weasyprint
import weasyprint.text.ffi as f
from cabinet_reports import pango_ffi

def drop_libraries():
    libraries = [getattr(f, name) for name in ("gobject", "pango", "harfbuzz", "harfbuzz_subset",
                                               "harfbuzz_vector", "fontconfig", "pangoft2") if getattr(f, name, None)]
    pango_ffi._LIBRARIES.clear()
    for library in libraries:
        for holder in gc.get_referrers(library):
            if isinstance(holder, dict):
                for key in [k for k, v in holder.items() if v is library]:
                    del holder[key]

described = f.ffi.gc(f.pango.pango_font_description_new(), f.pango.pango_font_description_free)
drop_libraries()
gc.collect()
del described  # its destructor is Pango's own function
gc.collect()
print("freed")
"""


def test_the_libraries_stay_loaded_while_an_object_needs_them(tmp_path):
    """As at exit, when Python frees the library objects before the last Pango objects.

    cffi's in-line FFI (WeasyPrint's own) keeps every library it opened; the precompiled one
    did not, so freeing the libraries' last references unloaded them, and the next Pango
    destructor jumped into unmapped code: processes that laid out reports could end in a
    segmentation fault after writing their output.
    """
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), pango_ffi.SWITCH: "1"}
    for _ in range(2):  # the first process parses and keeps the declarations, the second loads them
        done = subprocess.run([sys.executable, "-c", UNLOAD], capture_output=True, text=True, env=env)
        assert (done.returncode, done.stdout, done.stderr) == (0, "freed\n", "")
    assert entries(tmp_path)


COMMAND = """
import sys
from cabinet_reports import cli
sys.argv = ["make-report", *sys.argv[1:]]
assert cli.main() == 0
import weasyprint.text.ffi as f, cffi
print("in-line" if isinstance(f.ffi, cffi.FFI) else "kept")
"""
DUDLEY = Path(__file__).resolve().parent.parent / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"


@pytest.mark.parametrize("extra, environment, expected", [
    ([], {}, "kept"),  # make-report: on
    (["--no-cache"], {}, "in-line"),  # --no-cache keeps nothing
    ([], {pango_ffi.SWITCH: "0"}, "in-line"),  # turned off by the user
])
def test_the_command_line_turns_it_on_and_a_program_importing_the_library_does_not(tmp_path, extra, environment,
                                                                                   expected):
    env = {k: v for k, v in os.environ.items() if k != pango_ffi.SWITCH}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), **environment)
    argv = ["render", str(DUDLEY), "-o", str(tmp_path / "out"), "--format", "pdf", "-q", *extra]
    done = subprocess.run([sys.executable, "-c", COMMAND, *argv], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split() == [expected]
    assert bool(entries(tmp_path / "cache")) == (expected == "kept")
    library = subprocess.run([sys.executable, "-c", "import cabinet_reports, weasyprint.text.ffi as f, cffi; "
                              "print(isinstance(f.ffi, cffi.FFI))"], capture_output=True, text=True, env=env, check=True)
    assert library.stdout.split() == ["True"]  # a Python program: WeasyPrint's own module, as it wrote it


def test_an_earlier_entry_is_removed_when_a_new_one_is_kept(tmp_path):
    folder = tmp_path / pango_ffi.FOLDER
    folder.mkdir(parents=True, mode=0o700)
    (folder / ("0" * 32 + ".py")).write_text("# another WeasyPrint's\n", encoding="utf-8")
    stray, writing = folder / ".stray.tmp", folder / ".another-process-writing.tmp"
    stray.write_text("", encoding="utf-8")
    os.utime(stray, (0, 0))  # long ago: no process is still writing it
    writing.write_text("", encoding="utf-8")
    import importlib.util
    import hashlib

    here = hashlib.sha256(importlib.util.find_spec("weasyprint.pdf.fonts").origin.encode()).hexdigest()[:8]
    older = f"fonts-{here}-" + "0" * 32 + ".code"  # this WeasyPrint's, from an earlier version of it
    elsewhere = "fonts-00000000-" + "0" * 32 + ".code"  # another environment's copy of WeasyPrint
    for name in (older, elsewhere):
        (folder / name).write_bytes(b"an earlier fonts.py")
    probe(tmp_path)
    [fonts] = [p for p in folder.glob("*.code") if p.name != elsewhere]
    assert sorted(p.name for p in folder.iterdir()) == sorted([entries(tmp_path)[0].name, fonts.name, elsewhere,
                                                                writing.name])
    assert fonts.name != older


def test_a_library_found_only_through_find_library_falls_back_without_a_message(tmp_path):
    """WeasyPrint's names that open only through ctypes.util.find_library (macOS, conda): its own
    module, as written, finds them, and the advice it prints before failing is not shown."""
    package = tmp_path / "weasyprint" / "text"
    package.mkdir(parents=True)
    for folder in (package.parent, package):
        (folder / "__init__.py").write_text("", encoding="utf-8")
    (package / "ffi.py").write_text(
        "import cffi\nffi = cffi.FFI()\nffi.cdef('int abs(int);')\n"
        "try:\n    libc = ffi.dlopen('c')\n"  # "c" opens only through find_library
        "except OSError:\n    print('could not import some external libraries')\n    raise\n", encoding="utf-8")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import cabinet_reports\n"
            "import weasyprint.text.ffi as f\nprint(type(f.ffi).__module__, f.libc.abs(-3))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True,
                            env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), pango_ffi.SWITCH: "1"})
    assert (result.stdout.split(), result.stderr) == (["cffi.api", "3"], "")


def test_folders_made_under_a_group_writable_umask_are_owner_only_and_used(tmp_path):
    """With umask 002 the folders above the cache used to be made group-writable, so the
    safety check refused the cache in them (silently: every process parsed again)."""
    code = ("import os; os.umask(0o002)\n" + PROBE)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "home"), "SOURCE_DATE_EPOCH": "0", pango_ffi.SWITCH: "1"}
    for parsed in (True, False):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        assert json.loads(done.stdout)["parsed"] is parsed
    for level in (tmp_path / "home", tmp_path / "home" / "cabinet_reports", tmp_path / "home" / pango_ffi.FOLDER):
        assert stat.S_IMODE(level.stat().st_mode) == 0o700, level


FONTS_PROBE = """
import hashlib, json, sys
import cabinet_reports, weasyprint
import weasyprint.pdf.fonts as fonts
if sys.argv[1] == "fonttools":  # as on a system whose HarfBuzz cannot subset: fontTools subsets
    fonts.harfbuzz_subset = None
html = '<html lang="en"><title>t</title><p>Cabinet &amp; fi ffl <b>bold</b> <i>italic</i></p>'
pdf = weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=b"x" * 16)
sys.stdout.write(json.dumps({"pdf": hashlib.sha256(pdf).hexdigest(),
                             "imported": sorted(m for m in ("fontTools.subset", "fontTools.varLib.instancer")
                                                if m in sys.modules),
                             "instancer": repr(fonts.instantiateVariableFont)}))
"""


@pytest.mark.parametrize("subsetter", ["harfbuzz", "fonttools"])
def test_font_tools_subsetter_is_imported_only_when_used_and_the_pdf_is_the_same(tmp_path, subsetter):
    """WeasyPrint's fonts.py imports fontTools' subsetter and instancer at the top (0.11 s) and
    needs them only where HarfBuzz cannot subset, or for variable fonts."""
    def run(**env: str) -> dict:
        done = subprocess.run([sys.executable, "-c", FONTS_PROBE, subsetter], capture_output=True, text=True,
                              check=True, env={**{k: v for k, v in os.environ.items() if k != pango_ffi.SWITCH},
                                               "XDG_CACHE_HOME": str(tmp_path), "SOURCE_DATE_EPOCH": "0", **env})
        assert done.stderr == ""
        return json.loads(done.stdout)

    deferred, cache_off, library = run(**{pango_ffi.SWITCH: "1"}), run(**{pango_ffi.SWITCH: "0"}), run()
    assert deferred["pdf"] == cache_off["pdf"] == library["pdf"]
    assert library["imported"] == ["fontTools.subset", "fontTools.varLib.instancer"]  # a program: as written
    assert library["instancer"].startswith("<function instantiateVariableFont")
    expected = [] if subsetter == "harfbuzz" else ["fontTools.subset"]  # make-report, --no-cache too
    assert deferred["imported"] == cache_off["imported"] == expected
    assert deferred["instancer"] == "<deferred fontTools.varLib.instancer.instantiateVariableFont>"


def test_a_deferred_name_is_the_real_module_or_function_when_used():
    from fontTools.varLib import instancer

    import fontTools.subset

    function = pango_ffi._Deferred("fontTools.varLib.instancer", "instantiateVariableFont")
    module = pango_ffi._Deferred("fontTools.subset", None)
    assert function._target() is instancer.instantiateVariableFont
    assert module.Options is fontTools.subset.Options
    with pytest.raises(TypeError, match="missing .* required positional argument"):  # the real function's own
        function()
    with pytest.raises(AttributeError):
        module.__wrapped__


def test_only_the_expected_imports_of_fonts_py_are_deferred():
    both = "from fontTools import subset\nfrom fontTools.varLib.instancer import instantiateVariableFont\n"
    assert pango_ffi._fonts_deferred(both + "x = 1\n", "fonts.py") is not None
    for source in ("from fontTools import subset\n",  # one of the two missing
                   both + "from fontTools import subset\n",  # twice
                   "from fontTools import subset, ttLib\n" + both.split("\n")[1] + "\n",
                   "from fontTools import subset as s\n" + both.split("\n")[1] + "\n",
                   "from other import subset\nfrom fontTools.varLib.instancer import instantiateVariableFont\n"):
        assert pango_ffi._fonts_deferred(source, "fonts.py") is None, source


def test_the_deferred_fonts_module_is_kept_compiled_and_a_damaged_copy_is_compiled_again(tmp_path):
    def run(**env: str) -> dict:
        done = subprocess.run([sys.executable, "-c", FONTS_PROBE, "harfbuzz"], capture_output=True, text=True,
                              check=True, env={**os.environ, "XDG_CACHE_HOME": str(tmp_path), "SOURCE_DATE_EPOCH": "0",
                                               pango_ffi.SWITCH: "1", **env})
        assert done.stderr == ""
        return json.loads(done.stdout)

    first = run()
    [kept] = (tmp_path / pango_ffi.FOLDER).glob("fonts-*.code")
    assert stat.S_IMODE(kept.stat().st_mode) & 0o077 == 0
    whole, written = kept.read_bytes(), kept.stat().st_ino
    assert run() == first
    assert kept.stat().st_ino == written  # loaded, not written again (an entry is written by rename)
    kept.write_bytes(whole[:100] + bytes([whole[100] ^ 1]) + whole[101:])  # one byte of the code changed
    damaged = kept.stat().st_ino
    again = run()
    assert again == first and kept.read_bytes() == whole and kept.stat().st_ino != damaged  # compiled again
    kept.write_bytes(whole[: len(whole) // 2])
    damaged = kept.stat().st_ino
    assert run() == first and kept.read_bytes() == whole and kept.stat().st_ino != damaged
    off = tmp_path / "off"
    assert run(XDG_CACHE_HOME=str(off), **{pango_ffi.SWITCH: "0"}) == first
    assert not list(off.rglob("*.code"))  # --no-cache keeps nothing
