"""Build ``templates/reference.docx``, the theme's style source for DOCX output.

Usage::

    python tools/build_reference_docx.py [OUTPUT]   # default: templates/reference.docx

pandoc's reference-doc model: the renderer names styles, this file defines them
(fonts, sizes, spacing), plus the page setup, language and an empty numbering part.
It starts from python-docx's own default template so every built-in style python-docx
knows about exists, and it is reproducible: two runs give byte-identical files.

Style decisions:

- Fonts, size, 6 pt space after and the en-GB language live in ``w:docDefaults``
  (and font/size are repeated on Normal). Table styles rank *above* document
  defaults but *below* paragraph styles, so keeping the spacing out of Normal lets
  "Table Grid" remove the paragraph spacing inside table cells.
- Colour is removed from headings, title and caption: the theme is black on white,
  emphasis is by weight and size only.
- Numbered headings get their own styles *based on* the built-in headings, so the
  report's multilevel numbering can be linked to them without numbering every plain
  heading (appendix headings, unnumbered sub-headings):
  "Section Heading" (based on Heading 1, outline level 1) carries "1.0 PURPOSE" and
  "Sub-point Heading" (based on Heading 2, outline level 2) carries "2.1.1 Adoption of …".
  Both are real headings for Word's navigation pane, tagged-PDF export and pandoc
  (which reads inherited heading styles); the explicit ``w:outlineLvl`` is repeated
  because some readers do not follow ``basedOn``. Sub-points are level 2 because they sit
  directly under a level-1 section heading (no skipped heading level).
- "Numbered Sub-point" is a body paragraph numbered at the sub-point level (a sub-point
  without a heading); "Exempt Reason" is the bold statement under an exempt marking;
  "Verbatim Char" (pandoc's name) is the character style for inline code.
- "Title Block" is left-aligned and bold: centred blocks are harder to read for
  people with dyslexia or using screen magnifiers.
- "Exempt Marking" is bold capitals, no colour, so it survives black-and-white print.
- Sizes follow the PDF (style.css): title and section headings at the 12 pt body size,
  bold; appendix headings ("Heading 1") 13 pt; "Table Header" and "Table Text" 11 pt; the
  running title ("Header") 9 pt and the page number ("Footer") 10 pt.
  Widow/orphan control is on for every paragraph, as the PDF's orphans and widows.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Pt, RGBColor, Twips

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # allow running the script from a source checkout
    sys.path.insert(0, str(ROOT))

from cabinet_reports.docx_tools import (  # noqa: E402
    save_deterministic,
    set_core_properties,
)

DEFAULT_OUTPUT = ROOT / "templates" / "reference.docx"

FONT = "Arial"
LANGUAGE = "en-GB"
BODY_SIZE = Pt(12)
TABLE_SIZE = Pt(11)
HEADER_SIZE = Pt(9)
FOOTER_SIZE = Pt(10)

# A4 with 2.54 cm (1 inch = 1440 twips) margins.
PAGE_WIDTH, PAGE_HEIGHT = Twips(11906), Twips(16838)
MARGIN = Twips(1440)
HEADER_FOOTER_DISTANCE = Twips(709)  # 1.25 cm, Word's default
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN

# Custom paragraph styles: name -> (based on, next style, bold, caps).
CUSTOM_PARAGRAPH_STYLES = {
    "Title Block": ("Normal", "Title Block", True, False),
    "Numbered Paragraph": ("Normal", "Numbered Paragraph", False, False),
    "List Letter": ("Normal", "List Letter", False, False),
    "Table Header": ("Normal", "Table Header", True, False),
    "Table Text": ("Normal", "Table Text", False, False),
    "Signature": ("Normal", "Signature", False, False),
    "Exempt Marking": ("Normal", "Normal", True, True),
    "Numbered Sub-point": ("Normal", "Numbered Sub-point", False, False),
    "Exempt Reason": ("Normal", "Normal", True, False),
}

# Numbered heading styles: name -> (based on, outline level 0-based).
NUMBERED_HEADING_STYLES = {
    "Section Heading": ("Heading 1", 0),
    "Sub-point Heading": ("Heading 2", 1),
}

MONO_FONT = "Courier New"

# A fixed date keeps the output reproducible; renderers set their own dates.
FIXED_DATE = dt.datetime(1980, 1, 1)


def _set_fonts(rpr) -> None:
    """Replace theme font references by explicit Arial for all four scripts."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in list(rfonts.attrib):
        del rfonts.attrib[attr]
    for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
        rfonts.set(qn(f"w:{slot}"), FONT)


def _strip_theme_look(style_element) -> None:
    """Remove theme fonts and colours so the style falls back to the defaults."""
    rpr = style_element.find(qn("w:rPr"))
    if rpr is None:
        return
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is not None and any("Theme" in k or "theme" in k for k in rfonts.attrib):
        rpr.remove(rfonts)
    for color in rpr.findall(qn("w:color")):
        rpr.remove(color)


def _configure_defaults(doc) -> None:
    styles_el = doc.styles.element
    defaults = styles_el.find(qn("w:docDefaults"))
    rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    _set_fonts(rpr)
    for tag in ("w:sz", "w:szCs"):
        rpr.find(qn(tag)).set(qn("w:val"), str(int(BODY_SIZE.pt * 2)))
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:val"), LANGUAGE)
    lang.set(qn("w:eastAsia"), LANGUAGE)
    ppr = defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}")
    # Widow and orphan control, as the PDF's `orphans: 2; widows: 2` (Word's own Normal has
    # it; python-docx's template does not, and LibreOffice then left headings alone at the
    # foot of a page although they keep with the next paragraph).
    if ppr.find(qn("w:widowControl")) is None:
        ppr.insert(0, OxmlElement("w:widowControl"))
    spacing = ppr.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "120")  # 6 pt
    spacing.set(qn("w:line"), "240")  # single
    spacing.set(qn("w:lineRule"), "auto")

    # The spelling language offered for new text and the theme's language.
    theme_lang = doc.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:val"), LANGUAGE)


def _configure_builtin_styles(doc) -> None:
    styles = doc.styles
    for style in styles:
        if style.type in (WD_STYLE_TYPE.PARAGRAPH, WD_STYLE_TYPE.CHARACTER):
            _strip_theme_look(style.element)

    normal = styles["Normal"]
    normal.font.size = BODY_SIZE
    _set_fonts(normal.element.get_or_add_rPr())
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT

    title = styles["Title"]
    ppr = title.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    # The PDF's sizes (style.css): title block and section headings at body size, bold;
    # appendix headings (Heading 1) 13 pt; tables 11 pt.
    title.font.size = BODY_SIZE
    title.font.bold = True
    title.paragraph_format.space_after = Pt(12)
    title.paragraph_format.keep_with_next = True

    for name, size, before in (
        ("Heading 1", Pt(13), Pt(18)),
        ("Heading 2", Pt(12), Pt(12)),
        ("Heading 3", Pt(12), Pt(12)),
    ):
        heading = styles[name]
        heading.font.size = size
        heading.font.bold = True
        fmt = heading.paragraph_format
        fmt.keep_with_next = True
        fmt.keep_together = True
        fmt.space_before = before
        fmt.space_after = Pt(6)

    body = styles["Body Text"]
    body.paragraph_format.space_after = Pt(6)

    caption = styles["Caption"]
    # Small captions are hard to read; keep body size and mark by weight.
    caption.font.size = BODY_SIZE
    caption.font.bold = True
    caption.hidden = False
    caption.unhide_when_used = False
    caption.quick_style = True

    # Page numbers sit centred at the foot of the page, as in the PDF theme.
    styles["Footer"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER

    list_bullet = styles["List Bullet"]
    list_bullet.paragraph_format.space_after = Pt(3)

    # The running title and marking at the PDF's 9 pt (page.css), the page number at its 10 pt.
    styles["Header"].font.size = HEADER_SIZE
    styles["Footer"].font.size = FOOTER_SIZE

    for name in ("Header", "Footer"):
        style = styles[name]
        tabs = style.element.pPr.find(qn("w:tabs"))
        for tab, pos in zip(tabs.findall(qn("w:tab")), (TEXT_WIDTH // 2, TEXT_WIDTH)):
            tab.set(qn("w:pos"), str(Length(pos).twips))


def _add_custom_styles(doc) -> None:
    styles = doc.styles
    for name, (base, _next, bold, caps) in CUSTOM_PARAGRAPH_STYLES.items():
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles[base]
        style.quick_style = True
        if bold:
            style.font.bold = True
        if caps:
            style.font.all_caps = True
    for name, (_base, next_name, _bold, _caps) in CUSTOM_PARAGRAPH_STYLES.items():
        styles[name].next_paragraph_style = styles[next_name]

    signature = styles["Signature"]
    signature.paragraph_format.space_before = Pt(24)
    signature.paragraph_format.keep_together = True
    styles["Title Block"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    styles["Table Header"].paragraph_format.keep_with_next = True
    for name in ("Table Header", "Table Text"):
        styles[name].font.size = TABLE_SIZE
        styles[name].paragraph_format.space_after = Pt(0)

    for name, (base, level) in NUMBERED_HEADING_STYLES.items():
        heading = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        heading.base_style = styles[base]
        heading.next_paragraph_style = styles["Numbered Paragraph"]
        heading.quick_style = True
        heading.font.bold = True
        heading.font.size = BODY_SIZE
        # Explicit outline level although the base heading already has it: some
        # readers do not follow basedOn when deciding what is a heading.
        ppr = heading.element.get_or_add_pPr()
        outline = OxmlElement("w:outlineLvl")
        outline.set(qn("w:val"), str(level))
        ppr.append(outline)

    verbatim = styles.add_style("Verbatim Char", WD_STYLE_TYPE.CHARACTER)
    verbatim.base_style = styles["Default Paragraph Font"]
    verbatim.font.name = MONO_FONT
    verbatim.quick_style = True

    link = styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
    link.base_style = styles["Default Paragraph Font"]
    link.font.color.rgb = RGBColor(0x05, 0x63, 0xC1)  # 5.9:1 contrast on white
    link.font.underline = True
    link.unhide_when_used = True
    # "Hyperlink" is one of Word's built-in style names: not a custom style.
    del link.element.attrib[qn("w:customStyle")]


def _configure_page(doc) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.left_margin = section.right_margin = MARGIN
    section.top_margin = section.bottom_margin = MARGIN
    section.header_distance = section.footer_distance = HEADER_FOOTER_DISTANCE


def _drop_unused_parts(doc) -> None:
    """Drop parts of the python-docx template that would be stale or misleading."""
    # stylesWithEffects.xml is Word 2010's copy of styles.xml; it would keep the old
    # styles. The thumbnail shows the template, the customXml item is an empty
    # bibliography store.
    doc_part = doc.part
    for r_id, rel in list(doc_part.rels.items()):
        if rel.reltype in (
            "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects",
            RT.CUSTOM_XML,
        ):
            del doc_part.rels[r_id]
    pkg_rels = doc_part.package.rels
    for r_id, rel in list(pkg_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del pkg_rels[r_id]


def build(output: Path = DEFAULT_OUTPUT) -> Path:
    """Build the reference document at ``output`` and return the path."""
    doc = docx.Document()
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    # python-docx raises if numbering.xml is missing; its template has one.
    assert doc.part.numbering_part is not None
    _configure_defaults(doc)
    _configure_builtin_styles(doc)
    _add_custom_styles(doc)
    _configure_page(doc)
    _drop_unused_parts(doc)
    set_core_properties(
        doc,
        title="",
        author="cabinet_reports",
        subject="",
        language=LANGUAGE,
        created=FIXED_DATE,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    save_deterministic(doc, output)
    return output


def main(argv: list[str] | None = None) -> int:
    """Build the reference document at the path in ``argv`` (or the default)."""
    args = sys.argv[1:] if argv is None else argv
    output = Path(args[0]) if args else DEFAULT_OUTPUT
    print(build(output))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
