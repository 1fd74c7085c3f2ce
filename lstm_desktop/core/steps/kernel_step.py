"""Every LSTMClassifier variant trained by the C kernel: the fastest exact step on a multi-core CPU.

Why: on this project's 2-core machine the torch steps spend a third of oneDNN's LSTM time outside
its matrix products, and the Python around them makes the parts of a batch queue for the GIL.
`native/network.c` does a part's whole forward and backward (all layers and directions, attention,
head, cross-entropy) in one call that releases the GIL, so the parts truly run at once.

- Dropout masks are drawn here in torch, from the global generator on this thread, so a seeded run
  repeats; they are not the masks nn.LSTM would draw, so with dropout this step is a different
  (equally valid) random path than the torch fallback.
- The parts run on parts.c's persistent threads in one call per batch; their gradients land in one
  flat buffer each and are added there in a fixed order.
- Adam is the fused call of fused_adam.py where the optimiser allows; otherwise opt.step().

Gradients match autograd through nn.LSTM/nn.GRU/nn.RNN to ~1e-6..1e-5 relative, as close as float32
autograd itself is to float64 (tests/core/test_kernel_step.py, test_native_kernel.py).
"""

from __future__ import annotations

import ctypes
import weakref

import torch
from torch import Tensor

from lstm_desktop.core.steps import fused_adam
from lstm_desktop.core.models.networks import LSTMClassifier
from lstm_desktop.core.steps.native_kernel import CELLS, DIMS, Kernel
from lstm_desktop.core.steps.torch_steps import SerialStep, part_sizes


def _expected_names(model: LSTMClassifier) -> list[str]:
    """model.parameters() in the order network.c reads them."""
    spec = model.spec
    names = [f"lstm.{kind}_l{layer}{suffix}" for layer in range(spec.layers)
             for suffix in ([""] + (["_reverse"] if spec.bidirectional else []))
             for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    if spec.attention:
        names += ["attn.0.weight", "attn.0.bias", "attn.2.weight"]
    return names + ["fc.weight", "fc.bias"]


def supports(model: LSTMClassifier, kernel: Kernel | None = None) -> bool:
    """What net_part computes: an LSTMClassifier laid out as built, float32 contiguous on the CPU."""
    spec = model.spec
    rnn = model.lstm
    cell = getattr(spec, "cell", "lstm")
    expected_type = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}.get(cell)
    if expected_type is None or type(rnn) is not expected_type or not rnn.batch_first or not rnn.bias:
        return False
    if getattr(rnn, "proj_size", 0) or getattr(rnn, "nonlinearity", "tanh") != "tanh":
        return False
    if ((rnn.input_size, rnn.hidden_size, rnn.num_layers, rnn.bidirectional) !=
            (spec.input_size, spec.hidden, spec.layers, spec.bidirectional) or model.fc.out_features != spec.num_classes):
        return False
    if (kernel is not None and spec.layers > kernel.max_layers) or getattr(spec, "prototypes", 0):
        return False  # too deep for the kernel, or remembered drawings (models.prototype_boost) it does not compute
    if model.attn is not None and not (isinstance(model.attn, torch.nn.Sequential) and len(model.attn) == 3
                                       and isinstance(model.attn[1], torch.nn.Tanh)):
        return False
    params = list(model.named_parameters())
    return ([n for n, _ in params] == _expected_names(model)
            and all(p.dtype == torch.float32 and p.device.type == "cpu" and p.is_contiguous() for _, p in params))


class _Part:
    """One part's workspace, flat gradients and pointer table, kept between batches."""

    def __init__(self, kernel: Kernel, dims: tuple[int, ...], weights: list[Tensor], total: int) -> None:
        self.dims = dims
        self.work = torch.empty(int(kernel.net_workspace((ctypes.c_int * DIMS)(*dims))) + 16)
        self.result = torch.empty(2)
        self.flat = torch.empty(total)
        views, at = [], 0
        for w in weights:
            views.append(self.flat[at:at + w.numel()].view_as(w))
            at += w.numel()
        fixed = [kernel.sgemm, kernel.set_threads, 0, 0, self.result.data_ptr(), self.work.data_ptr()]
        self.masks_at = len(fixed) + 2 * len(weights)
        masks = dims[9] * (dims[4] - 1) + dims[10]  # DIM_DROP x (layers - 1) + DIM_HEAD_DROP
        table = fixed + [w.data_ptr() for w in weights] + [v.data_ptr() for v in views] + [0] * masks
        self.table = (ctypes.c_void_p * len(table))(*table)


class _Plan:
    """The parts of one batch shape, and the arrays of pointers that pool_run reads."""

    def __init__(self, parts: list[_Part]) -> None:
        self.parts = parts
        self.dims = (ctypes.c_int * (DIMS * len(parts)))(*(d for part in parts for d in part.dims))
        self.tables = (ctypes.c_void_p * len(parts))(*(ctypes.addressof(part.table) for part in parts))
        self.flats = (ctypes.c_void_p * len(parts))(*(part.flat.data_ptr() for part in parts))
        self.results = (ctypes.c_void_p * len(parts))(*(part.result.data_ptr() for part in parts))


class KernelSplitStep(SerialStep):
    """The batch cut into equal parts that net_part trains at once, one per core (parts.c's pool);
    the parts' gradients are added there in a fixed order, then the optimiser steps (fused Adam
    where it can)."""

    def __init__(self, model: LSTMClassifier, opt: torch.optim.Optimizer, grad_clip: float, parts: int,
                 kernel: Kernel, threads_each: int = 1) -> None:
        # One torch thread here too: OpenMP workers left spinning after a two-thread op (Adam) take
        # the core that the next batch's other part needs (measured: 13.8 vs 7.3 ms a batch).
        super().__init__(model, opt, grad_clip, threads_each=1)
        self.model = model
        self.kernel = kernel
        self.parts = parts
        # MKL threads inside each part (its gate products): for more cores than parts worth making
        self.threads_each = max(1, int(threads_each)) if kernel.set_threads else 1
        self.pool = kernel.pool_create(parts - 1)
        if not self.pool:
            raise OSError("could not start the kernel's threads")
        self._stop_pool = weakref.finalize(self, kernel.pool_destroy, self.pool)  # also if never closed
        self.plans: dict[tuple[tuple[int, ...], int, bool], _Plan] = {}
        self.weights = [p for p in model.parameters()]
        self.weight_ptrs = [w.data_ptr() for w in self.weights]
        self.total = sum(w.numel() for w in self.weights)
        self.sum = torch.empty(self.total)
        self.result = torch.empty(2)
        self.grad_views = []
        at = 0
        for w in self.weights:
            self.grad_views.append(self.sum[at:at + w.numel()].view_as(w))
            at += w.numel()
        fusable = grad_clip == 0 and fused_adam.fusable(opt, self.weights)  # also checks the order
        self.adam = fused_adam.FusedAdam(opt, self.weights) if fusable else None
        spec = model.spec
        self.cell = CELLS[getattr(spec, "cell", "lstm")]
        self.dirs = 2 if spec.bidirectional else 1
        self.attn_hidden = model.attn[0].out_features if model.attn is not None else 0

    def _dims(self, rows: int, steps: int, features: int, dropping: bool) -> tuple[int, ...]:
        spec = self.model.spec
        return (steps, rows, features, spec.hidden, spec.layers, self.dirs, int(spec.attention),
                self.attn_hidden, spec.num_classes, int(dropping and spec.layers > 1), int(dropping), self.cell,
                self.threads_each)

    def _masks(self, n: int, steps: int) -> list[Tensor]:
        """Inverted-dropout masks for the whole batch, as nn.Dropout scales them: keep / (1 - p)."""
        p = self.model.spec.dropout
        features = self.dirs * self.model.spec.hidden
        shapes = [(n, steps, features)] * (self.model.spec.layers - 1) + [(n, features)]
        return [torch.empty(s).bernoulli_(1.0 - p).div_(1.0 - p) for s in shapes]

    def _plan(self, sizes: list[int], steps: int, features: int, dropping: bool) -> _Plan:
        key = (tuple(sizes), steps * 100003 + features, dropping)
        plan = self.plans.get(key)
        if plan is None:
            parts = [_Part(self.kernel, self._dims(rows, steps, features, dropping), self.weights, self.total)
                     for rows in sizes]
            plan = self.plans[key] = _Plan(parts)
        return plan

    def _part_grads(self, xb: Tensor, yb: Tensor) -> Tensor:
        """Summed [mean loss, correct] of the batch; self.sum holds the mean gradient after it."""
        n, steps, features = xb.shape
        if features != self.model.spec.input_size:
            raise ValueError(f"expected {self.model.spec.input_size} features a step, got {features}")
        if [w.data_ptr() for w in self.weights] != self.weight_ptrs:  # weights re-allocated: new tables
            self.plans.clear()
            self.weight_ptrs = [w.data_ptr() for w in self.weights]
        if n and (int(yb.min()) < 0 or int(yb.max()) >= self.model.spec.num_classes):
            raise IndexError(f"labels must be in 0..{self.model.spec.num_classes - 1}")  # C would read past
        xb = xb.to(torch.float32).contiguous()
        yb = yb.to(torch.int64).contiguous()
        dropping = self.model.training and self.model.spec.dropout > 0
        masks = self._masks(n, steps) if dropping else []
        sizes = part_sizes(n, self.parts, lead=False)
        plan = self._plan(sizes, steps, features, dropping)
        x_at, y_at, start = xb.data_ptr(), yb.data_ptr(), 0
        for part, rows in zip(plan.parts, sizes):
            part.table[2], part.table[3] = x_at + 4 * start * steps * features, y_at + 8 * start
            for i, m in enumerate(masks):
                part.table[part.masks_at + i] = m.data_ptr() + 4 * start * (m.numel() // n)
            start += rows
        if not self._stop_pool.alive:
            raise RuntimeError("the step is closed")
        code = self.kernel.pool_run(self.pool, len(sizes), plan.dims, float(n), plan.tables, plan.flats, self.total,
                                    self.sum.data_ptr(), plan.results, self.result.data_ptr())
        if code != 0:
            raise RuntimeError("the kernel's part pool refused the batch")
        return self.result.clone()

    def grads(self, xb: Tensor, yb: Tensor) -> tuple[Tensor, Tensor]:
        total = self._part_grads(xb, yb)
        for p, g in zip(self.weights, self.grad_views):
            p.grad = g
        return total[0], total[1].long()

    def train_batch(self, xb: Tensor, yb: Tensor) -> tuple[Tensor, Tensor]:
        if self.adam is None:
            return super().train_batch(xb, yb)
        total = self._part_grads(xb, yb)
        if bool(torch.isfinite(total[0])):
            self.adam.step(self.grad_views)
        return total[0], total[1].long()

    def close(self) -> None:
        self._stop_pool()  # once: later calls do nothing
        super().close()
