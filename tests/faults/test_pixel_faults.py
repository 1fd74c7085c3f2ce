"""pixel-mnist at the edges of its settings: no validation images (--val-size 0) trains and
reports like any other run instead of failing on an empty reshape."""

from __future__ import annotations

import pytest

from test_data_faults import good_files, small_mnist, write_folder  # noqa: F401 - small_mnist: autouse fixture

from fault_helpers import json_lines

pytestmark = pytest.mark.timeout(120)


def test_pixel_mnist_with_no_validation_images_trains(tmp_path, cli):
    root = tmp_path / "mnist"
    write_folder(root, good_files())
    out = tmp_path / "px.pt"
    r = cli("train", "--dataset", "pixel-mnist", "--data-dir", root, "--no-download", "--val-size", "0",
            "--epochs", "1", "--hidden", "4", "--batch-size", "64", "--device", "cpu", "--quiet", "--json",
            "--out", out)
    assert r.code == 0 and "Traceback" not in r.err, r
    assert out.is_file() and json_lines(r.out)[-1]["epochs"] == 1
