"""Run configs: the defaults, the four profiles, validation and the hash that keys a run.

A config is a flat dict of JSON literals (nanoGPT / big_vision style). A run is
keyed by ``config_key(cfg)``, the SHA-256 of its canonical JSON: change any
field and it is a different run. Fields:

===============  ===========================================================
dataset          "mnist" | "cifar10" | "imagenet" (a user-provided folder, see nlcore.data)
model            see ``nlcore.models.MODELS``
width            hidden units of the MLPs
n_clean          clean training examples (the paper's n)
n_val            clean examples held out for choosing the learning rate
alpha            noisy examples per clean one (>= 0)
delta            structure of the noise, 0 = uniform (Exp 2)
order            "confusing" | "reverse" | "random" (used when delta > 0)
ranks            None, or the (m, m-1) wrong classes of each class, most favoured first, for the
                 confusing/reverse orders (from the measured confusion matrix, Sec 3.2)
noise_source     "same" (the clean images repeated) | "other" | "white" (Exp 3)
repeat           noisy images repeat the clean ones (True) or are unique (Fig 7)
lrs              the AdaDelta learning-rate grid, all trained on the same batches
lr_select        "val" (held-out clean split) | "test" (the paper's way)
rho, eps         AdaDelta's decay and epsilon (Keras 2's: 0.95 and 1e-7; torch's are 0.9 and 1e-6)
inputs           "unit": pixels / 255, as the Keras examples (the lineage of the paper's models) feed them |
                 "standardized": (pixels / 255 - mean) / std with the clean set's per-channel mean and std
init             "keras": Glorot-uniform weights, zero biases (Keras 2's default) | "torch": torch's
mlp_dropout      dropout after each hidden layer of the MLPs (Keras ``mnist_mlp.py``: 0.2)
batch_size       128 in the paper
epochs           passes over the diluted set of n_clean * (1 + alpha) examples
min_steps        lower bound on optimiser steps (small sets would barely train)
evals            evaluations on val and test, evenly spaced over the run, every one kept in the record
mean_last        the reported accuracy (and the one that chooses the learning rate) is the mean of the last
                 ``mean_last`` evaluations: under heavy noise accuracy swings between evaluations
n_test           None (the whole test set) or the size of a fixed random subset of it (smoke runs only)
loss             "ce" (cross-entropy on the diluted set) | "h_alpha" (the noisy loss H_alpha of eq. 3 on the
                 clean examples only: the infinite-batch limit of uniform noise, Sec 5)
seed             clean subset, initialisation, noisy labels and batch order
engine           "auto" | "stacked" (lr grid in one vmapped model) | "sequential"
precision        "auto" | "fp32" | "bf16" (autocast); "auto" measures once per machine
===============  ===========================================================
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers

from . import data, models, noise

DEFAULTS = dict(
    dataset="mnist", model="convnet4", width=512, n_clean=60000, n_val=0,
    alpha=0.0, delta=0.0, order="confusing", noise_source="same", repeat=True,
    lrs=[0.01, 0.05, 0.1, 0.5, 1.0], lr_select="test", rho=0.95, eps=1e-7,
    batch_size=128, epochs=1.0, min_steps=0, evals=12, mean_last=3, seed=0,
    engine="auto", precision="auto", loss="ce", ranks=None, n_test=None,
    inputs="unit", init="keras", mlp_dropout=0.2, conv_padding="keras",
)
# Fields added after runs were first stored, with the value every earlier run had: a field at that value
# is left out of the key, so the key of every earlier run is unchanged (and a stored record without the
# field reads as having that value). Where the default has since changed, a new run's field is in its key.
ADDED_FIELDS = dict(loss="ce", ranks=None, n_test=None, inputs="standardized", init="torch", mlp_dropout=0.0,
                    mean_last=1, conv_padding="same")
# What the stored cpu-profile book was trained with before the Keras lineage became the default: the cpu
# profile keeps them, so its runs (and every chapter drawn from them) keep their keys.
EARLIER = dict(rho=0.9, eps=1e-6, evals=4, inputs="standardized", init="torch", mlp_dropout=0.0, mean_last=1,
               conv_padding="same")


# Profiles: what changes between a CI smoke run, the committed CPU book and the paper's scale.
PROFILES = {
    # seconds on 2 cores: a tiny clean set, exactly 20 steps. Proves the path, not the paper.
    "smoke": dict(n_clean=500, n_val=200, epochs=0.0, min_steps=20, evals=2, mean_last=1, lrs=[0.1, 1.0],
                  lr_select="val", n_test=1000),
    # the small-clean-set book: 5,000 clean examples for every model (instead of 60,000), one pass over the
    # diluted set but at least 1,000 steps, learning rate chosen on 5,000 held-out clean images; with the
    # earlier choices (torch's AdaDelta and initialisation, standardised inputs)
    "cpu": dict(n_clean=5000, n_val=5000, epochs=1.0, min_steps=1000, lr_select="val", **EARLIER),
    # the paper's scale on a CPU: 55,000 clean images and 5,000 held out to choose the learning rate, the
    # same number of passes (one) over the diluted set at every alpha, 12 evaluations, the mean of the last 3
    "full": dict(n_clean=55000, n_val=5000, epochs=1.0, min_steps=0, evals=12, mean_last=3, lr_select="val"),
    # the paper's scale (a GPU): all 60,000 clean images, lr chosen on the test set as the paper did
    "paper": dict(n_clean=60000, n_val=0, epochs=2.0, min_steps=0, evals=12, mean_last=3, lr_select="test"),
}
# model-specific overrides inside a profile (none yet: every model of a figure sees the same clean set)
PROFILE_MODEL: dict = {}


def make_config(profile: str = "cpu", **overrides) -> dict:
    """Defaults, then the profile, then its per-model overrides, then ``overrides``; validated."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown config field(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    cfg = dict(DEFAULTS, **PROFILES[profile])
    cfg.update(PROFILE_MODEL.get(profile, {}).get(overrides.get("model", cfg["model"]), {}))
    cfg.update(overrides)
    cfg["profile"] = profile
    return check_config(cfg)


def replace(cfg: dict, **changes) -> dict:
    """``cfg`` (a config from :func:`make_config`) with ``changes``, validated as :func:`make_config` does: the
    config of a sibling run (another seed, size or length of the same experiment)."""
    return make_config(cfg["profile"], **dict({k: v for k, v in cfg.items() if k != "profile"}, **changes))


def canonical(cfg: dict) -> dict:
    """One config per distinct run: fields that cannot matter are set to their defaults.

    With ``alpha == 0`` there are no noisy examples, so ``noise_source``/``repeat``/``order``/``ranks``
    cannot matter (``loss="h_alpha"`` equals cross-entropy there but is kept: it is what Fig 11 plots);
    with ``delta == 0`` the noise is uniform, so the order and ranks cannot matter; ``mlp_dropout`` matters
    only to the MLPs, ``conv_padding`` only to ConvNet-6.
    """
    cfg = dict(cfg)
    if not str(cfg.get("model", "")).startswith("mlp"):  # only the MLPs have the hidden-layer dropout
        cfg["mlp_dropout"] = ADDED_FIELDS["mlp_dropout"]
    if cfg.get("model") != "convnet6":  # the only model whose blocks pad one way or the other
        cfg["conv_padding"] = ADDED_FIELDS["conv_padding"]
    if cfg.get("alpha") == 0:
        cfg.update(noise_source="same", repeat=True)
    if cfg.get("delta") == 0 or cfg.get("alpha") == 0:
        cfg.update(order=DEFAULTS["order"], ranks=None)
    return cfg


def _int(cfg, name, lo, hi=None):
    v = cfg[name]
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be an integer {rng}, got {v!r}")
    cfg[name] = int(v)


def _num(cfg, name, lo, hi=math.inf, *, lo_open=False):
    v = cfg[name]
    ok = not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)
    ok = ok and (v > lo if lo_open else v >= lo) and v <= hi
    if not ok:
        raise ValueError(f"{name} must be a number {'>' if lo_open else '>='} {lo}"
                         f"{'' if hi == math.inf else f' and <= {hi}'}, got {v!r}")


def _choice(cfg, name, allowed):
    if cfg[name] not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {cfg[name]!r}")


def check_config(cfg: dict) -> dict:
    """Raise ValueError naming the field and its valid range for anything wrong; return cfg (floats normalised)."""
    missing = (set(DEFAULTS) | {"profile"}) - set(cfg)
    if missing:
        raise ValueError(f"config lacks field(s) {sorted(missing)}")
    _choice(cfg, "dataset", [d for d in data.DATASETS if "test" in data.DATASETS[d][3]])
    _choice(cfg, "model", models.MODELS)
    _choice(cfg, "order", noise.ORDERS)
    _choice(cfg, "noise_source", noise.NOISE_SOURCES)
    _choice(cfg, "lr_select", ("val", "test"))
    _choice(cfg, "engine", ("auto", "stacked", "sequential"))
    _choice(cfg, "precision", ("auto", "fp32", "bf16"))
    _choice(cfg, "repeat", (True, False))
    _choice(cfg, "profile", tuple(PROFILES))
    _choice(cfg, "loss", ("ce", "h_alpha"))
    _choice(cfg, "inputs", ("unit", "standardized"))
    _choice(cfg, "init", models.INITS)
    _choice(cfg, "conv_padding", models.PADDINGS)
    _num(cfg, "mlp_dropout", 0, 1)  # checked before canonical() sets it aside for the models without it
    if cfg["mlp_dropout"] >= 1:
        raise ValueError(f"mlp_dropout must be a number >= 0 and < 1, got {cfg['mlp_dropout']!r}")
    cfg["alpha"] = noise.check_alpha(cfg["alpha"]) + 0.0  # + 0.0: -0.0 and 0.0 are one run
    m = data.num_classes(cfg["dataset"])
    cfg["delta"] = noise.check_delta(cfg["delta"], cfg["alpha"], m) + 0.0
    cfg.update(canonical(cfg))
    for name, lo in (("width", 1), ("n_clean", 1), ("n_val", 0), ("batch_size", 1), ("min_steps", 0),
                     ("evals", 1), ("seed", 0)):
        _int(cfg, name, lo)
    _int(cfg, "mean_last", 1, cfg["evals"])
    _num(cfg, "epochs", 0)
    _num(cfg, "rho", 0, 1)
    _num(cfg, "eps", 0, lo_open=True)
    lrs = cfg["lrs"]
    if not isinstance(lrs, (list, tuple)) or not lrs:
        raise ValueError(f"lrs must be a non-empty list of learning rates > 0, got {lrs!r}")
    for lr in lrs:
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"lrs must hold finite learning rates > 0, got {lr!r} in {lrs!r}")
    cfg["lrs"] = [float(lr) for lr in lrs]
    if len(set(cfg["lrs"])) != len(cfg["lrs"]):
        raise ValueError(f"lrs must not repeat a learning rate, got {lrs!r}")
    size = data.train_size(cfg["dataset"])
    if cfg["n_clean"] + cfg["n_val"] > size:
        raise ValueError(f"n_clean + n_val must be <= {size} (the {cfg['dataset']} training set), "
                         f"got {cfg['n_clean']} + {cfg['n_val']}")
    if cfg["lr_select"] == "val" and cfg["n_val"] == 0:
        raise ValueError("lr_select='val' needs n_val >= 1 held-out clean examples")
    if cfg["epochs"] == 0 and cfg["min_steps"] == 0:
        raise ValueError("epochs and min_steps are both 0: nothing would be trained")
    if cfg["noise_source"] != "same" and cfg["repeat"]:
        raise ValueError(f"noise_source={cfg['noise_source']!r} draws images from elsewhere: set repeat=False")
    if cfg["noise_source"] == "other" and cfg["dataset"] != "cifar10":
        raise ValueError(f"noise_source='other' (CIFAR-100 images) needs dataset='cifar10', got {cfg['dataset']!r}")
    if cfg["delta"] > 0 and not cfg["repeat"]:
        raise ValueError("delta > 0 (structured noise) ties a noisy label to its image's true class: it needs "
                         "repeat=True (noisy copies of the clean images), got repeat=False")
    noisy = noise.dilution_size(cfg["n_clean"], cfg["alpha"]) - cfg["n_clean"]
    if noise.dilution_size(cfg["n_clean"], cfg["alpha"]) >= 2**32:
        raise ValueError(f"n_clean * (1 + alpha) must be < 2**32, got {cfg['n_clean']} * (1 + {cfg['alpha']:g})")
    pool = size - cfg["n_clean"] - cfg["n_val"]
    if cfg["noise_source"] == "same" and not cfg["repeat"] and noisy > pool:
        raise ValueError(f"repeat=False draws each noisy image once from the {pool} training images left over "
                         f"(of {size}, after n_clean={cfg['n_clean']} and n_val={cfg['n_val']}); alpha * n_clean "
                         f"= {noisy} must be <= {pool}")
    if cfg["loss"] == "h_alpha" and (cfg["delta"] > 0 or cfg["noise_source"] != "same" or not cfg["repeat"]):
        raise ValueError("loss='h_alpha' is the infinite-batch limit of uniform noise (eq. 3): it needs delta=0, "
                         "noise_source='same' and repeat=True")
    _check_ranks(cfg, m)
    if cfg["n_test"] is not None:
        _int(cfg, "n_test", 1)
    for k in ("epochs", "rho", "eps", "mlp_dropout"):
        cfg[k] = float(cfg[k])
    return cfg


def _check_ranks(cfg: dict, m: int) -> None:
    ranks, structured = cfg["ranks"], cfg["delta"] > 0 and cfg["order"] != "random"
    if ranks is None:
        if structured:
            raise ValueError(f"order={cfg['order']!r} with delta > 0 needs ranks: the ({m}, {m - 1}) wrong classes "
                             f"of each class from the measured confusion matrix (nlcore.sweep.confusion_ranks)")
        return
    if not structured:
        raise ValueError(f"ranks are used only by the confusing/reverse orders with delta > 0; got order="
                         f"{cfg['order']!r}, delta={cfg['delta']:g}: set ranks=None")
    ok = isinstance(ranks, (list, tuple)) and len(ranks) == m
    ok = ok and all(isinstance(row, (list, tuple)) and sorted(row) == [k for k in range(m) if k != c]
                    and all(isinstance(k, int) and not isinstance(k, bool) for k in row)
                    for c, row in enumerate(ranks))
    if not ok:
        raise ValueError(f"ranks must be a list of {m} lists; row c must hold the {m - 1} classes other than c, "
                         f"most favoured first; got {ranks!r}")
    cfg["ranks"] = [list(row) for row in ranks]


def config_key(cfg: dict) -> str:
    """16 hex digits of the SHA-256 of the canonical JSON of the full config.

    Fields of ``ADDED_FIELDS`` at their default are left out, so runs stored before they existed keep
    their keys.
    """
    cfg = {k: v for k, v in cfg.items() if not (k in ADDED_FIELDS and v == ADDED_FIELDS[k])}
    blob = json.dumps(cfg, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
