"""Screenshots of the Results tab's comparison views in a real window: the parallel coordinates of
20 runs (one axis brushed) and the diff of two runs, light and dark. Run under a display
(e.g. `Xvfb :99 &` and DISPLAY=:99):

    python tools/results_shots.py --out docs/screenshots [--size 1600x900]

The runs are written into a temporary run store with benchmarks/many_runs.py's `fill`.
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
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--size", default="1600x900")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    home = Path(tempfile.mkdtemp()) / "home"
    from benchmarks.many_runs import fill

    fill(home, args.runs, seed=3)
    os.environ["LSTM_DESKTOP_HOME"] = str(home)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from lstm_desktop.ui.main_window import TAB_RESULTS, MainWindow
    from lstm_desktop.ui.theme import apply_dark_palette, apply_light_palette, install_theme_watcher

    install_theme_watcher(app, follow_scheme=False)
    win = MainWindow(QSettings(os.path.join(tempfile.mkdtemp(), "shots.ini"), QSettings.Format.IniFormat))
    win.resize(width, height)
    win.move(0, 0)
    win.show()

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    while not win.is_ready:
        pump(0.05)
    win.tabs.setCurrentIndex(TAB_RESULTS)
    results, panel = win.results, win.runs_panel
    ids = sorted(r.id for r in win.runs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for theme, apply in (("light", apply_light_palette), ("dark", apply_dark_palette)):
        apply(app)
        results.set_tag([ids[0], ids[1]], "pinned", True)
        panel.select_many(ids[:20])
        results.compare_tabs.setCurrentWidget(results.parallel)
        results.setSizes([int(width * 0.52), int(width * 0.48)])  # the comparison gets the room
        results.left.setSizes([300, 520])
        pump(0.5)
        view = results.parallel
        axis = [a.key for a in view.axes].index("accuracy")
        view.brushes.clear()
        view.drag_brush(axis, 0.55, 1.0)  # selects the better runs: the table follows
        pump(0.5)
        win.grab().save(str(out / f"parallel-coords-{theme}.png"))
        panel.select_many(ids[2:4])
        pump(0.2)
        panel.diff_button.click()
        pump(0.5)
        win.grab().save(str(out / f"run-diff-{theme}.png"))
        print(f"saved parallel-coords-{theme}.png and run-diff-{theme}.png in {out}")
    win.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
