"""Which compute devices exist here, named for people, and parsing of `auto|cpu|cuda[:n]|mps`."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lstm_desktop.core.errors import DeviceError


@dataclass(frozen=True)
class DeviceInfo:
    id: str  # what --device accepts
    label: str  # what a person reads


def available_devices() -> list[DeviceInfo]:
    devices = [DeviceInfo("cpu", f"CPU ({torch.get_num_threads()} threads)")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            devices.append(DeviceInfo(f"cuda:{i}", f"CUDA {i}: {props.name} ({props.total_memory / 2**30:.0f} GiB)"))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append(DeviceInfo("mps", "Apple MPS"))
    return devices


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA, then MPS, then CPU; anything else must exist or DeviceError says so."""
    name = (name or "auto").strip().lower()
    ids = [d.id for d in available_devices()]
    if name == "auto":
        for prefix in ("cuda", "mps"):
            for d in ids:
                if d.startswith(prefix):
                    return torch.device(d)
        return torch.device("cpu")
    if name == "cuda":
        name = "cuda:0"
    if name not in ids:
        raise DeviceError(f"Device {name!r} is not available on this machine.",
                          f"Available: {', '.join(['auto'] + ids)} (see `lstm-desktop devices`).")
    return torch.device(name)
