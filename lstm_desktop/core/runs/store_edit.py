"""The run store's edits from the window and the CLI: names, notes, tags, models opened from
files, and the trash (a deleted run is hidden, restorable, until purged with its files).

A mixin of core.store.RunStore (it uses that class's update, get_run, create_run, list_runs and
transactions); kept apart so each module stays one responsibility.
"""

from __future__ import annotations

import shutil
from typing import Any, Iterable

from lstm_desktop.core.errors import StoreError
from lstm_desktop.core.runs.run_lock import lock_is_free
from lstm_desktop.core.runs.evented_runs import RunStatus, now_iso


class RunEditing:
    """Editing and trash methods of RunStore. Names, notes, tags, trash and restore go through a
    StoreWriter: applied at once when the store is free, queued (never stalling the window's GUI
    thread, never raising) while another process holds its write lock; `flush_edits` waits."""

    def _edit(self, run_id: int, **fields: Any) -> None:
        writer = self.__dict__.get("_edits")
        if writer is None:
            from lstm_desktop.core.runs.store_writer import StoreWriter

            writer = self.__dict__["_edits"] = StoreWriter(self)
        writer.write(self.update, run_id, **fields)

    def flush_edits(self, timeout: float | None = None) -> bool:
        """Wait until queued edits are in the database (a command line does before it exits)."""
        writer = self.__dict__.get("_edits")
        if writer is None:
            return True
        return writer.flush() if timeout is None else writer.flush(timeout)

    # ---- editing -------------------------------------------------------------------------------
    def rename(self, run_id: int, name: str) -> None:
        name = " ".join(str(name).split())[:200]
        if not name:
            raise StoreError("A run's name cannot be empty.", "Type a name, or keep the old one.")
        self._edit(run_id, name=name)

    def set_notes(self, run_id: int, notes: str) -> None:
        self._edit(run_id, notes=str(notes))

    def set_tags(self, run_id: int, tags: Iterable[str]) -> None:
        clean = list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))
        self._edit(run_id, tags=clean)

    def add_opened(self, name: str | None, config: Any, fields: dict[str, Any]) -> int:
        """Record a model file opened in the window (source "opened"): it stays where it is."""
        fields = {k: v for k, v in dict(fields).items() if k not in ("id", "created")}
        fields.setdefault("status", RunStatus.FINISHED)
        source = fields.pop("source", "opened")
        status = fields.pop("status")
        return self.create_run(config, source=source, name=name, status=status, **fields).id

    # ---- trash ---------------------------------------------------------------------------------
    def delete(self, run_id: int) -> None:
        """Move to the trash (hidden from lists, files kept): restore() undoes it."""
        self._refuse_if_training(run_id, "deleted")
        self._edit(run_id, deleted_at=now_iso())

    def restore(self, run_id: int) -> None:
        self._edit(run_id, deleted_at=None)

    def purge(self, run_id: int) -> None:
        """Delete for good: the row, its curves, then its folder (a crash between leaves only files)."""
        self._refuse_if_training(run_id, "deleted")
        with self._write() as conn:
            conn.execute("DELETE FROM curves WHERE run_id = ?", (int(run_id),))
            conn.execute("DELETE FROM runs WHERE id = ?", (int(run_id),))
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)

    def empty_trash(self) -> int:
        ids = [r.id for r in self.trashed_runs()]
        for run_id in ids:
            self.purge(run_id)
        return len(ids)

    def _refuse_if_training(self, run_id: int, what: str) -> None:
        run = self.get_run(run_id)
        if run.status.active and not lock_is_free(self.run_dir(run_id)):
            raise StoreError(f"{run.name} is still training, so it cannot be {what}.",
                             "Stop it first (or wait for it to end).")

