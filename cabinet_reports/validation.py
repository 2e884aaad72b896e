"""Turn pydantic's validation errors into located, one-line problems in plain words.

pydantic reports a location such as ``('sections', 'purpose', 'blocks', 1, 'p', 'p')``: it
includes union tags and shorthand expansions the author never typed. We walk the author's own
data along that location to recover the path they would recognise (``sections.purpose[1].p``)
and its line in their file.

pydantic's own messages ("Input should be a valid dictionary or instance of Contact", "String
should match pattern '^[^@\\s]+@…'") speak to programmers. :func:`explain` is the one
translator every caller uses (reports, Markdown front matter, meeting files, theme.yaml): it
walks the *model* along the same location to find what that place expects, and says so the
way a council officer would ("expected a date as YYYY-MM-DD, e.g. 2005-03-16", "expected a
mapping with name, role, phone, email"), with the valid fields for an unknown one and "did you
mean" when one is close. Field lists and choices come from the models, so they stay true.

YAML sometimes turns text into a list (an unquoted comma inside ``[ ]``) or a mapping (``Note:
text``, a comma inside ``{ }``) without complaint; the loader remembers how each value was
written (:class:`~cabinet_reports.loader.Shape`), and :func:`problems_from` says what YAML did
and how to quote it where it can tell.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import functools
import re
import types
import typing
from typing import Annotated, Any, Literal, TypeVar, Union

from pydantic import BaseModel, BeforeValidator, StringConstraints, Tag, ValidationError

from .errors import InputError, Problem
from .limits import LIST_ITEMS, TEXT_CHARS
from .loader import PathKey, Source, format_field_path
from .models import BLOCK_KINDS

M = TypeVar("M", bound=BaseModel)

# pydantic checks these limits (limits.py) as field constraints; its message gets the
# limit's name, as every other limit's has.
_NAMED_LIMITS = {("string_too_long", TEXT_CHARS): "text_chars", ("too_long", LIST_ITEMS): "list_items"}

# What a value matching each of our patterns looks like, in an officer's words.
_PATTERNS = {
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "an email address such as name@council.gov.uk",
    r"^[A-Za-z][A-Za-z0-9_.:-]{0,79}$": ("a label: a letter, then letters, digits, '-', '_', '.' or ':' "
                                          "(at most 80 characters, no spaces), such as costs-table"),
    r"^[a-z][a-z0-9_]{0,39}$": "a key in lower case: letters, digits and _ (at most 40 characters), such as background",
    r"[a-z][a-z0-9_]{0,39}": "a key in lower case: letters, digits and _ (at most 40 characters), such as background",
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$": "a language tag such as en-GB or cy",
}

# The short forms a BeforeValidator accepts besides the full value, by the validator's name
# (models.py, meeting.py): "expected the council's name, or a mapping with name, logo".
SHORTHANDS = {
    "_listify": "one {item}, or",
    "_item": "text, or",
    "_block_shorthand": "text (a numbered paragraph), or",
    "_key_decision": "true or false, a forward plan reference such as FP/830/05/17, or",
    "_classification": "public or exempt, or",
    "_section": "a list of blocks, or",
    "_council": "the council's name, or",
    "_member": "a name, or",
    "_exemption": "a Schedule 12A paragraph number, a list of them, or",
    "_paragraph_list": "one paragraph number, or",
    "_cell_text": "",  # a figure or text: described as text
    "_clearance": "",  # text is refused in its own words; otherwise described as the mapping
}

DATE = "a date as YYYY-MM-DD, e.g. 2005-03-16"

# Error types whose messages are our own words (ValueError in a validator, our discriminator).
_OWN = {"value_error", "assertion_error", "block_kind"}


# --------------------------------------------------------------------------- what a place expects
def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """Strip ``Annotated`` and ``| None`` from an annotation; return it and the metadata met."""
    meta: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation, *more = typing.get_args(annotation)
            meta.extend(more)
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation, meta
            annotation = members[0]
        else:
            return annotation, meta


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field(model: type[BaseModel], name: Any) -> Any:
    """Return the annotation (with its metadata) of ``model``'s field named ``name``, or None."""
    for key, info in model.model_fields.items():
        if name in (key, info.alias):
            return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return None


def _tag_of(member: Any) -> str:
    """Return the tag pydantic puts in a location for a union member (ours, or its own)."""
    base, meta = _unwrap(member)
    for m in meta:
        if isinstance(m, Tag):
            return m.tag
    if isinstance(base, type):
        return base.__name__
    return re.sub(r"\btyping\.|\b[a-z_.]+\.(?=[A-Z])", "", str(base))  # list[str], literal['a']


@functools.lru_cache(maxsize=4096)
def _walk(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Any, type[BaseModel] | None, int | None]:
    """Walk a pydantic location through the model's annotations.

    Return what the last part of ``loc`` expects (None if the walk is lost, e.g. an unknown
    field), the model whose field that part names (for an unknown field: the model it is
    unknown in), and where an undiscriminated union was entered (the index in ``loc`` of the
    member's tag), so that the several errors a union gives can be told as one.
    """
    current: Any = model
    owner: type[BaseModel] | None = None
    union_at = None
    for i, part in enumerate(loc):
        base, _ = _unwrap(current)
        origin, args = typing.get_origin(base), typing.get_args(base)
        if origin in (Union, types.UnionType):
            members = [a for a in args if a is not type(None)]
            chosen = next((m for m in members if _tag_of(m) == part), None)
            if chosen is None:
                return None, owner, union_at
            if not any(isinstance(m, Tag) for m in _unwrap(chosen)[1]):
                union_at = i  # pydantic tried every member: each gave its own error
            current = chosen
            continue
        if _is_model(base):
            owner = base
            current = _field(base, part)
            if current is None:
                return None, owner, union_at
        elif part == "[key]" and origin is dict:
            current = args[0]
        elif origin in (list, set, frozenset) and isinstance(part, int):
            current = args[0]
        elif origin is tuple and isinstance(part, int):
            current = args[0] if len(args) == 2 and args[1] is Ellipsis else (args[part] if part < len(args) else None)
        elif origin is dict:
            current = args[1]
        else:
            return None, owner, union_at
    return current, owner, union_at


def fields_of(model: type[BaseModel]) -> list[str]:
    """Return the keys ``model`` accepts, in the order the model declares them."""
    return [info.alias or name for name, info in model.model_fields.items()]


def _names(names: list[str], limit: int = 12) -> str:
    """Join names for one line: all of them, or the first ``limit - 2`` and how many more."""
    if len(names) <= limit:
        return ", ".join(names)
    shown = limit - 2
    return ", ".join(names[:shown]) + f" … and {len(names) - shown} more"


def _choices(base: Any) -> list[str]:
    return [str(a).lower() if isinstance(a, bool) else str(a) for a in typing.get_args(base)]


def describe(annotation: Any, plural: bool = False) -> str:
    """Return what a value of ``annotation`` looks like, in an officer's words.

    ``plural`` names the values of a list ("texts", "mappings with …") rather than one.
    """
    base, meta = _unwrap(annotation)
    shorthand = " ".join(SHORTHANDS.get(getattr(m.func, "__name__", ""), "") for m in meta
                         if isinstance(m, BeforeValidator)).strip()
    origin, args = typing.get_origin(base), typing.get_args(base)
    if origin is list and "{item}" in shorthand:
        shorthand = shorthand.replace("{item}", describe(args[0]).removeprefix("a ").removeprefix("an "))
    text = _describe_base(base, meta, origin, args, plural)
    return f"{shorthand} {text}" if shorthand and not plural else text


def _describe_base(base: Any, meta: list[Any], origin: Any, args: tuple[Any, ...], plural: bool) -> str:
    s = "s" if plural else ""
    if base is str:
        for m in meta:
            if isinstance(m, StringConstraints) and m.pattern:
                return _PATTERNS.get(m.pattern, f"text in the form {m.pattern}")
        longest = min((m.max_length for m in meta if getattr(m, "max_length", None)), default=None)
        if longest is not None and longest < TEXT_CHARS:
            return f"text{s} of at most {longest} characters"
        return "text" + (" items" if plural else "")
    if base is bool:
        return "true or false"
    if base is int:
        return "whole numbers" if plural else "a whole number"
    if base is float:
        return "numbers" if plural else "a number"
    if base is dt.date:
        return "dates as YYYY-MM-DD, e.g. 2005-03-16" if plural else DATE
    if origin is Literal:
        return ("each " if plural else "") + "one of: " + _names(_choices(base))
    if _is_model(base):
        fields = _names(fields_of(base), 10)
        return f"mappings, each with {fields}" if plural else f"a mapping with {fields}"
    if origin in (list, set, frozenset):
        item, item_meta = _unwrap(args[0])
        if _is_model(item) or typing.get_origin(item) in (Union, types.UnionType) or \
                any(isinstance(m, BeforeValidator) for m in item_meta):
            return f"list{s}, each item {describe(args[0])}" if plural else f"a list, each item {describe(args[0])}"
        return f"list{s} of {describe(args[0], plural=True)}" if plural else f"a list of {describe(args[0], plural=True)}"
    if origin is tuple:
        return f"list{s} of {len(args)} texts" if plural else f"a list of {len(args)} texts: [{', '.join(['…'] * len(args))}]"
    if origin is dict:
        key, value = args
        key_base, _ = _unwrap(key)
        if typing.get_origin(key_base) is Literal:
            keys = "keys (" + _names(_choices(key_base), 10) + ")"
        else:
            keys = "keys"  # a key's own form is told at the key, when it is wrong
        return ("mappings" if plural else "a mapping") + f" of {keys}, each set to {describe(value)}"
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        tags = [m.tag for a in members for m in _unwrap(a)[1] if isinstance(m, Tag)]
        if len(tags) == len(members):  # a discriminated union: the kinds have names (p, text …; report item …)
            return f"a mapping for one of: {_names(tags)}"
        return ", or ".join(describe(a) for a in members)
    if base is Any or base is object:
        return "a value"
    return "a value of the right kind"


# --------------------------------------------------------------------------- the value given
def shown(value: Any) -> str:
    """Name a value briefly as the author wrote it: 'Cabinet', 12500, true, a list, a mapping."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return getattr(value, "source_text", None) or repr(value)
    if isinstance(value, (list, tuple)):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    text = repr(str(value))
    return text if len(text) <= 40 else text[:37] + "...'"


def _closest(key: str, candidates: list[str] | set[str] | frozenset[str]) -> str | None:
    """Return the most likely intended key, preferring swapped letters (lable → label)."""
    if len(key) > 60:  # no misspelt name is that long, and difflib's cost grows with its square
        return None
    return _closest_of(key, tuple(sorted(candidates)))


@functools.lru_cache(maxsize=1024)
def _closest_of(key: str, candidates: tuple[str, ...]) -> str | None:
    def score(name: str) -> float:
        ratio = difflib.SequenceMatcher(None, key.lower(), name).ratio()
        return ratio + (0.15 if sorted(key.lower()) == sorted(name) else 0.0)
    best = max(candidates, key=score, default=None)
    return best if best is not None and score(best) >= 0.7 else None


@functools.lru_cache(maxsize=None)
def field_names(model: type[BaseModel]) -> frozenset[str]:
    """Return every key accepted anywhere inside ``model`` (for "did you mean" suggestions)."""
    names: set[str] = set()
    seen: set[type] = set()

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation in seen:
                return
            seen.add(annotation)
            for name, info in annotation.model_fields.items():
                names.add(info.alias or name)
                visit(info.annotation)
        for arg in typing.get_args(annotation):
            visit(arg)
    visit(model)
    return frozenset(names)


def _date_problem(value: Any) -> str:
    """Say what is wrong with a date written as text ("there is no month 13")."""
    found = re.fullmatch(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*", value) if isinstance(value, str) else None
    if found:
        year, month, day = (int(g) for g in found.groups())
        if not 1 <= month <= 12:
            return f"there is no month {month}: expected {DATE}"
        if day > 28 and 1 <= year <= 9999:
            last = calendar.monthrange(year, month)[1]
            if day > last:
                return f"{calendar.month_name[month]} {year} has {last} days: expected {DATE}"
        if not 1 <= day <= 31:
            return f"there is no day {day} in a month: expected {DATE}"
    if isinstance(value, (dt.datetime, str)) and re.match(r"\s*\d{4}-\d{2}-\d{2}[T ]", str(value)):
        return "expected a date without a time, as YYYY-MM-DD, e.g. 2005-03-16"
    return f"expected {DATE}"


# --------------------------------------------------------------------------- the translator
# What an error type expects when the model cannot say (an error met without its model).
_GENERIC = {"int": "a whole number", "float": "a number", "bool": "true or false", "string": "text",
            "list": "a list", "tuple": "a list", "dict": "a mapping", "model": "a mapping of fields",
            "set": "a list", "url": "a web address such as https://www.council.gov.uk/"}

def explain(err: dict[str, Any], model: type[BaseModel] | None = None) -> str:
    """Return one pydantic error as a plain message saying what was expected and what was given.

    ``model`` is the model that was validated (the error's location is walked through it to
    find what that place expects); without it the message says less but never speaks pydantic.
    """
    kind = err["type"]
    loc = tuple(err.get("loc", ()))
    ctx = err.get("ctx") or {}
    value = err.get("input")
    expected, owner, _ = _walk(model, loc) if model is not None else (None, None, None)
    wanted = describe(expected) if expected is not None else None
    got = f" (got {shown(value)})"

    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        places = fields_of(owner) if owner is not None else []
        if model is not None and key in field_names(model) and key not in places:
            # A real field in the wrong place (label: on a text: block): a suggestion of the
            # same name would only confuse.
            message = f"field '{key}' is not allowed here"
        else:
            close = _closest(key, places or (field_names(model) if model is not None else []))
            message = f"unknown field '{key}'" + (f" (did you mean '{close}'?)" if close else "")
        return message + (f"; fields here: {_names(places)}" if places else "")
    if kind == "missing":
        return "required field is missing" + (f": expected {wanted}" if wanted else "")
    if kind in _OWN:
        msg = str(ctx.get("error", "")) or err.get("msg", "")
        for prefix in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(prefix)
        if kind != "block_kind" and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            msg += got
        return msg
    if kind == "string_too_long":
        longest = ctx.get("max_length") or 0
        length = len(value.strip()) if isinstance(value, str) else None
        message = f"expected text of at most {longest:,} characters" + (f" (this has {length:,})" if length else "")
        limit = _NAMED_LIMITS.get((kind, longest))
        return message + (f" (limit: {limit})" if limit else "")
    if kind == "string_too_short":
        return f"must not be empty: expected {wanted or 'text'}"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        hint = ""
        if isinstance(value, str) and value != value.lower() and re.fullmatch(pattern.strip("^$"), value.lower()):
            hint = f"; did you mean '{value.lower()}'?"
        return f"expected {_PATTERNS.get(pattern, wanted or 'text in another form')}{got[:-1]}{hint})"
    if kind.startswith("date") or kind == "datetime_type":
        return _date_problem(value) + got
    if kind in ("too_short", "too_long"):
        what = "items" if ctx.get("field_type") != "Dictionary" else "entries"
        actual = ctx.get("actual_length")
        if kind == "too_short":
            least = ctx.get("min_length", 1)
            message = (f"needs at least {least} {what[:-1] if least == 1 else what}"
                       + (" (it is empty)" if not actual else f" (this has {actual})"))
        else:
            message = f"expected at most {ctx.get('max_length') or 0:,} {what}" + (f" (this has {actual:,})" if actual else "")
            limit = _NAMED_LIMITS.get((kind, ctx.get("max_length")))
            message += f" (limit: {limit})" if limit else ""
        return message
    if kind == "literal_error":
        choices = _choices(_unwrap(expected)[0]) if expected is not None else \
            re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        close = _closest(str(value), choices) if isinstance(value, str) else None
        hint = f"; did you mean '{close}'?" if close and close != value else ""
        return f"expected one of: {_names(choices, 14)}{got[:-1]}{hint})"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in ctx.items()}
        words = {"greater_than": "more than {gt}", "greater_than_equal": "at least {ge}",
                 "less_than": "less than {lt}", "less_than_equal": "at most {le}"}[kind].format(**bound)
        return f"expected a number {words}{got}"
    if kind == "finite_number":
        return f"expected a number{got}"
    if kind.startswith(("int_", "float_", "bool_", "string_", "list_", "tuple_", "dict_", "model_", "set_", "none_",
                        "union_", "is_instance", "literal", "decimal_", "enum", "url_")) or kind.endswith("_type"):
        if kind == "int_from_float":
            return f"expected a whole number{got}"
        if kind.startswith("int_parsing_size"):
            return f"expected a whole number of sensible size{got}"
        return f"expected {wanted or _GENERIC.get(kind.split('_')[0], 'a value of another kind')}{got}"
    return "this value is not valid here" + (f": expected {wanted}" if wanted else "") + got


# --------------------------------------------------------------------------- YAML's silent readings
def _quoted(text: str) -> str:
    text = " ".join(text.split())
    text = text if len(text) <= 60 else text[:57] + "..."
    return '"' + text.replace('"', "'") + '"'


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, dt.date))


def _yaml_reading(kind: str, value: Any, path: PathKey, data: Any, source: Source | None,
                  model: type[BaseModel]) -> str | None:
    """Say how YAML read a value the author probably meant as text, and how to quote it; else None."""
    if source is None or not source.shapes:
        return None
    shape = source.shapes.get(path)
    if kind == "string_type" and isinstance(value, (bool, int, float, dt.date)):
        if isinstance(value, bool):
            return "YAML read this as true or false (from yes/no, on/off or true/false); put the text in quotes"
        what = "a date" if isinstance(value, dt.date) else "a number"
        return f"YAML read this as {what}; put it in quotes: {_quoted(shown(value))}"
    wants_scalar = kind.split("_")[0] in ("string", "int", "float", "bool", "date", "literal") or kind == "block_kind"
    if isinstance(value, list) and wants_scalar and kind != "block_kind" and shape is not None:
        written = shape.text.strip()
        if shape.flow and written.startswith("[") and written.endswith("]"):
            inner = written[1:-1]
            split = " and split it at each comma" if "," in inner else ""
            return f"YAML read this as a list because of the [ ]{split}; if it is one text, put it in quotes: {_quoted(inner)}"
        if not shape.flow:
            return "YAML read this as a list (the lines starting with '- '); write it as one value"
        return None
    if isinstance(value, dict) and len(value) == 1 and wants_scalar:
        (key, inner), = value.items()
        written = shape.text.strip() if shape is not None else f"{key}: {inner}"
        # Braces written on purpose are a mapping on purpose; "- Note: text" and "[Note: text]" are
        # not. A lower-case identifier before the colon (paragraph:) is a misspelt key, not prose.
        prose = not re.fullmatch(r"[a-z_][a-z0-9_]*", str(key))
        if _scalar(inner) and prose and key not in field_names(model) and not written.startswith("{"):
            text = written
            return (f"YAML read this as a mapping because of the ': ' after '{key}'; "
                    f"put the text in quotes: {_quoted(text)}")
    if kind == "extra_forbidden" and path:
        key = path[-1]
        parent = _at(data, path[:-1])
        if shape is not None and shape.kind == "null" and shape.flow and isinstance(parent, dict):
            keys = list(parent)
            at = keys.index(key) if key in keys else 0
            if at > 0 and isinstance(parent[keys[at - 1]], str):
                before = keys[at - 1]
                return (f"YAML read '{key}' as a new field because of the comma inside {{ }}; "
                        f"put the text in quotes: {before}: {_quoted(parent[before] + ', ' + str(key))}")
    return None


def _at(data: Any, path: PathKey) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _text_read_as_mapping(path: PathKey, data: Any, source: Source | None, model: type[BaseModel],
                          owner: type[BaseModel] | None = None) -> str | None:
    """Explain a one-key mapping such as ``- Note: the budget`` where a model wanted its own fields.

    ``owner`` is the model the key is unknown in, when known; else every key of ``model`` counts.
    """
    parent = _at(data, path)
    if not (isinstance(parent, dict) and len(parent) == 1):
        return None
    (key, inner), = parent.items()
    names = frozenset(fields_of(owner)) if owner is not None else field_names(model)
    if not _scalar(inner) or key in names or _closest(str(key), names):
        return None
    return _yaml_reading("string_type", parent, path, data, source, model)


# --------------------------------------------------------------------------- located problems
def data_path(data: Any, loc: tuple[Any, ...]) -> PathKey:
    """Return the path through ``data`` that a pydantic ``loc`` refers to."""
    path: list[str | int] = []
    cur = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if part == "[key]":
            continue  # a mapping key's error: the key's own path names it
        if not last and part in BLOCK_KINDS and i > 0 and isinstance(loc[i - 1], int):
            continue  # the discriminated-union tag pydantic inserts after a block's index
        if isinstance(cur, dict) and part in cur:
            path.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            path.append(part)
            cur = cur[part]
        elif last and isinstance(part, str) and isinstance(cur, dict):
            path.append(part)  # a missing field: name it although the data lacks it
        # anything else is a union tag or a shorthand wrapper ("blocks" around a bare list)
    return tuple(path)


def _union_errors(errors: list[dict[str, Any]], model: type[BaseModel]) -> list[dict[str, Any]]:
    """Tell the errors of one undiscriminated union as one: what the value did not fit.

    pydantic tries a value against every member (``list[str] | DetailRows``) and reports each
    failure. When a member got further than a type check (the value was a mapping meant as
    ``DetailRows``), its errors are the useful ones; otherwise one "expected A, or B" error is.
    """
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    out: list[dict[str, Any] | tuple[Any, ...]] = []
    for err in errors:
        loc = tuple(err["loc"])
        _, _, union_at = _walk(model, loc)
        if union_at is None:
            out.append(err)
            continue
        key = loc[:union_at]
        if key not in groups:
            groups[key] = []
            out.append(key)
        groups[key].append(err)
    result: list[dict[str, Any]] = []
    for item in out:
        if isinstance(item, dict):
            result.append(item)
            continue
        group = groups[item]
        deep = [e for e in group if len(e["loc"]) > len(item) + 1]
        if deep:
            result.extend(deep)
        else:
            result.append({"type": "union_type", "loc": item, "input": group[0].get("input"), "msg": ""})
    return result


def problems_from(exc: ValidationError, data: Any, source: Source | None, model: type[BaseModel],
                  prefix: PathKey = ()) -> list[Problem]:
    """Convert a pydantic ValidationError on ``model`` into located problems, one per error."""
    found: list[tuple[PathKey, str, str]] = []  # (path, error type, message)
    seen = set()
    readings: set[PathKey] = set()  # mappings explained as text YAML read as a mapping
    for err in _union_errors(exc.errors(), model):
        path = data_path(data, tuple(err["loc"]))
        kind = err["type"]
        message = explain(err, model)
        reading = _yaml_reading(kind, err.get("input"), path, data, source, model)
        if reading is None and kind in ("extra_forbidden", "block_kind", "model_type", "model_attributes_type"):
            # "- Note: the budget" where a list item or block was expected: the mapping is the problem.
            where = path[:-1] if kind == "extra_forbidden" else path
            # The fields of the place itself, when known: a key such as 'Note' is prose here even
            # if some other model has a field 'note'.
            owner = _walk(model, tuple(err["loc"]))[1] if kind == "extra_forbidden" else None
            reading = _text_read_as_mapping(where, data, source, model, owner)
            if reading is not None:
                if where in readings:
                    continue
                readings.add(where)
                if kind == "extra_forbidden":
                    message = f"expected {describe(_walk(model, tuple(err['loc'])[:-1])[0])}"
                path = where
        if reading and kind == "extra_forbidden" and path not in readings:
            message = reading  # the comma inside { } is the whole story
        elif reading:
            message = f"{message}; {reading}"
        if (path, message) in seen:
            continue
        seen.add((path, message))
        found.append((prefix + path, kind, message))
    # "titel: unknown field (did you mean 'title'?)" already explains why title is missing,
    # and "YAML read this as a mapping" why a list item has no text: one problem, one line.
    explained = {path[:-1] + (m.group(1),) for path, kind, msg in found
                 if kind == "extra_forbidden" and (m := re.search(r"did you mean '([^']+)'", msg))}
    problems = []
    for path, kind, message in found:
        if kind == "missing" and (path in explained or path[len(prefix):-1] in readings):
            continue
        line = source.line_of(path) if source else None
        problems.append(Problem(message, source.name if source else None, line, format_field_path(path) or None))
    return problems


def validate(model: type[M], data: Any, source: Source | None = None) -> M:
    """Validate plain data into ``model`` or raise an :class:`InputError` with located problems."""
    if not isinstance(data, dict):
        what = "empty" if data is None else f"a {type(data).__name__}"
        raise InputError(Problem(f"expected a mapping of fields at the top level, but the file is {what}",
                                 source.name if source else None, 1 if source else None))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, data, source, model)) from None
