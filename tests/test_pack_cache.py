"""Where the pack cache lives, and what it keeps (issue 10).

The cache holds Part B renders. It once lived in OUTDIR/.cache, inside the folder clerks upload
whole; it now lives in the user's cache folder (XDG_CACHE_HOME; conftest gives each test its
own), readable by its owner only, capped in size with the least recently used entries pruned.
Every file the output folder holds is read back (pdftotext for every PDF found in it, even one
stored inside another file; the XML of every DOCX) for the Part B report's words.
"""

from __future__ import annotations

import io
import os
import re
import stat
import time
import zipfile
from pathlib import Path

import pytest

from pack_inputs import HEAD, REPORT, run_cli
from readers import pdftotext

SECRET = "Zanzibarite depot valuation"


def meeting(folder: Path) -> Path:
    (folder / "roads.yaml").write_text(REPORT % ("Roads report", "public", "Roads."), encoding="utf-8")
    (folder / "depot.yaml").write_text(REPORT % ("Depot disposal", "{status: exempt, paragraphs: [3]}",
                                                 f"{SECRET}."), encoding="utf-8")
    path = folder / "meeting.yaml"
    path.write_text(HEAD + "  - title: Apologies\n  - report: roads.yaml\n  - report: depot.yaml\n"
                           "    public_title: A property matter\n", encoding="utf-8")
    return path


def texts(path: Path, scratch: Path) -> str:
    """Return the text of every PDF and DOCX inside a file's bytes (at any offset)."""
    data = path.read_bytes()
    found = []
    for n, start in enumerate(m.start() for m in re.finditer(rb"%PDF-", data)):
        end = data.find(b"%%EOF", start)
        piece = scratch / f"piece-{n}.pdf"
        piece.write_bytes(data[start:end + 5 if end >= 0 else len(data)])
        found.append(pdftotext(piece))
    for start in (m.start() for m in re.finditer(rb"PK\x03\x04", data)):
        try:
            with zipfile.ZipFile(io.BytesIO(data[start:])) as z:
                found.extend(z.read(name).decode("utf-8", "replace") for name in z.namelist())
        except (zipfile.BadZipFile, ValueError, EOFError):  # a header inside a zip, not its start
            continue
    return "\n".join(found) + data.decode("latin-1")


def test_the_cache_is_kept_outside_the_output_folder_for_its_owner_only(tmp_path):
    from cabinet_reports.pack import build_pack
    from cabinet_reports.pack.cache import default_cache_dir

    out = tmp_path / "out"
    build_pack(meeting(tmp_path), out, jobs=1)
    cache = default_cache_dir()
    assert cache == Path(os.environ["XDG_CACHE_HOME"]) / "cabinet_reports" / "packs"
    assert len(list(cache.glob("*/*.entry"))) >= 3
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    # The Part B render is in the cache, where the test can find it ...
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert any(SECRET in texts(entry, scratch) for entry in cache.glob("*/*.entry"))
    # ... and nowhere in the output folder but the full pack and items/part-b/.
    files = [p for p in out.rglob("*") if p.is_file()]
    hidden = [p for p in files if any(part.startswith(".") for part in p.relative_to(out).parts)]
    assert [p.name for p in hidden] == [".make-report-manifest.json"]
    public = [p for p in files if p.name != "full-pack.pdf" and "part-b" not in p.relative_to(out).parts]
    assert len(public) == len(files) - 3  # full pack, Part B PDF and DOCX
    for path in public:
        assert SECRET not in texts(path, scratch), path


def test_cache_dir_option_and_a_cache_inside_the_output_folder_refused(tmp_path):
    path = meeting(tmp_path)
    out = tmp_path / "out"
    code, _, err = run_cli("pack", str(path), "-o", str(out), "--cache-dir", str(out / "cache"))
    assert code == 2 and "inside the output folder" in err and "Traceback" not in err
    assert not out.exists()
    code, _, err = run_cli("pack", str(path), "-o", str(out), "--cache-dir", str(tmp_path / "mine"))
    assert code == 0, err
    assert len(list((tmp_path / "mine").glob("*/*.entry"))) >= 3
    from cabinet_reports.pack.cache import default_cache_dir

    assert not default_cache_dir().exists()
    code, _, err = run_cli("pack", str(path), "-o", str(tmp_path / "again"), "--no-cache")
    assert code == 0, err
    assert not default_cache_dir().exists()


def test_an_earlier_versions_cache_in_the_output_folder_is_removed(tmp_path):
    """OUTDIR/.cache as an earlier version left it goes; a .cache holding anything else stays."""
    import shutil

    from cabinet_reports.pack import build_pack

    path = meeting(tmp_path)
    old = tmp_path / "old-style"
    build_pack(path, tmp_path / "elsewhere", jobs=1, cache=old)
    for name, extra in (("out", None), ("kept", "notes.txt")):
        out = tmp_path / name
        out.mkdir()
        shutil.copytree(old, out / ".cache")
        if extra:
            (out / ".cache" / extra).write_text("a clerk's own file", encoding="utf-8")
        build_pack(path, out, jobs=1)
    assert not (tmp_path / "out" / ".cache").exists()
    assert (tmp_path / "kept" / ".cache" / "notes.txt").is_file()


def test_prune_drops_least_recently_used_entries_beyond_the_cap_never_this_builds(tmp_path):
    from cabinet_reports.pack.cache import DEFAULT_MAX_BYTES, Cache

    assert DEFAULT_MAX_BYTES == 2 * 1024 ** 3  # the README's figure
    folder = tmp_path / "cache"
    earlier = Cache(folder)
    keys = [f"{n:064x}" for n in range(6)]
    for n, key in enumerate(keys):
        earlier.put(key, bytes([n]) * 1000)
        entry = earlier._path(key)
        os.utime(entry, (time.time() - 1000 + n, time.time() - 1000 + n))  # keys[0] least recently used
    size = earlier._path(keys[0]).stat().st_size
    build = Cache(folder, max_bytes=3 * size)
    assert build.get(keys[1]) is not None  # used by this build: kept, and now the most recent
    build.put(f"{9:064x}", bytes(1000))
    (folder / "00" / f".{keys[0]}.entry.abc.tmp").write_bytes(b"half")  # a build killed while writing ...
    os.utime(folder / "00" / f".{keys[0]}.entry.abc.tmp", (time.time() - 7200,) * 2)  # ... long ago
    build.prune()
    left = sorted(p.name for p in folder.glob("*/*"))
    # Oldest first: keys 0, 2, 3 and 4 go; key 5 and this build's two entries fill the cap.
    assert left == sorted([f"{keys[1]}.entry", f"{9:064x}.entry", f"{keys[5]}.entry"])
    assert Cache(folder).get(keys[5]) == bytes([5]) * 1000


@pytest.mark.parametrize("mode", ["entry inside a folder that is not ours", "symlink"])
def test_a_legacy_looking_folder_that_is_not_wholly_ours_is_left_alone(tmp_path, mode):
    from cabinet_reports.pack.cache import remove_legacy_cache

    cache = tmp_path / ".cache"
    if mode == "symlink":
        (tmp_path / "target").mkdir()
        cache.symlink_to(tmp_path / "target")
    else:
        (cache / "ab" / "deeper").mkdir(parents=True)
        (cache / "ab" / "deeper" / ("a" * 64 + ".entry")).write_bytes(b"x")
    assert remove_legacy_cache(tmp_path) is False
    assert cache.exists()


def test_an_existing_cache_folder_readable_by_others_is_made_owner_only(tmp_path):
    path = meeting(tmp_path)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)  # as a folder made by hand, or by an earlier version, would be
    code, _, err = run_cli("pack", str(path), "-o", str(tmp_path / "out"), "--cache-dir", str(shared), "--quiet")
    assert code == 0, err
    assert stat.S_IMODE(shared.stat().st_mode) == 0o700
    assert list(shared.glob("*/*.entry"))


def test_a_cache_inside_the_output_folder_by_another_name_is_refused(tmp_path):
    path = meeting(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "alias").symlink_to(out, target_is_directory=True)  # one folder, two names
    code, _, err = run_cli("pack", str(path), "-o", str(out), "--cache-dir", str(tmp_path / "alias" / "c"))
    assert code == 2 and "inside the output folder" in err and "Traceback" not in err, err
    assert list(out.iterdir()) == []


def test_no_home_folder_is_a_plain_error_naming_the_options(tmp_path, monkeypatch):
    from cabinet_reports.errors import InputError
    from cabinet_reports.pack.cache import default_cache_dir

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    with pytest.raises(InputError) as caught:
        default_cache_dir()
    assert "--cache-dir" in str(caught.value) and "--no-cache" in str(caught.value)


def test_a_numbered_part_is_not_reused_from_a_meeting_on_another_day(tmp_path, monkeypatch):
    """The page numbers' fonts carry the meeting's day: the same part numbered alike for a
    meeting on another day is not the same bytes, so the cache must not hand it over."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    # A report for neither meeting (a warning each time), so that its render is the same bytes
    # for both: only the day of the page numbers differs.
    (tmp_path / "roads.yaml").write_text((REPORT % ("Roads report", "public", "Roads.")).replace(
        "2026-01-14", "2026-03-04"), encoding="utf-8")
    for name, day in (("a.yaml", "2026-01-14"), ("b.yaml", "2026-01-21")):
        (tmp_path / name).write_text(HEAD.replace("2026-01-14", day) + "  - report: roads.yaml\n", encoding="utf-8")
    cache = str(tmp_path / "cache")
    for name, out, extra in (("a.yaml", "a", ["--cache-dir", cache]), ("b.yaml", "b", ["--cache-dir", cache]),
                             ("b.yaml", "b-fresh", ["--no-cache"])):
        code, _, err = run_cli("pack", str(tmp_path / name), "-o", str(tmp_path / out), "--quiet", *extra)
        assert code == 0, err
    for output in ("public-pack.pdf", "items/01-roads-report.pdf"):
        assert (tmp_path / "b" / output).read_bytes() == (tmp_path / "b-fresh" / output).read_bytes(), output


def test_a_rebuild_numbers_only_the_reports_that_changed_and_still_finds_their_errors(tmp_path, monkeypatch):
    """Loading a meeting numbers every report to find its errors before anything renders; a report
    file an earlier build numbered without a problem (same bytes, place, theme, library) is only
    loaded. A changed report is numbered again, and its error reported as before."""
    import cabinet_reports.pack.load as load

    numbered: list[str] = []
    real_build = load.build

    def counting_build(report, theme):
        numbered.append(report.title)
        return real_build(report, theme)

    monkeypatch.setattr(load, "build", counting_build)
    path = meeting(tmp_path)
    cache = tmp_path / "cache"
    assert run_cli("pack", str(path), "-o", str(tmp_path / "out"), "--cache-dir", str(cache), "-q")[0] == 0
    assert sorted(numbered) == ["Depot disposal", "Roads report"]
    numbered.clear()
    roads = tmp_path / "roads.yaml"
    roads.write_text(REPORT % ("Roads report", "public", "'Roads: see [[nowhere]].'"), encoding="utf-8")
    for _ in range(2):  # a report that failed is not remembered: the same bytes fail again
        code, _, err = run_cli("pack", str(path), "-o", str(tmp_path / "out"), "--cache-dir", str(cache), "-q")
        assert code == 2 and "unknown label 'nowhere'" in err and "roads.yaml" in err
        assert numbered == ["Roads report"]  # the depot report unchanged: loaded, not numbered
        numbered.clear()
    roads.write_text(REPORT % ("Roads report", "public", "Roads resurfaced."), encoding="utf-8")
    assert run_cli("pack", str(path), "-o", str(tmp_path / "out"), "--cache-dir", str(cache), "-q")[0] == 0
    assert numbered == ["Roads report"]
    assert "resurfaced" in pdftotext(tmp_path / "out" / "public-pack.pdf")
    numbered.clear()
    assert run_cli("pack", str(path), "-o", str(tmp_path / "again"), "--no-cache", "-q")[0] == 0
    assert sorted(numbered) == ["Depot disposal", "Roads report"]  # without a cache: every report
    numbered.clear()
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in ("meeting.yaml", "roads.yaml", "depot.yaml"):
        (moved / name).write_bytes((tmp_path / name).read_bytes())
    assert run_cli("pack", str(moved / "meeting.yaml"), "-o", str(tmp_path / "out3"), "--cache-dir", str(cache),
                   "-q")[0] == 0
    assert sorted(numbered) == ["Depot disposal", "Roads report"]  # the same bytes elsewhere: numbered
