"""Screenshots of every tab in a real window, light and dark, at several sizes, during and after
training, with kept runs on two datasets and the long-lag lab's cell comparison. Run under a
display (`Xvfb :99 -screen 0 2560x1600x24 &` and DISPLAY=:99):

    python tools/tour_shots.py --out /tmp/tour [--sizes 1024x700,1320x860,2560x1440] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/tour")
    parser.add_argument("--sizes", default="1024x700,1320x860,2560x1440")
    parser.add_argument("--quick", action="store_true", help="shorter trainings")
    args = parser.parse_args()
    os.environ.setdefault("LSTM_DESKTOP_HOME", tempfile.mkdtemp(prefix="lstm-tour-home-"))
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from lstm_desktop.core.training.config import TrainConfig
    from lstm_desktop.core.data.synthetic_digits import generate_digits
    from lstm_desktop.testing import replay_strokes
    from lstm_desktop.ui.main_window import MainWindow
    from lstm_desktop.ui.theme import apply_dark_palette, apply_light_palette, install_theme_watcher

    install_theme_watcher(app, follow_scheme=False)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    w = MainWindow(QSettings(os.path.join(tempfile.mkdtemp(), "tour.ini"), QSettings.Format.IniFormat))
    w.assume_yes = True
    w.resize(1320, 860)
    w.move(0, 0)
    w.show()

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def train(config: TrainConfig) -> None:
        w.start_training(config)
        while w.training.is_training():
            pump(0.2)
        pump(0.5)

    def shoot(name: str) -> None:
        for theme, apply in (("light", apply_light_palette), ("dark", apply_dark_palette)):
            apply(app)
            for width, height in sizes:
                w.resize(width, height)
                pump(0.6)
                w.grab().save(str(out / f"{name}-{theme}-{width}x{height}.png"))
        apply_light_palette(app)
        w.resize(1320, 860)

    while not w.is_ready:
        pump(0.1)
    epochs = 2 if args.quick else 4
    # kept runs on two datasets (digits and the long-lag task), then one training caught in the middle
    train(TrainConfig(dataset="digits", epochs=epochs * 3, hidden=48, batch_size=32, device="cpu", val_size=200,
                      lr=3e-3))
    train(TrainConfig(dataset="digits", epochs=epochs * 3, hidden=96, batch_size=32, device="cpu", val_size=200,
                      lr=3e-3, bidirectional=True))
    base = TrainConfig.for_dataset("temporal-order", seq_len=40, epochs=epochs, device="cpu")
    for cell in ("rnn", "gru", "lstm"):
        train(base.replace(cell=cell))
    w.tabs.setCurrentIndex(0)
    w.train_tab.views.setCurrentIndex(1)  # the gradient flow of the last (LSTM) run
    w.runs_panel.select(max(r.id for r in w.runs))
    pump(0.5)
    shoot("gradient-flow")
    w.train_tab.views.setCurrentIndex(0)
    w.tabs.setCurrentIndex(1)
    ids = sorted(r.id for r in w.runs)
    for i, rid in enumerate(ids[-3:]):
        w.runs_panel.select(rid, add=i > 0)
    w.results.compare_tabs.setCurrentIndex(2)
    shoot("compare-cells")
    for i, rid in enumerate(ids):
        w.runs_panel.select(rid, add=i > 0)
    w.results.compare_tabs.setCurrentIndex(0)
    shoot("results-two-datasets")
    w.results.compare_tabs.setCurrentIndex(1)
    shoot("results-settings")
    w.runs_panel.select(ids[0])
    w.tabs.setCurrentIndex(2)
    digit = generate_digits(5, seed=4)[2]
    replay_strokes(w.pad_panel.pad, digit.strokes)
    pump(2.0)
    shoot("draw")
    w.tabs.setCurrentIndex(3)
    pump(1.0)
    shoot("inside")
    w.tabs.setCurrentIndex(0)
    w.start_training(TrainConfig(dataset="digits", epochs=200, hidden=64, batch_size=16, device="cpu", val_size=200))
    while w.plots.counts()["epochs"] < 2:
        pump(0.2)
    shoot("train-during")
    w.stop_training()
    while w.training.is_training():
        pump(0.2)
    pump(0.5)
    shoot("train-after")
    w.shutdown()
    w.close()
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
