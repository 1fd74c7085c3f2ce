"""Metrics against scikit-learn called directly, as the notebook did."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support,
                             precision_score, recall_score)

from lstm_desktop.core.metrics import Metrics, compute_metrics

Y_TRUE = np.array([0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 6, 7, 8, 9, 9, 9, 5, 6])
Y_PRED = np.array([0, 1, 1, 1, 2, 2, 2, 3, 0, 3, 4, 5, 7, 7, 8, 9, 8, 9, 5, 6])


def _sklearn(y_true, y_pred):
    kw = dict(average="macro", zero_division=0)
    return (accuracy_score(y_true, y_pred), precision_score(y_true, y_pred, **kw),
            recall_score(y_true, y_pred, **kw), f1_score(y_true, y_pred, **kw))


@pytest.mark.parametrize("y_true, y_pred", [
    (Y_TRUE, Y_PRED),
    ([0, 0, 1, 1], [0, 2, 1, 1]),  # a predicted class that never occurs counts in the macro mean
    ([3, 3, 3], [3, 3, 3]),  # only one class present
    ([0, 1, 2, 3], [4, 5, 6, 7]),  # all wrong
])
def test_macro_scores_match_sklearn(y_true, y_pred):
    m = compute_metrics(y_true, y_pred)
    acc, p, r, f = _sklearn(y_true, y_pred)
    assert m.accuracy == pytest.approx(acc)
    assert m.precision == pytest.approx(p)
    assert m.recall == pytest.approx(r)
    assert m.f1 == pytest.approx(f)


def test_per_class_scores_and_support_match_sklearn():
    m = compute_metrics(Y_TRUE, Y_PRED)
    p, r, f, s = precision_recall_fscore_support(Y_TRUE, Y_PRED, labels=list(range(10)), zero_division=0)
    assert [c.label for c in m.per_class] == list(range(10))
    for c in m.per_class:
        assert (c.precision, c.recall, c.f1) == pytest.approx((p[c.label], r[c.label], f[c.label]))
        assert c.support == s[c.label] == int((Y_TRUE == c.label).sum())
    assert sum(c.support for c in m.per_class) == len(Y_TRUE) == m.samples


def test_confusion_matrix_rows_are_true_labels_and_sums_match():
    m = compute_metrics(Y_TRUE, Y_PRED)
    cm = np.array(m.confusion)
    assert cm.shape == (10, 10)
    assert np.array_equal(cm, confusion_matrix(Y_TRUE, Y_PRED, labels=list(range(10))))
    assert cm.sum() == len(Y_TRUE)
    assert np.array_equal(cm.sum(1), np.bincount(Y_TRUE, minlength=10))
    assert np.array_equal(cm.sum(0), np.bincount(Y_PRED, minlength=10))
    assert np.trace(cm) == int((Y_TRUE == Y_PRED).sum())
    assert cm[3, 0] == 1  # one true 3 predicted as 0


def test_missing_classes_still_get_a_row():
    m = compute_metrics([0, 1], [0, 1], num_classes=10)
    assert len(m.per_class) == 10 and m.per_class[5].support == 0
    assert np.array(m.confusion).shape == (10, 10)
    assert m.precision == 1.0 and m.accuracy == 1.0


def test_empty_input_does_not_crash():
    m = compute_metrics([], [])
    assert m.samples == 0 and m.accuracy == 0.0 and m.precision == 0.0
    assert len(m.per_class) == 10 and np.array(m.confusion).sum() == 0
    assert "0 test samples" in m.report()


def test_report_lists_every_class_and_the_totals():
    m = compute_metrics(Y_TRUE, Y_PRED)
    text = m.report()
    lines = text.splitlines()
    for label in range(10):
        assert any(line.split() and line.split()[0] == str(label) for line in lines)
    assert "macro" in text and f"{m.f1:.4f}" in text
    assert f"accuracy {m.accuracy * 100:.2f}% on 20 test samples" in text


def test_dict_round_trip():
    m = compute_metrics(Y_TRUE, Y_PRED)
    assert Metrics.from_dict(m.to_dict()) == m
