"""The critical number of clean labels, its power law and the clean-label calculator (synthetic runs, known law)."""

import json
import math
import re

import numpy as np
import pytest

from nlcore import __main__ as cli
from nlcore import config, critical, findings, results, sweep

SIZES = [250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 55000]
ALPHAS = [0, 5, 10, 20, 50, 100]


def synthetic(k=1.2, c=200.0, target=0.9, seeds=(0, 1), jitter=0.0, tilt=0.0, wobble=None):
    """Runs whose accuracy reaches ``target`` exactly at n = c * alpha^k (c at alpha = 0): accuracy is linear
    in log n (slope 0.1 per doubling), so log interpolation recovers the crossing exactly; ``jitter``
    shifts each seed's curve by a factor exp(+-jitter) in n, ``tilt`` gives the seeds exponents k +- tilt,
    ``wobble`` ({alpha: factor}) moves every seed's crossing at an alpha off the law."""
    recs = []
    for seed in seeds:
        sign = 1 if seed % 2 else -1
        for a in ALPHAS:
            shift = sign * (jitter + tilt * math.log(a or 1)) + math.log((wobble or {}).get(a, 1.0))
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
    cross = critical.crossings(synthetic(k=1.1, jitter=0.2, tilt=0.05), 0.9)
    v, shift = cross[20.0], 0.2 + 0.05 * math.log(20)
    assert v["low"] == pytest.approx(200 * 20 ** 1.1 * math.exp(-shift)) and v["high"] == pytest.approx(
        200 * 20 ** 1.1 * math.exp(shift))
    law = critical.fit(cross)
    assert law["k_low"] == pytest.approx(1.05) and law["k_high"] == pytest.approx(1.15)  # the seeds: k -+ tilt
    # two seeds: the percentiles fall on the resamples of one seed alone, so the interval is named a range
    assert law["k_low"] < 1.1 < law["k_high"]
    assert law["interval"].endswith("a range over the seeds, not a confidence interval")
    assert "paired across alphas" in law["interval"] and law["label"] == v["label"] == "seed range"
    many = critical.crossings(synthetic(k=1.1, jitter=0.2, tilt=0.05, seeds=range(6)), 0.9)
    law6 = critical.fit(many)
    assert law6["label"] == many[20.0]["label"] == "95%" and law6["interval"].startswith("95% bootstrap")
    assert 1.05 < law6["k_low"] < 1.1 < law6["k_high"] < 1.15  # inside the seeds' range: a resample mixes them
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


def test_interval_ends_are_written_one_way_everywhere():
    assert critical.bounds(1799.6, 2600) == "1,800 to 2,600"
    assert critical.bounds(None, None, " and ") == "– and unbounded"
    assert critical.interval_text(1000, None, "between") == " (1,000 to unbounded)"
    assert critical.interval_text(1000, 2000, "seed range") == " (seed range 1,000 to 2,000)"
    assert critical.interval_text(None, None, "95%") == ""


def test_the_calculator_answers_inside_refuses_outside_and_warns_when_extrapolating():
    recs = synthetic(k=1.1, jitter=0.1)
    out = critical.clean_labels(recs, alpha=30, target=0.9)
    assert out["n_clean"] == pytest.approx(200 * 30 ** 1.1, rel=1e-6) and not out["extrapolated"]
    assert out["low"] < out["n_clean"] < out["high"] and out["interval"].startswith("bootstrap over")
    assert out["label"] == out["k_label"] == "seed range"  # two seeds: printed as a range, not as 95%
    row = critical.answers(recs, [0.9], [30])[0]
    assert row["label"] == "seed range" and critical.interval_text(row["low"], None, row["label"]).endswith(
        "to unbounded)")
    assert out["fit"]["k"] == pytest.approx(1.1) and out["measured"]["alphas"] == [5.0, 10.0, 20.0, 50.0, 100.0]
    with pytest.raises(critical.OutsideMeasuredRange, match="outside the measured alphas 5 to 100"):
        critical.clean_labels(recs, alpha=200, target=0.9)
    with pytest.warns(UserWarning, match="extrapolates"):
        far = critical.clean_labels(recs, alpha=200, target=0.9, extrapolate=True)
    assert far["extrapolated"] and far["n_clean"] == pytest.approx(200 * 200 ** 1.1, rel=1e-6)
    zero = critical.clean_labels(recs, alpha=0, target=0.9)
    # at alpha = 0 the target is reached below the smallest size tried (200 < 250): only an upper bound
    assert zero["how"] == "the smallest size tried at alpha = 0, which already reaches the target (an upper bound)"
    assert zero["n_clean"] == 250 and zero["upper_bound"] and zero["measured"]["n_clean"] == [250, 55000]
    with pytest.raises(critical.OutsideMeasuredRange, match="crossed at no alpha > 0; the law needs two"):
        critical.clean_labels(recs, alpha=30, target=0.9999, extrapolate=True)  # never reached anywhere


@pytest.mark.parametrize("kw, match", [(dict(alpha=-1, target=0.9), "alpha must be a number >= 0"),
                                       (dict(alpha=10, target=1.0), r"target must be a test accuracy in \(0, 1\)"),
                                       (dict(alpha=10, target=0), "target must be"),
                                       (dict(alpha=float("nan"), target=0.9), "alpha must be")])
def test_bad_questions_are_refused_with_the_parameter_named(kw, match):
    with pytest.raises(ValueError, match=match):
        critical.clean_labels(synthetic(), **kw)


def _store_fig8_cpu(recs, monkeypatch):
    """Save synthetic runs as Figure 8's at the cpu profile (its grid and seeds for the length of the test)."""
    monkeypatch.setitem(sweep.FIGURES["fig8"]["grid"], "cpu", dict(n_clean=SIZES, alpha=ALPHAS))
    monkeypatch.setitem(sweep.FIGURES["fig8"]["seeds"], "cpu", {"*": [0, 1]})
    for r in recs:
        c = r["config"]
        cfg = config.make_config("cpu", model="convnet4", alpha=c["alpha"], n_clean=c["n_clean"], seed=r["seed"],
                                 lrs=[0.01, 0.1])
        acc = r["metrics"]["best"]["test_acc"]
        results.save(cfg, dict(best=dict(lr=0.1, test_acc=acc, val_acc=acc, selected_on="val"), per_lr=[]), 1.0)


def test_the_command_prints_text_json_and_refusals(results_root, capsys, monkeypatch):
    _store_fig8_cpu(synthetic(k=1.0, jitter=0.1), monkeypatch)
    assert cli.main(["clean-labels", "--alpha", "20", "--target", "0.9", "--profile", "cpu", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"alpha", "target", "n_clean", "low", "high", "extrapolated", "fit"} <= set(out)
    assert set(out["fit"]) == {"c", "k", "k_low", "k_high"} and out["n_clean"] == pytest.approx(4000, rel=1e-6)
    assert out["profile"] == "cpu" and out["measured"]["alphas"] == [5.0, 10.0, 20.0, 50.0, 100.0]
    assert out["fit"]["k_low"] < 1.0 + 1e-6 and out["fit"]["k_high"] > 1.0 - 1e-6 and out["low"] < 4000 < out["high"]
    q = critical.label_accuracy(20)
    assert cli.main(["clean-labels", "--label-accuracy", str(q), "--target", "0.9", "--profile", "cpu"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"label accuracy {q:g} is alpha = 20 (uniform noise over 10 classes")
    assert "At alpha = 20 (a label is right with probability 14.3%)" in text and "about 4,000 clean labels" in text
    assert "resting on runs with 250 to 55,000 clean labels at alpha = 20" in text  # measured: its own crossing
    assert "the law fitted" not in text  # the law passes through 4,000 here: nothing to add
    assert cli.main(["clean-labels", "--alpha", "500", "--target", "0.9", "--profile", "cpu"]) == 2
    assert "outside the measured alphas" in capsys.readouterr().err
    assert cli.main(["clean-labels", "--alpha", "500", "--target", "0.9", "--profile", "cpu", "--extrapolate"]) == 0
    assert "warning: alpha = 500 lies outside" in capsys.readouterr().err
    assert cli.main(["clean-labels", "--alpha", "-0.0", "--target", "0.9", "--profile", "cpu"]) == 0
    assert "At alpha = 0 (" in capsys.readouterr().out
    # q typed to 3 decimals (alpha 19.93 exactly) names the measured alpha = 20, and says so
    assert cli.main(["clean-labels", "--label-accuracy", "0.143", "--target", "0.9", "--profile", "cpu", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["alpha"] == 20.0 and out["asked_label_accuracy"] == 0.143 and out["label_accuracy"] == pytest.approx(q)
    assert cli.main(["clean-labels", "--label-accuracy", "0.143", "--target", "0.9", "--profile", "cpu"]) == 0
    assert "label accuracy 0.143 is alpha = 19.9302 (" in (text := capsys.readouterr().out)
    assert "to the 3 decimals given it is the measured alpha = 20 (label accuracy 0.142857)" in text
    assert cli.main(["clean-labels", "--label-accuracy", "0.15", "--target", "0.9", "--profile", "cpu"]) == 0
    text = capsys.readouterr().out  # 0.15 is alpha = 17, no measured alpha rounds to it: the law answers
    assert "At alpha = 17 (" in text
    assert "resting on runs with 250 to 55,000 clean labels at alpha 5, 10, 20, 50, 100" in text


@pytest.mark.parametrize("argv, match", [
    (["--label-accuracy", "0.1", "--target", "0.9"], r"--label-accuracy must be in \(0.1, 1\]"),
    (["--alpha", "10", "--target", "0.05"], r"--target must be a test accuracy in \(0.1, 1\) for 10 classes"),
    (["--alpha", "10", "--target", "1"], r"--target must be"),
    (["--alpha", "-1", "--target", "0.9"], "alpha must be a number >= 0"),
    (["--alpha", "500", "--target", "0.9"], "alpha = 500 is outside the measured alphas 5 to 100"),
    (["--label-accuracy", "0.5", "--target", "0.9"], r"label accuracy 0.5 is alpha = 1.25 .*alpha = 1.25 is outside"),
    (["--alpha", "20", "--target", "0.9999"], "at alpha = 20 no stored run reaches target 0.9999"),
])
def test_the_command_refuses_with_the_question_named_and_json_says_why(results_root, capsys, monkeypatch, argv, match):
    _store_fig8_cpu(synthetic(k=1.0, jitter=0.1), monkeypatch)
    assert cli.main(["clean-labels", *argv, "--profile", "cpu", "--json"]) == 2
    captured = capsys.readouterr()
    err = json.loads(captured.out)
    assert re.search(match, err["error"]) and re.search(match, captured.err)
    assert err["target"] == float(argv[-1]) and err["profile"] == (None if "--target" in match else "cpu")
    assert set(err) == {"error", "alpha", "target", "profile", "asked_label_accuracy"}


def test_the_command_refuses_when_no_run_is_stored(results_root, capsys):
    assert cli.main(["clean-labels", "--alpha", "10", "--target", "0.9", "--profile", "cpu"]) == 2
    assert "no Figure 8 run is stored at profile cpu" in capsys.readouterr().err


def test_laws_and_answers_cover_every_target_and_refuse_outside_the_measured_range():
    recs = synthetic(k=1.2, jitter=0.05)
    law = critical.laws(recs, [0.8, 0.9])
    assert set(law) == {0.8, 0.9} and law[0.9]["k"] == pytest.approx(1.2, abs=0.01)
    assert law[0.9]["crossings"][10.0]["status"] == "crossed" and law[0.9]["draws"] is not None
    inside, outside = critical.answers(recs, [0.9], [10, 200])
    assert inside["n_clean"] == pytest.approx(200 * 10 ** 1.2, rel=0.02) and inside["low"] < inside["high"]
    assert "outside the measured alphas" in outside["refused"] and not outside["no_law"]  # only this alpha is beyond
    assert critical.answers([], [0.9], [10])[0]["refused"] == "no stored runs"
    one = [r for r in recs if r["config"]["alpha"] in (0, 10)]  # the target crossed at alpha = 10 only
    assert critical.answers(one, [0.9], [20])[0]["no_law"]


def test_the_calculator_figure_has_one_slider_step_per_target_and_a_band():
    from nlcore import plots

    recs = synthetic(k=1.2, jitter=0.05, tilt=0.02)
    rows = critical.answers(recs, [0.8, 0.9], [0, 10, 20, 200])
    fig = plots.calculator(critical.laws(recs, [0.8, 0.9]), rows, "calculator")
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["80%", "90%"]
    visible = [bool(t.visible) for t in fig.data]
    assert visible == steps[0].args[0]["visible"] and 0 < sum(visible) < len(fig.data)
    names = [t.name for t in fig.data if t.visible]
    assert any(n.startswith("seed range band") for n in names) and any(n.startswith("n* = ") for n in names)
    law = next(t for t in fig.data if t.visible and t.name.startswith("n* = "))
    # 80% is one halving of n below 90% (0.1 per doubling): c = 100; the fitted law, not made-up points
    assert law.y[0] == pytest.approx(100 * law.x[0] ** 1.2, rel=0.05)
    # the alpha slider moves each target's answer point to the calculator's answer (alpha = 0: not on a log axis)
    alpha_steps = fig.layout.sliders[1].steps
    # 200 is outside the law's alphas for every target: refused, so not on the slider
    assert [s.label for s in alpha_steps] == ["10", "20"] and fig.layout.sliders[1].active == 1
    by = {(r["target"], r["alpha"]): r for r in rows}
    step = alpha_steps[0].args
    assert step[0]["x"] == [[10], [10]] and step[0]["y"] == [[by[0.8, 10]["n_clean"]], [by[0.9, 10]["n_clean"]]]
    assert [fig.data[i].name for i in step[1]] == ["the answer", "the answer"]
    answer = fig.data[step[1][0]]
    assert list(answer.y) == [by[0.8, 20]["n_clean"]] and answer.visible  # alpha = 20 drawn first


def test_the_calculator_figure_draws_measured_points_without_a_law():
    from nlcore import plots

    recs = [r for r in synthetic(k=1.2, seeds=(0,)) if r["config"]["alpha"] in (0, 10, 20)
            and (r["config"]["alpha"] != 20 or r["config"]["n_clean"] >= 8000)]  # 20: reached at its smallest size
    laws = critical.laws(recs, [0.9])
    assert laws[0.9]["k"] is None
    fig = plots.calculator(laws, critical.answers(recs, [0.9], [10, 20]), "calculator")
    names = {t.name: t for t in fig.data}
    assert list(names["measured crossings"].x) == [10.0] and list(names["at most (smallest size tried)"].y) == [8000]
    never = plots.calculator(critical.laws(recs, [0.9995]), critical.answers(recs, [0.9995], [10, 20]), "c")
    assert list(never.data[0].y) == [55000, 55000] and never.data[0].name.startswith("more than")
    assert not any(n.startswith("n* = ") for n in names)
    assert fig.layout.sliders[1].steps[1].args[0]["text"] == [["≤ 8,000"]]
    # only the largest size tried at 20 and smaller ones still to train: open, not a lower bound
    top = [r for r in recs if r["config"]["alpha"] != 20 or r["config"]["n_clean"] == 55000]
    opened = plots.calculator(critical.laws(top, [0.9995]), critical.answers(top, [0.9995], [10, 20]), "c",
                              still_to_train=(20.0,))
    names = {t.name: t for t in opened.data}
    assert list(names["not reached so far (smaller sizes still to train)"].x) == [20.0]
    assert list(names["more than (not reached up to the largest size)"].x) == [10.0]


def test_a_measured_alpha_is_answered_by_its_crossing_until_a_law_can_be_fitted():
    """With the target crossed at one alpha > 0 only, the calculator answers there from the crossing (and says
    so), and still refuses every other alpha > 0."""
    recs = [r for r in synthetic(k=1.2) if r["config"]["alpha"] in (0, 10)]
    ans = critical.clean_labels(recs, alpha=10, target=0.9)
    assert ans["n_clean"] == pytest.approx(200 * 10 ** 1.2) and ans["fit"]["k"] is None
    assert ans["how"].startswith("the crossing measured at alpha = 10 (no law yet")
    with pytest.raises(critical.NoLaw, match="crossed only at alpha = 10; the law needs two .* at alpha = 20"):
        critical.clean_labels(recs, alpha=20, target=0.9, extrapolate=True)


def test_a_label_accuracy_lands_on_the_measured_alpha_it_converts_to():
    """q(20) converted back is 20 up to rounding (20.000000000000007): it is answered as the measured 20."""
    recs = [r for r in synthetic(k=1.2, seeds=(0,)) if r["config"]["alpha"] in (0, 20)]  # no law
    alpha = critical.alpha_from_label_accuracy(critical.label_accuracy(20))
    ans = critical.clean_labels(recs, alpha=alpha, target=0.9)
    assert ans["alpha"] == 20.0 and ans["n_clean"] == pytest.approx(200 * 20 ** 1.2)
    assert ans["measured"]["n_clean"] == [250, 55000] and ans["low"] == 4000 and ans["high"] == 8000
    assert critical.clean_labels(recs, alpha=-0.0, target=0.95)["alpha"] == 0.0


def test_one_seed_at_three_alphas_gives_the_least_squares_interval_on_the_law():
    """With one seed per alpha the interval at alpha is the t-interval on the fitted line's mean there."""
    wobble = {5: 1.3, 10: 0.8, 20: 1.1, 50: 0.9, 100: 1.05}
    recs = synthetic(k=1.1, seeds=(0,), wobble=wobble)
    out = critical.clean_labels(recs, alpha=30, target=0.9)
    x = np.log(list(wobble))
    y = np.log([200 * a ** 1.1 * w for a, w in wobble.items()])
    k, c = np.polyfit(x, y, 1)
    s = math.sqrt(((y - k * x - c) ** 2).sum() / 3)
    half = 3.182 * s * math.sqrt(1 / 5 + (math.log(30) - x.mean()) ** 2 / ((x - x.mean()) ** 2).sum())
    assert out["n_clean"] == pytest.approx(math.exp(c + k * math.log(30)))
    assert out["low"] == pytest.approx(math.exp(c + k * math.log(30) - half))
    assert out["high"] == pytest.approx(math.exp(c + k * math.log(30) + half))
    assert "t-interval" in out["interval"] and out["fit"]["k_low"] < k < out["fit"]["k_high"]


def test_an_alpha_whose_runs_never_reach_the_target_is_refused_with_the_sizes_tried():
    """A measured 'not reached at any size' stands, at alpha = 0 too: no law or extrapolation answers over it."""
    recs = [r for r in synthetic(k=1.2) if r["config"]["alpha"] in (0, 10, 20)]
    top = max(r["config"]["n_clean"] for r in recs if r["config"]["alpha"] == 20)
    with pytest.raises(critical.NotReached, match=r"at alpha = 20 no stored run reaches target 0.9995 .*the best "
                                                  r"reached 99.9%") as e:
        critical.clean_labels(recs, alpha=20, target=0.9995, extrapolate=True)
    assert e.value.largest == top
    row = next(r for r in critical.answers(recs, [0.9995], [20]))
    assert row["not_reached"] == top and not row["no_law"]
    with pytest.raises(critical.NotReached, match="at alpha = 0 no stored run reaches target 0.9995"):
        critical.clean_labels(recs, alpha=0, target=0.9995)


def test_bootstrap_draws_equal_one_crossing_per_resample_paired_across_alphas():
    """The draws read each distinct resample of the seeds once; they equal reading every resample's mean curve
    in turn, one draw of seeds shared by every alpha (paired), from the same generator."""
    recs = synthetic(k=1.1, jitter=0.07, tilt=0.03, seeds=(0, 1, 2))
    fast = critical.crossings(recs, 0.9, boot=300)
    picks = np.random.default_rng([0, 0, 1, 2]).integers(3, size=(300, 3))  # the generator of seeds 0, 1, 2
    for alpha, by_seed in sorted(critical._curves(recs).items()):
        curves = [by_seed[s] for s in sorted(by_seed)]
        slow = []
        for row in picks:
            c = critical._crossing([curves[i] for i in row], alpha, 0.9)
            slow.append(math.inf if c["status"] == "never" else c["n"])
        assert fast[alpha]["seeds"] == (0, 1, 2) and np.allclose(fast[alpha]["draws"], slow, rtol=1e-12), alpha


def test_a_shift_shared_by_every_alpha_leaves_k_exact_under_paired_resamples():
    """Seeds that differ by one factor in n at every alpha agree on k: paired resamples see that (k's interval
    has no width), where resampling each alpha on its own would mix seeds and invent a spread in k."""
    # target 0.5: five doublings of room below the 99.9% cap, so no seed's curve is clipped near its crossing
    law = critical.fit(critical.crossings(synthetic(k=1.1, jitter=0.2, target=0.5), 0.5))
    assert law["k_low"] == pytest.approx(1.1) and law["k_high"] == pytest.approx(1.1)
    # a seed at alpha = 0 only (not in the law) leaves the law's alphas paired
    recs = synthetic(k=1.1, jitter=0.2, target=0.5) + [r for r in synthetic(k=1.1, jitter=0.2, target=0.5, seeds=(2,))
                                                       if r["config"]["alpha"] == 0]
    law = critical.fit(critical.crossings(recs, 0.5))
    assert law["k_low"] == pytest.approx(1.1) and "paired across alphas" in law["interval"]
    recs = [r for r in synthetic(k=1.1, jitter=0.2, seeds=(0, 1, 2)) if r["seed"] < 2 or r["config"]["alpha"] != 50]
    cross = critical.crossings(recs, 0.9)  # alpha = 50 lacks seed 2: its resamples are of seeds 0 and 1
    assert cross[50.0]["seeds"] == (0, 1) and cross[20.0]["seeds"] == (0, 1, 2)
    assert "paired only across alphas that ran the same seeds" in critical.fit(cross)["interval"]


def test_the_live_calculator_answers_as_the_sliders_move():
    from nlcore import widgets

    w = widgets.calculator(synthetic(k=1.2), profile="full")
    alpha, target, extrapolate, answer = w.children
    assert "At alpha = 20 " in answer.value and "about 7,282 clean labels" in answer.value  # 200 * 20^1.2
    alpha.value = 150
    assert answer.value.startswith("<b>no answer</b>: alpha = 150 is outside the measured alphas 5 to 100")
    extrapolate.value = True
    assert f"about {200 * 150 ** 1.2:,.0f} clean labels" in answer.value
    assert answer.value.startswith("<b>warning</b>: alpha = 150 lies outside the measured alphas 5 to 100")
    target.value = 0.8  # 0.1 per doubling: reached at half the 90% crossing
    assert f"about {100 * 150 ** 1.2:,.0f}" in answer.value


def test_a_measured_upper_bound_stands_against_a_larger_law_and_has_no_interval():
    """At alpha = 20 the runs reach the target already at their smallest size, 4,000 (their crossing is 3,641):
    the law through the other alphas says 7,282 there, more than was measured, so the bound is the answer.
    With two seeds every resample of an upper bound is that size: no interval, not a zero-width one."""
    recs = [r for r in synthetic(k=1.2, jitter=0.05, wobble={20: 0.5})
            if r["config"]["alpha"] != 20 or r["config"]["n_clean"] >= 4000]
    cross = critical.crossings(recs, 0.9)
    assert cross[20.0]["status"] == "at_smallest" and cross[20.0]["low"] is None and cross[20.0]["high"] is None
    assert cross[20.0]["interval"].startswith("none: the smallest size tried already reaches the target")
    ans = critical.clean_labels(recs, alpha=20, target=0.9)
    assert ans["n_clean"] == 4000 and ans["upper_bound"] and ans["low"] is None
    assert "the law fitted through alphas 5, 10, 50, 100 says 7,282 here" in ans["how"]
    assert critical.clean_labels(recs, alpha=30, target=0.9)["how"].startswith("the fitted law")  # not measured


def test_a_seed_with_an_incomplete_line_is_left_out_not_allowed_to_cut_the_others_down():
    """Figure 1's second seed is Figure 8's at 55,000 clean labels alone until Figure 8's seed 1 is trained:
    the crossing rests on the complete line (seed 0), and the lone point is named, not averaged in."""
    recs = synthetic(k=1.2, seeds=(0,))
    lone = [dict(r, seed=1) for r in recs if r["config"]["alpha"] == 10 and r["config"]["n_clean"] == 55000]
    cross = critical.crossings(recs + lone, 0.9)
    v = cross[10.0]
    assert v["n"] == pytest.approx(200 * 10 ** 1.2) and v["status"] == "crossed"  # not "at most 55,000"
    acc = lone[0]["metrics"]["best"]["test_acc"]
    assert v["seeds"] == (0,) and v["left_out"] == {1: {55000: acc}} and v["sizes"] == SIZES
    assert cross[20.0]["left_out"] == {}
    out = critical.clean_labels(recs + lone, alpha=10, target=0.9)
    assert out["measured"]["left_out"] == [dict(alpha=10.0, seed=1, n_clean=[55000], test_acc=[acc])]
    text = critical.sentence(dict(out, label_accuracy=0.18, dataset="mnist", profile="full"), "ConvNet-4")
    assert text.endswith("Runs left out of the crossing (a line of Figure 8 not complete yet): "
                         "seed 1 at alpha = 10 (55,000: 99.9%).")
    # a target the complete line never reaches says what the left-out seed reached
    with pytest.raises(critical.NotReached, match=r"the runs the crossing rests on \(seed 0\) reach target 0.9999 at "
                       r"none of the clean-set sizes .*; runs left out \(a line not complete yet\): seed 1: 99.9% at "
                       r"55,000$"):
        critical.clean_labels(recs + lone, alpha=10, target=0.9999)
    # no seed complete (each lacks a size the other has): both seeds over the sizes they share (14 runs, more
    # than either line alone), the sizes only one ran left out and named
    a = [r for r in recs if r["config"]["n_clean"] != 250]
    b = [dict(r, seed=1) for r in recs if r["config"]["n_clean"] != 55000]
    v = critical.crossings(a + b, 0.9)[10.0]
    assert v["seeds"] == (0, 1) and v["sizes"] == SIZES[1:-1] and list(v["left_out"]) == [0, 1]
    assert list(v["left_out"][0]) == [55000] and list(v["left_out"][1]) == [250]


def test_a_measured_alpha_is_answered_by_its_own_crossing_even_with_a_law():
    """Two alphas, one seed: the law through them has no interval, the crossing at each has its bracket (the
    sizes around it); at a measured alpha the bracket is the answer's interval, between them the law answers."""
    recs = [r for r in synthetic(k=1.2, seeds=(0,)) if r["config"]["alpha"] in (0, 10, 20)]
    at = critical.clean_labels(recs, alpha=10, target=0.9)
    assert at["n_clean"] == pytest.approx(200 * 10 ** 1.2) and (at["low"], at["high"]) == (2000, 4000)
    assert at["how"] == "the crossing measured at alpha = 10"  # the law through two alphas passes through it
    between = critical.clean_labels(recs, alpha=15, target=0.9)
    assert between["how"] == "the fitted law n = c alpha^k" and between["low"] is None
    assert between["n_clean"] == pytest.approx(200 * 15 ** 1.2)


def test_not_reached_may_yet_be_reached_only_while_just_the_largest_size_was_tried():
    assert critical.may_yet_reach([55000], 50.0, still_to_train=[50.0])
    assert not critical.may_yet_reach([55000], 50.0, still_to_train=[])  # nothing left to train there
    assert not critical.may_yet_reach([20000, 55000], 50.0, still_to_train=[50.0])  # more passes fell short too
    with pytest.raises(critical.NotReached) as e:
        critical.clean_labels(synthetic(k=1.2), alpha=20, target=0.9999)
    assert e.value.sizes == SIZES and e.value.largest == 55000 and e.value.alpha == 20.0
    assert str(e.value).startswith("at alpha = 20 no stored run reaches target 0.9999 at any of the clean-set sizes")
    assert not critical.may_yet_reach([], 50.0, still_to_train=[50.0])  # nothing tried: nothing to say


def test_the_runs_kept_are_the_most_runs_on_sizes_the_seeds_share():
    """A lone point of an unfinished seed is left out; a size only one seed ran is left out instead of that
    seed's company; seeds that share no size keep the longest line, and nothing crashes."""
    line = {n: 0.5 for n in (500, 1000, 2000, 5000)}
    assert critical.kept({0: line, 1: {55000: 0.9}}) == ((0,), [500, 1000, 2000, 5000])
    assert critical.kept({0: {**line, 3000: 0.6}, 1: line}) == ((0, 1), [500, 1000, 2000, 5000])
    assert critical.kept({0: {500: 0.5}, 1: {1000: 0.6, 2000: 0.7}}) == ((1,), [1000, 2000])
    assert critical.kept({0: {500: 0.5}, 1: {1000: 0.6}}) == ((0,), [500])  # a tie of one run each: the smaller seed
    recs = synthetic(k=1.2, seeds=(0, 1))
    extra = dict(recs[0], config=dict(recs[0]["config"], n_clean=3000))  # seed 0, alpha 0, one size more
    v = critical.crossings(recs + [extra], 0.9)[0.0]
    assert v["seeds"] == (0, 1) and 3000 not in v["sizes"]
    assert v["left_out"] == {0: {3000: extra["metrics"]["best"]["test_acc"]}}
    disjoint = [r for r in recs if (r["seed"], r["config"]["n_clean"]) in ((0, 250), (1, 500), (1, 1000))]
    assert critical.crossings(disjoint, 0.9)[10.0]["seeds"] == (1,)  # no KeyError


def test_split_gives_the_runs_a_chart_should_draw_and_those_left_out():
    recs = synthetic(k=1.2, seeds=(0,))
    lone = [dict(r, seed=1) for r in recs if r["config"]["alpha"] == 10 and r["config"]["n_clean"] == 55000]
    use, left = critical.split(recs + lone)
    assert left == lone and len(use) == len(recs)


def test_a_law_below_what_a_less_noisy_line_never_reached_is_refused_even_extrapolating():
    """More noise needs at least as many clean labels: where the runs at a smaller alpha never reached the target
    up to some size, the law's smaller answer at a larger alpha is refused, extrapolating or not, and the
    calculator's table says which line fell short."""
    recs = synthetic(k=1.2, c=10.0)
    top = max(r["config"]["n_clean"] for r in recs)
    big = max(ALPHAS)
    # the largest alpha's line is cut below the target at every size: measured, it never reaches it
    recs = [dict(r, metrics=dict(best=dict(lr=0.1, test_acc=0.5))) if r["config"]["alpha"] == big else r
            for r in recs]
    far = 3 * big
    assert 10.0 * far ** 1.2 < top  # the law alone would answer below the sizes tried at the largest alpha
    for extrapolate in (False, True):  # refused for what was measured, not sent to --extrapolate first
        with pytest.raises(critical.NotReached, match=rf"the fitted law says .* at alpha = {far:g}, but at alpha = "
                                                      rf"{big:g}, no more noise, no stored run reaches target 0.9 "
                                                      rf".* up to {top:,}") as e:
            critical.clean_labels(recs, alpha=far, target=0.9, extrapolate=extrapolate)
        assert e.value.alpha == big and e.value.largest == top
    row = critical.answers(recs, [0.9], [far])[0]
    assert row["not_reached"] == top and row["not_reached_alpha"] == big
    assert f"not reached up to {top:,} at α = {big:g}, less noise" in findings.calculator_table([row], "full")
    # a law whose answer lies above every size the short line tried is not refuted by it
    small = [r for r in recs if r["config"]["alpha"] != big or r["config"]["n_clean"] <= 250]
    assert 10.0 * far ** 1.2 > 250
    with pytest.warns(UserWarning, match="extrapolates"):
        assert critical.clean_labels(small, alpha=far, target=0.9, extrapolate=True)["extrapolated"]
