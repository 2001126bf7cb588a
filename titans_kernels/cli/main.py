"""Entry point: argument parsing and the one-line error policy (no traceback reaches a user)."""
from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from .. import settings
from ..allocator import keep_heap
from ..errors import TitansError
from . import compile_cmd, perf_cmd, run_cmd, specs_cmd, tuned_cmd

COMMANDS = "titans_kernels.commands"   # entry-point group of commands other packages add (autotune)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="titans-kernels",
        description="Compile Titans neural-memory update rules (YAML specs) into kernels.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    specs_cmd.add_parser(sub)
    run_cmd.add_parser(sub)
    compile_cmd.add_parser(sub)
    for ep in sorted(entry_points(group=COMMANDS), key=lambda ep: ep.name):
        ep.load()(sub)
    tuned_cmd.add_parser(sub)
    perf_cmd.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    keep_heap()   # this process owns its heap (see titans_kernels/allocator.py)
    try:
        return int(args.func(args) or 0)
    except TitansError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence for CLI users
        if settings.debug():
            raise
        print(f"internal error: {exc.__class__.__name__}: {exc} (set {settings.DEBUG}=1 for a traceback)",
              file=sys.stderr)
        return 1
