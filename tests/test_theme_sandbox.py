"""Themes are sandboxed: a theme from another council cannot run code or read local files.

Each hostile theme is a temporary folder passed to the real command line with ``--theme``.
The render must stop with exit code 2 and one located line naming the theme file and line,
and the payload must not have run. A control renders the same payload with a plain,
unsandboxed Jinja environment and shows that it *does* run there, so the test is not vacuous.
"""

from __future__ import annotations

import io
from pathlib import Path

import jinja2
import pikepdf
import pytest

from cabinet_reports.cli import main
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
                   "unknown field 'requird' (did you mean 'required'?)"]


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


def test_a_theme_cannot_attach_or_read_local_files(tmp_path, capsys):
    """A theme page that links local files outside its folder gets nothing into the PDF."""
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("TOKEN-4f1c9e0a7d\n", encoding="utf-8")
    theme = tmp_path / "theme"
    theme.mkdir()
    page = (builtin_theme_dir() / "report.html").read_text(encoding="utf-8")
    page = page.replace("</head>", f'<link rel="attachment" href="{secret.as_uri()}">\n'
                                   '<link rel="attachment" href="file:///etc/passwd">\n'
                                   f'<style>@import url({secret.as_uri()});</style>\n</head>')
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
