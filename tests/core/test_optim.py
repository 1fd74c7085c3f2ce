"""core/training/optim.py: our Adam is torch.optim.Adam's maths bit for bit, and building it and training
with it never imports torch._dynamo or triton (the import that crashes under GNOME's GTK3 theme)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lstm_desktop.core.training.optim import Adam

ROOT = Path(__file__).resolve().parents[2]

# The same seeded steps, run by torch.optim.Adam or by ours; the reference runs in a fresh
# interpreter so nothing our module did (or did not import) can touch it.
STEPS = """
import sys, torch
def run(make, fused, schedule):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    opt = make(net.parameters(), lr=0.03, weight_decay=1e-4, fused=fused)
    sched = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.03, total_steps=6) if schedule
             else None)
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    for _ in range(5):
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
        if sched is not None:
            sched.step()
    state = [t for s in opt.state_dict()["state"].values() for t in (s["exp_avg"], s["exp_avg_sq"], s["step"])]
    return [p.detach().clone() for p in net.parameters()] + state
"""

CASES = [(fused, schedule) for fused in (True, None) for schedule in (True, False)]


@pytest.fixture(scope="module")
def torch_results(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("adam") / "torch.pt"
    code = STEPS + (f"torch.save({{c: run(torch.optim.Adam, *c) for c in {CASES!r}}}, {str(out)!r})\n"
                    "assert 'lstm_desktop' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    return torch.load(out)


@pytest.mark.parametrize("fused,schedule", CASES)
def test_weights_and_state_after_seeded_steps_equal_torch_adams_bit_for_bit(torch_results, fused, schedule):
    namespace: dict = {}
    exec(STEPS, namespace)  # noqa: S102 - the very code the reference ran
    ours = namespace["run"](Adam, fused, schedule)
    theirs = torch_results[(fused, schedule)]
    assert len(ours) == len(theirs) == 4 * 4
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs))
    assert not torch.equal(ours[0], torch_results[(fused, not schedule)][0])  # the cases differ


def test_a_state_dict_round_trip_keeps_adams_state():
    p = torch.nn.Parameter(torch.ones(3))
    opt = Adam([p], lr=0.1)
    p.grad = torch.full((3,), 0.5)
    opt.step()
    again = Adam([p], lr=0.5)
    again.load_state_dict(opt.state_dict())
    assert again.param_groups[0]["lr"] == 0.1 and torch.equal(again.state[p]["exp_avg"], opt.state[p]["exp_avg"])


TRAIN = """
import sys, torch
torch.set_num_threads({threads})
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.data.image_sets import synthetic_bundle
from lstm_desktop.core.training.engine import Trainer
for schedule in ("onecycle", "cosine", "none"):
    cfg = TrainConfig(dataset="synthetic", hidden=8, epochs=1, batch_size=32, device="cpu", lr=1e-2,
                      lr_schedule=schedule)
    result = Trainer(cfg).fit(synthetic_bundle(n=120, seed=0))
    assert result.epochs_completed == 1, result
print(sorted(m for m in ("torch._dynamo", "triton", "torch._inductor") if m in sys.modules))
"""


@pytest.mark.parametrize("threads", [1, 16])  # 1 thread: the C kernel step; 16: torch's steps
def test_building_the_optimiser_and_training_imports_no_compiler(threads):
    """A fresh interpreter: torch's own optimisers import torch._dynamo and triton on first use."""
    done = subprocess.run([sys.executable, "-c", TRAIN.format(threads=threads)], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
