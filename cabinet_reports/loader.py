"""Read YAML or JSON input into plain data while remembering the line of every field.

pydantic reports errors by field path (``sections.background[2].text``); officers need the
line in their file as well. We compose the YAML node tree ourselves (JSON is read by the same
YAML parser so it gets lines too) and keep a map from field path to line number.
Duplicate keys, which PyYAML silently accepts, are an error here: the second value
would otherwise quietly win.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, Problem

PathKey = tuple[str | int, ...]

# Input files beyond this are almost certainly a mistake (or an attack); refuse before parsing.
MAX_INPUT_BYTES = 5 * 1024 * 1024
# YAML aliases (*name) repeat an anchored value; nested ones grow exponentially ("billion
# laughs": a few hundred bytes that expand to 10**9 values). Count the values an alias
# repeats and stop long before that exhausts memory or time.
MAX_ALIAS_EXPANSION = 10_000


class Source:
    """Where a model came from: the file name and the line of every field path."""

    def __init__(self, name: str, lines: dict[PathKey, int] | None = None, base_dir: Path | None = None):
        self.name = name
        self.lines = lines or {}
        self.base_dir = base_dir

    def line_of(self, path: PathKey) -> int | None:
        """Return the line of ``path`` or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def locate(self, dotted: str) -> int | None:
        """Return the line of a dotted field path such as ``sections.background[2].text``."""
        return self.line_of(parse_field_path(dotted))


def format_field_path(path: PathKey) -> str:
    """Format a path tuple as ``a.b[2].c``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def parse_field_path(dotted: str) -> PathKey:
    """Parse ``a.b[2].c`` back into a path tuple."""
    parts: list[str | int] = []
    for chunk in dotted.replace("]", "").split("."):
        name, *indexes = chunk.split("[")
        if name:
            parts.append(name)
        parts.extend(int(i) for i in indexes if i.isdigit())
    return tuple(parts)


def _yaml_error(name: str, exc: yaml.YAMLError) -> InputError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return InputError(Problem(message, name, line))


class SourceInt(int):
    """An integer read from a file, with the text it was written as (``010``, ``1_000``)."""

    source_text: str


class SourceFloat(float):
    """A decimal read from a file, with the text it was written as (``0.50`` reads as 0.5)."""

    source_text: str


def _with_source_text(value: Any, text: str) -> Any:
    """Return a number that remembers its source text, so a table cell prints it as written."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    number = SourceInt(value) if isinstance(value, int) else SourceFloat(value)
    number.source_text = text
    return number


class _Seen:
    """The nodes constructed so far and how many were constructed again through aliases."""

    def __init__(self) -> None:
        self.nodes: set[int] = set()
        self.repeats = 0


def _construct(loader: yaml.SafeLoader, node: yaml.Node, path: PathKey, lines: dict, name: str,
               seen: _Seen | None = None) -> Any:
    seen = seen if seen is not None else _Seen()
    if id(node) in seen.nodes:  # reached again through an alias
        seen.repeats += 1
        if seen.repeats > MAX_ALIAS_EXPANSION:
            raise InputError(Problem(f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION:,} repeated values",
                                     name, node.start_mark.line + 1, format_field_path(path) or None))
    else:
        seen.nodes.add(id(node))
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolve YAML merge keys (<<) like the safe loader would
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, bool)) or isinstance(key, bool):
                raise InputError(Problem(f"keys must be text, not {key!r}", name, key_node.start_mark.line + 1,
                                         format_field_path(path) or None))
            key = str(key)
            if key in result:
                raise InputError(Problem(f"duplicate key '{key}'", name, key_node.start_mark.line + 1,
                                         format_field_path(path + (key,))))
            lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _construct(loader, value_node, path + (key,), lines, name, seen)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, path + (i,), lines, name, seen) for i, item in enumerate(node.value)]
    try:
        return _with_source_text(loader.construct_object(node, deep=True), node.value)
    except (ValueError, TypeError, OverflowError):
        # A scalar that looks like a date but is not one (2005-13-16): keep the text and let
        # validation report it against its field, with its path.
        return node.value


def parse_text(text: str, name: str, *, json_syntax: bool = False) -> tuple[Any, dict[PathKey, int]]:
    """Parse YAML (or JSON) text into plain data and a field-path → line map."""
    if json_syntax:
        # json.loads gives exact JSON semantics; YAML composition below only supplies lines.
        try:
            data = json.loads(text, parse_int=lambda t: _with_source_text(int(t), t),
                              parse_float=lambda t: _with_source_text(float(t), t))
        except json.JSONDecodeError as exc:
            raise InputError(Problem(f"invalid JSON: {exc.msg}", name, exc.lineno)) from None
        except RecursionError:
            raise InputError(Problem("input is nested too deeply", name)) from None
        try:
            _, lines = parse_text(text, name)
        except InputError:
            lines = {}
        return data, lines
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[PathKey, int] = {}
        data = _construct(loader, node, (), lines, name)
        return data, lines
    except yaml.YAMLError as exc:
        raise _yaml_error(name, exc) from None
    except RecursionError:
        raise InputError(Problem("input is nested too deeply", name)) from None
    finally:
        loader.dispose()


def read_text(path: Path) -> str:
    """Read an input file as UTF-8 text, with a located error for bad bytes or a missing file."""
    name = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(Problem("file not found", name)) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read file: {exc.strerror}", name)) from None
    if path.is_dir():
        raise InputError(Problem("is a folder, not a file", name))
    if size > MAX_INPUT_BYTES:
        raise InputError(Problem(f"file is {size:,} bytes; the limit is {MAX_INPUT_BYTES:,}", name))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(Problem(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start}",
                                 name, line)) from None
    return text


def load_file(path: str | Path) -> tuple[Any, Source]:
    """Load a YAML or JSON file into plain data and its :class:`Source`."""
    path = Path(path)
    text = read_text(path)
    data, lines = parse_text(text, str(path), json_syntax=path.suffix.lower() == ".json")
    return data, Source(str(path), lines, path.resolve().parent)
