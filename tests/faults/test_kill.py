"""SIGKILL at random moments during training and saving, 50 times: the last good model always loads,
the --out lock is always free again, and temp files never pile up (each save cleans the killed ones).

Children are forked from this process (torch already imported, the digits data already loaded),
so 50 kills cost seconds, not 50 interpreter starts.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest
import torch

from lstm_desktop.core.checkpoint import load_checkpoint, save_checkpoint
from lstm_desktop.core.config import TrainConfig
from lstm_desktop.core.data import digits_bundle
from lstm_desktop.core.outfile import check_out_target
from lstm_desktop.core.session import RUN_BEST, RUN_MODEL, run_training

from fault_helpers import tiny_checkpoint

KILLS = 50


def _temps(*folders: Path) -> list[Path]:
    return [p for f in folders if f.is_dir() for p in f.iterdir() if p.name.endswith(".tmp")]


def _child(mode: str, target: Path, run_dir: Path, data, epochs: int, seed: int, models: list) -> None:
    torch.set_num_threads(1)
    if mode == "train":  # a CLI run: hold --out, save every epoch into the run folder, --out at the end
        config = TrainConfig.for_dataset("digits", hidden=16, epochs=epochs, val_size=50, batch_size=128,
                                         seed=seed)
        with check_out_target(target):
            run_training(config, out=target, data=data, run_dir=run_dir)
    else:  # a tight save loop: most kills land inside torch.save or the rename
        i = seed
        while True:
            save_checkpoint(target, models[i % 3])
            i += 1


@pytest.mark.timeout(240)
def test_sigkill_during_training_and_saving(tmp_path):
    data = digits_bundle(val_size=50)
    target = tmp_path / "out" / "model.pt"
    run_dir = tmp_path / "run"
    save_checkpoint(target, tiny_checkpoint(hidden=8, accuracy=0.978))  # the good model to protect
    rng = random.Random(20261202)
    models = [tiny_checkpoint(hidden=h, accuracy=0.5) for h in (8, 16, 24)]  # built once, before forking
    changes, last = 0, target.read_bytes()
    most_temps, mid_save = 0, 0
    for round_ in range(KILLS):
        mode = "train" if round_ % 2 == 0 else "save"
        pid = os.fork()
        if pid == 0:  # the child never returns into pytest
            code = 0
            try:
                _child(mode, target, run_dir, data, rng.randint(1, 3), round_, models)
            except BaseException:  # noqa: BLE001
                code = 1
            os._exit(code)
        time.sleep(rng.uniform(0.05, 1.5) if mode == "train" else rng.uniform(0.03, 0.4))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert not (os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0), f"round {round_}: the child failed"
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
    assert changes >= 10  # the children really were saving when they were killed
    save_checkpoint(target, ck)
    assert _temps(target.parent) == []  # the next save cleaned up after the killed ones
    if (run_dir / RUN_MODEL).exists():
        save_checkpoint(run_dir / RUN_MODEL, load_checkpoint(run_dir / RUN_MODEL))
        save_checkpoint(run_dir / RUN_BEST, load_checkpoint(run_dir / RUN_MODEL))
        assert _temps(run_dir) == []
    print(f"{KILLS} kills, --out changed in {changes} rounds, {mid_save} kills inside a save, "
          f"at most {most_temps} temp files at once")
