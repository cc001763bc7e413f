"""Machine choices: which engine, precision, memory format and compilation train fastest here, measured
once per machine and kept. An edit here changes speed, not results: every choice computes the same
function (the record stores the choices a run made).

``engine="auto"`` measures both engines on the machine at hand (:func:`choose_engine`), and
``precision="auto"`` fp32 against bf16 autocast (:func:`choose_precision`); on a CPU, for a run long
enough to pay for it, the stacked step may be compiled with ``torch.compile`` (:func:`choose_compiled`).
Measurements are kept in the calibration file (:func:`calibration_file`), keyed by what they depend on
and a version number that is raised when what they measure changes. On a 2-core EPYC with avx512_bf16
the ConvNets ran fastest sequential in bf16 with channels_last, the perceptron and MLPs stacked and
compiled; on an H200 every model stacked, its whole step one CUDA graph (benchmarks/results/).
:func:`make_engine` builds the model of a config and the engine these choices name.
"""

from __future__ import annotations

import ctypes
import functools
import json
import math
import os
import platform
import time
from pathlib import Path

import torch

from . import data, models, noise, switches
from .engines import Engine, Sequential, Stacked, distributed
from .graphs import cuda_graphs_enabled, fixed_step


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


@functools.cache  # once per process
def keep_freed_memory() -> bool:
    """Have glibc's malloc keep the blocks a training step frees, for the next step to reuse (Linux with
    glibc; elsewhere, or with ``NLCORE_MALLOC=0``, nothing happens). Returns whether it applies. Called by
    :func:`make_engine` on a CPU; the setting is the whole process's, so a benchmark's baseline in the
    same process gets it too.

    torch takes CPU tensors from malloc. glibc serves blocks above 128 KiB (a threshold it raises as such
    blocks are freed, up to 32 MiB) with fresh pages from ``mmap`` and returns them to the OS when they
    are freed, so a step whose temporaries are a few MiB (a compiled MLP step's buffers, a ConvNet's
    activations) faulted its pages in again at every step: in a scratch A/B on a 2-core EPYC, 250
    compiled MLP-4 steps took 690k-970k page faults and 21-25 ms a step by default, 167k and 18.5-20.5 ms
    with this. Here blocks up to 32 MiB come from the heap, and each arena's heap is trimmed only when more
    than 1 GiB of it is free: memory freed after a peak may stay with the process; the peak itself is
    that of the live tensors (``benchmarks/throughput.py``'s memory figure, 0.82 GiB, did not change).
    """
    if platform.system() != "Linux" or not switches.malloc_on():
        return False
    try:
        libc = ctypes.CDLL(None)  # this process's own C library
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
        return hasattr(libc, "gnu_get_libc_version") and libc.mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 \
            and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1
    except (OSError, AttributeError):
        return False


_CALIBRATION: dict = {}  # this process's copy of the calibration file

# The version of each kind of measurement, in its calibration key: raised when what is measured changes,
# so that an answer measured by older code is measured again, not reused.
CALIBRATION_VERSIONS = dict(
    precision=4,     # choose_precision: fp32 against bf16 autocast (+ channels_last) of the sequential engine
    engine=4,        # choose_engine: stacked against sequential at the chosen precision
    cuda_graphs=2,   # choose_engine on CUDA: which engines were timed as graph replays
    eager_step_s=2,  # choose_compiled: seconds per step of the eager engine
    compiled=3,      # choose_compiled: compile time and seconds per step of the compiled stacked step
)


def _versioned(kind: str) -> tuple:
    """The head of a calibration key: the measurement's kind and its version (:data:`CALIBRATION_VERSIONS`)."""
    return (kind, CALIBRATION_VERSIONS[kind])


def calibration_file() -> Path:
    """Where measured machine choices are kept: ``$NLCORE_CALIBRATION``, else ``~/.cache/nlcore/calibration.json``."""
    return Path(switches.calibration_file() or data.cache_dir() / "calibration.json")


def _read_calibration(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def calibrated(key: tuple, measure):
    """The stored answer for ``key`` (model, shapes, machine, torch version...), measuring it on first use.

    Stored in :func:`calibration_file` under a file lock, so every process on a machine with the same
    thread count (sweeps, notebooks) makes the same choice and their runs agree bit for bit; the first
    process to need an answer measures it while the others wait. A measurement taken while the CPU was
    busy with other work is kept too: delete the file to measure again (also after a hardware change).
    """
    import fcntl

    k = json.dumps([platform.node(), platform.processor(), torch.__version__, torch.get_num_threads(), *key])
    if k not in _CALIBRATION:
        path = calibration_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one process measures; the others wait and read its answer
            stored = _read_calibration(path)
            if k not in stored:
                stored[k] = measure()
                tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(stored, indent=0))
                os.replace(tmp, path)
        _CALIBRATION[k] = stored[k]
    return _CALIBRATION[k]


def _random_batch(cfg: dict, shape, device: str):
    """A fixed random batch (images, labels) for timing a step; leaves torch's global RNG alone."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(cfg["batch_size"], *shape, generator=g)
    return x.to(device), torch.randint(0, 10, (cfg["batch_size"],), generator=g).to(device)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def best_times(calls: dict, device: str = "cpu", *, repeats: int = 3, steps: int = 4, warmup: int = 2) -> dict:
    """Seconds per call of each no-argument callable in ``calls`` (name -> callable): ``warmup`` untimed
    calls each, then ``repeats`` rounds of ``steps`` timed calls, the callables taking turns round by round;
    each keeps its best round. Taking turns and keeping the best make a comparison robust to a burst of
    other work on the machine (a single timing once picked a 1.7x slower engine)."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    best = {name: math.inf for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            _sync(device)
            t = time.perf_counter()
            for _ in range(steps):
                call()
            _sync(device)
            best[name] = min(best[name], (time.perf_counter() - t) / steps)
    return best


def fastest(engines: dict, x, y, device: str, *, repeats: int = 3, steps: int = 4):
    """The key of the fastest engine in ``engines`` (name -> engine) on the batch (x, y), timed by
    :func:`best_times`. On CUDA the steps are graph replays, as :class:`Steps` runs them."""
    best = best_times({name: fixed_step(eng, x, y, device) for name, eng in engines.items()}, device,
                      repeats=repeats, steps=steps)
    return min(best, key=best.get)


def _model_key(cfg: dict) -> tuple:
    """The model in calibration keys: its name, its MLP dropout where it has one (a model with dropout
    steps at another speed) and ConvNet-6's padding where it is not "same" (other shapes). At those
    fields' earlier values the key is the model's name alone, so measurements already stored still apply."""
    return ((cfg["model"],) + (("mlp_dropout", cfg["mlp_dropout"]) if cfg.get("mlp_dropout") else ())
            + (("conv_padding", cfg["conv_padding"]) if cfg.get("conv_padding", "same") != "same" else ()))


def choose_precision(cfg: dict, net, device: str, shape) -> tuple[str, bool]:
    """(precision, channels_last): cfg's choice, or on 'auto' the faster of fp32 and bf16 autocast (with
    channels_last for convolutions) for this model, measured on this machine (:func:`calibrated`)."""
    conv = any(isinstance(m, torch.nn.Conv2d) for m in net.modules())
    if cfg["precision"] != "auto":
        return cfg["precision"], conv and cfg["precision"] == "bf16"
    if device.startswith("cuda"):
        return "bf16", conv

    def measure():
        x, y = _random_batch(cfg, shape, device)
        engines = {o: Sequential(net, [0.1], cfg, device, precision=o[0], channels_last=o[1])
                   for o in (("fp32", False), ("bf16", conv))}
        return list(fastest(engines, x, y, device))

    return tuple(calibrated((*_versioned("precision"), *_model_key(cfg), list(shape), cfg["batch_size"], device),
                            measure))


def choose_engine(cfg: dict, net, device: str = "cpu", shape=(1, 28, 28), *, precision: str = "fp32",
                  channels_last: bool = False) -> str:
    """cfg's engine, or on 'auto' the faster of stacked and sequential for this model, lr grid and machine,
    measured over a few steps (:func:`calibrated`). Batch-norm models train sequentially (their running
    statistics do not vmap), and so does a grid of one learning rate."""
    if cfg["engine"] != "auto":
        return cfg["engine"]
    if models.has_batchnorm(net) or len(cfg["lrs"]) == 1 or distributed():
        return "sequential"

    def measure():
        x, y = _random_batch(cfg, shape, device)
        return fastest({name: cls(net, cfg["lrs"], cfg, device, precision=precision, channels_last=channels_last)
                        for name, cls in (("stacked", Stacked), ("sequential", Sequential))}, x, y, device)

    key = (*_versioned("engine"), *_model_key(cfg), list(shape), cfg["batch_size"], len(cfg["lrs"]), precision,
           channels_last, device)
    # on CUDA the steps of each engine whose captures have not failed are graph replays
    graphed = [k for k in ("Stacked", "Sequential") if cuda_graphs_enabled(device, k)]
    return calibrated(key + ((*_versioned("cuda_graphs"), *graphed) if graphed else ()), measure)


COMPILE_WORTH_S = 30.0  # runs expected to take less than this eagerly are never compiled (compiling: 2-20 s)


def compile_enabled(device: str) -> bool:
    """torch.compile is tried on CPUs only (CUDA has its graphs), unless ``NLCORE_COMPILE=0``."""
    return device == "cpu" and switches.compile_on()


def choose_compiled(cfg: dict, net, device: str, shape, *, precision: str, channels_last: bool, eager: str,
                    steps: int | None) -> bool:
    """Whether to train the lr grid stacked with its step compiled (``torch.compile``), instead of the
    ``eager`` engine: measured on this machine (:func:`calibrated`), and only where it pays for itself.

    Two measurements, each once per machine and model: the eager engine's seconds per step; then, only for
    a run long enough that compiling could pay (``steps`` times that above :data:`COMPILE_WORTH_S`), the
    compiled stacked step's seconds per step and the seconds its compilation took. Compiled when
    ``steps * (eager - compiled) > compilation`` (``steps=None``: a run of unbounded length, as the
    benchmark times). A compilation that fails (no C++ compiler, say) is stored and never tried again.
    """
    if (not compile_enabled(device) or cfg["engine"] == "sequential" or models.has_batchnorm(net)
            or len(cfg["lrs"]) == 1 or distributed()):
        return False
    x, y = _random_batch(cfg, shape, device)
    base = ("model", *_model_key(cfg), list(shape), cfg["batch_size"], len(cfg["lrs"]), precision, channels_last,
            device)

    def seconds_per_step(eng):
        return best_times({"step": lambda: eng.step(x, y)}, device)["step"]

    cls = Stacked if eager == "stacked" else Sequential
    eager_s = calibrated((*_versioned("eager_step_s"), eager, *base),
                         lambda: seconds_per_step(cls(net, cfg["lrs"], cfg, device, precision=precision,
                                                      channels_last=channels_last)))
    if steps is not None and steps * eager_s < COMPILE_WORTH_S:
        return False

    def measure():
        try:
            eng = Stacked(net, cfg["lrs"], cfg, device, precision=precision, channels_last=channels_last, compiled=True)
            t = time.perf_counter()
            eng.step(x, y)  # compiles
            if not eng.compiled:  # the compilation failed and the step ran eagerly: no timing of that
                return dict(error=eng.compile_error)
            return dict(compile_s=time.perf_counter() - t, step_s=seconds_per_step(eng))
        except Exception as e:  # noqa: BLE001 -- whatever stops a compilation, the eager engine trains
            return dict(error=repr(e)[:500])

    c = calibrated((*_versioned("compiled"), *base), measure)
    if "error" in c:
        return False
    if steps is None:
        return c["step_s"] < eager_s
    return steps * (eager_s - c["step_s"]) > c["compile_s"]


def make_engine(cfg: dict, device: str, *, shape: tuple, classes: int, steps: int | None = None
                ) -> tuple[Engine, dict]:
    """The model of ``cfg`` (initialised from its seed) and the engine that trains its lr grid, with the
    machine's choices: precision, memory format, stacked or sequential (under torchrun, rank 0's).

    ``shape``: an image's (C, H, W); ``classes``: the number of classes; ``steps``: the run's length, for
    :func:`choose_compiled` (None: unbounded).
    Returns ``(engine, info)``; info: ``engine``, ``precision``, ``channels_last``, ``compiled``,
    ``world_size``, ``rank``.
    """
    if torch.device(device).type == "cpu":
        keep_freed_memory()
    else:  # full batches share one shape: cuDNN times its convolution algorithms once and keeps the fastest
        torch.backends.cudnn.benchmark = switches.cudnn_benchmark_on()
    torch.manual_seed(cfg["seed"])
    shape = tuple(shape)
    net = models.build(cfg["model"], shape[0], shape[1], classes, width=cfg["width"], init=cfg["init"],
                       mlp_dropout=cfg["mlp_dropout"], conv_padding=cfg["conv_padding"])
    precision, cl = choose_precision(cfg, net, device, shape)
    name = choose_engine(cfg, net, device, shape, precision=precision, channels_last=cl)
    world, rank = 1, 0
    if distributed():  # every rank must make the same choices: rank 0's are broadcast
        world, rank = torch.distributed.get_world_size(), torch.distributed.get_rank()
        choice = [precision, cl]
        torch.distributed.broadcast_object_list(choice, src=0)
        (precision, cl), name = choice, "sequential"
        if cfg["batch_size"] % world or noise.dilution_size(cfg["n_clean"], cfg["alpha"]) < world:
            raise ValueError(f"batch_size={cfg['batch_size']} must be a multiple of the {world} processes, "
                             f"and the diluted set at least {world} examples")
    compiled = world == 1 and choose_compiled(cfg, net, device, shape, precision=precision, channels_last=cl,
                                              eager=name, steps=steps)
    torch.manual_seed(cfg["seed"])
    if compiled:
        name, eng = "stacked", Stacked(net, cfg["lrs"], cfg, device, precision=precision, channels_last=cl,
                                       compiled=True)
    else:
        eng = (Stacked if name == "stacked" else Sequential)(net, cfg["lrs"], cfg, device, precision=precision,
                                                             channels_last=cl)
    return eng, dict(engine=name, precision=precision, channels_last=cl, compiled=compiled, world_size=world,
                     rank=rank)
