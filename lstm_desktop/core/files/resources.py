"""Where the shipped files are, from a source checkout and from an installed wheel alike."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SHIPPED_MODEL = "digits-lstm.pt"


def resource_path(name: str) -> Path:
    """Path of a file in `resources/` (installed as the package lstm_desktop.resources)."""
    try:
        return Path(str(resources.files("lstm_desktop.resources").joinpath(name)))
    except ModuleNotFoundError:  # running from a checkout that was never installed
        return Path(__file__).resolve().parents[3] / "resources" / name


def shipped_model_path() -> Path:
    return resource_path(SHIPPED_MODEL)
