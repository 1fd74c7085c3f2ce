"""`lstm-desktop devices`: the compute devices on this machine."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("devices", help="list the compute devices on this machine")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lstm_desktop.core.training.devices import available_devices

    for d in available_devices():
        print(f"{d.id:10} {d.label}")
    return 0
