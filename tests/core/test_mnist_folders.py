"""The MNIST folder as people leave it: a failed download leaves nothing behind, and a copy nested one
level too deep (`cp -r` into an existing folder) is still found."""

from __future__ import annotations

import pytest

from lstm_desktop.core.data import mnist_files as M
from lstm_desktop.core.errors import DataError


def test_a_failed_download_leaves_no_empty_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTM_DESKTOP_MNIST_MIRROR", "http://127.0.0.1:9/")  # nothing listens there
    root = tmp_path / "MNIST_data"
    with pytest.raises(DataError):
        M.download_mnist(root, timeout=5)
    assert not root.exists(), "an empty MNIST_data/MNIST/raw reads as 'the data is there'"
    kept = tmp_path / "kept"
    kept.mkdir()
    with pytest.raises(DataError):
        M.download_mnist(kept, timeout=5)
    assert kept.is_dir() and not any(kept.iterdir())  # the user's own folder stays, emptied of ours


@pytest.mark.parametrize("nesting", [("MNIST", "MNIST", "raw"), ("MNIST", "raw", "raw"),
                                     ("MNIST", "raw", "MNIST", "raw")])
def test_a_copy_nested_one_level_too_deep_is_found(tmp_path, nesting):
    root = tmp_path / "MNIST_data"
    (root / "MNIST" / "raw").mkdir(parents=True)  # what a failed download used to leave
    nested = root.joinpath(*nesting)
    nested.mkdir(parents=True, exist_ok=True)
    for name in M.MNIST_FILES:
        (nested / name).write_bytes(b"x")
    assert M.mnist_raw_dir(root) == nested
    assert M.missing_mnist_files(root) == []


def test_the_usual_folder_wins_when_it_has_files(tmp_path):
    root = tmp_path / "d"
    plain = root / "MNIST" / "raw"
    plain.mkdir(parents=True)
    (plain / next(iter(M.MNIST_FILES))).write_bytes(b"x")
    assert M.mnist_raw_dir(root) == plain
    assert M.mnist_raw_dir(tmp_path / "none") == tmp_path / "none" / "MNIST" / "raw"
