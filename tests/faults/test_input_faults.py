"""Odd inputs: image paths that are pipes, devices, sockets or start with '-', thousands of files,
a model whose outputs are NaN, and every training setting given a bad value."""

from __future__ import annotations

import json
import math
import os
import socket
import threading
import time

import numpy as np
import pytest

from lstm_desktop.core.models.checkpoint import save_checkpoint

from fault_helpers import TINY, assert_user_error, json_lines, tiny_checkpoint

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def model(tmp_path):
    return save_checkpoint(tmp_path / "m.pt", tiny_checkpoint())


def png(path, value: int = 255):
    from PIL import Image

    pixels = np.zeros((28, 28), np.uint8)
    pixels[6:22, 12:16] = value
    Image.fromarray(pixels).save(path, format="PNG")
    return path


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_fifo_is_refused_at_once_and_the_files_after_it_are_read(in_tmp, model, cli):
    os.mkfifo("pipe.png")
    png(in_tmp / "after.png")
    opener = threading.Timer(10, lambda: open("pipe.png", "wb").close())  # would unblock a hung reader
    opener.daemon = True
    opener.start()
    start = time.perf_counter()
    r = cli("classify", "--model", model, "pipe.png", "after.png", "--json")
    opener.cancel()
    assert time.perf_counter() - start < 5
    assert r.code == 1 and "Traceback" not in r.err, r
    bad, good = json_lines(r.out)
    assert bad == {"file": "pipe.png", "error": "pipe.png: is a pipe (FIFO), not an image file.",
                   "hint": "Pass image files (PNG, JPEG, ...)."}
    assert good["file"] == "after.png" and 0 <= good["digit"] <= 9


@pytest.mark.parametrize("path, words", [("/dev/null", "is a device"), ("/dev/zero", "is a device"),
                                         ("/dev/urandom", "is a device"), ("/proc", "is a folder"),
                                         ("sock.png", "is a socket"), ("nothing.png", "no such file"),
                                         ("loop.png", "too many symbolic links")])
def test_devices_sockets_folders_and_missing_files(path, words, in_tmp, model, cli):
    sock = None
    if path == "sock.png":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(path)
    if path == "loop.png":
        os.symlink("loop.png", "loop.png")
    try:
        r = cli("classify", "--model", model, path)
    finally:
        if sock is not None:
            sock.close()
    text = assert_user_error(r, "classify", 1, path, words)
    assert r.out == "" and "digit" not in text


@pytest.mark.parametrize("name", ["-x.png", "--weird.png", "-", "-h.png"])
def test_file_names_that_look_like_options(name, in_tmp, model, cli):
    png(in_tmp / name)
    r = cli("classify", "--model", model, name, "--json")
    assert r.code == 0, r
    (line,) = json_lines(r.out)
    assert line["file"] == name and 0 <= line["digit"] <= 9


def test_a_missing_option_like_name_is_a_missing_file(in_tmp, model, cli):
    r = cli("classify", "--model", model, "-nope.png")
    assert_user_error(r, "classify", 1, "-nope.png: no such file")
    r = cli("classify", "--model", model, "a.png", "--jsno")  # a mistyped option is still an argument error
    assert r.code == 2 and "unrecognized arguments: --jsno" in r.err and "Traceback" not in r.err, r


def test_many_files_mixed_good_and_bad_keep_their_order(in_tmp, model, cli):
    names = []
    for i in range(600):
        name = f"f{i:04d}.png"
        if i % 7 == 0:
            (in_tmp / name).write_bytes(b"not an image")
        elif i % 11 == 0:
            pass  # missing
        else:
            png(in_tmp / name, 100 + i % 150)
        names.append(name)
    r = cli("classify", "--model", model, *names, "--json")
    lines = json_lines(r.out)
    assert r.code == 1 and [x["file"] for x in lines] == names, r.err[-300:]
    for i, line in enumerate(lines):
        assert ("error" in line) == (i % 7 == 0 or i % 11 == 0)


def test_a_model_giving_nan_is_an_error_not_digit_zero(in_tmp, model, cli, monkeypatch):
    import lstm_desktop.core.drawing.inference as inference

    real = inference.predict_probabilities
    monkeypatch.setattr(inference, "predict_probabilities",
                        lambda m, x, *a, **k: np.full_like(np.asarray(real(m, x, *a, **k)), np.nan))
    png(in_tmp / "a.png")
    r = cli("classify", "--model", model, "a.png", "--json")
    assert r.code == 1 and "NaN" not in r.out.replace("(NaN", ""), r
    (line,) = [json.loads(x) for x in r.out.splitlines()]
    assert "digit" not in line and "no valid probabilities" in line["error"]
    r = cli("classify", "--model", model, "a.png")
    assert_user_error(r, "classify", 1, "no valid probabilities")
    assert r.out == ""


BAD_SETTINGS = [
    ("--seed", "1e20", "seed must be a whole number"), ("--seed", "-1", "seed must be between"),
    ("--seed", "nan", "seed must be a whole number"), ("--seed", "", "seed must be a whole number"),
    ("--hidden", "0", "hidden size must be between"), ("--hidden", "8000", "hidden size must be between"),
    ("--hidden", "12.5", "must be a whole number"), ("--hidden", "abc", "must be a whole number"),
    ("--epochs", "-1", "epochs must be between"), ("--epochs", "0", "epochs must be between"),
    ("--epochs", "1e9", "epochs must be between"), ("--layers", "99", "layers must be between"),
    ("--lr", "nan", "learning rate"), ("--lr", "inf", "learning rate"), ("--lr", "0", "learning rate"),
    ("--lr=-1e-3", None, "learning rate"), ("--lr", "fast", "learning rate must be a number"),
    ("--dropout", "1", "dropout must be in"), ("--dropout", "-0.1", "dropout must be in"),
    ("--batch-size", "0", "batch size must be between"), ("--batch-size", "1.5", "must be a whole number"),
    ("--val-size", "999999", "validation size must be between"), ("--threads", "0", "cpu threads must be between"),
    ("--weight-decay", "2", "weight decay must be in"), ("--grad-clip", "-1", "gradient clipping must be in"),
    ("--dataset", "cifar", "dataset must be one of mnist"), ("--cell", "lstmx", "cell must be one of lstm"),
]


@pytest.mark.parametrize("flag, value, words", BAD_SETTINGS)
def test_bad_setting_is_one_line_and_exit_2(flag, value, words, tmp_path, cli):
    r = cli("train", *([flag] if value is None else [flag, value]), "--out", tmp_path / "m.pt")
    assert r.code == 2 and "Traceback" not in r.err, r
    assert len(r.err.strip().splitlines()) == 1 and r.err.startswith("lstm-desktop train: error:"), r
    assert words.lower() in r.err.lower(), r
    assert os.listdir(tmp_path) == [] or os.listdir(tmp_path) == ["home"]


def test_unknown_device_is_refused_before_training(tmp_path, cli):
    r = cli("train", *TINY, "--device", "cuda:9", "--out", tmp_path / "m.pt")
    assert_user_error(r, "train", 2, "cuda:9")
    assert not (tmp_path / "m.pt").exists()


def test_seed_at_its_limit_trains(tmp_path, cli):
    r = cli("train", *TINY, "--epochs", "1", "--seed", "2147483647", "--out", tmp_path / "m.pt", "--json")
    assert r.code == 0, r
    summary = json.loads(r.out.strip().splitlines()[-1])
    assert math.isfinite(summary["accuracy"]) and summary["checkpoint"] == str(tmp_path / "m.pt")


def test_classify_into_a_closed_pipe_stops_quietly(in_tmp, model):
    """`classify *.png | head -1`: no traceback, no "Exception ignored", the first line arrives."""
    import subprocess

    from fault_helpers import PYTHON, ROOT

    names = [png(in_tmp / f"p{i:03d}.png", 80 + i % 170).name for i in range(700)]
    proc = subprocess.Popen([PYTHON, "-m", "lstm_desktop", "classify", "--model", str(model), *names],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=in_tmp,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    first = proc.stdout.readline().decode()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    code = proc.wait(120)
    assert first.startswith("p000.png: "), first
    assert code in (0, 1) and "Traceback" not in err and "Exception ignored" not in err and err == "", err
