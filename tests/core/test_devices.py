"""Device listing and parsing of auto|cpu|cuda[:n]|mps."""

from __future__ import annotations

import pytest
import torch

from lstm_desktop.core.training.devices import available_devices, resolve_device
from lstm_desktop.core.errors import DeviceError

HAS_ACCEL = torch.cuda.is_available() or bool(getattr(torch.backends, "mps", None)
                                              and torch.backends.mps.is_available())


def test_cpu_is_always_listed_first():
    devices = available_devices()
    assert devices[0].id == "cpu" and "CPU" in devices[0].label
    ids = [d.id for d in devices]
    assert len(ids) == len(set(ids))
    if torch.cuda.is_available():
        assert f"cuda:{torch.cuda.device_count() - 1}" in ids


def test_cpu_resolves_with_any_spelling():
    for name in ("cpu", " CPU ", "Cpu"):
        assert resolve_device(name) == torch.device("cpu")


@pytest.mark.skipif(HAS_ACCEL, reason="auto picks the accelerator on this machine")
def test_auto_is_cpu_without_an_accelerator():
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("") == torch.device("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_auto_prefers_cuda():
    assert resolve_device("auto").type == "cuda"
    assert resolve_device("cuda") == torch.device("cuda:0")


@pytest.mark.parametrize("name", ["cuda:7", "cuda:99", "tpu", "gpu"])
def test_unknown_device_lists_what_exists(name):
    if name == "cuda:7" and torch.cuda.device_count() > 7:
        pytest.skip("this machine has 8 GPUs")
    with pytest.raises(DeviceError) as info:
        resolve_device(name)
    text = str(info.value)
    assert repr(name) in text and "not available" in text
    assert "Available: auto, cpu" in text
    for d in available_devices():
        assert d.id in text


@pytest.mark.skipif(torch.cuda.is_available(), reason="cuda exists here")
def test_plain_cuda_without_cuda_is_a_device_error():
    with pytest.raises(DeviceError, match="cuda:0"):
        resolve_device("cuda")
