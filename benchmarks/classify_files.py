"""`lstm-desktop classify` on a folder of pen-digit PNGs: time and accuracy, model against model.

Draws N synthetic pen digits (every template style; half everyday hands, half hard ones: hairline
to marker pens, tiny to huge, slanted, shaky) on the pad's 280x280 canvas and saves them as
dark-on-white PNGs, like photos or scans of pen digits. Then runs the real command line,
`lstm-desktop classify DIR/*.png --json`, once per model and round, alternating the models so a
busy machine slows both alike, and reports each one's wall time (median), accuracy, accuracy by
digit and the share flagged unsure among right and wrong answers.

    python benchmarks/classify_files.py [--n 3500] [--rounds 3] [--model A.pt --model B.pt]

Without --model: the shipped model. The digits use their own seed stream (not the training's).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lstm_desktop.core.data.synthetic_digits import generate_digits  # noqa: E402
from lstm_desktop.core.drawing.strokes import render_strokes  # noqa: E402


def write_pngs(n: int, folder: Path, seed: int) -> dict[str, int]:
    """n digits as PNG files (dark ink on white); returns file name -> true label."""
    from PIL import Image

    labels = {}
    half = n // 2
    digits = (generate_digits(half, seed=seed, templates="all")
              + generate_digits(n - half, seed=seed + 1, templates="all", hard=True))
    for i, digit in enumerate(digits):
        ink = render_strokes(digit.strokes)
        name = f"d{i:05d}.png"
        Image.fromarray((255 - np.clip(ink * 255.0, 0, 255)).astype(np.uint8), "L").save(folder / name)
        labels[name] = digit.label
    return labels


def classify(model: str | None, files: list[Path]) -> tuple[float, list[dict]]:
    cmd = [sys.executable, "-c", "import sys; from lstm_desktop.cli import main; sys.exit(main())",
           "classify", *map(str, files), "--json"]
    if model:
        cmd += ["--model", model]
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    if done.returncode not in (0, 1):
        raise SystemExit(f"classify failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return wall, [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=77)
    ap.add_argument("--model", action="append", default=None, help="checkpoint (repeat to compare)")
    args = ap.parse_args(argv)
    models = args.model or [None]
    with tempfile.TemporaryDirectory(prefix="classify-pngs-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        truth = write_pngs(args.n, folder, args.seed)
        print(f"{args.n} PNGs written in {time.perf_counter() - t:.1f} s")
        files = sorted(folder.glob("*.png"))
        walls: dict[str | None, list[float]] = {m: [] for m in models}
        answers: dict[str | None, list[dict]] = {}
        for _ in range(args.rounds):
            for m in models:
                wall, out = classify(m, files)
                walls[m].append(wall)
                answers[m] = out
        for m in models:
            rows = [r for r in answers[m] if "digit" in r]
            labels = np.array([truth[Path(r["file"]).name] for r in rows])
            pred = np.array([r["digit"] for r in rows])
            unsure = np.array([bool(r.get("unsure")) for r in rows])
            ok = pred == labels
            by_digit = {k: round(float(ok[labels == k].mean()) * 100, 1) for k in range(10)}
            print(f"\n{m or 'shipped model'}: median {statistics.median(walls[m]):.2f} s "
                  f"(all: {', '.join(f'{w:.2f}' for w in walls[m])}); {len(rows)} of {len(files)} answered, "
                  f"accuracy {ok.mean() * 100:.2f}%")
            print(f"  by digit: {by_digit}")
            print(f"  unsure: {unsure[~ok].mean() * 100 if (~ok).any() else float('nan'):.1f}% of wrong answers, "
                  f"{unsure[ok].mean() * 100:.2f}% of right ones")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
