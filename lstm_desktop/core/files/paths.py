"""Where lstm-desktop keeps the user's own things: the run store and every run's files.

One folder (the "home") holds `runs.sqlite` and `runs/<id>/`; `$LSTM_DESKTOP_HOME` overrides it so
tests, benchmarks and a second profile never touch the real one.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "LSTM_DESKTOP_HOME"
APP_NAME = "lstm-desktop"
DB_NAME = "runs.sqlite"
RUNS_DIR = "runs"


def home_dir() -> Path:
    """`$LSTM_DESKTOP_HOME`, else the platform's user data folder (not created here)."""
    override = os.environ.get(HOME_ENV, "").strip()
    if override:
        return Path(override).expanduser().absolute()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def db_path(home: Path | None = None) -> Path:
    """The run store's database file."""
    return (home or home_dir()) / DB_NAME
