"""Checkpoints: round trip, atomic writes, and every kind of bad file -> CheckpointError (never code execution)."""

from __future__ import annotations

import json
import os
import pickle
import zipfile

import pytest
import torch

from lstm_desktop.core.models import checkpoint as C
from lstm_desktop.core.models.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.errors import CheckpointError
from lstm_desktop.core.training.metrics import compute_metrics
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small models: 1 thread is fastest on 2 shared cores


def make_ckpt(hidden: int = 16, **spec) -> Checkpoint:
    torch.manual_seed(0)
    s = ModelSpec(hidden=hidden, **spec)
    cfg = TrainConfig(dataset="synthetic", hidden=hidden, layers=s.layers, bidirectional=s.bidirectional,
                      attention=s.attention, dropout=s.dropout, epochs=3, lr=2e-3, seed=5)
    metrics = compute_metrics([0, 1, 2, 3, 3], [0, 1, 2, 3, 1])
    history = {"epoch": [1.0, 2.0], "train_loss": [2.1, 1.5], "val_loss": [float("nan"), 1.6],
               "batch_x": [0.5, 1.0, 1.5, 2.0], "batch_loss": [2.3, 2.0, 1.7, 1.4]}
    info = {"epochs": 2, "seconds": 1.25, "dataset": "synthetic"}
    return Checkpoint(LSTMClassifier(s), s, cfg, metrics, history, 0.5, 0.5, info)


def no_temp_files(folder) -> bool:
    return not [p for p in os.listdir(folder) if p.endswith(".tmp")]


@pytest.mark.parametrize("spec", [{}, {"bidirectional": True, "layers": 2, "dropout": 0.1, "attention": True}])
def test_round_trip_keeps_weights_config_metrics_history(tmp_path, spec):
    ck = make_ckpt(**spec)
    path = save_checkpoint(tmp_path / "sub" / "model.pt", ck)  # creates the folder
    back = load_checkpoint(path)
    assert back.path == path and back.spec == ck.spec
    for k, v in ck.model.state_dict().items():
        assert torch.equal(back.model.state_dict()[k], v)
    assert back.config == ck.config and back.metrics == ck.metrics
    assert back.history["train_loss"] == [2.1, 1.5] and back.history["batch_x"] == [0.5, 1.0, 1.5, 2.0]
    assert back.history["val_loss"][1] == 1.6 and back.history["val_loss"][0] != back.history["val_loss"][0]
    assert back.info == ck.info and (back.mean, back.std) == (0.5, 0.5)
    assert not back.model.training
    x = torch.randn(2, 28, 28)
    ck.model.eval()
    with torch.no_grad():
        assert torch.equal(back.model(x), ck.model(x))
    assert no_temp_files(tmp_path / "sub")


def test_checkpoint_without_config_or_metrics(tmp_path):
    s = ModelSpec(hidden=8)
    save_checkpoint(tmp_path / "bare.pt", Checkpoint(LSTMClassifier(s), s))
    back = load_checkpoint(tmp_path / "bare.pt")
    assert back.config is None and back.metrics is None and back.history == {} and back.spec == s


def test_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    save_checkpoint(path, make_ckpt(hidden=8))
    before = path.read_bytes()

    def broken_save(obj, fh, *args, **kwargs):
        fh.write(b"PK\x03\x04 half a zip file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(CheckpointError, match="the disk is full"):  # a message, not a bare OSError
        save_checkpoint(path, make_ckpt(hidden=16))
    assert path.read_bytes() == before
    assert load_checkpoint(path).spec.hidden == 8
    assert no_temp_files(tmp_path)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint at"):
        load_checkpoint(tmp_path / "nope.pt")
    with pytest.raises(CheckpointError, match="No checkpoint at"):
        load_checkpoint(tmp_path)  # a folder is not a checkpoint


def _assert_unreadable(path):
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    text = str(info.value)
    assert path.name in text and "Traceback" not in text
    return text


def test_random_bytes_and_truncated_zip(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(os.urandom(4096))
    assert "not a readable lstm-desktop checkpoint" in _assert_unreadable(junk)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    _assert_unreadable(empty)
    good = tmp_path / "good.pt"
    save_checkpoint(good, make_ckpt(hidden=8))
    blob = good.read_bytes()
    for cut in (len(blob) // 2, len(blob) - 30, 100):
        truncated = tmp_path / f"truncated{cut}.pt"
        truncated.write_bytes(blob[:cut])
        assert "not a readable lstm-desktop checkpoint" in _assert_unreadable(truncated)
    text_file = tmp_path / "notes.pt"
    text_file.write_text("just some text\n")
    _assert_unreadable(text_file)


def test_foreign_torch_files(tmp_path):
    plain = tmp_path / "dict.pt"
    torch.save({"weights": torch.zeros(3)}, plain)
    assert "not an lstm-desktop checkpoint" in _assert_unreadable(plain)
    tensor = tmp_path / "tensor.pt"
    torch.save(torch.ones(2, 2), tensor)
    assert "not an lstm-desktop checkpoint" in _assert_unreadable(tensor)
    state = tmp_path / "state.pt"
    torch.save(LSTMClassifier(ModelSpec(hidden=8)).state_dict(), state)  # a bare state_dict
    assert "not an lstm-desktop checkpoint" in _assert_unreadable(state)
    zipped = tmp_path / "other.zip.pt"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("hello.txt", "hi")
    _assert_unreadable(zipped)


def _payload(ck: Checkpoint, **meta_changes) -> dict:
    meta = {"spec": ck.spec.to_dict(), "config": ck.config.to_dict(), "metrics": None, "history": {},
            "normalization": {"mean": 0.5, "std": 0.5}, "info": {}}
    meta.update(meta_changes)
    return {"format": C.FORMAT, "version": C.VERSION, "meta": json.dumps(meta),
            "state_dict": ck.model.state_dict()}


def test_wrong_architecture(tmp_path):
    ck = make_ckpt(hidden=16)
    path = tmp_path / "liar.pt"
    torch.save(_payload(ck, spec=ModelSpec(hidden=8).to_dict()), path)  # says 8, holds 16
    text = _assert_unreadable(path)
    assert "different architecture" in text
    payload = _payload(ck, spec=ModelSpec(hidden=16, attention=True).to_dict())  # missing attention weights
    torch.save(payload, path)
    assert "different architecture" in _assert_unreadable(path)


def test_damaged_metadata(tmp_path):
    ck = make_ckpt(hidden=8)
    path = tmp_path / "meta.pt"
    payload = _payload(ck)
    payload["meta"] = "{not json"
    torch.save(payload, path)
    assert "not valid JSON" in _assert_unreadable(path)
    payload = _payload(ck)
    del payload["state_dict"]
    torch.save(payload, path)
    _assert_unreadable(path)
    torch.save(_payload(ck, spec={"hidden": -4}), path)  # a spec torch refuses
    _assert_unreadable(path)


def test_newer_format_version(tmp_path):
    path = tmp_path / "future.pt"
    payload = _payload(make_ckpt(hidden=8))
    payload["version"] = C.VERSION + 1
    torch.save(payload, path)
    assert "newer" in _assert_unreadable(path)


def test_bad_config_in_an_otherwise_good_file_is_dropped_not_fatal(tmp_path):
    path = tmp_path / "cfg.pt"
    ck = make_ckpt(hidden=8)
    config = ck.config.to_dict() | {"hidden": -1}
    torch.save(_payload(ck, config=config), path)
    back = load_checkpoint(path)
    assert back.config is None and back.spec.hidden == 8


class Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    zipped = tmp_path / "evil.pt"
    torch.save({"format": C.FORMAT, "version": 1, "meta": "{}", "state_dict": Evil(str(marker))}, zipped)
    legacy = tmp_path / "evil.pkl"
    with open(legacy, "wb") as fh:
        pickle.dump({"format": C.FORMAT, "x": Evil(str(marker))}, fh, protocol=2)
    for path in (zipped, legacy):
        assert "not a readable lstm-desktop checkpoint" in _assert_unreadable(path)
    assert not marker.exists()
