"""Operating-system failures become one message in one place (core/files/oserrors.py): torch's wrapped
ENOSPC, permissions for a normal user, concurrent saves, and termination signals mid-training."""

from __future__ import annotations

import errno
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from lstm_desktop.core.models.checkpoint import load_checkpoint, save_checkpoint
from lstm_desktop.core.errors import CheckpointError, DataError
from lstm_desktop.core.files.oserrors import as_os_error, os_error, os_errors

from fault_helpers import as_nobody, temp_files, tiny_checkpoint
from fresh_processes import release, waiting_child

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("exc, code", [
    (RuntimeError("[enforce fail at inline_container.cc:858] . PytorchStreamWriter failed writing file data/0: "
                  "file write failed"), errno.EIO),
    (RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 4352 vs 4246"), errno.EIO),
    (RuntimeError("File write failed: No space left on device"), errno.ENOSPC),
    (RuntimeError("write failed with errno 28"), errno.ENOSPC),
    (OSError(errno.ENOSPC, "No space left on device"), errno.ENOSPC),
    (OSError(errno.EROFS, "Read-only file system"), errno.EROFS),
    (PermissionError(errno.EACCES, "Permission denied"), errno.EACCES),
])
def test_torch_and_os_write_failures_are_recognised(exc, code):
    found = as_os_error(exc)
    assert found is not None and found.errno == code


def test_other_runtime_errors_are_not_taken_for_os_errors():
    assert as_os_error(RuntimeError("size mismatch for lstm.weight_hh_l0")) is None
    with pytest.raises(RuntimeError, match="size mismatch"):
        with os_errors("save", "x.pt", CheckpointError):
            raise RuntimeError("size mismatch")


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "the disk is full"), (errno.EACCES, "permission denied"),
                                         (errno.EROFS, "read-only"), (errno.EIO, "input/output error"),
                                         (errno.EDQUOT, "quota"), (errno.ENAMETOOLONG, "too long")])
def test_messages_are_one_line_with_a_hint(code, words):
    err = os_error(OSError(code, os.strerror(code)), "save the model to", "/x/m.pt", CheckpointError)
    assert isinstance(err, CheckpointError) and words in err.message and "/x/m.pt" in err.message
    assert "\n" not in err.message and err.hint and "\n" not in err.hint


def test_torch_enospc_during_save_is_a_message_and_keeps_the_old_file(tmp_path, monkeypatch):
    import torch

    path = save_checkpoint(tmp_path / "m.pt", tiny_checkpoint())
    blob = path.read_bytes()

    def full(obj, fh, *a, **k):
        fh.write(b"PK\x03\x04 partial")
        raise RuntimeError("[enforce fail at inline_container.cc:858] . PytorchStreamWriter failed writing file "
                           "data/3: file write failed")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(CheckpointError, match="Cannot save the model to .*m.pt: an input/output error"):
        save_checkpoint(path, tiny_checkpoint(hidden=16))
    assert path.read_bytes() == blob and temp_files(tmp_path) == []


def _open_dir(tmp_path: Path) -> Path:
    folder = Path("/tmp") / f"lstm-faults-os-{os.getpid()}-{tmp_path.name}"
    folder.mkdir(mode=0o755)
    return folder


def test_unreadable_checkpoint_and_image_for_a_normal_user(tmp_path):
    import shutil

    from PIL import Image

    folder = _open_dir(tmp_path)
    try:
        model = save_checkpoint(folder / "private.pt", tiny_checkpoint())
        Image.new("L", (28, 28)).save(folder / "private.png")
        for p in (model, folder / "private.png"):
            os.chmod(p, 0o600)  # root's, not nobody's
        code = ("from lstm_desktop.core.drawing.images import load_image\nfrom lstm_desktop.core.models.checkpoint import "
                "load_checkpoint\nfrom lstm_desktop.core.errors import LstmDesktopError\n"
                f"for f, p in ((load_image, {str(folder / 'private.png')!r}), (load_checkpoint, {str(model)!r})):\n"
                "    try:\n        f(p)\n        print('read it')\n"
                "    except LstmDesktopError as e:\n        print(e.message)\n")
        done = as_nobody(code, timeout=120)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done
        image_line, model_line = done.stdout.strip().splitlines()
        assert image_line == f"{folder / 'private.png'}: permission denied."
        assert model_line == f"Cannot read {model}: permission denied."
    finally:
        shutil.rmtree(folder)


def test_concurrent_saves_of_one_file_leave_one_whole_model(tmp_path):
    target = tmp_path / "m.pt"
    models = [tiny_checkpoint(hidden=h) for h in (8, 16, 24, 32)]
    errors: list[BaseException] = []

    def writer(ck):
        try:
            for _ in range(5):
                save_checkpoint(target, ck)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(m,)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and load_checkpoint(target).spec.hidden in (8, 16, 24, 32)
    assert temp_files(tmp_path) == []


SIGNALLED_SETUP = """
import signal, sys
from pathlib import Path
import torch
torch.set_num_threads(1)
for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
    signal.signal(s, signal.SIG_DFL)  # as in a fresh `lstm-desktop train` process, whatever our parent ignores
from lstm_desktop.core.training.config import TrainConfig
from lstm_desktop.core.data.image_sets import digits_bundle
from lstm_desktop.core.training.session import run_training
data = digits_bundle(val_size=50)
"""
SIGNALLED_BODY = """
config = TrainConfig.for_dataset("digits", hidden=16, epochs=200, val_size=50, batch_size=128)
run_training(config, out=Path(sys.argv[1]), data=data, run_dir=Path(sys.argv[2]))
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT])
def test_termination_signals_mid_training_keep_the_good_model(sig, tmp_path):
    from lstm_desktop.core.training.epoch_callbacks import RUN_MODEL

    target = save_checkpoint(tmp_path / "good.pt", tiny_checkpoint(accuracy=0.978))
    blob = target.read_bytes()
    run_dir = tmp_path / "run"
    err = tmp_path / "child.err"
    proc = waiting_child(SIGNALLED_SETUP, SIGNALLED_BODY, [str(target), str(run_dir)], err)  # fresh, never a fork
    try:
        release(proc, err)
        deadline = time.monotonic() + 60
        while not (run_dir / RUN_MODEL).exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.2)
        proc.send_signal(sig)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()
    assert code == -sig, err.read_text()[-3000:]
    assert target.read_bytes() == blob  # never replaced by the interrupted run
    assert load_checkpoint(run_dir / RUN_MODEL).spec.hidden == 16  # which keeps its last finished epoch


def test_data_error_messages_name_the_file_for_odd_os_errors(tmp_path):
    with pytest.raises(DataError, match="name is too long"):
        with os_errors("read", tmp_path / ("x" * 300), DataError):
            open(tmp_path / ("x" * 300))
