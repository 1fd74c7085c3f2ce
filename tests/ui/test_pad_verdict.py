"""The pad and `lstm-desktop classify` say "unsure" by one rule (core.classify.judge), and the pad
never shows a confidence figure next to "That does not look like a digit"."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lstm_desktop.core.drawing.classify import classify_files, load_classifier
from lstm_desktop.core.drawing.non_digits import path_ratio
from lstm_desktop.core.drawing.strokes import Stroke, render_strokes
from lstm_desktop.core.data.synthetic_digits import generate_digits
from lstm_desktop.testing import replay_strokes
from lstm_desktop.ui.pad_panel import PadPanel


@pytest.fixture(scope="module")
def shipped():
    return load_classifier(None)


@pytest.fixture
def panel(qtbot, shipped):
    p = PadPanel()
    qtbot.addWidget(p)
    p.resize(900, 620)
    p.show()
    p.set_model(shipped, "shipped")
    yield p
    p.close_worker()


def _png(path, ink: np.ndarray):
    Image.fromarray((255 - np.clip(ink, 0, 1) * 255).astype(np.uint8)).save(path)
    return str(path)


def test_the_pad_and_classify_agree_on_unsure_for_the_same_files(tmp_path, panel, shipped):
    dash = [Stroke(np.stack([np.linspace(40, 240, 40), np.full(40, 140.0)], 1), 10)]
    blob = np.zeros((120, 120), np.float32)
    blob[10:110, 15:105] = 1
    files = [_png(tmp_path / "dash.png", render_strokes(dash)), _png(tmp_path / "blob.png", blob)]
    for i, d in enumerate(generate_digits(300, seed=4, templates="failure", hard=True)[:40]):
        files.append(_png(tmp_path / f"d{i}.png", render_strokes(d.strokes)))
    cli = list(classify_files(files, shipped))
    kinds = set()
    for path, result in zip(files, cli):
        assert panel.load_image_file(path) and panel.settle(5000)
        v = panel.verdict
        assert v is not None and v.prediction.digit == result.prediction.digit, path
        assert (v.unsure, v.doubt) == (result.unsure, result.doubt), path
        assert panel.unsure == result.unsure, path
        kinds.add((result.unsure, result.doubt is not None))
    assert {(False, False), (True, True), (True, False)} <= kinds  # sure, unlike a digit, and low confidence


def test_no_confidence_figure_next_to_not_a_digit(qtbot, panel):
    replay_strokes(panel.pad, [Stroke(np.stack([np.linspace(40, 240, 40), 140 + np.linspace(0, 8, 40)], 1), 12)])
    assert panel.settle(5000)
    assert "does not look like a digit" in panel.status_text()
    assert "%" not in panel.confidence_label.text()


def test_a_very_shaky_but_legible_digit_is_read_not_called_a_scribble(qtbot, panel):
    shaky = [d for d in generate_digits(300, seed=0, hard=True)
             if "shaky" in d.tags and path_ratio(d.strokes) > 5.0 and not {"thick", "small"} & set(d.tags)]
    assert len(shaky) >= 3
    for d in shaky[:3]:
        panel.clear()
        replay_strokes(panel.pad, d.strokes)
        assert panel.settle(5000)
        assert "does not look like a digit" not in panel.status_text(), d.label
        if not panel.verdict.rated:
            assert "%" not in panel.confidence_label.text()


def test_a_model_adapted_to_a_thick_pen_no_longer_calls_that_pen_too_thick_on_the_pad_and_in_classify(
        tmp_path, panel, shipped):
    from dataclasses import replace

    from lstm_desktop.core.data.synthetic_digits import make_writer

    digit = make_writer(7, 0.7, hard=True).digits(1, seed=2)[3]  # a marker-pen hand (adapt_eval --hard writer 7)
    path = _png(tmp_path / "thick.png", render_strokes(digit.strokes))
    adapted = replace(shipped, info={**shipped.info, "widest_stroke": 9.0})  # as core/drawing/adapt.py stores it
    for ckpt, doubt in ((shipped, "too thick"), (adapted, None)):
        panel.set_model(ckpt, "model")
        panel.clear()
        panel.set_pen_width(digit.strokes[0].width)
        replay_strokes(panel.pad, digit.strokes)
        assert panel.settle(5000) and panel.verdict.doubt == doubt
        assert panel.load_image_file(path) and panel.settle(5000)
        (result,) = classify_files([path], ckpt)
        assert result.doubt == panel.verdict.doubt == doubt
