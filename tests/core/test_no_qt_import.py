"""The core and the CLI never load Qt or pyqtgraph: the UI observes the core, not the other way round."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import importlib, pkgutil, sys
    import lstm_desktop.core
    names = sorted(m.name for m in pkgutil.walk_packages(lstm_desktop.core.__path__, "lstm_desktop.core."))
    for name in names:
        importlib.import_module(name)
    import lstm_desktop.cli
    from lstm_desktop.cli import build_parser
    build_parser()
    bad = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6"))
    print("IMPORTED", len(names), ",".join(names))
    print("QT", ",".join(bad))
    print("UI", ",".join(sorted(m for m in sys.modules if m.startswith("lstm_desktop.ui"))))
""")


def test_core_and_cli_import_no_qt():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) if " " in line else (line, "") for line in proc.stdout.splitlines())
    imported = lines["IMPORTED"].split(" ", 1)[1].split(",")
    for expected in ("training.config", "data.image_sets", "training.engine", "models.networks", "models.checkpoint",
                     "training.session", "training.metrics", "training.devices", "steps.kernel_step", "runs.store"):
        assert f"lstm_desktop.core.{expected}" in imported
    assert lines["QT"] == "", f"Qt modules loaded by the core or the CLI: {lines['QT']}"
    assert lines["UI"] == "", f"the core or the CLI imported the UI package: {lines['UI']}"
