"""Accuracy, macro and per-class precision/recall/F1 and the confusion matrix, as a plain object."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np


@dataclass(frozen=True)
class ClassMetrics:
    label: int
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Metrics:
    """Test-set scores computed as in the notebook (macro averages, zero_division=0)."""

    accuracy: float
    precision: float
    recall: float
    f1: float
    per_class: list[ClassMetrics] = field(default_factory=list)
    confusion: list[list[int]] = field(default_factory=list)  # rows: true label, cols: predicted
    samples: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Metrics":
        per_class = [ClassMetrics(**c) for c in data.get("per_class", [])]
        return cls(accuracy=float(data["accuracy"]), precision=float(data["precision"]),
                   recall=float(data["recall"]), f1=float(data["f1"]), per_class=per_class,
                   confusion=[list(map(int, r)) for r in data.get("confusion", [])],
                   samples=int(data.get("samples", 0)))

    def report(self) -> str:
        """A table in the spirit of sklearn's classification_report."""
        lines = [f"{'class':>7} {'precision':>10} {'recall':>10} {'f1':>10} {'support':>9}"]
        for c in self.per_class:
            lines.append(f"{c.label:>7} {c.precision:>10.4f} {c.recall:>10.4f} {c.f1:>10.4f} {c.support:>9}")
        lines.append("")
        lines.append(f"{'macro':>7} {self.precision:>10.4f} {self.recall:>10.4f} {self.f1:>10.4f} {self.samples:>9}")
        lines.append(f"accuracy {self.accuracy * 100:.2f}% on {self.samples:,} test samples")
        return "\n".join(lines)


def load_metric_functions():
    """scikit-learn's metric functions, imported on first use (the import takes about a second).

    The app calls this at start-up, off the GUI thread: an import holds the GIL in long stretches,
    and done at the end of a run it would freeze the window while the last epoch's curves settle.
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    return confusion_matrix, precision_recall_fscore_support


def compute_metrics(y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray,
                    num_classes: int = 10) -> Metrics:
    confusion_matrix, precision_recall_fscore_support = load_metric_functions()

    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    labels = list(range(num_classes))
    if len(y_true) == 0:  # recent scikit-learn raises on empty input; nothing scored is all zeros
        return Metrics(0.0, 0.0, 0.0, 0.0, [ClassMetrics(i, 0.0, 0.0, 0.0, 0) for i in labels],
                       [[0] * num_classes for _ in labels], 0)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    # macro over the labels that occur in y_true or y_pred, exactly as sklearn's default labels=None
    present = np.isin(labels, np.union1d(y_true, y_pred))
    mp, mr, mf = (float(v[present].mean()) if present.any() else 0.0 for v in (p, r, f))
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    per_class = [ClassMetrics(i, float(p[i]), float(r[i]), float(f[i]), int(s[i])) for i in labels]
    accuracy = float((y_true == y_pred).mean()) if len(y_true) else 0.0
    return Metrics(accuracy, mp, mr, mf, per_class, cm.tolist(), int(len(y_true)))
