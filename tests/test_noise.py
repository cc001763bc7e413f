"""Noise generation against the probabilities the paper defines (Sec 3.1, 3.2, Fig 4)."""

import math

import numpy as np
import pytest
import torch
from reference import lowbias32

from nlcore import noise

M = 10


def test_hash_matches_reference_bit_for_bit():
    xs = [0, 1, 2, 12345, 2**31 - 1, 2**31, 2**32 - 1, 987654321]
    got = noise.hash32(torch.tensor(xs, dtype=torch.int64)).tolist()
    assert got == [lowbias32(x) for x in xs]
    assert [noise.hash32_int(x) for x in xs] == got  # the scalar version that keys slot_hash


@pytest.mark.parametrize("alpha", [0.5, 1, 5, 20, 100])
def test_uniform_probabilities_match_paper(alpha):
    p = noise.rank_probs(alpha, 0.0, M)
    assert p.sum() == pytest.approx(1.0)
    assert p[0] == pytest.approx((1 + alpha / M) / (1 + alpha))
    assert np.allclose(p[1:], alpha / (M * (1 + alpha)))
    assert p[0] - p[1] == pytest.approx(noise.epsilon(alpha))  # the gap is epsilon


@pytest.mark.parametrize("alpha,delta", [(20, 0.3), (20, 1.0), (5, 0.5), (100, 1.0), (4.5, 1.0)])
def test_structured_probabilities(alpha, delta):
    p = noise.rank_probs(alpha, delta, M)
    eps = 1 / (1 + alpha)
    assert p.sum() == pytest.approx(1.0)
    assert (p >= 0).all()
    # rank 1 exceeds the last rank by delta * epsilon (Fig 4: delta = how much more likely over chance)
    assert p[1] - p[M - 1] == pytest.approx(delta * eps)
    assert p[0] - p[M - 1] == pytest.approx(eps)
    assert np.all(np.diff(p[1:]) <= 1e-15)  # linear, decreasing with rank
    if delta == 1.0:
        assert p[1] == pytest.approx(p[0])  # delta = 1: rank 1 as likely as the correct class
    q = noise.noisy_copy_rank_probs(alpha, delta, M)
    assert q.sum() == pytest.approx(1.0) and (q >= 0).all()
    # clean copy + alpha noisy copies reproduce p
    assert np.allclose((np.eye(M)[0] + alpha * q) / (1 + alpha), p)


@pytest.mark.parametrize("alpha,delta", [(0, 0.1), (2, 0.5), (-1, 0), (1, 1.5), (1, -0.1)])
def test_infeasible_or_invalid_noise_raises(alpha, delta):
    with pytest.raises(ValueError, match="alpha|delta"):
        noise.rank_probs(alpha, delta, M)


def test_error_names_the_bound():
    with pytest.raises(ValueError, match=r"delta <= 2\*alpha/\(m-1\) = 0.4444"):
        noise.rank_probs(2, 0.5, M)


def test_class_orders():
    rng = np.random.default_rng(0)
    conf = rng.integers(0, 100, (M, M))
    ranks = noise.class_order("confusing", M, conf)
    rev = noise.class_order("reverse", M, conf)
    rnd = noise.class_order("random", M, seed=3)
    for c in range(M):
        for r in (ranks, rev, rnd):
            assert sorted(r[c].tolist()) == [k for k in range(M) if k != c]
        counts = conf[c, ranks[c]]
        assert np.all(np.diff(counts) <= 0)  # most confused first
        assert np.all(np.diff(conf[c, rev[c]]) >= 0)
    assert (noise.class_order("random", M, seed=3) == rnd).all()
    with pytest.raises(ValueError, match="confusion matrix"):
        noise.class_order("confusing", M)


def _bound(p, n):  # 5 sigma binomial bound on an empirical frequency
    return 5 * math.sqrt(max(p * (1 - p), 1e-12) / n) + 1e-9


@pytest.mark.parametrize("alpha,delta,order", [(1, 0, "random"), (20, 0, "random"), (100, 0, "random"),
                                               (20, 0.5, "confusing"), (20, 1.0, "reverse"), (20, 1.0, "random"),
                                               (9, 1.0, "confusing")])
def test_empirical_label_frequencies_match_definition(alpha, delta, order):
    """Draw labels for every slot of a diluted set; per true class, the frequency of each label over all
    1 + alpha copies must match P (rank_probs mapped through the order) within 5 binomial sigmas."""
    n = 3000
    y = torch.arange(n) % M
    conf = np.random.default_rng(1).integers(0, 50, (M, M))
    ranks = noise.class_order(order, M, conf, seed=2)
    T = noise.transition_matrix(alpha, M, delta, ranks)
    assert np.allclose(T.sum(1), 1)
    slots = torch.arange(noise.dilution_size(n, alpha))
    labels = noise.slot_labels(slots, y, noise.thresholds(T), seed=7)
    assert (labels[:n] == y).all()  # clean slots keep their label
    true = y[slots % n]
    P = noise.total_label_distribution(alpha, T)
    p_rank = noise.rank_probs(alpha, delta, M)
    for c in range(M):
        got = torch.bincount(labels[true == c], minlength=M).double().numpy()
        cnt = got.sum()
        freq = got / cnt
        assert np.all(np.abs(freq - P[c]) <= [_bound(p, cnt) for p in P[c]]), (c, freq, P[c])
        # and P itself is the paper's distribution in rank space
        assert P[c, c] == pytest.approx(p_rank[0])
        assert np.allclose(P[c, ranks[c]], p_rank[1:]) if delta else np.allclose(np.delete(P[c], c), p_rank[1:])


def test_labels_are_pure_functions_of_seed_and_slot():
    y = torch.arange(1000) % M
    thr = noise.thresholds(noise.transition_matrix(10, M))
    slots = torch.arange(11000)
    a = noise.slot_labels(slots, y, thr, seed=1)
    perm = torch.randperm(11000)
    assert (noise.slot_labels(slots[perm], y, thr, seed=1) == a[perm]).all()  # order of asking does not matter
    b = noise.slot_labels(slots, y, thr, seed=2)
    assert (a[1000:] != b[1000:]).float().mean() > 0.8  # another seed, other labels (0.9 expected)


def test_noisy_image_index():
    s = torch.arange(0, 50)
    pool, idx = noise.noisy_image_index(s, 10, repeat=True)
    assert not pool.any() and (idx == s % 10).all()
    pool, idx = noise.noisy_image_index(s, 10, repeat=False, pool_size=40)
    assert (pool == (s >= 10)).all() and (idx[10:] == torch.arange(40)).all() and (idx[:10] == s[:10]).all()
    with pytest.raises(ValueError, match="pool_size"):
        noise.noisy_image_index(s, 10, repeat=False)


def test_dilution_size():
    assert noise.dilution_size(60000, 100) == 6060000
    assert noise.dilution_size(1000, 0.5) == 1500
    with pytest.raises(ValueError, match="alpha"):
        noise.dilution_size(10, -1)


def test_empirical_distribution_drawn_by_slot_labels_matches_the_stated_probabilities():
    """Fig 4 is drawn from the noise code: what slot_labels draws over all copies of a class matches
    P(c) = b + epsilon, P(rank r) = b + delta * epsilon * (m-1-r)/(m-2) within sampling error."""
    m, alpha, delta = 10, 20.0, 0.7
    ranks = noise.class_order("random", m, seed=3)
    T = noise.transition_matrix(alpha, m, delta, ranks)
    n = 20000
    f = noise.empirical_label_distribution(alpha, T, true_class=4, n=n)
    eps = 1 / (1 + alpha)
    b = (1 - eps * (1 + delta * (m - 1) / 2)) / m
    want = np.empty(m)
    want[4] = b + eps
    for r, k in enumerate(ranks[4], start=1):
        want[k] = b + delta * eps * (m - 1 - r) / (m - 2)
    se = np.sqrt(want * (1 - want) / (n * (1 + alpha)))
    assert np.all(np.abs(f - want) < 5 * se), (f, want)
    assert f.sum() == pytest.approx(1.0)
