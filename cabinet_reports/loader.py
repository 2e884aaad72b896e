"""Read YAML or JSON input into plain data while remembering the line of every field.

pydantic reports errors by field path (``sections.background[2].text``); officers need the
line in their file as well. We compose the YAML node tree ourselves (JSON is YAML's flow
syntax, so the same composition gives its lines too) and keep a map from field path to line.
Duplicate keys, which PyYAML and Python's json silently accept (the second value quietly
wins: an exempt report's later ``"classification": "public"`` would publish it), are an
error here in both formats, located at the second key.

The YAML is parsed by libyaml (PyYAML's C parser, about ten times faster than the pure
Python one, so a large file is refused by the limits in a second or two rather than after
a minute of parsing) when PyYAML has it, as its wheels do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, Problem
from .limits import ALIAS_CHARS, ALIAS_VALUES, FILE_BYTES, LIMITS, VALUES, LimitExceeded

PathKey = tuple[str | int, ...]

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# The characters YAML refuses to read (PyYAML's own rule, yaml.reader.Reader.NON_PRINTABLE):
# C0 and C1 controls other than tab, newlines and NEL, DEL, U+FFFE/U+FFFF. The same rule
# applies to JSON, so both formats refuse a raw control character with its line and column.
_UNPRINTABLE = yaml.reader.Reader.NON_PRINTABLE


@dataclass(frozen=True)
class Shape:
    """How a value was written: a list or mapping, in flow (``[a, b]``, ``{a: b}``) or block style.

    YAML turns some text into a list or a mapping without complaint (an unquoted comma inside
    ``[ ]``, ``Note: text``); validation uses these facts to say so. ``kind`` is "list",
    "mapping" or "null" (a key written without a value, as ``{name: A, Director}`` gives);
    ``text`` is the value's source text, cut at 200 characters.
    """

    kind: str
    flow: bool
    text: str


class LineMap(dict):
    """A field-path → line map that also keeps the :class:`Shape` of its lists, mappings and empty values."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.shapes: dict[PathKey, Shape] = {}


class Source:
    """Where a model came from: the file name, the line of every field path and how values were written."""

    def __init__(self, name: str, lines: dict[PathKey, int] | None = None, base_dir: Path | None = None,
                 shapes: dict[PathKey, Shape] | None = None, digest: str | None = None):
        self.name = name
        self.lines = lines or {}
        self.base_dir = base_dir
        self.shapes = shapes if shapes is not None else getattr(lines, "shapes", {})
        self.digest = digest  # SHA-256 of the text read (text_digest), for a file

    def line_of(self, path: PathKey) -> int | None:
        """Return the line of ``path`` or of its nearest ancestor that has one."""
        path = tuple(path)
        if len(path) > 2 and path[0] == "sections" and isinstance(path[2], int) and path[:2] + ("blocks",) in self.lines:
            # Errors name a section's blocks sections.KEY[i], the shorthand; this author wrote
            # them under sections.KEY.blocks.
            path = path[:2] + ("blocks",) + path[2:]
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


def _yaml_error(name: str, exc: yaml.YAMLError, text: str) -> InputError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if "maximum nesting depth" in problem:  # libyaml stops at 1,000 levels
        return InputError(Problem("input is nested too deeply", name, line))
    if mark is not None and "cannot start any token" in problem and _char_at(text, mark.line, mark.column) == "\t":
        problem = "found a tab character where YAML needs spaces for indentation"
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    if mark is not None and "mapping values are not allowed" in problem:
        message += _colon_hint(text, mark.line)
    elif context and "flow" in context:
        message += "; inside [ ] or { }, text holding a comma or a colon must be in quotes"
    return InputError(Problem(message, name, line))


def _colon_hint(text: str, line: int) -> str:
    """Say how to quote text whose ': ' YAML took for the start of a mapping (title: Consultation: results)."""
    source = text.split("\n")[line] if line < len(text.split("\n", line + 1)) else ""
    found = re.match(r"^(\s*(?:- )?[^:#'\"]+):\s+(.+?)\s*$", source)
    example = f' ({found.group(1).strip()}: "{found.group(2)}")' if found and '"' not in found.group(2) else ""
    return f"; a colon followed by a space inside text makes YAML read a new field: put the whole text in quotes{example}"


def _char_at(text: str, line: int, column: int) -> str:
    """Return the character at a 0-based line and column of ``text`` ('' if there is none)."""
    lines = text.split("\n", line + 1)
    return lines[line][column:column + 1] if line < len(lines) else ""


def refuse_unprintable(text: str, name: str) -> None:
    """Raise a located error if ``text`` holds a raw character that YAML cannot read.

    A raw control character (pasted from a PDF or a terminal) otherwise stopped PyYAML with
    "unacceptable character #x0001", an internal error; JSON's own message did not say
    which character or where.
    """
    found = _UNPRINTABLE.search(text)
    if found is None:
        return
    pos = found.start()
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    code = ord(found.group())
    kind = "control character" if code < 0x20 or 0x7F <= code <= 0x9F else "character"
    raise InputError(Problem(f"the {kind} U+{code:04X} at column {column} cannot appear in a report file "
                             "(delete it, or retype the text around it)", name, line))


_STR_TAG = "tag:yaml.org,2002:str"


def _describe(value: Any) -> str:
    """Name a value briefly: a key may be an aliased "billion laughs" list whose repr never ends."""
    if isinstance(value, (list, tuple, set, dict)):
        return "a list" if isinstance(value, (list, tuple)) else "a mapping"
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


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
    """The nodes constructed so far, and how many values and characters aliases repeated."""

    def __init__(self, text: str = "") -> None:
        self.text = text  # the source, for the shapes of values
        self.nodes: set[int] = set()
        self.count = 0
        self.repeats = 0
        self.repeated_chars = 0


def _construct(loader: yaml.SafeLoader, node: yaml.Node, path: PathKey, lines: dict, name: str,
               seen: _Seen | None = None, at: int | None = None) -> Any:
    """Build plain data from ``node``, recording the line of every path and applying the limits.

    ``at`` is the line where the enclosing value (a key, a list) starts: an alias's own
    position is lost when YAML composes it, so a repeated value is reported there.
    """
    seen = seen if seen is not None else _Seen()
    repeated = id(node) in seen.nodes
    line = at if repeated and at else node.start_mark.line + 1
    field = format_field_path(path) or None
    seen.count += 1
    if seen.count > VALUES:
        raise LIMITS["values"].refuse(f"the file holds more than {VALUES:,} values", field, line, name)
    if repeated:  # reached again through an alias
        seen.repeats += 1
        if seen.repeats > ALIAS_VALUES:
            raise LIMITS["alias_values"].refuse(f"YAML aliases expand to more than {ALIAS_VALUES:,} repeated values",
                                                field, line, name)
        if isinstance(node, yaml.ScalarNode):
            # Every node under a repeated one is reached again too, so this counts all the
            # text an alias repeats: the expanded size, not just the number of values.
            seen.repeated_chars += len(node.value)
            if seen.repeated_chars > ALIAS_CHARS:
                raise LIMITS["alias_chars"].refuse(f"YAML aliases repeat more than {ALIAS_CHARS:,} characters of text",
                                                   field, line, name)
    else:
        seen.nodes.add(id(node))
    lines.setdefault(path, line)
    shapes = getattr(lines, "shapes", None)
    if shapes is not None and not repeated:
        _record_shape(node, path, shapes, seen.text)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolve YAML merge keys (<<) like the safe loader would
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            try:
                key = loader.construct_object(key_node, deep=True)
            except yaml.YAMLError:
                raise
            except Exception:  # noqa: BLE001 - a 5,000-digit number or "!!timestamp purpose" as a key
                key = getattr(key_node, "value", None)
            key_line = line if repeated else key_node.start_mark.line + 1
            if not isinstance(key, (str, int, bool)) or isinstance(key, bool):
                raise InputError(Problem(f"keys must be text, not {_describe(key)}", name, key_line, field))
            key = str(key)
            if key in result:
                raise InputError(Problem(f"duplicate key '{key}'", name, key_line, format_field_path(path + (key,))))
            lines[path + (key,)] = key_line
            result[key] = _construct(loader, value_node, path + (key,), lines, name, seen, key_line)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, path + (i,), lines, name, seen, line) for i, item in enumerate(node.value)]
    if node.tag == _STR_TAG:
        return node.value  # what construct_object gives for text, without its bookkeeping (most nodes)
    try:
        return _with_source_text(loader.construct_object(node, deep=True), node.value)
    except yaml.YAMLError:
        raise
    except Exception:  # noqa: BLE001 - PyYAML's constructors raise ValueError, AttributeError …
        # A scalar that looks like a date but is not one (2005-13-16), or that is tagged as
        # one (!!timestamp soon): keep the text and let validation report it against its
        # field, with its path.
        return node.value


_NULL_TAG = "tag:yaml.org,2002:null"


def _record_shape(node: yaml.Node, path: PathKey, shapes: dict[PathKey, Shape], text: str) -> None:
    """Remember how a list, a mapping or a key without a value was written."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _NULL_TAG and node.value == "":
            shapes[path] = Shape("null", _in_flow(text, node), "")
        return
    kind = "mapping" if isinstance(node, yaml.MappingNode) else "list"
    start, end = node.start_mark.index, node.end_mark.index
    shapes[path] = Shape(kind, bool(node.flow_style), text[start:min(end, start + 200)])


def _in_flow(text: str, node: yaml.Node) -> bool:
    """Return True when an empty value sits inside ``{ }`` (a comma or ``}`` follows it on its line)."""
    # A bounded look (a one-line file can hold thousands of empty values).
    rest = text[node.start_mark.index:node.start_mark.index + 80].lstrip(" \t")
    return rest.startswith((",", "}"))


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a JSON object, refusing a key given twice (json.loads would keep the last)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _parse_json(text: str, name: str) -> tuple[Any, dict[PathKey, int]]:
    # json.loads gives exact JSON semantics; the YAML composition only supplies lines (and,
    # for a duplicate key, its line and path).
    try:
        data = json.loads(text, object_pairs_hook=_unique_pairs, parse_int=lambda t: _with_source_text(int(t), t),
                          parse_float=lambda t: _with_source_text(float(t), t))
    except json.JSONDecodeError as exc:
        where = f" (column {exc.colno})" if exc.colno > 1 else ""
        raise InputError(Problem(f"invalid JSON: {exc.msg}{where}", name, exc.lineno)) from None
    except RecursionError:
        raise InputError(Problem("input is nested too deeply", name)) from None
    except _DuplicateKey as dup:
        try:
            _json_lines(text, name)
        except InputError as exc:
            if any(p.message == f"duplicate key '{dup.key}'" for p in exc.problems):
                raise exc from None
        raise InputError(Problem(f"duplicate key '{dup.key}'", name)) from None
    except ValueError:  # a number beyond Python's int conversion limit (4,300 digits)
        digits = re.search(r"\d{4301,}", text)
        line = text.count("\n", 0, digits.start()) + 1 if digits else None
        raise InputError(Problem("invalid JSON: a number has more than 4,300 digits", name, line)) from None
    try:
        _, lines = _json_lines(text, name)
        lines.shapes.clear()  # JSON text is always quoted: YAML's readings do not apply
    except LimitExceeded:
        raise
    except InputError:
        lines = {}  # valid JSON that YAML 1.1 cannot read (a key over 1,024 characters): no lines
    return data, lines


# JSON writes characters beyond the BMP as surrogate pairs ("\ud83d\ude00", json.dumps'
# default), which YAML refuses; for the line map any escape of the same length will do.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _json_lines(text: str, name: str) -> tuple[Any, dict[PathKey, int]]:
    """Compose JSON text as YAML for its field-path → line map (the data is json.loads')."""
    return parse_text(_SURROGATE_ESCAPE.sub(r"\\u0020", text), name)


def parse_text(text: str, name: str, *, json_syntax: bool = False) -> tuple[Any, dict[PathKey, int]]:
    """Parse YAML (or JSON) text into plain data and a field-path → line map."""
    refuse_unprintable(text, name)
    if json_syntax:
        return _parse_json(text, name)
    try:
        loader = _SafeLoader(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(name, exc, text) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines = LineMap()
        data = _construct(loader, node, (), lines, name, _Seen(text))
        return data, lines
    except yaml.YAMLError as exc:
        raise _yaml_error(name, exc, text) from None
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
    if size > FILE_BYTES:
        raise LIMITS["file_bytes"].refuse(f"file is {size:,} bytes", file=name)
    with path.open("rb") as stream:  # bounded: a device or a growing file has no honest size
        raw = stream.read(FILE_BYTES + 1)
    if len(raw) > FILE_BYTES:
        raise LIMITS["file_bytes"].refuse(f"file is more than {FILE_BYTES:,} bytes", file=name)
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
    return data, Source(str(path), lines, path.resolve().parent, digest=text_digest(text))


def text_digest(text: str) -> str:
    """Return the SHA-256 of a file's text as read: what its model was made from."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()
