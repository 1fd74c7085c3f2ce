"""At start-up, once the run store is open: a banner that names the runs a crash or a kill left
`interrupted`, what each kept, and a button that opens the latest in Results. Each run is told once
(the told runs are kept in the window's settings); the rules are core/runs/interrupted.py's."""

from __future__ import annotations

import json
import logging
from typing import Any

from lstm_desktop.core.runs.interrupted import Interrupted, newly_interrupted, notice, remembered

TOLD_KEY = "runs/interruptedTold"

log = logging.getLogger(__name__)


def _told(prefs: Any) -> list[str]:
    try:
        told = json.loads(prefs.text(TOLD_KEY, "[]"))
    except ValueError:
        log.warning("ignoring the saved %s: not a JSON list", TOLD_KEY)
        return []
    return [k for k in told if isinstance(k, str)] if isinstance(told, list) else []


def _model_exists(store: Any, run: Any) -> bool:
    path = store.absolute(run.checkpoint_path) if run.checkpoint_path else None
    return path is not None and path.is_file()


def open_run(window: Any, run_id: int) -> None:
    """Show the run in Results, selected."""
    window.tabs.setCurrentWidget(window.results)
    window.results.runs_panel.select(run_id)


def tell_interrupted(window: Any) -> list[Interrupted]:
    """Show the notice for the runs not told yet (if any) and remember them; returns them."""
    store = window.store
    if store is None:
        return []
    runs = list(window.runs)
    told = _told(window.prefs)
    items = newly_interrupted(runs, told, lambda run: _model_exists(store, run))
    keys = remembered(runs, told, items)
    if keys != told:
        window.prefs.qs.setValue(TOLD_KEY, json.dumps(keys))
        window.prefs.sync()
    if items:
        message, hint = notice(items)
        shown = next((item for item in reversed(items) if item.has_model), items[-1])  # the latest with a model
        window.show_error(message, hint, "warning", (f"Open {shown.name}", lambda: open_run(window, shown.run_id)))
    return items
