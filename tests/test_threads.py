"""The library is safe to call from threads: every report carries its own date.

The PDF renderer once set the process-wide SOURCE_DATE_EPOCH for the length of a render, so a
report rendered in another thread at the same time read that report's date into its
/CreationDate, /ModDate, XMP and DOCX core properties: wrong data in a legal record. Four
reports with four different dates are rendered in four threads, several times over; each
output is read back (pikepdf for the PDF's Info and XMP, python-docx for the core
properties) and compared byte for byte with a serial render. Pack jobs carry their caller's
SOURCE_DATE_EPOCH to the thread that renders them, and two packs built at once with different
epochs each get their own.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import struct
from concurrent.futures import ThreadPoolExecutor

import docx
import pikepdf
import pytest

from cabinet_reports.api import render_bytes, report_from_data

DATES = [dt.date(1965, 9, 18), dt.date(2005, 3, 16), dt.date(2026, 1, 14), dt.date(2031, 12, 31)]
ROUNDS = 2


def report(day: dt.date):
    # The first report is long: its layout runs while the other threads render theirs.
    paragraphs = [f"Paragraph {i} about the date {day.isoformat()}." for i in range(60 if day == DATES[0] else 2)]
    return report_from_data({
        "council": {"name": f"Borough of {day.year}"}, "meeting": {"body": "Cabinet", "date": day.isoformat()},
        "title": f"Report of {day.isoformat()}",
        "sections": {"purpose": paragraphs, "recommendations": ["That Cabinet notes."]}})


def render(task: tuple[dt.date, str]) -> bytes:
    day, fmt = task
    return render_bytes(report(day), fmt)


# The long PDF first, then the other reports' PDFs and DOCXs, several times over.
TASKS = [(DATES[0], "pdf"), (DATES[0], "docx")] + [(day, fmt) for day in DATES[1:] for fmt in ("docx", "pdf")] * ROUNDS


def pdf_dates(data: bytes) -> set[str]:
    """Return every date the PDF carries: Info /CreationDate and /ModDate, XMP create and modify dates."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        info = {str(pdf.docinfo[key]) for key in ("/CreationDate", "/ModDate")}
        meta = pdf.open_metadata()
        xmp = {meta["xmp:CreateDate"], meta["xmp:ModifyDate"]}
    return info | xmp


def docx_dates(data: bytes) -> set[dt.datetime]:
    props = docx.Document(io.BytesIO(data)).core_properties
    return {props.created, props.modified}


@pytest.fixture(scope="module", autouse=True)
def no_source_date_epoch():
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SOURCE_DATE_EPOCH", raising=False)
        yield


@pytest.fixture(scope="module")
def serial() -> dict[tuple[dt.date, str], bytes]:
    return {task: render(task) for task in dict.fromkeys(TASKS)}


def assert_own_dates(day: dt.date, fmt: str, data: bytes) -> None:
    if fmt == "pdf":
        assert pdf_dates(data) == {f"D:{day:%Y%m%d}000000Z", f"{day.isoformat()}T00:00:00Z"}, day
    else:
        assert docx_dates(data) == {dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)}, day


def test_serial_renders_carry_their_own_dates(serial):
    for (day, fmt), data in serial.items():
        assert_own_dates(day, fmt, data)


def test_threads_give_each_report_its_own_dates_and_the_serial_bytes(serial):
    with ThreadPoolExecutor(max_workers=len(DATES)) as pool:
        for task, data in zip(TASKS, pool.map(render, TASKS)):
            assert_own_dates(*task, data)
            assert data == serial[task], task


def test_fonttools_subsets_are_stamped_with_each_threads_date(monkeypatch):
    """Without HarfBuzz's subsetter (or for a variable font) WeasyPrint saves font subsets
    with fontTools, which stamps them with SOURCE_DATE_EPOCH from the environment: each
    thread's subset must carry its own report's date, and no thread may set the variable."""
    import weasyprint.pdf.fonts
    from fontTools.ttLib import TTFont

    monkeypatch.setattr(weasyprint.pdf.fonts, "harfbuzz_subset", None)  # the fontTools path
    days = DATES[:2]

    def font_modified(day: dt.date) -> set[dt.datetime]:
        stamps = set()
        with pikepdf.open(io.BytesIO(render_bytes(report(day), "pdf"))) as pdf:
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Dictionary) and "/FontFile2" in obj:
                    head = TTFont(io.BytesIO(obj.FontFile2.read_bytes())).reader["head"]
                    # The raw field (fontTools' parsed value second-guesses dates before 1972).
                    seconds = struct.unpack(">q", head[28:36])[0]  # 'modified': seconds since 1904
                    stamps.add(dt.datetime(1904, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=seconds))
        return stamps

    with ThreadPoolExecutor(max_workers=2) as pool:
        found = dict(zip(days, pool.map(font_modified, days)))
    for day in days:
        assert found[day] == {dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)}
    assert "SOURCE_DATE_EPOCH" not in os.environ


# --------------------------------------------------------------------------- pack jobs
# A pack job carries its caller's SOURCE_DATE_EPOCH to whatever runs it. It once set the
# process environment for the length of its render, so on a thread pool (or a Dask worker's
# threads) a job with another caller's epoch running beside it stamped that epoch into this
# job's PDF and DOCX.
EPOCHS = {"981158400": dt.datetime(2001, 2, 3, tzinfo=dt.timezone.utc),
          "1339070400": dt.datetime(2012, 6, 7, 12, tzinfo=dt.timezone.utc),
          "1700000000": dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc),
          "": None}  # unset: the report's own date


def assert_stamped(moment: dt.datetime, data: bytes, fmt: str, what: str) -> None:
    if fmt == "pdf":
        found = pdf_dates(data) - {None}
        assert found and found <= {f"D:{moment:%Y%m%d%H%M%S}Z", f"{moment:%Y-%m-%dT%H:%M:%S}Z",
                                   moment.isoformat()}, (what, found)
    else:
        assert docx_dates(data) == {moment}, what


def _report_file(folder, day: dt.date, paragraphs: int):
    from pack_inputs import REPORT

    path = folder / f"report-{day.isoformat()}-{paragraphs}.yaml"
    text = ", ".join(f"Paragraph {i} of a report dated {day.isoformat()}." for i in range(paragraphs))
    path.write_text(REPORT.replace("2026-01-14", day.isoformat()) % (f"Report {day}", "public", text),
                    encoding="utf-8")
    return path


def test_pack_jobs_on_threads_carry_their_callers_epochs(tmp_path):
    from cabinet_reports.pack.items import ReportJob, render_report_job

    day = dt.date(2026, 1, 14)
    # The first job is long, so the others start and finish while it is laid out.
    jobs = [ReportJob(str(_report_file(tmp_path, day, 80)), {"status": "public"}, None, "981158400")]
    short = _report_file(tmp_path, day, 2)
    jobs += [ReportJob(str(short), {"status": "public"}, None, epoch) for epoch in EPOCHS] * ROUNDS
    with ThreadPoolExecutor(max_workers=4) as pool:
        rendered = list(pool.map(render_report_job, jobs))
    for job, result in zip(jobs, rendered):
        moment = EPOCHS[job.epoch] or dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
        assert_stamped(moment, result.pdf, "pdf", job.epoch)
        assert_stamped(moment, result.docx, "docx", job.epoch)
    assert "SOURCE_DATE_EPOCH" not in os.environ


def test_two_packs_with_different_epochs_built_at_once_on_one_thread_pool(tmp_path):
    """A service building two councils' packs at the same time on one pool of threads: each
    pack's every PDF and DOCX carries its own caller's SOURCE_DATE_EPOCH (renderers.source_date)."""
    from pack_inputs import HEAD

    from cabinet_reports.pack import build_pack
    from cabinet_reports.renderers import source_date

    builds = {}
    for n, epoch in enumerate(["981158400", "1339070400"]):
        folder = tmp_path / f"meeting-{n}"
        folder.mkdir()
        reports = [_report_file(folder, dt.date(2026, 1, 14), count) for count in (60, 3, 2)]
        (folder / "meeting.yaml").write_text(
            HEAD + "".join(f"  - report: {p.name}\n" for p in reports), encoding="utf-8")
        builds[epoch] = (folder / "meeting.yaml", tmp_path / f"out-{n}")

    with ThreadPoolExecutor(max_workers=4) as renders, ThreadPoolExecutor(max_workers=2) as callers:
        def build(epoch: str):
            meeting, out = builds[epoch]
            with source_date(epoch):
                return build_pack(meeting, out, executor=renders, cache=False)

        list(callers.map(build, builds))
    for epoch, (_, out) in builds.items():
        files = sorted(p for p in out.rglob("*") if p.suffix in (".pdf", ".docx"))
        assert len(files) == 2 + 2 + 3 * 2  # packs, agenda PDF and DOCX, each report's PDF and DOCX
        for path in files:
            if path.name.endswith("-pack.pdf"):
                continue  # a merged pack carries no dates of its own
            assert_stamped(EPOCHS[epoch], path.read_bytes(), path.suffix[1:], f"{epoch}: {path.name}")
    assert "SOURCE_DATE_EPOCH" not in os.environ
