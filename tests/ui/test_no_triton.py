"""The GUI process refuses triton (ui/app.py keep_triton_out): importing it after a GTK3 platform
theme loaded libgtk-3 kills the process. torch must still work: it treats triton as missing, and
torch._dynamo, which imports it, still loads. A fresh interpreter, so this process is untouched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
from lstm_desktop.ui.app import keep_triton_out
keep_triton_out()
try:
    import triton
except ImportError:
    print("refused")
import torch
import torch._dynamo
from torch.utils._triton import has_triton
p = torch.nn.Parameter(torch.ones(2))
opt = torch.optim.Adam([p])  # torch's own: imports torch._dynamo, which must get on without triton
p.grad = torch.ones(2)
opt.step()
print("has_triton", has_triton(), "stepped", bool((p < 1).all()))
"""


def test_the_gui_process_refuses_triton_and_torch_gets_on_without_it():
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["refused", "has_triton", "False", "stepped", "True"]
