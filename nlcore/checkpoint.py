"""Mid-run checkpoints: a run that outlives its process continues where it stopped, to the same metrics.

An edit here changes robustness, never results: a run resumed from a checkpoint ends with the metrics
of the same run trained without a stop (on a CPU, identical; tested by killing a run with SIGKILL).

A checkpoint holds everything the training loop carries from one step to the next:

- every learning rate's model and optimiser state (the engine's ``state()``);
- the step, the epoch's permutation of the slots and the position in it, the partial loss sums;
- the evaluations made so far (the curves) and the seconds trained so far (``trained_s``, over every
  process of the run: the record's wall time counts them);
- the random states: the epoch-order generator, torch's global generator (dropout masks), CUDA's;
- the engine the run was started with (engine, precision, memory format, compiled) and the code
  version: a checkpoint made by another engine or other code is not resumed (its numbers could differ),
  the run starts over.

Checkpoints live in ``<results>/checkpoints/<key>.pt``, outside the committed ``runs/`` (git-ignored),
are written atomically (temporary file, fsync, ``os.replace``) every ``NLCORE_CHECKPOINT_S`` seconds
(300 by default; 0: after every step, for tests) and removed once the run is stored.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import torch

from . import results, switches
from .config import config_key

INTERVAL_S = 300.0


def path(cfg: dict, root=None) -> Path:
    return results.results_dir(root) / "checkpoints" / f"{config_key(cfg)}.pt"


def interval_s() -> float:
    v = switches.checkpoint_s() or ""
    try:
        return float(v) if v else INTERVAL_S
    except ValueError:
        raise ValueError(f"NLCORE_CHECKPOINT_S must be a number of seconds >= 0, got {v!r}") from None


class Checkpointer:
    """Saves the loop's state every :func:`interval_s` seconds to ``where`` (None: never) and loads it back.

    ``engine``: the run's engine choices (``make_engine``'s info); a checkpoint made with other choices is
    set aside (not resumed).
    """

    def __init__(self, where: Path | None, engine: dict):
        self.where = where
        self.engine = dict({k: engine[k] for k in ("engine", "precision", "channels_last", "compiled")},
                           code_version=results.code_version())
        self.every, self.last = interval_s(), time.time()

    def load(self) -> dict | None:
        if self.where is None or not self.where.exists():
            return None
        try:
            state = torch.load(self.where, map_location="cpu", weights_only=False)
        except Exception as e:  # noqa: BLE001 -- a torn or foreign file: start over, never crash the sweep
            warnings.warn(f"checkpoint {self.where} is unreadable ({e!r:.200}); the run starts over", stacklevel=2)
            return None
        made = state.get("engine") if isinstance(state, dict) else None
        if made != self.engine:
            warnings.warn(f"checkpoint {self.where} was made with {made}, this process chose "
                          f"{self.engine}; the run starts over", stacklevel=2)
            return None
        return state

    def due(self) -> bool:
        return self.where is not None and time.time() - self.last >= self.every

    def save(self, state: dict) -> None:
        self.where.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.where.with_name(f".{self.where.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            torch.save(dict(state, engine=self.engine), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.where)
        self.last = time.time()

    def remove(self) -> None:
        if self.where is not None:
            self.where.unlink(missing_ok=True)


def rng_state() -> dict:
    return dict(torch=torch.get_rng_state(),
                cuda=torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None)


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
