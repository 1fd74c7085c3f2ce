"""The real app under Xvfb with Qt's GTK3 platform theme (as on a GNOME desktop): the Train button
trains one epoch and the app exits cleanly. Before issue 25 the optimiser's first use imported
triton after libgtk-3 was loaded, and the process died of SIGSEGV. Run in a subprocess: a crash
must fail this test, not kill the test runner. Skips where Xvfb, libgtk-3 or Qt's gtk3 plugin is missing."""

from __future__ import annotations

import ctypes.util
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ui_helpers import driven_app_script

ROOT = Path(__file__).resolve().parents[2]


def _gtk3_plugin() -> bool:
    import PySide6

    return any((Path(PySide6.__file__).parent / "Qt" / "plugins" / "platformthemes").glob("libqgtk3*"))


pytestmark = pytest.mark.skipif(
    not (shutil.which("Xvfb") and ctypes.util.find_library("gtk-3") and _gtk3_plugin()),
    reason="needs Xvfb, libgtk-3 and Qt's gtk3 platform theme (apt-get install xvfb libgtk-3-0)")

SCRIPT = driven_app_script("""
    if "clicked" not in seen:
        w.config_panel.set_config(TrainConfig(dataset="digits", hidden=16, epochs=1, batch_size=32,
                                              device="cpu", threads=1, val_size=50))
        button = w.findChild(QPushButton, "trainButton")
        if not button.isEnabled():
            return
        seen["clicked"] = True
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
        seen["theme"] = app.style().name()
    elif not w.is_training() and w.plots.counts()["epochs"] >= 1 and "closed" not in seen:
        seen["closed"] = True
        w.close()
""", result='seen.get("theme"), "triton" in sys.modules and sys.modules["triton"] is not None')


@pytest.fixture
def xvfb_display():
    """A private Xvfb server; its display number comes back on the pipe given by -displayfd."""
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    try:
        if not number:
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_train_button_trains_an_epoch_under_the_gtk3_theme_and_exits_zero(tmp_path, xvfb_display):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env |= dict(DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb", QT_QPA_PLATFORMTHEME="gtk3",
                GTK_THEME="Adwaita:dark", LSTM_DESKTOP_HOME=str(tmp_path / "home"),
                LSTM_DESKTOP_SETTINGS_APP="lstm-desktop-gtk3-test", XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode != -signal.SIGSEGV, "the app died of SIGSEGV under the GTK3 theme:\n" + proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    result = [line.split() for line in proc.stdout.splitlines() if line.startswith("RESULT")][-1]
    assert result[1] == "0" and result[3] == "False"
    from lstm_desktop.core.runs.store import open_store

    store = open_store(tmp_path / "home")
    runs = store.load_runs()
    assert len(runs) == 1 and str(runs[0].status) == "finished" and runs[0].epochs_done == 1
    assert store.absolute(runs[0].checkpoint_path).is_file()
