"""Teach the pad your handwriting: say what each drawing was, keep it in "My digits", adapt.

Under the pad a row of digits: clicking one labels the current drawing (a correction when the
model read it wrong, a confirmation when right) and keeps it in My digits (the PNG and its
strokes, in the user's lstm-desktop folder: the images in the ImageFolder layout `my-digits/<digit>/*.png`
that `lstm-desktop adapt` reads, the strokes beside it in `my-digits-strokes/`). "Adapt to my handwriting" fine-tunes the pad's model on them
(core/drawing/adapt.py) on a worker thread, with progress; the result is a new run in the run store,
offered on the pad.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QGridLayout, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QProgressBar, QPushButton, QSizePolicy, QVBoxLayout, QWidget)

from lstm_desktop.core.files.atomic import atomic_write
from lstm_desktop.core.errors import LstmDesktopError
from lstm_desktop.core.runs.evented_runs import Runs
from lstm_desktop.core.runs.store import RunStore
from lstm_desktop.ui.messages import Messages
from lstm_desktop.ui.pad_model import PadModel
from lstm_desktop.ui.widgets.common import muted, named
from lstm_desktop.ui.worker import TaskWorker, WorkerThread

if TYPE_CHECKING:
    from lstm_desktop.ui.pad_panel import PadPanel


log = logging.getLogger(__name__)


ADAPT_TIP = "Fine-tune the pad's model on My digits, in seconds; the result is a new run"


def my_digits_dir() -> Path:
    from lstm_desktop.core.files.paths import home_dir

    return home_dir() / "my-digits"


def strokes_file(png: Path) -> Path:
    """Where a kept drawing's strokes go: beside My digits, not in it (the folder holds images only,
    so `lstm-desktop adapt` can read it as it is)."""
    return my_digits_dir().parent / "my-digits-strokes" / png.parent.name / f"{png.stem}.json"


class TeachRow(QWidget):
    """'It was: 0 1 2 … 9' under the pad, My digits… and Adapt."""

    labelled = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("teachRow")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 4, 0, 0)
        grid.addWidget(QLabel("It was:"), 0, 0)
        self.digit_buttons: list[QPushButton] = []
        for d in range(10):
            b = named(QPushButton(str(d)), f"teachDigit{d}Button", f"The drawing is a {d}",
                      f"Keep this drawing in My digits as a {d} (corrects the model when it read another digit)")
            b.setFixedWidth(max(28, b.fontMetrics().horizontalAdvance("00") + 14))
            b.clicked.connect(lambda _=False, d=d: self.labelled.emit(d))
            self.digit_buttons.append(b)
            grid.addWidget(b, 0, 1 + d)
        self.count_label = named(muted("", wrap=False), "myDigitsCount", "Drawings in My digits")
        # a longer count is cut (its tooltip has it all), never widens the pad's side: the digit
        # buttons above stayed put under the user's pointer
        self.count_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.browse_button = named(QPushButton("My digits…"), "myDigitsButton", "Browse My digits",
                                   "See and delete the drawings kept for adaptation")
        self.adapt_button = named(QPushButton("Adapt to my handwriting"), "adaptButton", "Adapt to my handwriting",
                                  ADAPT_TIP)
        self.progress = named(QProgressBar(), "adaptProgress", "Adaptation progress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.hide()
        row = QHBoxLayout()
        row.addWidget(self.count_label, 1)
        row.addWidget(self.browse_button)
        row.addWidget(self.adapt_button)
        grid.addLayout(row, 1, 0, 1, 11)
        # a row of its own, the full width: "preparing replay digits (0%)" is read, not clipped
        grid.addWidget(self.progress, 2, 0, 1, 11)

    def set_enabled_for_drawing(self, has_drawing: bool) -> None:
        for b in self.digit_buttons:
            b.setEnabled(has_drawing)


class Teacher(QObject):
    """Keeps labelled drawings and runs the adaptation; the pad's model is the base."""

    adaptFinished = Signal(int)  # the new run's id (-1 when it failed or was cancelled)

    def __init__(self, row: TeachRow, pad_panel: PadPanel, pad_model: PadModel, runs: Runs,
                 store: Callable[[], RunStore | None], messages: Messages, thread_ended: Callable[[], None],
                 dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.row = row
        self.pad_panel = pad_panel  # the drawing kept, and cleared after
        self.pad_model = pad_model  # the model adapted: the one the pad reads with
        self.runs = runs
        self.store = store  # where the adapted model is kept (None: this session only)
        self.messages = messages
        self.thread_ended = thread_ended  # the window may be waiting for the adaptation's thread to close
        self.dialog_parent = dialog_parent
        self.job: WorkerThread | None = None
        row.labelled.connect(self.keep)
        row.browse_button.clicked.connect(self.browse)
        row.adapt_button.clicked.connect(self.adapt)
        pad_panel.inputChanged.connect(lambda x: row.set_enabled_for_drawing(x is not None))
        row.set_enabled_for_drawing(False)
        self.refresh_count()

    def drawings(self) -> list[tuple[int, Path]]:
        from lstm_desktop.core.data.my_digits import list_drawings

        folder = my_digits_dir()
        if not folder.is_dir():
            return []
        try:
            return list_drawings(folder)
        except LstmDesktopError as exc:
            self.messages.show_error(exc.message, exc.hint, "warning")
            return []

    def refresh_count(self) -> None:
        found = [(d, p) for d, p in self.drawings() if p.suffix.lower() == ".png"]
        per = {d: sum(1 for k, _ in found if k == d) for d in range(10)}
        text = ", ".join(f"{d}: {n}" for d, n in per.items() if n)
        self.row.count_label.setText(f"My digits: {len(found)}" + (f" ({text})" if text else ""))
        digits = sum(1 for n in per.values() if n)
        self.row.adapt_button.setEnabled(digits >= 2 and self.job is None)
        if digits < 2:  # say why Adapt is greyed, on the button and in the row itself
            why = (f"Adapting needs drawings of 2 or more different digits; My digits has "
                   f"{'none yet' if not digits else 'only ' + ', '.join(str(d) for d, n in per.items() if n)}. "
                   "Draw a digit and click what it was under the pad.")
            self.row.adapt_button.setToolTip(why)
            self.row.count_label.setText(self.row.count_label.text() + " · Adapt needs 2+ different digits")
        else:
            self.row.adapt_button.setToolTip(ADAPT_TIP)
        self.row.count_label.setToolTip(self.row.count_label.text())

    def keep(self, digit: int) -> Path | None:
        """Keep the pad's drawing (PNG of the canvas, and its strokes) as `digit`."""
        from lstm_desktop.core.data.my_digits import save_drawing

        pad = self.pad_panel.pad
        if pad.is_empty():
            return None
        ink = pad.raster().copy() if pad.strokes() else None
        if ink is None:
            pre = self.pad_panel.preprocessed
            ink = pre.image if pre is not None else None
        if ink is None:
            return None
        try:
            path = save_drawing(my_digits_dir(), digit, ink)
            strokes = [{"width": s.width, "points": s.points.round(2).tolist()} for s in pad.strokes()]
            if strokes:
                with atomic_write(strokes_file(path), "w") as fh:
                    json.dump({"label": digit, "strokes": strokes}, fh)
        except (OSError, LstmDesktopError) as exc:
            self.messages.show_error(getattr(exc, "message", None) or f"Could not keep the drawing: {exc}",
                              "Check that your lstm-desktop folder is writable.")
            return None
        said = self.pad_panel.prediction
        what = "confirmed" if said is not None and said.digit == digit else "corrected"
        self.messages.notice(f"Kept as a {digit} in My digits ({what}); {path.parent.parent}")
        self.refresh_count()
        self.pad_panel.clear()
        return path

    def browse(self) -> None:
        MyDigitsDialog(self).exec()
        self.refresh_count()

    def adapt(self) -> bool:
        """Fine-tune the pad's model on My digits, off the GUI thread."""
        from lstm_desktop.core.drawing.adapt import AdaptSettings, adapt_model
        from lstm_desktop.core.data.my_digits import read_digit_folder

        if self.job is not None:
            return False
        base = self.pad_model.checkpoint()
        if base is None:
            self.messages.show_error("There is no model on the pad to adapt.", "Choose one in the Model list.", "warning")
            return False
        try:
            examples = read_digit_folder(my_digits_dir())
        except LstmDesktopError as exc:
            self.messages.show_error(exc.message, exc.hint, "warning")
            return False
        base_name = self.pad_model.name()

        def task(control, progress):
            return adapt_model(base, examples.images, examples.labels, AdaptSettings(),
                               progress=lambda f, m: progress((float(f), m)),
                               should_stop=lambda: control.stop_requested)

        worker = TaskWorker(task, "adaptation")
        worker.progressed.connect(self._on_progress)
        self._base_name = base_name
        self._labels = examples.labels
        worker.succeeded.connect(self._on_adapted)  # bound slots: delivered on the GUI thread
        worker.failed.connect(self._on_adapt_failed)
        self.job = WorkerThread(worker, "lstm-desktop-adaptation")
        self.job.thread.finished.connect(self._on_thread_finished)
        self.row.progress.setValue(0)
        self.row.progress.show()
        self.row.adapt_button.setEnabled(False)
        self.job.start()
        return True

    def _on_progress(self, value) -> None:
        fraction, message = value
        self.row.progress.setValue(int(1000 * fraction))
        self.row.progress.setFormat(f"{message} (%p%)")

    def _on_adapt_failed(self, message: str, hint: str) -> None:
        self.messages.show_error(message, hint)
        self.adaptFinished.emit(-1)

    def _on_adapted(self, result) -> None:
        base_name = self._base_name
        from lstm_desktop.core.models.checkpoint import save_checkpoint
        from lstm_desktop.core.runs.evented_runs import Run, RunStatus, now_iso
        from lstm_desktop.ui.runs_filter import adapted_message

        ckpt = result.checkpoint
        name = f"Adapted ({base_name}, {result.examples} drawings)"
        store = self.store()
        # every epoch of the model it started from, then the fine-tuning: a finished run, not "1/30"
        fields = dict(status=RunStatus.FINISHED, dataset="mnist", seconds=result.seconds,
                      epochs_done=ckpt.config.epochs,
                      message=adapted_message(base_name, result.examples, result.seconds, result.final_user_accuracy))
        try:
            if store is not None:
                run = store.create_run(ckpt.config, source="adapted", name=name, **fields)
                path = save_checkpoint(store.run_dir(run.id) / "model.pt", ckpt)
                store.update(run.id, checkpoint_path=str(path))
                run = store.get_run(run.id)
            else:
                run = Run(self.runs.next_id(), name, config=ckpt.config, source="adapted", created=now_iso(),
                          **fields)
        except (OSError, LstmDesktopError) as exc:
            self.messages.show_error(getattr(exc, "message", None) or f"Could not keep the adapted model: {exc}", "")
            self.adaptFinished.emit(-1)
            return
        run.extra["checkpoint"] = ckpt
        self.runs.add(run)
        self.pad_model.use_on_pad(run)
        if result.all_read_right:
            self.messages.show_error(f"{name} is on the pad.", f"It now reads all {result.examples} of your drawings as "
                              "you labelled them; the previous model is one click away in the Model list.", "success")
        else:
            from lstm_desktop.core.drawing.adapt import misread_message

            self.messages.show_error(f"{name} is on the pad, but it did not learn all your drawings.",
                              misread_message(self._labels, result.misread, "adapt again"), "warning")
        self.adaptFinished.emit(run.id)

    def _on_thread_finished(self) -> None:
        if self.job is not None:
            self.job.release()
            self.job = None
        self.row.progress.hide()
        self.refresh_count()
        self.thread_ended()


class MyDigitsDialog(QDialog):
    """The kept drawings, per digit, with Delete."""

    def __init__(self, teacher: Teacher) -> None:
        super().__init__(teacher.dialog_parent)
        self.teacher = teacher
        self.setObjectName("myDigitsDialog")
        self.setWindowTitle("My digits")
        self.resize(560, 420)
        self.list = named(QListWidget(), "myDigitsList", "Kept drawings")
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        delete = named(QPushButton("Delete"), "deleteDigitsButton", "Delete the selected drawings")
        delete.clicked.connect(self.delete_selected)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(muted(f"Kept in {my_digits_dir()} (one folder per digit; `lstm-desktop adapt` reads it)."))
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(delete)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.reload()

    def reload(self) -> None:
        from PySide6.QtGui import QIcon, QPixmap

        self.list.clear()
        for digit, path in self.teacher.drawings():
            if path.suffix.lower() != ".png":
                continue
            item = QListWidgetItem(QIcon(QPixmap(str(path)).scaled(56, 56, Qt.AspectRatioMode.KeepAspectRatio)),
                                   str(digit))
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            self.list.addItem(item)

    def delete_selected(self) -> None:
        for item in self.list.selectedItems():
            path = Path(item.data(Qt.ItemDataRole.UserRole))
            for p in (path, strokes_file(path)):
                p.unlink(missing_ok=True)
        self.reload()
