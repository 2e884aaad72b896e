"""Allow ``python -m cabinet_reports``."""

import sys

from .cli import main

sys.exit(main())
