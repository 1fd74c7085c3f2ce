"""The notebook's model trained by a small C kernel: the fastest step on a multi-core CPU.

Why: on this project's 2-core machine, the split steps (steps.py, scripted_step.py) spend most of a
batch in oneDNN's LSTM, and a third of that outside its matrix products. `native/plain_lstm.c` does
a part's whole forward and backward in one call: each time step is one MKL sgemm plus one vectorised
pass over the gates. ctypes releases the GIL for the call, so the parts truly run at once.

How it is built, and when it is not used:
- The system C compiler builds the kernel once into the user's cache folder, keyed by the source
  and the CPU (it is compiled for this CPU).
- It calls the sgemm that torch itself ships (MKL, exported by libtorch_cpu).
- Only the plain model uses it: one unidirectional layer, no attention, no dropout, float32.
- `load_kernel` returns None where anything is missing (no compiler, a torch without MKL's sgemm,
  not x86-64 Linux), or when LSTM_DESKTOP_NO_KERNEL is set. The engine then uses the split steps.

Gradients match autograd through nn.LSTM to about 1e-6 relative (tests/core/test_kernel_step.py).
Training is deterministic on a given machine; inference always uses nn.LSTM.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from torch import Tensor

from lstm_desktop.core import fused_adam
from lstm_desktop.core.models import LSTMClassifier
from lstm_desktop.core.steps import SerialStep, part_sizes

SOURCE = Path(__file__).with_name("native") / "plain_lstm.c"
_P, _I, _F = ctypes.c_void_p, ctypes.c_int, ctypes.c_float


class Kernel:
    """plain_part from the compiled library, bound to torch's sgemm."""

    def __init__(self, library: ctypes.CDLL, sgemm: int, set_threads: int | None) -> None:
        self.sgemm = sgemm
        self.set_threads = set_threads
        self.plain_part = library.plain_part
        self.plain_part.argtypes = [_P, _P, _I, _I, _I, _I, _I, _F] + [_P] * 22
        self.plain_part.restype = None


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lstm-desktop"


def _torch_blas() -> tuple[int, int | None] | None:
    """Addresses of the Fortran sgemm_ and of MKL_Set_Num_Threads_Local (C) that torch's CPU
    library exports (MKL on x86-64), or None."""
    library = Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"
    if not library.is_file():
        return None
    try:
        handle = ctypes.CDLL(str(library))
        sgemm = ctypes.cast(handle.sgemm_, ctypes.c_void_p).value
    except (OSError, AttributeError):
        return None
    try:
        set_threads = ctypes.cast(handle.MKL_Set_Num_Threads_Local, ctypes.c_void_p).value
    except AttributeError:
        set_threads = None
    return (sgemm, set_threads) if sgemm else None


def _cpu_identity() -> bytes:
    """The CPU's model and flags: -march=native code must not run on another CPU (a shared home)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor().encode()
    return "\n".join(next((line for line in lines if line.startswith(key)), "")
                     for key in ("model name", "flags")).encode()


def _compile(target: Path) -> bool:
    """Build SOURCE into target (atomically); False when there is no compiler or it fails."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    flags = ["-O3", "-march=native", "-ffast-math", "-fPIC", "-shared"]
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        for libs in (["-lmvec", "-lm"], ["-lm"]):  # libmvec vectorises expf; without it the loop is scalar
            result = subprocess.run([compiler, *flags, str(SOURCE), "-o", tmp, *libs],
                                    capture_output=True, timeout=120)
            if result.returncode == 0:
                os.chmod(tmp, 0o755)
                os.replace(tmp, target)
                return True
        return False
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@functools.cache
def load_kernel() -> Kernel | None:
    """The kernel, compiled on first use; None where it cannot be built or loaded here."""
    if (os.environ.get("LSTM_DESKTOP_NO_KERNEL") or platform.system() != "Linux"
            or platform.machine() not in ("x86_64", "AMD64") or not SOURCE.is_file()):
        return None
    blas = _torch_blas()
    if blas is None:
        return None
    digest = hashlib.sha256(SOURCE.read_bytes() + _cpu_identity()).hexdigest()[:16]
    target = cache_dir() / f"plain_lstm-{digest}.so"
    try:
        if not target.is_file() and not _compile(target):
            return None
        return Kernel(ctypes.CDLL(str(target)), *blas)
    except OSError:
        return None


def supports(model: LSTMClassifier) -> bool:
    """The plain classifier on the CPU in float32: what plain_part computes."""
    spec = model.spec
    return (spec.layers == 1 and not spec.bidirectional and not spec.attention and spec.dropout == 0
            and all(p.dtype == torch.float32 and p.device.type == "cpu" and p.is_contiguous()
                    for p in model.parameters()))


class _Part:
    """One part's buffers, kept between batches (same size each batch but the last)."""

    def __init__(self, rows: int, steps: int, features: int, hidden: int, classes: int) -> None:
        gates = 4 * hidden
        self.xt = torch.empty(steps, rows, features)
        self.gates = torch.empty(steps, rows, gates)
        self.dgates = torch.empty(steps, rows, gates)
        self.c = torch.empty(steps, rows, hidden)
        self.h = torch.empty(steps, rows, hidden)
        self.logits = torch.empty(rows, classes)
        self.work = torch.empty(3, rows, hidden)
        self.zeros = torch.zeros(rows, hidden)
        self.result = torch.empty(2)


class KernelSplitStep(SerialStep):
    """The batch cut into parts (steps.part_sizes) that plain_part trains at once, one per core;
    the parts' gradients are added in a fixed order, then the optimiser steps as usual."""

    def __init__(self, model: LSTMClassifier, opt: torch.optim.Optimizer, grad_clip: float, parts: int,
                 kernel: Kernel) -> None:
        # One torch thread here too: OpenMP workers left spinning after a two-thread op (Adam) take
        # the core that the next batch's other part needs (measured: 13.8 vs 7.3 ms a batch).
        super().__init__(model, opt, grad_clip, threads_each=1)
        self.model = model
        self.kernel = kernel
        self.parts = parts
        self.pool = ThreadPoolExecutor(parts - 1, thread_name_prefix="lstm-kernel")
        self.buffers: dict[tuple[int, int], _Part] = {}
        lstm, fc = model.lstm, model.fc
        self.weights = [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0, fc.weight, fc.bias]
        fusable = grad_clip == 0 and fused_adam.fusable(opt, self.weights)  # also checks the order
        self.adam = fused_adam.FusedAdam(opt, self.weights) if fusable else None

    def _run(self, index: int, x: Tensor, y: Tensor, n: int) -> tuple[Tensor, list[Tensor]]:
        rows, steps, features = x.shape
        hidden, classes = self.model.spec.hidden, self.model.spec.num_classes
        buf = self.buffers.get((index, rows))
        if buf is None:
            buf = self.buffers[(index, rows)] = _Part(rows, steps, features, hidden, classes)
        grads = [torch.empty_like(w) for w in self.weights[:3]] + [torch.empty_like(w) for w in self.weights[4:]]
        x, y = x.contiguous(), y.contiguous()
        k = self.kernel
        k.plain_part(k.sgemm, k.set_threads, steps, rows, features, hidden, classes, float(n),
                     x.data_ptr(), y.data_ptr(), *(w.data_ptr() for w in self.weights),
                     buf.xt.data_ptr(), buf.gates.data_ptr(), buf.dgates.data_ptr(), buf.c.data_ptr(),
                     buf.h.data_ptr(), buf.logits.data_ptr(), buf.work.data_ptr(), buf.zeros.data_ptr(),
                     *(g.data_ptr() for g in grads), buf.result.data_ptr())
        return buf.result.clone(), grads

    def _part_grads(self, xb: Tensor, yb: Tensor) -> tuple[Tensor, list[Tensor]]:
        """(summed [mean loss, correct], gradients in self.weights' order) of the whole batch."""
        n = len(xb)
        if n and (int(yb.min()) < 0 or int(yb.max()) >= self.model.spec.num_classes):
            raise IndexError(f"labels must be in 0..{self.model.spec.num_classes - 1}")  # C would read past
        sizes = part_sizes(n, self.parts, lead=False)
        xs, ys = xb.split(sizes), yb.split(sizes)
        futures = [self.pool.submit(self._run, i, x, y, n) for i, (x, y) in enumerate(zip(xs, ys)) if i > 0]
        results = [self._run(0, xs[0], ys[0], n)] + [f.result() for f in futures]
        total = results[0][0]
        grads = results[0][1]
        for result, part_grads in results[1:]:
            total = total + result
            grads = [a + b for a, b in zip(grads, part_grads)]
        d_w_ih, d_w_hh, d_b, d_w_fc, d_b_fc = grads
        return total, [d_w_ih, d_w_hh, d_b, d_b.clone(), d_w_fc, d_b_fc]

    def grads(self, xb: Tensor, yb: Tensor) -> tuple[Tensor, Tensor]:
        total, grads = self._part_grads(xb, yb)
        for p, g in zip(self.weights, grads):
            p.grad = g
        return total[0], total[1].long()

    def train_batch(self, xb: Tensor, yb: Tensor) -> tuple[Tensor, Tensor]:
        if self.adam is None:
            return super().train_batch(xb, yb)
        total, grads = self._part_grads(xb, yb)
        if bool(torch.isfinite(total[0])):
            self.adam.step(grads)
        return total[0], total[1].long()

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        super().close()
