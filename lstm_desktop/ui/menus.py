"""The menu bar, and Help: every keyboard shortcut (read from the actions themselves, so the list
cannot go stale) and the user guide, shipped with the app and shown offline."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMenu, QMenuBar, QTabWidget, QTextBrowser, QVBoxLayout, QWidget

from lstm_desktop.ui.window_settings import WindowSettings

TAB_NAMES = ("Train", "Results", "Draw", "Inside the LSTM")


@dataclass
class MenuSlots:
    """What the menus' actions do (the window's methods and parts)."""

    open_model: Callable[[], object]
    export_model: Callable[[], object]
    export_curves: Callable[[], object]
    export_onnx: Callable[[], object]
    export_run_data: Callable[[], object]
    quit: Callable[[], object]
    train: Callable[[], object]
    toggle_pause: Callable[[], object]
    stop: Callable[[], object]
    compare_cells: Callable[[], object]
    set_log_scale: Callable[[bool], object]
    show_tab: Callable[[int], object]


@dataclass
class MenuActions:
    """The actions the window enables and checks (the window keeps each as an attribute of that name)."""

    open_action: QAction
    save_action: QAction
    export_action: QAction
    export_onnx_action: QAction
    export_data_action: QAction
    quit_action: QAction
    train_action: QAction
    pause_action: QAction
    stop_action: QAction
    compare_cells_action: QAction
    log_action: QAction
    theme_actions: dict[str, QAction]


def _action(owner: QObject, menu: QMenu, text: str, name: str, slot, shortcut=None, tip: str = "") -> QAction:
    action = QAction(text, owner)
    action.setObjectName(name)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def build_menus(bar: QMenuBar, owner: QWidget, do: MenuSlots, prefs: WindowSettings) -> MenuActions:
    """File, Training, View and Help on `bar`; owner: the actions' parent and the dialogs' parent."""
    bar.setObjectName("menuBar")
    bar.setAccessibleName("Menu bar")
    file_menu = bar.addMenu("&File")
    open_action = _action(owner, file_menu, "&Open model…", "openAction", lambda: do.open_model(),
                          QKeySequence.StandardKey.Open, "Open a saved model and score it on its test set")
    save_action = _action(owner, file_menu, "&Export model…", "saveAction", lambda: do.export_model(),
                          QKeySequence.StandardKey.Save, "Write the selected run's model to a file")
    export_action = _action(owner, file_menu, "Export &curves…", "exportAction", lambda: do.export_curves(),
                            "Ctrl+E", "Save the curves as CSV or PNG")
    export_onnx_action = _action(owner, file_menu, "Export model as &ONNX…", "exportOnnxAction",
                                 lambda: do.export_onnx(), None,
                                 "Write the selected run's model as ONNX, checked with onnxruntime on its test set")
    export_data_action = _action(owner, file_menu, "Export run &data…", "exportRunDataAction",
                                 lambda: do.export_run_data(), None,
                                 "Write the selected runs' (or every run's) curves and results as CSV or JSON")
    file_menu.addSeparator()
    quit_action = _action(owner, file_menu, "&Quit", "quitAction", lambda: do.quit(), "Ctrl+Q")
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)

    train_menu = bar.addMenu("&Training")
    train_action = _action(owner, train_menu, "&Train", "trainAction", lambda: do.train(), "Ctrl+Return")
    pause_action = _action(owner, train_menu, "&Pause / resume", "pauseAction", lambda: do.toggle_pause(), "Ctrl+P")
    stop_action = _action(owner, train_menu, "&Stop", "stopAction", lambda: do.stop(), "Ctrl+.")
    train_menu.addSeparator()
    compare_cells_action = _action(owner, train_menu, "&Compare cells (RNN, GRU, LSTM)…", "compareCellsAction",
                                   lambda: do.compare_cells(), "Ctrl+Shift+C",
                                   "The long-lag lab: an RNN, a GRU and an LSTM on temporal order, one after "
                                   "another, with the task's own settings")

    view_menu = bar.addMenu("&View")
    log_action = _action(owner, view_menu, "&Logarithmic loss axis", "logAction", lambda on: do.set_log_scale(on),
                         "Ctrl+L")
    log_action.setCheckable(True)
    theme_actions = _theme_menu(owner, view_menu.addMenu("T&heme"), prefs)
    view_menu.addSeparator()
    for i, name in enumerate(TAB_NAMES):
        _action(owner, view_menu, name, f"tab{i}Action", lambda _=False, i=i: do.show_tab(i), f"Ctrl+{i + 1}")

    help_menu = bar.addMenu("&Help")
    _action(owner, help_menu, "&User guide", "guideAction", lambda: show_guide(owner),
            QKeySequence.StandardKey.HelpContents)
    _action(owner, help_menu, "&Keyboard shortcuts", "shortcutsAction", lambda: show_shortcuts(owner), "Ctrl+/")
    _action(owner, help_menu, "Why &LSTMs? (the long-lag lab)", "lessonAction", lambda: show_lesson(owner))
    help_menu.addSeparator()
    _action(owner, help_menu, "&About LSTM Desktop", "aboutAction", lambda: show_about(owner))
    return MenuActions(open_action, save_action, export_action, export_onnx_action, export_data_action, quit_action,
                       train_action, pause_action, stop_action, compare_cells_action, log_action, theme_actions)


def _keys_on_a_keyboard(action: QAction) -> list[str]:
    """The action's shortcuts as the platform writes them, without the dedicated "Undo"/"Redo"/media keys
    that Qt's standard bindings add and few keyboards have (they read as words, not keys)."""
    keys = []
    for seq in action.shortcuts():
        if seq.isEmpty() or any(seq[i].key().value >= Qt.Key.Key_Back.value for i in range(seq.count())):
            continue
        keys.append(seq.toString(QKeySequence.SequenceFormat.NativeText))
    return keys


def _place(action: QAction, root: QWidget) -> str:
    """Where the action lives, so two "Train"s (the menu action and the tab) read apart."""
    menus = [o for o in action.associatedObjects() if isinstance(o, QMenu) and o.title()]
    if menus:
        return menus[0].title().replace("&", "")
    owner = action.parent()
    for tabs in root.findChildren(QTabWidget):
        for i in range(tabs.count()):
            page = tabs.widget(i)
            if isinstance(owner, QWidget) and (page is owner or page.isAncestorOf(owner)):
                return f"{tabs.tabText(i).replace('&', '')} tab"
    return ""


def _theme_menu(owner: QObject, menu: QMenu, prefs: WindowSettings) -> dict[str, QAction]:
    """View › Theme: System, Light, Dark; the choice is remembered and applied at the next start."""
    from lstm_desktop.ui.theme import THEME_CHOICES, install_theme_watcher

    menu.setObjectName("themeMenu")
    group = QActionGroup(owner)
    group.setExclusive(True)
    actions = {}
    chosen = prefs.theme()

    def choose(choice: str) -> None:
        install_theme_watcher().set_choice(choice)
        prefs.save_theme(choice)

    for choice, text in THEME_CHOICES:
        action = _action(owner, menu, text, f"theme{choice.title()}Action", lambda _=False, c=choice: choose(c),
                         tip=f"{text.replace('&', '')} colours" if choice != "system" else "Follow the desktop")
        action.setCheckable(True)
        action.setChecked(choice == chosen)
        group.addAction(action)
        actions[choice] = action
    if chosen != "system":
        install_theme_watcher().set_choice(chosen)
    return actions


def shortcut_rows(root: QWidget) -> list[tuple[str, str]]:
    """(what, keys) for every action under `root` (the window) that has a shortcut, sorted by what it does."""
    rows = set()
    for action in root.findChildren(QAction):
        keys = _keys_on_a_keyboard(action)
        what = action.text().replace("&", "").rstrip("…")
        if keys and what:
            place = _place(action, root)
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


def show_shortcuts(parent: QWidget, modal: bool = True) -> QDialog:
    dialog, text = _dialog(parent, "Keyboard shortcuts", "shortcutsDialog")
    rows = "".join(f"<tr><td>{escape(what)}</td><td>&nbsp;&nbsp;<b>{escape(keys)}</b></td></tr>"
                   for what, keys in shortcut_rows(parent))
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


def show_guide(parent: QWidget, modal: bool = True) -> QDialog:
    dialog, text = _dialog(parent, "User guide", "guideDialog")
    text.setMarkdown(guide_text())
    dialog.show() if not modal else dialog.exec()
    return dialog


def show_lesson(parent: QWidget, modal: bool = True) -> QDialog:
    from lstm_desktop.ui.lesson import LESSON_HTML

    dialog, text = _dialog(parent, "Why LSTMs: the gradient through time", "lessonDialog")
    text.setHtml(LESSON_HTML)
    dialog.show() if not modal else dialog.exec()
    return dialog


def show_about(parent: QWidget) -> None:
    from PySide6.QtWidgets import QMessageBox

    from lstm_desktop import __version__

    QMessageBox.about(parent, "About LSTM Desktop",
                      f"<b>LSTM Desktop</b> {__version__}<p>Train, watch, explain and try recurrent digit "
                      "classifiers on your own machine.</p><p>The same training runs headless: "
                      "<code>lstm-desktop train --help</code>; Help › User guide explains the rest.</p>")
