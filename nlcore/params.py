"""The chapters' papermill parameters, checked before anything trains.

Each notebook calls :func:`check` right after its ``parameters`` cell. papermill's ``-p`` passes a list
as text (``-p seeds "[0, 1]"`` arrives as the string ``"[0, 1]"``): text that is a JSON list is parsed.
Any other wrong type, an empty list or a value out of range raises ValueError naming the parameter, its
valid values and the papermill syntax that works, so a mistyped option never trains the wrong thing.
An edit here changes which inputs are accepted, never a result.
"""

from __future__ import annotations

import json
import math
import numbers

from . import models as models_mod
from .config import PROFILES

# notebook -> its parameters (the names of its parameters cell)
NOTEBOOKS = {
    "intro": ("profile", "train_missing"),
    "exp1": ("profile", "alpha", "seeds", "models", "device", "train_missing", "cifar10"),
    "exp2": ("profile", "alpha", "delta", "seeds", "device", "train_missing", "true_class"),
    "exp3": ("profile", "alpha", "seeds", "device", "train_missing"),
    "exp4": ("profile", "alpha", "n_clean", "seeds", "device", "train_missing", "targets"),
    "exp5": ("profile", "alpha", "seeds", "device", "train_missing"),
}


def _number(v, lo=-math.inf, hi=math.inf, *, lo_open=False, hi_open=False) -> bool:
    ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
    return ok and (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)


def _int(v, lo=0, hi=None) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= lo and (hi is None or v <= hi)


def _list(v, item) -> bool:
    return isinstance(v, list) and len(v) > 0 and all(item(x) for x in v)


def _device(v) -> bool:
    return v is None or (isinstance(v, str) and (v in ("cpu", "cuda") or
                                                 (v.startswith("cuda:") and v[5:].isdigit())))


# name -> (test, the valid values in words, an example of papermill syntax that works)
RULES = {
    "profile": (lambda v: v in PROFILES, f"one of {list(PROFILES)}", "-p profile smoke"),
    "alpha": (lambda v: v is None or _number(v, 0), "None or a number >= 0", "-p alpha 50"),
    "delta": (lambda v: v is None or _number(v, 0, 1), "None or a number in [0, 1]", "-p delta 0.9"),
    "seeds": (lambda v: v is None or _list(v, _int), "None or a non-empty list of integers >= 0",
              "-p seeds '[0, 1]'  or  -y 'seeds: [0, 1]'"),
    "models": (lambda v: v is None or _list(v, lambda m: m in models_mod.MODELS),
               f"None or a non-empty list of model names from {list(models_mod.MODELS)}",
               "-p models '[\"mlp1\", \"convnet4\"]'  or  -y 'models: [mlp1, convnet4]'"),
    "device": (_device, "None, 'cpu', 'cuda' or 'cuda:N'", "-p device cpu"),
    "train_missing": (lambda v: isinstance(v, bool), "True or False", "-p train_missing False"),
    "cifar10": (lambda v: isinstance(v, bool), "True or False", "-p cifar10 False"),
    "true_class": (lambda v: _int(v, 0, 9), "an integer in [0, 9]", "-p true_class 4"),
    "n_clean": (lambda v: v is None or _int(v, 1), "None or an integer >= 1", "-p n_clean 3000"),
    "targets": (lambda v: _list(v, lambda t: _number(t, 0, 1, lo_open=True, hi_open=True)),
                "a non-empty list of accuracies in (0, 1)", "-p targets '[0.5, 0.9]'  or  -y 'targets: [0.5, 0.9]'"),
}
LISTS = ("seeds", "models", "targets")


def check(notebook: str, namespace: dict) -> dict:
    """Check (and parse, in place) the parameters of ``notebook`` in ``namespace`` (the notebook's globals).

    Returns the checked parameters. Raises ValueError on the first wrong one, before any training.
    """
    if notebook not in NOTEBOOKS:
        raise ValueError(f"notebook must be one of {sorted(NOTEBOOKS)}, got {notebook!r}")
    out = {}
    for name in NOTEBOOKS[notebook]:
        v = namespace[name]
        if name in LISTS and isinstance(v, str):  # -p passes a list as text
            try:
                v = json.loads(v)
            except json.JSONDecodeError:
                pass
        test, valid, example = RULES[name]
        if not test(v):
            raise ValueError(f"parameter {name!r} must be {valid}; got {v!r}. With papermill: {example}")
        out[name] = namespace[name] = v
    return out
