"""cabinet_reports: validate, number and render UK council cabinet reports and meeting packs."""

from .api import build, load_report, render_bytes, render_report, report_from_data
from .document import Document, build_document
from .errors import CabinetReportsError, InputError, RenderError, ThemeError
from .models import Report
from .theme import Theme

__all__ = [
    "CabinetReportsError", "Document", "InputError", "RenderError", "Report", "Theme", "ThemeError",
    "build", "build_document", "load_report", "render_bytes", "render_report", "report_from_data",
]
__version__ = "0.1.0"
