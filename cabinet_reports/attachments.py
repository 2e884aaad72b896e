"""Which elements of a page would make WeasyPrint embed a file in the PDF.

The theme door (:meth:`cabinet_reports.theme.Theme.render`) refuses such a page. This module
is light on purpose: a page without any ``rel`` attribute is answered without importing
WeasyPrint, so rendering HTML (for the PDF worker, the web page) stays cheap.
"""

from __future__ import annotations

import re

__all__ = ["attachment_links"]

_REL_ATTRIBUTE = re.compile(r"rel[\t\n\f\r ]*=", re.IGNORECASE)


def attachment_links(html: str) -> list[str]:
    """Return the href of every element WeasyPrint would embed as a file: an empty list for none.

    The HTML is parsed as WeasyPrint parses it (tinyhtml5, then its own ``rel`` test), so
    entity-encoded values (``rel="&#97;ttachment"``), odd case and odd spacing are all found;
    ``<a>`` and ``<link>`` in any namespace count.
    """
    if not _REL_ATTRIBUTE.search(html):
        return []
    import weasyprint  # only for pages that carry a rel attribute at all

    from .fetcher import LockedURLFetcher
    from weasyprint.html import element_has_link_type

    parsed = weasyprint.HTML(string=html, url_fetcher=LockedURLFetcher([]))
    found = []
    for element in parsed.etree_element.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag.rsplit("}", 1)[-1] in ("a", "link") and element_has_link_type(element, "attachment"):
            found.append(element.get("href") or "(no href)")
    return found
