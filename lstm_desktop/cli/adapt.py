"""`lstm-desktop adapt DIR --out FILE`: a model fine-tuned on your own drawings (DIR/<digit>/*.png).

Without --model it starts from the model shipped with the app. Needs no MNIST: the digits it
rehearses so as not to forget the others are synthetic (core.adapt). Every input problem (no
drawings, a folder that is not a digit, a file that is not an image, one digit only) is reported
in one line before anything is written.
"""

from __future__ import annotations

import argparse
import json
import sys


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    """The training form's seed range (0 to 2**31 - 1), said in the message, checked as it is read."""
    from lstm_desktop.core.training.config import SETTINGS

    seed = next(s for s in SETTINGS if s.name == "seed")
    try:
        value = int(text.strip())
    except ValueError:
        value = None
    if value is None or seed.problem(value):
        raise argparse.ArgumentTypeError(f"the seed must be a whole number from {seed.lo} to {seed.hi}, "
                                         f"not {text!r}")
    return value


def register(sub) -> None:
    from lstm_desktop.core.drawing.adapt import AdaptSettings

    a = sub.add_parser("adapt", help="fine-tune a model on your own drawings (DIR/<digit>/*.png)")
    a.add_argument("folder", metavar="DIR", help="one sub-folder per digit (0-9) holding PNG drawings, "
                   "as the app's My digits exports them")
    a.add_argument("--model", default=None, help="checkpoint to start from (default: the model shipped with the app)")
    a.add_argument("--out", required=True, help="where to write the adapted checkpoint")
    a.add_argument("--epochs", type=_positive_int, default=AdaptSettings.epochs,
                   help=f"passes over your drawings (default {AdaptSettings.epochs})")
    a.add_argument("--seed", type=_seed, default=0, help="random seed, 0 to 2147483647 (default 0)")
    a.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    a.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from lstm_desktop.core.drawing.adapt import AdaptSettings, adapt_model, misread_message
    from lstm_desktop.core.models.checkpoint import save_checkpoint
    from lstm_desktop.core.drawing.classify import load_classifier
    from lstm_desktop.core.drawing.inference import predict_probabilities
    from lstm_desktop.core.data.my_digits import read_digit_folder
    from lstm_desktop.core.files.outfile import check_out_target
    from lstm_desktop.core.drawing.preprocess import to_model_input

    out = check_out_target(args.out, lock=False).path  # the shipped model, the run store, devices: refused
    examples = read_digit_folder(args.folder)  # every input problem surfaces here, before any work
    base = load_classifier(args.model)
    settings = replace(AdaptSettings(), epochs=args.epochs, seed=args.seed)

    def accuracy(model) -> float:
        probs = predict_probabilities(model, to_model_input(examples.images, base.mean, base.std))
        return float((probs.argmax(1) == examples.labels).mean())

    before = accuracy(base.model)
    result = adapt_model(base, examples.images, examples.labels, settings)
    save_checkpoint(out, result.checkpoint)
    counts = examples.counts()
    summary = {"examples": len(examples), "digits": {str(k): v for k, v in counts.items()},
               "seconds": round(result.seconds, 3), "steps": result.steps, "out": str(out),
               "base": result.checkpoint.info.get("base"), "replay": result.replay_source,
               "accuracy_before": round(before, 6), "accuracy_after": round(result.final_user_accuracy, 6),
               "all_read_right": result.all_read_right, "remembered": result.checkpoint.spec.prototypes,
               "misread": [examples.files[i] for i in result.misread]}
    print(f"adapted {summary['base']} to {len(examples)} drawings of {len(counts)} digits in "
          f"{result.seconds:.1f} s; on these drawings {before * 100:.1f}% before, "
          f"{result.final_user_accuracy * 100:.1f}% after (it remembers them: "
          f"{result.checkpoint.spec.prototypes} drawings); saved {out}")
    if not result.all_read_right:
        print(misread_message(examples.labels, result.misread, "adapt again"))
        for i in result.misread:
            print(f"  still misread: {examples.files[i]}")
    if args.json:
        print(json.dumps(summary))
    sys.stdout.flush()
    return 0
