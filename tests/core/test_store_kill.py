"""Done-when checks of the run store: CLI trainings killed with SIGKILL at random moments (after their
first epoch) are all listed `interrupted` with a checkpoint `evaluate` loads, the database passing
`PRAGMA integrity_check` after every kill; and two processes training into one store both complete.

The kill loop runs in a helper process that imports the CLI once and forks each training from it
(a real `lstm-desktop train` in a fresh process, minus 3 s of imports each), so 20 kills fit in well
under two minutes on a loaded machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lstm_desktop.cli import main
from lstm_desktop.core.checkpoint import load_checkpoint
from lstm_desktop.core.runs import RunStatus
from lstm_desktop.core.store import open_store

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
TINY = ["--dataset", "digits", "--hidden", "16", "--val-size", "100", "--quiet"]

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL (POSIX)")

KILLER = textwrap.dedent("""
    import json, os, random, signal, sqlite3, sys, time
    home, kills, tiny = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    os.environ["LSTM_DESKTOP_HOME"] = home
    from lstm_desktop.cli import main
    import lstm_desktop.core.session, lstm_desktop.core.recorder, sklearn.datasets, sklearn.metrics  # noqa
    import torch._dynamo  # noqa: F401 - torch.optim imports it on first use: 1-10 s per child otherwise
    from lstm_desktop.core.store import open_store
    open_store(home).close()
    rng = random.Random(12)
    db = os.path.join(home, "runs.sqlite")
    report = []
    start = time.time()
    for i in range(kills):
        forked = time.time()
        pid = os.fork()
        if pid == 0:  # the training: `lstm-desktop train ... --epochs 1000`, killed long before its end
            import torch
            torch.set_num_threads(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os._exit(main(["train", *tiny, "--epochs", "1000", "--out", os.path.join(os.path.dirname(home), f"out{i}.pt")]))
        conn = sqlite3.connect(db, timeout=10)
        deadline = time.time() + 90
        while time.time() < deadline:
            row = conn.execute("SELECT epochs_done FROM runs WHERE id = ?", (i + 1,)).fetchone()
            if row and row[0] >= 1:
                break
            time.sleep(0.02)
        else:
            os.kill(pid, signal.SIGKILL)
            raise SystemExit(f"run {i + 1} never finished an epoch")
        first_epoch = time.time() - forked
        delay = rng.uniform(0.0, 1.0)  # anywhere: in a batch, the epoch's transaction, a checkpoint write
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        conn.close()
        report.append({"run": i + 1, "delay": round(delay, 3), "integrity": check,
                       "first_epoch_s": round(first_epoch, 2)})
    print(json.dumps({"kills": report, "seconds": round(time.time() - start, 1)}))
""")


def test_twenty_cli_trainings_killed_at_random_are_all_interrupted_with_a_loadable_checkpoint(
        tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    proc = subprocess.Popen([sys.executable, "-c", KILLER, str(home), str(KILLS), json.dumps(TINY)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the helper and the training it forked
        out, err = proc.communicate()
    assert proc.returncode == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    report = result["kills"]
    sys.__stdout__.write(f"\n{KILLS} kills in {result['seconds']} s: {report}\n")
    assert len(report) == KILLS and all(r["integrity"] == "ok" for r in report)

    monkeypatch.setenv("LSTM_DESKTOP_HOME", str(home))
    store = open_store(home)  # the open marks the dead runs interrupted
    assert store.integrity_check() == "ok"
    runs = store.list_runs()
    assert len(runs) == KILLS and all(r.status is RunStatus.INTERRUPTED for r in runs), \
        [(r.id, r.status) for r in runs]
    for run in runs:
        path = store.absolute(run.checkpoint_path)
        assert run.epochs_done >= 1 and path == home / "runs" / str(run.id) / "model.pt"
        # the file is at most one epoch ahead of the database (killed between its rename and the update)
        assert len(load_checkpoint(path).history["epoch"]) in (run.epochs_done, run.epochs_done + 1)
        assert len(store.get_curves(run.id)["epoch"]) >= run.epochs_done
    for run in runs:
        code = main(["evaluate", str(run.id), "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert 0.0 <= json.loads(out.strip().splitlines()[-1])["accuracy"] <= 1.0


def test_two_processes_training_into_one_store_both_complete(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "LSTM_DESKTOP_HOME": str(home), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "lstm_desktop", "train", *TINY, "--epochs", "4", "--json",
                               "--seed", str(seed), "--out", str(tmp_path / f"m{seed}.pt")], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    ids = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        ids.append(json.loads(out.strip().splitlines()[-1])["run_id"])
    store = open_store(home)
    runs = store.list_runs()
    assert sorted(ids) == [r.id for r in runs] == [1, 2]
    assert all(r.status is RunStatus.FINISHED and r.epochs_done == 4 and r.accuracy is not None for r in runs)
    assert {r.config.seed for r in runs} == {1, 2}
    assert all(len(store.get_curves(r.id)["val_loss"]) == 4 for r in runs)
    assert store.integrity_check() == "ok"
