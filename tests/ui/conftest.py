"""Qt fixtures for the UI tests: isolated settings, a ready main window, and a guard that FAILS any
test which leaves a QThread running (the same check napari's test suite makes)."""

from __future__ import annotations

import inspect
import os
from weakref import WeakKeyDictionary

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QThread

READY_TIMEOUT_MS = 120_000  # the first test imports torch on a busy 2-core machine


def _calling_place(depth: int = 2) -> str:
    frame = inspect.stack()[depth]
    return f"{frame.filename}:{frame.lineno}"


@pytest.fixture(autouse=True)
def _dangling_qthreads(monkeypatch, qtbot, request):
    """Record every QThread started during the test; fail the test if one is still running."""
    started: WeakKeyDictionary = WeakKeyDictionary()
    base_start = QThread.start

    def start_and_remember(self, *args, **kwargs):
        started[self] = _calling_place()
        return base_start(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", start_and_remember)
    yield
    dangling = []
    for thread, where in list(started.items()):
        try:
            if thread.isRunning():
                dangling.append((thread, where))
        except RuntimeError:  # the C++ object is gone: it finished and was deleted
            continue
    for thread, _ in dangling:  # clean up so later tests are not affected, then fail this one
        try:
            thread.quit()
            qtbot.waitUntil(thread.isFinished, timeout=10_000)
        except Exception:  # noqa: BLE001
            pass
    if dangling:
        places = "\n".join(f"  {t.objectName() or t!r} started at {w}" for t, w in dangling)
        pytest.fail(f"The test {request.node.name} left QThreads running:\n{places}\n"
                    "Stop workers and wait for their threads before the test ends.", pytrace=False)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """QSettings go to a temporary folder under test-only names: the user's settings are never read."""
    folder = tmp_path / "settings"
    folder.mkdir()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    monkeypatch.setenv("LSTM_DESKTOP_HOME", str(tmp_path / "home"))  # each test its own run store
    monkeypatch.setenv("LSTM_DESKTOP_SETTINGS_ORG", "lstm-desktop-tests")
    monkeypatch.setenv("LSTM_DESKTOP_SETTINGS_APP", "lstm-desktop-tests")
    QCoreApplication.setOrganizationName("lstm-desktop-tests")
    QCoreApplication.setApplicationName("lstm-desktop-tests")
    return folder


@pytest.fixture
def settings_file(tmp_path):
    return tmp_path / "window.ini"


@pytest.fixture
def make_window(qtbot, settings_file):
    """Factory: a shown MainWindow with its own settings file, waited until ready."""
    from lstm_desktop.ui.main_window import MainWindow

    windows = []

    def make(ready: bool = True, settings_path=None):
        settings = QSettings(str(settings_path or settings_file), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings)
        window.assume_yes = True  # "Stop and quit?" and "Delete runs?" answer yes (a test of the prompt sets False)
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        if ready:
            with qtbot.waitSignal(window.ready, timeout=READY_TIMEOUT_MS, raising=False):
                pass
            qtbot.waitUntil(lambda: window.is_ready, timeout=READY_TIMEOUT_MS)
        return window

    yield make
    for window in windows:
        try:
            window.shutdown(30_000)
            qtbot.waitUntil(lambda w=window: not w.running_threads(), timeout=30_000)
            window.close()
        except RuntimeError:
            pass


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def tiny_config():
    """Factory of training configs that take well under a second per epoch on 2 cores."""
    from lstm_desktop.core.training.config import TrainConfig

    def make(**changes):
        base = dict(dataset="digits", hidden=16, epochs=2, batch_size=64, lr=0.01, device="cpu", seed=1,
                    threads=1)
        base.update(changes)
        return TrainConfig(**base)

    return make
