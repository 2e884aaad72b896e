"""Themes: one folder that drives every output format.

A theme folder holds ``theme.yaml`` (section order and headings, numbering formats, title
block and boilerplate wording as small Jinja text templates), the HTML templates and CSS for
PDF, ``reference.docx`` for DOCX, and fonts. A user's theme folder overrides any of these
files and falls back to the built-in theme for the rest, like Sphinx and MkDocs themes; its
``theme.yaml`` is merged key by key over the built-in one, so a council can rename one heading
without copying the rest.

Themes may come from other councils, so their templates are untrusted: every template runs in
:class:`~cabinet_reports.sandbox.ThemeSandbox`, sees only plain data (:func:`Theme.text` and
:func:`Theme.render` pass every context through :func:`~cabinet_reports.sandbox.plain`), reads
only files inside its theme folder, and any failure while rendering one is a located ThemeError.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import string
import traceback
from pathlib import Path
from typing import Annotated, Any, Literal

import jinja2
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from .errors import CabinetReportsError, Problem, ThemeError
from .limits import FILE_BYTES
from .linebreaks import breakable_html, unbreakable
from .loader import Source, format_field_path, parse_text
from .sandbox import Helper, ThemeLoader, ThemeSandbox, decode_theme_text, plain, read_theme_file, theme_file
from .template_cache import compiled_templates
from .validation import problems_from


def builtin_theme_dir() -> Path:
    """Return the built-in theme folder (inside the wheel, or the repository's templates/)."""
    here = Path(__file__).resolve().parent
    installed = here / "templates"
    return installed if installed.is_dir() else here.parent / "templates"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SectionSpec(_Strict):
    """One section the theme knows: its key, heading title, whether it is mandatory, and guidance.

    ``guidance`` is the council's advice on what the section holds ("set out at least three
    options, including do nothing"); `make-report new` writes it as a comment, `make-report
    schema` as the section's hover text. It is never printed in a report.
    """

    key: str
    title: str
    required: bool = False
    guidance: str | None = None
    # None: as the document kind's numbering says. False: an unnumbered section; the
    # numbered ones are still counted from 1.
    numbered: bool | None = None
    # "cover-top" (before the header table), "cover" (after it) or "body". Cover sections
    # are never numbered.
    place: Literal["cover-top", "cover", "body"] = "body"
    # Draw the section as a bordered box ("Note: exempt information").
    box: bool = False
    # Marker formats of lettered lists in this section, by nesting level, e.g. ["{n}.", "{a}."]
    # for recommendations numbered 1., 2. with a., b. beneath.
    letters: list[str] | None = None

    @field_validator("letters")
    @classmethod
    def _letter_formats(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        if not value:
            raise ValueError("give at least one letter format")
        return [check_format(v, FORMAT_FIELDS["letters"]) for v in value]


class CoverField(_Strict):
    """A cover field a theme declares; reports fill it in under ``cover:``."""

    label: str
    type: Literal["text", "date", "list", "bool", "email"] = "text"
    required: bool = False


# The fields each format string may name. Formats run through str.format, which would
# otherwise let a theme reach attributes ("{s.__class__}") or crash on an unknown name.
FORMAT_FIELDS = {
    "heading": {"number", "title"}, "section": {"s"}, "paragraph": {"s", "p"}, "subpoint": {"s", "p", "q"},
    "letters": {"a", "A", "i", "I", "n"}, "bullet": set(), "appendix": {"n", "a", "A", "i", "I"},
    "appendix_heading": {"number", "title"}, "appendix_list": {"number", "title"}, "timeline": {"when"},
    "date_format": {"day", "day_ordinal", "month", "month_name", "month_short", "year", "weekday"},
}


# The format specs a numbering or date format may use: an optional fill and alignment, a zero and
# a width of at most two digits, and d or s ("{n:02d}", "{s:>3}"). A bigger width
# ("{p:>300000000}") would build a string of that size for every number.
_FORMAT_SPEC = re.compile(r"(?:[^{}]?[<>^])?0?[0-9]{0,2}[ds]?")
# The type of each field's value, to try a format once when the theme loads.
_SAMPLE = {"number": "1.0", "title": "Title", "a": "a", "A": "A", "i": "i", "I": "I", "when": "May",
           "day_ordinal": "1st", "month_name": "May", "month_short": "May", "weekday": "Monday"}


def check_format(fmt: str, allowed: set[str]) -> str:
    """Return ``fmt`` if it is a str.format template naming only ``allowed`` fields with small specs."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(fmt) if name is not None]
    except ValueError as exc:
        raise ValueError(f"not a valid format: {exc}") from None
    for name, spec, conv in fields:
        if name not in allowed or "{" in (spec or "") or conv:
            names = ", ".join("{" + n + "}" for n in sorted(allowed)) or "none"
            raise ValueError(f"a format here may only use {names}")
        if spec and not _FORMAT_SPEC.fullmatch(spec):
            raise ValueError(f"format spec ':{spec}' is not allowed here: use at most a fill, an alignment "
                             "and a width under 100 (such as '{n:02d}' or '{n:>3}')")
    try:
        fmt.format(**{name: _SAMPLE.get(name, 1) for name in allowed})
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a valid format: {exc}") from None
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
    # One line of an appendix_list block ("Appendix A – Action plan").
    appendix_list: str = "{number} – {title}"
    timeline: str = "{when} - "

    @field_validator("heading", "section", "paragraph", "subpoint", "bullet", "appendix", "appendix_heading",
                     "appendix_list", "timeline")
    @classmethod
    def _known_fields(cls, value: str, info: ValidationInfo) -> str:
        return check_format(value, FORMAT_FIELDS[info.field_name])

    @field_validator("letters")
    @classmethod
    def _known_letter_fields(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one letter format")
        return [check_format(v, FORMAT_FIELDS["letters"]) for v in value]


class DetailRows(_Strict):
    """Header-table rows repeated for each element of a list (one row per contact officer).

    ``each`` names a list of the title context (contacts, meetings, portfolio_holder …);
    ``cells`` are text templates that see the element as ``item``. The label heads the
    first row and spans the others.
    """

    label: str
    each: str
    cells: list[str] = Field(min_length=1)


class KindSpec(_Strict):
    """Settings for one kind of document (a cabinet report, a briefing note)."""

    numbering: Numbering = Field(default_factory=Numbering)
    section_order: Literal["theme", "file"] = "theme"
    title_block: list[tuple[str, str]] = Field(default_factory=list)
    # Rows of the header table: [label, cell, cell …]; a cell's lines are separated by "\n".
    details: list[list[str] | DetailRows] = Field(default_factory=list)
    # Print the title as a heading before the body (after the cover area) as well.
    title_before_body: bool = False

    @field_validator("details")
    @classmethod
    def _rows_have_cells(cls, value: list[list[str] | DetailRows]) -> list[list[str] | DetailRows]:
        for i, row in enumerate(value):
            if isinstance(row, list) and len(row) < 2:
                raise ValueError(f"row {i + 1} needs a label and at least one cell: [label, value]")
        return value


def _identifier_keys(value: dict, what: str) -> dict:
    """Refuse keys a template could not name plainly (``cover.call_in``, a clearance kind)."""
    for key in value:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", key):
            raise ValueError(f"{what} '{key}' must be lower-case letters, digits and _")
    return value


class RequiredClearance(_Strict):
    """A clearance every report needs (``when: always``) or only a key decision (``when: key_decision``)."""

    kind: str
    when: Literal["always", "key_decision"] = "always"


# What a clearance table column (or header-table cell) can show of each clearance.
CLEARANCE_FIELDS = ("kind", "name", "role", "date", "reference", "note")


class ClearanceSettings(_Strict):
    """The ``clearances:`` key of theme.yaml: which sign-offs a report needs, their labels, and how they print.

    ``kinds`` maps each kind a report may name to its printed label (the built-in theme.yaml
    lists finance, legal, portfolio_holder, chief_executive, hr, procurement and equalities;
    a theme adds its own). ``print`` is ``none`` (the default: the record is kept and checked,
    not printed), ``section`` (a table at the end of the theme section ``section``) or
    ``details`` (rows of the header table under ``label``). Missing, undated and late
    clearances are the lint check ``clearances`` (its severity is set under ``lint.checks``).
    """

    kinds: dict[str, str] = Field(default_factory=dict)
    required: list[str | RequiredClearance] = Field(default_factory=list)
    print: Literal["none", "section", "details"] = "none"
    section: str | None = None
    label: str = "Clearances"
    columns: list[tuple[Literal[CLEARANCE_FIELDS], str]] = Field(
        default_factory=lambda: [("kind", "Clearance"), ("name", "Name"), ("role", "Role"), ("date", "Date")],
        min_length=1)
    # Relative widths of the table's columns (print: section), e.g. [2, 3, 3, 2]; none: sized by content.
    widths: list[Annotated[float, Field(gt=0, le=1000)]] | None = None

    @field_validator("kinds")
    @classmethod
    def _kind_keys(cls, value: dict[str, str]) -> dict[str, str]:
        return _identifier_keys(value, "clearance kind")

    @model_validator(mode="after")
    def _widths_fit_columns(self) -> "ClearanceSettings":
        if self.widths is not None and len(self.widths) != len(self.columns):
            raise ValueError(f"widths gives {len(self.widths)} columns but columns has {len(self.columns)}")
        return self

    def required_kinds(self, key_decision: bool) -> list[str]:
        """Return the kinds a report needs: every ``always`` one, and the ``key_decision`` ones if it is one."""
        out = []
        for entry in self.required:
            spec = RequiredClearance(kind=entry) if isinstance(entry, str) else entry
            if spec.when == "always" or key_decision:
                out.append(spec.kind)
        return list(dict.fromkeys(out))


# The report checks `make-report check` runs (see lint.py), each set to one severity.
LINT_CHECKS = ("sections", "length", "word_count", "readability", "acronyms", "placeholders", "link_text",
               "forward_plan", "background_papers", "clearances", "split_names")
Severity = Literal["error", "warning", "off"]


class LintSettings(_Strict):
    """The ``lint:`` key of theme.yaml: which report checks run, their severity, and their limits.

    The built-in theme.yaml holds the real defaults; these only make a bare ``lint: {}`` valid.
    """

    checks: dict[Literal[LINT_CHECKS], Severity] = Field(default_factory=dict)  # a check not named is off
    expected_sections: list[str] = Field(default_factory=list)  # besides the theme's required ones
    max_sides: int | None = Field(default=None, ge=1)  # A4 sides before the first appendix
    max_words: dict[str, int] = Field(default_factory=dict)  # section key -> words
    min_reading_ease: float = 30.0  # Flesch reading ease, per section
    readability_min_words: int = Field(default=40, ge=1)  # shorter sections are not scored
    longest_sentences: int = Field(default=2, ge=0)  # how many to quote when a section reads hard
    acronyms: dict[str, str | None] = Field(default_factory=dict)  # known ones: need no spelling out
    placeholders: list[str] = Field(default_factory=list)
    vague_link_text: list[str] = Field(default_factory=list)
    papers_section: str = "background_papers"

    @field_validator("checks", mode="before")
    @classmethod
    def _unquoted_off(cls, value: Any) -> Any:
        # YAML reads an unquoted `off` as false; a council writing `length: off` means "off".
        if isinstance(value, dict):
            return {key: "off" if severity is False else severity for key, severity in value.items()}
        return value


class ThemeConfig(_Strict):
    """The parsed ``theme.yaml``."""

    name: str = "custom"
    date_format: str = "{day_ordinal} {month_name} {year}"
    sections: list[SectionSpec] = Field(default_factory=list)
    other_sections_before: str = "recommendations"
    kinds: dict[str, KindSpec] = Field(default_factory=dict)
    words: dict[str, str] = Field(default_factory=dict)
    lint: LintSettings = Field(default_factory=LintSettings)
    # Extra cover fields reports fill in under `cover:` (key: {label, type, required}).
    cover_fields: dict[str, CoverField] = Field(default_factory=dict)

    @field_validator("cover_fields")
    @classmethod
    def _cover_keys(cls, value: dict[str, CoverField]) -> dict[str, CoverField]:
        return _identifier_keys(value, "cover field key")
    # Papers are printed: the PDF shows each web link's address after its text.
    print_link_urls: bool = False
    # The sign-off record: kinds, which are required, and whether they print.
    clearances: ClearanceSettings = Field(default_factory=ClearanceSettings)

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


_GENERATIONS = itertools.count(1)


class Theme:
    """A resolved theme: its folders (user first, built-in last), config and Jinja environments."""

    def __init__(self, user_dir: str | Path | None = None, *, compiled_cache: bool = False):
        """Resolve the theme in ``user_dir`` over the built-in one.

        ``compiled_cache`` keeps the compiled templates in the user's cache folder for the next
        process (template_cache.py; the command line's choice, ``render --no-cache`` refuses it).
        """
        # Tells a PDF worker process (renderers/pdf_worker.py), which sees only the folders,
        # that this is a new Theme: its files may have changed since the last one.
        self.generation = next(_GENERATIONS)
        builtin = builtin_theme_dir()
        self.dirs: list[Path] = []
        if user_dir is not None:
            user = Path(user_dir)
            if not user.is_dir():
                raise ThemeError(Problem("theme folder not found", str(user)))
            self.dirs.append(user.resolve())
        self.dirs.append(builtin.resolve())
        self.config = self._load_config()
        # Both environments come from the sandbox, which owns what a template may see and call.
        self.env = ThemeSandbox(
            loader=ThemeLoader(self.dirs),
            bytecode_cache=compiled_templates() if compiled_cache else None,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html", "xhtml", "j2"),
                                                default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.text_env = ThemeSandbox(text=True, autoescape=False)
        for env in (self.env, self.text_env):
            env.add_filter("join_and", join_and)
            env.add_filter("ordinal", ordinal)
        self.env.add_function("asset", self.asset)
        self.env.add_filter("breakable", breakable)  # HTML only
        self.env.tests["unbreakable"] = unbreakable  # a plain predicate on text: no work to bound

    # ------------------------------------------------------------------ files
    def find(self, name: str) -> Path:
        """Return the first theme folder's copy of ``name`` (user theme before built-in).

        The path returned is the file's real path; a theme file that is a symlink to somewhere
        outside its theme folder is a ThemeError, not a way to read that file.
        """
        for d in self.dirs:
            real = theme_file(d, name)
            if real is not None and real.is_file():
                return real
        raise ThemeError(Problem(f"theme file '{name}' not found in {', '.join(str(d) for d in self.dirs)}"))

    def asset(self, name: str) -> str:
        """Return the file: URL of a theme file, for templates (``{{ asset('fonts/x.ttf') }}``)."""
        return self.find(str(name)).as_uri()

    def _load_config(self) -> ThemeConfig:
        self._sources: list[tuple[Source, Any]] = []  # each theme.yaml read, user's first
        merged: dict[str, Any] = {}
        for d in reversed(self.dirs):  # built-in first, user's keys win
            found = read_theme_file(d, "theme.yaml", FILE_BYTES)
            if found is None:
                continue
            shown, raw = found
            path = Path(shown)
            data, lines = parse_text(decode_theme_text(raw, shown), shown)
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
            config = ThemeConfig.model_validate(merged)
        except ValidationError as exc:
            raise ThemeError(problems_from(exc, merged, Source("theme.yaml"), ThemeConfig)) from None
        self._check_clearances(config)
        return config

    def _check_clearances(self, config: ThemeConfig) -> None:
        """Check what ``clearances:`` names against the merged theme (a key may come from either file)."""
        settings, problems = config.clearances, []

        def problem(message: str, key: tuple[str | int, ...]) -> None:
            file, line = self.locate(("clearances",) + key)
            problems.append(Problem(message, file, line, format_field_path(("clearances",) + key)))
        for i, entry in enumerate(settings.required):
            kind = entry if isinstance(entry, str) else entry.kind
            if kind not in settings.kinds:
                problem(f"'{kind}' is not a clearance kind of the theme (kinds: {', '.join(settings.kinds) or 'none'})",
                        ("required", i))
        sections = [s.key for s in config.sections]
        if settings.print == "section" and settings.section not in sections:
            problem("print: section needs `section:` to name one of the theme's sections "
                    f"({', '.join(sections) or 'none'}); the clearances table is printed at its end", ("section",))
        if problems:
            raise ThemeError(problems)

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

        The context is converted to plain data first, whoever calls. ``key`` is where the
        template sits in theme.yaml (``("words", "exempt_reason")``), so any error, from a
        syntax error to a template that exhausts a limit, names the file, line and field.
        """
        data = plain(context)  # outside the try: a context that is not data is the caller's bug
        try:
            return " ".join(self._text_template(source).render(data).split())
        except Exception as exc:  # noqa: BLE001 - the theme door: every failure becomes a located error
            file, line = self.locate(key)
            message = f"template error: {_explain(exc)} in {_shorten(source)!r}"
            raise ThemeError(Problem(message, file, line, format_field_path(key) or None)) from None

    def lines(self, source: str, context: dict[str, Any], key: tuple[str | int, ...] = ()) -> list[str]:
        """Render a theme text template to its non-empty lines (a header-table cell's stacked lines).

        Lines are split at newlines the template prints (``{{ names | join('\\n') }}``); each
        line's whitespace is collapsed as in :meth:`text`. The same door as :meth:`text`: plain
        data in, every failure a located ThemeError.
        """
        data = plain(context)
        try:
            rendered = self._text_template(source).render(data)
        except Exception as exc:  # noqa: BLE001 - the theme door: every failure becomes a located error
            file, line = self.locate(key)
            message = f"template error: {_explain(exc)} in {_shorten(source)!r}"
            raise ThemeError(Problem(message, file, line, format_field_path(key) or None)) from None
        return [line for line in (" ".join(part.split()) for part in rendered.split("\n")) if line]

    def render(self, name: str, context: dict[str, Any], helpers: dict[str, Any] | None = None) -> str:
        """Render a theme template file to HTML, turning every failure into a located ThemeError.

        The context is converted to plain data first (a caller's ``asset`` helper is replaced by
        the theme's own), and HTML that would make WeasyPrint embed a file is refused.
        """
        data = plain({key: value for key, value in context.items() if key != "asset"})
        # Functions our own renderers lend this one render (the web page's font embedder).
        data.update({key: Helper(func) for key, func in (helpers or {}).items()})
        try:
            html = self.env.get_template(name).render(data)
        except CabinetReportsError as exc:  # a theme file refused while rendering (an asset, an include)
            file, line = _template_frame(exc, name)
            # A problem that names its own file (a symlinked include) keeps it; others get the template's.
            raise type(exc)([p if p.file else Problem(p.message, file, line, p.field) for p in exc.problems]) from None
        except jinja2.TemplateSyntaxError as exc:
            raise ThemeError(Problem(f"template error: {exc.message}", exc.filename or exc.name or name,
                                     exc.lineno)) from None
        except Exception as exc:  # noqa: BLE001 - the theme door: every failure becomes a located error
            file, line = _template_frame(exc, name)
            raise ThemeError(Problem(f"template error: {_explain(exc)}", file, line)) from None
        from . import attachments  # WeasyPrint is imported only for a page with a rel attribute

        links = attachments.attachment_links(html)
        if links:
            raise ThemeError(Problem(f"the page links a file to embed in the PDF ({_shorten(links[0])}); "
                                     "themes may not attach files", str(self._template_path(name))))
        return html

    def _template_path(self, name: str) -> Path | str:
        try:
            return self.find(name)
        except ThemeError:
            return name


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _explain(exc: BaseException) -> str:
    """Return a one-line reason for a template failure, whatever exception it raised."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.message or str(exc)
    if isinstance(exc, jinja2.TemplateError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "templates call or include each other too deeply (does one include or call itself?)"
    if isinstance(exc, MemoryError):
        return "the template needs more memory than there is"
    # Python names the sandbox's plain containers in its own messages: say dict, list, tuple.
    text = re.sub(r"\bPlain(Dict|List|Tuple)\b", lambda m: m.group(1).lower(), str(exc))
    return _shorten(f"{text} ({type(exc).__name__})", 300)


def _template_frame(exc: BaseException, default: str) -> tuple[str, int | None]:
    """Return the template file and line where a rendering error happened."""
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if frame.filename and not frame.filename.endswith(".py") and frame.filename != "<template>":
            return frame.filename, frame.lineno
    return default, None


