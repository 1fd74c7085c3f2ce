"""How long from the start of training to the end of its first batch, in a fresh interpreter each time.

Why: torch.optim's own Adam imports torch._dynamo and triton on its first use (about a second,
before any batch, and a SIGSEGV under GNOME's GTK3 theme: issue 25); core/training/optim.py's Adam does not.
`--torch-adam` puts torch.optim.Adam back into make_optimizer, as before that change, for comparison.
Each run: import torch and the core, build the data, then time Trainer.fit from its call to the
first BatchEnded event (device cpu). Prints each run and the median.

    python benchmarks/first_batch.py [--runs 3] [--torch-adam] [--hidden 128] [--batch-size 64]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ONE_RUN = """
import json, sys, time
import torch
from lstm_desktop.core.training import optim
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.data.image_sets import synthetic_bundle
from lstm_desktop.core.training.engine import Trainer
if {torch_adam}:
    optim.Adam = torch.optim.Adam  # the optimiser make_optimizer built before issue 25
data = synthetic_bundle(n=2000, seed=0)
cfg = TrainConfig(dataset="synthetic", hidden={hidden}, batch_size={batch_size}, epochs=1, device="cpu")
first = []
def on_event(event):
    if type(event).__name__ == "BatchEnded" and not first:
        first.append(time.perf_counter())
        raise KeyboardInterrupt  # one batch is all this measures
t0 = time.perf_counter()
try:
    Trainer(cfg, [on_event]).fit(data)
except KeyboardInterrupt:
    pass
print(json.dumps({{"seconds": first[0] - t0, "dynamo": "torch._dynamo" in sys.modules,
                  "triton": "triton" in sys.modules}}))
"""


def one_run(torch_adam: bool, hidden: int, batch_size: int) -> dict:
    code = ONE_RUN.format(torch_adam=torch_adam, hidden=hidden, batch_size=batch_size)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--torch-adam", action="store_true", help="torch.optim.Adam, as before issue 25")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    runs = [one_run(args.torch_adam, args.hidden, args.batch_size) for _ in range(args.runs)]
    for run in runs:
        print(f"{run['seconds']:.3f} s  torch._dynamo imported: {run['dynamo']}  triton imported: {run['triton']}")
    label = "torch.optim.Adam" if args.torch_adam else "core.optim.Adam"
    print(f"median {statistics.median(r['seconds'] for r in runs):.3f} s from Trainer.fit to the first batch "
          f"({label}, {args.runs} fresh interpreters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
