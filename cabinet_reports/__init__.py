"""cabinet_reports: validate, number and render UK council cabinet reports and meeting packs.

The names below are imported on first use (PEP 562), so ``make-report --version`` and a PDF
worker process that only lays out HTML do not pay for pydantic, Jinja and the models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import pango_ffi

__version__ = "0.1.0"

pango_ffi.install()  # when the command line asked (its workers): before anything imports WeasyPrint

# public name -> the module that defines it
_EXPORTS = {
    "build": "api", "load_report": "api", "render_bytes": "api", "render_report": "api",
    "report_from_data": "api",
    "Document": "document", "build_document": "document",
    "CabinetReportsError": "errors", "InputError": "errors", "RenderError": "errors", "ThemeError": "errors",
    "Report": "models",
    "Theme": "theme",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .api import build, load_report, render_bytes, render_report, report_from_data
    from .document import Document, build_document
    from .errors import CabinetReportsError, InputError, RenderError, ThemeError
    from .models import Report
    from .theme import Theme


def __getattr__(name: str) -> Any:
    """Import a public name's module when the name is first used."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cabinet_reports' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
