"""Themes: one folder that drives every output format.

A theme folder holds ``theme.yaml`` (section order and headings, numbering formats, title
block and boilerplate wording as small Jinja text templates), the HTML templates and CSS for
PDF, ``reference.docx`` for DOCX, and fonts. A user's theme folder overrides any of these
files and falls back to the built-in theme for the rest, like Sphinx and MkDocs themes; its
``theme.yaml`` is merged key by key over the built-in one, so a council can rename one heading
without copying the rest.

Every template runs in Jinja's sandbox: themes may come from other councils, and a template
must not reach Python internals.
"""

from __future__ import annotations

import datetime as dt
import functools
import string
import traceback
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from .errors import Problem, ThemeError
from .linebreaks import breakable_html
from .loader import Source, format_field_path, parse_text, read_text
from .validation import problems_from


def builtin_theme_dir() -> Path:
    """Return the built-in theme folder (inside the wheel, or the repository's templates/)."""
    here = Path(__file__).resolve().parent
    installed = here / "templates"
    return installed if installed.is_dir() else here.parent / "templates"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SectionSpec(_Strict):
    """One section the theme knows: its key, heading title and whether it is mandatory."""

    key: str
    title: str
    required: bool = False


# The fields each format string may name. Formats run through str.format, which would
# otherwise let a theme reach attributes ("{s.__class__}") or crash on an unknown name.
FORMAT_FIELDS = {
    "heading": {"number", "title"}, "section": {"s"}, "paragraph": {"s", "p"}, "subpoint": {"s", "p", "q"},
    "letters": {"a", "A", "i", "I", "n"}, "bullet": set(), "appendix": {"n"},
    "appendix_heading": {"number", "title"}, "timeline": {"when"},
    "date_format": {"day", "day_ordinal", "month", "month_name", "month_short", "year", "weekday"},
}


def check_format(fmt: str, allowed: set[str]) -> str:
    """Return ``fmt`` if it is a str.format template naming only ``allowed`` fields."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(fmt) if name is not None]
    except ValueError as exc:
        raise ValueError(f"not a valid format: {exc}") from None
    for name, spec, conv in fields:
        if name not in allowed or "{" in (spec or "") or conv:
            names = ", ".join("{" + n + "}" for n in sorted(allowed)) or "none"
            raise ValueError(f"a format here may only use {names}")
    return fmt


class Numbering(_Strict):
    """How numbers and numbered headings read ("1.0 PURPOSE" or "1. Purpose")."""

    numbered: bool = True
    heading: str = "{number} {title}"
    section: str = "{s}.0"
    paragraph: str = "{s}.{p}"
    subpoint: str = "{s}.{p}.{q}"
    letters: list[str] = Field(default_factory=lambda: ["({a})", "({i})", "({A})"])
    bullet: str = "•"
    appendix: str = "Appendix {n}"
    appendix_heading: str = "{number}: {title}"
    timeline: str = "{when} - "

    @field_validator("heading", "section", "paragraph", "subpoint", "bullet", "appendix", "appendix_heading",
                     "timeline")
    @classmethod
    def _known_fields(cls, value: str, info: ValidationInfo) -> str:
        return check_format(value, FORMAT_FIELDS[info.field_name])

    @field_validator("letters")
    @classmethod
    def _known_letter_fields(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one letter format")
        return [check_format(v, FORMAT_FIELDS["letters"]) for v in value]


class KindSpec(_Strict):
    """Settings for one kind of document (a cabinet report, a briefing note)."""

    numbering: Numbering = Field(default_factory=Numbering)
    section_order: Literal["theme", "file"] = "theme"
    title_block: list[tuple[str, str]] = Field(default_factory=list)
    details: list[tuple[str, str]] = Field(default_factory=list)


class ThemeConfig(_Strict):
    """The parsed ``theme.yaml``."""

    name: str = "custom"
    date_format: str = "{day_ordinal} {month_name} {year}"
    sections: list[SectionSpec] = Field(default_factory=list)
    other_sections_before: str = "recommendations"
    kinds: dict[str, KindSpec] = Field(default_factory=dict)
    words: dict[str, str] = Field(default_factory=dict)

    @field_validator("date_format")
    @classmethod
    def _known_date_fields(cls, value: str) -> str:
        return check_format(value, FORMAT_FIELDS["date_format"])

    @field_validator("words")
    @classmethod
    def _page_footer_fields(cls, value: dict[str, str]) -> dict[str, str]:
        # The footer is the one word both renderers turn into page-number fields, so a typo
        # ("{pagez}") must fail when the theme loads, not print into a published PDF.
        if "page_footer" in value:
            check_format(value["page_footer"], {"page", "pages"})
        return value


def _deep_merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _deep_merge(base.get(key), value) if key in base else value
        return merged
    return over


def ordinal(n: int) -> str:
    """Return ``n`` with its English ordinal suffix (1st, 2nd, 3rd, 11th, 22nd)."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def join_and(items: Any, last: str = " and ") -> str:
    """Join items as prose: "A", "A and B", "A, B and C"."""
    items = [str(i) for i in items or [] if str(i)]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + last + items[-1]


@jinja2.pass_eval_context
def breakable(eval_ctx: jinja2.nodes.EvalContext, text: Any) -> str:
    """Mark URLs and long tokens as breakable anywhere in the PDF (see linebreaks.py)."""
    return breakable_html(str(text), eval_ctx.autoescape)


class Theme:
    """A resolved theme: its folders (user first, built-in last), config and Jinja environment."""

    def __init__(self, user_dir: str | Path | None = None):
        builtin = builtin_theme_dir()
        self.dirs: list[Path] = []
        if user_dir is not None:
            user = Path(user_dir)
            if not user.is_dir():
                raise ThemeError(Problem("theme folder not found", str(user)))
            self.dirs.append(user.resolve())
        self.dirs.append(builtin.resolve())
        self.config = self._load_config()
        self.env = ImmutableSandboxedEnvironment(
            loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in self.dirs]),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html", "xhtml", "j2"),
                                                default_for_string=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.text_env = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
        for env in (self.env, self.text_env):
            env.filters["join_and"] = join_and
            env.filters["ordinal"] = ordinal
        self.env.filters["breakable"] = breakable  # HTML only

    # ------------------------------------------------------------------ files
    def find(self, name: str) -> Path:
        """Return the first theme folder's copy of ``name`` (user theme before built-in)."""
        for d in self.dirs:
            candidate = d / name
            if candidate.is_file():
                return candidate
        raise ThemeError(Problem(f"theme file '{name}' not found in {', '.join(str(d) for d in self.dirs)}"))

    def _load_config(self) -> ThemeConfig:
        self._sources: list[tuple[Source, Any]] = []  # each theme.yaml read, user's first
        merged: dict[str, Any] = {}
        for d in reversed(self.dirs):  # built-in first, user's keys win
            path = d / "theme.yaml"
            if not path.is_file():
                continue
            data, lines = parse_text(read_text(path), str(path))
            if data is None:
                continue
            if not isinstance(data, dict):
                raise ThemeError(Problem("theme.yaml must be a mapping", str(path), 1))
            try:
                ThemeConfig.model_validate(data)  # checked alone first so errors name this file
            except ValidationError as exc:
                raise ThemeError(problems_from(exc, data, Source(str(path), lines), ThemeConfig)) from None
            merged = _deep_merge(merged, data)
            self._sources.insert(0, (Source(str(path), lines), data))
        try:
            return ThemeConfig.model_validate(merged)
        except ValidationError as exc:
            raise ThemeError(problems_from(exc, merged, Source("theme.yaml"), ThemeConfig)) from None

    def kind(self, name: str) -> KindSpec:
        """Return the settings for a document kind."""
        try:
            return self.config.kinds[name]
        except KeyError:
            raise ThemeError(Problem(f"the theme defines no document kind '{name}'", "theme.yaml")) from None

    def word(self, key: str) -> str:
        """Return a piece of boilerplate wording from the theme."""
        try:
            return self.config.words[key]
        except KeyError:
            raise ThemeError(Problem(f"the theme has no wording for '{key}'", "theme.yaml", field=f"words.{key}")) from None

    # ------------------------------------------------------------------ text
    def format_date(self, day: dt.date) -> str:
        """Format a date the theme's way ("16th March 2005")."""
        return self.config.date_format.format(
            day=day.day, day_ordinal=ordinal(day.day), month=day.month, month_name=day.strftime("%B"),
            month_short=day.strftime("%b"), year=day.year, weekday=day.strftime("%A"))

    def locate(self, key: tuple[str | int, ...]) -> tuple[str, int | None]:
        """Return the theme.yaml (user's before built-in) that sets ``key``, and its line."""
        for source, data in self._sources:
            node = data
            for part in key:
                if isinstance(node, dict) and part in node:
                    node = node[part]
                elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                    node = node[part]
                else:
                    break
            else:
                return source.name, source.line_of(key)
        return "theme.yaml", None

    @functools.lru_cache(maxsize=256)
    def _text_template(self, source: str) -> jinja2.Template:
        return self.text_env.from_string(source)

    def text(self, source: str, context: dict[str, Any], key: tuple[str | int, ...] = ()) -> str:
        """Render a theme text template (a title-block line, boilerplate) to plain text.

        ``key`` is where the template sits in theme.yaml (``("words", "exempt_reason")``), so
        an error names the file, line and field that hold it.
        """
        try:
            return " ".join(self._text_template(source).render(context).split())
        except jinja2.TemplateError as exc:
            message = exc.message if isinstance(exc, jinja2.TemplateSyntaxError) else str(exc)
            file, line = self.locate(key)
            raise ThemeError(Problem(f"template error: {message} in {source!r}", file, line,
                                     format_field_path(key) or None)) from None

    def render(self, name: str, context: dict[str, Any]) -> str:
        """Render a theme template file, turning template errors into located ThemeErrors."""
        try:
            return self.env.get_template(name).render(context)
        except jinja2.TemplateSyntaxError as exc:
            raise ThemeError(Problem(f"template error: {exc.message}", exc.filename or exc.name or name,
                                     exc.lineno)) from None
        except jinja2.TemplateError as exc:
            file, line = _template_frame(exc, name)
            raise ThemeError(Problem(f"template error: {exc}", file, line)) from None


def _template_frame(exc: BaseException, default: str) -> tuple[str, int | None]:
    """Return the template file and line where a rendering error happened."""
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if frame.filename and not frame.filename.endswith(".py") and frame.filename != "<template>":
            return frame.filename, frame.lineno
    return default, None


