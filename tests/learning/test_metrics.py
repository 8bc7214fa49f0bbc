"""The paper's metrics against hand-computed cases, including empty sets."""

import numpy as np
import pytest

from eels_core.learning.metrics import (
    choose_threshold,
    evaluate,
    exact_accuracy,
    fit_edge_thresholds,
    per_element_confusion,
    per_spectrum_scores,
    psnr,
    recognition_accuracy,
)

T = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 1], [1, 1, 1, 0]])
P = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 0]])


def test_per_spectrum_hand_computed():
    s = per_spectrum_scores(T, P)
    # spectrum 0: NE_c=1, NE_p=1, NE_r=2 -> P=1, R=0.5, F1=2/3
    # spectrum 1: NE_c=1, NE_p=2, NE_r=1 -> P=0.5, R=1, F1=2/3
    # spectrum 2: nothing real, nothing predicted -> 0/0 = 1 everywhere
    # spectrum 3: two real, none predicted -> P = 0/0 = 1, R = 0, F1 = 0
    # spectrum 4: exact
    np.testing.assert_allclose(s.precision, [1, 0.5, 1, 1, 1])
    np.testing.assert_allclose(s.recall, [0.5, 1, 1, 0, 1])
    np.testing.assert_allclose(s.f1, [2 / 3, 2 / 3, 1, 0, 1])


def test_accuracies_hand_computed():
    assert exact_accuracy(T, P) == pytest.approx(2 / 5)  # spectra 2 and 4
    assert recognition_accuracy(T, P) == pytest.approx(3 / 5)  # recall 1: spectra 1, 2, 4
    r = evaluate(T, P)
    assert r.f1 == pytest.approx((2 / 3 + 2 / 3 + 1 + 0 + 1) / 5)
    assert r.precision == pytest.approx(4.5 / 5) and r.recall == pytest.approx(3.5 / 5)
    assert r.n_spectra == 5


def test_false_positive_on_empty_spectrum():
    s = per_spectrum_scores([[0, 0]], [[1, 0]])
    assert s.precision[0] == 0 and s.recall[0] == 1 and s.f1[0] == 0


def test_confusion_counts():
    c = per_element_confusion(T, P)
    assert c.shape == (4, 4)
    np.testing.assert_array_equal(c[0], [3, 0, 0, 2])  # element 0: TP FP FN TN
    np.testing.assert_array_equal(c[1], [1, 1, 1, 2])
    assert c.sum(axis=1).tolist() == [5, 5, 5, 5]


def test_threshold_chooser_finds_the_separating_threshold():
    rng = np.random.default_rng(0)
    y = rng.random((400, 5)) < 0.3
    prob = np.where(y, 0.55 + 0.1 * rng.random(y.shape), 0.45 * rng.random(y.shape))
    th, value = choose_threshold(y, prob)
    assert 0.45 <= th <= 0.55 and value == pytest.approx(1.0)
    th_bad, value_bad = choose_threshold(y, prob, candidates=[0.9])
    assert value_bad < value
    with pytest.raises(ValueError, match="metric"):
        choose_threshold(y, prob, metric="auc")


def test_edge_thresholds_separate_each_edge_at_its_own_level():
    """Edge 0's present and absent probabilities part at 0.3, edge 1's at 0.7, edge 2's at 0.5: one
    threshold for all cannot name them all right, one per edge can."""
    rng = np.random.default_rng(1)
    y = rng.random((600, 3)) < 0.4
    split = np.array([0.3, 0.7, 0.5])
    prob = np.where(y, split + (1 - split) * (0.05 + 0.9 * rng.random(y.shape)), split * 0.95 * rng.random(y.shape))
    thresholds = fit_edge_thresholds(prob, y)
    # every threshold between the highest absent and the lowest present probability separates; ties: nearest 0.5
    assert 0.285 < thresholds[0] <= 0.335 and 0.665 < thresholds[1] <= 0.715 and thresholds[2] == 0.5
    assert per_spectrum_scores(y, prob >= thresholds).f1.mean() == pytest.approx(1.0)
    _, best_single = choose_threshold(y, prob)
    assert best_single < 0.99  # no single threshold does as well
    # an edge that does not count is neither named nor true: a false high probability there is ignored
    counted = np.ones_like(y)
    counted[:, 0] = False
    noisy = prob.copy()
    noisy[:, 0] = 0.99
    assert fit_edge_thresholds(noisy, y, counted)[1:] == pytest.approx(thresholds[1:])
    assert fit_edge_thresholds(noisy, y, counted)[0] == 0.5
    with pytest.raises(ValueError, match="same"):
        fit_edge_thresholds(prob[:, :2], y)
    with pytest.raises(ValueError, match="between 0 and 1"):
        fit_edge_thresholds(prob, y, grid=[0.0, 0.5])
    with pytest.raises(ValueError, match="sweeps"):
        fit_edge_thresholds(prob, y, sweeps=0)


def test_shape_errors_and_psnr():
    with pytest.raises(ValueError, match="differ"):
        per_spectrum_scores(np.zeros((2, 3)), np.zeros((2, 4)))
    assert psnr(0.5, 0.1) == pytest.approx(5.0)
