"""Errors a user can fix. Each message says what is wrong and what to do about it."""

from __future__ import annotations


class LstmDesktopError(Exception):
    """Base for errors shown to the user as a message, never as a traceback."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class ConfigError(LstmDesktopError):
    """A training setting is out of range or inconsistent."""


class DataError(LstmDesktopError):
    """The dataset is missing, truncated, corrupt or could not be downloaded."""


class CheckpointError(LstmDesktopError):
    """A checkpoint file is missing, corrupt, foreign or for another architecture."""


class DeviceError(LstmDesktopError):
    """The requested compute device does not exist on this machine."""


class ImageError(LstmDesktopError):
    """An image file cannot be read or is unreasonably large."""


class StoreError(LstmDesktopError):
    """The run store (database of runs) cannot be opened, is newer than this version, or lacks a run."""
