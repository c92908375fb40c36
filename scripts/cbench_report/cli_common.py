"""What the command line's modules share (cli.py, gate_cli.py, count_cli.py): where the checkout
and its baselines are, the one-line messages, and the arguments several commands read."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from .load import UnusableInput

PROG = "report"
ROOT = Path(__file__).resolve().parents[2]  # the checkout this package belongs to
BASELINES = ROOT / "results" / "baselines"  # committed baselines and the gate's noise profiles


def _log(line: str) -> None:
    print(f"{PROG}: {line}", file=sys.stderr)


def _threshold(args: argparse.Namespace) -> float | None:
    """--threshold as a fraction; None (the error printed) when it is not a percentage."""
    from .compare import parse_threshold

    try:
        return parse_threshold(args.threshold)
    except ValueError:
        _usage(f"{args.command}: --threshold {args.threshold!r} is not a percentage such as 5%")
        return None


def _usage(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def _git_toplevel(path: Path) -> Path:
    result = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise UnusableInput(f"{path}: not inside a git repository")
    return Path(result.stdout.strip())
