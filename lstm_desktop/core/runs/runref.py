"""A model reference as users type it: a checkpoint file, or the id (or unique name) of a stored run."""

from __future__ import annotations

from pathlib import Path

from lstm_desktop.core.errors import CheckpointError, StoreError


def resolve_model(ref: str) -> Path:
    """The checkpoint file `ref` names: an existing file wins, else a stored run's model file.

    The store is only read when its database exists (a mistyped path never creates one).
    """
    path = Path(ref).expanduser()
    if path.is_file():
        return path
    from lstm_desktop.core.files.paths import db_path

    if db_path().is_file() and not any(sep in ref for sep in ("/", "\\")):
        from lstm_desktop.core.runs.store import open_store

        store = open_store(recover=False)
        try:
            run = store.find(ref)
        except StoreError:
            run = None
        if run is not None:
            where = store.absolute(run.checkpoint_path)
            store.close()
            if where is None:
                raise CheckpointError(f"{run.name} (run {run.id}) has no model: no epoch finished.",
                                      "Pick a run with epochs done (lstm-desktop runs list).")
            if not where.is_file():
                raise CheckpointError(f"{run.name} (run {run.id})'s model file {where} is missing.",
                                      "It was moved or deleted; pick another run (lstm-desktop runs list).")
            return where
        store.close()
    raise CheckpointError(f"{ref} is neither a checkpoint file nor a run id in the run store.",
                          "Give a .pt file saved by lstm-desktop, or a run id from `lstm-desktop runs list`.")
