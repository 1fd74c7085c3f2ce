"""AppendOnlyCurve: cheap appends must draw exactly what a full redraw draws, and repaint only a strip."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

from lstm_desktop.ui.widgets.append_curve import AppendOnlyCurve, peak_decimate


def loss_curve(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.arange(1, n + 1) / 100.0
    y = 2.3 * np.exp(-x) + 0.1 + 0.2 * rng.random(n)
    return x, y


def test_peak_decimate_keeps_each_bins_extremes_in_order():
    x, y = loss_curve(10_000)
    y[1234] = 9.0   # a spike and a dip must survive decimation
    y[7777] = -3.0
    xs, ys = peak_decimate(x, y, 200)
    assert len(xs) <= 204
    assert ys.max() == 9.0 and ys.min() == -3.0
    assert np.all(np.diff(xs) >= 0)
    assert set(xs) <= set(x)


def test_peak_decimate_leaves_short_or_non_finite_data_alone():
    x, y = loss_curve(50)
    assert peak_decimate(x, y, 200)[0] is x
    y[3] = np.nan
    xs, ys = peak_decimate(np.tile(x, 20), np.tile(y, 20), 100)
    assert len(xs) == 1000


def _plot(qtbot, curve: AppendOnlyCurve) -> pg.PlotWidget:
    view = pg.PlotWidget()
    qtbot.addWidget(view)
    view.resize(420, 300)
    view.getPlotItem().addItem(curve)
    view.setXRange(0, 12, padding=0)
    view.setYRange(0, 3, padding=0)
    view.show()
    qtbot.waitExposed(view)
    return view


def _render(view: pg.PlotWidget) -> QImage:
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    return view.grab().toImage()


def test_appending_in_chunks_draws_the_same_pixels_as_one_full_redraw(qtbot):
    x, y = loss_curve(1000)
    grown = AppendOnlyCurve(pg.mkPen("#d62728", width=2))
    grown_view = _plot(qtbot, grown)
    for end in range(7, len(x) + 1, 7):
        grown.extend(x[:end], y[:end])
        if end % 70 == 0:
            _render(grown_view)  # paint in between, as the live plot does 10 times a second
    grown.extend(x, y)
    full = AppendOnlyCurve(pg.mkPen("#d62728", width=2))
    full_view = _plot(qtbot, full)
    full.setData(x, y)
    a, b = _render(grown_view), _render(full_view)
    assert a.size() == b.size()
    assert a == b
    red = sum(1 for px in range(0, a.width(), 2) for py in range(0, a.height(), 2)
              if a.pixelColor(px, py).red() > 200 and a.pixelColor(px, py).green() < 80)
    assert red > 50  # the curve is really there


def test_extend_marks_only_a_strip_for_repaint(qtbot, monkeypatch):
    x, y = loss_curve(600)
    curve = AppendOnlyCurve(pg.mkPen("k"))
    view = _plot(qtbot, curve)
    curve.setData(x[:300], y[:300])
    _render(view)
    marked: list[QRectF | None] = []
    base_update = AppendOnlyCurve.update

    def spy(self, *args):
        marked.append(args[0] if args else None)
        return base_update(self, *args)

    monkeypatch.setattr(AppendOnlyCurve, "update", spy)
    curve.extend(x[:307], y[:307])
    assert len(marked) == 1 and marked[0] is not None
    strip = marked[0]
    assert strip.left() < x[299] and strip.right() > x[306]
    assert strip.width() < 0.05 * 12  # 0.07 of data plus a few pixels each side, not the 12-unit plot


def test_extend_with_other_history_redraws_everything():
    x, y = loss_curve(100)
    curve = AppendOnlyCurve(pg.mkPen("k"))
    curve.setData(x[:50], y[:50])
    curve.extend(x[:40] + 100.0, y[:40])
    assert len(curve.getData()[0]) == 40 and curve.getData()[0][0] == pytest.approx(100.01)


def test_log_mode_and_data_bounds():
    x, y = loss_curve(100)
    curve = AppendOnlyCurve(pg.mkPen("k"))
    curve.setData(x, y)
    assert curve.dataBounds(0) == (pytest.approx(x.min()), pytest.approx(x.max()))
    assert curve.dataBounds(1) == (pytest.approx(y.min()), pytest.approx(y.max()))
    curve.setLogMode(False, True)
    np.testing.assert_allclose(curve.getData()[1], np.log10(y))
    curve.extend(np.append(x, 1.5), np.append(y, 0.0))  # log of 0: not drawn, not a crash
    assert np.isnan(curve.getData()[1][-1])
    assert curve.dataBounds(1)[0] == pytest.approx(np.log10(y).min())


def test_live_plots_redraw_one_epoch_plot_per_tick_and_all_on_demand(qtbot):
    from lstm_desktop.ui.widgets.live_plots import LivePlots

    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.set_x_extent(3.0)
    plots.append_epoch(1.0, 0.5, 0.4, 0.85, 0.9)
    plots.refresh()
    drawn = [len(c.getData()[0] if c.getData()[0] is not None else []) for c in
             (plots.train_loss_curve, plots.train_acc_curve)]
    assert drawn == [1, 0]  # the loss plot this tick, the accuracy plot on the next one
    plots.refresh()
    assert len(plots.train_acc_curve.getData()[0]) == 1
    plots.append_epoch(2.0, 0.3, 0.3, 0.9, 0.92)
    plots.refresh(everything=True)
    assert len(plots.train_loss_curve.getData()[0]) == 2 and len(plots.train_acc_curve.getData()[0]) == 2


def test_training_stats_labels_keep_their_size(qtbot):
    from lstm_desktop.ui.widgets.training_controls import TrainingControls

    controls = TrainingControls()
    qtbot.addWidget(controls)
    controls.show()
    before = [w.size() for w in (controls.rate_value, controls.elapsed_value, controls.eta_value)]
    controls.set_stats(1_234_567.0, 3 * 3600 + 59 * 60 + 59, 12 * 3600, 123.4567)
    after = [w.size() for w in (controls.rate_value, controls.elapsed_value, controls.eta_value)]
    assert before == after
    for label in (controls.rate_value, controls.elapsed_value, controls.eta_value, controls.loss_value):
        assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()  # nothing clipped


def _filled_plots(qtbot):
    from lstm_desktop.ui.widgets.live_plots import LivePlots

    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.resize(900, 600)
    plots.show()
    qtbot.waitExposed(plots)
    x, y = loss_curve(300)
    plots.append_batches(x / 3.0, y)
    for e in (1, 2, 3):
        plots.append_epoch(float(e), 0.5 / e, 0.45 / e, 1 - 0.1 / e, 1 - 0.12 / e)
    plots.refresh(everything=True)
    return plots


def test_crosshair_hides_when_the_mouse_leaves_and_is_never_exported(qtbot, tmp_path):
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    plots = _filled_plots(qtbot)
    plots.show_crosshair(0.5)
    assert plots.crosshair_visible() and plots.readout.text()
    QApplication.sendEvent(plots._views[0], QEvent(QEvent.Type.Leave))
    assert not plots.crosshair_visible() and plots.readout.text() == ""

    plots.show_crosshair(0.5)
    image = plots.export_png(str(tmp_path / "curves.png"))
    assert plots.crosshair_visible()  # the screen keeps it; the export did not have it
    assert image.width() == 2 * plots.graphics.width() and image.height() == 2 * plots.graphics.height()
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plots.show_crosshair(None)
    without = plots.export_png(str(tmp_path / "plain.png"))
    assert image == without  # exported with the crosshair on screen = exported without one


def test_csv_names_the_run(qtbot, tmp_path):
    import csv

    plots = _filled_plots(qtbot)
    plots.set_run_label("run 7 · hidden 128")
    assert plots.run_id == "run 7 · hidden 128"
    path = tmp_path / "curves.csv"
    plots.export_csv(str(path))
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0] == ["run", "curve", "epoch", "value"]
    assert {r[0] for r in rows[1:]} == {"run 7 · hidden 128"}
    assert {"batch_loss", "val_accuracy"} <= {r[1] for r in rows[1:]}
    plots.show_history({"epoch": [1], "val_accuracy": [0.9]}, run="checkpoint best.pt")
    assert plots.run_id == "checkpoint best.pt"


def test_log_axis_labels_do_not_pile_up():
    import math

    from lstm_desktop.ui.widgets.plot_axes import format_tick, log_ticks

    # loss from 0.15 to 1.1 on a 150-pixel axis: labels 0.2, 0.5, 1 (not 1 0.9 0.8 0.7 ...)
    lo, hi = math.log10(0.15), math.log10(1.1)
    labelled, rest = log_ticks(lo, hi, 150, 20)
    assert [format_tick(10 ** v) for v in labelled] == ["0.2", "0.5", "1"]
    assert len(rest) >= 5  # the other mantissas stay as unlabelled ticks
    gaps = np.diff(labelled) * 150 / (hi - lo)
    assert np.all(gaps >= 20)
    # less than a decade with no 1-2-5 value twice: 3 and 4 are labelled instead
    labelled, _ = log_ticks(math.log10(0.28), math.log10(0.45), 200, 20)
    assert [format_tick(10 ** v) for v in labelled] == ["0.3", "0.4"]
    # many decades: every k-th decade
    labelled, _ = log_ticks(-12.0, 2.0, 300, 20)
    assert len(labelled) <= 7


def test_comparison_legend_is_beside_the_plot(qtbot):
    from lstm_desktop.ui.widgets.run_comparison import RunComparisonPlot

    class Run:
        def __init__(self, label, acc):
            self.label, self.history = label, {"epoch": [1, 2, 3], "val_accuracy": acc}

    view = RunComparisonPlot()
    qtbot.addWidget(view)
    view.show()
    view.set_runs([Run("run 1", [0.9, 0.95, 0.97]), Run("run 2 · a long label that wraps", [0.8, 0.9, 0.93])])
    assert view.curve_count() == 2
    assert view.legend_labels() == ["run 1", "run 2 · a long label that wraps"]
    assert view.plot.legend is None  # nothing drawn over the curves
    assert view.legend.objectName() == "compareLegend" and view.legend.accessibleName()
    plot_rect = view.plot_widget.geometry()
    assert not plot_rect.intersects(view.legend.geometry())
