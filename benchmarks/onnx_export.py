"""ONNX export of saved models: export time and onnxruntime agreement with PyTorch on the test set.

For each checkpoint: `core.onnx_export.export_onnx` (the function `runs export --format onnx` and
File > Export model as ONNX call) into a temporary folder, then prints the export time, the check's
sample count and source, the classes that differ and the largest probability difference.

    python benchmarks/onnx_export.py resources/digits-lstm.pt other.pt --data-dir ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lstm_desktop.core.models.checkpoint import load_checkpoint  # noqa: E402
from lstm_desktop.core.training.evaluate import dataset_of  # noqa: E402
from lstm_desktop.core.models.onnx_export import export_onnx  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.checkpoints:
            ckpt = load_checkpoint(path)
            spec = ckpt.spec
            started = time.perf_counter()
            done = export_onnx(ckpt, Path(tmp) / "m.onnx", dataset_of(ckpt), data_dir=args.data_dir)
            total = time.perf_counter() - started
            print(f"{Path(path).name}: {spec.cell} hidden {spec.hidden} layers {spec.layers} "
                  f"bi {spec.bidirectional} attention {spec.attention}; {done.size_bytes / 1e6:.2f} MB; "
                  f"export {done.export_seconds:.2f} s, check {done.check.seconds:.2f} s, total {total:.2f} s; "
                  f"{done.check.samples:,} samples of {done.check.source}: {done.check.mismatches} classes differ, "
                  f"max |p_onnx - p_torch| = {done.check.max_probability_diff:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
