"""The "Inside the LSTM" view: every panel filled with the right shapes, for each layer/direction,
attention shown only where there is some, items updated in place, hidden units sorted, wrapped
tooltips, a paint-only path for explanations computed elsewhere, and dark-theme colours."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF
from PySide6.QtGui import Qt  # QtGui.Qt also has mightBeRichText
from PySide6.QtWidgets import QLabel

from lstm_desktop.core.models.checkpoint import Checkpoint
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec
from lstm_desktop.core.models.introspect import explain
from lstm_desktop.core.drawing.inference import blank_value, fit_input, inference_copy
from lstm_desktop.ui.inside.words import HELP
from lstm_desktop.ui.inside.view import InsideView
from lstm_desktop.ui.unit_order import BY_NUMBER, change_rows, unit_order

HIDDEN = 16


def checkpoint(**kw) -> Checkpoint:
    torch.manual_seed(0)
    spec = ModelSpec(hidden=kw.pop("hidden", HIDDEN), **kw)
    return Checkpoint(LSTMClassifier(spec), spec)


def digit() -> np.ndarray:
    img = -np.ones((28, 28), np.float32)
    img[4:7, 8:20] = 1.0
    img[7:24, 16:19] = 1.0
    return img


@pytest.fixture
def view(qtbot) -> InsideView:
    v = InsideView()
    qtbot.addWidget(v)
    v.resize(1200, 800)
    v.show()
    qtbot.waitExposed(v)
    return v


def _bar_widths(bars) -> np.ndarray:
    width = bars.opts.get("width")
    return np.asarray([] if width is None else width, dtype=float).ravel()


@pytest.mark.parametrize("spec", [
    dict(),
    dict(layers=2, bidirectional=True, attention=True, dropout=0.2),
    dict(layers=3, attention=True),
], ids=["plain", "bidirectional-2-layer-attention", "3-layer-attention"])
def test_panels_are_filled_with_the_right_shapes(view: InsideView, spec: dict) -> None:
    ck = checkpoint(**spec)
    layers = spec.get("layers", 1)
    directions = 2 if spec.get("bidirectional") else 1
    attention = bool(spec.get("attention"))
    view.set_model(ck)
    view.set_input(digit(), "test image #3 (true 7)")
    ex = view.explanation
    assert ex is not None

    assert view.digit.image.image.shape == (28, 28)
    assert view.readout.image.image.shape == (28, 10)
    np.testing.assert_array_equal(view.readout.image.image, ex.readout)
    assert len(view.readout.top.data) == 28
    assert _bar_widths(view.occlusion.bars).shape == (28,)
    np.testing.assert_allclose(_bar_widths(view.occlusion.bars), np.abs(ex.occlusion))

    # one selector entry per layer and direction; each shows its own gates
    combo = view.gates.layer_combo
    assert combo.count() == layers * directions
    assert combo.isEnabled() == (combo.count() > 1)
    for i in range(combo.count()):
        combo.setCurrentIndex(i)
        key = combo.itemData(i)
        states = ex.gates[tuple(key)]
        order = unit_order(states["hidden"])
        np.testing.assert_array_equal(view.gates.unit_order, order)
        for name, img in view.gates.images.items():
            assert img.image.shape == (28, HIDDEN), (key, name)
            np.testing.assert_array_equal(img.image, states[name][:, order])

    if attention:
        assert _bar_widths(view.attention.bars).shape == (28,)
        np.testing.assert_allclose(_bar_widths(view.attention.bars), ex.attention)
        assert not view.attention.note.isVisible()
        assert view.digit.tint_check.isEnabled()
        assert view.digit.tint.image.shape == (28, 28, 4)
        view.digit.tint_check.setChecked(False)
        assert view.digit.tint.image is None
        view.digit.tint_check.setChecked(True)
        assert view.digit.tint.image is not None
    else:
        assert _bar_widths(view.attention.bars).size == 0
        assert view.attention.note.isVisible()
        assert not view.digit.tint_check.isEnabled()
        assert view.digit.tint.image is None

    text = view.summary.text()
    assert f"Prediction: {ex.predicted}" in text and "test image #3" in text


def test_updates_reuse_the_same_items(view: InsideView) -> None:
    view.set_model(checkpoint(layers=2, bidirectional=True, attention=True))
    view.set_input(digit())
    items = (view.digit.image, view.readout.image, view.attention.bars, view.occlusion.bars,
             *view.gates.images.values())
    first = view.explanation
    other = digit()
    other[10:12, 4:24] = 1.0
    view.set_input(other)
    assert view.explanation is not first
    assert items == (view.digit.image, view.readout.image, view.attention.bars,
                     view.occlusion.bars, *view.gates.images.values())
    np.testing.assert_array_equal(view.digit.image.image, other)


def test_empty_states(view: InsideView) -> None:
    view.set_input(digit())  # no model yet
    assert view.explanation is None
    assert "No model" in view.summary.text()
    view.set_model(checkpoint())
    assert view.explanation is not None  # the remembered input is explained
    view.set_input(None)
    assert view.explanation is None
    assert view.readout.image.image is None
    assert all(img.image is None for img in view.gates.images.values())
    assert "Draw a digit" in view.summary.text()
    view.set_input(digit())
    view.set_model(None)
    assert view.explanation is None


def test_bad_inputs_are_reported_not_raised(view: InsideView) -> None:
    class Broken:
        spec = ModelSpec(hidden=HIDDEN)
        model = None  # no weights

    view.set_model(Broken())
    assert view.explanation is None and "cannot explain this model" in view.summary.text()
    view.set_model(checkpoint())
    view.set_input(digit()[None])  # (1, 28, 28) is accepted
    assert view.explanation is not None
    view.set_input(np.zeros((3, 28, 28), np.float32))  # not an image: a message, no exception
    assert view.explanation is None and "Could not explain" in view.summary.text()


def test_hidden_view_waits_until_shown(qtbot) -> None:
    v = InsideView()
    qtbot.addWidget(v)
    v.set_model(checkpoint())
    v.set_input(digit())
    assert v.explanation is None  # nothing computed while hidden (another tab)
    v.show()
    qtbot.waitExposed(v)
    assert v.explanation is not None


def test_switching_models_rebuilds_the_selector_and_shapes(view: InsideView) -> None:
    view.set_model(checkpoint(layers=2, bidirectional=True))
    view.set_input(digit())
    view.gates.layer_combo.setCurrentIndex(3)
    assert view.gates.layer_combo.currentData() == (1, 1)
    view.set_model(checkpoint(hidden=8))
    assert view.gates.layer_combo.count() == 1
    assert view.gates.images["cell"].image.shape == (28, 8)


def test_input_of_another_size_is_resampled_for_the_model(view: InsideView) -> None:
    torch.manual_seed(0)
    spec = ModelSpec(input_size=8, seq_len=8, hidden=HIDDEN)
    small = Checkpoint(LSTMClassifier(spec), spec)
    view.set_model(small, "Run 4 · LSTM (16)")
    view.set_input(digit())
    assert view.readout.image.image.shape == (8, 10)
    assert view.gates.images["input"].image.shape == (8, HIDDEN)
    assert "resampled from 28x28 to 8x8" in view.summary.text()
    assert "model: Run 4 · LSTM (16)" in view.summary.text()  # the view names the model it shows
    # the one fit_input: the view shows the model what the probe and the pad would
    np.testing.assert_array_equal(view.explanation.image, fit_input(digit(), (8, 8)))


def test_the_view_keeps_its_own_copy_of_the_model(view: InsideView) -> None:
    ck = checkpoint(dropout=0.5, layers=2)
    ck.model.train()
    view.set_model(ck)
    view.set_input(digit())
    assert ck.model.training  # the caller's model is not switched to eval
    with torch.no_grad():
        ck.model.fc.bias.add_(5.0)  # training goes on elsewhere: the view is unaffected
    before = view.explanation.probabilities.copy()
    view.set_input(digit())
    np.testing.assert_allclose(view.explanation.probabilities, before, atol=1e-6)


def test_help_and_accessibility(view: InsideView) -> None:
    for key in ("digit", "attention", "readout", "occlusion", "gates", "states", "selector"):
        assert len(HELP[key]) > 40
    for plot in (view.digit.plot, view.attention.plot, view.readout.plot, view.occlusion.plot,
                 *view.gates.plots.values()):
        assert plot.toolTip()
        assert plot.titleLabel.text
    for w in (view.gates.layer_combo, view.digit.tint_check, view.help.button):
        assert w.objectName() and w.accessibleName()
    assert "row t" in view.help.label.text()


def test_hover_describes_the_value_under_the_mouse(view: InsideView) -> None:
    view.set_model(checkpoint())
    view.set_input(digit())
    view.gates.order_combo.setCurrentIndex(view.gates.order_combo.findData(BY_NUMBER))
    ex = view.explanation
    vb = view.readout.plot.getViewBox()
    text = view.describe_point(vb.mapViewToScene(QPointF(4, 14)), vb.scene())
    assert text == f"after row 14: p(4) = {ex.readout[13, 4]:.3f}"
    vb = view.gates.plots["forget"].getViewBox()
    text = view.describe_point(vb.mapViewToScene(QPointF(5, 3)), vb.scene())
    assert text == f"row 3, unit 5: forget = {ex.gates[(0, 0)]['forget'][2, 5]:+.3f}"
    vb = view.occlusion.plot.getViewBox()
    text = view.describe_point(vb.mapViewToScene(QPointF(0, 28)), vb.scene())
    assert text.startswith("row 28 blanked")
    vb.scene().sigMouseMoved.emit(vb.mapViewToScene(QPointF(0, 28)))  # the mouse moves there
    assert view.hover.text() == text


def test_hover_names_the_state_a_gru_heatmap_shows(view: InsideView) -> None:
    """A GRU's first two heatmaps show its reset and update gates, and it has no output gate or cell:
    the hover names what is shown (it raised KeyError: it looked up 'input' in a GRU's states)."""
    view.set_model(checkpoint(cell="gru"))
    view.set_input(digit())
    view.gates.order_combo.setCurrentIndex(view.gates.order_combo.findData(BY_NUMBER))
    states = view.explanation.gates[(0, 0)]
    vb = view.gates.plots["input"].getViewBox()
    text = view.describe_point(vb.mapViewToScene(QPointF(5, 3)), vb.scene())
    assert text == f"row 3, unit 5: reset = {states['reset'][2, 5]:+.3f}"
    for name in ("output", "cell"):
        vb = view.gates.plots[name].getViewBox()
        assert view.describe_point(vb.mapViewToScene(QPointF(5, 3)), vb.scene()) == ""


def test_units_are_sorted_by_the_row_where_they_change_most(view: InsideView) -> None:
    view.set_model(checkpoint(hidden=32))
    view.set_input(digit())
    hidden = view.explanation.gates[(0, 0)]["hidden"]
    order = view.gates.unit_order
    assert sorted(order.tolist()) == list(range(32))  # a permutation
    rows, size = change_rows(hidden)
    moving = order[size[order] >= 1e-3]
    assert np.all(np.diff(rows[moving]) >= 0)  # columns run from early-changing to late units
    assert set(order[len(moving):]) == set(np.flatnonzero(size < 1e-3))  # flat units last
    np.testing.assert_array_equal(view.gates.images["hidden"].image, hidden[:, order])
    view.set_input(digit())  # the same model and input give the same order
    np.testing.assert_array_equal(view.gates.unit_order, order)
    # the hover names the unit a sorted column shows
    column = int(np.flatnonzero(order != np.arange(32))[0])
    vb = view.gates.plots["hidden"].getViewBox()
    text = view.describe_point(vb.mapViewToScene(QPointF(column, 3)), vb.scene())
    assert text.startswith(f"row 3, unit {order[column]} (column {column}, sorted)")
    assert "sorted" in view.gates.legend.text()
    view.gates.order_combo.setCurrentIndex(view.gates.order_combo.findData(BY_NUMBER))
    np.testing.assert_array_equal(view.gates.unit_order, np.arange(32))
    assert "by number" in view.gates.legend.text()


def test_tooltips_wrap(view: InsideView, qtbot) -> None:
    for plot in (view.digit.plot, view.readout.plot, view.gates.plots["cell"]):
        tip = plot.toolTip()
        assert Qt.mightBeRichText(tip)
        label = QLabel(tip)  # what QToolTip shows: a word-wrapped label
        label.setWordWrap(True)
        qtbot.addWidget(label)
        assert label.sizeHint().width() <= 480, plot.titleLabel.text


def test_paint_only_interface_draws_what_it_is_given(view: InsideView) -> None:
    ck = checkpoint(layers=2, bidirectional=True, attention=True)
    view.configure(ck)  # axes and selectors, nothing computed
    assert view.gates.layer_combo.count() == 4 and view.explanation is None
    model, background = inference_copy(ck), blank_value(ck)
    ex = explain(model, digit(), background=background)  # e.g. on a worker thread
    view.show_explanation(ex, "your drawing", " (epoch 3)")
    assert view.explanation is ex
    np.testing.assert_array_equal(view.readout.image.image, ex.readout)
    assert "your drawing (epoch 3)" in view.summary.text()
    # an explanation of a model of another shape reconfigures the panels by itself
    small = checkpoint(hidden=8)
    model, background = inference_copy(small), blank_value(small)
    view.show_explanation(explain(model, digit(), background=background))
    assert view.gates.layer_combo.count() == 1 and view.gates.images["cell"].image.shape == (28, 8)
    view.show_explanation(None, note="Training: the view follows the model after each epoch.")
    assert view.explanation is None and "after each epoch" in view.summary.text()


def test_narrow_axes_label_only_their_ends(view: InsideView) -> None:
    view.set_model(checkpoint(attention=True))
    view.set_input(digit())
    (lo, hi), _ = view.attention.plot.getViewBox().viewRange()
    major = view.attention.plot.getAxis("bottom")._tickLevels[0]
    assert [v for v, _ in major] == [pytest.approx(lo), pytest.approx(hi)]
    major = view.occlusion.plot.getAxis("bottom")._tickLevels[0]
    assert len(major) == 3 and major[1][1] == "0"


def test_dark_palette_darkens_the_canvases(view: InsideView, qapp) -> None:
    from lstm_desktop.ui import theme

    view.set_model(checkpoint())
    view.set_input(digit())
    try:
        theme.apply_dark_palette(qapp)
        for canvas in (view.top, view.gates.canvas):
            assert theme.luminance(canvas.backgroundBrush().color()) < 0.1
        title = view.gates.plots["cell"].titleLabel.opts["color"]
        assert theme.luminance(title) > 0.5  # light titles on the dark canvas
        assert view.gates.gate_bar.colorMap().name == "CET-D4"
    finally:
        theme.apply_light_palette(qapp)
    for canvas in (view.top, view.gates.canvas):
        assert theme.luminance(canvas.backgroundBrush().color()) > 0.8


def test_hover_over_a_sequence_speaks_of_steps_not_rows(view: InsideView) -> None:
    """A temporal-order model reads time steps of a sequence: the hover, the titles and the help
    say 'step' (they said 'row 14 blanked' of a sequence)."""
    torch.manual_seed(0)
    spec = ModelSpec(hidden=8, input_size=8, seq_len=30, num_classes=4)
    view.set_model(Checkpoint(LSTMClassifier(spec), spec, info={"dataset": "temporal-order"}))
    view.set_input(np.random.default_rng(0).random((30, 8)).astype(np.float32))
    ex = view.explanation
    vb = view.occlusion.plot.getViewBox()
    assert view.describe_point(vb.mapViewToScene(QPointF(0, 14)), vb.scene()).startswith("step 14 blanked")
    vb = view.readout.plot.getViewBox()
    assert view.describe_point(vb.mapViewToScene(QPointF(2, 5)), vb.scene()) == \
        f"after step 5: p(2) = {ex.readout[4, 2]:.3f}"
