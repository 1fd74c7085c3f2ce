"""At start-up, once the run store is open: a banner that names the runs a crash or a kill left
`interrupted`, what each kept, and a button that opens the latest in Results. Each run is told once
(the told runs are kept in the window's settings); the rules are core/runs/interrupted.py's."""

from __future__ import annotations

import json
import logging
from typing import Callable

from lstm_desktop.core.runs.interrupted import Interrupted, newly_interrupted, notice, remembered
from lstm_desktop.core.runs.evented_runs import Run, Runs
from lstm_desktop.core.runs.store import RunStore
from lstm_desktop.ui.messages import Messages
from lstm_desktop.ui.window_settings import WindowSettings

TOLD_KEY = "runs/interruptedTold"

log = logging.getLogger(__name__)


def _told(prefs: WindowSettings) -> list[str]:
    try:
        told = json.loads(prefs.text(TOLD_KEY, "[]"))
    except ValueError:
        log.warning("ignoring the saved %s: not a JSON list", TOLD_KEY)
        return []
    return [k for k in told if isinstance(k, str)] if isinstance(told, list) else []


def _model_exists(store: RunStore, run: Run) -> bool:
    path = store.absolute(run.checkpoint_path) if run.checkpoint_path else None
    return path is not None and path.is_file()


def tell_interrupted(store: RunStore | None, runs: Runs, prefs: WindowSettings, messages: Messages,
                     open_run: Callable[[int], None]) -> list[Interrupted]:
    """Show the notice for the runs not told yet (if any) and remember them; returns them.
    open_run(run id): the notice's button, which shows that run in Results."""
    if store is None:
        return []
    listed = list(runs)
    told = _told(prefs)
    items = newly_interrupted(listed, told, lambda run: _model_exists(store, run))
    keys = remembered(listed, told, items)
    if keys != told:
        prefs.qs.setValue(TOLD_KEY, json.dumps(keys))
        prefs.sync()
    if items:
        message, hint = notice(items)
        shown = next((item for item in reversed(items) if item.has_model), items[-1])  # the latest with a model
        messages.show_error(message, hint, "warning", (f"Open {shown.name}", lambda: open_run(shown.run_id)))
    return items
