"""Themes are sandboxed: a theme from another council cannot run code or read local files.

Each hostile theme is a temporary folder passed to the real command line with ``--theme``.
The render must stop with exit code 2 and one located line naming the theme file and line,
and the payload must not have run. A control renders the same payload with a plain,
unsandboxed Jinja environment and shows that it *does* run there, so the test is not vacuous.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import warnings
from pathlib import Path

import jinja2
import pikepdf
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import ValidationError

from cabinet_reports.cli import main
from cabinet_reports.models import Council
from cabinet_reports.theme import builtin_theme_dir

ROOT = Path(__file__).resolve().parent.parent
DUDLEY = ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"
PAGE = '<!DOCTYPE html>\n<html lang="en-GB"><head><title>x</title></head>\n<body>\n{payload}\n</body></html>\n'


def render(theme: Path, out: Path, capsys) -> tuple[int, list[str]]:
    code = main(["render", str(DUDLEY), "-o", str(out), "--format", "pdf", "--theme", str(theme), "--quiet"])
    return code, capsys.readouterr().err.splitlines()


def escape_payload(marker: Path) -> list[str]:
    """Classic Jinja server-side-template-injection payloads that would create ``marker``."""
    cmd = f"touch {marker}"
    return [
        "{{ cycler.__init__.__globals__.os.system('%s') }}" % cmd,
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ joiner.__init__.__globals__.os.popen('%s').read() }}" % cmd,
        "{{ lipsum.__globals__['os'].system('%s') }}" % cmd,
        "{{ self.__init__.__globals__.__builtins__.__import__('os').system('%s') }}" % cmd,
        "{{ namespace.__init__.__globals__.os.system('%s') }}" % cmd,
        "{% set x = ''.format.__self__.__class__ %}{{ x }}",
    ]


@pytest.mark.parametrize("index", range(8))
def test_template_escape_fails_with_a_located_theme_error_and_does_not_run(tmp_path, capsys, index):
    marker = tmp_path / "pwned"
    payload = escape_payload(marker)[index]
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "report.html").write_text(PAGE.format(payload=payload), encoding="utf-8")
    code, err = render(theme, tmp_path / "out", capsys)
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith(f"make-report: error: {theme / 'report.html'}:4: template error: "), err
    assert err[0].endswith("is unsafe."), err
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_control_the_payload_runs_without_the_sandbox(tmp_path):
    """Outside the sandbox the same payload executes: it is a real escape, not a typo."""
    marker = tmp_path / "pwned"
    env = jinja2.Environment()
    env.globals.update(cycler=jinja2.utils.Cycler)
    env.from_string(escape_payload(marker)[0]).render()
    assert marker.exists()


def test_sandbox_error_in_an_included_template_names_that_file(tmp_path, capsys):
    theme = tmp_path / "theme"
    theme.mkdir()
    blocks = (builtin_theme_dir() / "blocks.html").read_text(encoding="utf-8").splitlines()
    # Break the paragraph macro: line 13 of the user's blocks.html reaches for Python internals.
    at = next(i for i, line in enumerate(blocks) if 'class="para numbered"' in line)
    blocks[at] = "{{ b.__class__.__mro__ }}"
    (theme / "blocks.html").write_text("\n".join(blocks) + "\n", encoding="utf-8")
    code, err = render(theme, tmp_path / "out", capsys)
    assert code == 2
    assert err == [f"make-report: error: {theme / 'blocks.html'}:{at + 1}: template error: "
                   "access to attribute '__class__' of 'dict' object is unsafe."]  # plain data, no Para


def test_template_syntax_error_names_file_and_line(tmp_path, capsys):
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "report.html").write_text(PAGE.format(payload="{% for x in %}\n{% endfor %}"), encoding="utf-8")
    code, err = render(theme, tmp_path / "out", capsys)
    assert code == 2
    assert err == [f"make-report: error: {theme / 'report.html'}:4: template error: "
                   "Expected an expression, got 'end of statement block'"]


def test_unknown_key_in_theme_yaml_names_file_line_and_field(tmp_path, capsys):
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "theme.yaml").write_text(
        "name: mine\nsections:\n  - {key: purpose, title: AIM, required: true}\n"
        "  - {key: recommendations, title: WE RECOMMEND, requird: true}\n", encoding="utf-8")
    code, err = render(theme, tmp_path / "out", capsys)
    assert code == 2
    assert err == [f"make-report: error: {theme / 'theme.yaml'}:4: sections[1].requird: "
                   "unknown field 'requird' (did you mean 'required'?); fields here: "
                   "key, title, required, guidance, numbered, place, box, letters"]


@pytest.mark.parametrize("fmt, field", [
    ("{s}.{x}", "kinds.report.numbering.paragraph"),        # unknown name: was a KeyError traceback
    ("{s.__class__.__mro__}", "kinds.report.numbering.section"),  # attribute access through str.format
    ("{day.__class__}", "date_format"),
])
def test_str_format_fields_in_theme_yaml_are_checked(tmp_path, capsys, fmt, field):
    theme = tmp_path / "theme"
    theme.mkdir()
    key = field.rsplit(".", 1)[-1]
    body = f"date_format: '{fmt}'\n" if key == "date_format" else \
        f"kinds:\n  report:\n    numbering:\n      {key}: '{fmt}'\n"
    line = body.count("\n")
    (theme / "theme.yaml").write_text(body, encoding="utf-8")
    code, err = render(theme, tmp_path / "out", capsys)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"make-report: error: {theme / 'theme.yaml'}:{line}: {field}: a format here may only use")


def test_text_template_in_theme_yaml_is_sandboxed(tmp_path, capsys):
    marker = tmp_path / "pwned"
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "theme.yaml").write_text(
        "kinds:\n  report:\n    title_block:\n"
        f"      - [council, \"{{{{ council.__init__.__globals__.os.system('touch {marker}') }}}}\"]\n",
        encoding="utf-8")
    code, err = render(theme, tmp_path / "out", capsys)
    assert code == 2 and len(err) == 1, err
    assert "theme.yaml" in err[0] and "unsafe" in err[0]
    assert not marker.exists()


def test_a_theme_cannot_attach_files(tmp_path, capsys):
    """A theme page that links files to embed (rel="attachment") is refused before WeasyPrint runs.

    Embedding is refused entirely, not only outside the allowed folders: tests/test_sandbox.py
    shows the same link inside the report's folder would embed a Part B report lying beside it.
    """
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("TOKEN-4f1c9e0a7d\n", encoding="utf-8")
    theme = tmp_path / "theme"
    theme.mkdir()
    page = (builtin_theme_dir() / "report.html").read_text(encoding="utf-8")
    page = page.replace("</head>", f'<link rel="attachment" href="{secret.as_uri()}">\n'
                                   '<link rel="attachment" href="file:///etc/passwd">\n</head>')
    (theme / "report.html").write_text(page, encoding="utf-8")
    out = tmp_path / "out"
    code, err = render(theme, out, capsys)
    assert code == 2
    assert err == [f"make-report: error: {theme / 'report.html'}: the page links a file to embed in the PDF "
                   f"({secret.as_uri()}); themes may not attach files"]
    assert not out.exists()


def test_a_theme_cannot_read_local_files(tmp_path, capsys):
    """A theme page that loads local files outside its folder gets nothing into the PDF."""
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("TOKEN-4f1c9e0a7d\n", encoding="utf-8")
    theme = tmp_path / "theme"
    theme.mkdir()
    page = (builtin_theme_dir() / "report.html").read_text(encoding="utf-8")
    page = page.replace("</head>", f'<style>@import url({secret.as_uri()});</style>\n'
                                   '<link rel="stylesheet" href="file:///etc/passwd">\n</head>')
    page = page.replace("<main>", f'<main><img src="{secret.as_uri()}" alt="">')
    (theme / "report.html").write_text(page, encoding="utf-8")
    out = tmp_path / "out"
    code, err = render(theme, out, capsys)
    assert code == 0, err
    data = (out / "dudley-2005-partnership-strategy.pdf").read_bytes()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.attachments) == 0
        blob = b"".join(o.read_bytes() for o in pdf.objects if isinstance(o, pikepdf.Stream)
                        and o.get("/Filter") != "/DCTDecode")
    first = Path("/etc/passwd").read_bytes().splitlines()[0]
    assert b"TOKEN-4f1c9e0a7d" not in blob + data and first not in blob + data


# ---------------------------------------------------------------------------------------
# Issue 12: model methods, symlinks, embedded files and resource exhaustion. Every reproducer
# runs the real command line with a user --theme folder and must end with exit 2, one located
# line, no traceback and nothing written.
# ---------------------------------------------------------------------------------------

PUBLIC = ROOT / "examples" / "salford-2003-progress-note" / "report.yaml"


def run(command: str, theme: Path, out: Path, capsys, report: Path = DUDLEY, fmt: str = "pdf") -> tuple[int, list[str]]:
    """Run ``make-report check|render`` with ``--theme`` and return (exit code, stderr lines)."""
    argv = [command, str(report), "--theme", str(theme)]
    if command == "render":
        argv += ["-o", str(out), "--format", fmt, "--quiet"]
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.err.splitlines()


def theme_with(tmp_path: Path, files: dict[str, str]) -> Path:
    theme = tmp_path / "theme"
    theme.mkdir(exist_ok=True)
    for name, text in files.items():
        (theme / name).parent.mkdir(parents=True, exist_ok=True)
        (theme / name).write_text(text, encoding="utf-8")
    return theme


def title_block(payload: str) -> str:
    """A theme.yaml whose first title-block line (line 4) is ``payload``."""
    return f"kinds:\n  report:\n    title_block:\n      - [council, {json.dumps(payload)}]\n"


def pickle_payload(marker: Path) -> str:
    """A protocol-0 (ASCII) pickle that creates ``marker`` when loaded."""
    class Touch:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    return pickle.dumps(Touch(), protocol=0).decode("ascii")


def parse_raw_template(owner: str, marker: Path) -> str:
    return "{%% set _ = %s.parse_raw(%s, proto='pickle', allow_pickle=True) %%}" % (
        owner, json.dumps(pickle_payload(marker)))


def test_control_model_methods_run_code_and_read_files_given_a_model(tmp_path):
    """Control: with a pydantic model in the context, Jinja's own sandbox runs the pickle and reads the file.

    This is what templates got before issue 12 (``council``, ``doc.numbering`` …).
    """
    marker, secret = tmp_path / "pwned", tmp_path / "secret.json"
    secret.write_text('{"name": "SECRET-3e1b7c"}', encoding="utf-8")
    env = ImmutableSandboxedEnvironment()
    council = Council(name="Dudley")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # parse_raw/parse_file are deprecated, not gone
        with pytest.raises(ValidationError):  # the unpickled value (os.system's exit code) is not a Council
            env.from_string(parse_raw_template("council", marker)).render(council=council)
        read = env.from_string("{{ council.parse_file(path).name }}").render(council=council, path=str(secret))
    assert marker.exists()
    assert read == "SECRET-3e1b7c"


@pytest.mark.parametrize("command", ["check", "render"])
def test_pickle_payload_in_theme_yaml_does_not_run(tmp_path, capsys, command):
    marker = tmp_path / "pwned"
    theme = theme_with(tmp_path, {"theme.yaml": title_block(parse_raw_template("council", marker))})
    code, err = run(command, theme, tmp_path / "out", capsys)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"make-report: error: {theme / 'theme.yaml'}:4: kinds.report.title_block[0][1]: "
                             "template error: 'dict object' has no attribute 'parse_raw'"), err
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_pickle_payload_in_report_html_does_not_run(tmp_path, capsys):
    marker = tmp_path / "pwned"
    theme = theme_with(tmp_path, {"report.html": PAGE.format(payload=parse_raw_template("doc.numbering", marker))})
    code, err = run("render", theme, tmp_path / "out", capsys)
    assert code == 2
    assert err == [f"make-report: error: {theme / 'report.html'}:4: template error: "
                   "'dict object' has no attribute 'parse_raw'"]
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["theme.yaml", "report.html"])
def test_parse_file_cannot_read_a_local_file(tmp_path, capsys, where):
    secret = tmp_path / "secret.json"
    secret.write_text('{"name": "SECRET-3e1b7c"}', encoding="utf-8")
    read = "{{ %s.parse_file(%s).name }}"
    files = ({"theme.yaml": title_block(read % ("council", json.dumps(str(secret))))} if where == "theme.yaml" else
             {"report.html": PAGE.format(payload=read % ("doc.numbering", json.dumps(str(secret))))})
    theme = theme_with(tmp_path, files)
    out = tmp_path / "out"
    main(["render", str(DUDLEY), "-o", str(out), "--theme", str(theme), "--html", "--quiet"])
    captured = capsys.readouterr()
    assert "SECRET-3e1b7c" not in captured.out + captured.err
    assert not out.exists()  # no PDF, no DOCX, no HTML that could hold it
    code, err = run("render", theme, out, capsys)
    assert code == 2 and len(err) == 1 and "has no attribute 'parse_file'" in err[0], err


def test_document_methods_are_not_callable_from_report_html(tmp_path, capsys):
    """The numbered document reaches report.html as data: its methods are not there to call."""
    theme = theme_with(tmp_path, {"report.html": PAGE.format(payload="{{ doc.numbered_labels() }}")})
    code, err = run("render", theme, tmp_path / "out", capsys)
    assert code == 2
    assert err == [f"make-report: error: {theme / 'report.html'}:4: template error: "
                   "'dict object' has no attribute 'numbered_labels'"]


# ----------------------------------------------------------------------------- symlinks
SECRET_TEXT = "SECRET-LINE-91c4d2 from outside the theme"


@pytest.fixture
def outside(tmp_path) -> Path:
    """A file outside the theme folder that a theme must not be able to print."""
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_text(SECRET_TEXT + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["report.html", "blocks.html", "style.css", "theme.yaml"])
def test_theme_file_symlinked_outside_the_theme_is_refused(tmp_path, capsys, outside, name):
    theme = theme_with(tmp_path, {})
    (theme / name).symlink_to(outside)
    out = tmp_path / "out"
    code, err = run("render", theme, out, capsys)
    assert code == 2
    assert err == [f"make-report: error: {theme / name}: is a link to a file outside the theme folder; "
                   "theme files must be inside it"]
    assert not out.exists()


def test_control_jinja_file_loader_follows_symlinks(tmp_path, outside):
    """Control: Jinja's FileSystemLoader (used before issue 12) prints a symlinked file's target."""
    theme = theme_with(tmp_path, {})
    (theme / "report.html").symlink_to(outside)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(theme)))
    assert SECRET_TEXT in env.get_template("report.html").render()


def test_included_template_symlinked_outside_is_refused(tmp_path, capsys, outside):
    theme = theme_with(tmp_path, {"report.html": PAGE.format(payload='{% include "notes.txt" %}')})
    (theme / "notes.txt").symlink_to(outside)
    code, err = run("render", theme, tmp_path / "out", capsys)
    assert code == 2
    assert err == [f"make-report: error: {theme / 'notes.txt'}: is a link to a file outside the theme folder; "
                   "theme files must be inside it"]
    assert SECRET_TEXT not in "".join(err)


def test_symlinked_folder_of_fonts_outside_is_refused(tmp_path, capsys, outside):
    """``asset('fonts/…')`` in page.css finds the theme's fonts folder, a symlink out: refused."""
    theme = theme_with(tmp_path, {})
    (outside.parent / "LiberationSans-Regular.ttf").write_bytes(
        (builtin_theme_dir() / "fonts" / "LiberationSans-Regular.ttf").read_bytes())
    (theme / "fonts").symlink_to(outside.parent, target_is_directory=True)
    code, err = run("render", theme, tmp_path / "out", capsys)
    assert code == 2
    assert err == [f"make-report: error: {theme / 'fonts' / 'LiberationSans-Regular.ttf'}: is a link to a file "
                   "outside the theme folder; theme files must be inside it"]


def test_reference_docx_symlinked_outside_is_refused(tmp_path, capsys):
    """A reference.docx linked to another document (a Part B report's DOCX) is refused."""
    elsewhere = tmp_path / "part-b" / "confidential.docx"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes((builtin_theme_dir() / "reference.docx").read_bytes())
    theme = theme_with(tmp_path, {})
    (theme / "reference.docx").symlink_to(elsewhere)
    code, err = run("render", theme, tmp_path / "out", capsys, fmt="docx")
    assert code == 2
    assert err == [f"make-report: error: {theme / 'reference.docx'}: is a link to a file outside the theme "
                   "folder; theme files must be inside it"]
    assert not (tmp_path / "out").exists()


def test_symlink_inside_the_theme_folder_still_works(tmp_path, capsys):
    """Links that stay inside the theme folder are ordinary theme files."""
    theme = theme_with(tmp_path, {"pages/report.html": (builtin_theme_dir() / "report.html").read_text("utf-8")})
    (theme / "report.html").symlink_to(theme / "pages" / "report.html")
    code, err = run("render", theme, tmp_path / "out", capsys)
    assert code == 0, err


# ----------------------------------------------------------------------------- embedded files
def test_attachment_of_a_part_b_report_beside_a_public_one_is_refused(tmp_path, capsys):
    """The report's own folder is readable by the renderer: a theme must still not embed its files."""
    folder = tmp_path / "reports"
    folder.mkdir()
    public = folder / "public.yaml"
    public.write_text(PUBLIC.read_text(encoding="utf-8"), encoding="utf-8")
    part_b = folder / "part-b.yaml"
    part_b.write_text("title: EXEMPT-7d2a Depot disposal\nclassification: {status: exempt, paragraphs: [3]}\n",
                      encoding="utf-8")
    page = (builtin_theme_dir() / "report.html").read_text(encoding="utf-8").replace(
        "</head>", f'<link rel="attachment" href="{part_b.as_uri()}">\n</head>')
    theme = theme_with(tmp_path, {"report.html": page})
    out = tmp_path / "out"
    code, err = run("render", theme, out, capsys, report=public)
    assert code == 2
    assert err == [f"make-report: error: {theme / 'report.html'}: the page links a file to embed in the PDF "
                   f"({part_b.as_uri()}); themes may not attach files"]
    assert not out.exists()


def test_attachment_markup_in_report_text_is_only_text(tmp_path, capsys):
    """Report text that looks like an attachment link is escaped: the PDF renders, with no embedded file."""
    report = tmp_path / "r.yaml"
    hostile = '<link rel="attachment" href="r.yaml"> <a rel=attachment href=r.yaml>x</a>'
    text = PUBLIC.read_text(encoding="utf-8").replace("\ntitle: ", f"\ntitle: {hostile} ", 1)
    report.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["render", str(report), "-o", str(out), "--format", "pdf", "--quiet"]) == 0, capsys.readouterr().err
    with pikepdf.open(out / "r.pdf") as pdf:
        assert len(pdf.attachments) == 0 and "/EmbeddedFiles" not in pdf.Root.get("/Names", {})
        assert not any(annot.get("/Subtype") == "/FileAttachment" for page in pdf.pages
                       for annot in page.get("/Annots", []))


# ----------------------------------------------------------------------------- exhaustion
DOS_TEXT = [
    ("{{ 9 ** 99999999 }}", "a number the template builds is too big"),
    ("{{ 'x' * 10**9 }}", "a value the template builds is too big"),
    ("{{ range(10**9) | list }}", "range() may give at most"),
    ("{{ '%999999999d' % 1 }}", "a % format would print more than"),
    ("{{ 'x' | center(10**9) }}", "a width of 1,000,000,000 is more than"),
    ("{{ '{0}'.format_map({}) }}", "access to attribute 'format_map' of 'str' object is unsafe."),
    ("{{ '{:>999999999}'.format(1) }}", "access to attribute 'format' of 'str' object is unsafe."),
    ("{% set a = 'x' * 1000000 %}{% set b = a ~ a %}{% set c = b ~ b %}{% set d = c ~ c %}{% set e = d ~ d %}"
     "{% set f = e ~ e %}{{ f ~ f }}", "a string the template builds is too long"),
    ("{% for a in range(100000) %}{% for b in range(100000) %}{{ b }}{% endfor %}{% endfor %}",
     "the template does too much work"),
    ("{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('x') }}", "a string the template builds is too long"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "templates call or include each other too deeply"),
    ("{% include 'report.html' %}", "a theme.yaml text template cannot include, import or extend"),
    ("{% import 'blocks.html' as b %}", "a theme.yaml text template cannot include, import or extend"),
    ("{% extends 'report.html' %}", "a theme.yaml text template cannot include, import or extend"),
    ("{{ 1 + 'a' }}", "unsupported operand type(s) for +: 'int' and 'str' (TypeError)"),
    ("{{ '%s %s' % ('a',) }}", "not enough arguments for format string (TypeError)"),
    ("{{ 1 // 0 }}", "integer division or modulo by zero (ZeroDivisionError)"),
    ("{{ 2.0 ** 100000 }}", "(OverflowError)"),
    ("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", "too deeply"),
]


@pytest.mark.parametrize("payload, reason", DOS_TEXT, ids=range(len(DOS_TEXT)))
def test_exhausting_text_template_is_a_located_error(tmp_path, capsys, monkeypatch, payload, reason):
    if "too much work" in reason:  # the step limit at a tenth: the same refusal, in a tenth of the time
        monkeypatch.setattr("cabinet_reports.sandbox.MAX_STEPS", 300_000)
    theme = theme_with(tmp_path, {"theme.yaml": title_block(payload)})
    code, err = run("check", theme, tmp_path / "out", capsys)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"make-report: error: {theme / 'theme.yaml'}:4: kinds.report.title_block[0][1]: "
                             "template error: "), err
    assert reason in err[0], err


DOS_HTML = [
    ('{% include "report.html" %}', "templates call or include each other too deeply"),
    ('{% include "a.html" %}', "templates call or include each other too deeply"),
    ("{{ 9 ** 99999999 }}", "a number the template builds is too big"),
    ("{% for i in range(10**9) %}{% endfor %}", "range() may give at most"),
    ("{{ doc.sections | batch(10**9, 'x') | list }}", "batch() and slice() take at most"),
    ("{{ doc.title.replace('', 'y' * 1000000) }}", "replace() would build more than"),
]


@pytest.mark.parametrize("payload, reason", DOS_HTML, ids=range(len(DOS_HTML)))
def test_exhausting_html_template_is_a_located_error(tmp_path, capsys, payload, reason):
    theme = theme_with(tmp_path, {"report.html": PAGE.format(payload=payload),
                                  "a.html": '{% include "b.html" %}\n', "b.html": '{% include "a.html" %}\n'})
    out = tmp_path / "out"
    code, err = run("render", theme, out, capsys)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"make-report: error: {theme}"), err
    assert reason in err[0], err
    assert not out.exists()


def test_huge_width_in_a_numbering_format_is_refused_when_the_theme_loads(tmp_path, capsys):
    numbering = "kinds:\n  report:\n    numbering:\n      paragraph: '{s}.{p:>300000000}'\n"
    theme = theme_with(tmp_path, {"theme.yaml": numbering})
    code, err = run("check", theme, tmp_path / "out", capsys)
    assert code == 2
    assert err == [f"make-report: error: {theme / 'theme.yaml'}:4: kinds.report.numbering.paragraph: "
                   "format spec ':>300000000' is not allowed here: use at most a fill, an alignment and a width "
                   "under 100 (such as '{n:02d}' or '{n:>3}') (got '{s}.{p:>300000000}')"]


@pytest.mark.parametrize("fmt, shown", [("{s}.{p:02d}", "1.01"), ("{s}.{p:>3}", "1.  1")])
def test_small_widths_in_numbering_formats_still_work(tmp_path, capsys, fmt, shown):
    from cabinet_reports import Theme, build, load_report

    theme = theme_with(tmp_path, {"theme.yaml": f"kinds:\n  report:\n    numbering:\n      paragraph: '{fmt}'\n"})
    assert shown in build(load_report(DUDLEY), Theme(theme)).numbered_labels()


def test_type_mismatch_in_a_numbering_format_is_refused_when_the_theme_loads(tmp_path, capsys):
    numbering = "kinds:\n  report:\n    numbering:\n      heading: '{number} {title:d}'\n"
    theme = theme_with(tmp_path, {"theme.yaml": numbering})
    code, err = run("check", theme, tmp_path / "out", capsys)
    assert code == 2
    assert err == [f"make-report: error: {theme / 'theme.yaml'}:4: kinds.report.numbering.heading: "
                   "not a valid format: Unknown format code 'd' for object of type 'str' (got '{number} {title:d}')"]


def test_missing_asset_is_located_at_the_template_line(tmp_path, capsys):
    theme = theme_with(tmp_path, {"report.html": PAGE.format(payload="{{ asset('fonts/nope.ttf') }}")})
    code, err = run("render", theme, tmp_path / "out", capsys)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"make-report: error: {theme / 'report.html'}:4: theme file 'fonts/nope.ttf' not found")
