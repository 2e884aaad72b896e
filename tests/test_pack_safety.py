"""Meeting packs under adversity (issue 12): rebuilds, kills, signals, duplicates and baggage.

Each test builds a tiny meeting (procedural items, one-page reports, a one-page attached PDF)
so that a build takes a second or two.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pack_inputs import HEAD, REPORT, run_cli
from readers import normalise, pdftotext, require

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EXEMPT = "{status: exempt, paragraphs: [3]}"
MANIFEST = ".make-report-manifest.json"



def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def visible(folder: Path) -> set[str]:
    """Return the files a reader browsing the folder sees (nothing hidden)."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)}


def debris(folder: Path) -> set[str]:
    """Return hidden entries other than the tool's records (temp files, staging folders)."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob(".*")
            if p.name != MANIFEST and ".cache" not in p.relative_to(folder).parts}


def small_pdf(path: Path, text: str) -> None:
    import weasyprint

    path.write_bytes(weasyprint.HTML(string=f"<p>{text}</p>").write_pdf())


# --------------------------------------------------------------------------- item 3: stale files
def test_a_rebuild_leaves_exactly_this_builds_files(tmp_path):
    """An item that became Part B, renumbered or removed leaves no file of the earlier build."""
    from cabinet_reports.pack import build_pack

    write(tmp_path, "a.yaml", REPORT % ("Report A", "public", "The buyer is Quartz Meridian."))
    write(tmp_path, "b.yaml", REPORT % ("Report B", "public", "Roads."))
    out = tmp_path / "out"
    first = build_pack(write(tmp_path, "m1.yaml", HEAD + "  - title: Apologies\n  - report: a.yaml\n"
                                                         "  - report: b.yaml\n"), out, jobs=1)
    assert "items/02-report-a.pdf" in visible(out)
    (out / "items" / "notes.txt").write_text("the clerk's own file")
    # Report A is now exempt: it moves to Part B (and so to the end); report B becomes item 2.
    write(tmp_path, "a.yaml", REPORT % ("Report A", EXEMPT, "The buyer is Quartz Meridian."))
    second = build_pack(write(tmp_path, "m2.yaml", HEAD + "  - title: Apologies\n  - report: b.yaml\n"
                                                          "  - report: a.yaml\n    public_title: A land matter\n"),
                        out, jobs=1)
    assert visible(out) == {p.relative_to(out).as_posix() for p in second.files} | {"items/notes.txt"}
    assert {p.relative_to(out).as_posix() for p in second.removed} == {
        "items/02-report-a.pdf", "items/02-report-a.docx", "items/02-report-a.html",
        "items/03-report-b.pdf", "items/03-report-b.docx", "items/03-report-b.html"}
    assert set(first.files) - set(second.files)  # the first build did write them
    for path in (out / "items").iterdir():
        if path.suffix == ".pdf":
            assert "Quartz" not in pdftotext(path), path
        elif path.suffix == ".html":
            assert "Quartz" not in path.read_text(encoding="utf-8"), path
    assert debris(out) == set()


# --------------------------------------------------------------------------- item 7: killed switch
_KILLED_BUILD = textwrap.dedent("""
    import os, signal, sys
    from cabinet_reports.pack import build_pack

    meeting, out, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
    real, calls = os.replace, 0

    def replace(*args, **kwargs):
        global calls
        calls += 1
        if calls == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    os.replace = replace
    build_pack(meeting, out, jobs=1, cache=False) if "cache" in build_pack.__kwdefaults__ else \\
        build_pack(meeting, out, jobs=1)
""")


# Every step of the switch is killed in tests/test_atomic_folder.py; here, a whole build killed
# at its first rename (the journal, the commit point) and in the middle of moving the files.
@pytest.mark.parametrize("nth", [1, 3])
def test_a_build_killed_during_the_switch_is_completed_by_the_next_and_leaves_no_debris(tmp_path, nth):
    small_pdf(tmp_path / "minutes.pdf", "Minutes: the Zephyr negotiation.")
    out = tmp_path / "out"
    public = write(tmp_path, "public.yaml", HEAD + "  - title: Apologies\n  - {title: Minutes, pdf: minutes.pdf}\n")
    exempt = write(tmp_path, "exempt.yaml", HEAD + "  - title: Apologies\n  - {title: Minutes, pdf: minutes.pdf, "
                                                   "exempt: 3, public_title: A negotiation}\n")
    assert run_cli("pack", str(public), "-o", str(out), "-q")[0] == 0
    before = visible(out)
    assert "items/02-minutes.pdf" in before
    # What an earlier version killed in its renames left behind (issue 12: up to 22 such files).
    (out / ".full-pack.pdf.0123456789ab.tmp").write_bytes(b"%PDF- a whole copy of the full pack")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", _KILLED_BUILD, str(exempt), str(out), str(nth)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == -signal.SIGKILL, result.stderr
    if not (out / ".make-report-journal.json").exists():
        assert visible(out) == before  # killed before the commit point: the old set, whole
    code, stdout, _ = run_cli("pack", str(exempt), "-o", str(out))
    assert code == 0
    after = visible(out)
    assert after == {line.split()[1].removeprefix(str(out) + "/") for line in stdout.splitlines()
                     if line.startswith("wrote ")}
    assert "items/02-minutes.pdf" not in after and debris(out) == set()


# --------------------------------------------------------------------------- medium and low
def test_a_procedural_part_b_item_is_shown_in_the_full_pack_only(tmp_path):
    meeting = write(tmp_path, "m.yaml", HEAD + "  - title: Apologies\n  - title: Talks with Zephyr Widgets\n"
                                              "    text: Zephyr's offer is on the table.\n    exempt: 3\n"
                                              "    public_title: A commercial matter\n")
    out = tmp_path / "out"
    assert run_cli("pack", str(meeting), "-o", str(out), "-q")[0] == 0
    full = normalise(pdftotext(out / "full-pack.pdf"))
    assert "Talks with Zephyr Widgets" in full and "Zephyr's offer is on the table." in full
    for name in ("public-pack.pdf", "agenda.pdf"):
        text = normalise(pdftotext(out / name))
        assert "Zephyr" not in text and "A commercial matter" in text


def _pdf_with_baggage(path: Path) -> None:
    import pikepdf
    import weasyprint

    pdf = pikepdf.open(io.BytesIO(weasyprint.HTML(string="<p>Minutes of the meeting.</p>").write_pdf()))
    pdf.attachments["bidders.txt"] = pikepdf.AttachedFileSpec(pdf, b"Zephyr Widgets bid 1,000,000")
    script = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")))
    pdf.Root.OpenAction = script
    pdf.Root.AA = pikepdf.Dictionary(WC=script)
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=script)
    pdf.docinfo["/Author"] = "Zephyr Widgets Ltd"
    with pdf.open_metadata() as meta:
        meta["dc:creator"] = ["Zephyr Widgets Ltd"]
    pdf.save(path)


def test_a_public_attached_pdfs_item_file_drops_attachments_scripts_and_metadata(tmp_path):
    import pikepdf

    _pdf_with_baggage(tmp_path / "minutes.pdf")
    meeting = write(tmp_path, "m.yaml", HEAD + "  - {title: Minutes, pdf: minutes.pdf}\n")
    out = tmp_path / "out"
    assert run_cli("pack", str(meeting), "-o", str(out), "-q")[0] == 0
    for path in (out / "items" / "01-minutes.pdf", out / "public-pack.pdf"):
        with pikepdf.open(path) as pdf:
            assert not pdf.attachments, path
            assert "/OpenAction" not in pdf.Root and "/AA" not in pdf.Root, path
            assert all("/AA" not in page.obj for page in pdf.pages), path
            assert "/Author" not in pdf.docinfo, path
        raw = subprocess.run([require("qpdf"), "--qdf", "--object-streams=disable", str(path), "-"],
                             capture_output=True, check=True).stdout
        assert b"Zephyr" not in raw and b"JavaScript" not in raw, path
        assert "Minutes of the meeting." in pdftotext(path)


def test_a_dangling_symlink_as_outdir_is_explained_before_anything_is_rendered(tmp_path):
    meeting = write(tmp_path, "m.yaml", HEAD + "  - title: Apologies\n")
    (tmp_path / "out").symlink_to(tmp_path / "gone")
    code, _, err = run_cli("pack", str(meeting), "-o", str(tmp_path / "out"))
    assert code == 2
    assert err == (f"make-report: error: {tmp_path / 'out'}: the output folder is a symbolic link to "
                   f"{tmp_path / 'gone'}, which does not exist\n")


def test_an_error_names_the_output_not_a_hidden_temp_file(tmp_path):
    meeting = write(tmp_path, "m.yaml", HEAD + "  - title: Apologies\n")
    out = tmp_path / "out"
    (out / "agenda.pdf").mkdir(parents=True)
    code, _, err = run_cli("pack", str(meeting), "-o", str(out))
    assert code == 2
    assert err == f"make-report: error: {out / 'agenda.pdf'}: a folder is in the way of an output file\n"
    assert sorted(p.name for p in out.iterdir()) == ["agenda.pdf"]


# --------------------------------------------------------------------------- workers and signals
def _children(pid: int) -> list[int]:
    """Return the live worker processes (multiprocessing spawn) whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z" and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_worker_processes_do_not_outlive_the_build(tmp_path, sig):
    # Four reports of about eight pages: each layout keeps a worker busy for seconds.
    body = " ".join(["The council has reviewed the arrangements for service delivery in this area."] * 40)
    items = ""
    for n in range(4):
        write(tmp_path, f"r{n}.yaml", (REPORT % (f"Report {n}", "public", "To test.")).replace(
            "  purpose:", "  background: [" + ", ".join([body] * 12) + "]\n  purpose:"))
        items += f"  - report: r{n}.yaml\n"
    meeting = write(tmp_path, "m.yaml", HEAD + items)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
    parent = subprocess.Popen([sys.executable, "-m", "cabinet_reports", "pack", str(meeting), "-o",
                               str(tmp_path / "out"), "--jobs", "2", "-q"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 120
        workers = []
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            time.sleep(0.05)
            workers = _children(parent.pid)
        assert len(workers) == 2, "the workers never started"
        time.sleep(0.5)  # let them get into their first layout
        parent.send_signal(sig)
        parent.wait(timeout=60)
        if sig == signal.SIGTERM:  # stderr in the comparison: a failure says what happened instead
            assert (parent.returncode, parent.stderr.read().decode()) == (
                143, "make-report: terminated; no partial output was written\n")
            assert not (tmp_path / "out").exists()
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [w for w in workers if _alive(w)], "worker processes outlived the build"
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.wait()
        parent.stdout.close()
        parent.stderr.close()
        for w in workers:
            if _alive(w):  # pragma: no cover - only when the test failed
                os.kill(w, signal.SIGKILL)


@pytest.mark.parametrize("raised", [RuntimeError("a library's own error"), OSError(9, "Bad file descriptor"),
                                    ImportError("partially initialized module")])
def test_sigterm_is_reported_as_terminated_whatever_the_unwinding_raises(tmp_path, monkeypatch, raised):
    """SIGTERM during a pack (mid-import, mid-library) raised an exception in its place, which a
    library may catch and replace with its own: the build was still stopped by the signal, so
    it exits 143 saying so, never 1 ("internal error") or 2."""
    from cabinet_reports import cli

    def interrupted_pack(args):
        with cli._terminate_cleanly():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # the handler raises first
            except BaseException:
                raise raised from None
        raise AssertionError("not interrupted")

    monkeypatch.setattr(cli, "_pack", interrupted_pack)
    code, _, err = run_cli("pack", str(tmp_path / "m.yaml"), "-o", str(tmp_path / "out"))
    assert (code, err) == (143, "make-report: terminated; no partial output was written\n")
    monkeypatch.setattr(cli, "_pack", lambda args: (_ for _ in ()).throw(RuntimeError("a bug")))
    code, _, err = run_cli("pack", str(tmp_path / "m.yaml"), "-o", str(tmp_path / "out"))
    assert code == 1 and "internal error: RuntimeError: a bug" in err  # no SIGTERM: a bug is a bug
