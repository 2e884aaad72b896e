"""Which strings may break anywhere in the PDF: URLs, e-mail addresses and long tokens.

The PDF's base stylesheet gives the page ``overflow-wrap: break-word``, which breaks a word
only when it cannot fit a line and leaves table column widths alone, so ordinary words stay
whole even in narrow table columns ("Complet/e" is a defect). Strings that are not words
must also be able to break mid-string, or a long URL in a table cell widens the table past
the right margin: the HTML templates mark them with :func:`breakable_html` (the ``breakable``
filter), and the stylesheet gives the mark ``overflow-wrap: anywhere``. Giving the whole page
``anywhere`` instead made WeasyPrint measure every table cell character by character, which
doubled the layout time.

Imports only markupsafe: the PDF worker process reads :data:`BREAK_ANYWHERE` from here.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# A run of more characters than this without a space is no longer a word but an unbreakable
# string (a reference, a token). Twenty letters keep "Responsibilities" and
# "internationalisation" whole.
LONG_TOKEN = 20
_UNBREAKABLE = re.compile(r"\S{%d,}|\S*(?:://|www\.|@)\S*" % (LONG_TOKEN + 1))
BREAK_ANYWHERE = "break-anywhere"  # the class renderers.pdf gives ``overflow-wrap: anywhere``


def unbreakable(text: object) -> bool:
    """Tell whether ``text`` holds a string that must be able to break anywhere (a URL, a token).

    A link's text is marked on the link itself (``<a class="break-anywhere">``), not with a
    span inside it: WeasyPrint's tagger then puts a span's structure element between the Link
    element and its annotation, which leaves the annotation outside every Link (PDF/UA 7.18.5).
    """
    return _UNBREAKABLE.search(str(text)) is not None


def breakable_html(text: str, autoescape: bool = True) -> str:
    """Return ``text`` as HTML with every unbreakable string wrapped in a breakable span.

    URLs, e-mail addresses and runs longer than :data:`LONG_TOKEN` characters go in
    ``<span class="break-anywhere">``. The text is escaped (and returned as Markup) unless the
    template environment turned autoescape off, as Jinja's own filters do.
    """
    esc = escape if autoescape else str
    out = []
    pos = 0
    for m in _UNBREAKABLE.finditer(text):
        out.append(esc(text[pos:m.start()]))
        out.append(f'<span class="{BREAK_ANYWHERE}">{esc(m.group())}</span>')
        pos = m.end()
    out.append(esc(text[pos:]))
    return Markup("".join(out)) if autoescape else "".join(out)
