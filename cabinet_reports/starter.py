"""Write a starter report: every section of the theme, in order, with its guidance, ready to fill in.

``make-report new FILE`` writes Markdown or YAML holding every cover field with a placeholder
that validates, and every section the theme knows, in the theme's order, each marked
mandatory or optional and preceded by the theme's guidance as a comment. The text is checked
(validated and numbered, exactly as ``make-report check`` does) before it is written, so a
starter always passes ``check``; placeholders read "[Insert …]" so they are easy to find.
The file is written atomically and never over an existing file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import textwrap
from pathlib import Path
from typing import Literal

from .atomic import atomic_write_bytes
from .document import build_document
from .errors import InputError, Problem
from .loader import Source, parse_text
from .models import Report
from .readers import parse_markdown
from .theme import SectionSpec, Theme
from .validation import validate

Kind = Literal["report", "note"]
Format = Literal["md", "yaml"]
FORMATS: dict[str, Format] = {".md": "md", ".markdown": "md", ".yaml": "yaml", ".yml": "yaml"}
WIDTH = 92


def _q(text: str) -> str:
    """Quote a YAML scalar (a JSON string is a valid YAML double-quoted scalar)."""
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str, indent: str = "", width: int = WIDTH) -> list[str]:
    return [indent + "# " + line for line in textwrap.wrap(text, width - len(indent) - 2)]


def _written_sections(theme: Theme) -> list[SectionSpec]:
    """Return the theme's sections a starter writes: all but the one the clearances table fills."""
    settings = theme.config.clearances
    table = settings.section if settings.print == "section" else None
    return [spec for spec in theme.config.sections if spec.key != table]


def _placeholder(spec: SectionSpec) -> str:
    name = spec.title.lower() if spec.title.isupper() else spec.title
    return f"[Insert the {name} section here.]"


def _status(spec: SectionSpec, kind: Kind) -> str:
    return "mandatory" if spec.required and kind == "report" else "optional: delete it if you do not need it"


def _cover(kind: Kind, today: dt.date) -> list[str]:
    """Return the cover fields as YAML lines, each with a placeholder that validates."""
    lines = [f"kind: {kind}", "council:", f"  name: {_q('[Insert the council name]')}"]
    if kind == "report":
        lines += ["meeting:",
                  "  body: Cabinet",
                  f"  date: {today.isoformat()}        # the meeting date, YYYY-MM-DD"]
    else:
        lines += [f"date: {today.isoformat()}          # the note's date, YYYY-MM-DD"]
    lines += [f"title: {_q('[Insert the title]')}"]
    if kind == "report":
        lines += [f"report_of: [{_q('[Insert the job title of the report author, e.g. the Director of Place]')}]"]
    lines += ["contact:",
              f"  name: {_q('[Insert the contact officer]')}",
              f"  role: {_q('[Insert their job title]')}",
              f"  phone: {_q('01234 567890')}",
              "  email: name@council.gov.uk"]
    if kind == "report":
        lines += ["wards: [All]                    # or the wards affected: [Castle, Priory]",
                  "key_decision: false             # or the forward plan reference, e.g. FP/123/25",
                  "classification: public          # or {status: exempt, paragraphs: [3]}"]
    lines += ["signatories:",
              f"  - {{name: {_q('[Insert the name of who signs]')}, title: {_q('[Insert their job title]')}}}"]
    return lines


def _theme_cover(theme: Theme, today: dt.date) -> list[str]:
    """Return the theme's own cover fields (theme.yaml cover_fields) as YAML lines with placeholders."""
    declared = theme.config.cover_fields
    if not declared:
        return []
    lines = ["cover:                          # the fields your theme adds"]
    for key, spec in declared.items():
        value = {"date": today.isoformat(), "bool": "false", "email": "name@council.gov.uk",
                 "list": f"[{_q(f'[Insert {spec.label.lower()}]')}]"}.get(spec.type, _q(f"[Insert {spec.label.lower()}]"))
        note = f"{spec.label} ({spec.type}, {'mandatory' if spec.required else 'optional'})"
        lines.append(f"  {key}: {value}".ljust(31) + f" # {note}")
    return lines


def _clearances(theme: Theme, kind: Kind, today: dt.date) -> list[str]:
    """Return the clearances the theme requires of every report, as YAML lines with placeholders.

    Dated today (the starter's meeting date) so that only the placeholders are left to find;
    the ones a key decision needs are named in a comment, as the starter is not a key decision.
    """
    settings = theme.config.clearances
    if kind != "report":
        return []
    always = settings.required_kinds(False)
    key_only = [k for k in settings.required_kinds(True) if k not in always]
    if not always and not key_only:
        return []
    lines = ["clearances:                     # who signed the report off, and when (YYYY-MM-DD)"]
    for key in always:
        label = settings.kinds.get(key, key)
        lines.append(f"  - {{kind: {key}, name: {_q(f'[Insert who cleared it for {label.lower()}]')}, "
                     f"role: {_q('[Insert their job title]')}, date: {today.isoformat()}}}")
    if key_only:
        lines += _comment("A key decision also needs: " + ", ".join(key_only) + ".", "  ")
    if not always:
        lines[0] = "clearances: []                  # who signed the report off, and when (YYYY-MM-DD)"
    return lines


def _intro(kind: Kind, theme: Theme, fmt: Format, name: str) -> list[str]:
    what = "report" if kind == "report" else "briefing note"
    text = (f"A starter {what} from `make-report new` (theme: {theme.config.name}). Replace every "
            "[Insert …] placeholder, delete the optional sections you do not need, then run "
            f"`make-report check {name}`.")
    if fmt == "yaml":
        text += " For completion and checking as you type, see \"Editor help\" in the README."
    return _comment(text)


def markdown_starter(theme: Theme, kind: Kind = "report", today: dt.date | None = None,
                     name: str = "report.md") -> str:
    """Return the text of a starter report in Markdown (front matter and one section per theme section)."""
    today = today or dt.date.today()
    lines = ["---", *_intro(kind, theme, "md", name), *_cover(kind, today), *_theme_cover(theme, today),
             *_clearances(theme, kind, today), "---", ""]
    paragraph = "numbered paragraph" if theme.kind(kind).numbering.numbered else "paragraph"
    lines += ["<!--", *textwrap.wrap(
        f"How to write the body: '# Title' starts a section; each paragraph is a {paragraph}; "
        "'## Heading' starts a sub-point; lines '(a) …', '(b) …' are lettered items and '- …' bullets; "
        "a pipe table is a table; '{#label}' at the end of a paragraph or heading labels it and "
        "[[label]] refers to it; '# Appendix: Title {#label}' starts an appendix. "
        "See \"Writing a report in Markdown\" in the README.", WIDTH), "-->", ""]
    sections = theme.config.sections
    for spec in _written_sections(theme):
        title = spec.title.capitalize() if spec.title.isupper() else spec.title
        # The reader finds a section by its title; name the key too where the title alone
        # would find another section (two sections with one title) or read as an appendix.
        first = next(s for s in sections if s.title.casefold() == spec.title.casefold())
        explicit = first is not spec or title.casefold().startswith("appendix")
        lines += [f"# {title}" + (f" {{#{spec.key}}}" if explicit else ""), ""]
        note = _status(spec, kind).capitalize() + "." + (f" {spec.guidance}" if spec.guidance else "")
        lines += ["<!-- " + "\n     ".join(textwrap.wrap(note, WIDTH - 5)) + " -->", ""]
        lines += [_placeholder(spec), ""]
    return "\n".join(lines)


def yaml_starter(theme: Theme, kind: Kind = "report", today: dt.date | None = None,
                 name: str = "report.yaml") -> str:
    """Return the text of a starter report in YAML, one section per theme section, guidance as comments."""
    today = today or dt.date.today()
    lines = [*_intro(kind, theme, "yaml", name), *_cover(kind, today), *_theme_cover(theme, today),
             *_clearances(theme, kind, today), "", "sections:"]
    for spec in _written_sections(theme):
        lines += _comment(f"{spec.title} ({_status(spec, kind)})." + (f" {spec.guidance}" if spec.guidance else ""),
                          "  ")
        lines += [f"  {spec.key}:", f"    - {_q(_placeholder(spec))}", ""]
    return "\n".join(lines)


def check_starter(text: str, fmt: Format, theme: Theme, name: str) -> Report:
    """Validate and number a starter's text as `make-report check` would; raise if it fails."""
    if fmt == "md":
        data, lines = parse_markdown(text, name, theme)
    else:
        data, lines = parse_text(text, name)
    report = validate(Report, data, Source(name, lines))
    build_document(report, theme)
    return report


def format_for(path: Path, fmt: str | None) -> Format:
    """Return the starter format for ``path``: ``fmt`` if given, else from the file's suffix."""
    by_suffix = FORMATS.get(path.suffix.lower())
    if fmt is None:
        if by_suffix is None:
            raise InputError(Problem("give the file a .md or .yaml suffix, or choose --format md or yaml",
                                     str(path)))
        return by_suffix
    if fmt not in ("md", "yaml"):
        raise InputError(Problem(f"unknown format '{fmt}' (choose md or yaml)", field="--format"))
    if by_suffix is not None and by_suffix != fmt:
        raise InputError(Problem(f"the file name ends in {path.suffix} but --format is {fmt}", str(path)))
    return fmt  # type: ignore[return-value]


def write_starter(path: str | Path, theme: Theme | None = None, kind: Kind = "report", fmt: str | None = None,
                  today: dt.date | None = None) -> Path:
    """Write a starter report to ``path`` (never over an existing file) and return the path."""
    path = Path(path)
    theme = theme or Theme()
    chosen = format_for(path, fmt)
    if kind not in ("report", "note"):
        raise InputError(Problem(f"unknown kind '{kind}' (choose report or note)", field="--kind"))
    if os.path.lexists(path):
        raise InputError(Problem("already exists: make-report new never overwrites a file; choose another name",
                                 str(path)))
    make = markdown_starter if chosen == "md" else yaml_starter
    text = make(theme, kind, today, path.name)
    check_starter(text, chosen, theme, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


__all__ = ["check_starter", "format_for", "markdown_starter", "write_starter", "yaml_starter"]
