"""Label-noise models of the paper, as pure functions of (labels, params, seed).

Notation (paper, Sec 3): ``n`` clean examples, ``m`` classes, ``alpha`` noisy
examples added per clean one (dilution: the clean set never shrinks),
``epsilon = 1 / (1 + alpha)``.

The diluted training set has ``n * (1 + alpha)`` *slots* (``alpha`` may be
fractional: the count is rounded down). Slot ``j < n`` is clean example ``j``
with its true label. Slot ``j >= n`` is noisy: its image is picked by
:func:`noisy_image_index` and its label is drawn from row ``c`` of a transition
matrix ``T`` (``c`` = true class of the image it repeats) by
:func:`slot_labels`. Nothing of size ``n * alpha`` is ever stored: a slot's
label is a counter-based hash of ``(seed, slot)``, so the same slot always gets
the same label, on any machine and device, bit for bit (integer arithmetic
only).

Structured noise (Sec 3.2, Fig 4), the reading implemented here. Rank the
wrong classes of class ``c`` by an order (``confusing``, ``reverse``,
``random``): rank ``r = 1 .. m-1``. Over all ``1 + alpha`` copies of an image
of class ``c``::

    P(c)      = b + epsilon
    P(rank r) = b + delta * epsilon * (m - 1 - r) / (m - 2)
    b         = (1 - epsilon * (1 + delta * (m - 1) / 2)) / m

``delta = 0`` is uniform noise, ``delta = 1`` makes rank 1 as likely as ``c``.
The clean copy always carries ``c``, so a noisy copy's label follows
``q_k = ((1 + alpha) * P(k) - [k == c]) / alpha``. Pairs with ``b < 0``
(``delta > 2 * alpha / (m - 1)``) cannot be realised and raise ``ValueError``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

ORDERS = ("confusing", "reverse", "random")
NOISE_SOURCES = ("same", "other", "white")


def check_alpha(alpha) -> float:
    """Return ``alpha`` as a float; raise ValueError unless it is a finite number >= 0."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise ValueError(f"alpha must be a number >= 0 (noisy examples per clean one), got {alpha!r}")
    if not math.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite number >= 0 (noisy examples per clean one), got {alpha!r}")
    return float(alpha)


def check_delta(delta, alpha: float, m: int) -> float:
    """Return ``delta`` as a float; raise ValueError unless 0 <= delta <= 1 and feasible for alpha."""
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.integer, np.floating)):
        raise ValueError(f"delta must be a number in [0, 1], got {delta!r}")
    if not (0.0 <= delta <= 1.0):
        raise ValueError(f"delta must be in [0, 1], got {delta!r}")
    limit = 2.0 * alpha / (m - 1)
    if delta > limit + 1e-12:
        raise ValueError(
            f"delta={delta} is infeasible for alpha={alpha} with m={m} classes: structured noise "
            f"needs delta <= 2*alpha/(m-1) = {limit:.4g} (else the correct class would need "
            f"negative probability on the noisy copies)"
        )
    return float(delta)


def epsilon(alpha: float) -> float:
    """Likelihood over chance of the correct label, ``1 / (1 + alpha)``."""
    return 1.0 / (1.0 + check_alpha(alpha))


def rank_probs(alpha: float, delta: float, m: int) -> np.ndarray:
    """Label distribution over all ``1 + alpha`` copies of one image, by rank.

    Returns
    -------
    p : float64 array, shape (m,)
        ``p[0]`` is the correct class, ``p[r]`` the wrong class of rank ``r``
        (1 = most favoured by the order). Sums to 1. ``delta = 0`` gives the
        uniform case ``p[0] = (1 + alpha/m)/(1 + alpha)``,
        ``p[r] = alpha / (m (1 + alpha))``.
    """
    alpha = check_alpha(alpha)
    if m < 3 and delta:
        raise ValueError(f"structured noise needs m >= 3 classes, got m={m}")
    delta = check_delta(delta, alpha, m)
    eps = 1.0 / (1.0 + alpha)
    b = (1.0 - eps * (1.0 + delta * (m - 1) / 2.0)) / m
    r = np.arange(1, m)
    p = np.empty(m)
    p[0] = b + eps
    p[1:] = b + (delta * eps * (m - 1 - r) / (m - 2) if m > 2 else 0.0)
    return p


def noisy_copy_rank_probs(alpha: float, delta: float, m: int) -> np.ndarray:
    """Label distribution of one *noisy* copy, by rank: ``q = ((1+alpha) p - e_0) / alpha``.

    Returns float64 array of shape (m,), non-negative, sums to 1. For
    ``alpha = 0`` (no noisy copies) it returns the uniform distribution, which
    is never sampled.
    """
    alpha = check_alpha(alpha)
    p = rank_probs(alpha, delta, m)
    if alpha == 0:
        return np.full(m, 1.0 / m)
    q = (1.0 + alpha) * p
    q[0] -= 1.0
    q /= alpha
    return np.clip(q, 0.0, None) / np.clip(q, 0.0, None).sum()  # clip only float round-off


def class_order(order: str, m: int, confusion: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """Wrong classes of each class, most favoured first.

    Parameters
    ----------
    order : "confusing" (most confused first, from ``confusion``), "reverse"
        (least confused first) or "random" (a seeded permutation per class).
    confusion : (m, m) array of counts, ``confusion[c, k]`` = test images of
        class ``c`` predicted as ``k``. Needed for the two confusion orders.

    Returns
    -------
    ranks : int64 array, shape (m, m - 1); ``ranks[c, r - 1]`` is the class of rank ``r``.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    rows = []
    rng = np.random.default_rng(seed)
    for c in range(m):
        wrong = np.array([k for k in range(m) if k != c])
        if order == "random":
            rows.append(rng.permutation(wrong))
            continue
        if confusion is None:
            raise ValueError(f"order={order!r} needs a confusion matrix of shape ({m}, {m})")
        confusion = np.asarray(confusion)
        if confusion.shape != (m, m):
            raise ValueError(f"confusion must have shape ({m}, {m}), got {confusion.shape}")
        counts = confusion[c, wrong]
        key = -counts if order == "confusing" else counts
        rows.append(wrong[np.lexsort((wrong, key))])  # ties broken by class index
    return np.stack(rows).astype(np.int64)


def transition_matrix(alpha: float, m: int, delta: float = 0.0, ranks: np.ndarray | None = None) -> np.ndarray:
    """Label distribution of a noisy copy given the true class.

    Returns
    -------
    T : float64 array, shape (m, m); ``T[c, k]`` = P(noisy label k | true class c).
        Every row sums to 1. ``delta = 0`` (uniform noise) gives ``T[c, k] = 1/m``.
    """
    q = noisy_copy_rank_probs(alpha, delta, m)
    if delta == 0:
        return np.full((m, m), 1.0 / m)
    if ranks is None or np.shape(ranks) != (m, m - 1):
        raise ValueError(f"delta > 0 needs ranks of shape ({m}, {m - 1}) from class_order()")
    T = np.empty((m, m))
    for c in range(m):
        T[c, c] = q[0]
        T[c, ranks[c]] = q[1:]
    return T


def total_label_distribution(alpha: float, T: np.ndarray) -> np.ndarray:
    """P(label k | true class c) over all ``1 + alpha`` copies: ``(I + alpha T) / (1 + alpha)``."""
    m = T.shape[0]
    return (np.eye(m) + alpha * T) / (1.0 + alpha)


def empirical_label_distribution(alpha: float, T: np.ndarray, true_class: int, *, n: int = 1000,
                                 seed: int = 0) -> np.ndarray:
    """Frequencies of the labels :func:`slot_labels` actually draws for ``n`` images of one class.

    Builds the diluted set of ``n`` clean images, all of class ``true_class``, and counts the labels of
    all its ``n * (1 + alpha)`` slots (clean copies included). Returns float64 (m,), summing to 1;
    it converges to ``total_label_distribution(alpha, T)[true_class]`` as ``n`` grows.
    """
    m = T.shape[0]
    slots = torch.arange(dilution_size(n, alpha), dtype=torch.int64)
    labels = slot_labels(slots, torch.full((n,), true_class, dtype=torch.int64), thresholds(T), seed)
    return torch.bincount(labels, minlength=m).double().div(len(slots)).numpy()


# --- counter-based hashing: the same bits on every machine and device -----------------

_M32 = 0xFFFFFFFF


def _mul32(x: torch.Tensor, c: int) -> torch.Tensor:
    """(x * c) mod 2**32 for int64 x in [0, 2**32), exact without int64 overflow."""
    lo, hi = c & 0xFFFF, c >> 16
    return (x * lo + ((x * hi) & 0xFFFF) * 65536) & _M32


def hash32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer mixer (Wellons' lowbias32) on int64 tensors holding uint32 values."""
    x = x & _M32
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def hash32_int(x: int) -> int:
    """:func:`hash32` of one Python int (the same bits; no tensor, so torch.compile traces it as a constant)."""
    x &= _M32
    x ^= x >> 16
    x = (x * 0x7FEB352D) & _M32
    x ^= x >> 15
    x = (x * 0x846CA68B) & _M32
    return x ^ (x >> 16)


def slot_hash(slots: torch.Tensor, seed: int, stream: int = 0) -> torch.Tensor:
    """Uniform 32-bit value (as int64) per slot, a pure function of (seed, stream, slot).

    Slots must be < 2**32 (a diluted set of 4 billion examples is out of scope)."""
    key = hash32_int(seed * 0x9E3779B1 + stream * 0x85EBCA77)
    return hash32(hash32(slots.to(torch.int64) ^ key) + key)


def thresholds(T: np.ndarray) -> torch.Tensor:
    """Integer inverse-CDF table of T: int64 (m, m-1); label = #thresholds <= hash."""
    cdf = np.cumsum(np.asarray(T, dtype=np.float64), axis=1)[:, :-1]
    return torch.from_numpy(np.minimum(np.round(cdf * 2**32), 2**32).astype(np.int64))


def slot_labels(slots: torch.Tensor, clean_labels: torch.Tensor, thr: torch.Tensor, seed: int) -> torch.Tensor:
    """Training label of each slot of the diluted set.

    Parameters
    ----------
    slots : int64 (B,), indices in ``[0, n * (1 + alpha))``.
    clean_labels : int64 (n,), true class of each clean example.
    thr : int64 (m, m-1), from :func:`thresholds` of the transition matrix.
    seed : the noise seed.

    Returns
    -------
    labels : int64 (B,). Clean slots (``< n``) keep their label; a noisy slot
    ``j`` of true class ``c = clean_labels[j % n]`` gets ``k`` with probability
    ``T[c, k]``, the same ``k`` every time it is asked for.
    """
    n = clean_labels.shape[0]
    true = clean_labels[slots % n]
    h = slot_hash(slots, seed, stream=1)
    drawn = (h.unsqueeze(1) >= thr[true]).sum(1)
    return torch.where(slots < n, true, drawn)


def noisy_image_index(slots: torch.Tensor, n: int, repeat: bool = True, pool_size: int = 0):
    """Which image each slot shows.

    Returns ``(from_pool, index)``, a bool and an int64 tensor shaped like ``slots``.
    Clean slots (``j < n``) show clean image ``j``. A noisy slot ``j >= n``:

    - ``repeat=True`` (Exp 1, 2; noise_source "same"): clean image ``j % n``
      again, with a drawn label;
    - ``repeat=False``: image ``(j - n) % pool_size`` of a separate pool
      (Fig 7 "unique": the rest of MNIST, without repetition when
      ``pool_size >= alpha * n``; Exp 3: CIFAR-100 images, or white noise).
    """
    slots = slots.to(torch.int64)
    if repeat:
        return torch.zeros_like(slots, dtype=torch.bool), slots % n
    if pool_size <= 0:
        raise ValueError(f"repeat=False needs a pool of noisy images, got pool_size={pool_size}")
    noisy = slots >= n
    return noisy, torch.where(noisy, (slots - n) % pool_size, slots)


def dilution_size(n: int, alpha: float) -> int:
    """Number of slots of the diluted set: ``n + floor(alpha * n)``."""
    return n + int(math.floor(check_alpha(alpha) * n + 1e-9))
