"""Builds, caches, checks and loads the C kernel in `native/` (recurrent.c, network.c, parts.c).

- The system C compiler builds it once into the user's cache folder, keyed by the sources, the
  flags and the CPU (it is compiled with -march=native for this CPU).
- No -ffast-math: finite-math-only made inf and NaN inside exp/tanh undefined and the kernel computed
  NaN where PyTorch does not (issue 13). The cell maths uses its own vectorisable exp, so nothing is
  lost without libmvec.
- The cache is written atomically with a digest of the library beside it. On load the digest, the
  ABI number and a tiny self-test call are checked; a corrupt, empty or stale file is rebuilt once.
- It calls the sgemm that torch itself ships (MKL, exported by libtorch_cpu).
- `load_kernel` returns None where anything is missing (no compiler, a torch without MKL's sgemm,
  not x86-64 Linux), or when LSTM_DESKTOP_NO_KERNEL is set; the engine then uses the torch steps.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import math
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import torch

NATIVE = Path(__file__).with_name("native")
SOURCES = (NATIVE / "recurrent.c", NATIVE / "network.c", NATIVE / "parts.c")
FLAGS = ("-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd", "-fPIC", "-shared",
         "-pthread")  # -fopenmp-simd: only the `omp simd` reductions, no OpenMP runtime
DIMS = 13  # network.c's DIM_COUNT (parts.c's DIM_STRIDE)
FIXED = 6  # network.c's P_WEIGHTS: sgemm, set_threads, x, y, result, workspace
ABI = 1000 * DIMS + FIXED
CELLS = {"lstm": 0, "gru": 1, "rnn": 2}
_P, _F = ctypes.c_void_p, ctypes.c_float


class Kernel:
    """net_part, net_workspace and the part pool from the compiled library, bound to torch's sgemm."""

    def __init__(self, library: ctypes.CDLL, sgemm: int, set_threads: int | None) -> None:
        self.library = library
        self.sgemm = sgemm
        self.set_threads = set_threads
        self.net_part = library.net_part
        self.net_part.argtypes = [_P, _F, _P]
        self.net_part.restype = None
        self.net_workspace = library.net_workspace
        self.net_workspace.argtypes = [_P]
        self.net_workspace.restype = ctypes.c_longlong
        self.max_layers = int(library.net_max_layers())
        self.pool_create = library.pool_create
        self.pool_create.argtypes = [ctypes.c_int]
        self.pool_create.restype = _P
        self.pool_destroy = library.pool_destroy
        self.pool_destroy.argtypes = [_P]
        self.pool_destroy.restype = None
        self.pool_run = library.pool_run
        self.pool_run.argtypes = [_P, ctypes.c_int, _P, _F, _P, _P, ctypes.c_longlong, _P, _P, _P]
        self.pool_run.restype = ctypes.c_int


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lstm-desktop"


def _torch_blas() -> tuple[int, int | None] | None:
    """Addresses of the Fortran sgemm_ and of MKL_Set_Num_Threads_Local (C) that torch's CPU
    library exports (MKL on x86-64), or None."""
    library = Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"
    if not library.is_file():
        return None
    try:
        handle = ctypes.CDLL(str(library))
        sgemm = ctypes.cast(handle.sgemm_, ctypes.c_void_p).value
    except (OSError, AttributeError):
        return None
    try:
        set_threads = ctypes.cast(handle.MKL_Set_Num_Threads_Local, ctypes.c_void_p).value
    except AttributeError:
        set_threads = None
    return (sgemm, set_threads) if sgemm else None


def _cpu_identity() -> bytes:
    """The CPU's model and flags: -march=native code must not run on another CPU (a shared home)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor().encode()
    return "\n".join(next((line for line in lines if line.startswith(key)), "")
                     for key in ("model name", "flags")).encode()


def _digest_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _compile(target: Path) -> bool:
    """Build SOURCES into target, its digest beside it, both atomically; False on any failure."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so.tmp", dir=target.parent)
    os.close(fd)
    try:
        result = subprocess.run([compiler, *FLAGS, *map(str, SOURCES), "-o", tmp, "-lm"],
                                capture_output=True, timeout=120)
        if result.returncode != 0 or os.path.getsize(tmp) == 0:
            return False
        os.chmod(tmp, 0o755)
        digest = _file_digest(Path(tmp))
        fd, tmp_digest = tempfile.mkstemp(suffix=".sha256.tmp", dir=target.parent)
        with os.fdopen(fd, "w") as f:
            f.write(digest)
        os.replace(tmp_digest, _digest_path(target))
        os.replace(tmp, target)
        return True
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def self_test(kernel: Kernel) -> bool:
    """A tiny batch of two parts through the pool with all-zero weights: every logit is 0, so each
    part's loss is exactly log(10) and the gradients are finite."""
    T, B, I, H, K = 2, 2, 3, 4, 10
    dims = (ctypes.c_int * (2 * DIMS))(*((T, B, I, H, 1, 2, 1, 2, K, 0, 0, 0, 1) * 2))
    shapes = [(4 * H, I), (4 * H, H), (4 * H,), (4 * H,)] * 2 + [(2, 2 * H), (2,), (1, 2), (K, 2 * H), (K,)]
    weights = [torch.zeros(s) for s in shapes]
    total = sum(math.prod(s) for s in shapes)
    flats, results, tables, keep = [], [], [], []
    x, y = torch.randn(B, T, I), torch.tensor([1, 7])
    for _ in range(2):
        flat, result = torch.full((total,), float("nan")), torch.zeros(2)
        work = torch.empty(int(kernel.net_workspace(dims)) + 16)
        grads, at = [], 0
        for s in shapes:
            grads.append(flat.data_ptr() + 4 * at)
            at += math.prod(s)
        table = [kernel.sgemm, kernel.set_threads, x.data_ptr(), y.data_ptr(), result.data_ptr(), work.data_ptr()]
        tables.append((ctypes.c_void_p * (len(table) + 2 * len(shapes)))(*table, *(w.data_ptr() for w in weights),
                                                                          *grads))
        flats.append(flat)
        results.append(result)
        keep.append(work)
    pool = kernel.pool_create(1)
    if not pool:
        return False
    summed, both = torch.empty(total), torch.zeros(2)
    try:
        code = kernel.pool_run(pool, 2, dims, float(B), (ctypes.c_void_p * 2)(*map(ctypes.addressof, tables)),
                               (ctypes.c_void_p * 2)(*(f.data_ptr() for f in flats)), total, summed.data_ptr(),
                               (ctypes.c_void_p * 2)(*(r.data_ptr() for r in results)), both.data_ptr())
    finally:
        kernel.pool_destroy(pool)
    return (code == 0 and abs(float(both[0]) - 2 * math.log(K)) < 1e-5 and 0 <= float(both[1]) <= 4
            and bool(torch.isfinite(summed).all()) and torch.equal(summed, flats[0] + flats[1]))


def _open(target: Path, blas: tuple[int, int | None]) -> Kernel | None:
    """The library at target if its digest, ABI and self-test check out, else None."""
    try:
        digest = _digest_path(target)
        if not digest.is_file() or digest.read_text().strip() != _file_digest(target):
            return None
        library = ctypes.CDLL(str(target))
        if library.net_abi() != ABI:
            return None
        kernel = Kernel(library, *blas)
        return kernel if self_test(kernel) else None
    except (OSError, AttributeError, ValueError):
        return None


def library_path() -> Path:
    key = b"".join(p.read_bytes() for p in SOURCES) + " ".join(FLAGS).encode() + _cpu_identity()
    return cache_dir() / f"lstm_kernel-{hashlib.sha256(key).hexdigest()[:16]}.so"


@functools.cache
def load_kernel() -> Kernel | None:
    """The kernel, compiled on first use and rebuilt once if the cached one fails its checks."""
    if (os.environ.get("LSTM_DESKTOP_NO_KERNEL") or platform.system() != "Linux"
            or platform.machine() not in ("x86_64", "AMD64") or not all(p.is_file() for p in SOURCES)):
        return None
    blas = _torch_blas()
    if blas is None:
        return None
    target = library_path()
    if target.is_file():
        kernel = _open(target, blas)
        if kernel is not None:
            return kernel
    # Not there, or corrupt (digest mismatch: never loaded): build it, once.
    if not _compile(target):
        return None
    return _open(target, blas)
