"""Allow ``python -m cabinet_reports``."""

from .cli import run

run()
