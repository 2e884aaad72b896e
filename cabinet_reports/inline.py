"""Inline text: a small, safe subset of Markdown plus cross-references.

Officers may write ``**bold**``, ``*italic*``, ``[a link](https://…)`` and ``[[label]]`` (a
cross-reference that renders as the labelled item's number: "2.1.4", "Appendix 2").
Raw HTML is never interpreted: markdown-it runs with HTML off, so ``<script>`` stays literal
text, and the renderers escape it again on output. Links are kept only for http, https,
mailto and tel; any other scheme (``javascript:``, ``file:``, ``data:``) is rendered as plain
text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from markdown_it import MarkdownIt

# Private-use code points fence labels through markdown parsing, so "[[x]]" is never
# mistaken for link syntax and a label cannot be forged from ordinary text.
_OPEN, _CLOSE = "\ue000", "\ue001"
REF_PATTERN = re.compile(r"\[\[([A-Za-z][A-Za-z0-9_.:-]{0,79})\]\]")
_FENCED = re.compile(_OPEN + r"([^" + _CLOSE + r"]*)" + _CLOSE)
SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:")

_md = MarkdownIt("zero").enable(["emphasis", "link", "escape", "backticks"])


@dataclass(frozen=True)
class Span:
    """A run of text with its inline formatting; ``href`` "#id" is an internal link."""

    text: str
    bold: bool = False
    italic: bool = False
    href: str | None = None
    code: bool = False


Inline = tuple[Span, ...]
Resolver = Callable[[str], tuple[str, str]]  # label -> (display text, anchor id)


class MalformedReference(ValueError):
    """Text holds "[[" or "]]" that is not a well-formed ``[[label]]`` reference."""

    def __init__(self, fragment: str):
        super().__init__(fragment)
        self.fragment = fragment


class UnknownReference(KeyError):
    """A ``[[label]]`` names no labelled item."""

    def __init__(self, label: str):
        super().__init__(label)
        self.label = label


def parse_inline(text: str, resolve: Resolver) -> Inline:
    """Parse inline Markdown into spans, resolving ``[[label]]`` through ``resolve``."""
    text = text.replace(_OPEN, "").replace(_CLOSE, "")
    fenced = REF_PATTERN.sub(lambda m: _OPEN + m.group(1) + _CLOSE, text)
    # A reference typed wrongly ("[[ strategy ]]", "[[section:purpose.") would otherwise be
    # published as literal brackets in a legal record: refuse it instead.
    stray = re.search(r"\[\[|\]\]", fenced)
    if stray:
        start = max(0, stray.start() - 10)
        raise MalformedReference(fenced[start:stray.end() + 20].replace(_OPEN, "[[").replace(_CLOSE, "]]"))
    tokens = _md.parseInline(fenced)[0].children or []
    spans: list[Span] = []
    bold = italic = False
    href: str | None = None
    for tok in tokens:
        if tok.type == "strong_open":
            bold = True
        elif tok.type == "strong_close":
            bold = False
        elif tok.type == "em_open":
            italic = True
        elif tok.type == "em_close":
            italic = False
        elif tok.type == "link_open":
            target = str(tok.attrs.get("href", ""))
            href = target if target.lower().startswith(SAFE_SCHEMES) else None
        elif tok.type == "link_close":
            href = None
        elif tok.type == "code_inline":
            spans.append(Span(tok.content, bold, italic, href, code=True))
        elif tok.type in ("softbreak", "hardbreak"):
            spans.append(Span(" ", bold, italic, href))
        else:
            _add_text(spans, tok.content, bold, italic, href, resolve)
    return _merge(spans)


def _add_text(spans: list[Span], text: str, bold: bool, italic: bool, href: str | None,
              resolve: Resolver) -> None:
    pos = 0
    for m in _FENCED.finditer(text):
        if m.start() > pos:
            spans.append(Span(text[pos:m.start()], bold, italic, href))
        try:
            shown, anchor = resolve(m.group(1))
        except KeyError:
            raise UnknownReference(m.group(1)) from None
        spans.append(Span(shown, bold, italic, href or f"#{anchor}"))
        pos = m.end()
    if pos < len(text):
        spans.append(Span(text[pos:], bold, italic, href))


def _merge(spans: list[Span]) -> Inline:
    """Join neighbouring spans with the same formatting so renderers emit fewer runs."""
    out: list[Span] = []
    for s in spans:
        if not s.text:
            continue
        if out and (out[-1].bold, out[-1].italic, out[-1].href, out[-1].code) == (s.bold, s.italic, s.href, s.code):
            out[-1] = Span(out[-1].text + s.text, s.bold, s.italic, s.href, s.code)
        else:
            out.append(s)
    return tuple(out)


def plain(spans: Inline) -> str:
    """Return the text of spans without formatting."""
    return "".join(s.text for s in spans)


def literal(text: str) -> Inline:
    """Return text as one unformatted span (for values that are not Markdown, like names)."""
    return (Span(text),) if text else ()
