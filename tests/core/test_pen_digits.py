"""Pen digits for training: drawn like the pad, deterministic, cached safely, only in the training set."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from lstm_desktop.core.data import catalog
from lstm_desktop.core.data.digit_templates import ALL_TEMPLATES
from lstm_desktop.core.data.image_sets import synthetic_bundle
from lstm_desktop.core.data.pen_digits import render_pen_digits, training_pen_digits, with_pen_digits
from lstm_desktop.core.training.config import TrainConfig


def test_pen_digits_are_preprocessed_like_the_pad_and_labelled_in_turn():
    x, y = render_pen_digits(40, np.random.default_rng(3))
    assert x.shape == (40, 28, 28) and x.dtype == np.float32
    assert list(y[:12]) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert 0.0 <= x.min() and x.max() <= 1.0
    ink = x.reshape(40, -1).sum(1)
    assert (ink > 5).all()  # every digit drawn (none left black)
    # the pad's recipe: the ink's centre of mass near the middle of the 28x28 frame, the ink in a
    # 20-pixel box (a pixel more for anti-aliasing)
    rows = (x.sum(2) * np.arange(28)).sum(1) / x.sum((1, 2))
    assert np.all(np.abs(rows - 13.5) < 3.0)
    for image in x:
        r, c = np.nonzero(image > 0.05)
        assert max(r.max() - r.min(), c.max() - c.min()) <= 21


def test_the_same_seed_draws_the_same_digits_and_another_seed_others():
    a, _ = render_pen_digits(20, np.random.default_rng([5, 1]))
    b, _ = render_pen_digits(20, np.random.default_rng([5, 1]))
    c, _ = render_pen_digits(20, np.random.default_rng([6, 1]))
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_only_the_given_styles_are_drawn():
    """One style per digit, everyday hands: two draws of the same digit look alike (same
    trajectory); with every style they differ more on average."""
    one = {k: dict([sorted(v.items())[0]]) for k, v in ALL_TEMPLATES.items()}
    x_one, y_one = render_pen_digits(200, np.random.default_rng(0), templates=one)
    x_all, y_all = render_pen_digits(200, np.random.default_rng(0))

    def spread(x, y):
        return np.mean([x[y == k].std(0).mean() for k in (1, 4, 7, 9)])  # digits with many styles

    assert spread(x_one, y_one) < spread(x_all, y_all)


def test_hard_hands_draw_more_varied_pen_widths():
    easy, _ = render_pen_digits(200, np.random.default_rng(1), hard_share=0.0)
    hard, _ = render_pen_digits(200, np.random.default_rng(1), hard_share=1.0)
    ink = lambda x: (x > 0.5).reshape(len(x), -1).sum(1)  # noqa: E731
    assert ink(hard).std() > ink(easy).std()


def test_training_digits_are_cached_and_a_damaged_cache_is_redrawn(tmp_path):
    x, y = training_pen_digits(30, seed=2, cache_dir=tmp_path)
    assert x.dtype == torch.uint8 and x.shape == (30, 28, 28) and y.dtype == torch.int64
    files = list(tmp_path.glob("pen-digits-*.npz"))
    assert len(files) == 1
    again, _ = training_pen_digits(30, seed=2, cache_dir=tmp_path)
    assert torch.equal(again, x)
    files[0].write_bytes(b"not a zip file")  # damaged: redrawn, same digits
    redrawn, _ = training_pen_digits(30, seed=2, cache_dir=tmp_path)
    assert torch.equal(redrawn, x)
    other, _ = training_pen_digits(30, seed=3, cache_dir=tmp_path)
    assert not torch.equal(other, x)
    assert len(list(tmp_path.glob("pen-digits-*.npz"))) == 2


def test_an_unwritable_cache_only_means_drawing_them_again(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    x, _ = training_pen_digits(10, seed=0, cache_dir=blocker / "cache")
    assert x.shape == (10, 28, 28)


def test_pen_digits_join_the_training_images_only(tmp_path):
    data = synthetic_bundle(seed=0)
    out = with_pen_digits(data, 25, seed=0, cache_dir=tmp_path)
    assert len(out.train_x) == len(data.train_x) + 25 and len(out.train_y) == len(out.train_x)
    assert torch.equal(out.val_x, data.val_x) and torch.equal(out.test_x, data.test_x)
    added = out.train_x[-25:]
    assert added.min() >= -1.0 and added.max() <= 1.0 and added.max() > 0.9  # normalised like MNIST
    assert with_pen_digits(data, 0, seed=0) is data


def test_a_config_that_asks_for_pen_digits_trains_on_them(monkeypatch):
    """The one data path (load_bundle_for) adds them for MNIST, and only for MNIST."""
    monkeypatch.setattr(catalog, "load_bundle", lambda name, *a, **k: replace(synthetic_bundle(seed=0), name=name))
    plain = catalog.load_bundle_for(TrainConfig(dataset="mnist"))
    with_pen = catalog.load_bundle_for(TrainConfig(dataset="mnist", pen_digits=20))
    assert len(with_pen.train_x) == len(plain.train_x) + 20
    digits = catalog.load_bundle_for(TrainConfig(dataset="digits", pen_digits=20))
    assert len(digits.train_x) == len(plain.train_x)


@pytest.mark.parametrize("bad", ["-1", "lots", "1e9"])
def test_a_bad_pen_digit_count_is_refused_with_the_range(bad):
    from lstm_desktop.core.errors import ConfigError
    from lstm_desktop.core.training.config import SETTINGS

    setting = next(s for s in SETTINGS if s.name == "pen_digits")
    with pytest.raises(ConfigError, match="(?i)pen digits"):
        setting.check(setting.parse(bad))


def test_drawing_them_reports_progress_and_stops_when_asked(tmp_path):
    from lstm_desktop.core.errors import DataError
    from lstm_desktop.core.training.events import DataProgress

    seen: list[DataProgress] = []
    training_pen_digits(1200, seed=4, cache_dir=tmp_path, progress=seen.append)
    assert [e.done for e in seen] == [0, 500, 1000, 1200] and {e.total for e in seen} == {1200}
    seen.clear()
    training_pen_digits(1200, seed=4, cache_dir=tmp_path, progress=seen.append)
    assert seen == []  # from the cache: nothing to draw
    polls = iter([False, True])
    with pytest.raises(DataError, match="Stopped while drawing"):
        training_pen_digits(1200, seed=5, cache_dir=tmp_path, should_stop=lambda: next(polls))
    assert len(list(tmp_path.glob("pen-digits-*.npz"))) == 1  # nothing half-drawn is kept


def test_the_command_line_shows_a_bar_while_they_are_drawn():
    import io

    from lstm_desktop.cli.progress import ProgressPrinter
    from lstm_desktop.core.training.events import DataProgress

    err = io.StringIO()
    printer = ProgressPrinter(out=io.StringIO(), err=err)
    for done in (0, 500, 1000):
        printer.on_data_progress(DataProgress("pen digits", done, 1000))
    printer._close()
    assert "drawing pen digits" in err.getvalue()


def test_an_edited_template_is_not_read_from_an_old_cache(tmp_path, monkeypatch):
    from lstm_desktop.core.data import pen_digits

    training_pen_digits(20, seed=0, cache_dir=tmp_path)
    edited = {k: dict(v) for k, v in ALL_TEMPLATES.items()}
    edited[1] = {name: [part * 0.9 for part in parts] for name, parts in edited[1].items()}
    monkeypatch.setattr(pen_digits, "ALL_TEMPLATES", edited)
    training_pen_digits(20, seed=0, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("pen-digits-*.npz"))) == 2
