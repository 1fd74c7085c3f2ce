"""A checkpoint as an ONNX model, checked against PyTorch with onnxruntime before it is written.

Why: ONNX and ONNX Runtime are the common way to run a small model anywhere (C++, C#, the web,
phones). The export uses torch's TorchScript-based exporter (`dynamo=False`): it handles LSTM,
GRU and RNN layers (stacked, bidirectional) as single ONNX ops and does not import torch._dynamo,
which must stay out of the window's process. onnx and onnxruntime are optional extras: without
them `export_onnx` raises a MissingExtra that says how to install them.

The file is only written once onnxruntime gives the same class as PyTorch on every sample of the
test set (a synthetic batch when the dataset is not on disk) with probabilities within 1e-4.
"""

from __future__ import annotations

import copy
import importlib
import io
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_desktop.core.models.checkpoint import Checkpoint
from lstm_desktop.core.errors import DataError, LstmDesktopError
from lstm_desktop.core.models.onnx_meta import INPUT_NAME, OUTPUT_NAMES, export_metadata

EXTRAS = ("onnx", "onnxruntime")
INSTALL_HINT = "Install them with: pip install 'lstm-desktop[onnx]'"
OPSET = 17
PROBABILITY_TOLERANCE = 1e-4
SYNTHETIC_BATCH = 256
CHUNK = 1000  # samples per onnxruntime call: bounded memory on long sequences


class MissingExtra(LstmDesktopError):
    """An optional package the asked-for feature needs is not installed."""


class ExportError(LstmDesktopError):
    """The exported model does not agree with PyTorch, or the exporter failed."""


@dataclass(frozen=True)
class ExportCheck:
    """How the ONNX model was checked against PyTorch."""

    samples: int
    source: str  # "the mnist test set" or "a synthetic batch (...)"
    on_test_set: bool
    mismatches: int  # samples whose predicted class differs
    max_probability_diff: float
    seconds: float

    @property
    def passed(self) -> bool:
        return self.mismatches == 0 and self.max_probability_diff <= PROBABILITY_TOLERANCE

    def summary(self) -> str:
        return (f"{self.samples:,} samples of {self.source}: same class on {self.samples - self.mismatches:,}, "
                f"largest probability difference {self.max_probability_diff:.1e}")


@dataclass(frozen=True)
class OnnxExport:
    path: Path
    check: ExportCheck
    export_seconds: float
    size_bytes: int

    def message(self, what: str) -> str:
        """One line: where, how big, how it was checked and how long it took."""
        check = self.check
        return (f"exported {what} to {self.path} (ONNX, {self.size_bytes / 1e6:.2f} MB, export "
                f"{self.export_seconds:.1f} s); checked with onnxruntime on {check.summary()}"
                f"{'' if check.on_test_set else ' — not the test set'} ({check.seconds:.1f} s)")


def missing_extras() -> list[str]:
    """The optional packages ONNX export needs that cannot be imported here."""
    missing = []
    for name in EXTRAS:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def require_extras() -> None:
    missing = missing_extras()
    if missing:
        raise MissingExtra(f"ONNX export needs the optional packages onnx and onnxruntime "
                           f"({' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed).",
                           INSTALL_HINT)


class _Exported(nn.Module):
    """The classifier with softmax probabilities as a second output, so users need not add it."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.model(x)
        return logits, torch.softmax(logits, dim=1)


def onnx_bytes(ckpt: Checkpoint, metadata: dict[str, str]) -> bytes:
    """The serialised ONNX model of ckpt (batch axis dynamic), metadata included, checked by onnx."""
    import onnx

    model = _Exported(copy.deepcopy(ckpt.model).float().cpu().eval())
    example = torch.zeros(2, ckpt.spec.seq_len, ckpt.spec.input_size)
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation and RNN batch-size notices
            torch.onnx.export(model, (example,), buf, dynamo=False, opset_version=OPSET, input_names=[INPUT_NAME],
                              output_names=list(OUTPUT_NAMES), do_constant_folding=True,
                              dynamic_axes={INPUT_NAME: {0: "batch"}, **{n: {0: "batch"} for n in OUTPUT_NAMES}})
    except Exception as exc:  # the exporter raises many kinds; the user gets one message
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise ExportError(f"The ONNX exporter failed: {first}.",
                          "Export the model as .pt instead, and report this with the model's settings.") from exc
    proto = onnx.load_from_string(buf.getvalue())
    proto.producer_name = "lstm-desktop"
    proto.doc_string = metadata.get("image_to_sequence", "")
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def check_inputs(ckpt: Checkpoint, dataset: str, data_dir: str | None) -> tuple[torch.Tensor, str, bool]:
    """The test set's inputs, or a synthetic batch (and why) when the dataset is not on disk."""
    from lstm_desktop.core.data.catalog import load_bundle
    from lstm_desktop.core.training.evaluate import data_dir_for

    spec = ckpt.spec
    extra: dict[str, Any] = {}
    seed = 0
    if ckpt.config is not None:
        extra = dict(seq_len=ckpt.config.seq_len, permute=ckpt.config.permute)
        seed = ckpt.config.seed
    why = "the dataset is not on disk"
    try:
        data = load_bundle(dataset, data_dir_for(ckpt, data_dir), val_size=0, seed=seed, **extra)
        if data.seq_len == spec.seq_len and data.input_size == spec.input_size:
            return data.test_x.float().cpu(), f"the {dataset} test set", True
        why = f"the {dataset} test set's shape differs from the model's"
    except DataError:
        pass
    g = torch.Generator().manual_seed(0)
    batch = torch.randn(SYNTHETIC_BATCH, spec.seq_len, spec.input_size, generator=g)
    return batch, f"a synthetic batch ({why})", False


def compare(model: nn.Module, data: bytes, x: torch.Tensor, source: str, on_test_set: bool) -> ExportCheck:
    """Run x through PyTorch and onnxruntime; count class disagreements and the largest probability gap."""
    import onnxruntime as ort

    from lstm_desktop.core.training.engine import predict

    started = time.perf_counter()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    reference = predict(copy.deepcopy(model).float().cpu(), x).numpy()
    mismatches, worst = 0, 0.0
    for i in range(0, len(x), CHUNK):
        probs = session.run([OUTPUT_NAMES[1]], {INPUT_NAME: x[i:i + CHUNK].numpy()})[0]
        ref = reference[i:i + CHUNK]
        mismatches += int((probs.argmax(1) != ref.argmax(1)).sum())
        worst = max(worst, float(np.abs(probs - ref).max()) if len(ref) else 0.0)
    return ExportCheck(len(x), source, on_test_set, mismatches, worst, time.perf_counter() - started)


def export_onnx(ckpt: Checkpoint, out: str | os.PathLike[str], dataset: str, *, data_dir: str | None = None,
                run: dict[str, Any] | None = None) -> OnnxExport:
    """Export, check against PyTorch with onnxruntime, then write `out` atomically (never when it disagrees)."""
    require_extras()
    from lstm_desktop.core.files.atomic import atomic_write
    from lstm_desktop.core.files.oserrors import os_errors
    from lstm_desktop.core.files.outfile import check_out_target

    target = check_out_target(out, lock=False).path  # a bad --out is refused before the work
    started = time.perf_counter()
    metadata = export_metadata(ckpt, dataset, run)
    data = onnx_bytes(ckpt, metadata)
    export_seconds = time.perf_counter() - started
    x, source, on_test_set = check_inputs(ckpt, dataset, data_dir)
    check = compare(ckpt.model, data, x, source, on_test_set)
    if not check.passed:
        raise ExportError(f"The ONNX model disagrees with PyTorch on {check.summary()} (allowed: "
                          f"{PROBABILITY_TOLERANCE:g}); nothing was written.",
                          "Export the model as .pt instead, and report this with the model's settings.")
    with os_errors("write the ONNX model to", target, ExportError, "Choose a folder you can write to."):
        with atomic_write(target) as fh:
            fh.write(data)
    return OnnxExport(target, check, export_seconds, len(data))
