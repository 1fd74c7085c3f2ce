"""The menu bar, and Help: every keyboard shortcut (read from the actions themselves, so the list
cannot go stale) and the user guide, shipped with the app and shown offline."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMenu, QTabWidget, QTextBrowser, QVBoxLayout, QWidget
from PySide6.QtWidgets import QMainWindow  # the main window (ui/main_window.py), typed loosely: no cycle



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
    w.compare_cells_action = _action(w, train_menu, "&Compare cells (RNN, GRU, LSTM)…", "compareCellsAction",
                                     lambda: _compare(w).start(), "Ctrl+Shift+C",
                                     "The long-lag lab: an RNN, a GRU and an LSTM on temporal order, one after "
                                     "another, with the task's own settings")

    view_menu = bar.addMenu("&View")
    w.log_action = _action(w, view_menu, "&Logarithmic loss axis", "logAction",
                           lambda on: w.plots and w.plots.set_log_scale(on), "Ctrl+L")
    w.log_action.setCheckable(True)
    _theme_menu(w, view_menu.addMenu("T&heme"))
    view_menu.addSeparator()
    for i, name in enumerate(("Train", "Results", "Draw", "Inside the LSTM")):
        _action(w, view_menu, name, f"tab{i}Action", lambda _=False, i=i: w.tabs.setCurrentIndex(i), f"Ctrl+{i + 1}")

    help_menu = bar.addMenu("&Help")
    _action(w, help_menu, "&User guide", "guideAction", lambda: show_guide(w), QKeySequence.StandardKey.HelpContents)
    _action(w, help_menu, "&Keyboard shortcuts", "shortcutsAction", lambda: show_shortcuts(w), "Ctrl+/")
    _action(w, help_menu, "Why &LSTMs? (the long-lag lab)", "lessonAction", lambda: show_lesson(w))
    help_menu.addSeparator()
    _action(w, help_menu, "&About LSTM Desktop", "aboutAction", lambda: show_about(w))


def _keys_on_a_keyboard(action: QAction) -> list[str]:
    """The action's shortcuts as the platform writes them, without the dedicated "Undo"/"Redo"/media keys
    that Qt's standard bindings add and few keyboards have (they read as words, not keys)."""
    keys = []
    for seq in action.shortcuts():
        if seq.isEmpty() or any(seq[i].key().value >= Qt.Key.Key_Back.value for i in range(seq.count())):
            continue
        keys.append(seq.toString(QKeySequence.SequenceFormat.NativeText))
    return keys


def _place(action: QAction, window: QWidget) -> str:
    """Where the action lives, so two "Train"s (the menu action and the tab) read apart."""
    menus = [o for o in action.associatedObjects() if isinstance(o, QMenu) and o.title()]
    if menus:
        return menus[0].title().replace("&", "")
    owner = action.parent()
    for tabs in window.findChildren(QTabWidget):
        for i in range(tabs.count()):
            page = tabs.widget(i)
            if isinstance(owner, QWidget) and (page is owner or page.isAncestorOf(owner)):
                return f"{tabs.tabText(i).replace('&', '')} tab"
    return ""


def _compare(w: QMainWindow):
    from lstm_desktop.ui.compare_cells import compare_cells

    return compare_cells(w)


def _theme_menu(w: QMainWindow, menu: QMenu) -> None:
    """View › Theme: System, Light, Dark; the choice is remembered and applied at the next start."""
    from lstm_desktop.ui.theme import THEME_CHOICES, install_theme_watcher

    menu.setObjectName("themeMenu")
    group = QActionGroup(w)
    group.setExclusive(True)
    w.theme_actions = {}
    chosen = w.prefs.theme()

    def choose(choice: str) -> None:
        install_theme_watcher().set_choice(choice)
        w.prefs.save_theme(choice)

    for choice, text in THEME_CHOICES:
        action = _action(w, menu, text, f"theme{choice.title()}Action", lambda _=False, c=choice: choose(c),
                         tip=f"{text.replace('&', '')} colours" if choice != "system" else "Follow the desktop")
        action.setCheckable(True)
        action.setChecked(choice == chosen)
        group.addAction(action)
        w.theme_actions[choice] = action
    if chosen != "system":
        install_theme_watcher().set_choice(chosen)


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(what, keys) for every action of the window that has a shortcut, sorted by what it does."""
    rows = set()
    for action in window.findChildren(QAction):
        keys = _keys_on_a_keyboard(action)
        what = action.text().replace("&", "").rstrip("…")
        if keys and what:
            place = _place(action, window)
            rows.add((f"{place} › {what}" if place else what, ", ".join(keys)))
    return sorted(rows, key=lambda r: r[0].lower())


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
    rows = "".join(f"<tr><td>{escape(what)}</td><td>&nbsp;&nbsp;<b>{escape(keys)}</b></td></tr>"
                   for what, keys in shortcut_rows(window))
    text.setHtml(f"<h3>Keyboard shortcuts</h3><table cellpadding='3'>{rows}</table>"
                 "<p>On the pad: Esc or Delete clears, Ctrl+Z undoes, Ctrl+Shift+Z redoes. In the runs table: "
                 "Delete moves the selected runs to the trash, F2 renames.</p>")
    dialog.show() if not modal else dialog.exec()
    return dialog


def guide_text() -> str:
    from lstm_desktop.core.files.resources import resource_path

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
