"""SIGKILL at random moments during training and saving, 30 times: the last good model always loads,
the --out lock is always free again, and temp files never pile up (each save cleans the killed ones).

Each child is a fresh interpreter (never a fork of this process: issue 25) that imports torch and
loads the digits data before it is told to go; the next ones start while the current one runs
(tests/fresh_processes.py), so a kill costs little more than its round.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from lstm_desktop.core.models.checkpoint import load_checkpoint, save_checkpoint
from lstm_desktop.core.files.outfile import check_out_target
from lstm_desktop.core.training.epoch_callbacks import RUN_BEST, RUN_MODEL

from fault_helpers import tiny_checkpoint
from fresh_processes import Ahead, waiting_child

KILLS = 30  # each a fresh interpreter (a few s of imports on a loaded 2-core machine): 30 keep it under 4 min

SETUP = """
import sys
import torch
torch.set_num_threads(1)
from lstm_desktop.core.models.checkpoint import save_checkpoint
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.data.image_sets import digits_bundle
from lstm_desktop.core.files.outfile import check_out_target
from lstm_desktop.core.training.session import run_training
from fault_helpers import tiny_checkpoint
from pathlib import Path
mode, target, run_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
epochs, seed = int(sys.argv[4]), int(sys.argv[5])
if mode == "train":
    data = digits_bundle(val_size=50)
else:
    models = [tiny_checkpoint(hidden=h, accuracy=0.5) for h in (8, 16, 24)]
"""

BODY = """
if mode == "train":  # a CLI run: hold --out, save every epoch into the run folder, --out at the end
    config = TrainConfig.for_dataset("digits", hidden=16, epochs=epochs, val_size=50, batch_size=128, seed=seed)
    with check_out_target(target):
        run_training(config, out=target, data=data, run_dir=run_dir)
else:  # a tight save loop: most kills land inside torch.save or the rename
    i = seed
    while True:
        save_checkpoint(target, models[i % 3])
        i += 1
"""


def _temps(*folders: Path) -> list[Path]:
    return [p for f in folders if f.is_dir() for p in f.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.timeout(420)
def test_sigkill_during_training_and_saving(tmp_path):
    target = tmp_path / "out" / "model.pt"
    run_dir = tmp_path / "run"
    save_checkpoint(target, tiny_checkpoint(hidden=8, accuracy=0.978))  # the good model to protect
    rng = random.Random(20261202)
    plan = [("train" if r % 2 == 0 else "save", rng.randint(1, 3)) for r in range(KILLS)]
    waits = [rng.uniform(0.05, 1.5) if mode == "train" else rng.uniform(0.03, 0.4) for mode, _ in plan]

    def start(r: int):
        err = tmp_path / f"child{r}.err"
        args = [plan[r][0], str(target), str(run_dir), str(plan[r][1]), str(r)]
        return waiting_child(SETUP, BODY, args, err, paths=(Path(__file__).parent,)), err

    children = Ahead(start, KILLS)
    changes, last = 0, target.read_bytes()
    most_temps, mid_save = 0, 0
    try:
        for round_ in range(KILLS):
            proc = children.go(round_)
            time.sleep(waits[round_])
            proc.send_signal(signal.SIGKILL)
            code = proc.wait()
            assert code in (0, -signal.SIGKILL), f"round {round_}: the child failed:\n{children.error_text(round_)}"
            ck = load_checkpoint(target)  # the last good model loads, every time
            assert ck.spec.hidden in (8, 16, 24)
            now = target.read_bytes()
            changes += now != last
            last = now
            for name in (RUN_MODEL, RUN_BEST):
                if (run_dir / name).exists():
                    assert load_checkpoint(run_dir / name).spec.hidden == 16
            with check_out_target(target):  # the dead run's lock is gone
                pass
            temps = _temps(target.parent, run_dir)
            most_temps = max(most_temps, len(temps))
            mid_save += bool(temps)  # killed inside a save: its temp file stays until the next save
            assert len(temps) <= 3, f"round {round_}: temp files pile up: {temps}"  # one per target at most
    finally:
        children.close()
    assert changes >= 10  # the children really were saving when they were killed
    save_checkpoint(target, ck)
    assert _temps(target.parent) == []  # the next save cleaned up after the killed ones
    if (run_dir / RUN_MODEL).exists():
        save_checkpoint(run_dir / RUN_MODEL, load_checkpoint(run_dir / RUN_MODEL))
        save_checkpoint(run_dir / RUN_BEST, load_checkpoint(run_dir / RUN_MODEL))
        assert _temps(run_dir) == []
    print(f"{KILLS} kills, --out changed in {changes} rounds, {mid_save} kills inside a save, "
          f"at most {most_temps} temp files at once")
