"""Turn pydantic's validation errors into located, one-line problems.

pydantic reports a location such as ``('sections', 'purpose', 'blocks', 1, 'p', 'p')``: it
includes union tags and shorthand expansions the author never typed. We walk the author's own
data along that location to recover the path they would recognise (``sections.purpose[1].p``)
and its line in their file, and we add "did you mean" for misspelt keys.
"""

from __future__ import annotations

import difflib
import functools
import typing
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import InputError, Problem
from .limits import LIST_ITEMS, TEXT_CHARS
from .loader import PathKey, Source, format_field_path
from .models import BLOCK_KINDS

M = TypeVar("M", bound=BaseModel)

_FRIENDLY = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
}

# pydantic checks these limits (limits.py) as field constraints; its message gets the
# limit's name, as every other limit's has.
_NAMED_LIMITS = {("string_too_long", TEXT_CHARS): "text_chars", ("too_long", LIST_ITEMS): "list_items"}


def data_path(data: Any, loc: tuple[Any, ...]) -> PathKey:
    """Return the path through ``data`` that a pydantic ``loc`` refers to."""
    path: list[str | int] = []
    cur = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
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


def _closest(key: str, candidates: set[str]) -> str | None:
    """Return the most likely intended key, preferring swapped letters (lable → label)."""
    def score(name: str) -> float:
        ratio = difflib.SequenceMatcher(None, key.lower(), name).ratio()
        return ratio + (0.15 if sorted(key.lower()) == sorted(name) else 0.0)
    best = max(sorted(candidates), key=score, default=None)
    return best if best is not None and score(best) >= 0.7 else None


def _message(err: dict[str, Any], key: str | int | None, names: frozenset[str]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden" and isinstance(key, str):
        if key in names:
            # A real field in the wrong place (label: on a text: block): a suggestion of the
            # same name would only confuse.
            return f"field '{key}' is not allowed here"
        close = _closest(key, set(names))
        return f"unknown field '{key}'" + (f" (did you mean '{close}'?)" if close else "")
    if kind == "missing":
        return "required field is missing"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if msg.startswith("Assertion failed, "):
        msg = msg[len("Assertion failed, "):]
    value = err.get("input")
    if kind not in ("block_kind",) and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "...'"
        msg += f" (got {shown})"
    limit = _NAMED_LIMITS.get((kind, (err.get("ctx") or {}).get("max_length")))
    if limit:
        msg += f" (limit: {limit})"
    return msg


def problems_from(exc: ValidationError, data: Any, source: Source | None, model: type[BaseModel],
                  prefix: PathKey = ()) -> list[Problem]:
    """Convert a pydantic ValidationError on ``model`` into located problems, one per error."""
    names = field_names(model)
    found: list[tuple[PathKey, str, str]] = []  # (path, error type, message)
    seen = set()
    for err in exc.errors():
        path = prefix + data_path(data, tuple(err["loc"]))
        key = path[-1] if path else None
        message = _message(err, key, names)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        found.append((path, err["type"], message))
    # "titel: unknown field (did you mean 'title'?)" already explains why title is missing:
    # one problem, one line.
    explained = {path[:-1] + (m.group(1),) for path, kind, msg in found
                 if kind == "extra_forbidden" and (m := re.search(r"did you mean '([^']+)'", msg))}
    problems = []
    for path, kind, message in found:
        if kind == "missing" and path in explained:
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
