"""`lstm-desktop adapt DIR --out FILE`: a good folder gives an adapted checkpoint and a JSON summary;
each bad folder gives one clear line, exit code 1, and no file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lstm_desktop.cli import main
from lstm_desktop.core.models.checkpoint import load_checkpoint
from lstm_desktop.core.data.my_digits import save_drawing
from lstm_desktop.core.drawing.strokes import render_strokes
from lstm_desktop.core.data.synthetic_digits import make_writer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def drawings(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mine")
    for d in make_writer(25, 0.7).digits(2, seed=1):
        save_drawing(root, d.label, render_strokes(d.strokes))
    return root


def test_adapt_writes_an_adapted_model_and_a_json_summary(drawings, tmp_path, capsys):
    out = tmp_path / "mine.pt"
    assert main(["adapt", str(drawings), "--out", str(out), "--epochs", "3", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["examples"] == 20 and summary["out"] == str(out) and summary["seconds"] > 0
    assert summary["digits"] == {str(k): 2 for k in range(10)} and summary["base"] == "digits-lstm.pt"
    assert 0.0 <= summary["accuracy_before"] <= 1.0 and summary["accuracy_after"] >= summary["accuracy_before"]
    ckpt = load_checkpoint(out)
    assert ckpt.info["adapted"] is True and ckpt.info["examples"] == 20
    assert summary["remembered"] == ckpt.spec.prototypes == 20  # the drawings, as nearest prototypes
    assert "adapted digits-lstm.pt to 20 drawings" in lines[0]


def test_adapt_starts_from_the_given_model(drawings, tmp_path, capsys):
    first = tmp_path / "first.pt"
    assert main(["adapt", str(drawings), "--out", str(first), "--epochs", "1"]) == 0
    second = tmp_path / "second.pt"
    assert main(["adapt", str(drawings), "--model", str(first), "--out", str(second), "--epochs", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["base"] == "first.pt"
    assert load_checkpoint(second).info["base_info"]["base"] == "digits-lstm.pt"


def _bad(kind: str, root: Path, ink: np.ndarray) -> Path:
    if kind == "no images":
        (root / "4").mkdir(parents=True)
    elif kind == "not a digit":
        save_drawing(root, 1, ink)
        save_drawing(root, 2, ink)
        (root / "nine").mkdir()
    elif kind == "not an image":
        save_drawing(root, 1, ink)
        save_drawing(root, 2, ink)
        (root / "2" / "notes.txt").write_text("hello")
    elif kind == "one class":
        save_drawing(root, 5, ink)
        save_drawing(root, 5, ink)
    elif kind == "missing":
        return root / "nowhere"
    return root


@pytest.mark.parametrize("kind, message", [
    ("no images", "no drawings found"),
    ("not a digit", "'nine' is not a digit"),
    ("not an image", "notes.txt: not an image"),
    ("one class", "only one digit"),
    ("missing", "no such folder"),
])
def test_bad_folders_one_line_exit_1_nothing_written(kind, message, tmp_path, capsys):
    ink = render_strokes(make_writer(0).digits(1)[5].strokes)
    folder = _bad(kind, tmp_path / "in", ink)
    out = tmp_path / "out.pt"
    assert main(["adapt", str(folder), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first.startswith("lstm-desktop adapt: error: ") and message in first
    assert "Traceback" not in err and len(err.splitlines()) <= 2
    assert not out.exists() and not list(tmp_path.glob(".out.pt*"))


def test_out_is_required_and_epochs_must_be_positive(drawings, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["adapt", str(drawings)])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["adapt", str(drawings), "--out", "x.pt", "--epochs", "0"])
    assert exc.value.code == 2
    assert "--epochs" in capsys.readouterr().err


def test_drawings_it_could_not_learn_are_named_in_the_output(tmp_path, capsys):
    root = tmp_path / "clash"
    digits = make_writer(25, 0.7).digits(1, seed=1)
    for d in digits[:4]:
        save_drawing(root, d.label, render_strokes(d.strokes))
    clash = save_drawing(root, 8, render_strokes(digits[3].strokes))  # the 3 also kept as an 8
    out = tmp_path / "mine.pt"
    assert main(["adapt", str(root), "--out", str(out), "--epochs", "2", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["all_read_right"] is False and summary["misread"]
    assert set(summary["misread"]) <= {str(clash), str(next((root / "3").glob("*.png")))}
    text = "\n".join(lines[:-1])
    assert "Could not learn" in text and "still misread: " in text
    assert out.is_file()  # the model is still written: it reads the rest better
