"""Metrics: per-class scores and the confusion matrix against values worked by hand; the macro means
against scikit-learn's own averaging functions (the app computes them itself, over the classes present)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from lstm_desktop.core.training.metrics import Metrics, compute_metrics

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


# A small example worked by hand. Rows are true labels, columns predictions:
#   true 0: [1, 1, 0]   class 0: precision 1/1, recall 1/2, F1 2*(1*1/2)/(1+1/2) = 2/3, support 2
#   true 1: [0, 2, 1]   class 1: precision 2/3, recall 2/3, F1 2/3, support 3
#   true 2: [0, 0, 1]   class 2: precision 1/2, recall 1/1, F1 2*(1/2*1)/(1/2+1) = 2/3, support 1
SMALL_TRUE = [0, 0, 1, 1, 1, 2]
SMALL_PRED = [0, 1, 1, 1, 2, 2]


def test_per_class_scores_and_support_by_hand():
    m = compute_metrics(SMALL_TRUE, SMALL_PRED, num_classes=10)
    assert [c.label for c in m.per_class] == list(range(10))
    expected = {0: (1.0, 1 / 2, 2 / 3, 2), 1: (2 / 3, 2 / 3, 2 / 3, 3), 2: (1 / 2, 1.0, 2 / 3, 1)}
    for c in m.per_class:
        want = expected.get(c.label, (0.0, 0.0, 0.0, 0))  # never true nor predicted: zeros, no warning
        assert (c.precision, c.recall, c.f1) == pytest.approx(want[:3])
        assert c.support == want[3]
    # macro means over the classes that occur (0, 1, 2), not over all ten
    assert (m.accuracy, m.precision, m.recall, m.f1) == pytest.approx((4 / 6, 13 / 18, 13 / 18, 2 / 3))
    assert m.samples == 6


def test_confusion_matrix_by_hand_rows_are_true_labels():
    m = compute_metrics(SMALL_TRUE, SMALL_PRED, num_classes=3)
    assert m.confusion == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    big = np.array(compute_metrics(Y_TRUE, Y_PRED).confusion)
    assert big.shape == (10, 10) and big.sum() == len(Y_TRUE)
    assert np.array_equal(big.sum(1), np.bincount(Y_TRUE, minlength=10))
    assert np.array_equal(big.sum(0), np.bincount(Y_PRED, minlength=10))
    assert np.trace(big) == int((Y_TRUE == Y_PRED).sum())
    assert big[3, 0] == 1  # one true 3 predicted as 0


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
