"""Teach a model one person's handwriting from a handful of their drawings, in seconds on a CPU.

Fine-tuning on 30 drawings alone would make the model forget MNIST (and everyone else's
handwriting), so each step mixes the user's drawings (freshly distorted a little every time, so
three drawings act like many) with *replay* digits, and three terms hold the model to what it
knew: cross-entropy on the replay labels, distillation from the base model's own predictions on
the replay digits (KL at temperature T), and L2-SP, a pull of every weight toward the base
weights. Replay digits are synthetic handwriting rendered like the pad (`synthetic_digits`), so
adaptation works with nothing but the app and the shipped model; MNIST samples are used instead
when asked for and on disk. What was measured to work is in `benchmarks/adapt_eval.py`.

A drawing the user just corrected must then be read as they said: after the fine-tune every
drawing is checked as drawn, and those still misread (or barely right) get *repair* steps, shown
as drawn and distorted, next to the others and the replay digits, until they are read right or
`repair_steps` run out. Whatever is still misread is reported (`AdaptResult.misread`,
`misread_message`), never hidden behind "it reads your handwriting better". A few drawings get
at least `min_steps` steps: 40 passes over 5 drawings are only 40 steps, too few to move a 7 to a 1.

The adapted model also *remembers* the drawings (`prototypes`, on by default): their summary
vectors, the features its output layer reads, are stored in the model (LSTMClassifier.
set_prototypes), and a drawing close to one of them gets its digit's logit raised. Three drawings
of a shape teach the fine-tune a little; the remembered drawings read that shape again at once.
They are stored after the fine-tune and again after every round of repair, so the check of the
drawings is made with exactly the model that is saved.

The result is a new Checkpoint; the base is never modified. Deterministic for a seed (one torch
thread). `progress(fraction, message)` is called after every step; `should_stop()` is polled
before every step and ends the run with AdaptCancelled.
"""

from __future__ import annotations

import copy
import functools
import math
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from lstm_desktop.core.data.augment import AugmentSettings, augment_batch
from lstm_desktop.core.models.checkpoint import Checkpoint
from lstm_desktop.core.drawing.classify import UNSURE_BELOW
from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.core.data.handwriting_augment import HandwritingSettings
from lstm_desktop.core.drawing.inference import torch_threads
from lstm_desktop.core.training.optim import Adam
from lstm_desktop.core.drawing.preprocess import estimate_stroke_width

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
    min_steps: int = 60  # a few drawings still get this many steps (5 drawings: 40 epochs are only 40 steps)
    repair_steps: int = 150  # at most this many extra steps for drawings still misread after the fine-tune
    repair_check: int = 10  # re-check the drawings every this many repair steps
    repair_replay: int = 3  # repair steps rehearse this many times more replay digits than fine-tune steps
    repair_lr: float = 5e-4  # half the fine-tune's: on the hard writer 0 as good on MNIST, its other drawings better
    repair_below: float = UNSURE_BELOW  # repair also drawings read right but not surely (the pad would say unsure)
    prototypes: bool = True  # remember the drawings as nearest prototypes next to the fine-tune

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
    misread: tuple[int, ...] = ()  # indices of the drawings still read as another digit (honest: say so)

    @property
    def all_read_right(self) -> bool:
        return not self.misread


@functools.lru_cache(maxsize=2)
def synthetic_replay(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n pen digits (every style, everyday hands) preprocessed like the pad, read-only: cached for
    the next adaptation in this process."""
    from lstm_desktop.core.data.pen_digits import render_pen_digits

    images, labels = render_pen_digits(n, np.random.default_rng([seed, 2718]))
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def mnist_replay(n: int, seed: int = 0, data_dir: str | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """n random MNIST training images in [0, 1] with labels, or None when MNIST is not on disk."""
    from lstm_desktop.core.data.image_sets import load_mnist_tensors, resolve_data_dir
    from lstm_desktop.core.data.mnist_files import missing_mnist_files

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
    model, steps, user_acc, misread = result
    info = {"adapted": True, "base": _base_name(base), "examples": int(len(labels)),
            "examples_per_digit": {str(int(k)): int(c) for k, c in zip(*np.unique(labels, return_counts=True))},
            "seconds": round(seconds, 3), "steps": steps, "replay": source,
            "misread": [int(labels[i]) for i in misread],
            "settings": asdict(settings), "base_info": {k: v for k, v in base.info.items() if k != "base_info"}}
    info["prototypes"] = model.spec.prototypes
    # the widest stroke it learned from: classify.stroke_limit no longer calls such strokes "too thick"
    info["widest_stroke"] = round(max(estimate_stroke_width(img) for img in images), 3)
    ckpt = Checkpoint(model, model.spec, base.config, None, {}, base.mean, base.std, info)
    report(1.0, f"adapted to {len(labels)} drawings in {seconds:.1f} s")
    return AdaptResult(ckpt, seconds, steps, int(len(labels)), source, user_acc, misread)


def misread_message(labels: np.ndarray, misread: tuple[int, ...], again: str) -> str:
    """The plain sentence for drawings adaptation could not teach (the CLI and the pad say the same)."""
    digits = sorted({int(labels[i]) for i in misread})
    which = ", ".join(str(d) for d in digits)
    return (f"Could not learn {len(misread)} of your {len(labels)} drawings: the adapted model still reads "
            f"{'it' if len(misread) == 1 else 'them'} as another digit (drawn as {which}). Draw a few more "
            f"examples of {'that digit' if len(digits) == 1 else 'those digits'} the way you write them, "
            f"or delete a drawing kept under the wrong digit, and {again}.")


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
    return model.head(summary)


class _Trainer:
    """The fine-tune's state and one optimisation step, shared by the main pass and the repair pass."""

    def __init__(self, base: Checkpoint, images: np.ndarray, labels: np.ndarray,
                 replay: tuple[np.ndarray, np.ndarray], settings: AdaptSettings) -> None:
        self.s = settings
        self.gen = torch.Generator().manual_seed(settings.seed)
        mean, std = base.mean, base.std
        self.user_x = torch.from_numpy((images - mean) / std)
        self.user_y = torch.from_numpy(labels)
        self.replay_x = torch.from_numpy((replay[0].astype(np.float32) - mean) / std)
        self.replay_y = torch.from_numpy(np.array(replay[1], dtype=np.int64))
        teacher = copy.deepcopy(base.model).cpu().eval()  # the pad may be using base.model meanwhile: never touch it
        self.model = copy.deepcopy(teacher)
        self.model.set_prototypes(None)  # an adapted base's drawings: these drawings replace them (remember)
        self.head_only = settings.train == "head"
        with torch.no_grad():
            self.teacher_logits = torch.cat([teacher(self.replay_x[i:i + 256]) for i in range(0, len(self.replay_x), 256)])
            # head only: the recurrent layer is frozen, so its outputs on the replay digits are fixed
            self.replay_features = _features(self.model, self.replay_x) if self.head_only else None
        self.model.train()
        self.params = _trainable(self.model, settings.train)
        self.anchors = [p.detach().clone() for p in self.params]
        self.opt = Adam(self.params, lr=settings.lr)  # no torch._dynamo import (core/training/optim.py)

    def step(self, ub: torch.Tensor, uy: torch.Tensor, replay_scale: int = 1) -> float:
        """One step on the user batch (ub, uy) next to a replay batch (replay_scale times the usual
        size); returns the loss."""
        s, model = self.s, self.model
        ridx = torch.randint(len(self.replay_y), (s.replay_batch * replay_scale,), generator=self.gen)
        if self.head_only:
            with torch.no_grad():
                u_feat = _features(model, ub)
            feats = tuple(torch.cat([u, r[ridx]]) for u, r in zip(u_feat, self.replay_features))
            logits = _head(model, *feats)
        else:
            logits = model(torch.cat([ub, self.replay_x[ridx]]))
        u_logits, r_logits = logits[:len(uy)], logits[len(uy):]
        loss = F.cross_entropy(u_logits, uy)
        if s.replay_ce > 0:
            loss = loss + s.replay_ce * F.cross_entropy(r_logits, self.replay_y[ridx])
        if s.distill > 0:
            t = s.temperature
            kl = F.kl_div(F.log_softmax(r_logits / t, dim=1), F.log_softmax(self.teacher_logits[ridx] / t, dim=1),
                          log_target=True, reduction="batchmean")
            loss = loss + s.distill * t * t * kl
        if s.l2sp > 0:
            loss = loss + s.l2sp * sum(((p - a) ** 2).sum() for p, a in zip(self.params, self.anchors))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 5.0)
        self.opt.step()
        return float(loss.detach())

    def remember(self) -> None:
        """Store the drawings' summary vectors, as the model now computes them, as its prototypes."""
        if not self.s.prototypes:
            return
        model = self.model
        model.eval()
        with torch.no_grad():
            out, h_n = _features(model, self.user_x)
            summary, _ = model.summarize(out, h_n.transpose(0, 1))
        model.set_prototypes(summary, self.user_y)
        model.train()

    def misread(self, below: float = 0.0) -> np.ndarray:
        """Indices of the user's (undistorted) drawings the model now reads as another digit, or
        gives their own digit a probability under `below`."""
        self.model.eval()
        with torch.no_grad():
            probs = torch.softmax(self.model(self.user_x), dim=1)
        self.model.train()
        own = probs.gather(1, self.user_y[:, None])[:, 0]
        return np.flatnonzero(((probs.argmax(1) != self.user_y) | (own < below)).numpy())


def _fit(base: Checkpoint, images: np.ndarray, labels: np.ndarray, replay: tuple[np.ndarray, np.ndarray],
         settings: AdaptSettings, report: Progress, stop: ShouldStop):
    tr = _Trainer(base, images, labels, replay, settings)
    n = len(tr.user_y)
    per_epoch = max(1, math.ceil(n / settings.user_batch))
    steps = max(settings.epochs * per_epoch, settings.min_steps)
    sched = torch.optim.lr_scheduler.LambdaLR(tr.opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))
    total = steps + settings.repair_steps
    order = torch.randperm(n, generator=tr.gen)
    for step in range(steps):
        if stop():
            raise AdaptCancelled("adaptation cancelled")
        k = step % per_epoch
        if k == 0:
            order = torch.randperm(n, generator=tr.gen)
        part = order[k * settings.user_batch:(k + 1) * settings.user_batch]
        loss = tr.step(augment_batch(tr.user_x[part], tr.gen, USER_AUGMENT, labels=tr.user_y[part]), tr.user_y[part])
        sched.step()
        report((step + 1) / total * 0.98, f"step {step + 1}/{steps}, loss {loss:.3f}")
    tr.remember()
    weak = tr.misread(settings.repair_below)
    repair = _repair(tr, weak, steps, total, report, stop) if len(weak) else 0
    wrong = tr.misread()
    model = tr.model
    for p in model.parameters():
        p.requires_grad_(True)
    model.eval()
    return model, steps + repair, 1.0 - len(wrong) / n, tuple(int(i) for i in wrong)


def _repair(tr: _Trainer, wrong: np.ndarray, done: int, total: int, report: Progress, stop: ShouldStop) -> int:
    """Steps that teach the drawings still misread (or barely right) after the fine-tune, as drawn (and a distorted copy),
    next to the others (so they stay right) and the replay digits; until all are read right or
    repair_steps run out. Returns the steps taken."""
    s = tr.s
    for g in tr.opt.param_groups:
        g["lr"] = s.repair_lr
    taken = 0
    while taken < s.repair_steps and len(wrong):
        for _ in range(min(s.repair_check, s.repair_steps - taken)):
            if stop():
                raise AdaptCancelled("adaptation cancelled")
            w = torch.from_numpy(wrong)
            others = torch.randperm(len(tr.user_y), generator=tr.gen)[:s.user_batch]
            idx = torch.cat([w, w, others])
            ub = torch.cat([tr.user_x[w], augment_batch(tr.user_x[w], tr.gen, USER_AUGMENT, labels=tr.user_y[w]),
                            tr.user_x[others]])
            loss = tr.step(ub, tr.user_y[idx], s.repair_replay)
            taken += 1
            report((done + taken) / total * 0.98, f"fixing {len(wrong)} drawing(s) still misread, loss {loss:.3f}")
        tr.remember()  # the features moved: the model saved remembers them as it now computes them
        wrong = tr.misread(s.repair_below)
    return taken
