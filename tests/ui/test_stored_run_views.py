"""After a restart a stored run's confusion cells, "All misclassified" and "Explain" work: the run's
test images come back from the dataset it names, loaded off the GUI thread (issue 27: "The test
images are not loaded for this model, so cells cannot be opened" although the data is on disk)."""

from __future__ import annotations

import numpy as np

TRAIN_TIMEOUT_MS = 120_000
LOAD_TIMEOUT_MS = 120_000


def confusion_of(labels: np.ndarray, predictions: np.ndarray, classes: int = 10) -> list[list[int]]:
    """Counted by hand: rows true label, columns predicted."""
    matrix = [[0] * classes for _ in range(classes)]
    for t, p in zip(labels.tolist(), predictions.tolist()):
        matrix[int(t)][int(p)] += 1
    return matrix


def reopen_and_select(qtbot, make_window, tmp_path, run_id: int):
    window = make_window(settings_path=tmp_path / "again.ini")
    run = window.runs[run_id]
    assert run.extra.get("test_images") is None  # a stored run: only its row
    window.runs_panel.select(run_id)
    qtbot.waitUntil(lambda: run.extra.get("test_predictions") is not None, timeout=LOAD_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.running_threads(), timeout=30_000)
    return window, run


def check_views_work(window, run) -> None:
    gallery = window.metrics_view.gallery
    assert gallery.misclassified_button.isEnabled(), gallery.caption.text()  # the test images are there
    labels, predictions = run.extra["test_labels"], run.extra["test_predictions"]
    wrong = int((labels != predictions).sum())
    assert gallery.show_misclassified() == wrong
    label = int(labels[0])
    assert gallery.show_cell(label, label) == confusion_of(labels, predictions)[label][label] > 0
    gallery.select_index(0)
    assert gallery.explain_button.isEnabled()
    seen = []
    window.results.imageOpenRequested.connect(lambda image, text, rid: seen.append(rid))
    gallery.explain_button.click()
    assert seen == [run.id]  # "Explain" names the run whose image it is


def test_a_stored_digits_run_opens_its_cells_after_a_restart(qtbot, make_window, tmp_path, tiny_config):
    first = make_window(settings_path=tmp_path / "first.ini")
    with qtbot.waitSignal(first.trainingFinished, timeout=TRAIN_TIMEOUT_MS):
        trained = first.start_training(tiny_config(epochs=1))
    qtbot.waitUntil(lambda: not first.running_threads(), timeout=10_000)
    confusion = trained.metrics.confusion
    first.shutdown()
    first.close()

    window, run = reopen_and_select(qtbot, make_window, tmp_path, trained.id)
    assert len(run.extra["test_images"]) == run.metrics.samples
    # the same test set as when it trained: the predictions give back the confusion it stored then
    assert confusion_of(run.extra["test_labels"], run.extra["test_predictions"]) == confusion
    check_views_work(window, run)


def test_a_stored_mnist_run_opens_its_cells_after_a_restart(qtbot, make_window, tmp_path, mnist_dir, monkeypatch):
    from lstm_desktop.core.models.checkpoint import load_checkpoint
    from lstm_desktop.core.data.image_sets import ENV_DATA_DIR, load_mnist_tensors
    from lstm_desktop.core.training.metrics import Metrics
    from lstm_desktop.core.files.resources import shipped_model_path
    from lstm_desktop.core.runs.evented_runs import RunStatus
    from lstm_desktop.core.runs.store import open_store

    monkeypatch.setenv(ENV_DATA_DIR, str(mnist_dir))
    shipped = shipped_model_path()
    config = load_checkpoint(shipped).config
    assert config is not None and config.dataset == "mnist"
    store = open_store()
    made = store.create_run(config, source="cli", status=RunStatus.FINISHED, checkpoint_path=str(shipped),
                            metrics=Metrics(accuracy=0.5, precision=0.5, recall=0.5, f1=0.5, samples=10_000),
                            epochs_done=config.epochs)
    store.close()

    window, run = reopen_and_select(qtbot, make_window, tmp_path, made.id)
    _, _, _, test_labels = load_mnist_tensors(mnist_dir)  # read here, from the files
    assert np.array_equal(run.extra["test_labels"], test_labels.numpy())
    assert run.extra["test_images"].shape[:2] == (10_000, 28)
    assert (run.extra["test_predictions"] == run.extra["test_labels"]).mean() > 0.98  # the shipped model reads them
    check_views_work(window, run)
