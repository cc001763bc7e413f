"""The results store: one JSON file per run, keyed by the hash of its full config.

``results/runs/<key>.json`` holds::

    {"key", "config", "metrics" (see nlcore.train.train), "seed", "code_version",
     "torch_version", "device", "wall_time_s", "created"}

Writes are atomic (temporary file in the same folder, fsync, ``os.replace``):
a crash leaves either no file or a whole one. While a run trains, its
``<key>.lock`` (created with O_EXCL, holding host, boot id and PID, and
touched every minute by its holder) keeps other sweep processes sharing the
store off it; a lock whose process is gone (same host and boot) or that has
not been touched for ``STALE_LOCK_S`` (another host) is taken over. In the
rare race of two processes taking over the same stale lock, both train the
run; it is still stored once (same config, atomic replace). A file that is not valid JSON, or
whose config does not hash to its name, raises :class:`ResultsError` naming it;
nothing is ever overwritten or deleted silently.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import torch

from . import switches
from .config import ADDED_FIELDS, config_key

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO / "results"


class ResultsError(RuntimeError):
    """A stored result is unreadable, or the store cannot be written."""


def results_dir(path=None) -> Path:
    return Path(path or switches.results_dir() or DEFAULT_DIR)


def run_path(cfg: dict, root=None) -> Path:
    return results_dir(root) / "runs" / f"{config_key(cfg)}.json"


@lru_cache(maxsize=1)
def code_version() -> str:
    """Git SHA of this repository (``-dirty`` when nlcore/ has uncommitted changes), else 'unknown'.

    ``$NLCORE_CODE_VERSION``, when set, is taken as stated: for a copy of the tree whose git metadata is
    not its own (a lent GPU machine got the working tree laid over an older checkout's ``.git``)."""
    stated = switches.code_version()
    if stated:
        return stated
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "nlcore"], cwd=REPO, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return (sha or "unknown") + ("-dirty" if sha and dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def device_name(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    import platform

    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and name == (platform.processor() or platform.machine()):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    # the widest vector unit, which sets the speed (and the precision machine.py picks): machines of one
    # model name here differ in it
    isa = next((f for f in ("amx_bf16", "avx512_bf16", "avx512f", "avx2") if f in flags), None)
    return f"cpu ({name}, {torch.get_num_threads()} threads{', ' + isa if isa else ''})"


def check_writable(root=None) -> Path:
    """Create ``<root>/runs`` and prove it can be written, before any compute is spent."""
    runs = results_dir(root) / "runs"
    try:
        runs.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=runs, prefix=".probe-", delete=True):
            pass
    except OSError as e:
        raise ResultsError(f"results directory {runs} is not writable ({e}); set NLCORE_RESULTS "
                           f"or pass results_dir= to a writable folder") from e
    return runs


def remove_orphans(root=None) -> list[Path]:
    """Delete temporary files of writers on this host that died mid-write (SIGKILL between create and replace),
    and locks whose holder is gone (a process killed after storing its run but before releasing its lock:
    a later sweep skips that stored run and would never take the lock over).

    A temp file is named ``.<key>-<host>-<boot>-<pid>-<random>.tmp``; files of other hosts are left alone.
    A lock is gone by the rule :func:`claim` takes one over by (dead process on this host and boot, or not
    refreshed for ``STALE_LOCK_S``).
    """
    gone = []
    for lock in (results_dir(root) / "runs").glob("*.lock"):
        if not _holder_alive(lock):
            lock.unlink(missing_ok=True)
            gone.append(lock)
    host, boot, _ = _ME.split()
    for tmp in (results_dir(root) / "runs").glob(f".*-{host}-*.tmp"):
        parts = tmp.name[:-4].split("-")
        if len(parts) < 5 or parts[-4] != host or not parts[-2].isdigit():
            continue
        if parts[-3] == boot and _pid_alive(int(parts[-2])):
            continue
        tmp.unlink(missing_ok=True)
        gone.append(tmp)
    return gone


def run_seconds(record: dict) -> float:
    """The seconds a stored run trained, over all its processes: its ``wall_time_s``. A run continued from a
    checkpoint whose record does not count the earlier processes (``metrics["resumed_at"]`` not empty and
    ``metrics["earlier_s"]`` missing or None) holds only its last process's seconds: they are scaled by
    ``steps / (steps - resumed_at[-1])``, the whole run at the speed of its last process (an estimate)."""
    m, wall = record["metrics"], record["wall_time_s"]
    if not m.get("resumed_at") or m.get("earlier_s") is not None:
        return wall
    return wall * m["steps"] / (m["steps"] - m["resumed_at"][-1])


def duration(seconds: float) -> str:
    """Seconds as a reader reads them: "40 s", "12 min" or "2.4 h"."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def save(cfg: dict, metrics: dict, wall_time_s: float, root=None) -> dict:
    """Write the record of a finished run atomically; return it. ``wall_time_s``: the seconds of the process
    that finished it; the record's adds ``metrics["earlier_s"]``, those of the processes it continued from
    (:func:`nlcore.train.train`), so that it is the whole run's."""
    wall_time_s += metrics.get("earlier_s") or 0.0
    record = dict(key=config_key(cfg), config=cfg, metrics=metrics, seed=cfg["seed"], code_version=code_version(),
                  torch_version=torch.__version__, device=device_name(metrics.get("device", "cpu")),
                  wall_time_s=round(wall_time_s, 3), created=dt.datetime.now(dt.timezone.utc).isoformat())
    note = switches.run_note()
    if note:
        record["note"] = note
    path = run_path(cfg, root)
    runs = check_writable(root)
    fd, tmp = tempfile.mkstemp(dir=runs, prefix=f".{path.stem}-{_ME.replace(' ', '-')}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(record, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return record


STALE_LOCK_S = 600  # a lock not refreshed for this long (its holder touches it every LOCK_HEARTBEAT_S) is stale
LOCK_HEARTBEAT_S = 60


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "")[:12]
    except OSError:
        return "0"


_ME = f"{socket.gethostname().replace('-', '_').replace(' ', '_')} {_boot_id()} {os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lock_path(cfg: dict, root=None) -> Path:
    return run_path(cfg, root).with_suffix(".lock")


def _holder_alive(lock: Path) -> bool:
    """A lock is held while refreshed recently; on this host and boot, also only while its process lives."""
    try:
        age = time.time() - lock.stat().st_mtime
        parts = lock.read_text().split()
    except FileNotFoundError:
        return False
    if len(parts) != 3 or not parts[2].isdigit():
        return age < 10  # being written this instant, or garbage left by a crash
    host, boot, pid = parts
    me_host, me_boot, _ = _ME.split()
    if host == me_host and boot == me_boot:
        return _pid_alive(int(pid))
    return age < STALE_LOCK_S


def claim(cfg: dict, root=None) -> bool:
    """Take the run's lock; False while another live process holds it (a dead holder's lock is taken over)."""
    lock = _lock_path(cfg, root)
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if _holder_alive(lock):
                return False
            lock.unlink(missing_ok=True)  # stale: its process was killed
            continue
        with os.fdopen(fd, "w") as f:
            f.write(_ME)
        return True
    return False


class Heartbeat:
    """Context manager: touch the run's lock every LOCK_HEARTBEAT_S while it trains (other hosts see it alive)."""

    def __init__(self, cfg: dict, root=None):
        import threading

        self.lock, self.stop = _lock_path(cfg, root), threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self):
        while not self.stop.wait(LOCK_HEARTBEAT_S):
            try:
                os.utime(self.lock)
            except OSError:
                pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def release(cfg: dict, root=None) -> None:
    """Remove the run's lock if this process holds it."""
    lock = _lock_path(cfg, root)
    try:
        if lock.read_text() == _ME:
            lock.unlink()
    except FileNotFoundError:
        pass


def read(path: Path) -> dict:
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ResultsError(f"stored result {path} is not valid JSON ({e}); move it aside and rerun the sweep "
                           f"to recompute that run") from e
    if not isinstance(record, dict) or "config" not in record or config_key(record["config"]) != Path(path).stem:
        raise ResultsError(f"stored result {path} does not hold the config its name promises; move it aside")
    record["config"] = {**ADDED_FIELDS, **record["config"]}  # stored before those fields existed: their defaults
    return record


def load(cfg: dict, root=None) -> dict | None:
    """The stored record of ``cfg``, or None when that run has not been stored."""
    path = run_path(cfg, root)
    return read(path) if path.exists() else None


def load_all(root=None) -> list[dict]:
    """Every stored record (sorted by key)."""
    runs = results_dir(root) / "runs"
    return [read(p) for p in sorted(runs.glob("*.json"))] if runs.exists() else []


def unreadable(root=None) -> dict[str, str]:
    """Every stored file that :func:`read` refuses (torn, not JSON, or not the config its name promises):
    ``{path: why}``."""
    out = {}
    for p in sorted((results_dir(root) / "runs").glob("*.json")):
        try:
            read(p)
        except ResultsError as e:
            out[str(p)] = str(e)
    return out


def expand_shared(summary: list[dict], where: dict, field: str, values) -> list[dict]:
    """Draw a point that several lines share as a point of every line.

    ``config.canonical`` stores one run where the lines cannot differ (at alpha = 0 there is no noisy
    example, so the noise source and ``repeat`` do not matter; at delta = 0 the order does not). The
    groups of ``summary`` matching ``where`` (e.g. ``{"alpha": 0}``) are repeated once per value of
    ``field`` in ``values``, each with ``shared`` (a sentence the hover text shows); the rest are kept.
    Returned sorted by ``values`` (stable otherwise).
    """
    values = list(values)
    shared = [s for s in summary if all(s[k] == v for k, v in where.items())]
    note = (f"one set of runs drawn on every line: at {', '.join(f'{k} = {v:g}' for k, v in where.items())} "
            f"the {field} cannot matter")
    rows = [dict(s, **{field: v}, shared=note) for s in shared for v in values]
    rows += [s for s in summary if s not in shared]
    return sorted(rows, key=lambda s: values.index(s[field]))


def summarize(records: list[dict], by=("model", "alpha")) -> list[dict]:
    """Group records by config fields ``by``; per group the final test accuracy of the chosen lr over seeds.

    Returns one dict per group (sorted by ``by``): the ``by`` fields, ``mean``, ``std``
    (sample std, 0 for one seed), ``min``, ``max``, ``n_seeds``, ``seeds``, ``lrs``
    (chosen per seed), ``selected_on``, ``profile``, ``keys``. Seeds whose every
    lr diverged are listed in ``diverged`` and left out of the statistics (no
    accuracy is assumed for them).
    """
    import statistics

    groups: dict = {}
    for r in records:
        groups.setdefault(tuple(r["config"][k] for k in by), []).append(r)
    out = []
    for key in sorted(groups):
        rs = sorted(groups[key], key=lambda r: r["seed"])
        ok = [r for r in rs if r["metrics"]["best"]["lr"] is not None]
        accs = [r["metrics"]["best"]["test_acc"] for r in ok]
        out.append(dict(zip(by, key), mean=statistics.fmean(accs) if accs else None,
                        std=statistics.stdev(accs) if len(accs) > 1 else 0.0,
                        min=min(accs, default=None), max=max(accs, default=None), n_seeds=len(accs),
                        seeds=[r["seed"] for r in ok], lrs=[r["metrics"]["best"]["lr"] for r in ok],
                        diverged=[r["seed"] for r in rs if r not in ok],
                        selected_on=sorted({r["metrics"]["best"]["selected_on"] for r in rs}),
                        profile=sorted({r["config"]["profile"] for r in rs}), keys=[r["key"] for r in rs]))
    return out
