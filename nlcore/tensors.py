"""The tensors a run needs, and the batches it trains on. An edit here changes results.

:func:`prepare` puts on the device, as uint8 images: the clean subset of ``n_clean`` training images
(drawn by the seed), the held-out validation split (the same for every run of a dataset), the test set,
the noise tables of :mod:`nlcore.noise` and, for unique noisy images (Fig 7, Exp 3), their pool.
:func:`batch` turns a batch of slots of the diluted set into model inputs: no copy of the noisy set is
ever made; a slot's image (and, with :func:`nlcore.noise.slot_labels`, its label) is a pure function of
the slot and the seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from . import data, noise

VAL_SEED = 20171  # the held-out validation split is the same for every run of a dataset


@dataclass(frozen=True)
class RunTensors:
    """What a run trains and is evaluated on, on its device. Images are uint8 (N, C, H, W), labels int64 (N,).

    ``x``, ``y``: the clean subset (``n_clean`` images, drawn by the seed); ``xval``, ``yval``: the
    held-out clean validation split (``n_val``, the same for every run of a dataset); ``xtest``, ``ytest``:
    the test set (or its fixed ``n_test`` subset); ``m``: number of classes. ``mean``, ``std`` (1, C, 1, 1):
    what a model sees is ``(x / 255 - mean) / std`` (0 and 1 for ``inputs="unit"``); ``pix_mean``,
    ``pix_std`` (C,): the clean subset's per-channel pixel statistics in [0, 1] units, whatever the inputs
    (white noise matches them). ``T`` (m, m) numpy: the noise's transition matrix, ``T[c, k]`` =
    P(noisy label k | true class c), rows sum to 1 (:func:`nlcore.noise.transition_matrix`); ``thr``
    (m, m) its cumulative rows as :func:`nlcore.noise.thresholds` draws from them. ``pool``: the images
    unique noisy slots show (uint8, (P, C, H, W)), or None when noisy images repeat clean ones or are white.
    """

    x: torch.Tensor
    y: torch.Tensor
    xval: torch.Tensor
    yval: torch.Tensor
    xtest: torch.Tensor
    ytest: torch.Tensor
    m: int
    mean: torch.Tensor
    std: torch.Tensor
    pix_mean: torch.Tensor
    pix_std: torch.Tensor
    T: np.ndarray
    thr: torch.Tensor
    pool: torch.Tensor | None


def prepare(cfg: dict, device: str) -> RunTensors:
    """Tensors a run needs, on ``device``: clean subset, val split, test set, noise tables."""
    x, y = data.load(cfg["dataset"], "train")
    xt, yt = data.load(cfg["dataset"], "test")
    if cfg["n_test"] is not None and cfg["n_test"] < len(yt):  # a fixed subset, the same for every run
        keep = torch.randperm(len(yt), generator=torch.Generator().manual_seed(VAL_SEED))[: cfg["n_test"]]
        xt, yt = xt[keep], yt[keep]
    m = data.num_classes(cfg["dataset"])
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(VAL_SEED))
    val_idx = order[len(x) - cfg["n_val"]:] if cfg["n_val"] else order[:0]
    rest = order[: len(x) - cfg["n_val"]]
    rest = rest[torch.randperm(len(rest), generator=torch.Generator().manual_seed(cfg["seed"]))]
    clean_idx, pool_idx = rest[: cfg["n_clean"]], rest[cfg["n_clean"]:]
    pix_mean, pix_std = data.pixel_stats(x[clean_idx])  # white noise matches them (Exp 3)
    # what the model sees is (x / 255 - mean) / std: x / 255 itself for "unit" inputs
    mean, std = (pix_mean, pix_std) if cfg["inputs"] == "standardized" else (pix_mean * 0, pix_std * 0 + 1)
    ranks = None
    if cfg["delta"] > 0:  # confusing/reverse: measured ranks stored in the config; random: drawn from the seed
        ranks = noise.class_order("random", m, seed=cfg["seed"]) if cfg["ranks"] is None else np.array(cfg["ranks"])
    T = noise.transition_matrix(cfg["alpha"], m, cfg["delta"], ranks)
    pool = None
    if not cfg["repeat"]:
        if cfg["noise_source"] == "same":  # Fig 7 "unique": the rest of the training set
            pool = x[pool_idx].to(device)
        elif cfg["noise_source"] == "other":  # Exp 3: CIFAR-100 images for CIFAR-10
            pool = data.load("cifar100", "train")[0].to(device)
    return RunTensors(
        x=x[clean_idx].to(device), y=y[clean_idx].to(device), m=m,
        xval=x[val_idx].to(device), yval=y[val_idx].to(device), xtest=xt.to(device), ytest=yt.to(device),
        mean=mean.view(1, -1, 1, 1).to(device), std=std.view(1, -1, 1, 1).to(device),
        pix_mean=pix_mean.to(device), pix_std=pix_std.to(device),
        T=T, thr=noise.thresholds(T).to(device), pool=pool,
    )


def white_noise(slots: torch.Tensor, shape, *, mean, std, seed: int) -> torch.Tensor:
    """Gaussian images with the clean data's per-channel mean/std (in [0, 1] units), shape (B, *shape).

    A pure function of (seed, slot): every pixel's two uniforms come from
    :func:`nlcore.noise.slot_hash`, turned Gaussian by Box-Muller, so a slot shows the same
    image in any batch, epoch or machine.
    """
    c, h, w = shape
    key = noise.slot_hash(slots, seed, stream=2).unsqueeze(1)  # (B, 1)
    pix = torch.arange(c * h * w, device=slots.device, dtype=torch.int64)
    u1 = (noise.hash32(key ^ noise.hash32(2 * pix)).double() + 0.5) / 2**32
    u2 = (noise.hash32(key ^ noise.hash32(2 * pix + 1)).double() + 0.5) / 2**32
    z = (torch.sqrt(-2 * torch.log(u1)) * torch.cos(2 * math.pi * u2)).float().view(-1, c, h, w)
    return z * std + mean


def batch(d: RunTensors, cfg: dict, slots: torch.Tensor, labels: torch.Tensor):
    """Normalised float images (B, C, H, W) and labels (B,) for a batch of slots."""
    n = len(d.y)
    # no branch on the batch's contents: nothing is read back to the host (a CUDA graph can hold this)
    if cfg["noise_source"] == "white":
        xb = d.x[slots % n].float().div_(255)
        if slots.numel() and noise.dilution_size(n, cfg["alpha"]) > n:  # every slot's noise, clean ones' unused
            noisy = (slots >= n).view(-1, 1, 1, 1)
            pix = dict(mean=d.pix_mean.view(-1, 1, 1), std=d.pix_std.view(-1, 1, 1))
            xb = torch.where(noisy, white_noise(slots, xb.shape[1:], **pix, seed=cfg["seed"]), xb)
    else:
        from_pool, idx = noise.noisy_image_index(slots, n, cfg["repeat"], 0 if d.pool is None else len(d.pool))
        xb = d.x[idx.clamp(max=n - 1)]
        if d.pool is not None and not cfg["repeat"]:
            xb = torch.where(from_pool.view(-1, 1, 1, 1), d.pool[idx.clamp(max=len(d.pool) - 1)], xb)
        xb = xb.float().div_(255)
    return (xb - d.mean) / d.std, labels
