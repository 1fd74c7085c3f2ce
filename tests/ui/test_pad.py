"""The drawing pad panel, driven like a user: mouse (QTest), keys, tablet, touch, files, drops."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage, QInputDevice, QPointingDevice, QTabletEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from lstm_desktop.core.models.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from lstm_desktop.core.drawing.inference import predict_probabilities
from lstm_desktop.core.models.networks import LSTMClassifier, ModelSpec
from lstm_desktop.core.drawing.preprocess import BOX, center_of_mass
from lstm_desktop.core.drawing.strokes import render_strokes
from lstm_desktop.core.data.synthetic_digits import generate_digits
from lstm_desktop.ui.pad_panel import PadPanel
from lstm_desktop.testing import replay_strokes
from lstm_desktop.ui.widgets.drawing_pad import HISTORY_LIMIT

SEVEN = [(70, 60), (120, 58), (170, 56), (210, 55), (190, 100), (165, 150), (140, 200), (125, 235)]
ONE = [(140, 40), (140, 90), (141, 140), (141, 190), (142, 240)]


def make_checkpoint(tmp_path, seed: int = 0, **spec_changes) -> Checkpoint:
    torch.manual_seed(seed)
    spec = ModelSpec(hidden=24, **spec_changes)
    path = tmp_path / f"model-{seed}-{spec.seq_len}.pt"
    save_checkpoint(path, Checkpoint(LSTMClassifier(spec), spec))
    return load_checkpoint(path)


@pytest.fixture
def ckpt(tmp_path):
    return make_checkpoint(tmp_path)


@pytest.fixture
def panel(qtbot, ckpt):
    p = PadPanel()
    qtbot.addWidget(p)
    p.resize(900, 620)
    p.show()
    qtbot.waitExposed(p)
    p.set_model(ckpt, "test model")
    return p


def widget_point(pad, x: float, y: float) -> QPoint:
    return pad.to_widget(x, y).toPoint()


def draw(pad, points, release: bool = True) -> None:
    """A stroke with QTest mouse events, points in canvas units."""
    pts = [widget_point(pad, x, y) for x, y in points]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    for p in pts[1:]:
        QTest.mouseMove(pad, p)
    if release:
        QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
    settle(pad)


def settle(pad) -> None:
    """Predictions come from the panel's worker thread: wait until the newest one is shown."""
    panel = pad.parentWidget()
    if hasattr(panel, "settle"):
        assert panel.settle(5000)


def densify(points, step: float = 4.0):
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        n = max(1, int(np.hypot(x1 - x0, y1 - y0) / step))
        out += [(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(1, n + 1)]
    return out


def ink_extent(img):
    rows = np.flatnonzero((img > 0).any(axis=1))
    cols = np.flatnonzero((img > 0).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_drawing_shows_prediction_bars_and_preview(qtbot, panel, ckpt):
    with qtbot.waitSignal(panel.inputChanged, timeout=2000) as blocker:
        draw(panel.pad, densify(SEVEN))
    x = panel.current_input()
    assert x is not None and x.shape == (28, 28) and x.dtype == np.float32
    assert not x.flags.writeable
    assert np.array_equal(blocker.args[0], x)

    pred = panel.prediction
    assert pred is not None
    expected = predict_probabilities(ckpt.model, x)[0]
    assert pred.digit == int(expected.argmax())
    assert pred.confidence == pytest.approx(float(expected.max()), abs=1e-5)
    assert str(pred.digit) in panel.digit_label.text()
    assert "%" in panel.confidence_label.text()
    bars = panel.bars.probabilities()
    assert bars is not None and bars.sum() == pytest.approx(1.0, abs=1e-5)
    assert int(bars.argmax()) == pred.digit

    seen = panel.preview.image()
    assert seen is not None and seen.max() == pytest.approx(1.0)
    np.testing.assert_allclose(seen, x * 0.5 + 0.5, atol=1e-6)  # exactly what the model gets
    cy, cx = center_of_mass(seen)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    assert max(ink_extent(seen)) == BOX

    # the model's raster is exactly the vector strokes rendered again
    np.testing.assert_array_equal(panel.pad.raster(), render_strokes(panel.pad.strokes()))
    panel.grab()  # paints without error


def test_prediction_updates_live_while_drawing(qtbot, panel):
    pad = panel.pad
    pts = [widget_point(pad, x, y) for x, y in densify(ONE)]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    for p in pts[1:]:
        QTest.mouseMove(pad, p)
    qtbot.waitUntil(lambda: panel.prediction is not None, timeout=2000)  # before the pen is lifted
    assert pad.is_drawing() and panel.prediction is not None and panel.current_input() is not None
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
    assert not pad.is_drawing() and len(pad.strokes()) == 1


def test_undo_redo_clear_with_keys_and_buttons(qtbot, panel):
    pad = panel.pad
    panel.activateWindow()
    pad.setFocus()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel, timeout=2000)
    draw(pad, densify(ONE))
    one_raster = pad.raster().copy()
    one_input = panel.current_input()
    draw(pad, densify([(100, 100), (180, 100)]))
    assert len(pad.strokes()) == 2 and panel.undo_button.isEnabled()

    QTest.keyClick(pad, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(pad)
    assert len(pad.strokes()) == 1
    np.testing.assert_array_equal(pad.raster(), one_raster)  # exact, from the vectors
    np.testing.assert_array_equal(panel.current_input(), one_input)
    assert panel.redo_button.isEnabled()

    QTest.keyClick(pad, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(pad.strokes()) == 2

    with qtbot.waitSignal(panel.inputChanged, timeout=2000) as blocker:
        QTest.keyClick(pad, Qt.Key.Key_Escape)
    assert blocker.args[0] is None
    assert pad.is_empty() and panel.current_input() is None and panel.prediction is None
    assert panel.unsure and "Draw a digit" in panel.status_text() and panel.digit_label.text() == "–"
    assert panel.bars.probabilities() is None and panel.preview.image() is None
    assert not pad.raster().any()

    QTest.keyClick(pad, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the clear is undoable
    settle(pad)
    assert len(pad.strokes()) == 2 and panel.prediction is not None
    QTest.keyClick(pad, Qt.Key.Key_Delete)
    assert pad.is_empty()
    QTest.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    assert len(pad.strokes()) == 2
    QTest.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert pad.is_empty() and not panel.clear_button.isEnabled()


def test_pen_width_applies_to_new_strokes(qtbot, panel):
    draw(panel.pad, densify(ONE))
    panel.pen_slider.setValue(34)
    assert panel.pad.pen_width() == 34 and panel.pen_value.text() == "34"
    draw(panel.pad, densify([(60, 200), (220, 200)]))
    widths = [s.width for s in panel.pad.strokes()]
    assert widths[0] != 34 and widths[1] == 34
    panel.set_pen_width(1000)
    assert panel.pad.pen_width() == panel.pen_slider.maximum()


def test_empty_tiny_and_scribble_are_unsure(qtbot, panel):
    assert panel.unsure and panel.prediction is None
    draw(panel.pad, [(140, 140)])  # a click: one dot
    assert panel.prediction is not None and panel.unsure
    assert "small" in panel.status_text().lower() and panel.digit_label.text().endswith("?")
    panel.clear()
    panel.set_pen_width(48)
    zigzag = []
    for i, y in enumerate(range(20, 270, 16)):
        zigzag += [(20, y), (260, y)] if i % 2 == 0 else [(260, y), (20, y)]
    draw(panel.pad, densify(zigzag, 6.0))
    assert panel.preprocessed.overinked and panel.unsure and panel.status_text()


def test_no_model_and_a_model_for_other_images(qtbot, panel, tmp_path):
    panel.set_model(None, "No model yet: train one or open a checkpoint")
    draw(panel.pad, densify(SEVEN))
    assert panel.prediction is None and panel.current_input() is not None
    assert panel.preview.image() is not None and "No model" in panel.status_text()
    digits_model = make_checkpoint(tmp_path, input_size=8, seq_len=8)
    panel.set_model(digits_model, "digits model")
    settle(panel.pad)
    assert panel.prediction is None and "8x8" in panel.status_text()
    other = make_checkpoint(tmp_path, seed=3)
    with qtbot.waitSignal(panel.predictionChanged, timeout=2000):
        panel.set_model(other, "another")
    settle(panel.pad)
    expected = predict_probabilities(other.model, panel.current_input())[0]
    assert panel.prediction.digit == int(expected.argmax()) and "another" in panel.model_label.text()


def save_digit(path, seed: int = 1, dark_on_light: bool = True):
    d = generate_digits(1, seed=seed)[0]
    ink = render_strokes(d.strokes)
    px = 255 - ink * 255 if dark_on_light else ink * 255
    Image.fromarray(px.round().astype(np.uint8)).save(path)
    return d.label


def test_open_image_file_then_draw_and_undo(qtbot, panel, tmp_path):
    save_digit(tmp_path / "digit.png")
    with qtbot.waitSignal(panel.inputChanged, timeout=2000):
        assert panel.load_image_file(tmp_path / "digit.png")
    settle(panel.pad)
    assert panel.pad.image() is not None and panel.prediction is not None
    assert panel.preprocessed.inverted and panel.preview.image() is not None
    image_input = panel.current_input()
    panel.grab()

    (tmp_path / "bad.png").write_text("nope")
    assert not panel.load_image_file(tmp_path / "bad.png")
    assert not panel.message_label.isHidden() and "not an image" in panel.message_label.text()
    assert panel.pad.image() is not None  # what was shown stays

    draw(panel.pad, densify(ONE))  # drawing replaces the image
    assert panel.pad.image() is None and len(panel.pad.strokes()) == 1
    assert panel.message_label.isHidden()
    panel.undo()
    settle(panel.pad)
    assert panel.pad.image() is not None and not panel.pad.strokes()
    np.testing.assert_array_equal(panel.current_input(), image_input)


def test_drop_file_and_image_data(qtbot, panel, tmp_path):
    save_digit(tmp_path / "drop.png", seed=4, dark_on_light=False)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "drop.png"))])
    event = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    panel.dropEvent(event)
    settle(panel.pad)
    assert panel.pad.image_name() == "drop.png" and panel.prediction is not None
    assert not panel.preprocessed.inverted

    qimage = QImage(str(tmp_path / "drop.png"))
    mime2 = QMimeData()
    mime2.setImageData(qimage)
    panel.dropEvent(QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime2, Qt.MouseButton.LeftButton,
                               Qt.KeyboardModifier.NoModifier))
    settle(panel.pad)
    assert panel.pad.image_name() == "dropped image" and panel.prediction is not None


def test_tablet_and_touch_input(qtbot, panel):
    pad = panel.pad
    pen = QPointingDevice("test pen", 4242, QInputDevice.DeviceType.Stylus, QPointingDevice.PointerType.Pen,
                          QInputDevice.Capability.Position | QInputDevice.Capability.Pressure, 1, 2)
    pts = [pad.to_widget(x, y) for x, y in densify(ONE)]
    kinds = [QEvent.Type.TabletPress] + [QEvent.Type.TabletMove] * (len(pts) - 2) + [QEvent.Type.TabletRelease]
    for kind, p in zip(kinds, pts):
        buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.TabletRelease else Qt.MouseButton.LeftButton
        ev = QTabletEvent(kind, pen, p, QPointF(pad.mapToGlobal(p.toPoint())), 0.8, 0, 0, 0, 0, 0,
                          Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton, buttons)
        QApplication.sendEvent(pad, ev)
    settle(pad)
    assert len(pad.strokes()) == 1 and len(pad.strokes()[0]) > 5 and panel.prediction is not None

    touch = QTest.createTouchDevice()
    tpts = [widget_point(pad, x, y) for x, y in densify([(80, 150), (200, 150)])]
    QTest.touchEvent(pad, touch).press(0, tpts[0], pad).commit()
    for p in tpts[1:]:
        QTest.touchEvent(pad, touch).move(0, p, pad).commit()
    QTest.touchEvent(pad, touch).release(0, tpts[-1], pad).commit()
    assert len(pad.strokes()) == 2
    xs = pad.strokes()[1].points[:, 0]
    assert xs.min() < 90 and xs.max() > 190


def test_current_input_is_safe_from_another_thread(qtbot, panel):
    seen: list = []
    errors: list = []
    stop = threading.Event()

    def reader():
        try:
            while not stop.is_set():
                x = panel.current_input()
                if x is not None:
                    assert x.shape == (28, 28) and not x.flags.writeable
                    float(x.sum())
                seen.append(x is None)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for d in generate_digits(6, seed=2):
            panel.clear()
            replay_strokes(panel.pad, d.strokes)
            settle(panel.pad)
            qtbot.wait(5)
    finally:
        stop.set()
        t.join(10)
    assert not errors and seen and not all(seen)


def test_replayed_synthetic_digits_match_headless_rendering(qtbot, panel):
    for d in generate_digits(10, seed=11):
        panel.clear()
        replay_strokes(panel.pad, d.strokes)
        settle(panel.pad)
        got = panel.pad.strokes()
        assert len(got) == len(d.strokes)
        for a, b in zip(got, d.strokes):
            np.testing.assert_allclose(a.points, b.points, atol=1e-6)
        np.testing.assert_allclose(panel.pad.raster(), render_strokes(d.strokes), atol=1e-4)


def test_long_session_does_not_crash(qtbot, panel):
    digits = generate_digits(150, seed=9)
    for i, d in enumerate(digits):
        if i % 3 == 0:
            panel.clear()
        replay_strokes(panel.pad, d.strokes)
        settle(panel.pad)
        if i % 10 == 0:
            QApplication.processEvents()
            panel.resize(880 + (i % 40), 600)
    QApplication.processEvents()
    panel.grab()
    assert len(panel.pad._undo) <= HISTORY_LIMIT
    assert panel.prediction is not None


@pytest.mark.slow
def test_a_model_trained_on_mnist_reads_pad_drawings(qtbot, mnist_dir):
    """End to end with a small model trained here on real MNIST (a few seconds)."""
    from lstm_desktop.core.drawing.classify import single_thread
    from lstm_desktop.core.data.image_sets import mnist_bundle

    torch.manual_seed(0)
    data = mnist_bundle(str(mnist_dir), val_size=0)
    x, y = data.train_x[:12000], data.train_y[:12000]
    spec = ModelSpec(hidden=48)
    model = LSTMClassifier(spec)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    with single_thread():  # two threads on a busy two-core machine are ten times slower
        for _ in range(2):
            perm = torch.randperm(len(x))
            for i in range(0, len(x), 100):
                idx = perm[i:i + 100]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
                opt.step()
    model.eval()
    p = PadPanel()
    qtbot.addWidget(p)
    p.resize(900, 620)
    p.show()
    p.set_model(Checkpoint(model, spec), "mnist-small")
    digits = generate_digits(40, seed=21)
    correct = 0
    for d in digits:
        p.clear()
        replay_strokes(p.pad, d.strokes)
        settle(p.pad)
        correct += p.prediction.digit == d.label
    assert correct >= 24, f"{correct}/40"


def test_a_dash_a_dot_and_a_scribble_are_not_read_as_digits(qtbot, panel):
    from lstm_desktop.core.drawing.non_digits import generate_non_digits

    for item in generate_non_digits(6, seed=3):
        panel.clear()
        replay_strokes(panel.pad, item.strokes)
        settle(panel.pad)
        assert panel.unsure, item.kind
        assert panel.digit_label.text() in ("–",) or panel.digit_label.text().endswith("?")
    panel.clear()
    draw(panel.pad, densify([(40, 140), (240, 146)]))  # a horizontal dash
    assert panel.unsure and "not look like a digit" in panel.status_text()
