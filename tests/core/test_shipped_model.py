"""The shipped model reads pen strokes, the hard shapes included, through the pad's own pipeline.

Scored on synthetic pen digits (core.synthetic_digits, a seed the benchmark does not use) rendered
by the pad's rasteriser and preprocessed as the pad does; benchmarks/stroke_eval.py prints the full
breakdown. The floors sit between what the shipped file scores and what the model it replaced scored, so a
retrained model that loses the failure shapes (or the classic ones) fails here before it ships.
"""

from __future__ import annotations

import numpy as np
import pytest

from lstm_desktop.core.models.checkpoint import load_checkpoint
from lstm_desktop.core.drawing.inference import predict_probabilities
from lstm_desktop.core.drawing.preprocess import preprocess
from lstm_desktop.core.files.resources import shipped_model_path
from lstm_desktop.core.drawing.strokes import StrokeRaster
from lstm_desktop.core.data.synthetic_digits import generate_digits


@pytest.fixture(scope="module")
def shipped():
    ckpt = load_checkpoint(shipped_model_path())
    return ckpt, ckpt.model.cpu().eval()


def _score(shipped, templates: str, n: int = 600, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    ckpt, model = shipped
    digits = generate_digits(n, seed=seed, templates=templates)
    raster = StrokeRaster()
    inputs = [preprocess(raster.render(d.strokes), polarity="ink", mean=ckpt.mean, std=ckpt.std).model_input
              for d in digits]
    pred = predict_probabilities(model, np.stack(inputs)).argmax(1)
    return np.array([d.label for d in digits]), pred


def test_the_shipped_model_is_small_and_accurate_on_mnist(shipped):
    ckpt, _ = shipped
    assert shipped_model_path().stat().st_size < 5 * 1024 * 1024
    assert ckpt.metrics is not None and ckpt.metrics.accuracy >= 0.993


@pytest.mark.parametrize("templates, floor", [("classic", 0.99), ("failure", 0.98)])
def test_the_shipped_model_reads_pen_strokes(shipped, templates, floor):
    labels, pred = _score(shipped, templates)
    assert (pred == labels).mean() >= floor  # shipped: 100% / 99.8%; the model before it (no pen digits): 98.8% / 96.0%


def test_curled_nines_and_flagged_ones_are_not_read_as_three_five_or_seven(shipped):
    labels, pred = _score(shipped, "failure")
    nines, ones = labels == 9, labels == 1
    assert np.isin(pred[nines], (3, 5)).mean() <= 0.04  # shipped: 0%; two models before it: 13%
    assert (pred[ones] == 7).mean() <= 0.10  # shipped: 2%; the model before it: 20%, and before that 35%


def test_the_readme_command_is_the_one_the_shipped_model_was_trained_with(shipped):
    """Reproducible from the README: its command parses to the shipped checkpoint's own settings
    (the data folder aside, which is wherever MNIST is on the machine)."""
    import re
    import shlex
    from dataclasses import replace
    from pathlib import Path

    from lstm_desktop.cli import build_parser
    from lstm_desktop.cli.train import config_from_args

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## The shipped model.*?```bash\n(.*?)```", readme, re.S)
    assert block, "README: no command under 'The shipped model'"
    argv = shlex.split(block.group(1).replace("\\\n", " "))
    assert argv[:2] == ["lstm-desktop", "train"]
    config = config_from_args(build_parser().parse_args(argv[1:]))
    ckpt, _ = shipped
    assert replace(config, data_dir=None) == replace(ckpt.config, data_dir=None)
