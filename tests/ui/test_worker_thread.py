"""WorkerThread: a finished worker is handed back to the GUI thread, never destroyed on its own."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from lstm_desktop.ui.worker import TaskWorker, WorkerThread


def test_finished_worker_lives_on_the_gui_thread_and_the_thread_ends(qtbot):
    worker = TaskWorker(lambda control, progress: 42, "answer")
    job = WorkerThread(worker, "test-worker")
    with qtbot.waitSignal(worker.succeeded, timeout=30_000) as got, qtbot.waitSignal(job.thread.finished,
                                                                                        timeout=30_000):
        job.start()
    assert got.args == [42]
    # Destroyed on its own thread, a PySide QObject can deadlock with the GUI thread (Qt's
    # connection lock vs the GIL); handed back, Python frees it here.
    assert worker.thread() == QCoreApplication.instance().thread()
    assert job.wait(5_000) and not job.is_running()
    job.release()
