"""Light and dark themes: every plot of a ready window follows the palette (live, when it changes),
painted widgets stay readable, and the ThemeWatcher re-themes what registers with it."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QPalette

from lstm_desktop.ui import theme
from lstm_desktop.ui.theme import apply_dark_palette, apply_light_palette, contrast, is_dark, luminance


@pytest.fixture
def restore_palette(qapp):
    yield qapp
    apply_light_palette(qapp)


def _views(window) -> list[pg.GraphicsView]:
    return [v for v in window.findChildren(pg.GraphicsView) if v.objectName() != "themePaletteSentinel"]


class _Run:
    label, dataset = "run 1", "digits"
    history = {"epoch": [1, 2], "val_accuracy": [0.8, 0.9]}


def _background(view) -> QColor:
    return view.backgroundBrush().color()


def test_dark_palette_leaves_no_plot_light(make_window, restore_palette):
    apply_dark_palette(restore_palette)
    window = make_window()
    window.comparison.set_runs([_Run()])  # the comparison makes its plot for the first selection
    views = _views(window)
    names = sorted(v.objectName() for v in views)
    assert len(views) >= 7, names  # four live curves, the comparison, the two inside canvases
    for view in views:
        assert luminance(_background(view)) < 0.1, f"{view.objectName()} keeps a light background"
    # the axes' text reads on the dark background
    axis = window.plots.batch_plot.getAxis("left")
    assert contrast(axis.textPen().color(), _background(window.plots._views[0])) > 4.5

    # the system switches back to light: every plot follows at once, without a restart
    apply_light_palette(restore_palette)
    for view in views:
        assert luminance(_background(view)) > 0.8, f"{view.objectName()} stayed dark"
    assert contrast(axis.textPen().color(), _background(window.plots._views[0])) > 4.5


def _track_and_window(bars) -> tuple[QColor, QColor]:
    image = bars.grab().toImage()
    # the bar of a digit with probability 0 is all track; sample its middle
    row = bars.height() / 10.0
    point = QPoint(bars.width() // 2, int(row * 9 + row / 2))
    return image.pixelColor(point), bars.palette().color(QPalette.ColorRole.Window)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_probability_bar_tracks_stay_visible(qtbot, restore_palette, dark):
    from lstm_desktop.ui.widgets.probability_bars import ProbabilityBars

    (apply_dark_palette if dark else apply_light_palette)(restore_palette)
    bars = ProbabilityBars()
    qtbot.addWidget(bars)
    bars.resize(240, 200)
    bars.show()
    qtbot.waitExposed(bars)
    bars.set_probabilities([0.9] + [0.1 / 9] * 8 + [0.0])
    track, window = _track_and_window(bars)
    assert is_dark(bars.palette()) == dark
    assert contrast(track, window) > 1.15, (track.name(), window.name())


def test_muted_text_and_banners_follow_the_palette(qtbot, restore_palette):
    from lstm_desktop.ui.widgets.banners import MessageBanner
    from lstm_desktop.ui.widgets.common import muted

    label = muted("secondary")
    banner = MessageBanner("testBanner", "Test banner")
    for w in (label, banner):
        qtbot.addWidget(w)
    banner.show_message("Something failed", "Try again", "warning")
    light_sheet = banner.styleSheet()
    light_text = label.palette().color(QPalette.ColorRole.WindowText)
    apply_dark_palette(restore_palette)
    dark_text = label.palette().color(QPalette.ColorRole.WindowText)
    assert luminance(dark_text) > luminance(light_text)
    assert contrast(dark_text, label.palette().color(QPalette.ColorRole.Window)) > 4.5
    assert banner.styleSheet() != light_sheet and "#3a3016" in banner.styleSheet()


def test_watcher_coalesces_changes_and_follows_the_scheme(qtbot, restore_palette):
    seen: list[theme.Theme] = []

    class Target:
        def apply_theme(self, t: theme.Theme) -> None:
            seen.append(t)

    watcher = theme.ThemeWatcher(restore_palette, follow_scheme=False)
    try:
        target = Target()
        watcher.register(target)
        assert len(seen) == 1 and not seen[0].dark
        with qtbot.waitSignal(watcher.themeChanged, timeout=5000) as blocker:
            apply_dark_palette(restore_palette)
        assert blocker.args[0].dark and seen[-1].dark
        assert pg.getConfigOption("background") == seen[-1].background  # new plots start dark
        # a system switch to light restores the palette the watcher replaced
        watcher._follow = True
        watcher._on_scheme(Qt.ColorScheme.Light)  # not ours: left alone
        assert is_dark(restore_palette.palette())
        apply_light_palette(restore_palette)
        watcher._on_scheme(Qt.ColorScheme.Dark)
        assert is_dark(restore_palette.palette())
        watcher._on_scheme(Qt.ColorScheme.Light)
        assert not is_dark(restore_palette.palette())
    finally:
        watcher.stop()
        apply_light_palette(restore_palette)
        theme.set_pyqtgraph_defaults(theme.theme_for())


def test_view_theme_choice_applies_at_once_and_is_remembered(make_window, restore_palette, tmp_path):
    from lstm_desktop.ui.theme import install_theme_watcher

    settings = tmp_path / "theme.ini"
    try:
        window = make_window(settings_path=settings)
        assert window.theme_actions["system"].isChecked()
        window.theme_actions["dark"].trigger()
        assert is_dark()
        assert all(luminance(_background(v)) < 0.1 for v in _views(window))
        window.close()
        install_theme_watcher().set_choice("system")  # as at a fresh start: the system's light palette
        assert not is_dark()
        again = make_window(settings_path=settings)
        assert again.theme_actions["dark"].isChecked() and is_dark(), "the choice was not remembered"
        again.theme_actions["light"].trigger()
        assert not is_dark() and all(luminance(_background(v)) > 0.8 for v in _views(again))
    finally:
        install_theme_watcher().set_choice("system")


@pytest.mark.parametrize("dark", [False, True])
def test_a_disabled_train_button_looks_disabled(qtbot, restore_palette, dark):
    """Greyed like the other disabled buttons, not a paler blue (which looked pressable on dark)."""
    from lstm_desktop.ui.widgets.training_controls import TrainingControls

    controls = TrainingControls()
    qtbot.addWidget(controls)
    (apply_dark_palette if dark else apply_light_palette)(restore_palette)
    controls.resize(380, 150)
    controls.train_button.setEnabled(True)
    on = controls.train_button.grab().toImage()
    controls.train_button.setEnabled(False)
    off = controls.train_button.grab().toImage()
    at = QPoint(8, on.height() // 2)  # inside the button, left of its text
    assert on.pixelColor(at).hsvSaturationF() > 0.6, "enabled: the primary blue"
    grey = off.pixelColor(at)
    assert grey.hsvSaturationF() < 0.15, f"disabled: no blue left ({grey.name()})"
    window = restore_palette.palette().color(QPalette.ColorRole.Window)
    assert contrast(grey, window) < 1.4, f"disabled: close to the window colour ({grey.name()})"
