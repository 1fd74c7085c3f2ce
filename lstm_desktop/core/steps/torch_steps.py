"""One optimiser step on one batch in torch: serial, or split over cores.

These are the portable steps (any device, any model, DDP); the C kernel's step (kernel_step.py)
does the same maths faster on CPU. fast_path.make_step picks one; the engine calls `train_batch`
once per batch, and which step it got only changes how fast a batch goes on this machine.
"""

from __future__ import annotations

import contextlib
import functools
from concurrent.futures import ThreadPoolExecutor

import torch
import torch.nn.functional as F



class SerialStep:
    """Forward, backward and optimiser step of one batch on this thread (any device, DDP too)."""

    description = "torch serial"  # which step and how it was chosen (fast_path.make_step sets it)

    def __init__(self, net: torch.nn.Module, opt: torch.optim.Optimizer, grad_clip: float = 0.0,
                 threads_each: int | None = None) -> None:
        self.net = net
        self.opt = opt
        self.grad_clip = grad_clip
        self.outer_threads = torch.get_num_threads()
        self.threads_each = threads_each or self.outer_threads
        torch.set_num_threads(self.threads_each)

    def grads(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Sets .grad to the batch's mean gradient; returns (mean loss, correct predictions)."""
        logits = self.net(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        return loss.detach(), (logits.detach().argmax(1) == yb).sum()

    def train_batch(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step; a NaN or infinite loss leaves the weights as they were (the engine then stops)."""
        self.opt.zero_grad(set_to_none=True)
        loss, correct = self.grads(xb, yb)
        if bool(torch.isfinite(loss)):
            if self.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.grad_clip)
            self.opt.step()
        return loss, correct

    @contextlib.contextmanager
    def all_threads(self):
        """Validation and other big batched ops run on this thread with all the threads."""
        torch.set_num_threads(self.outer_threads)
        try:
            yield
        finally:
            torch.set_num_threads(self.threads_each)

    def close(self) -> None:
        torch.set_num_threads(self.outer_threads)


class SplitStep(SerialStep):
    """The batch cut into equal parts run at once on single-threaded workers, one per core.

    A row-wise LSTM step is many tiny ops; with OpenMP threads inside each op, the cores spend
    much of the step waiting on each other. Independent parts keep every core busy. Each part's
    loss is its summed cross-entropy over the full batch size, so the parts' gradients, added in a
    fixed order, are the whole batch's mean gradient: the same optimisation, deterministically.
    """

    def __init__(self, net: torch.nn.Module, opt: torch.optim.Optimizer, grad_clip: float, parts: int,
                 threads_each: int = 1) -> None:
        super().__init__(net, opt, grad_clip, threads_each)
        self.parts = parts
        self.params = [p for p in net.parameters() if p.requires_grad]
        self.pool = ThreadPoolExecutor(parts - 1, thread_name_prefix="lstm-step",
                                       initializer=torch.set_num_threads, initargs=(threads_each,))

    def _part(self, x: torch.Tensor, y: torch.Tensor, n: int):
        logits = self.net(x)
        loss = F.cross_entropy(logits, y, reduction="sum") / n
        grads = torch.autograd.grad(loss, self.params, allow_unused=True)
        return loss.detach(), (logits.detach().argmax(1) == y).sum(), grads

    def grads(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = len(xb)
        sizes = part_sizes(n, self.parts)
        xs, ys = xb.split(sizes), yb.split(sizes)
        futures = [self.pool.submit(self._part, x, y, n) for x, y in zip(xs[1:], ys[1:])]
        results = [self._part(xs[0], ys[0], n)] + [f.result() for f in futures]
        for i, p in enumerate(self.params):
            grads = [r[2][i] for r in results if r[2][i] is not None]
            p.grad = functools.reduce(torch.add, grads) if grads else None
        loss = functools.reduce(torch.add, [r[0] for r in results])
        correct = functools.reduce(torch.add, [r[1] for r in results])
        return loss, correct

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        super().close()


def part_sizes(n: int, parts: int, lead: bool = True) -> list[int]:
    """How a batch of n is cut: near-equal parts, with `lead` the first (this thread's) a bit larger.

    In the Python split the other parts start later (the GIL, a thread waking
    up) and waiting for one still running costs another wake-up, so this thread takes ~3% more and
    is usually the last to finish: on 2 cores 34/30 is ~3% faster per batch than 32/32. The C
    kernel's parts start together, so it cuts evenly.
    """
    sizes = [n // parts + (i < n % parts) for i in range(parts)]
    shift = min(n // (16 * parts), sizes[-1] - 1) if lead and sizes[-1] > 0 else 0
    sizes[0] += shift
    sizes[-1] -= shift
    return [s for s in sizes if s > 0]


def split_parts(threads: int, batch_size: int) -> int:
    """How many parts a batch is cut into: one per thread, none under 16 samples."""
    return min(threads, batch_size // 16)
