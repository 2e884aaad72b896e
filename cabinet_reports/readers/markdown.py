r"""Read a report written in Markdown: YAML front matter for the cover, the body for the sections.

    ---
    council: {name: Dudley Metropolitan Borough}
    meeting: {body: Cabinet, date: 2005-03-16}
    title: Partnership Strategy
    ---
    # Purpose

    To provide the Cabinet with information on progress.

The reader gives exactly the plain data, and the field-path → line map, that the loader gives
for the equivalent YAML file, so one validator, one numbering pass and one set of renderers
serve both. The front matter is read by the project's own YAML loader (duplicate keys, alias
limits and safe tags apply), its lines shifted to the .md file. The body is parsed into
markdown-it-py tokens (CommonMark plus the table, front-matter and definition-list plugins).
Inline text is kept exactly as typed, because the YAML text fields take the same inline
Markdown (``**bold**``, ``*italic*``, links, ``[[label]]``) and inline.py parses it later; a
paragraph's lines are joined with single spaces, as YAML's folded ``>-`` strings are.

How the body maps onto the YAML block model (models.py):

====================================  =====================================================
Markdown                              YAML
====================================  =====================================================
``# Title`` or ``# Title {#key}``     a section: the theme section with that title (in any
                                      case), or the one with that key; a title other than
                                      the theme's becomes the section's ``heading:``
``# Appendix: Title {#label}``        an appendix; only appendices may follow the first
paragraph                             ``p`` at the top of a numbered section (a report);
                                      ``text`` everywhere else: in sub-points, list items,
                                      appendices and unnumbered kinds (a note)
``## Heading {#label}``               in a numbered section a ``subpoint`` whose ``blocks``
                                      are what follows, up to the next ``##``, ``#`` or a
                                      thematic break (``***``); a ``##`` with only a
                                      ``{#label}`` makes its first paragraph the sub-point's
                                      ``text``. Anywhere else a ``heading``.
``### Heading``                       ``heading`` (an unnumbered sub-heading)
``(a) …``, ``a. …`` or ``a) …``       ``letters`` (see below); a CommonMark ``1.`` list is a
                                      lettered list too: the theme prints the markers
``- …``, ``* …``                      ``bullets``; an item's first paragraph is its ``text``,
                                      the rest are its ``blocks``
definition list (``When`` on one      ``timeline``: the term is ``when``, the definition's
line, ``: text`` on the next)         first paragraph ``text``, the rest its ``blocks``
pipe table                            ``table`` with the first row as ``header``; a
                                      paragraph ``Table: Caption {#label}`` right before or
                                      after it gives ``caption`` and ``label``
``{#label}`` ending a paragraph,      that block's (or item's) ``label``
item or heading
``<!-- comment -->``                  nothing: a note to the author
====================================  =====================================================

Lettered items: CommonMark has no lettered lists (``a. text`` is a paragraph), so the
reader reads paragraph tokens. A paragraph whose first line starts with ``(a)``, ``a.`` or
``a)`` and a space starts a lettered list; each further line that starts with the next
letter's marker starts the next item (other lines continue the item), and a following
paragraph that starts with the next letter's marker continues the list. The letters are
checked (a, b, c … in order) but never printed: the theme sets the markers. A paragraph that
really begins with such characters escapes the first: ``\(a)`` or ``a\.``.

Everything else (code blocks, block quotes, raw HTML other than comments) is an error with
the file and line, never silently dropped.
"""

from __future__ import annotations

import difflib
import re
import string
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from ..errors import InputError, Problem
from ..loader import LineMap, PathKey, Source, parse_text, read_text, text_digest
from ..theme import Theme

MARKDOWN_SUFFIXES = (".md", ".markdown")

# markdown-it stops parsing (silently dropping the rest of the file) at maxNesting; set it
# well above the model's own limit and refuse any file that reaches it.
MAX_MARKDOWN_NESTING = 60

# HTML is switched on only so that comments arrive as html_block tokens the reader can
# drop; every other block of HTML is refused, and inline text is never rendered as HTML
# (inline.py parses it with HTML off). Link reference definitions are off: "[note]: x" stays
# text, as it would in a YAML string.
# The inline pass is off too: the reader keeps each paragraph's source text (inline.py parses
# it later, as it does YAML text), and skipping it makes reading three times faster.
_MD = (MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_MARKDOWN_NESTING})
       .enable("table").disable(["reference", "inline", "text_join"])
       .use(front_matter_plugin).use(deflist_plugin))

# "{#label}" at the very end of a paragraph, item or heading (not after a backslash). Anything
# between the braces is taken, so a malformed label ("{#my label}") is refused by validation
# with its line instead of being printed.
_LABEL = re.compile(r"\s*(?<!\\)\{#([^{}]+)\}\s*$")
# A lettered-item marker at the start of a line: "(a) ", "a. ", "a) ".
_MARKER = re.compile(r"(?:\(([a-z])\)|([a-z])[.)])(?:[ \t]+|$)")
_CAPTION = "Table:"


def _letter(n: int) -> str:
    """Return the n-th letter (1 → a); past z there is no single-letter marker."""
    return string.ascii_lowercase[n - 1] if 1 <= n <= 26 else ""


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _join(content: str) -> str:
    """Join an inline node's source lines with single spaces (a line break is a space)."""
    lines = content.split("\n")
    out = []
    for i, line in enumerate(lines):
        line = line.strip()
        if i < len(lines) - 1 and (len(line) - len(line.rstrip("\\"))) % 2 == 1:
            line = line[:-1].rstrip()  # a backslash hard break: the break becomes a space
        out.append(line)
    return " ".join(part for part in out if part)


def _split_label(text: str) -> tuple[str, str | None]:
    """Return the text without a trailing ``{#label}``, and the label."""
    m = _LABEL.search(text)
    if not m:
        return text, None
    return text[:m.start()].rstrip(), m.group(1)


def _line(node: SyntaxTreeNode | None, default: int | None = None) -> int | None:
    while node is not None:
        if node.map:
            return node.map[0] + 1
        node = node.parent
    return default


def _inline_of(node: SyntaxTreeNode) -> SyntaxTreeNode | None:
    return next((c for c in node.children if c.type == "inline"), None)


def _raw(node: SyntaxTreeNode) -> str:
    """Return the source text of a paragraph, heading or cell node (its inline child)."""
    inline = node if node.type == "inline" else _inline_of(node)
    return inline.content if inline is not None else ""


def _first_line(node: SyntaxTreeNode) -> str:
    return _raw(node).lstrip().split("\n", 1)[0].strip()


class _Reader:
    """Turns the token tree of one Markdown file into report data and a line map."""

    def __init__(self, name: str, theme: Theme):
        self.name = name
        self.theme = theme
        self.lines: LineMap = LineMap({(): 1})  # with the front matter's shapes (validation.py)
        self.problems: list[Problem] = []
        self.numbered = True
        self._headed: set[str] = set()  # sections written with their own heading

    # ------------------------------------------------------------------ bookkeeping
    def problem(self, line: int | None, message: str, field: str | None = None) -> None:
        self.problems.append(Problem(message, self.name, line, field))

    def mark(self, path: PathKey, line: int | None) -> None:
        if line is None:
            return
        self.lines.setdefault(path, line)
        # document.py names a section's blocks "sections.KEY[i]" even when the section is
        # written as {heading, blocks}: give both spellings the line.
        if len(path) > 2 and path[0] == "sections" and path[2] == "blocks" and path[1] in self._headed:
            self.lines.setdefault(path[:2] + path[3:], line)

    # ------------------------------------------------------------------ the file
    def read(self, text: str) -> tuple[dict[str, Any], dict[PathKey, int]]:
        try:
            tokens = _MD.parse(text)
        except RecursionError:
            raise InputError(Problem("the Markdown is nested too deeply", self.name)) from None
        deepest = max(tokens, key=lambda t: t.level, default=None)
        if deepest is not None and deepest.level >= MAX_MARKDOWN_NESTING - 1:
            line = deepest.map[0] + 1 if deepest.map else None
            raise InputError(Problem(f"the Markdown is nested more than {MAX_MARKDOWN_NESTING // 2} lists deep",
                                     self.name, line))
        nodes = list(SyntaxTreeNode(tokens).children)
        if not nodes or nodes[0].type != "front_matter":
            closed = "" if not text.lstrip("\ufeff").startswith("---") else \
                " (the front matter has no closing line ---)"
            raise InputError(Problem(
                "a Markdown report starts with front matter: a line ---, the cover fields in YAML "
                f"(title, council, meeting …) and a closing line ---{closed}", self.name, 1))
        data = self.front_matter(nodes[0])
        kind = data.get("kind", "report")
        spec = self.theme.config.kinds.get(kind) if isinstance(kind, str) else None
        self.numbered = spec.numbering.numbered if spec is not None else True  # a bad kind: validation says so
        self.body(nodes[1:], data)
        if self.problems:
            raise InputError(self.problems)
        return data, self.lines

    def front_matter(self, node: SyntaxTreeNode) -> dict[str, Any]:
        offset = (node.map[0] if node.map else 0) + 1  # the YAML starts on the line after "---"
        try:
            data, lines = parse_text(node.content, self.name)
        except InputError as exc:
            raise InputError([Problem(p.message, p.file, p.line + offset if p.line else None, p.field)
                              for p in exc.problems]) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InputError(Problem("the front matter must be cover fields (title: …, council: …), "
                                     f"not a {type(data).__name__}", self.name, offset + 1))
        for path, line in lines.items():
            if path:
                self.lines[path] = line + offset
        self.lines.shapes.update(getattr(lines, "shapes", {}))
        for key in ("sections", "appendices"):
            if key in data:
                self.problem(self.lines.get((key,)), f"{key} are written in the Markdown body "
                             f"(a '# {'Heading' if key == 'sections' else 'Appendix: Title'}' line each), "
                             "not in the front matter", key)
        return data

    def body(self, nodes: list[SyntaxTreeNode], data: dict[str, Any]) -> None:
        parts: list[tuple[SyntaxTreeNode, list[SyntaxTreeNode]]] = []
        for node in nodes:
            if node.type == "heading" and node.tag == "h1":
                parts.append((node, []))
            elif parts:
                parts[-1][1].append(node)
            elif not self._is_comment(node):
                self.problem(_line(node), "text before the first section: start each section with a "
                             "'# Heading' line")
        sections: dict[str, Any] = {}
        appendices: list[dict[str, Any]] = []
        first_line: dict[str, int] = {}
        for heading, content in parts:
            title, label = _split_label(_join(_raw(heading)))
            line = _line(heading)
            if title[:9].casefold() == "appendix:":
                self.appendix(title[9:].strip(), label, line, content, appendices)
            elif re.match(r"appendix\s+\S{1,4}\s*:", title, re.I):
                self.problem(line, "write an appendix heading as '# Appendix: Title' "
                             "(appendices are numbered for you)")
            elif appendices:
                self.problem(line, "sections come before the appendices: move this section above "
                             "the first '# Appendix:' heading")
            else:
                self.section(title, label, line, content, sections, first_line)
        if sections:
            data["sections"] = sections
            self.lines.setdefault(("sections",), min(first_line.values()))
        if appendices:
            data["appendices"] = appendices

    # ------------------------------------------------------------------ sections
    def section(self, title: str, key: str | None, line: int | None, content: list[SyntaxTreeNode],
                sections: dict[str, Any], first_line: dict[str, int]) -> None:
        known = self.theme.config.sections
        heading = None
        if key is None:
            match = next((s for s in known if _fold(s.title) == _fold(title)), None)
            if match is None:
                self.problem(line, self._unknown_title(title))
                return
            key = match.key
        else:
            spec = next((s for s in known if s.key == key), None)
            if title and not (spec is not None and _fold(spec.title) == _fold(title)):
                heading = title  # the report's own heading for this section
        if key in sections:
            self.problem(line, f"section '{key}' appears twice (first at line {first_line[key]})",
                         f"sections.{key}")
            return
        first_line[key] = line or 0
        path: PathKey = ("sections", key)
        self.mark(path, line)
        if heading is not None:
            self._headed.add(key)
            self.mark(path + ("heading",), line)
            sections[key] = {"heading": heading, "blocks": self.blocks(content, path + ("blocks",), self.numbered)}
        else:
            sections[key] = self.blocks(content, path, self.numbered)

    def _unknown_title(self, title: str) -> str:
        titles = [s.title for s in self.theme.config.sections]
        if not title:
            return "a section heading needs a title, or a {#key} naming the section"
        folded = {_fold(t): t for t in titles}
        close = difflib.get_close_matches(_fold(title), list(folded), n=1, cutoff=0.75)
        hint = f" (did you mean '{folded[close[0]]}'?)" if close else ""
        return (f"unknown section title '{title}'{hint}: the theme's sections are {', '.join(titles)}; "
                "end the heading with {#key} to name a section the theme does not know")

    def appendix(self, title: str, label: str | None, line: int | None, content: list[SyntaxTreeNode],
                 appendices: list[dict[str, Any]]) -> None:
        path: PathKey = ("appendices", len(appendices))
        if not title:
            self.problem(line, "an appendix heading needs a title: '# Appendix: Title'")
        self.mark(("appendices",), line)
        for at in (path, path + ("title",), path + ("label",)):
            self.mark(at, line)
        entry: dict[str, Any] = {"title": title}
        if label:
            entry["label"] = label
        entry["blocks"] = self.blocks(content, path + ("blocks",), False)
        appendices.append(entry)

    # ------------------------------------------------------------------ blocks
    def blocks(self, nodes: list[SyntaxTreeNode], path: PathKey, numbered: bool) -> list[dict[str, Any]]:
        """Convert a run of block nodes; ``numbered``: the top of a numbered section."""
        out: list[dict[str, Any]] = []
        letters: dict[str, Any] | None = None  # the lettered list a next paragraph may continue
        caption: tuple[str, str | None, int | None] | None = None  # a "Table:" waiting for its table
        i = 0
        while i < len(nodes):
            node = nodes[i]
            at = path + (len(out),)
            line = _line(node)
            kind = node.type
            continues = None
            if kind == "heading" and node.tag == "h2" and numbered:
                end = i + 1
                while end < len(nodes) and nodes[end].type != "hr" and \
                        not (nodes[end].type == "heading" and nodes[end].tag == "h2"):
                    end += 1
                out.append(self.subpoint(node, nodes[i + 1:end], at))
                i = end + (1 if end < len(nodes) and nodes[end].type == "hr" else 0)
                letters = None
                continue
            if kind == "paragraph":
                text, label = _split_label(_join(_raw(node)))
                if text.startswith(_CAPTION):
                    caption = self._caption(text, label, line, nodes, i, out, path)
                elif _MARKER.match(_first_line(node)):
                    continues = self.lettered(node, at, letters, out, path)
                else:
                    block = {"p" if numbered else "text": text}
                    if label:
                        block["label"] = label
                    self.mark_block(at, line, "p" if numbered else "text")
                    out.append(block)
            elif kind == "heading":
                text, label = _split_label(_join(_raw(node)))
                block = {"heading": text}
                if label:
                    block["label"] = label
                self.mark_block(at, line, "heading")
                out.append(block)
            elif kind in ("bullet_list", "ordered_list"):
                field = "bullets" if kind == "bullet_list" else "letters"
                self.mark_block(at, line, field)
                out.append({field: [self.item(li, at + (field, j)) for j, li in enumerate(node.children)]})
            elif kind == "dl":
                self.mark_block(at, line, "timeline")
                out.append({"timeline": self.timeline(node, at + ("timeline",))})
            elif kind == "table":
                self.mark_block(at, line, "table")
                out.append(self.table(node, at, caption))
                caption = None
            elif kind == "hr":
                pass  # ends a sub-point (handled above); elsewhere it changes nothing
            elif self._is_comment(node):
                i += 1
                continue  # a comment does not end a lettered list or separate a caption
            else:
                self.problem(line, self._unsupported(node))
            letters = continues
            i += 1
        if caption is not None:
            self.problem(caption[2], "a 'Table:' caption must come right before or after its table")
        return out

    def mark_block(self, at: PathKey, line: int | None, field: str) -> None:
        self.mark(at, line)
        self.mark(at + (field,), line)
        self.mark(at + ("label",), line)

    def _caption(self, text: str, label: str | None, line: int | None, nodes: list[SyntaxTreeNode], i: int,
                 out: list[dict[str, Any]], path: PathKey) -> tuple[str, str | None, int | None] | None:
        """Attach a "Table: caption" paragraph to the table just before it, or hold it for the next."""
        value = (text[len(_CAPTION):].strip(), label, line)
        after_table = i > 0 and nodes[i - 1].type == "table" and out and "table" in out[-1] \
            and "caption" not in out[-1]["table"]
        if i + 1 < len(nodes) and nodes[i + 1].type == "table":
            return value
        if after_table:
            self._apply_caption(out[-1], value, path + (len(out) - 1,))
            return None
        self.problem(line, "a 'Table:' caption must come right before or after its table")
        return None

    def _apply_caption(self, block: dict[str, Any], caption: tuple[str, str | None, int | None],
                       at: PathKey) -> None:
        text, label, line = caption
        block["table"]["caption"] = text
        self.mark(at + ("table", "caption"), line)
        if label:
            block["label"] = label
            self.lines[at + ("label",)] = line  # type: ignore[assignment]

    def table(self, node: SyntaxTreeNode, at: PathKey,
              caption: tuple[str, str | None, int | None] | None) -> dict[str, Any]:
        spec: dict[str, Any] = {}
        block: dict[str, Any] = {"table": spec}
        rows: list[list[str]] = []
        for part in node.children:  # thead, tbody
            for r, tr in enumerate(part.children):
                cells = [_join(_raw(cell)) for cell in tr.children]
                if part.type == "thead":
                    spec["header"] = cells
                    self.mark(at + ("table", "header"), _line(tr))
                else:
                    self.mark(at + ("table", "rows", len(rows)), _line(tr))
                    rows.append(cells)
        spec["rows"] = rows
        if caption is not None:
            self._apply_caption(block, caption, at)
        return block

    def lettered(self, node: SyntaxTreeNode, at: PathKey, run: dict[str, Any] | None,
                 out: list[dict[str, Any]], path: PathKey) -> dict[str, Any] | None:
        """Read a paragraph of lettered items; return the list a next paragraph may continue."""
        first = _line(node) or 0
        lines = [ln.strip() for ln in _raw(node).split("\n")]
        m = _MARKER.match(lines[0])
        assert m is not None
        letter = m.group(1) or m.group(2)
        if run is not None and letter == _letter(len(run["letters"]) + 1):
            block, block_at = run, path + (len(out) - 1,)
        elif letter == "a":
            block, block_at = {"letters": []}, at
            self.mark_block(at, first, "letters")
            out.append(block)
        else:
            expected = _letter(len(run["letters"]) + 1) if run is not None else "a"
            self.problem(first, f"lettered item '{m.group(0).strip()}' where ({expected}) comes next: write "
                         "the letters in order from (a) (they are checked, not printed), or start the "
                         f"paragraph with a backslash (\\{m.group(0).strip()}) if it is not a list item")
            return None
        items: list[tuple[int, list[str]]] = []  # (line, source lines) per item
        for k, raw in enumerate(lines):
            found = _MARKER.match(raw)
            expected = _letter(len(block["letters"]) + len(items) + 1)
            if found and (found.group(1) or found.group(2)) == expected:
                items.append((first + k, [raw[found.end():]]))
            else:
                items[-1][1].append(raw)
        for line, source in items:
            text, label = _split_label(_join("\n".join(source)))
            item: dict[str, Any] = {"text": text}
            if label:
                item["label"] = label
            self.mark_block(block_at + ("letters", len(block["letters"])), line, "text")
            block["letters"].append(item)
        return block

    def item(self, li: SyntaxTreeNode, at: PathKey) -> dict[str, Any]:
        """Convert a list item: its first paragraph is the text, the rest its blocks."""
        children = list(li.children)
        line = _line(li)
        if not children or children[0].type != "paragraph":
            self.problem(line, "a list item needs text on its first line")
            return {"text": ""}
        text, label = _split_label(_join(_raw(children[0])))
        item: dict[str, Any] = {"text": text}
        if label:
            item["label"] = label
        self.mark_block(at, line, "text")
        if len(children) > 1:
            item["blocks"] = self.blocks(children[1:], at + ("blocks",), False)
        return item

    def timeline(self, dl: SyntaxTreeNode, at: PathKey) -> list[dict[str, Any]]:
        """Convert a definition list: each term is a "when", its definition the entry's text and blocks."""
        entries: list[dict[str, Any]] = []
        pending: SyntaxTreeNode | None = None
        for child in dl.children:
            if child.type == "dt":
                if pending is not None:
                    self.problem(_line(pending), "a timeline date needs its text on the next line, after ': '")
                pending = child
                continue
            if pending is None:  # a second definition for one term
                self.problem(_line(child), "a timeline entry has one ': text' after its date; "
                             "continue the text in the same definition")
                continue
            where = at + (len(entries),)
            line = _line(pending)
            when, when_label = _split_label(_join(_raw(pending)))
            parts = list(child.children)
            entry: dict[str, Any] = {"when": when}
            self.mark(where, line)
            self.mark(where + ("when",), line)
            if parts and parts[0].type == "paragraph":
                text, label = _split_label(_join(_raw(parts[0])))
                entry["text"] = text
                self.mark(where + ("text",), _line(parts[0]))
                parts = parts[1:]
            else:
                entry["text"] = ""
                label = None
            if when_label or label:
                entry["label"] = when_label or label
                self.mark(where + ("label",), line)
            if parts:
                entry["blocks"] = self.blocks(parts, where + ("blocks",), False)
            entries.append(entry)
            pending = None
        if pending is not None:
            self.problem(_line(pending), "a timeline date needs its text on the next line, after ': '")
        return entries

    def subpoint(self, heading: SyntaxTreeNode, nodes: list[SyntaxTreeNode], at: PathKey) -> dict[str, Any]:
        title, label = _split_label(_join(_raw(heading)))
        line = _line(heading)
        block: dict[str, Any] = {"subpoint": title or None}
        if label:
            block["label"] = label
        self.mark_block(at, line, "subpoint")
        if not title and nodes and nodes[0].type == "paragraph" and not _MARKER.match(_first_line(nodes[0])):
            # "## {#label}": a sub-point without a heading reads "2.1.1 Its first paragraph …"
            text, text_label = _split_label(_join(_raw(nodes[0])))
            block["text"] = text
            self.mark(at + ("text",), _line(nodes[0]))
            if text_label and not label:
                block["label"] = text_label
            nodes = nodes[1:]
        blocks = self.blocks(nodes, at + ("blocks",), False)
        if blocks:
            block["blocks"] = blocks
        return block

    # ------------------------------------------------------------------ the rest
    @staticmethod
    def _is_comment(node: SyntaxTreeNode) -> bool:
        text = node.content.strip() if node.type == "html_block" else ""
        return text.startswith("<!--") and text.endswith("-->")

    @staticmethod
    def _unsupported(node: SyntaxTreeNode) -> str:
        if node.type in ("code_block", "fence"):
            return ("code blocks are not part of a report (a line indented by four spaces is a code block "
                    "in Markdown: remove the indentation)")
        if node.type == "blockquote":
            return "block quotes (lines starting with '>') are not part of a report"
        if node.type == "html_block":
            return "raw HTML is not part of a report: write text (start the line with \\< to show a '<')"
        return f"this Markdown ({node.type.replace('_', ' ')}) has no place in a report"


def parse_markdown(text: str, name: str, theme: Theme) -> tuple[dict[str, Any], dict[PathKey, int]]:
    """Parse Markdown report text into the data and field-path → line map a YAML file would give."""
    return _Reader(name, theme).read(text)


def read_markdown(path: str | Path, theme: Theme) -> tuple[dict[str, Any], Source]:
    """Read a Markdown report file into plain data and its :class:`~cabinet_reports.loader.Source`."""
    path = Path(path)
    text = read_text(path)
    data, lines = parse_markdown(text, str(path), theme)
    return data, Source(str(path), lines, path.resolve().parent, digest=text_digest(text))
