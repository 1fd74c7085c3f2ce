"""Guard against the PySide6 6.12.0 bug that loses a reference to None on every QPainter draw call.

On CPython < 3.12 (where None is not immortal) that bug aborts the process with "none_dealloc"
after a few thousand paints, i.e. a few seconds of live plotting. pyproject.toml excludes 6.12 on
those Pythons (checked below against the real version numbers); the painting test proves the
installed binding is clean. It runs in a subprocess so that a binding with the bug fails this test
with an explanation instead of killing pytest, and it first checks that its probe sees a known drop
of None's references: on Python >= 3.12 None is immortal, its count never moves, the bug cannot
abort anything and there is nothing to measure, so the test says so (skip) instead of passing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ITERATIONS = 20_000       # x 9 draw calls on a QImage
PLOT_REPAINTS = 600       # synchronous repaints of a pyqtgraph PlotWidget with changing data
ALLOWED_DROP = 500        # ordinary churn; the bug drops one reference per draw call (> 180,000)
PROBE_DROP = 1_000        # references to None the script drops (and restores) to check its probe

SCRIPT = textwrap.dedent(f"""
    import gc, json, os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import numpy as np
    from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF
    from PySide6.QtWidgets import QApplication
    import pyqtgraph as pg

    app = QApplication([])

    def none_refs():
        gc.collect()
        return sys.getrefcount(None)

    report = {{"python": sys.version.split()[0], "pyside": __import__("PySide6").__version__}}
    # the probe must see a drop it knows: drop {PROBE_DROP} references to None (far fewer than it
    # has, so it cannot reach zero), measure, and give them back
    import ctypes
    ctypes.pythonapi.Py_DecRef.argtypes = ctypes.pythonapi.Py_IncRef.argtypes = [ctypes.py_object]
    before = none_refs()
    if before > 4 * {PROBE_DROP}:
        for _ in range({PROBE_DROP}):
            ctypes.pythonapi.Py_DecRef(None)
        report["probe_sees"] = before - none_refs()
        for _ in range({PROBE_DROP}):
            ctypes.pythonapi.Py_IncRef(None)
    else:
        report["probe_sees"] = 0
    image = QImage(128, 128, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    pen = QPen(QColor("#1f77b4"), 1.5)
    polygon = QPolygonF([QPointF(1, 1), QPointF(50, 9), QPointF(90, 70)])
    report["before_qpainter"] = none_refs()
    painter = QPainter(image)
    painter.setPen(pen)
    for i in range({ITERATIONS}):
        x = float(i % 100)
        painter.drawLine(QLineF(0.0, 0.0, x, 100.0))
        painter.drawLine(0, 0, int(x), 50)
        painter.drawRect(QRectF(x, 5.0, 10.0, 10.0))
        painter.fillRect(QRectF(x, 20.0, 5.0, 5.0), QColor("red"))
        painter.drawEllipse(QPointF(x, 40.0), 3.0, 3.0)
        painter.drawPoint(QPointF(x, 60.0))
        painter.drawPolyline(polygon)
        painter.drawText(QPointF(x, 80.0), "7")
        painter.setPen(pen)
    painter.end()
    report["after_qpainter"] = none_refs()

    pg.setConfigOptions(antialias=True)
    widget = pg.PlotWidget()
    widget.resize(400, 300)
    widget.show()
    curve = widget.plot(pen=pg.mkPen("b", width=2), symbol="o", symbolSize=4)
    x = np.linspace(0, 5, 400)
    app.processEvents()
    report["before_plot"] = none_refs()
    for i in range({PLOT_REPAINTS}):
        curve.setData(x, np.sin(x * (1 + i % 7)) + i * 1e-3)
        widget.viewport().repaint()
    app.processEvents()
    report["after_plot"] = none_refs()
    widget.close()
    print("REPORT " + json.dumps(report))
""")


def test_painting_does_not_leak_references_to_none():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("REPORT ")]
    if proc.returncode != 0 or not lines:
        pytest.fail("Painting aborted the interpreter (exit code %s). This is the PySide6 6.12.0 bug that "
                    "drops a reference to None on every QPainter call (CPython < 3.12): install "
                    "PySide6 < 6.12 or use Python >= 3.12.\nstderr:\n%s"
                    % (proc.returncode, proc.stderr[-3000:]), pytrace=False)
    report = json.loads(lines[-1][len("REPORT "):])
    if report["probe_sees"] != PROBE_DROP:
        if sys.version_info >= (3, 12):
            pytest.skip(f"None is immortal on Python {report['python']}: its reference count never "
                        "changes, so the PySide6 6.12.0 bug cannot abort and cannot be measured")
        pytest.fail(f"the probe saw {report['probe_sees']} of {PROBE_DROP} dropped references to None "
                    f"({report}): it cannot detect the bug", pytrace=False)
    qpainter_drop = report["before_qpainter"] - report["after_qpainter"]
    plot_drop = report["before_plot"] - report["after_plot"]
    assert qpainter_drop <= ALLOWED_DROP, (
        f"{ITERATIONS * 9:,} QPainter calls lost {qpainter_drop:,} references to None ({report}); "
        "this PySide6 build has the 6.12.0 QPainter refcount bug")
    assert plot_drop <= ALLOWED_DROP, (
        f"{PLOT_REPAINTS} PlotWidget repaints lost {plot_drop:,} references to None ({report})")


def _pyside_requirements() -> list[Requirement]:
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    requirements = [Requirement(r) for r in pyproject["project"]["dependencies"]]
    return [r for r in requirements if r.name.lower().startswith("pyside6")]


@pytest.mark.parametrize("python, allowed, refused", [
    ("3.11", ["6.11.3", "6.6.0"], ["6.12.0", "6.12.1"]),  # None is mortal: 6.12 aborts, so it is excluded
    ("3.12", ["6.11.3", "6.12.0"], []),  # None is immortal: 6.12 is harmless
    ("3.13", ["6.12.0"], []),
])
def test_pyproject_excludes_pyside_6_12_only_where_none_is_mortal(python, allowed, refused):
    """The marker in pyproject.toml, read with the same rules pip uses."""
    env = {"python_version": python, "python_full_version": python + ".0"}
    active = [r for r in _pyside_requirements() if r.marker is None or r.marker.evaluate(env)]
    assert len(active) == 1, f"exactly one PySide6 requirement applies on Python {python}: {active}"
    for version in allowed:
        assert active[0].specifier.contains(version), f"PySide6 {version} refused on Python {python}"
    for version in refused:
        assert not active[0].specifier.contains(version), f"PySide6 {version} allowed on Python {python}"


def test_the_installed_binding_is_not_the_excluded_one():
    from PySide6 import __version__ as pyside

    major_minor = tuple(int(p) for p in pyside.split(".")[:2])
    assert sys.version_info >= (3, 12) or major_minor != (6, 12), (
        f"PySide6 {pyside} on Python {sys.version.split()[0]}: the combination pyproject.toml excludes")
