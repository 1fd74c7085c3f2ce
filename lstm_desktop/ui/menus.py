"""The menu bar, and Help: every keyboard shortcut (read from the actions themselves, so the list
cannot go stale) and the user guide, shipped with the app and shown offline."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow  # the main window (ui/main_window.py), typed loosely: no cycle


from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget



def _action(window, menu, text: str, name: str, slot, shortcut=None, tip: str = "") -> QAction:
    action = QAction(text, window)
    action.setObjectName(name)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def build_menus(w: QMainWindow) -> None:
    bar = w.menuBar()
    bar.setObjectName("menuBar")
    bar.setAccessibleName("Menu bar")
    file_menu = bar.addMenu("&File")
    w.open_action = _action(w, file_menu, "&Open model…", "openAction", lambda: w.open_checkpoint(),
                            QKeySequence.StandardKey.Open, "Open a saved model and score it on its test set")
    w.save_action = _action(w, file_menu, "&Export model…", "saveAction", lambda: w.save_run(),
                            QKeySequence.StandardKey.Save, "Write the selected run's model to a file")
    w.export_action = _action(w, file_menu, "Export &curves…", "exportAction", lambda: w.export_curves(),
                              "Ctrl+E", "Save the curves as CSV or PNG")
    w.export_onnx_action = _action(w, file_menu, "Export model as &ONNX…", "exportOnnxAction",
                                   lambda: w.files.export_onnx(), None,
                                   "Write the selected run's model as ONNX, checked with onnxruntime on its test set")
    w.export_data_action = _action(w, file_menu, "Export run &data…", "exportRunDataAction",
                                   lambda: w.files.export_run_data(), None,
                                   "Write the selected runs' (or every run's) curves and results as CSV or JSON")
    file_menu.addSeparator()
    w.quit_action = _action(w, file_menu, "&Quit", "quitAction", w.close, "Ctrl+Q")
    w.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

    train_menu = bar.addMenu("&Training")
    w.train_action = _action(w, train_menu, "&Train", "trainAction", lambda: w.start_training(), "Ctrl+Return")
    w.pause_action = _action(w, train_menu, "&Pause / resume", "pauseAction", w.toggle_pause, "Ctrl+P")
    w.stop_action = _action(w, train_menu, "&Stop", "stopAction", w.stop_training, "Ctrl+.")
    train_menu.addSeparator()
    w.compare_cells_action = _action(w, train_menu, "&Compare cells (RNN, GRU, LSTM)", "compareCellsAction",
                                     lambda: w.lifecycle.compare_cells(), "Ctrl+Shift+C",
                                     "Train the same settings with each cell, one after another, and overlay them")

    view_menu = bar.addMenu("&View")
    w.log_action = _action(w, view_menu, "&Logarithmic loss axis", "logAction",
                           lambda on: w.plots and w.plots.set_log_scale(on), "Ctrl+L")
    w.log_action.setCheckable(True)
    view_menu.addSeparator()
    for i, name in enumerate(("Train", "Results", "Draw", "Inside the LSTM")):
        _action(w, view_menu, name, f"tab{i}Action", lambda _=False, i=i: w.tabs.setCurrentIndex(i), f"Ctrl+{i + 1}")

    help_menu = bar.addMenu("&Help")
    _action(w, help_menu, "&User guide", "guideAction", lambda: show_guide(w), QKeySequence.StandardKey.HelpContents)
    _action(w, help_menu, "&Keyboard shortcuts", "shortcutsAction", lambda: show_shortcuts(w), "Ctrl+/")
    _action(w, help_menu, "Why &LSTMs? (the long-lag lab)", "lessonAction", lambda: show_lesson(w))
    help_menu.addSeparator()
    _action(w, help_menu, "&About LSTM Desktop", "aboutAction", lambda: show_about(w))


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(keys, what) for every action of the window that has a shortcut."""
    rows = []
    for action in window.findChildren(QAction):
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()]
        if keys and action.text():
            rows.append((", ".join(keys), action.text().replace("&", "").rstrip("…")))
    return sorted(set(rows), key=lambda r: r[1].lower())


def _dialog(parent: QWidget, title: str, name: str) -> tuple[QDialog, QTextBrowser]:
    dialog = QDialog(parent)
    dialog.setObjectName(name)
    dialog.setWindowTitle(title)
    dialog.resize(760, 620)
    text = QTextBrowser(dialog)
    text.setObjectName(f"{name}Text")
    text.setAccessibleName(title)
    text.setOpenExternalLinks(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=dialog)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(text, 1)
    layout.addWidget(buttons)
    return dialog, text


def show_shortcuts(window: QWidget, modal: bool = True) -> QDialog:
    dialog, text = _dialog(window, "Keyboard shortcuts", "shortcutsDialog")
    rows = "".join(f"<tr><td><b>{keys}</b></td><td>&nbsp;&nbsp;{what}</td></tr>" for keys, what in shortcut_rows(window))
    text.setHtml(f"<h3>Keyboard shortcuts</h3><table cellpadding='3'>{rows}</table>"
                 "<p>On the pad: Esc or Delete clears, Ctrl+Z undoes, Ctrl+Shift+Z redoes. In the runs table: "
                 "Delete moves the selected runs to the trash, F2 renames.</p>")
    dialog.show() if not modal else dialog.exec()
    return dialog


def guide_text() -> str:
    from lstm_desktop.core.resources import resource_path

    for path in (resource_path("user-guide.md"),):
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            continue
    return "# User guide\n\nThe guide file is missing from this installation; see `lstm-desktop --help`."


def show_guide(window: QWidget, modal: bool = True) -> QDialog:
    dialog, text = _dialog(window, "User guide", "guideDialog")
    text.setMarkdown(guide_text())
    dialog.show() if not modal else dialog.exec()
    return dialog


def show_lesson(window: QWidget, modal: bool = True) -> QDialog:
    from lstm_desktop.ui.lesson import LESSON_HTML

    dialog, text = _dialog(window, "Why LSTMs: the gradient through time", "lessonDialog")
    text.setHtml(LESSON_HTML)
    dialog.show() if not modal else dialog.exec()
    return dialog


def show_about(window: QWidget) -> None:
    from PySide6.QtWidgets import QMessageBox

    from lstm_desktop import __version__

    QMessageBox.about(window, "About LSTM Desktop",
                      f"<b>LSTM Desktop</b> {__version__}<p>Train, watch, explain and try recurrent digit "
                      "classifiers on your own machine.</p><p>The same training runs headless: "
                      "<code>lstm-desktop train --help</code>; Help › User guide explains the rest.</p>")
