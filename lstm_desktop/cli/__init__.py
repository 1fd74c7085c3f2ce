"""Command line: the same core as the app, headless. `lstm-desktop` alone opens the window.

Each command lives in its own module with `register(subparsers)` (its flags) and `run(args)`;
this module assembles them and turns user errors into one-line messages with an exit code.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Sequence

from lstm_desktop.cli.common import Parser, exit_code_for, report
from lstm_desktop.core.errors import LstmDesktopError

COMMANDS = ("train", "evaluate", "classify", "adapt", "runs", "devices")


def _modules():
    import importlib

    found = {}
    for name in COMMANDS:
        try:
            found[name] = importlib.import_module(f"lstm_desktop.cli.{name}")
        except ModuleNotFoundError as exc:  # a command still being written must not break the others
            if exc.name != f"lstm_desktop.cli.{name}":
                raise
    return found


def build_parser() -> argparse.ArgumentParser:
    from lstm_desktop import __version__

    parser = Parser(prog="lstm-desktop", description="Train, evaluate and try recurrent digit classifiers. "
                    "With no command, opens the desktop app.")
    parser.add_argument("--version", action="version", version=f"lstm-desktop {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")
    for module in _modules().values():
        module.register(sub)
    sub.add_parser("gui", help="open the desktop app")
    return parser


_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _negative_values(argv: list[str]) -> list[str]:
    """`--lr -1e-3` as `--lr=-1e-3`: argparse takes '-1e-3' for an option, and the message about
    it would say nothing useful; the setting's own check then says what the range is."""
    out: list[str] = []
    for word in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and _NUMBER.match(word):
            out[-1] = f"{out[-1]}={word}"
        else:
            out.append(word)
    return out


def gui_main(argv: Sequence[str] | None = None) -> int:
    from lstm_desktop.ui.app import run_app

    return run_app(list(argv) if argv is not None else sys.argv[1:])


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        return gui_main([])
    args = build_parser().parse_args(_negative_values(argv))
    if args.command == "gui" or args.command is None:
        return gui_main([])
    try:
        return args.run(args)
    except LstmDesktopError as exc:
        report(args.command, exc)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
