"""Teach a model one person's handwriting from a handful of their drawings, in seconds on a CPU.

Fine-tuning on 30 drawings alone would make the model forget MNIST (and everyone else's
handwriting), so each step mixes the user's drawings (freshly distorted a little every time, so
three drawings act like many) with *replay* digits, and three terms hold the model to what it
knew: cross-entropy on the replay labels, distillation from the base model's own predictions on
the replay digits (KL at temperature T), and L2-SP, a pull of every weight toward the base
weights. Replay digits are synthetic handwriting rendered like the pad (`synthetic_digits`), so
adaptation works with nothing but the app and the shipped model; MNIST samples are used instead
when asked for and on disk. What was measured to work is in `benchmarks/adapt_eval.py`.

The result is a new Checkpoint; the base is never modified. Deterministic for a seed (one torch
thread). `progress(fraction, message)` is called after every step; `should_stop()` is polled
before every step and ends the run with AdaptCancelled.
"""

from __future__ import annotations

import copy
import functools
import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from lstm_desktop.core.augment import AugmentSettings, augment_batch
from lstm_desktop.core.checkpoint import Checkpoint
from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.core.handwriting_augment import HandwritingSettings
from lstm_desktop.core.inference import torch_threads
from lstm_desktop.core.optim import Adam

Progress = Callable[[float, str], None]
ShouldStop = Callable[[], bool]

# mild: the user's drawings must stay their own shapes, just not the same pixels every step
USER_AUGMENT = AugmentSettings(rotation_deg=6.0, scale=(0.92, 1.08), shift_px=1.0, shear=0.08,
                               thickness=(-0.4, 0.5), probability=0.9,
                               handwriting=HandwritingSettings(elastic_px=0.8, bend_px=1.5, bend_probability=0.2,
                                                               gap_probability=0.0, crossbar_probability=0.0,
                                                               flag_probability=0.0))


class AdaptError(LstmDesktopError):
    """The drawings cannot be used for adaptation (too few, one digit only, wrong shape)."""


class AdaptCancelled(Exception):
    """should_stop() asked for the run to end; nothing was produced."""


@dataclass(frozen=True)
class AdaptSettings:
    epochs: int = 40  # passes over the user's drawings; a pass is ceil(N / user_batch) steps
    user_batch: int = 16
    replay_batch: int = 48
    replay_size: int = 600  # replay digits prepared once per run
    replay: str = "synthetic"  # "synthetic" or "mnist" (falls back to synthetic when not on disk)
    lr: float = 1e-3
    l2sp: float = 0.01  # weight of sum((w - w_base)^2)
    distill: float = 1.0  # weight of the KL term on replay digits
    temperature: float = 2.0
    replay_ce: float = 0.5  # weight of cross-entropy on replay labels
    train: str = "head"  # "head": attention + output layer, recurrent layer frozen (measured: as good, 2x faster); "all"
    seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise AdaptError(f"epochs must be at least 1, not {self.epochs}.", "Use --epochs 1 or more.")
        if self.train not in ("all", "head"):
            raise AdaptError(f"train must be 'all' or 'head', not {self.train!r}.", "")
        if self.replay not in ("synthetic", "mnist"):
            raise AdaptError(f"replay must be 'synthetic' or 'mnist', not {self.replay!r}.", "")


@dataclass
class AdaptResult:
    checkpoint: Checkpoint
    seconds: float
    steps: int
    examples: int
    replay_source: str
    final_user_accuracy: float  # on the (undistorted) drawings after adaptation


@functools.lru_cache(maxsize=2)
def synthetic_replay(n: int, seed: int = 0, canvas: int = 112) -> tuple[np.ndarray, np.ndarray]:
    """n synthetic digits (classic and failure styles), preprocessed like the pad: (n, 28, 28)
    [0, 1] images and labels. Drawn on a small canvas with the pen scaled to match: the 28x28
    result is alike and rendering is ~6x cheaper than on the pad's 280."""
    from lstm_desktop.core.preprocess import preprocess
    from lstm_desktop.core.strokes import CANVAS_SIZE, render_strokes
    from lstm_desktop.core.synthetic_digits import ALL_TEMPLATES, sample_variation, synthesize

    rng = np.random.default_rng([seed, 2718])
    f = canvas / CANVAS_SIZE
    labels = np.arange(n) % 10
    images = np.zeros((n, 28, 28), np.float32)
    for i, label in enumerate(labels):
        styles = sorted(ALL_TEMPLATES[int(label)])
        style = styles[int(rng.integers(len(styles)))]
        v = sample_variation(rng, canvas)
        v = replace(v, pen_width=v.pen_width * f, jitter=v.jitter * f, step=max(v.step * f, 0.8))
        pre = preprocess(render_strokes(synthesize(int(label), style, v, rng, canvas).strokes, canvas),
                         polarity="ink")
        if pre is not None:
            images[i] = pre.image
    labels = labels.astype(np.int64)
    images.setflags(write=False)  # cached for the next run in this process: shared, read-only
    labels.setflags(write=False)
    return images, labels


def mnist_replay(n: int, seed: int = 0, data_dir: str | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """n random MNIST training images in [0, 1] with labels, or None when MNIST is not on disk."""
    from lstm_desktop.core.data import load_mnist_tensors, missing_mnist_files, resolve_data_dir

    root = resolve_data_dir(data_dir)
    if missing_mnist_files(root):
        return None
    try:
        x, y, _, _ = load_mnist_tensors(root)
    except LstmDesktopError:
        return None
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]
    return (x[idx].float() / 255.0).numpy(), y[idx].long().numpy()


def _trainable(model: torch.nn.Module, which: str) -> list[torch.nn.Parameter]:
    params = []
    for name, p in model.named_parameters():
        train = which == "all" or not name.startswith("lstm.")
        p.requires_grad_(train)
        if train:
            params.append(p)
    return params


def adapt_model(base: Checkpoint, images: np.ndarray, labels: np.ndarray,
                settings: AdaptSettings = AdaptSettings(), *, data_dir: str | None = None,
                progress: Progress | None = None, should_stop: ShouldStop | None = None) -> AdaptResult:
    """Fine-tune a copy of base.model on the drawings; images (N, 28, 28) in [0, 1] (1 = ink, as
    `Preprocessed.image` or `DigitExamples.images`), labels (N,) digits."""
    images = np.asarray(images, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if images.ndim != 3 or images.shape[1:] != (base.spec.seq_len, base.spec.input_size):
        raise AdaptError(f"drawings must be {base.spec.seq_len}x{base.spec.input_size} images, got shape "
                         f"{images.shape}.", "Pass preprocessed drawings (Preprocessed.image).")
    if len(images) != len(labels) or len(labels) == 0:
        raise AdaptError(f"{len(images)} drawings but {len(labels)} labels.", "Give one label per drawing.")
    if labels.min() < 0 or labels.max() >= base.spec.num_classes:
        raise AdaptError(f"labels must be 0-{base.spec.num_classes - 1}.", "")
    if len(np.unique(labels)) < 2:
        raise AdaptError(f"all {len(labels)} drawings are of the digit {labels[0]}; adapting needs at least two digits.",
                         "Add drawings of other digits too (a few of each works best).")
    started = time.perf_counter()
    report = progress or (lambda fraction, message: None)
    stop = should_stop or (lambda: False)
    with torch_threads(settings.threads):
        report(0.0, "preparing replay digits")
        source = "synthetic"
        replay = mnist_replay(settings.replay_size, settings.seed, data_dir) if settings.replay == "mnist" else None
        if replay is None:
            replay = synthetic_replay(settings.replay_size, settings.seed)
        else:
            source = "mnist"
        result = _fit(base, images, labels, replay, settings, report, stop)
    seconds = time.perf_counter() - started
    model, steps, user_acc = result
    info = {"adapted": True, "base": _base_name(base), "examples": int(len(labels)),
            "examples_per_digit": {str(int(k)): int(c) for k, c in zip(*np.unique(labels, return_counts=True))},
            "seconds": round(seconds, 3), "steps": steps, "replay": source,
            "settings": asdict(settings), "base_info": {k: v for k, v in base.info.items() if k != "base_info"}}
    ckpt = Checkpoint(model, base.spec, base.config, None, {}, base.mean, base.std, info)
    report(1.0, f"adapted to {len(labels)} drawings in {seconds:.1f} s")
    return AdaptResult(ckpt, seconds, steps, int(len(labels)), source, user_acc)


def _base_name(base: Checkpoint) -> str:
    if base.path is not None:
        return base.path.name
    return str(base.info.get("base", "unsaved model"))


def _features(model, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The recurrent layer's (outputs, final hidden states), batch first for both."""
    outs, finals = [], []
    for i in range(0, len(x), 256):
        out, state = model.lstm(x[i:i + 256])
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM: (h, c); GRU and RNN: h
        outs.append(out)
        finals.append(h_n.transpose(0, 1))
    return torch.cat(outs), torch.cat(finals)


def _head(model, out: torch.Tensor, h_n: torch.Tensor) -> torch.Tensor:
    """Logits from the recurrent layer's results: the part of the model a head-only run trains."""
    summary, _ = model.summarize(out, h_n.transpose(0, 1))
    return model.fc(model.head_dropout(summary))


def _fit(base: Checkpoint, images: np.ndarray, labels: np.ndarray, replay: tuple[np.ndarray, np.ndarray],
         settings: AdaptSettings, report: Progress, stop: ShouldStop):
    gen = torch.Generator().manual_seed(settings.seed)
    mean, std = base.mean, base.std
    user_x = torch.from_numpy((images - mean) / std)
    user_y = torch.from_numpy(labels)
    replay_x = torch.from_numpy((replay[0].astype(np.float32) - mean) / std)
    replay_y = torch.from_numpy(np.array(replay[1], dtype=np.int64))
    teacher = copy.deepcopy(base.model).cpu().eval()  # the pad may be using base.model meanwhile: never touch it
    model = copy.deepcopy(teacher)
    head_only = settings.train == "head"
    with torch.no_grad():
        teacher_logits = torch.cat([teacher(replay_x[i:i + 256]) for i in range(0, len(replay_x), 256)])
        # head only: the recurrent layer is frozen, so its outputs on the replay digits are fixed
        replay_features = _features(model, replay_x) if head_only else None
    model.train()
    params = _trainable(model, settings.train)
    anchors = [p.detach().clone() for p in params]
    opt = Adam(params, lr=settings.lr)  # no torch._dynamo import (core/optim.py)
    per_epoch = max(1, math.ceil(len(user_y) / settings.user_batch))
    steps = settings.epochs * per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))
    t_sq = settings.temperature ** 2
    order = torch.randperm(len(user_y), generator=gen)
    for step in range(steps):
        if stop():
            raise AdaptCancelled("adaptation cancelled")
        if step % per_epoch == 0:
            order = torch.randperm(len(user_y), generator=gen)
        part = order[(step % per_epoch) * settings.user_batch:(step % per_epoch + 1) * settings.user_batch]
        ub = augment_batch(user_x[part], gen, USER_AUGMENT, labels=user_y[part])
        ridx = torch.randint(len(replay_y), (settings.replay_batch,), generator=gen)
        if head_only:
            with torch.no_grad():
                u_feat = _features(model, ub)
            feats = tuple(torch.cat([u, r[ridx]]) for u, r in zip(u_feat, replay_features))
            logits = _head(model, *feats)
        else:
            logits = model(torch.cat([ub, replay_x[ridx]]))
        u_logits, r_logits = logits[:len(part)], logits[len(part):]
        loss = F.cross_entropy(u_logits, user_y[part])
        if settings.replay_ce > 0:
            loss = loss + settings.replay_ce * F.cross_entropy(r_logits, replay_y[ridx])
        if settings.distill > 0:
            t = settings.temperature
            kl = F.kl_div(F.log_softmax(r_logits / t, dim=1), F.log_softmax(teacher_logits[ridx] / t, dim=1),
                          log_target=True, reduction="batchmean")
            loss = loss + settings.distill * t_sq * kl
        if settings.l2sp > 0:
            loss = loss + settings.l2sp * sum(((p - a) ** 2).sum() for p, a in zip(params, anchors))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        sched.step()
        report((step + 1) / steps * 0.98, f"step {step + 1}/{steps}, loss {float(loss.detach()):.3f}")
    for p in model.parameters():
        p.requires_grad_(True)
    model.eval()
    with torch.no_grad():
        user_acc = float((model(user_x).argmax(1) == user_y).float().mean())
    return model, steps, user_acc
