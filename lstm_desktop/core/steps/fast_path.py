"""Which training step the engine uses: the one place that chooses, and why.

On a CPU with several cores every exact step that can run (below) is timed on a few batches of the
run's shape and the fastest is remembered for this machine and shape (step_choice.py): rules
written on one machine picked the Python split on a 16-core one, where the kernel never ran. The
rules below are the order the candidates are listed in, and the choice when nothing is timed
(LSTM_DESKTOP_STEP_CHOICE=rules). They were measured on the project's 2-core machine (benchmarks/handwritten_vs_engine.py, ratios in the
README):
- CPU, several cores, any LSTMClassifier variant (stacked, bidirectional, attention, dropout; LSTM,
  GRU or tanh-RNN cells): the C kernel (kernel_step.KernelSplitStep). The batch is cut into one
  part per core and each part's whole forward and backward is one C call outside the GIL: per
  layer and direction one sgemm per time step plus a vectorised gate pass. The alternatives were
  measured slower: oneDNN's LSTM through the Python split (a third of its time outside the
  products, parts queueing for the GIL), and the TorchScript split (deprecated upstream, and it
  still paid oneDNN's overhead).
- One core: the kernel too, in one part (1.23-1.29x the serial torch step's CPU time per batch,
  plain b64 and BiLSTM+attention b128).
- More cores than parts (small batches on a big machine): the Python split with several torch
  threads per part (steps.SplitStep), so every core has work inside torch's ops.
- CUDA, one process: the whole step captured in a CUDA graph and replayed (cuda_graph_step.py),
  since a small recurrent step on a GPU is bound by kernel launches; cuDNN picks its algorithms by
  measuring (cudnn.benchmark). LSTM_DESKTOP_NO_CUDA_GRAPH=1 gives the eager step, same maths.
- Everything else: a batch under 32 on several cores, DDP, a GPU, or where the kernel cannot run (no
  C compiler, a torch without MKL's sgemm, not x86-64 Linux, LSTM_DESKTOP_NO_KERNEL=1, a model not
  laid out as LSTMClassifier builds it): the torch steps, same maths. SplitStep splits only without
  dropout: the torch dropout draws per part would differ from the serial step's.
"""

from __future__ import annotations

import torch

from lstm_desktop.core.steps import cuda_graph_step
from lstm_desktop.core.steps import kernel_step
from lstm_desktop.core.steps import native_kernel
from lstm_desktop.core.steps import step_choice
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.models.networks import LSTMClassifier
from lstm_desktop.core.training.optim import make_optimizer
from lstm_desktop.core.steps.step_choice import Candidate
from lstm_desktop.core.steps.torch_steps import SerialStep, SplitStep, split_parts


def make_step(model: LSTMClassifier, net: torch.nn.Module, opt: torch.optim.Optimizer, cfg: TrainConfig,
              device: torch.device, batch_size: int, data_parallel: bool) -> SerialStep:
    """The fastest exact step for this model, device and batch size (see the module's note); its
    `description` says which it is and how it was chosen (the run's info shows it)."""
    if device.type == "cuda" and not data_parallel:
        torch.backends.cudnn.benchmark = True
        if cuda_graph_step.graph_capture_enabled(device) and cuda_graph_step.supported(opt):
            step: SerialStep = cuda_graph_step.CudaGraphStep(net, opt, cfg.grad_clip, batch_size,
                                                             scheduled_lr=cfg.lr_schedule != "none")
            step.description = "CUDA graph"
            return step
    if not (cfg.cpu_split and device.type == "cpu" and not data_parallel):
        step = SerialStep(net, opt, cfg.grad_clip)
        step.description = f"torch serial on {device.type}"
        return step
    kernel = native_kernel.load_kernel() if cfg.cpu_kernel else None
    kernel = kernel if kernel is not None and kernel_step.supports(model, kernel) else None
    threads = torch.get_num_threads()
    choice, how = rule_choice(model, threads, batch_size, kernel is not None), "by rule"
    options = candidates(model, threads, batch_size, kernel is not None)
    if step_choice.measuring_enabled() and len(options) > 1:
        key = step_choice.machine_key(threads, repr(model.spec.to_dict()), batch_size)
        cache = step_choice.ChoiceCache()
        remembered = cache.get(key)
        if remembered in options:
            choice, how = remembered, "measured earlier on this machine"
        else:
            spec, gen = model.spec, torch.Generator().manual_seed(0)  # not the run's random stream
            x = torch.randn(batch_size, spec.seq_len, spec.input_size, generator=gen)
            y = torch.randint(0, spec.num_classes, (batch_size,), generator=gen)
            busy = step_choice.machine_busy(threads)
            choice, _ = step_choice.fastest(options, model, lambda m: make_optimizer(m, cfg, device),
                                            lambda c, m, o: build(c, m, m, o, cfg, kernel), x, y)
            if busy or step_choice.machine_busy(threads):
                how = "measured on a busy machine, not remembered"
            else:
                how = "measured"
                cache.put(key, choice)
    try:
        step = build(choice, model, net, opt, cfg, kernel)
    except OSError:  # no threads to be had for the kernel: the torch steps
        choice, how = Candidate("serial", 1, threads), "the kernel could not start its threads"
        step = build(choice, model, net, opt, cfg, kernel)
    step.description = f"{choice.name}, {how}"
    return step


def rule_choice(model: LSTMClassifier, threads: int, batch_size: int, kernel: bool) -> Candidate:
    """The 2-core machine's rules (the module's note): what runs when nothing is timed."""
    parts = 1 if threads == 1 else split_parts(threads, batch_size)  # one core: the kernel in one part
    if parts < 2 and threads > 1:
        return Candidate("serial", 1, threads)  # a batch under 32 on several cores: all threads in torch
    threads_each = max(1, threads // parts)
    if threads_each > 1:  # more cores than parts: each part uses OpenMP inside torch's ops
        return Candidate("split", parts, threads_each) if model.spec.dropout == 0 else Candidate("serial", 1, threads)
    if kernel:
        return Candidate("kernel", parts, 1)
    if model.spec.dropout == 0 and parts >= 2:
        return Candidate("split", parts, 1)
    return Candidate("serial", 1, threads)


def candidates(model: LSTMClassifier, threads: int, batch_size: int, kernel: bool) -> list[Candidate]:
    """Every exact step worth timing here: the kernel in 1..threads parts of >= 16 samples (one core a
    part, or the cores shared out among the parts when there are more cores than parts), the Python split (no dropout: its draws would differ) with the threads shared out, the serial step."""
    most = max(1, min(threads, batch_size // 16))
    counts = sorted({most} | {p for p in (1, 2, 4, 8, 16, 32, 64) if p <= most})
    options = [Candidate("kernel", p, 1) for p in counts] if kernel else []
    if kernel and threads // most > 1:  # more cores than parts worth making (a small batch on many cores):
        options.append(Candidate("kernel", most, threads // most))  # MKL threads inside each part too
    if model.spec.dropout == 0:
        options += [Candidate("split", p, max(1, threads // p)) for p in counts if p >= 2]
    options.append(Candidate("serial", 1, threads))
    rule = rule_choice(model, threads, batch_size, kernel)
    return [rule] + [c for c in options if c != rule]


def build(choice: Candidate, model: LSTMClassifier, net: torch.nn.Module, opt: torch.optim.Optimizer,
          cfg: TrainConfig, kernel: object | None) -> SerialStep:
    if choice.kind == "kernel" and kernel is not None:
        return kernel_step.KernelSplitStep(model, opt, cfg.grad_clip, choice.parts, kernel, choice.threads_each)
    if choice.kind == "split":
        return SplitStep(net, opt, cfg.grad_clip, choice.parts, choice.threads_each)
    return SerialStep(net, opt, cfg.grad_clip)
