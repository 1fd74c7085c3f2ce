"""`lstm-desktop classify` and the core behind it: good and bad files, JSON lines, exit codes."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lstm_desktop import cli
from lstm_desktop.core.models.checkpoint import Checkpoint, save_checkpoint
from lstm_desktop.core.drawing.classify import (UNSURE_BELOW, classify_command, classify_files, interpret,
                                        load_classifier, predict_single)
from lstm_desktop.core.errors import CheckpointError, ImageError
from lstm_desktop.core.drawing.images import MAX_PIXELS, load_image, load_image_bytes
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec
from lstm_desktop.core.drawing.preprocess import preprocess
from lstm_desktop.core.drawing.strokes import render_strokes
from lstm_desktop.core.data.synthetic_digits import generate_digits

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def checkpoint_path(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    spec = ModelSpec(hidden=16)
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    save_checkpoint(path, Checkpoint(LSTMClassifier(spec), spec))
    return path


def digit_pixels(seed: int = 0) -> np.ndarray:
    """A synthetic pen digit, dark on light, uint8."""
    d = generate_digits(1, seed=seed)[0]
    return (255 - render_strokes(d.strokes) * 255).round().astype(np.uint8)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def crafted_png(width: int, height: int) -> bytes:
    """A valid PNG header claiming huge dimensions, with a tiny bogus body."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + png_chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("images")
    out = {}
    Image.fromarray(digit_pixels(1)).save(d / "good.png")
    out["png"] = d / "good.png"
    Image.fromarray(digit_pixels(2)).convert("RGB").save(d / "good.jpg", quality=90)
    out["jpeg"] = d / "good.jpg"
    ink = 255 - digit_pixels(3)
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., 3] = ink
    Image.fromarray(rgba, "RGBA").save(d / "transparent.png")
    out["rgba"] = d / "transparent.png"
    (d / "notes.png").write_text("this is not an image\n")
    out["text"] = d / "notes.png"
    data = (d / "good.png").read_bytes()
    (d / "truncated.png").write_bytes(data[: len(data) // 2])
    out["truncated"] = d / "truncated.png"
    (d / "bomb.png").write_bytes(crafted_png(100_000, 100_000))
    out["bomb"] = d / "bomb.png"
    (d / "big.png").write_bytes(crafted_png(8_000, 6_000))  # 48 MP: under Pillow's own limit, over ours
    out["big"] = d / "big.png"
    Image.fromarray(np.full((40, 40), 255, np.uint8)).save(d / "blank.png")
    out["blank"] = d / "blank.png"
    out["missing"] = d / "missing.png"
    return out


# -- images.py ---------------------------------------------------------------------------------

def test_load_image_kinds(files):
    assert load_image(files["png"]).ndim == 2
    assert load_image(files["jpeg"]).ndim == 2
    rgba = load_image(files["rgba"])
    assert rgba.shape[2] == 4
    assert load_image_bytes(files["png"].read_bytes()).shape == load_image(files["png"]).shape


@pytest.mark.parametrize("kind, words", [
    ("text", "not an image"), ("truncated", "truncated"), ("bomb", "megapixel"), ("big", "megapixel"),
    ("missing", "no such file"),
])
def test_load_image_errors_are_one_line(files, kind, words):
    with pytest.raises(ImageError) as info:
        load_image(files[kind])
    assert words in info.value.message
    assert "\n" not in info.value.message and info.value.hint


def test_size_is_checked_before_decoding(files, monkeypatch):
    from PIL import ImageFile

    def fail(*a, **k):  # decoding must not even start
        raise AssertionError("decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", fail)
    with pytest.raises(ImageError, match="megapixel"):
        load_image(files["big"])
    assert MAX_PIXELS == 40_000_000


def test_folder_is_an_error(tmp_path):
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)


def test_large_photo_is_reduced_and_still_classifiable(tmp_path):
    big = Image.fromarray(digit_pixels(4)).resize((4000, 4000), Image.BILINEAR)
    big.save(tmp_path / "big.jpg", quality=85)
    arr = load_image(tmp_path / "big.jpg")
    assert max(arr.shape) <= 2048
    small = preprocess(digit_pixels(4))
    pre = preprocess(arr)
    assert np.abs(pre.image - small.image).mean() < 0.05


def test_exif_orientation_is_applied(tmp_path):
    img = np.full((20, 40), 255, np.uint8)
    img[:, :5] = 0
    pil = Image.fromarray(img)
    exif = pil.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    pil.save(tmp_path / "rot.jpg", exif=exif.tobytes())
    assert load_image(tmp_path / "rot.jpg").shape == (40, 20)


# -- prediction helpers --------------------------------------------------------------------------

def test_interpret_and_unsure():
    p = np.full(10, 0.01)
    p[3] = 0.91
    pred = interpret(p)
    assert pred.digit == 3 and pred.confidence == pytest.approx(0.91) and not pred.unsure
    q = np.full(10, 0.05)
    q[4], q[9] = 0.3, 0.3
    assert interpret(q).unsure
    edge = np.zeros(10)
    edge[1], edge[7] = UNSURE_BELOW - 0.01, 1.01 - UNSURE_BELOW
    pred = interpret(edge)
    assert pred.unsure and pred.digit == 1 and pred.runner_up == 7
    assert pred.runner_up_confidence == pytest.approx(1.01 - UNSURE_BELOW)


def test_predict_single_matches_batch_and_keeps_threads(checkpoint_path):
    from lstm_desktop.core.drawing.inference import predict_probabilities

    ckpt = load_classifier(str(checkpoint_path))
    x = preprocess(digit_pixels(5)).model_input
    threads = torch.get_num_threads()
    np.testing.assert_allclose(predict_single(ckpt.model, x), predict_probabilities(ckpt.model, x)[0], atol=1e-6)
    assert torch.get_num_threads() == threads


def test_classify_files_batches_in_order(tmp_path, checkpoint_path, files):
    paths = []
    for i in range(11):
        p = tmp_path / f"{i}.png"
        Image.fromarray(digit_pixels(10 + i)).save(p)
        paths.append(str(p))
    paths.insert(5, str(files["text"]))
    ckpt = load_classifier(str(checkpoint_path))
    small = list(classify_files(paths, ckpt, batch_size=3))
    big = list(classify_files(paths, ckpt, batch_size=256))
    assert [r.file for r in small] == paths
    assert [r.ok for r in small] == [p != str(files["text"]) for p in paths]
    for a, b in zip(small, big):
        if a.ok:
            assert a.prediction.digit == b.prediction.digit
            assert a.prediction.confidence == pytest.approx(b.prediction.confidence, abs=1e-6)


def test_model_problems(tmp_path, monkeypatch):
    with pytest.raises(CheckpointError):
        load_classifier(str(tmp_path / "nope.pt"))
    spec = ModelSpec(input_size=8, seq_len=8, hidden=8)
    save_checkpoint(tmp_path / "digits.pt", Checkpoint(LSTMClassifier(spec), spec))
    with pytest.raises(CheckpointError, match="8x8"):
        load_classifier(str(tmp_path / "digits.pt"))


# -- the command line ---------------------------------------------------------------------------

def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_cli_json_good_and_bad(files, checkpoint_path, capsys):
    order = ["png", "jpeg", "rgba", "text", "truncated", "bomb", "big", "blank", "missing"]
    args = ["classify", *(str(files[k]) for k in order), "--model", str(checkpoint_path), "--json"]
    code = cli.main(args)
    out, err = capsys.readouterr()
    assert code == 1
    rows = json_lines(out)
    assert [r["file"] for r in rows] == [str(files[k]) for k in order]
    for row, kind in zip(rows, order):
        if kind in ("png", "jpeg", "rgba"):
            assert set(row) >= {"file", "digit", "confidence", "probabilities"}
            assert 0 <= row["digit"] <= 9 and len(row["probabilities"]) == 10
            assert sum(row["probabilities"]) == pytest.approx(1.0, abs=1e-4)
            assert row["confidence"] == pytest.approx(max(row["probabilities"]))
            assert row["probabilities"].index(max(row["probabilities"])) == row["digit"]
        else:
            assert row["error"] and "digit" not in row
    assert "Traceback" not in err


def test_cli_text_mode(files, checkpoint_path, capsys):
    code = cli.main(["classify", str(files["png"]), str(files["missing"]), str(files["text"]),
                     "--model", str(checkpoint_path)])
    out, err = capsys.readouterr()
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{files['png']}: ") and "%" in lines[0]
    errors = err.splitlines()
    assert len(errors) == 2 and all(line.startswith("lstm-desktop classify: error: ") for line in errors)
    assert "no such file" in errors[0] and "not an image" in errors[1]


def test_cli_all_good_exits_zero(files, checkpoint_path, capsys):
    assert cli.main(["classify", str(files["png"]), str(files["jpeg"]), "--model", str(checkpoint_path)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_cli_no_model(files, tmp_path, monkeypatch, capsys):
    import lstm_desktop.core.files.resources as resources

    monkeypatch.setattr(resources, "shipped_model_path", lambda: tmp_path / "digits-lstm.pt")
    assert cli.main(["classify", str(files["png"])]) == 2
    err = capsys.readouterr().err
    assert "--model" in err and "train" in err.lower() and "Traceback" not in err
    assert cli.main(["classify", str(files["png"]), "--model", str(files["text"])]) == 2
    (tmp_path / "bad.pt").write_bytes(b"garbage")
    assert cli.main(["classify", str(files["png"]), "--model", str(tmp_path / "bad.pt"), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err


def test_command_function_directly(files, checkpoint_path):
    import io

    out, err = io.StringIO(), io.StringIO()
    assert classify_command([str(files["png"])], str(checkpoint_path), True, out=out, err=err) == 0
    assert json_lines(out.getvalue())[0]["file"] == str(files["png"]) and err.getvalue() == ""


def test_cli_subprocess(files, checkpoint_path):
    proc = subprocess.run([sys.executable, "-m", "lstm_desktop", "classify", str(files["png"]),
                           str(files["text"]), str(files["bomb"]), "--model", str(checkpoint_path), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    rows = json_lines(proc.stdout)
    assert len(rows) == 3 and "digit" in rows[0] and "error" in rows[1] and "megapixel" in rows[2]["error"]
    assert "Traceback" not in proc.stderr


def test_many_files_in_one_call(tmp_path, checkpoint_path, capsys):
    src = tmp_path / "one.png"
    Image.fromarray(digit_pixels(7)).save(src)
    paths = []
    for i in range(600):
        p = tmp_path / f"copy{i}.png"
        p.write_bytes(src.read_bytes())
        paths.append(str(p))
    assert cli.main(["classify", *paths, "--model", str(checkpoint_path), "--json"]) == 0
    rows = json_lines(capsys.readouterr().out)
    assert len(rows) == 600 and len({r["digit"] for r in rows}) == 1


def test_input_doubt_compares_with_the_training_data():
    from lstm_desktop.core.drawing.classify import input_doubt
    from lstm_desktop.core.drawing.strokes import Stroke

    digit = generate_digits(1, seed=0)[0]
    pre = preprocess(render_strokes(digit.strokes), polarity="ink")
    assert input_doubt(pre, digit.strokes[0].width, 280) is None and input_doubt(pre) is None
    dash = preprocess(render_strokes([Stroke([(100, 120), (160, 150)], 24)]), polarity="ink")
    assert input_doubt(dash, 24, 280) == "too thick"
    dot = preprocess(render_strokes([Stroke([(100, 120)], 8)]), polarity="ink")
    assert input_doubt(dot, 8, 280) == "too small"
    blob = np.zeros((100, 100), np.float32)
    blob[10:90, 20:80] = 1
    assert input_doubt(preprocess(blob, polarity="ink")) == "too much ink"


def test_cli_reports_doubtful_images(tmp_path, checkpoint_path, capsys):
    blob = np.full((100, 100), 255, np.uint8)
    blob[10:90, 20:80] = 0
    Image.fromarray(blob).save(tmp_path / "blob.png")
    assert cli.main(["classify", str(tmp_path / "blob.png"), "--model", str(checkpoint_path), "--json"]) == 0
    row = json_lines(capsys.readouterr().out)[0]
    assert row["unsure"] is True and row["doubt"] == "too much ink"
