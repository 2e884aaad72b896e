"""What a theme template may see and call: plain data, an allow-list, limits, and its own folder.

Themes come from other councils, so every theme template (``report.html`` and the other HTML
files, and the text templates in ``theme.yaml``) is untrusted code. This module is the one place
that says what such code can reach:

* **Data, not objects.** :func:`plain` turns every context value into dicts, lists, tuples,
  strings, numbers, booleans, ``None`` and dates. No pydantic model, dataclass or path crosses
  into a template, so there is no method to call (``council.parse_file(...)``) and no class to
  climb (``council.__class__``).
* **An allow-list of callables.** :class:`ThemeSandbox` refuses every call except the theme's
  own macros and blocks, the registered filters and tests, the functions the theme registers
  (``asset``, ``range``, ``dict``), and a few read-only methods of the plain data types
  (:data:`STR_METHODS`, :data:`DICT_METHODS`, :data:`DATE_METHODS`). Names starting with ``_``
  are never readable.
* **Limits.** A template cannot build a value or an output big enough to exhaust memory or
  time: ``9 ** 99999999``, ``'x' * 10**9``, ``range(10**9)``, ``'%999999999d' % 1``, a value
  doubled by chained ``{% set %}``, or loops nested a thousand times over are refused with a
  :class:`TemplateLimit`, quickly. The limits are the ``MAX_*`` constants below.
* **Files.** :class:`ThemeLoader` reads templates only from inside their theme folder: a path
  whose real location (after symlinks) is outside the folder is refused, and it is opened with
  ``O_NOFOLLOW`` like :mod:`cabinet_reports.fetcher` does. :func:`theme_file` applies the same
  rule to any other theme file (``theme.yaml``, ``reference.docx``, fonts).

Text templates (``theme.yaml``) get no loader, and ``include``, ``import`` and ``extends`` in
them are refused when they are compiled.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as dt
import enum
import functools
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path, PurePath
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.loaders import split_template_path
from jinja2.runtime import BlockReference, LoopContext, Macro, TemplateReference, Undefined
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import _PassArg
from jinja2.visitor import NodeTransformer
from markupsafe import Markup
from pydantic import BaseModel

from .errors import Problem, ThemeError

__all__ = ["MAX_OUTPUT", "MAX_RANGE", "MAX_SIZE", "MAX_STEPS", "MAX_TEMPLATE_BYTES", "PlainDict", "PlainList",
           "PlainTuple", "TemplateLimit", "ThemeLoader", "ThemeSandbox", "decode_theme_text", "plain",
           "read_theme_file", "theme_file", "weigh"]

# ----------------------------------------------------------------------------- limits
#: Characters in one string a template builds, and the printed size of one list or dict it builds
#: (shared parts counted each time they would print). The largest legitimate value is one
#: section's HTML, a few hundred thousand characters even in a 400-page pack.
MAX_SIZE = 16_000_000
#: Nesting depth of a list, tuple or dict a template builds.
MAX_DEPTH = 100
#: Items in a ``range()``, and the counts given to ``batch`` and ``slice``.
MAX_RANGE = 100_000
#: Bits in an integer that ``*`` or ``**`` may produce (a 1,233-digit number).
MAX_INT_BITS = 4096
#: Work one render may do: loop iterations, attribute look-ups, calls, operators, filters and
#: prints, the filters and operators also charged one step per 64 characters or items they
#: handle. A 15-page report takes about 15,000 steps, so this allows a report of thousands of
#: pages, and stops a runaway template within seconds.
MAX_STEPS = 3_000_000
#: Characters one render may print with ``{{ … }}`` (macro output counts each time it is printed).
MAX_OUTPUT = 64_000_000
#: Bytes in one theme template file.
MAX_TEMPLATE_BYTES = 2_000_000

#: Methods of strings (and Markup) a template may call; all read-only.
STR_METHODS = frozenset({"upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip",
                         "startswith", "endswith", "replace", "split", "join"})
#: Methods of dicts a template may call.
DICT_METHODS = frozenset({"items", "keys", "values", "get"})
#: Attributes and methods of dates a template may use.
DATE_ATTRIBUTES = frozenset({"year", "month", "day"})
DATE_METHODS = frozenset({"strftime", "isoformat", "weekday", "isoweekday"})
#: What ``loop`` offers inside a ``{% for %}``.
LOOP_ATTRIBUTES = frozenset({"index", "index0", "revindex", "revindex0", "first", "last", "length",
                             "depth", "depth0", "previtem", "nextitem"})
LOOP_METHODS = frozenset({"cycle", "changed"})

_LOOP_FILTER = "_sandbox_loop"  # wraps every {% for %} iterable: counts iterations
_SIZE_FILTER = "_sandbox_size"  # wraps every list/tuple/dict literal and ~ concatenation


class TemplateLimit(jinja2.sandbox.SecurityError):
    """A template went past one of the sandbox's limits (size, steps, output)."""


# ----------------------------------------------------------------------------- plain data
class PlainDict(dict):
    """A dict :func:`plain` made; ``weight`` is its printed size, known from the start."""

    __slots__ = ("weight",)


class PlainList(list):
    """A list :func:`plain` made; ``weight`` is its printed size."""

    __slots__ = ("weight",)


class PlainTuple(tuple):
    """A tuple :func:`plain` made; ``weight`` (in its __dict__: tuples take no slots) is its printed size."""


_PLAIN_CONTAINERS = (PlainDict, PlainList, PlainTuple)
_SCALARS = frozenset({str, int, float, bool, type(None), Markup, dt.date, dt.datetime, dt.time})


@functools.lru_cache(maxsize=None)
def _properties(cls: type) -> tuple[str, ...]:
    """Return the public properties a project class declares (``Classification.exempt``)."""
    names: list[str] = []
    for klass in cls.__mro__:
        if klass in (BaseModel, object) or klass.__module__.startswith("pydantic"):
            continue
        for name, attr in vars(klass).items():
            if (isinstance(attr, (property, functools.cached_property)) and not name.startswith("_")
                    and name not in names):
                names.append(name)
    return tuple(names)


@functools.lru_cache(maxsize=None)
def _fields(cls: type) -> tuple[str, ...]:
    if issubclass(cls, BaseModel):
        fields = tuple(cls.model_fields)
    else:
        fields = tuple(f.name for f in dataclasses.fields(cls))
    return fields + tuple(p for p in _properties(cls) if p not in fields)


def _leaf_weight(value: Any) -> int:
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, _PLAIN_CONTAINERS):
        return value.weight
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    return 8


def plain(value: Any) -> Any:
    """Convert a context value into plain data for a template: the only kind a template sees.

    Pydantic models and dataclasses become dicts of their fields (and public properties),
    lists stay lists, tuples tuples, sets sorted lists, enums their values, paths strings;
    strings, numbers, booleans, ``None``, Markup and dates pass through. Objects met twice are
    converted once. Anything else (a function, a file) is a programming error: ``TypeError``.
    """
    return _Plain().convert(value)


class _Plain:
    """One conversion: a memo of what was met, and a converter per type, chosen once per type."""

    def __init__(self) -> None:
        # id -> (original, converted): the original is kept so its id cannot be reused by a
        # temporary (a property's fresh list) during this conversion.
        self.memo: dict[int, tuple[Any, Any]] = {}

    def convert(self, value: Any) -> Any:
        kind = type(value)
        if kind in _SCALARS:
            return value
        seen = self.memo.get(id(value))
        if seen is not None:
            return seen[1]
        how = _HOW.get(kind)
        if how is None:
            how = _HOW[kind] = _how(kind)
        return how(self, value)

    def _list(self, value: Any) -> PlainList:
        items = PlainList()
        items.weight = 0
        self.memo[id(value)] = (value, items)
        convert, weight = self.convert, 2
        for item in value:
            item = convert(item)
            items.append(item)
            weight += 2 + _leaf_weight(item)
        items.weight = weight
        return items

    def _tuple(self, value: tuple) -> PlainTuple:
        converted = PlainTuple(self.convert(item) for item in value)
        converted.weight = 2 + sum(2 + _leaf_weight(item) for item in converted)
        self.memo[id(value)] = (value, converted)
        return converted

    def _set(self, value: Any) -> PlainList:
        members = [self.convert(item) for item in value]
        try:
            members.sort()
        except TypeError:
            members.sort(key=repr)
        return self._list(members)

    def _mapping(self, value: dict) -> PlainDict:
        return self._record(value, value.items())

    def _object(self, value: Any) -> PlainDict:
        return self._record(value, _field_values(value))

    def _record(self, value: Any, pairs: Any) -> PlainDict:
        record = PlainDict()
        record.weight = 0
        self.memo[id(value)] = (value, record)
        convert, weight = self.convert, 2
        for key, item in pairs:
            key, item = convert(key), convert(item)
            record[key] = item
            weight += 2 + _leaf_weight(key) + _leaf_weight(item)
        record.weight = weight
        return record


def _field_values(value: Any) -> Iterator[tuple[str, Any]]:
    for name in _fields(type(value)):
        try:
            yield name, getattr(value, name)
        except Exception:  # noqa: BLE001 - a property that cannot answer is left out
            continue


def _refuse(_: _Plain, value: Any) -> Any:
    kind = type(value)
    raise TypeError(f"a {kind.__module__}.{kind.__qualname__} cannot be given to a theme template")


def _how(kind: type) -> Callable[[_Plain, Any], Any]:
    """Choose how values of one type become plain data (once per type)."""
    if issubclass(kind, enum.Enum):
        return lambda conv, value: conv.convert(value.value)
    for base in (bool, str, int, float):  # subclasses become the plain type
        if issubclass(kind, base):
            return lambda conv, value, base=base: base(value)
    if issubclass(kind, (dt.date, dt.time)):
        return lambda conv, value: value
    if issubclass(kind, PurePath):
        return lambda conv, value: str(value)
    if issubclass(kind, dict):
        return _Plain._mapping
    if issubclass(kind, BaseModel) or dataclasses.is_dataclass(kind):
        return _Plain._object
    if issubclass(kind, list):
        return _Plain._list
    if issubclass(kind, tuple):
        return _Plain._tuple
    if issubclass(kind, (set, frozenset)):
        return _Plain._set
    return _refuse


_HOW: dict[type, Callable[[_Plain, Any], Any]] = {}


# ----------------------------------------------------------------------------- budgets
class _Budget:
    """Work and output one top-level render has used."""

    __slots__ = ("steps", "output")

    def __init__(self) -> None:
        self.steps = 0
        self.output = 0


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("cabinet_reports_template_budget",
                                                                         default=None)


def _step(n: int = 1) -> None:
    budget = _budget.get()
    if budget is not None:
        budget.steps += n
        if budget.steps > MAX_STEPS:
            raise TemplateLimit(f"the template does too much work (more than {MAX_STEPS:,} steps); "
                                "is a loop nested too deep?")


def _count_output(value: Any) -> Any:
    """Charge what ``{{ … }}`` prints to the render's output budget (Jinja's ``finalize``)."""
    budget = _budget.get()
    if budget is not None and not isinstance(value, Undefined):
        _step()
        budget.output += len(value) if isinstance(value, str) else len(str(value))
        if budget.output > MAX_OUTPUT:
            raise TemplateLimit(f"the template prints more than {MAX_OUTPUT:,} characters")
    return value


def _cost(value: Any) -> int:
    return len(value) // 64 if isinstance(value, (str, list, tuple, dict)) else 0


def weigh(value: Any, limit: int | None = None) -> int:
    """Return roughly how many characters ``value`` prints as; raise TemplateLimit past ``limit``.

    Shared parts count every time (``[a, a]`` weighs twice ``a``), so a value doubled by chained
    ``{% set %}`` is caught however little memory it holds; the walk stops at the limit, so it
    costs at most ``limit`` (default MAX_SIZE) steps.
    """
    limit = MAX_SIZE if limit is None else limit
    total = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, _PLAIN_CONTAINERS):
            total += item.weight  # data from the caller: its size is known, and not the template's doing
        elif isinstance(item, (list, tuple, dict, set, frozenset, range)):
            if depth >= MAX_DEPTH:
                raise TemplateLimit(f"a value nests deeper than {MAX_DEPTH} levels")
            total += 2 + 2 * len(item)
            if total > limit:
                break
            if isinstance(item, dict):
                stack.extend((part, depth + 1) for pair in item.items() for part in pair)
            elif not isinstance(item, range):
                stack.extend((part, depth + 1) for part in item)
            else:
                total += 6 * len(item)
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1
        else:
            total += 8
        if total > limit:
            break
    _step(total // 64)
    if total > limit:
        raise TemplateLimit(f"a value the template builds is too big (more than {limit:,} characters)")
    return total


def _check_result(value: Any) -> Any:
    if isinstance(value, str):
        if len(value) > MAX_SIZE:
            raise TemplateLimit(f"a string the template builds is too long (more than {MAX_SIZE:,} characters)")
    elif isinstance(value, (list, tuple, dict, set, frozenset)) and not isinstance(value, _PLAIN_CONTAINERS):
        weigh(value)
    return value


def _bounded_range(*args: int) -> range:
    """Return ``range(*args)`` if it has at most MAX_RANGE items (Jinja's ``range`` global)."""
    rng = range(*args)
    try:
        size = len(rng)
    except OverflowError:
        size = MAX_RANGE + 1
    if size > MAX_RANGE:
        raise TemplateLimit(f"range() may give at most {MAX_RANGE:,} items")
    return rng


def _plain_dict(*args: Any, **kwargs: Any) -> dict:
    """Return ``dict(*args, **kwargs)`` (Jinja's ``dict`` global), bounded like any value."""
    return _check_result(dict(*args, **kwargs))


# printf-style conversions: %[(key)][flags][width][.precision][length]type
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)", re.S)


def _check_printf(fmt: str, args: Any) -> None:
    """Refuse a ``%`` format whose output could go past MAX_SIZE (``'%999999999d' % 1``)."""
    budget = len(fmt)
    for width, precision, _conversion in _PRINTF.findall(fmt):
        if "*" in (width, precision):
            raise TemplateLimit("'*' widths are not allowed in % formats")
        budget += int(width or 0) + int(precision or 0)
        if budget > MAX_SIZE:
            raise TemplateLimit(f"a % format would print more than {MAX_SIZE:,} characters")
    if budget + 6 * weigh(args) > MAX_SIZE:
        raise TemplateLimit(f"a % format would print more than {MAX_SIZE:,} characters")


def _check_power(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        if left.bit_length() * right > MAX_INT_BITS:
            raise TemplateLimit(f"a number the template builds is too big (more than {MAX_INT_BITS} bits)")


def _check_product(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TemplateLimit(f"a number the template builds is too big (more than {MAX_INT_BITS} bits)")
        return
    seq, count = (left, right) if isinstance(right, int) else (right, left)
    if isinstance(count, int) and isinstance(seq, (str, list, tuple)) and count > 0:
        size = len(seq) if isinstance(seq, str) else weigh(seq)
        if size * count > MAX_SIZE:
            raise TemplateLimit(f"a value the template builds is too big (more than {MAX_SIZE:,} characters)")


def _check_sum(left: Any, right: Any) -> None:
    if isinstance(left, str) and isinstance(right, str):
        if len(left) + len(right) > MAX_SIZE:
            raise TemplateLimit(f"a string the template builds is too long (more than {MAX_SIZE:,} characters)")
    elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        if weigh(left) + weigh(right) > MAX_SIZE:
            raise TemplateLimit(f"a value the template builds is too big (more than {MAX_SIZE:,} characters)")


def _check_replace(s: Any, old: Any, new: Any, count: Any = None) -> None:
    if not (isinstance(s, str) and isinstance(old, str) and isinstance(new, str)):
        return
    hits = len(s) + 1 if old == "" else s.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    if len(s) + hits * len(new) > MAX_SIZE:
        raise TemplateLimit(f"replace() would build more than {MAX_SIZE:,} characters")


def _check_join(sep: Any, items: list) -> None:
    size = len(str(sep)) * max(len(items) - 1, 0)
    for item in items:
        size += len(item) if isinstance(item, str) else weigh(item)
        if size > MAX_SIZE:
            raise TemplateLimit(f"join() would build more than {MAX_SIZE:,} characters")


def _check_split(s: str, sep: Any = None, maxsplit: Any = -1) -> None:
    pieces = s.count(sep) + 1 if isinstance(sep, str) and sep else len(s) // 2 + 1
    if isinstance(maxsplit, int) and maxsplit >= 0:
        pieces = min(pieces, maxsplit + 1)
    if pieces > MAX_RANGE:
        raise TemplateLimit(f"split() would give more than {MAX_RANGE:,} pieces")


# Filter arguments checked before the filter runs, by filter name: the filters whose output can be
# far bigger than their input.
def _pre_center(value: Any, width: Any = 80) -> None:
    if isinstance(width, int) and width > MAX_SIZE:
        raise TemplateLimit(f"a width of {width:,} is more than {MAX_SIZE:,} characters")


def _pre_indent(s: Any, width: Any = 4, first: Any = False, blank: Any = False) -> None:
    lines = str(s).count("\n") + 1
    per_line = width if isinstance(width, int) else len(str(width))
    if lines * per_line + len(str(s)) > MAX_SIZE:
        raise TemplateLimit(f"indent() would build more than {MAX_SIZE:,} characters")


def _pre_wordwrap(s: Any, width: Any = 79, break_long_words: Any = True, wrapstring: Any = None,
                  break_on_hyphens: Any = True) -> None:
    if wrapstring is not None and (len(str(s)) + 1) * len(str(wrapstring)) > MAX_SIZE:
        raise TemplateLimit(f"wordwrap() would build more than {MAX_SIZE:,} characters")


def _pre_count(value: Any, *args: Any, **kwargs: Any) -> None:
    count = args[0] if args else kwargs.get("linecount", kwargs.get("slices"))
    if isinstance(count, int) and count > MAX_RANGE:
        raise TemplateLimit(f"batch() and slice() take at most {MAX_RANGE:,}")


def _pre_sum(iterable: Any, attribute: Any = None, start: Any = 0) -> None:
    if not isinstance(start, (int, float)):
        raise TemplateLimit("sum() adds numbers only")


def _pre_format(value: Any, *args: Any, **kwargs: Any) -> None:
    _check_printf(str(value), kwargs or args)


_PRECHECKS: dict[str, Callable[..., None]] = {
    "center": _pre_center, "indent": _pre_indent, "wordwrap": _pre_wordwrap, "batch": _pre_count,
    "slice": _pre_count, "sum": _pre_sum, "format": _pre_format, "replace": _check_replace,
}


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter or test: count its work, check its arguments and the size of its result."""
    skip = 1 if _PassArg.from_obj(func) is not None else 0
    precheck = _PRECHECKS.get(name)

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _step(1 + (_cost(args[skip]) if len(args) > skip else 0))
        if precheck is not None:
            precheck(*args[skip:], **kwargs)
        if name == "join" and len(args) > skip:
            # Materialise the items first, so the joined size is known before it is built.
            items = list(args[skip])
            _check_join(args[skip + 1] if len(args) > skip + 1 else kwargs.get("d", ""), items)
            args = args[:skip] + (items,) + args[skip + 1:]
        return _check_result(func(*args, **kwargs))

    return bounded


def _loop_guard(iterable: Any) -> Iterator[Any]:
    """Yield the items of a ``{% for %}`` iterable, one step each."""
    for item in iterable:
        _step()
        yield item


def _size_guard(value: Any) -> Any:
    """Check a list, tuple or dict literal, or a ``~`` concatenation, is within MAX_SIZE."""
    _step()
    return _check_result(value)


# ----------------------------------------------------------------------------- the environment
class _Guard(NodeTransformer):
    """Compile-time rewrite: count loop iterations, bound literals and concatenations."""

    def __init__(self, environment: jinja2.Environment, text: bool):
        self.environment = environment
        self.text = text

    def _wrap(self, node: nodes.Expr, name: str) -> nodes.Expr:
        return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno, environment=self.environment)

    def visit_For(self, node: nodes.For) -> nodes.Node:
        if node.recursive:
            raise jinja2.TemplateSyntaxError("recursive loops are not allowed in a theme template; use a macro",
                                             node.lineno)
        node = self.generic_visit(node)
        node.iter = self._wrap(node.iter, _LOOP_FILTER)
        return node

    def _sized(self, node: nodes.Expr) -> nodes.Node:
        return self._wrap(self.generic_visit(node), _SIZE_FILTER)

    visit_List = visit_Dict = visit_Concat = _sized

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Node:
        node = self.generic_visit(node)
        return self._wrap(node, _SIZE_FILTER) if node.ctx == "load" else node

    def _no_files(self, node: nodes.Node) -> nodes.Node:
        if self.text:
            raise jinja2.TemplateSyntaxError(
                "a theme.yaml text template cannot include, import or extend other templates", node.lineno)
        return self.generic_visit(node)

    visit_Include = visit_Import = visit_FromImport = visit_Extends = _no_files


class _BudgetedTemplate(jinja2.Template):
    """A template whose top-level render gets a fresh work and output budget."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        """Render the template within the sandbox's step and output budgets."""
        token = _budget.set(_Budget())
        try:
            return super().render(*args, **kwargs)
        finally:
            _budget.reset(token)

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[str]:
        """Yield the rendered template in one piece: streaming would escape the budgets."""
        yield self.render(*args, **kwargs)


def _refused(name: str) -> Callable[..., Any]:
    """Return a stand-in for a Jinja global themes may not use: calling it names it."""
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise jinja2.sandbox.SecurityError(f"'{name}' is not available in a theme template")
    refused.__name__ = refused.__qualname__ = name
    return refused


class Helper:
    """A function our own code lends one render (never a theme's): the only callable a
    context may carry past :func:`plain`, since a template cannot make one."""

    __slots__ = ("_func",)

    def __init__(self, func: Callable[..., Any]):
        self._func = func

    def __call__(self, *args: Any) -> Any:
        return self._func(*args)


class ThemeSandbox(SandboxedEnvironment):
    """The Jinja environment every theme template runs in.

    ``text=True`` is for theme.yaml's text templates: no loader and no include, import or
    extends. Pass ``loader=ThemeLoader(...)`` and the usual Jinja options for HTML templates.
    """

    intercepted_binops = frozenset({"+", "*", "**", "%"})
    template_class = _BudgetedTemplate

    def __init__(self, *, text: bool = False, **options: Any):
        if text and options.get("loader") is not None:
            raise ValueError("a text sandbox has no loader")
        super().__init__(undefined=jinja2.StrictUndefined, finalize=_count_output, **options)
        self.text = text
        self.filters.pop("random", None)  # output must be reproducible
        self.filters["attr"] = jinja2.pass_environment(lambda env, obj, name: env.getattr(obj, str(name)))
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.tests = {name: _bounded_filter(name, f) for name, f in self.tests.items()}
        self.filters[_LOOP_FILTER] = _loop_guard
        self.filters[_SIZE_FILTER] = _size_guard
        # Jinja's own globals: the two plain ones bounded, the others (classes with mutable
        # state, random text) refused with a message that names them.
        self.globals.update(range=_bounded_range, dict=_plain_dict, cycler=_refused("cycler"),
                            joiner=_refused("joiner"), namespace=_refused("namespace"), lipsum=_refused("lipsum"))
        self._callables: set[int] = {id(_bounded_range), id(_plain_dict)}

    # ------------------------------------------------------------------ registering
    def add_filter(self, name: str, func: Callable[..., Any]) -> None:
        """Register a filter (bounded like the built-in ones)."""
        self.filters[name] = _bounded_filter(name, func)

    def add_function(self, name: str, func: Callable[..., Any]) -> None:
        """Register a global function templates may call (``asset``)."""
        self.globals[name] = func
        self._callables.add(id(func))

    # ------------------------------------------------------------------ compiling
    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        try:
            return _Guard(self, self.text).visit(super()._parse(source, name, filename))
        except jinja2.TemplateSyntaxError as exc:
            exc.name, exc.filename = exc.name or name, exc.filename or filename
            exc.source = source
            raise

    # ------------------------------------------------------------------ attributes
    def _readable(self, obj: Any, attr: str) -> bool:
        """Tell whether a template may read attribute ``attr`` of ``obj`` (all else is refused)."""
        if attr.startswith("_"):
            return False
        if isinstance(obj, str):
            return attr in STR_METHODS
        if isinstance(obj, dict):
            return attr in DICT_METHODS
        if isinstance(obj, (dt.date, dt.time)):
            return attr in DATE_ATTRIBUTES or attr in DATE_METHODS
        if isinstance(obj, LoopContext):
            return attr in LOOP_ATTRIBUTES or attr in LOOP_METHODS
        # A template module's attributes are the macros and variables it exports.
        return isinstance(obj, jinja2.environment.TemplateModule)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Tell whether ``obj.attr`` is on the allow-list."""
        return self._readable(obj, attr)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Return ``obj.attribute`` for a template: a dict's key first, else an allowed attribute."""
        _step()
        if isinstance(obj, dict):
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return self._attribute(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """Return ``obj[argument]`` for a template, on plain data only."""
        _step()
        if isinstance(obj, (dict, list, tuple, str, range, Undefined, TemplateReference)):
            try:
                return obj[argument]
            except (TypeError, LookupError):
                pass
        if isinstance(argument, str):
            return self._attribute(obj, argument)
        return self.undefined(f"'{_kind(obj)} object' has no element {argument!r}", obj=obj, name=argument)

    def _attribute(self, obj: Any, name: str) -> Any:
        if isinstance(obj, Undefined):
            return obj[name]  # raises the undefined value's own error ("'x' is undefined", "… is unsafe")
        if name.startswith("_"):
            return self.unsafe_undefined(obj, name)
        if isinstance(obj, TemplateReference):
            return obj[name]
        if self._readable(obj, name):
            try:
                return getattr(obj, name)
            except AttributeError:
                return self._missing(obj, name)
        if isinstance(obj, dict) or not hasattr(obj, name):
            return self._missing(obj, name)
        return self.unsafe_undefined(obj, name)

    def _missing(self, obj: Any, name: Any) -> Undefined:
        return self.undefined(f"'{_kind(obj)} object' has no attribute {name!r}", obj=obj, name=name)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        """Return the undefined value that stands for a refused attribute, naming the plain type."""
        return self.undefined(f"access to attribute {attribute!r} of {_kind(obj)!r} object is unsafe.",
                              name=attribute, obj=obj, exc=jinja2.sandbox.SecurityError)

    # ------------------------------------------------------------------ calls
    def is_safe_callable(self, obj: Any) -> bool:
        """Tell whether a template may call ``obj``: only what the allow-list names."""
        if isinstance(obj, (Macro, BlockReference, Undefined, Helper)):
            return True
        if id(obj) in self._callables:
            return True
        owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", None)
        if owner is None or not isinstance(name, str) or not callable(obj):
            return False
        return self._readable(owner, name) and name not in DATE_ATTRIBUTES and name not in LOOP_ATTRIBUTES

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """Call ``__obj`` for a template if the allow-list names it, within the limits."""
        if not __self.is_safe_callable(__obj):
            raise jinja2.sandbox.SecurityError(f"calling {_describe(__obj)} is not allowed in a theme template")
        _step(1 + sum(_cost(a) for a in args))
        owner, name = getattr(__obj, "__self__", None), getattr(__obj, "__name__", None)
        if isinstance(owner, str):
            if name == "replace":
                _check_replace(owner, *args, **kwargs)
            elif name == "join" and args:
                items = list(args[0])
                _check_join(owner, items)
                args = (items,) + args[1:]
            elif name == "split":
                _check_split(owner, *args, **kwargs)
        return _check_result(__context.call(__obj, *args, **kwargs))

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        """Apply ``+``, ``*``, ``**`` or ``%`` after checking the result fits the limits."""
        _step(1 + _cost(left) + _cost(right))
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_product(left, right)
        elif operator == "+":
            _check_sum(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_printf(left, right)
        return self.binop_table[operator](left, right)


def _kind(obj: Any) -> str:
    """Return the type name a template author knows a value by ('dict', not 'PlainDict')."""
    for base in (dict, list, tuple):
        if isinstance(obj, _PLAIN_CONTAINERS) and isinstance(obj, base):
            return base.__name__
    return type(obj).__name__


def _describe(obj: Any) -> str:
    name = getattr(obj, "__name__", None)
    owner = getattr(obj, "__self__", None)
    if isinstance(name, str) and owner is not None:
        return f"'{type(owner).__name__}.{name}'"
    if isinstance(name, str):
        return f"'{name}'"
    return f"a {_kind(obj)!r} object"


# ----------------------------------------------------------------------------- files
def theme_file(root: Path, name: str) -> Path | None:
    """Return the real path of theme file ``name`` inside ``root``, or None if there is none.

    Raises ThemeError if ``name`` climbs out of the folder (``..``) or is a symlink (or sits
    under one) whose target lies outside it: a theme file linked to ``/etc/passwd`` must not
    print it. ``root`` must already be resolved.
    """
    try:
        pieces = split_template_path(name)
    except jinja2.TemplateNotFound:
        raise ThemeError(Problem(f"theme file name '{name}' climbs out of the theme folder", str(root))) from None
    candidate = root.joinpath(*pieces)
    if not os.path.lexists(candidate):
        return None
    real = Path(os.path.realpath(candidate))
    if not real.is_relative_to(root):
        raise ThemeError(Problem("is a link to a file outside the theme folder; theme files must be inside it",
                                 str(candidate)))
    return real


def read_theme_file(root: Path, name: str, limit: int = MAX_TEMPLATE_BYTES) -> tuple[str, bytes] | None:
    """Return (path as named, bytes) of a regular file inside theme folder ``root``, or None.

    Opened with ``O_NOFOLLOW`` on its real path and re-checked through ``/proc/self/fd``, so a
    symlink swapped in after the check is not followed either.
    """
    real = theme_file(root, name)
    if real is None:
        return None
    shown = str(root.joinpath(*split_template_path(name)))
    if not real.is_file():
        return None
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise ThemeError(Problem(f"cannot read theme file: {exc.strerror}", shown)) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        proc = f"/proc/self/fd/{fd}"
        if os.path.islink(proc) and not Path(os.readlink(proc)).is_relative_to(root):
            raise ThemeError(Problem("is a link to a file outside the theme folder", shown))
        if not stat.S_ISREG(info.st_mode):
            raise ThemeError(Problem("is not a regular file", shown))
        if info.st_size > limit:
            raise ThemeError(Problem(f"theme file is {info.st_size:,} bytes; the limit is {limit:,}", shown))
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ThemeError(Problem(f"theme file is over {limit:,} bytes", shown))
    return shown, data


def decode_theme_text(data: bytes, shown: str) -> str:
    """Decode a theme file as UTF-8, with a located error for bad bytes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ThemeError(Problem(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}",
                                 shown, line)) from None


def _mtime(path: str) -> float | None:
    try:
        return os.path.getmtime(path)
    except OSError:
        return None


class ThemeLoader(jinja2.BaseLoader):
    """Load templates from theme folders (first match wins), never from outside them."""

    def __init__(self, dirs: list[Path]):
        self.dirs = [Path(os.path.realpath(d)) for d in dirs]

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        """Return the source, file name and up-to-date check of ``template``."""
        for root in self.dirs:
            found = read_theme_file(root, template)
            if found is None:
                continue
            shown, data = found
            mtime = _mtime(shown)
            return decode_theme_text(data, shown), shown, lambda: _mtime(shown) == mtime
        raise jinja2.TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        """Return the template names the folders hold (for tools; not used when rendering)."""
        found = set()
        for root in self.dirs:
            for path in root.rglob("*"):
                if path.is_file():
                    found.add(path.relative_to(root).as_posix())
        return sorted(found)
