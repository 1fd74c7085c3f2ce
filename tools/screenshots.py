"""Screenshots of the app in a real window for the README: before, during and after training,
the pad, and the inside view. Run under a display (e.g. `Xvfb :99 &` and DISPLAY=:99):

    python tools/screenshots.py --data-dir ../shared/data/mnist --out docs/screenshots
    python tools/screenshots.py --tour --dark --size 1280x800 --out /tmp/shots-dark

--dark switches to a dark Fusion palette (what a dark desktop gives the app), --size sets the
window size, so the layout can be checked on small and large screens in both themes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--digit-seed", type=int, default=11)
    parser.add_argument("--tour", action="store_true",
                        help="no training: the shipped model explains a drawn digit, one image per panel")
    parser.add_argument("--dark", action="store_true", help="a dark palette (Fusion), as on a dark desktop")
    parser.add_argument("--size", type=parse_size, default=(1440, 900), metavar="WxH",
                        help="window size in pixels (default 1440x900)")
    parser.add_argument("--dataset", default="mnist", help="what the training screenshots train on")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from lstm_desktop.ui.theme import apply_dark_palette, install_theme_watcher

    if args.dark:
        apply_dark_palette(app)
    install_theme_watcher(app, follow_scheme=False)
    from lstm_desktop.core.training.config import TrainConfig
    from lstm_desktop.core.data.synthetic_digits import generate_digits
    from lstm_desktop.ui.main_window import TAB_DRAW, TAB_INSIDE, TAB_RESULTS, TAB_TRAIN, MainWindow
    from lstm_desktop.testing import replay_strokes

    settings = QSettings(os.path.join(tempfile.mkdtemp(), "shots.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings)
    win.resize(*args.size)
    win.move(0, 0)
    win.show()

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def wait_for(cond, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return True
            pump(0.05)
        return cond()

    def shot(name: str) -> None:
        pump(0.4)
        screen = app.primaryScreen()
        pix = screen.grabWindow(0, 0, 0, win.frameGeometry().width(), win.frameGeometry().height())
        if pix.isNull() or pix.width() < 10:
            pix = win.grab()
        pix.save(str(out / f"{name}.png"))
        print("saved", out / f"{name}.png", flush=True)

    wait_for(lambda: win.is_ready, 60)
    if args.tour:
        return tour(win, app, out, pump, shot, args.digit_seed)
    win.config_panel.set_dataset(args.dataset) if hasattr(win.config_panel, "set_dataset") else None
    shot("before")
    win.start_training(TrainConfig(dataset=args.dataset, data_dir=args.data_dir, epochs=args.epochs))
    # A digit on the pad so the probe curve has something to show.
    digit = generate_digits(20, seed=args.digit_seed)[0]
    win.tabs.setCurrentIndex(TAB_DRAW)
    replay_strokes(win.pad_panel.pad, digit.strokes)
    pump(0.5)
    win.tabs.setCurrentIndex(TAB_TRAIN)
    wait_for(lambda: win.plots.counts()["epochs"] >= 1, 600)  # the first epoch is on the curves
    pump(6)
    shot("training")
    finished = {"done": False}
    win.trainingFinished.connect(lambda n: finished.__setitem__("done", True))
    wait_for(lambda: finished["done"], 900)
    pump(2)
    shot("after-training")
    win.tabs.setCurrentIndex(TAB_RESULTS)
    shot("results")
    win.tabs.setCurrentIndex(TAB_DRAW)
    pump(1)
    shot("draw")
    win.tabs.setCurrentIndex(TAB_INSIDE)
    pump(1)
    shot("inside")
    win.close()
    wait_for(lambda: not win.running_threads(), 30)
    return 0


def parse_size(text: str) -> tuple[int, int]:
    """'1280x800' -> (1280, 800)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH such as 1280x800, not {text!r}") from None
    if w < 200 or h < 200:
        raise argparse.ArgumentTypeError("the window needs at least 200x200 pixels")
    return w, h


def tour(win, app, out: Path, pump, shot, digit_seed: int) -> int:
    """The shipped (attention) model on a drawn digit: the Draw tab, then each inside panel."""
    from PySide6.QtCore import QRect

    from lstm_desktop.core.data.synthetic_digits import generate_digits
    from lstm_desktop.ui.main_window import TAB_DRAW, TAB_INSIDE
    from lstm_desktop.testing import replay_strokes

    win.tabs.setCurrentIndex(TAB_DRAW)
    digit = [d for d in generate_digits(40, seed=digit_seed) if d.label == 4][0]
    replay_strokes(win.pad_panel.pad, digit.strokes)
    pump(1.0)
    shot("tour-draw")
    win.tabs.setCurrentIndex(TAB_INSIDE)
    pump(1.0)
    shot("tour-inside")
    view = win.inside_view
    panels = {"panel-digit-attention": (view.top, [view.digit.plot, view.attention.plot]),
              "panel-readout": (view.top, [view.readout.plot]),
              "panel-occlusion": (view.top, [view.occlusion.plot]),
              "panel-gates": (view.gates.canvas, list(view.gates.plots.values()))}
    for name, (canvas, plots) in panels.items():
        rect = QRect()
        for plot in plots:
            r = canvas.mapFromScene(plot.sceneBoundingRect()).boundingRect()
            rect = rect.united(r)
        canvas.grab(rect.adjusted(-6, -6, 6, 6)).save(str(out / f"{name}.png"))
        print("saved", out / f"{name}.png", flush=True)
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
