"""``python -m cbench_report``: the entry point scripts/report runs."""
import sys

from .cli import main

sys.exit(main())
