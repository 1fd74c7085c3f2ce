"""ONNX export: every cell x variant the app trains exports with a dynamic batch axis, agrees with
PyTorch under onnxruntime, carries its preprocessing in metadata_props, and is never written when
it disagrees; without the optional extras the user is told how to install them."""

from __future__ import annotations

import json
import os
import sys

import pytest
import torch

from lstm_desktop.core.models.checkpoint import Checkpoint
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec

pytestmark = pytest.mark.usefixtures("one_torch_thread")
VARIANTS = {"plain": {}, "bidirectional": {"bidirectional": True}, "stacked": {"layers": 2},
            "attention": {"attention": True}}


def checkpoint(cell: str = "lstm", seq_len: int = 8, input_size: int = 8, num_classes: int = 10, config=None,
               **variant) -> Checkpoint:
    torch.manual_seed(0)
    spec = ModelSpec(input_size=input_size, seq_len=seq_len, hidden=8, cell=cell, num_classes=num_classes, **variant)
    return Checkpoint(LSTMClassifier(spec).eval(), spec, config)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_cell_and_variant_exports_and_agrees_on_the_test_set(tmp_path, cell, variant):
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort

    from lstm_desktop.core.models.onnx_export import export_onnx

    ckpt = checkpoint(cell, **VARIANTS[variant])
    done = export_onnx(ckpt, tmp_path / "m.onnx", "digits")
    assert done.path.is_file() and done.check.on_test_set and done.check.samples == 359
    assert done.check.mismatches == 0 and done.check.max_probability_diff <= 1e-4
    session = ort.InferenceSession(str(done.path), providers=["CPUExecutionProvider"])
    for batch in (1, 5):  # the batch axis is dynamic
        x = torch.randn(batch, 8, 8)
        logits, probs = session.run(None, {"input": x.numpy()})
        with torch.no_grad():
            expected = ckpt.model(x)
        assert logits.shape == (batch, 10)
        assert torch.allclose(torch.from_numpy(logits), expected, atol=1e-5)
        assert torch.allclose(torch.from_numpy(probs), torch.softmax(expected, 1), atol=1e-5)


def test_the_preprocessing_is_in_the_metadata(tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from lstm_desktop.core.models.onnx_export import export_onnx

    done = export_onnx(checkpoint(attention=True, bidirectional=True), tmp_path / "m.onnx", "digits",
                       run={"id": 3, "name": "best"})
    meta = {p.key: p.value for p in onnx.load(str(done.path)).metadata_props}
    assert meta["dataset"] == "digits" and meta["seq_len"] == "8" and meta["input_size"] == "8"
    assert "(batch, T, F)" in meta["input_layout"]
    assert json.loads(meta["normalization"])["mean"] == 0.5
    assert json.loads(meta["class_names"]) == [str(d) for d in range(10)]
    assert "8x8" in meta["image_to_sequence"] and "row" in meta["image_to_sequence"]
    assert json.loads(meta["model_spec"])["attention"] is True and json.loads(meta["run"])["id"] == 3


def test_long_lag_datasets_say_their_classes_and_pixel_order():
    from lstm_desktop.core.models.onnx_meta import export_metadata

    order = export_metadata(checkpoint(seq_len=20, input_size=8, num_classes=4), "temporal-order")
    assert json.loads(order["class_names"]) == ["XX", "XY", "YX", "YY"] and "one-hot" in order["image_to_sequence"]
    config = TrainConfig(dataset="pixel-mnist", permute=True)
    pixels = export_metadata(checkpoint(seq_len=784, input_size=1, config=config), "pixel-mnist")
    permutation = json.loads(pixels["permutation"])
    assert sorted(permutation) == list(range(784)) and permutation != list(range(784))


def test_without_the_dataset_a_synthetic_batch_is_checked_and_said(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    from lstm_desktop.core.models.onnx_export import export_onnx

    monkeypatch.delenv("LSTM_DESKTOP_DATA", raising=False)
    done = export_onnx(checkpoint(seq_len=28, input_size=28), tmp_path / "m.onnx", "mnist",
                       data_dir=str(tmp_path / "no-mnist-here"))
    assert not done.check.on_test_set and "synthetic" in done.check.source and "not on disk" in done.check.source
    assert done.check.samples > 0 and done.check.mismatches == 0


def test_a_model_that_disagrees_is_never_written(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    from lstm_desktop.core.models import onnx_export

    real = onnx_export.onnx_bytes
    other = checkpoint("gru")  # another model's graph stands in for a faulty exporter
    monkeypatch.setattr(onnx_export, "onnx_bytes", lambda ckpt, meta: real(other, meta))
    with pytest.raises(onnx_export.ExportError, match="disagrees with PyTorch"):
        onnx_export.export_onnx(checkpoint("lstm"), tmp_path / "m.onnx", "digits")
    assert not (tmp_path / "m.onnx").exists()


def test_without_the_extras_the_message_says_how_to_install_them(tmp_path, monkeypatch):
    from lstm_desktop.core.models import onnx_export

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    assert onnx_export.missing_extras() == ["onnxruntime"]
    with pytest.raises(onnx_export.MissingExtra) as info:
        onnx_export.export_onnx(checkpoint(), tmp_path / "m.onnx", "digits")
    assert info.value.hint == "Install them with: pip install 'lstm-desktop[onnx]'"
    assert "onnxruntime is not installed" in info.value.message and not (tmp_path / "m.onnx").exists()


def test_the_export_never_imports_torch_dynamo(tmp_path):
    """The window's process must not load torch._dynamo (it crashes under some GTK themes)."""
    pytest.importorskip("onnxruntime")
    import subprocess
    from pathlib import Path

    code = ("import sys\n"
            "from lstm_desktop.core.models.checkpoint import Checkpoint\n"
            "from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec\n"
            "from lstm_desktop.core.models.onnx_export import export_onnx\n"
            "spec = ModelSpec(input_size=8, seq_len=8, hidden=8, bidirectional=True)\n"
            f"export_onnx(Checkpoint(LSTMClassifier(spec).eval(), spec), {str(tmp_path / 'm.onnx')!r}, 'digits')\n"
            "print('torch._dynamo' in sys.modules)\n")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False" and (tmp_path / "m.onnx").is_file()
