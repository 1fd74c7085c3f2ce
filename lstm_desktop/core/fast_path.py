"""Which training step the engine uses: the one place that chooses, and why.

Measured on the project's 2-core machine (benchmarks/handwritten_vs_engine.py, ratios in the
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

from lstm_desktop.core import cuda_graph_step, kernel_step, native_kernel
from lstm_desktop.core.config import TrainConfig
from lstm_desktop.core.models import LSTMClassifier
from lstm_desktop.core.steps import SerialStep, SplitStep, split_parts


def make_step(model: LSTMClassifier, net: torch.nn.Module, opt: torch.optim.Optimizer, cfg: TrainConfig,
              device: torch.device, batch_size: int, data_parallel: bool) -> SerialStep:
    """The fastest exact step for this model, device and batch size (see the module's note)."""
    if device.type == "cuda" and not data_parallel:
        torch.backends.cudnn.benchmark = True
        if cuda_graph_step.graph_capture_enabled(device) and cuda_graph_step.supported(opt):
            return cuda_graph_step.CudaGraphStep(net, opt, cfg.grad_clip, batch_size,
                                                 scheduled_lr=cfg.lr_schedule != "none")
    threads = torch.get_num_threads()
    parts = 1 if threads == 1 else split_parts(threads, batch_size)  # one core: the kernel in one part
    if not (cfg.cpu_split and device.type == "cpu" and not data_parallel) or (parts < 2 and threads > 1):
        return SerialStep(net, opt, cfg.grad_clip)  # (a batch under 32 on several cores: all threads in torch)
    threads_each = max(1, threads // parts)
    if threads_each > 1:  # more cores than parts: each part uses OpenMP inside torch's ops
        return SplitStep(net, opt, cfg.grad_clip, parts, threads_each) if model.spec.dropout == 0 else \
            SerialStep(net, opt, cfg.grad_clip)
    kernel = native_kernel.load_kernel() if cfg.cpu_kernel else None
    if kernel is not None and kernel_step.supports(model, kernel):
        try:
            return kernel_step.KernelSplitStep(model, opt, cfg.grad_clip, parts, kernel)
        except OSError:  # no threads to be had: the torch steps below
            pass
    if model.spec.dropout == 0 and parts >= 2:
        return SplitStep(net, opt, cfg.grad_clip, parts)
    return SerialStep(net, opt, cfg.grad_clip)
