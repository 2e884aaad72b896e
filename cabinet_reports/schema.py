"""JSON Schema of the report and meeting formats, for editor completion and validation.

``make-report schema > report.schema.json`` and one comment line at the top of a report,
``# yaml-language-server: $schema=./report.schema.json``, give officers completion, hover
help and red underlines in VS Code (and any editor using yaml-language-server) while they type.

The schema is generated from the pydantic models, so it cannot drift from what ``check``
accepts, with three additions pydantic cannot see:

* the **shorthands** the models accept through before-validators (a bare string for a
  numbered paragraph or a list item, ``key_decision: false``, ``classification: public``,
  ``report_of: the Chief Executive`` …) are added as alternatives, keyed by the validator
  function itself, so a new field using an existing shorthand is covered automatically;
* a block's kind is chosen by the key it carries (models._block_kind), so each kind of block
  requires its key (a sub-point's fields are all optional, and ``{text: …}`` must not match
  both a sub-point and a plain paragraph);
* descriptions for every field, from :data:`DESCRIPTIONS` (the hover text an officer sees),
  and, with a theme, its section keys with their headings, guidance and which are mandatory.

The schema checks shape (types, field names, patterns, lengths); ``make-report check`` still
has the last word (labels, references, numbering, files).
"""

from __future__ import annotations

from typing import Any, Callable

from pydantic.json_schema import GenerateJsonSchema

from . import meeting as mt
from . import models as m
from .theme import Theme

DRAFT = "https://json-schema.org/draft/2020-12/schema"

_SECTION_BLOCKS = "x-section-blocks"
_TEXT: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": m.MAX_TEXT}


def _items_of(inner: dict[str, Any]) -> list[dict[str, Any]]:
    """``_listify``: a single value where a list is expected."""
    return [inner["items"]] if inner.get("type") == "array" and "items" in inner else []


# Before-validator → the alternative input shapes it accepts (given the schema it produces).
SHORTHANDS: dict[Callable[..., Any], Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
    m._listify: _items_of,
    m._item: lambda inner: [dict(_TEXT, description="An item's text (short for {text: …}).")],
    m._block_shorthand: lambda inner: [dict(_TEXT, description="A numbered paragraph (short for {p: …}).")],
    m._key_decision: lambda inner: [
        {"type": "boolean", "description": "true or false: whether this is a key decision."},
        dict(_TEXT, description="The forward plan reference: a key decision (short for {key: true, "
                                "forward_plan: …})."),
    ],
    m._classification: lambda inner: [{"enum": ["public", "exempt"], "description": "Short for {status: …}."}],
    m._section: lambda inner: [
        {"type": "null", "description": "An empty section (check reports it)."},
        # Filled in with Section's own blocks schema once it exists (see _section_blocks).
        {_SECTION_BLOCKS: True, "description": "The section's blocks (short for {blocks: […]})."},
    ],
    mt._council: lambda inner: [dict(_TEXT, description="The council's name (short for {name: …}).")],
    mt._member: lambda inner: [dict(_TEXT, description="A member's name (short for {name: …}).")],
    mt._exemption: lambda inner: [
        {"type": "integer", "description": "A Schedule 12A paragraph (short for {paragraphs: [N]})."},
        {"type": "array", "items": {"type": "integer"}, "description": "Schedule 12A paragraphs."},
    ],
    mt._paragraph_list: lambda inner: [{"type": "integer"}],
}

# Hover text for every field, by model name. tests/test_schema.py checks that every property
# of every model has one: a new field needs its sentence here.
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "Report": {
        "kind": "report (a cabinet report, numbered) or note (a briefing note, no numbered sections).",
        "language": "The document's language tag, e.g. en-GB or cy (Welsh).",
        "council": "The council: {name: …, logo: file beside the report}.",
        "meeting": "The meeting the report goes to: body, date (YYYY-MM-DD) and agenda item.",
        "date": "The date of a note (YYYY-MM-DD); a report takes its meeting's date.",
        "title": "The report's title.",
        "subtitle": "A line under the title.",
        "reference": "The report's reference number.",
        "report_of": "Whose report it is: one job title or a list, e.g. [the Chief Executive].",
        "contact": "The contact officer: name, role, phone and email.",
        "contacts": "More contact officers or authors: [{name, role, phone, email}] (after contact).",
        "portfolio_holder": "The cabinet member(s) / portfolio holder(s), e.g. Councillor A. Name, Cabinet Member "
                            "for Housing.",
        "decision_maker": "Who takes the final decision, e.g. Cabinet, Council, the Director of Place.",
        "lead_officer": "The lead head of service or director(s).",
        "meetings": "Other meetings that will consider the report: [{body, date: YYYY-MM-DD, item}].",
        "purpose": "What the meeting is asked to do: decision, discussion, noting, information or consultation.",
        "urgency": "Why the report is urgent or a late item.",
        "cover": "Cover fields your theme declares (theme.yaml cover_fields), by key.",
        "wards": "The wards affected, e.g. [All] or [Castle, Priory].",
        "key_decision": "false, true, a forward plan reference (FP/830/05/17) or {key, forward_plan}.",
        "classification": "public, or {status: exempt, paragraphs: [3], jurisdiction: england}.",
        "sections": "The report's sections by key (purpose, background, recommendations …); each is a list "
                    "of blocks, or {heading: …, blocks: […]} to rename its heading.",
        "signatories": "Who signs the report: [{name: …, title: …}].",
        "appendices": "Appendices, numbered for you: [{title: …, label: …, blocks: […]}].",
        "clearances": "The sign-off record: who cleared the report, e.g. [{kind: finance, name: …, role: …, "
                      "date: YYYY-MM-DD}]; your theme says which are required and whether they print.",
    },
    "Clearance": {"kind": "What was cleared: finance, legal, portfolio_holder, chief_executive, hr, procurement, "
                          "equalities, or a kind your theme declares.",
                  "name": "Who gave the clearance.", "role": "Their job title or office, e.g. Chief Finance Officer.",
                  "date": "When they cleared the report, YYYY-MM-DD (on or before the meeting).",
                  "reference": "A reference for the clearance, e.g. a legal services file number.",
                  "note": "A note on the clearance (conditions, comments)."},
    "Council": {"name": "The council's name as printed.",
                "logo": "A logo image file inside the report's folder (PNG, JPEG or SVG)."},
    "Meeting": {"body": "The body meeting: Cabinet, Council, a committee.",
                "date": "The meeting date, YYYY-MM-DD.",
                "item": "The agenda item number (text: \"7\" or \"7a\")."},
    "Contact": {"name": "The contact officer's name.", "role": "Their job title.",
                "phone": "Their telephone number.", "email": "An email address such as name@council.gov.uk."},
    "KeyDecision": {"key": "Whether this is a key decision.",
                    "forward_plan": "The forward plan reference, e.g. FP/830/05/17."},
    "Classification": {
        "status": "public or exempt (Part B: not for publication).",
        "paragraphs": "The Schedule 12A paragraph(s) that make the report exempt, e.g. [3].",
        "jurisdiction": "Which Schedule 12A: england (paragraphs 1–7), wales (12–18) or england-pre-2006 (1–15).",
        "reason": "Why the information is exempt (for the record).",
    },
    "Signatory": {"name": "The signatory's name.", "title": "Their job title."},
    "Section": {"heading": "This report's own heading for the section (instead of the theme's).",
                "numbered": "false: leave this section out of the numbering (its paragraphs are unnumbered).",
                "place": "cover-top (before the header table), cover (after it) or body (the default).",
                "blocks": "The section's content: paragraphs, sub-points, lists, tables."},
    "Appendix": {"title": "The appendix's title (\"Appendix N\" is added for you).",
                 "label": "A name to refer to it with [[label]] (\"Appendix 2\").",
                 "blocks": "The appendix's content."},
    "Paragraph": {"p": "A numbered paragraph (2.1, 2.2 …). Inline **bold**, *italic*, [links](https://…) "
                       "and [[label]] references.",
                  "label": "A name to refer to this paragraph with [[label]] (\"2.3\")."},
    "PlainParagraph": {"text": "An unnumbered paragraph."},
    "SubHeading": {"heading": "An unnumbered sub-heading."},
    "SubPoint": {"subpoint": "The sub-point's heading (2.1.1 Heading); may be empty.",
                 "text": "The sub-point's text, on the same line as its number.",
                 "label": "A name to refer to this sub-point with [[label]] (\"2.1.1\").",
                 "blocks": "What follows the sub-point's heading; a p here continues the section's numbering."},
    "LetteredList": {"letters": "Lettered items (a), (b) …: strings or {text, label, blocks}.",
                     "format": "The markers: \"{n}.\" (1.), \"({n})\", \"({a})\", \"{a}.\", \"{i}.\", \"({i})\" …"},
    "AppendixList": {"appendix_list": "true: list the report's appendices here (\"Appendix A – Title\")."},
    "MeetingRef": {"body": "The body meeting: Council, a scrutiny committee.", "date": "The meeting date, YYYY-MM-DD.",
                   "item": "The agenda item number there."},
    "BulletList": {"bullets": "Bulleted items: strings or {text, label, blocks}."},
    "ListItem": {"text": "The item's text.", "label": "A name to refer to this item with [[label]] (\"3.1(c)\").",
                 "blocks": "Blocks under the item (a nested list, a follow-on paragraph)."},
    "Timeline": {"timeline": "Dated steps: [{when: …, text: …}]."},
    "TimelineEntry": {"when": "When: free text such as \"Week commencing 20th January\".",
                      "text": "What happens then.", "blocks": "Blocks under the entry."},
    "Table": {"table": "A table: {caption, header: [...], rows: [[...], ...]}.",
              "label": "A name for the table."},
    "TableSpec": {"header": "The header row's cells.", "rows": "The rows; each has as many cells as the header.",
                  "caption": "The table's caption.",
                  "footer": "Total row(s) under the rows, printed bold under a rule: [Total, \"12,500\"].",
                  "align": "Each column's alignment: left, right (figures) or centre, e.g. [left, right, right].",
                  "widths": "Relative column widths, e.g. [3, 1, 1]; without them columns are sized by content."},
    # The meeting format
    "MeetingFile": {
        "language": "The agenda's language tag, e.g. en-GB.",
        "council": "The council's name, or {name, logo}.",
        "body": "The body meeting: Cabinet, Council, a committee.",
        "date": "The meeting date, YYYY-MM-DD.",
        "time": "The time as text, in quotes: \"6.00 pm\".",
        "venue": "Where the meeting is held.",
        "contact": "The democratic services contact: name, role, phone, email.",
        "membership": "The members: names, or {name, role}.",
        "items": "The agenda items in order: procedural ({title, text}), an attached PDF ({pdf, title}) "
                 "or a report ({report: file}).",
        "settings": "Publication rules: jurisdiction and clear days.",
    },
    "Member": {"name": "The member's name, e.g. Councillor A. Name.", "role": "Their role, e.g. Chair."},
    "Settings": {"jurisdiction": "england or wales (bank holidays and default clear days).",
                 "clear_days": "Clear working days between publication and the meeting (default 5; Wales 3).",
                 "publish_on_working_day": "Whether the pack must be published on a working day."},
    "Exemption": {"paragraphs": "The Schedule 12A paragraph(s), e.g. [3].",
                  "jurisdiction": "england, wales or england-pre-2006 (default: the meeting's)."},
    "ProceduralItem": {"title": "The item's title, e.g. Apologies for absence.",
                       "text": "What the meeting is asked to do.",
                       "exempt": "Part B: the Schedule 12A paragraph(s), e.g. 3 or [3, 4].",
                       "public_title": "The title shown in public for a Part B item (required for Part B)."},
    "AttachmentItem": {"pdf": "A PDF file, relative to the meeting file, included as supplied.",
                       "title": "The item's title.", "report_of": "Whose paper it is.",
                       "text": "What the meeting is asked to do.",
                       "exempt": "Part B: the Schedule 12A paragraph(s), e.g. 3 or [3, 4].",
                       "public_title": "The title shown in public for a Part B item (required for Part B).",
                       "public_report_of": "Part B: the report-of line the public agenda shows (none if not given)."},
    "ReportItem": {"report": "A report file (.yaml, .yml, .json or .md), relative to the meeting file.",
                   "title": "The agenda title, if it should differ from the report's.",
                   "text": "What the meeting is asked to do.",
                   "exempt": "Part B: the Schedule 12A paragraph(s), e.g. 3 or [3, 4].",
                   "public_title": "The title shown in public for a Part B item (required for Part B).",
                   "public_report_of": "Part B: the report-of line the public agenda shows (none if not given)."},
}


class _AuthoredSchema(GenerateJsonSchema):
    """pydantic's generator, plus what the models' before-validators and block kinds accept."""

    def function_before_schema(self, schema: Any) -> dict[str, Any]:
        inner = super().function_before_schema(schema)
        extra = SHORTHANDS.get(schema["function"]["function"])
        alternatives = extra(inner) if extra else []
        return {"anyOf": [*alternatives, inner]} if alternatives else inner

    def tagged_union_schema(self, schema: Any) -> dict[str, Any]:
        out = super().tagged_union_schema(schema)
        discriminator = schema.get("discriminator")
        if discriminator is m._block_kind:
            # The key present decides the kind: make each kind require its key.
            tags = [str(tag) for tag in schema["choices"]]
            out["oneOf"] = [{"allOf": [choice, {"required": [tag]}]} for tag, choice in zip(tags, out["oneOf"])]
        return out


def _name_blocks(schema: dict[str, Any]) -> dict[str, Any]:
    """Define a block once, as ``$defs/Block``, and fill in the section shorthand's marker.

    pydantic writes the block union out in full wherever blocks may appear (sections,
    appendices, sub-points, list items, timeline entries); one named definition keeps the
    schema readable and lets editors show "Block" in their hover text.
    """
    defs = schema["$defs"]
    block = defs["Section"]["properties"]["blocks"]["items"]

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if node == block:
                return {"$ref": "#/$defs/Block"}
            if node.pop(_SECTION_BLOCKS, None):
                node = {**defs["Section"]["properties"]["blocks"], **node}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node
    schema = walk(schema)
    schema["$defs"]["Block"] = {**block, "title": "Block",
                                "description": "A block: a bare string (a numbered paragraph) or a mapping "
                                               "whose key names its kind: " + ", ".join(m.BLOCK_KINDS) + "."}
    # The dict's keys are section keys: a key outside the pattern is an error, as in check.
    sections = schema["properties"]["sections"]
    if "patternProperties" in sections:
        sections["additionalProperties"] = False
    return schema


def _describe(schema: dict[str, Any], root: str) -> dict[str, Any]:
    """Add the hover text of :data:`DESCRIPTIONS` to every model's properties."""
    for name, definition in [(root, schema), *schema.get("$defs", {}).items()]:
        for field, prop in definition.get("properties", {}).items():
            text = DESCRIPTIONS.get(name, {}).get(field)
            if text and "description" not in prop:
                prop["description"] = text
    return schema


def _theme_sections(schema: dict[str, Any], theme: Theme) -> None:
    """Offer the theme's section keys, with their headings and guidance, and require the mandatory ones."""
    sections = schema["properties"]["sections"]
    value = next(iter(sections.get("patternProperties", {}).values()), {})
    props = {}
    for spec in theme.config.sections:
        words = [f"{spec.title}" + (" (mandatory in a report)." if spec.required else ".")]
        if spec.guidance:
            words.append(spec.guidance)
        props[spec.key] = {**value, "description": " ".join(words)}
    sections["properties"] = props
    required = [s.key for s in theme.config.sections if s.required]
    if required:
        # Only a report must have them; a note (kind: note) has no mandatory sections.
        schema["allOf"] = [{
            "if": {"properties": {"kind": {"const": "note"}}, "required": ["kind"]},
            "else": {"required": ["sections"], "properties": {"sections": {"required": required}}},
        }]


def _theme_cover_fields(schema: dict[str, Any], theme: Theme) -> None:
    """Add the cover fields a theme declares (theme.yaml ``cover_fields``) under ``cover``."""
    types = {"text": _TEXT, "date": {"type": "string", "format": "date"},
             "list": {"anyOf": [_TEXT, {"type": "array", "items": _TEXT}]}, "bool": {"type": "boolean"},
             "email": {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$"}}
    declared = theme.config.cover_fields
    if not declared:
        return
    cover = schema["properties"]["cover"]
    cover.pop("patternProperties", None)
    cover["properties"] = {key: {**types[spec.type], "description": spec.label} for key, spec in declared.items()}
    cover["additionalProperties"] = False
    required = [key for key, spec in declared.items() if spec.required]
    if required:
        cover["required"] = required


def _theme_clearances(schema: dict[str, Any], theme: Theme) -> None:
    """Offer the theme's clearance kinds (theme.yaml ``clearances.kinds``), saying which are required."""
    settings = theme.config.clearances
    kind = schema["$defs"]["Clearance"]["properties"]["kind"]
    kind.clear()
    kind["enum"] = list(settings.kinds)
    always, key_only = settings.required_kinds(False), settings.required_kinds(True)
    labels = ", ".join(f"{key} ({label}" + (", required" if key in always else
                                             ", required for a key decision" if key in key_only else "") + ")"
                       for key, label in settings.kinds.items())
    kind["description"] = f"What was cleared: {labels}."


def report_schema(theme: Theme | None = None) -> dict[str, Any]:
    """Return the JSON Schema of the report format (a YAML or JSON report file)."""
    schema = _describe(_name_blocks(m.Report.model_json_schema(schema_generator=_AuthoredSchema)), "Report")
    if theme is not None:
        _theme_sections(schema, theme)
        _theme_cover_fields(schema, theme)
        _theme_clearances(schema, theme)
    schema["title"] = "Cabinet report"
    schema["description"] = ("A UK council cabinet report or briefing note for cabinet_reports "
                             "(make-report check / render).")
    return {"$schema": DRAFT, **schema}


def meeting_schema() -> dict[str, Any]:
    """Return the JSON Schema of the meeting format (``make-report pack``)."""
    schema = _describe(mt.Meeting.model_json_schema(schema_generator=_AuthoredSchema), "MeetingFile")
    schema["title"] = "Meeting"
    schema["description"] = "A meeting and its agenda items for cabinet_reports (make-report pack)."
    return {"$schema": DRAFT, **schema}
