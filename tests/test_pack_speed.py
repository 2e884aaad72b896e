"""The pack's speed features (issue 10), checked for what they must not change: one layout per
report with page numbers drawn as artifacts, the cache, any executor, and batch builds.

Timing belongs in benchmarks/pack_benchmark.py; these tests check bytes, looks and behaviour.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from concurrent.futures import Executor, Future
from pathlib import Path

import pikepdf
import pytest

from pack_inputs import HEAD, REPORT, run_cli
from readers import pdftotext, require

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "dudley-2005-cabinet" / "meeting.yaml"
REPORT_FILE = EXAMPLE.parent / "capital-programme.yaml"



def outputs(folder: Path) -> dict[str, bytes]:
    """Every published file of a pack folder (the cache and the manifest are not outputs)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)}


class Recorder:
    def start(self, total: int) -> None:
        self.total, self.steps = total, []

    def advance(self, description: str) -> None:
        self.steps.append(description)


def small_meeting(folder: Path, reports: dict[str, str], part_b: str | None = None) -> Path:
    items = "  - title: Apologies\n"
    for name, text in reports.items():
        exempt = "{status: exempt, paragraphs: [3]}" if name == part_b else "public"
        (folder / f"{name}.yaml").write_text(REPORT % (f"Report {name}", exempt, text), encoding="utf-8")
        if name != part_b:
            items += f"  - report: {name}.yaml\n"
    if part_b:
        items += f"  - report: {part_b}.yaml\n    public_title: A property matter\n"
    path = folder / "meeting.yaml"
    path.write_text(HEAD + items, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- one layout, numbers drawn
@pytest.fixture(scope="module")
def example_pack(example_pack_uncached) -> Path:
    """The example pack built with one job and no cache (conftest.py): the reference bytes."""
    return example_pack_uncached


def test_each_report_is_laid_out_once(tmp_path, monkeypatch):
    from cabinet_reports.pack import build_pack
    from cabinet_reports.renderers import pdf

    layouts = []
    real = pdf.layout
    monkeypatch.setattr(pdf, "layout", lambda doc, *a, **k: layouts.append(doc.title) or real(doc, *a, **k))
    meeting = small_meeting(tmp_path, {"a": "Roads.", "b": "Parks.", "c": "Land."}, part_b="c")
    build_pack(meeting, tmp_path / "out", jobs=1, cache=False)
    assert sorted(layouts) == ["Report a", "Report b", "Report c"]


def _images(pdf: Path, first: int, last: int, folder: Path, stem: str) -> list[bytes]:
    subprocess.run([require("pdftoppm"), "-r", "72", "-gray", "-f", str(first), "-l", str(last), str(pdf),
                    str(folder / stem)], check=True)
    return [p.read_bytes() for p in sorted(folder.glob(f"{stem}-*.pgm"))]


def test_drawn_page_numbers_look_exactly_like_the_themes_footer(example_pack, tmp_path):
    """The pack's pages of a report are pixel for pixel the report rendered with its own footer
    printing the pack numbers (how packs were made before: a second layout per report)."""
    from cabinet_reports.api import build, load_report, render_options
    from cabinet_reports.pack.load import for_agenda_item, stamp_document
    from cabinet_reports.renderers import get_renderer
    from cabinet_reports.theme import Theme

    # As the pack prints item 5: its number filled in and "Agenda Item 5" on its first page.
    report = for_agenda_item(load_report(ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"),
                             {"number": 5, "body": "Cabinet", "date": "2005-03-16", "stamp": "Agenda Item 5"})
    doc = stamp_document(build(report, Theme()), "Agenda Item 5")
    before = tmp_path / "before.pdf"
    before.write_bytes(get_renderer("pdf")(doc, Theme(), render_options(report, page_offset=4, total_pages=14)))
    # pages 5 to 11 of 14
    old = _images(before, 1, 7, tmp_path, "old")
    new = _images(example_pack / "public-pack.pdf", 5, 11, tmp_path, "new")
    assert len(old) == len(new) == 7
    assert old == new
    assert [re.findall(r"Page \d+ of \d+", pdftotext(example_pack / "public-pack.pdf", page=p)) for p in (5, 11)] == [
        ["Page 5 of 14"], ["Page 11 of 14"]]


@pytest.mark.parametrize("name", ["public-pack.pdf", "full-pack.pdf", "agenda.pdf",
                                  "items/05-partnership-strategy.pdf"])
def test_page_numbers_are_pagination_artifacts_and_the_only_footer(example_pack, name):
    with pikepdf.open(example_pack / name) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            streams = page.obj.Contents
            streams = list(streams) if isinstance(streams, pikepdf.Array) else [streams]
            last = streams[-1].read_bytes()
            assert b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC" in last, (name, number)
            drawn = re.search(rb"Pagination /Subtype /Footer>> BDC\n.*?/(CRPage\w+) Do\n.*?EMC\n$", last, re.S)
            form = page.obj.Resources.XObject["/" + drawn.group(1).decode()]
            assert b"TJ" in form.read_bytes() or b"Tj" in form.read_bytes()
            # The page's own content draws text, but not a second footer: one "Page N of M" a page.
            text = pdftotext(example_pack / name, page=number)
            assert len(re.findall(r"Page \d+ of \d+", text)) == 1, (name, number, text)


# --------------------------------------------------------------------------- the cache
def test_outputs_are_the_same_bytes_with_and_without_the_cache(example_pack, tmp_path):
    from cabinet_reports.pack import build_pack

    cached = tmp_path / "cached"
    cold = build_pack(EXAMPLE, cached, jobs=1)
    first = outputs(cached)
    progress = Recorder()
    warm = build_pack(EXAMPLE, cached, jobs=1, progress=progress)
    assert outputs(cached) == first == outputs(example_pack)
    assert progress.steps == ["reusing the pack", "writing"]  # nothing rendered, nothing assembled
    assert (cold.public_pages, cold.full_pages) == (warm.public_pages, warm.full_pages) == (14, 16)
    manifest = json.loads((cached / ".make-report-manifest.json").read_text())
    assert not any(n.startswith(".cache") for n in manifest["files"])


def test_a_changed_report_alone_is_rendered_again(tmp_path):
    from cabinet_reports.pack import build_pack

    meeting = small_meeting(tmp_path, {"a": "Roads.", "b": "Parks.", "c": "Land."}, part_b="c")
    out = tmp_path / "out"
    build_pack(meeting, out, jobs=1)
    (tmp_path / "b.yaml").write_text(REPORT % ("Report b", "public", "Parks and open spaces."), encoding="utf-8")
    progress = Recorder()
    build_pack(meeting, out, jobs=1, progress=progress)
    assert sorted(s for s in progress.steps if s.startswith(("rendering", "reusing"))) == [
        "rendering b.yaml", "reusing a.yaml", "reusing c.yaml"]
    fresh = tmp_path / "fresh"
    build_pack(meeting, fresh, jobs=1, cache=False)
    assert outputs(out) == outputs(fresh)
    assert not (fresh / ".cache").exists()


def test_a_classification_change_is_never_answered_from_the_cache(tmp_path):
    """The same report bytes rendered public and as a Part B item are two entries."""
    from cabinet_reports.pack import build_pack

    meeting = small_meeting(tmp_path, {"a": "Roads."})
    out = tmp_path / "out"
    build_pack(meeting, out, jobs=1)
    meeting.write_text(HEAD + "  - title: Apologies\n  - report: a.yaml\n    exempt: 3\n"
                              "    public_title: A roads matter\n", encoding="utf-8")
    progress = Recorder()
    build_pack(meeting, out, jobs=1, progress=progress)
    assert "rendering a.yaml" in progress.steps
    assert "NOT FOR PUBLICATION" in pdftotext(out / "full-pack.pdf")
    assert "Roads." not in pdftotext(out / "public-pack.pdf")


def test_a_damaged_cache_entry_is_rebuilt_not_trusted(tmp_path, monkeypatch):
    from cabinet_reports.pack import build_pack, furniture

    meeting = small_meeting(tmp_path, {"a": "Roads.", "b": "Parks."})
    out = tmp_path / "out"
    # Footer boxes are remembered in this process too: each build starts as a new process
    # would, so that both put and read their cache entries whatever other tests ran before.
    monkeypatch.setattr(furniture, "_FOOTER_BOXES", {})
    build_pack(meeting, out, jobs=1)
    good = outputs(out)
    from cabinet_reports.pack.cache import Cache, default_cache_dir

    entries = sorted(default_cache_dir().glob("*/*.entry"))
    assert len(entries) >= 3  # two reports, the pack, and the agenda and page-number layouts
    for n, entry in enumerate(entries):
        raw = bytearray(entry.read_bytes())
        if n % 2:
            raw[-min(100, len(raw))] ^= 0xFF  # a flipped byte in the content (the header, for an empty entry)
        else:
            del raw[len(raw) // 2:]  # a truncated write
        entry.write_bytes(bytes(raw))
    progress = Recorder()
    monkeypatch.setattr(furniture, "_FOOTER_BOXES", {})
    build_pack(meeting, out, jobs=1, progress=progress)
    assert "rendering a.yaml" in progress.steps and "rendering b.yaml" in progress.steps
    assert outputs(out) == good
    cache = Cache(default_cache_dir())
    assert all(cache.get(e.stem) is not None for e in sorted(default_cache_dir().glob("*/*.entry")))


def test_cache_entries_are_whole_while_another_process_rewrites_them(tmp_path):
    """Concurrent builds share entries through temp files and renames: a reader sees a whole entry."""
    import sys
    import textwrap

    from cabinet_reports.pack.cache import Cache

    writer = textwrap.dedent("""
        import sys
        from cabinet_reports.pack.cache import Cache
        cache = Cache(sys.argv[1])
        for n in range(100):
            cache.put("ab" + "0" * 62, bytes([n % 256]) * (50_000 + n))
    """)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    child = subprocess.Popen([sys.executable, "-c", writer, str(tmp_path)], env=env)
    cache, seen = Cache(tmp_path), 0
    while child.poll() is None:
        payload = cache.get("ab" + "0" * 62)
        if payload is not None:
            seen += 1
            assert payload == bytes([payload[0]]) * len(payload)
    assert child.returncode == 0 and seen > 0
    assert cache.get("ab" + "0" * 62) == bytes([99]) * 50_099
    assert not [p for p in tmp_path.rglob("*.tmp")]


# --------------------------------------------------------------------------- executors and batches
class RecordingExecutor(Executor):
    """Runs each job at once and keeps what it was given and what it returned."""

    def __init__(self):
        self.calls = []

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        result = fn(*args, **kwargs)
        self.calls.append((fn.__name__, args, result))
        future.set_result(result)
        return future


def test_every_report_pdf_and_docx_is_rendered_on_the_executor(example_pack, tmp_path):
    from cabinet_reports.pack import build_pack

    executor = RecordingExecutor()
    build_pack(EXAMPLE, tmp_path / "out", executor=executor, cache=False)
    assert sorted(Path(args[0].path).name for _, args, _ in executor.calls) == [
        "capital-programme.yaml", "depot-disposal.yaml", "report.yaml"]
    docx = {result.docx for _, _, result in executor.calls}
    written = {p.read_bytes() for p in (tmp_path / "out" / "items").rglob("*.docx")}
    assert written == docx
    assert outputs(tmp_path / "out") == outputs(example_pack)


def test_a_dask_cluster_renders_the_same_pack(example_pack, tmp_path):
    import distributed

    from cabinet_reports.pack import build_pack

    # Its HTTP server on any free port: with None it took 8787, and a cluster another test run
    # had started on the machine made this one fail to start.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        build_pack(EXAMPLE, tmp_path / "out", executor=client.get_executor(), cache=False)
    assert outputs(tmp_path / "out") == outputs(example_pack)


def test_batch_builds_each_meeting_in_its_folder_sharing_renders(tmp_path):
    (tmp_path / "cabinet").mkdir()
    (tmp_path / "scrutiny").mkdir()
    small_meeting(tmp_path / "cabinet", {"a": "Roads.", "b": "Parks."})
    shared = tmp_path / "cabinet" / "a.yaml"
    (tmp_path / "scrutiny" / "meeting.yaml").write_text(
        HEAD + f"  - title: Apologies\n  - report: {shared}\n  - title: Work programme\n", encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, err = run_cli("pack", str(tmp_path / "cabinet" / "meeting.yaml"),
                                str(tmp_path / "scrutiny" / "meeting.yaml"), "-o", str(out))
    assert code == 0, err
    assert (out / "cabinet" / "public-pack.pdf").is_file() and (out / "scrutiny" / "public-pack.pdf").is_file()
    assert "Roads." in pdftotext(out / "scrutiny" / "public-pack.pdf")
    assert sorted(p.name for p in out.iterdir()) == ["cabinet", "scrutiny"]
    assert f"{tmp_path / 'cabinet' / 'meeting.yaml'}:" in stdout.splitlines()
    # a.yaml is item 2 of both agendas (the same render, "Agenda Item 2") and rendered once.
    from cabinet_reports.pack import build_packs

    progress = Recorder()
    build_packs([tmp_path / "cabinet" / "meeting.yaml", tmp_path / "scrutiny" / "meeting.yaml"], tmp_path / "api",
                progress=progress, jobs=1, cache=tmp_path / "api-cache")  # not the CLI build's cache
    assert sorted(s for s in progress.steps if s.startswith("rendering")) == ["rendering a.yaml", "rendering b.yaml"]
    assert len(progress.steps) == progress.total
    assert outputs(tmp_path / "api") == outputs(out)


def test_batch_refuses_two_meetings_that_would_share_a_folder(tmp_path):
    for name in ("x", "y"):
        (tmp_path / name / "cabinet").mkdir(parents=True)
        (tmp_path / name / "cabinet" / "meeting.yaml").write_text(HEAD + "  - title: Apologies\n",
                                                                  encoding="utf-8")
    code, _, err = run_cli("pack", str(tmp_path / "x" / "cabinet" / "meeting.yaml"),
                           str(tmp_path / "y" / "cabinet" / "meeting.yaml"), "-o", str(tmp_path / "out"))
    assert code == 2 and "several meetings would be written to cabinet" in err
    assert not (tmp_path / "out").exists()


def test_a_rebuild_draws_page_numbers_only_on_the_changed_report(tmp_path, monkeypatch):
    """No page count moved: every other part's numbered copy comes from the cache, the same bytes."""
    from cabinet_reports.pack import build_pack, furniture

    meeting = small_meeting(tmp_path, {"a": "Roads.", "b": "Parks.", "c": "Land."}, part_b="c")
    out = tmp_path / "out"
    build_pack(meeting, out, jobs=1)
    (tmp_path / "b.yaml").write_text(REPORT % ("Report b", "public", "Parks and gardens."), encoding="utf-8")
    drawn = []
    real = furniture._Strip.draw
    monkeypatch.setattr(furniture._Strip, "draw", lambda self, pdf, page, index, fonts:
                        drawn.append(index) or real(self, pdf, page, index, fonts))
    build_pack(meeting, out, jobs=1)
    pages = len(pikepdf.open(out / "items" / "03-report-b.pdf").pages)
    assert len(drawn) == 2 * pages  # its pages in the public pack and in the full pack
    monkeypatch.undo()
    fresh = tmp_path / "fresh"
    build_pack(meeting, fresh, jobs=1, cache=False)
    assert outputs(out) == outputs(fresh)


def test_a_failed_build_cancels_the_renders_it_queued_on_a_callers_executor(monkeypatch):
    """An error while the renders run (here: in the work done meanwhile) leaves nothing queued
    on the caller's executor: build_pack has returned, so nobody wants those renders."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from cabinet_reports.pack import items

    ran, gate = [], threading.Event()

    def slow(job):
        gate.wait(5)
        ran.append(job)
        time.sleep(0.05)

    def fail():
        raise RuntimeError("meanwhile failed")

    monkeypatch.setattr(items, "render_report_job", slow)
    jobs = {str(n): n for n in range(6)}
    with ThreadPoolExecutor(max_workers=1) as pool:
        with pytest.raises(RuntimeError, match="meanwhile failed"):
            items.render_reports(jobs, None, pool, None, items._NoProgress(), meanwhile=fail)
        gate.set()
    assert len(ran) == 1  # the one already running finishes; the five queued never start


@pytest.mark.parametrize("part_b", ["d", None], ids=["part-b", "all-public"])
def test_a_pack_of_several_reports_renders_numbers_and_merges_on_its_own_warm_pool(tmp_path, monkeypatch, part_b):
    """With enough report items and no --jobs, a pool starts before the reports load (its first
    worker imports WeasyPrint meanwhile), renders them, and numbers and merges the public and
    the full pack on two workers at once (the full one planned there too) while this process
    makes the agendas: the same bytes as a build in this process (which numbers an all-public
    meeting's pages once for both)."""
    from cabinet_reports import pool
    from cabinet_reports.pack import build_pack, items

    meeting = small_meeting(tmp_path, {n: f"Text of report {n}." for n in "abcd"}, part_b=part_b)
    submitted: list[str] = []
    opened = []  # who opened the gate of the later workers' warm-ups, after how many tasks
    rest = items.WarmPool.warm_rest

    def recorded_rest(self):
        opened.append(("use" if self.used else "loaded", len(submitted)))
        rest(self)

    _spy_on_warm_pools(monkeypatch, submitted)
    monkeypatch.setattr(items.WarmPool, "warm_rest", recorded_rest)
    monkeypatch.setattr(pool, "_usable_cpus", lambda: 2)
    build_pack(meeting, tmp_path / "pooled", cache=False)
    assert opened[0] == ("loaded", 0)  # the build opened it once the reports were loaded, before any render
    # The full pack of a meeting with Part B is planned on its worker too (its own agenda).
    lanes = ["number_and_merge", "plan_number_and_merge"] if part_b else ["number_and_merge"] * 2
    assert sorted(submitted) == lanes + ["render_report_job"] * 4
    monkeypatch.undo()
    build_pack(meeting, tmp_path / "here", jobs=1, cache=False)
    assert outputs(tmp_path / "pooled") == outputs(tmp_path / "here")


def test_a_rebuild_with_fewer_renders_than_workers_makes_their_docx_here_while_a_worker_lays_them_out(
        tmp_path, monkeypatch):
    """One changed report, two warm workers: a worker lays it out and writes its PDF, and the
    build's own process, which would only wait, makes its DOCX and web draft meanwhile. The
    outputs, and the render cached from those two halves, are the same bytes as a build in
    this process (a later rebuild reuses that render: its DOCX and its web page too)."""
    import os

    from cabinet_reports import pool
    from cabinet_reports.pack import build_pack, items

    meeting = small_meeting(tmp_path, {n: f"Text of report {n}." for n in "abcd"}, part_b="d")
    cache = tmp_path / "cache"
    monkeypatch.setattr(pool, "_usable_cpus", lambda: 2)
    build_pack(meeting, tmp_path / "out", cache=cache)  # four renders: whole jobs on the workers

    submitted: list[str] = []
    here: list[tuple[str, int]] = []
    _spy_on_warm_pools(monkeypatch, submitted)
    rest = items.render_report_rest

    def recorded_rest(job):
        here.append((Path(job.path).name, os.getpid()))
        return rest(job)

    monkeypatch.setattr(items, "render_report_rest", recorded_rest)

    def change(name):
        report = tmp_path / f"{name}.yaml"
        report.write_text(report.read_text(encoding="utf-8").replace(f"Text of report {name}.",
                                                                     f"Text of report {name}, changed."),
                          encoding="utf-8")

    change("a")
    build_pack(meeting, tmp_path / "out", cache=cache)
    assert [name for name in submitted if name.startswith("render")] == ["render_report_pdf"]
    assert here == [("a.yaml", os.getpid())]
    change("b")  # a's render now comes from the cache: its halves were stored as one
    build_pack(meeting, tmp_path / "out", cache=cache)
    assert here[1:] == [("b.yaml", os.getpid())]
    change("d")  # the Part B item: no web page, and its halves must still be one render
    build_pack(meeting, tmp_path / "out", cache=cache)
    assert here[2:] == [("d.yaml", os.getpid())]
    monkeypatch.undo()
    build_pack(meeting, tmp_path / "fresh", jobs=1, cache=False)
    assert outputs(tmp_path / "out") == outputs(tmp_path / "fresh")


def test_a_report_saved_again_while_its_pack_is_built_is_refused_not_rendered(tmp_path):
    """A render checks that the report's text is the one the build loaded (ReportJob.digest):
    otherwise its cache key and checks, and the DOCX the build's own process makes from the
    same file, would be of another version than its PDF."""
    from cabinet_reports.errors import InputError
    from cabinet_reports.loader import load_file
    from cabinet_reports.pack.items import ReportJob, render_report_pdf, render_report_rest

    meeting = small_meeting(tmp_path, {"a": "Text of report a."})
    report = meeting.parent / "a.yaml"
    loaded = load_file(report)[1].digest
    job = ReportJob(str(report), {"status": "public"}, None, "0", digest=loaded)
    assert render_report_rest(job)[0][:2] == b"PK"
    report.write_text(report.read_text(encoding="utf-8").replace("Text of report a.", "Saved again."),
                      encoding="utf-8")
    for render in (render_report_pdf, render_report_rest):
        with pytest.raises(InputError, match="changed while the pack was being built") as raised:
            render(job)
        assert raised.value.problems[0].file == str(report)


class _Spy(Executor):
    """A warm pool's executor that records the name of every function given to it."""

    def __init__(self, pool, submitted: list[str]):
        self.pool, self.submitted = pool, submitted

    def submit(self, fn, /, *args, **kwargs):
        self.submitted.append(fn.__name__)
        return self.pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait=True, *, cancel_futures=False):
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def _spy_on_warm_pools(monkeypatch, submitted: list[str]) -> None:
    """Make every WarmPool the build starts record what it is given in ``submitted``."""
    from cabinet_reports.pack import items

    start = items.WarmPool.start.__func__

    def spied(cls, *args):
        warm = start(cls, *args)
        assert warm is not None, "four report items and two CPUs: a warm pool"
        return dataclasses.replace(warm, pool=_Spy(warm.pool, submitted))

    monkeypatch.setattr(items.WarmPool, "start", classmethod(spied))


EARLY = """
import sys
from cabinet_reports import cli, pool
pool._usable_cpus = lambda: 2
start = pool.WarmPool.start.__func__
def spied(cls, *args):
    warm = start(cls, *args)
    print("pool started", warm is not None, "pack imported", "cabinet_reports.pack" in sys.modules,
          "models imported", "cabinet_reports.models" in sys.modules)
    return warm
pool.WarmPool.start = classmethod(spied)
sys.exit(cli.main(sys.argv[1:]))
"""


def test_make_report_pack_starts_its_pool_before_it_imports_the_pack(tmp_path):
    """The command line starts the warm pool first thing (its first worker imports WeasyPrint
    and lays out a first page while this process imports the models and the pack's stages,
    0.7 s); the build takes it over, and the outputs are those of a build in one process."""
    meeting = small_meeting(tmp_path, {n: f"Text of report {n}." for n in "abcd"}, part_b="d")
    env = {**__import__("os").environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", EARLY, "pack", str(meeting), "-o", str(tmp_path / "early"),
                           "--no-cache", "-q"], capture_output=True, text=True, env=env)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.split("\n")[0] == "pool started True pack imported False models imported False"
    assert done.stdout.count("pool started") == 1  # the build used it, and started no other
    from cabinet_reports.pack import build_pack

    build_pack(meeting, tmp_path / "here", jobs=1, cache=False)
    assert outputs(tmp_path / "early") == outputs(tmp_path / "here")


def test_no_warm_pool_for_a_few_reports_one_job_or_a_callers_executor():
    from cabinet_reports.pack.items import WarmPool

    assert WarmPool.start(None, None, 3) is None  # loads too fast for an import to hide behind
    assert WarmPool.start(None, 1, 40) is None  # --jobs 1: this process renders
    assert WarmPool.start(RecordingExecutor(), None, 40) is None  # the caller's executor renders


def test_a_rebuild_on_the_pool_lays_nothing_out_in_the_builds_own_process(tmp_path):
    """Changed reports render on the warm pool's workers (four of them: enough to wait for its
    worker; a 40-report meeting loads for longer than the worker imports, so one changed report
    goes there too); the footer boxes, the Part B notice, the agenda and the number strips come
    from the cache: the build's own process never imports WeasyPrint (0.6 s or more on the
    rebuild's critical path)."""
    meeting = small_meeting(tmp_path, {n: f"Text of report {n}." for n in "abcd"}, part_b="d")
    script = ("import sys\nfrom cabinet_reports import pool\nfrom cabinet_reports.pack import build_pack\n"
              "pool._usable_cpus = lambda: 2\n"
              f"build_pack({str(meeting)!r}, {str(tmp_path / 'out')!r}, cache={str(tmp_path / 'cache')!r})\n"
              "print('weasyprint' in sys.modules)\n")
    env = {**__import__("os").environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert first.stdout.split() == ["True"]  # the first build lays out the agenda, notices and strips
    for name in "abcd":
        report = tmp_path / f"{name}.yaml"
        report.write_text(report.read_text(encoding="utf-8").replace(f"Text of report {name}.",
                                                                     f"Text of report {name}, changed."), encoding="utf-8")
    again = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert again.stdout.split() == ["False"], again.stderr
    # One changed report: its DOCX and web draft are made in the build's own process, which
    # still never imports WeasyPrint.
    report = tmp_path / "a.yaml"
    report.write_text(report.read_text(encoding="utf-8").replace("changed.", "changed again."), encoding="utf-8")
    once = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert once.stdout.split() == ["False"], once.stderr
    fresh = tmp_path / "fresh"
    from cabinet_reports.pack import build_pack

    build_pack(meeting, fresh, jobs=1, cache=False)
    assert outputs(tmp_path / "out") == outputs(fresh)


def test_a_pool_worker_collects_garbage_less_often_and_never_walks_what_it_imported():
    """A pool worker raises the young-generation threshold (0.08 s of collections in a 1.4 s
    render at Python's default 700, 0.02-0.03 s at 20,000) and, once warmed up, freezes what it
    imported (gc.freeze), as the PDF worker does. It also parses the theme's stylesheet once
    for all its reports (renderers/pdf_worker.kept_stylesheets), and still writes the bytes a
    render in this process writes."""
    script = ("import gc, os, sys\nfrom cabinet_reports import pool\n"
              "pool._die_with_parent(os.getppid())\n"
              "assert gc.get_threshold()[0] == pool.GC_YOUNG, gc.get_threshold()\n"
              "assert gc.get_freeze_count() == 0\n"
              "pool.warm_up(None)\n"
              "print(gc.get_freeze_count() > 50_000)\n"  # the imports, the theme: about 95,000 objects
              "import weasyprint.css\nfrom cabinet_reports.pack.items import ReportJob, render_report_pdf\n"
              "kept = weasyprint.css.CSS\n"
              f"job = ReportJob({str(REPORT_FILE)!r}, {{'status': 'public'}}, None, '0')\n"
              "first = render_report_pdf(job)\n"
              "import weasyprint\nparsed, parse = [], weasyprint.preprocess_stylesheet\n"  # what CSS() parses with
              "weasyprint.preprocess_stylesheet = lambda *args, **kwargs: (parsed.append(1), parse(*args, **kwargs))[1]\n"
              "assert render_report_pdf(job) == first\n"
              "print(getattr(kept, 'kept_stylesheets', False), parsed == [])\n"
              "sys.stdout.flush()\nsys.stdout.buffer.write(first[0])\n")
    env = {**__import__("os").environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env, check=True)
    lines, pdf = done.stdout.split(b"\n", 2)[:2], done.stdout.split(b"\n", 2)[2]
    assert [line.decode() for line in lines] == ["True", "True True"], done.stderr.decode()
    from cabinet_reports.pack.items import ReportJob, render_report_pdf

    assert pdf == render_report_pdf(ReportJob(str(REPORT_FILE), {"status": "public"}, None, "0"))[0]


def test_later_workers_warm_up_once_the_first_is_ready_or_the_reports_are_loaded(monkeypatch):
    """Warming both workers at once put three busy processes on two CPUs while the build loaded
    its reports: the first worker, which a rebuild's one changed report waits for, was ready
    about 0.5 s later. A gated warm-up waits for the pool's gate; the first worker's warm-up
    opens it when done (even when it fails), and so do warm_rest and use."""
    import threading

    from cabinet_reports import pool

    ran = []
    monkeypatch.setattr(pool, "_warm_up", lambda theme_dir, docx: ran.append((theme_dir, docx)))
    monkeypatch.setattr(pool, "_GATE", threading.Semaphore(0))
    later = threading.Thread(target=pool.warm_up, args=("later", True), daemon=True)
    later.start()
    try:
        later.join(0.3)
        assert later.is_alive() and ran == []  # held at the gate
    finally:
        pool.warm_up("first")
    later.join(10)
    # The first leaves python-docx out (the DOCX of a one-change rebuild is made in the build's
    # own process); the later ones, off that rebuild's path, import it.
    assert not later.is_alive() and ran == [("first", False), ("later", True)]
    assert pool._GATE.acquire(blocking=False)  # left open for a third worker

    def fails(theme_dir, docx):
        raise RuntimeError("a theme that does not load")

    monkeypatch.setattr(pool, "_GATE", threading.Semaphore(0))
    monkeypatch.setattr(pool, "_warm_up", fails)
    with pytest.raises(RuntimeError):
        pool.warm_up(None)
    assert pool._GATE.acquire(blocking=False)  # the others are not held for GATE_WAIT

    gate = threading.Semaphore(0)
    warm = pool.WarmPool(RecordingExecutor(), [], gate=gate)
    warm.warm_rest()
    assert gate.acquire(blocking=False)
    warm.use()  # given work: no worker is left waiting at the gate
    assert gate.acquire(blocking=False)


def test_the_first_workers_warm_up_opens_the_gate_in_a_real_pool(monkeypatch):
    """A real two-worker WarmPool: nothing but the first worker's warm-up opens the gate (the
    build never calls warm_rest here), and both warm-ups finish, in two processes."""
    from cabinet_reports import pool

    monkeypatch.setattr(pool, "_usable_cpus", lambda: 2)
    warm = pool.WarmPool.start(None, 2, 40)
    assert warm is not None and len(warm.ready) == 2
    try:
        assert warm.ready[0].result(timeout=120) is None
        assert warm.gate.acquire(timeout=10)  # opened by that worker, not by this process
        warm.gate.release()
        assert warm.ready[1].result(timeout=120) is None
        assert len(warm.pool._processes) == 2
    finally:
        warm.stop(abort=False)


def _crash(seconds):
    import os
    import time

    time.sleep(seconds)
    os._exit(1)


def test_a_worker_that_dies_at_the_gate_does_not_hang_the_build(monkeypatch):
    """A crash in the first worker's warm-up (a font that crashes Pango) breaks the pool, which
    kills the worker waiting at the gate. Opening the gate afterwards must not wait for it, as
    a multiprocessing Event's set() does (it waits for every waiter to wake): the build then
    reports the broken pool instead of hanging in warm_rest()."""
    import multiprocessing
    import threading
    from concurrent.futures.process import BrokenProcessPool

    from cabinet_reports import pool

    gate = multiprocessing.get_context("spawn").Semaphore(0)
    executor = pool.local_pool(2, gate)
    warm = pool.WarmPool(executor, [executor.submit(_crash, 2), executor.submit(pool.warm_up, None, True)],
                         gate=gate)
    try:
        with pytest.raises(BrokenProcessPool):
            warm.ready[0].result(timeout=60)
        opened = threading.Thread(target=warm.warm_rest, daemon=True)
        opened.start()
        opened.join(10)
        assert not opened.is_alive(), "opening the gate waited for a dead worker"
    finally:
        warm.stop(abort=True)
