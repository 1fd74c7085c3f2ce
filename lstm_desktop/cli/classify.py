"""`lstm-desktop classify IMAGE...`: digits read from image files by a model (the shipped one by default).

File names are taken as they come: one that starts with '-' (`-x.png`) is an image when no
option has that name and such a file exists (or it ends like an image name, so a missing one is
"no such file", not an argument error), so it needs no `--` in front. Each file is read on its
own (a FIFO or device is refused at once by core/drawing/images.py), so one bad name never stops the rest.
"""

from __future__ import annotations

import argparse
import os

from lstm_desktop.cli.common import Parser, report
from lstm_desktop.core.errors import CheckpointError
from lstm_desktop.core.drawing.images import IMAGE_SUFFIXES


class ImageArgsParser(Parser):
    """classify's parser: a name that looks like an option but is a file (or an image name) is an IMAGE."""

    def _parse_optional(self, arg_string: str):  # argparse's hook: None means "a positional argument"
        if (arg_string.startswith("-") and arg_string not in ("-", "--")
                and arg_string not in self._option_string_actions and "=" not in arg_string
                and (os.path.lexists(arg_string) or arg_string.lower().endswith(IMAGE_SUFFIXES))):
            return None
        return super()._parse_optional(arg_string)


def register(sub) -> None:
    c = sub.add_parser("classify", help="classify digit images (PNG, JPEG, ...)")
    c.__class__ = ImageArgsParser  # add_parser builds every subcommand with the same class
    c.add_argument("images", nargs="+", metavar="IMAGE")
    c.add_argument("--model", default=None, help="checkpoint file or run id (default: the model shipped with "
                   "the app)")
    c.add_argument("--json", action="store_true", help="one JSON object per image per line")
    c.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lstm_desktop.core.drawing.classify import classify_command
    from lstm_desktop.core.runs.runref import resolve_model

    try:
        model = str(resolve_model(args.model)) if args.model else None
    except CheckpointError as exc:  # the same exit code as a model file that cannot be opened
        report("classify", exc)
        return 2
    return classify_command(args.images, model, args.json)
