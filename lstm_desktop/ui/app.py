"""Application entry point: show the window first, load torch and the rest after the first paint.

`run_app(argv)` is what `lstm-desktop`, `lstm-desktop gui` and `python -m lstm_desktop` call.
Settings are stored under SETTINGS_ORG / SETTINGS_APP; the environment variables
LSTM_DESKTOP_SETTINGS_ORG and LSTM_DESKTOP_SETTINGS_APP override them (tests and benchmarks use
their own names so they never touch the user's settings).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from typing import Sequence

_T0 = time.perf_counter()

SETTINGS_ORG = "lstm-desktop"
SETTINGS_APP = "lstm-desktop"
ENV_SETTINGS_ORG = "LSTM_DESKTOP_SETTINGS_ORG"
ENV_SETTINGS_APP = "LSTM_DESKTOP_SETTINGS_APP"

log = logging.getLogger("lstm_desktop")


def settings_names() -> tuple[str, str]:
    return (os.environ.get(ENV_SETTINGS_ORG) or SETTINGS_ORG, os.environ.get(ENV_SETTINGS_APP) or SETTINGS_APP)


def keep_triton_out() -> None:
    """Refuse `import triton` in the GUI process: after a GTK3 platform theme has loaded libgtk-3,
    importing it kills the process (SIGSEGV, issue 25). The app never compiles, and torch treats a
    refused triton as a missing one (as on CPU-only installs), so a torch path that reaches for it
    later gets on without it instead of crashing. torch._dynamo stays importable: it works without."""
    sys.modules.setdefault("triton", None)  # type: ignore[arg-type]  # None: "import of triton halted"


def create_application(argv: Sequence[str] | None = None):
    """The QApplication (reused if one exists), named, with the app's icon and organisation."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(["lstm-desktop", *(argv or [])])
    org, name = settings_names()
    QCoreApplication.setOrganizationName(org)
    QCoreApplication.setApplicationName(name)
    app.setApplicationDisplayName("LSTM Desktop")
    if hasattr(app, "setDesktopFileName"):
        app.setDesktopFileName("lstm-desktop")
    return app


def run_app(argv: Sequence[str] | None = None) -> int:
    """Open the main window and run the event loop; returns the process exit code."""
    logging.basicConfig(level=os.environ.get("LSTM_DESKTOP_LOG", "WARNING").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    keep_triton_out()
    app = create_application(list(argv or []))
    from lstm_desktop.ui.main_window import MainWindow
    from lstm_desktop.ui.widgets.app_icon import make_icon

    app.setWindowIcon(make_icon())
    from lstm_desktop.ui.theme import install_theme_watcher

    app._theme_watcher = install_theme_watcher(app)  # plots follow a light or dark system theme, live
    window = MainWindow()
    app.setQuitOnLastWindowClosed(False)
    window.closed.connect(app.quit)
    window.show()
    log.info("window shown %.3f s after import", time.perf_counter() - _T0)

    # Ctrl+C in the terminal closes the window the normal way (training is stopped first).
    signal.signal(signal.SIGINT, lambda *_: window.close())
    from PySide6.QtCore import QTimer

    wake = QTimer()
    wake.start(250)  # let Python see signals while Qt's loop runs
    wake.timeout.connect(lambda: None)

    previous_hook = sys.excepthook

    def excepthook(exc_type, exc, tb):  # an exception in a slot: log it, tell the user, keep going
        log.error("unexpected error", exc_info=(exc_type, exc, tb))
        try:
            window.show_error(f"Unexpected error: {exc_type.__name__}: {exc}",
                              "This is a bug; the details were written to the log.")
        except Exception:  # noqa: BLE001
            previous_hook(exc_type, exc, tb)

    sys.excepthook = excepthook
    try:
        code = app.exec()
    finally:
        sys.excepthook = previous_hook
        wake.stop()
        window.shutdown()
    return int(code)
