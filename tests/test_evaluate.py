"""The statistic a run reports: the mean of the last evaluations, or of those where validation peaked."""

import pytest

from nlcore.evaluate import final


def curve(vals, tests=None):
    tests = tests or [v - 0.01 for v in vals]
    return [dict(step=i, val_acc=v, test_acc=t) for i, (v, t) in enumerate(zip(vals, tests))]


def test_last_is_the_mean_of_the_last_evaluations():
    out = final(curve([0.5, 0.6, 0.7, 0.6, 0.5]), 3)
    assert out["val_acc"] == pytest.approx(0.6) and out["test_acc"] == pytest.approx(0.59)
    assert "window" not in out


def test_peak_is_the_window_of_best_mean_validation_and_reports_its_test_accuracy():
    # a rise then a fall, as many passes over a small diluted set give: the peak window is [1, 3]
    c = curve([0.45, 0.66, 0.65, 0.67, 0.60, 0.50], tests=[0.4, 0.6, 0.7, 0.8, 0.9, 0.9])
    out = final(c, 3, "peak")
    assert out["window"] == [1, 3]
    assert out["val_acc"] == pytest.approx((0.66 + 0.65 + 0.67) / 3)
    assert out["test_acc"] == pytest.approx(0.7)  # the test accuracy at those evaluations, never its own peak
    assert final(curve([0.5, 0.6, 0.7]), 3, "peak")["window"] == [0, 2]  # one window: the last
    assert final(curve([0.7, 0.7, 0.7, 0.7]), 2, "peak")["window"] == [0, 1]  # a tie: the earliest
    rising = curve([0.1, 0.2, 0.3, 0.4])
    assert final(rising, 3, "peak")["test_acc"] == final(rising, 3)["test_acc"]  # still rising: the last


def test_peak_skips_windows_with_a_missing_evaluation_and_rejects_unknown_statistics():
    c = curve([0.9, 0.5, 0.6, 0.6])
    c[0]["val_acc"] = None  # a diverged or missing evaluation cannot be the peak
    assert final(c, 2, "peak")["window"] == [2, 3]
    with pytest.raises(ValueError, match="report must be 'last' or 'peak'"):
        final(c, 2, "best")


def record(per_lr, n_val=5000):
    from nlcore.evaluate import select_lr
    return dict(key="k", config=dict(mean_last=3, n_val=n_val),
                metrics=dict(per_lr=per_lr, best=select_lr(per_lr, "val"), confusion=[[1]]))


def test_restat_rereads_a_record_with_the_peak_and_may_choose_another_rate():
    from nlcore.evaluate import restat

    falls = dict(lr=0.5, diverged=False, curve=curve([0.4, 0.66, 0.67, 0.65, 0.5, 0.45, 0.44]))
    flat = dict(lr=1.0, diverged=False, curve=curve([0.4, 0.5, 0.55, 0.56, 0.57, 0.55, 0.56]))
    per_lr = [dict(p, **final(p["curve"], 3)) for p in (falls, flat)]
    rec = record(per_lr)
    assert rec["metrics"]["best"]["lr"] == 1.0  # the last 3 evaluations choose the rate that did not fall
    peak = restat(rec, "peak")
    assert peak["metrics"]["best"]["lr"] == 0.5 and peak["metrics"]["best"]["report"] == "peak"
    assert peak["metrics"]["best"]["test_acc"] == pytest.approx(0.65)
    assert peak["metrics"]["confusion"] == [[1]] and rec["metrics"]["best"]["lr"] == 1.0  # the input is untouched
    assert restat(rec, "last")["metrics"]["best"]["test_acc"] == pytest.approx(rec["metrics"]["best"]["test_acc"])
    gone = dict(lr=2.0, diverged=True, curve=[dict(step=0, val_acc=None, test_acc=None)] * 3)
    assert final(gone["curve"], 3, "peak")["test_acc"] is None
    with pytest.raises(ValueError, match="needs|none"):
        restat(record(per_lr, n_val=0), "peak")


def test_restat_gives_a_diverged_rate_no_accuracy_even_before_it_diverged():
    from nlcore.evaluate import restat

    early = curve([0.5, 0.78, 0.78, 0.78]) + [dict(step=9, val_acc=None, test_acc=None)] * 3
    gone = dict(lr=1.0, diverged=True, curve=early, **final(early, 3))
    ok = dict(lr=0.1, diverged=False, curve=curve([0.5, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7]))
    rec = record([gone, dict(ok, **final(ok["curve"], 3))])
    peak = restat(rec, "peak")["metrics"]
    assert peak["per_lr"][0]["test_acc"] is None and peak["per_lr"][0]["val_acc"] is None
    assert peak["best"]["lr"] == 0.1
