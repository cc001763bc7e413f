"""The critical number of clean labels, its power law and the clean-label calculator (synthetic runs, known law)."""

import json
import math

import numpy as np
import pytest

from nlcore import __main__ as cli
from nlcore import config, critical, results, sweep

SIZES = [250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 55000]
ALPHAS = [0, 5, 10, 20, 50, 100]


def synthetic(k=1.2, c=200.0, target=0.9, seeds=(0, 1), jitter=0.0):
    """Runs whose accuracy reaches ``target`` exactly at n = c * alpha^k (c at alpha = 0): accuracy is linear
    in log n (slope 0.1 per doubling), so log interpolation recovers the crossing exactly; ``jitter``
    shifts each seed's curve by a factor exp(+-jitter) in n."""
    recs = []
    for seed in seeds:
        shift = jitter * (1 if seed % 2 else -1)
        for a in ALPHAS:
            n_star = c * (a ** k if a > 0 else 1.0) * math.exp(shift)
            for n in SIZES:
                acc = min(0.999, max(0.01, target + 0.1 * math.log2(n / n_star)))
                cfg = dict(alpha=float(a), n_clean=n, model="convnet4", dataset="mnist", profile="full")
                recs.append(dict(config=cfg, seed=seed, metrics=dict(best=dict(lr=0.1, test_acc=acc))))
    return recs


def test_the_fit_recovers_a_known_exponent():
    for k in (0.8, 1.0, 1.3):
        cross = critical.crossings(synthetic(k=k), 0.9)
        assert cross[10.0]["status"] == "crossed"
        assert cross[10.0]["n"] == pytest.approx(200 * 10 ** k, rel=1e-9)
        law = critical.fit(cross)
        assert law["k"] == pytest.approx(k, abs=1e-9) and law["c"] == pytest.approx(200, rel=1e-9)


def test_the_interval_on_k_comes_from_the_spread_between_seeds():
    cross = critical.crossings(synthetic(k=1.1, jitter=0.2), 0.9)
    v = cross[20.0]
    assert v["low"] == pytest.approx(200 * 20 ** 1.1 * math.exp(-0.2)) and v["high"] == pytest.approx(
        200 * 20 ** 1.1 * math.exp(0.2))
    law = critical.fit(cross)
    assert law["k_low"] < 1.1 < law["k_high"] and law["interval"].startswith("95% bootstrap")
    assert critical.fit(cross)["k_low"] == law["k_low"]  # a fixed generator: the same interval every time
    one_seed = critical.fit(critical.crossings(synthetic(k=1.1, seeds=(0,)), 0.9))
    assert one_seed["k_low"] == pytest.approx(1.1) and "t-interval" in one_seed["interval"]  # exact law: zero width


def test_a_seed_that_never_reaches_the_target_leaves_the_interval_open():
    """At alpha = 100 one seed's critical number (55,500) lies beyond the largest size tried (55,000): the
    estimate from the mean curve stands, but a quarter of the resamples never cross, so no interval."""
    cross = critical.crossings(synthetic(k=1.2, jitter=0.1), 0.9)
    v = cross[100.0]
    assert v["status"] == "crossed" and v["per_seed"][1] is None and v["high"] is None
    law = critical.fit(cross)
    assert law["k"] == pytest.approx(1.2) and law["k_low"] is None and "do not bound k" in law["interval"]
    out = critical.clean_labels(synthetic(k=1.2, jitter=0.1), alpha=30, target=0.9)
    assert out["low"] is None and out["high"] is None and out["n_clean"] == pytest.approx(200 * 30 ** 1.2)


def test_label_accuracy_and_alpha_convert_both_ways():
    assert critical.label_accuracy(0) == 1.0
    assert critical.label_accuracy(9, m=10) == pytest.approx((1 + 0.9) / 10)
    for a in (0.5, 10, 100):
        assert critical.alpha_from_label_accuracy(critical.label_accuracy(a)) == pytest.approx(a)
    # the paper's headline: 100 noisy labels per clean one, about 10.9% of labels right for 10 classes
    assert critical.label_accuracy(100) == pytest.approx(0.1089, abs=1e-4)
    for bad in (0.1, 0.05, 1.2, "0.3"):
        with pytest.raises(ValueError, match="label_accuracy must be in"):
            critical.alpha_from_label_accuracy(bad)


def test_the_calculator_answers_inside_refuses_outside_and_warns_when_extrapolating():
    recs = synthetic(k=1.1, jitter=0.1)
    out = critical.clean_labels(recs, alpha=30, target=0.9)
    assert out["n_clean"] == pytest.approx(200 * 30 ** 1.1, rel=1e-6) and not out["extrapolated"]
    assert out["low"] < out["n_clean"] < out["high"] and out["interval"].startswith("95% bootstrap")
    assert out["fit"]["k"] == pytest.approx(1.1) and out["measured"]["alphas"] == [5.0, 10.0, 20.0, 50.0, 100.0]
    with pytest.raises(critical.OutsideMeasuredRange, match="outside the measured alphas 5 to 100"):
        critical.clean_labels(recs, alpha=200, target=0.9)
    with pytest.warns(UserWarning, match="extrapolates"):
        far = critical.clean_labels(recs, alpha=200, target=0.9, extrapolate=True)
    assert far["extrapolated"] and far["n_clean"] == pytest.approx(200 * 200 ** 1.1, rel=1e-6)
    zero = critical.clean_labels(recs, alpha=0, target=0.9)
    # at alpha = 0 the target is reached below the smallest size tried (200 < 250): only an upper bound
    assert zero["how"] == "the crossing measured at alpha = 0" and zero["n_clean"] == 250 and zero["upper_bound"]
    with pytest.raises(critical.OutsideMeasuredRange, match="crossed at no alpha > 0; the law needs two"):
        critical.clean_labels(recs, alpha=30, target=0.9999, extrapolate=True)  # never reached anywhere


@pytest.mark.parametrize("kw, match", [(dict(alpha=-1, target=0.9), "alpha must be a number >= 0"),
                                       (dict(alpha=10, target=1.0), r"target must be a test accuracy in \(0, 1\)"),
                                       (dict(alpha=10, target=0), "target must be"),
                                       (dict(alpha=float("nan"), target=0.9), "alpha must be")])
def test_bad_questions_are_refused_with_the_parameter_named(kw, match):
    with pytest.raises(ValueError, match=match):
        critical.clean_labels(synthetic(), **kw)


def test_the_command_prints_text_json_and_refusals(results_root, capsys, monkeypatch):
    # this test's runs are Figure 8's at the cpu profile: its grid and seeds for the length of the test
    monkeypatch.setitem(sweep.FIGURES["fig8"]["grid"], "cpu", dict(n_clean=SIZES, alpha=ALPHAS))
    monkeypatch.setitem(sweep.FIGURES["fig8"]["seeds"], "cpu", {"*": [0, 1]})
    for r in synthetic(k=1.0, jitter=0.1):
        c = r["config"]
        cfg = config.make_config("cpu", model="convnet4", alpha=c["alpha"], n_clean=c["n_clean"], seed=r["seed"],
                                 lrs=[0.01, 0.1])
        acc = r["metrics"]["best"]["test_acc"]
        results.save(cfg, dict(best=dict(lr=0.1, test_acc=acc, val_acc=acc, selected_on="val"), per_lr=[]), 1.0)
    assert cli.main(["clean-labels", "--alpha", "20", "--target", "0.9", "--profile", "cpu", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"alpha", "target", "n_clean", "low", "high", "extrapolated", "fit"} <= set(out)
    assert set(out["fit"]) == {"c", "k", "k_low", "k_high"} and out["n_clean"] == pytest.approx(4000, rel=1e-6)
    q = critical.label_accuracy(20)
    assert cli.main(["clean-labels", "--label-accuracy", str(q), "--target", "0.9", "--profile", "cpu"]) == 0
    text = capsys.readouterr().out
    assert "At alpha = 20 (a label is right with probability 14.3%)" in text and "about 4,000 clean labels" in text
    assert cli.main(["clean-labels", "--alpha", "500", "--target", "0.9", "--profile", "cpu"]) == 2
    assert "outside the measured alphas" in capsys.readouterr().err
    assert cli.main(["clean-labels", "--alpha", "500", "--target", "0.9", "--profile", "cpu", "--extrapolate"]) == 0
    assert "warning: alpha = 500 lies outside" in capsys.readouterr().err
    assert cli.main(["clean-labels", "--label-accuracy", "0.1", "--target", "0.9", "--profile", "cpu"]) == 2
    assert "label_accuracy must be in (0.1, 1]" in capsys.readouterr().err
    assert np.isfinite(out["fit"]["k_low"]) and out["fit"]["k_low"] < 1.0 < out["fit"]["k_high"]


def test_laws_and_answers_cover_every_target_and_refuse_outside_the_measured_range():
    recs = synthetic(k=1.2, jitter=0.05)
    law = critical.laws(recs, [0.8, 0.9])
    assert set(law) == {0.8, 0.9} and law[0.9]["k"] == pytest.approx(1.2, abs=0.01)
    assert law[0.9]["crossings"][10.0]["status"] == "crossed" and law[0.9]["draws"] is not None
    rows = critical.answers([("cpu", recs)], [0.9], [10, 200])
    inside, outside = rows
    assert inside["n_clean"] == pytest.approx(200 * 10 ** 1.2, rel=0.02) and inside["low"] < inside["high"]
    assert "outside the measured alphas" in outside["refused"] and inside["profile"] == "cpu"
    assert not outside["no_law"]  # a law exists: only this alpha is beyond it


def test_answers_come_from_the_first_scale_that_can_answer_each_question():
    """As the command answers one question: the preferred store where it can, the next one where it cannot."""
    law = synthetic(k=1.2)
    one = [r for r in law if r["config"]["alpha"] in (0, 10)]  # the target crossed at alpha = 10 only
    rows = {r["alpha"]: r for r in critical.answers([("full", one), ("cpu", law)], [0.9], [10, 20])}
    assert rows[10]["profile"] == "full" and rows[10]["n_clean"] == pytest.approx(200 * 10 ** 1.2)
    assert rows[20]["profile"] == "cpu" and rows[20]["n_clean"] == pytest.approx(200 * 20 ** 1.2, rel=0.02)
    assert critical.answers([("full", [])], [0.9], [10])[0]["refused"] == "no stored runs"
    assert critical.answers([("full", one)], [0.9], [20])[0]["no_law"]  # crossed at alpha 10 only


def test_an_answer_falls_through_to_the_next_scale_where_the_first_cannot_give_one():
    """A preferred store whose law stops short of alpha, or that reaches the target below its smallest size
    (an upper bound only), yields to one that measured the crossing; extrapolation is the last resort."""
    law = synthetic(k=1.2)
    low = [r for r in law if r["config"]["alpha"] <= 20]  # a law over alpha 5 to 20
    profile, out = critical.answer([("full", low), ("cpu", law)], alpha=50, target=0.9)
    assert profile == "cpu" and out["n_clean"] == pytest.approx(200 * 50 ** 1.2, rel=0.02)
    big = [r for r in law if r["config"]["n_clean"] >= 4000]  # reaches 95% at alpha 0 below its smallest size
    profile, out = critical.answer([("full", big), ("cpu", law)], alpha=0, target=0.95)
    assert profile == "cpu" and 250 < out["n_clean"] < 500 and not out["upper_bound"]  # crossed between sizes
    profile, out = critical.answer([("full", big)], alpha=0, target=0.95)
    assert profile == "full" and out["upper_bound"] and out["n_clean"] == 4000
    with pytest.raises(critical.OutsideMeasuredRange, match="outside the measured alphas 5 to 20"):
        critical.answer([("full", low)], alpha=50, target=0.9)
    with pytest.warns(UserWarning, match="lies outside"):
        profile, out = critical.answer([("full", low)], alpha=50, target=0.9, extrapolate=True)
    assert profile == "full" and out["extrapolated"]


def test_the_calculator_figure_has_one_slider_step_per_target_and_a_band():
    from nlcore import plots

    fig = plots.calculator(critical.laws(synthetic(k=1.2, jitter=0.05), [0.8, 0.9]), "calculator")
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["80%", "90%"]
    visible = [bool(t.visible) for t in fig.data]
    assert visible == steps[0].args[0]["visible"] and 0 < sum(visible) < len(fig.data)
    names = [t.name for t in fig.data if t.visible]
    assert any(n.startswith("95% band") for n in names) and any(n.startswith("n* = ") for n in names)
    law = next(t for t in fig.data if t.visible and t.name.startswith("n* = "))
    # 80% is one halving of n below 90% (0.1 per doubling): c = 100; the fitted law, not made-up points
    assert law.y[0] == pytest.approx(100 * law.x[0] ** 1.2, rel=0.05)


def test_the_calculator_answers_from_the_first_scale_that_can_answer():
    law, flat = synthetic(k=1.2), [r for r in synthetic(k=1.2) if r["config"]["n_clean"] == 55000]
    assert critical.first_usable([("full", flat), ("cpu", law)], 0.9) == ("cpu", law)  # one size: no crossing
    assert critical.first_usable([("full", law), ("cpu", flat)], 0.9)[0] == "full"
    assert critical.first_usable([("full", flat), ("cpu", [])], 0.9) == ("full", flat)  # none can: the first with runs
    assert critical.first_usable([("full", flat), ("cpu", law[:20])], 0.99)[0] == "cpu"  # none can: the most sizes
    assert critical.first_usable([("full", [])], 0.9) == (None, [])
    assert critical.first_usable([("full", flat), ("cpu", law)], 0.95, alpha=0)[0] == "cpu"  # a crossing at alpha 0


def test_a_measured_alpha_is_answered_by_its_crossing_until_a_law_can_be_fitted():
    """With the target crossed at one alpha > 0 only, the calculator answers there from the crossing (and says
    so), and still refuses every other alpha > 0."""
    recs = [r for r in synthetic(k=1.2) if r["config"]["alpha"] in (0, 10)]
    ans = critical.clean_labels(recs, alpha=10, target=0.9)
    assert ans["n_clean"] == pytest.approx(200 * 10 ** 1.2) and ans["fit"]["k"] is None
    assert ans["how"].startswith("the crossing measured at alpha = 10 (no law yet")
    with pytest.raises(critical.NoLaw, match="crossed only at alpha = 10; the law needs two"):
        critical.clean_labels(recs, alpha=20, target=0.9, extrapolate=True)
    # a store that crossed nowhere (with more sizes per alpha) does not hide the one that crossed at alpha = 10
    never = [r for r in synthetic(c=1e9) if r["config"]["alpha"] in (0, 10, 20, 50)]
    with pytest.raises(critical.NoLaw, match="crossed only at alpha = 10") as e:
        critical.answer([("full", recs), ("cpu", never)], alpha=30, target=0.9, extrapolate=True)
    assert e.value.crossed == [10.0] and e.value.profile == "full"
    assert critical.first_usable([("full", recs), ("cpu", synthetic())], 0.9, 10)[0] == "full"
    assert critical.first_usable([("full", recs), ("cpu", synthetic())], 0.9, 20)[0] == "cpu"


def test_an_alpha_whose_runs_never_reach_the_target_is_refused_with_the_sizes_tried():
    """A measured 'not reached at any size' stands: no law or extrapolation answers over it."""
    recs = [r for r in synthetic(k=1.2) if r["config"]["alpha"] in (0, 10, 20)]
    top = max(r["config"]["n_clean"] for r in recs if r["config"]["alpha"] == 20)
    with pytest.raises(critical.NotReached, match="at alpha = 20 no stored run reaches target 0.9995") as e:
        critical.clean_labels(recs, alpha=20, target=0.9995, extrapolate=True)
    assert e.value.largest == top
    row = next(r for r in critical.answers([("full", recs)], [0.9995], [20]))
    assert row["not_reached"] == top and not row["no_law"] and row["refused_by"] == "full"
    # another store that tried fewer sizes (and has no law) does not hide that measurement
    small = [r for r in recs if r["config"]["n_clean"] < top]
    with pytest.raises(critical.NotReached) as e:
        critical.answer([("full", recs), ("cpu", small), ("other", small + small)], alpha=20, target=0.9995)
    assert e.value.profile == "full" and e.value.largest == top


def test_bootstrap_draws_equal_one_crossing_per_resample():
    """The draws read each distinct resample of the seeds once; they equal reading every resample's mean curve
    in turn from the same generator."""
    recs = synthetic(k=1.1, jitter=0.07, seeds=(0, 1, 2))
    fast = critical.crossings(recs, 0.9, boot=300)
    rng = np.random.default_rng(0)
    for alpha, by_seed in sorted(critical._curves(recs).items()):
        curves = [by_seed[s] for s in sorted(by_seed)]
        slow = []
        for _ in range(300):
            c = critical._crossing([curves[i] for i in rng.integers(3, size=3)], alpha, 0.9)
            slow.append(math.inf if c["status"] == "never" else c["n"])
        assert np.array_equal(fast[alpha]["draws"], np.asarray(slow)), alpha
