"""Figure 9's arithmetic on summaries whose answer is known."""

import math
import re
from pathlib import Path

import pytest

from nlcore import analysis, paper


def _rows(alpha, accs):
    return [dict(alpha=alpha, n_clean=n, mean=a) for n, a in accs.items()]


def test_critical_n_clean_interpolates_in_log_n():
    s = _rows(10.0, {1000: 0.5, 4000: 0.9}) + _rows(50.0, {1000: 0.95, 4000: 0.97}) + _rows(90.0, {1000: 0.2})
    crit = analysis.critical_n_clean(s, 0.7)
    assert crit[10.0]["status"] == "crossed" and crit[10.0]["n"] == pytest.approx(2000.0)  # halfway in log n
    assert crit[50.0] == dict(n=1000.0, status="at_smallest")
    assert crit[90.0] == dict(n=None, status="never", sizes=[1000])


def test_power_law_recovers_a_known_exponent_and_its_error():
    alphas = [10, 20, 50, 100]
    exact = [3 * a**1.2 for a in alphas]
    f = analysis.power_law(alphas, exact)
    assert f["k"] == pytest.approx(1.2) and f["k_se"] == pytest.approx(0.0, abs=1e-9) and f["points"] == 4
    noisy = [n * m for n, m in zip(exact, (1.1, 0.9, 1.1, 0.9))]
    g = analysis.power_law(alphas, noisy)
    # the ordinary least-squares standard error of the slope, written out
    x = [math.log(a) for a in alphas]
    y = [math.log(n) for n in noisy]
    xm, ym = sum(x) / 4, sum(y) / 4
    k = sum((a - xm) * (b - ym) for a, b in zip(x, y)) / sum((a - xm) ** 2 for a in x)
    c = ym - k * xm
    se = math.sqrt(sum((b - k * a - c) ** 2 for a, b in zip(x, y)) / 2 / sum((a - xm) ** 2 for a in x))
    assert g["k"] == pytest.approx(k) and g["k_se"] == pytest.approx(se)
    two = analysis.power_law([10, 50, 0], [2000, 10000, 5])  # the paper's two stated points (alpha = 0 ignored)
    assert two["k"] == pytest.approx(1.0) and two["k_se"] is None and two["points"] == 2
    assert analysis.power_law([10], [100])["k"] is None


def test_best_lr_by_alpha_counts_diverged_rates_as_zero():
    rows = [dict(alpha=0.0, lr=1.0, acc=0.9), dict(alpha=0.0, lr=0.1, acc=0.8),
            dict(alpha=10.0, lr=1.0, acc=None), dict(alpha=10.0, lr=0.1, acc=0.5)]
    assert analysis.best_lr_by_alpha(rows) == {0.0: 1.0, 10.0: 0.1}


def test_mean_acc_by_lr_averages_seeds_at_one_alpha():
    rows = [dict(alpha=10.0, lr=0.1, acc=0.5), dict(alpha=10.0, lr=0.1, acc=0.7),
            dict(alpha=10.0, lr=1.0, acc=None), dict(alpha=0.0, lr=0.1, acc=0.99)]
    assert analysis.mean_acc_by_lr(rows, 10.0) == pytest.approx({0.1: 0.6, 1.0: 0.0})
    assert analysis.mean_acc_by_lr(rows, 50.0) == {}


PAPER = sorted((Path(__file__).resolve().parents[2] / "shared" / "paper").glob("*.md"))


@pytest.mark.skipif(not PAPER, reason="the paper's text (../shared/paper) is not beside this checkout")
def test_every_quote_of_the_paper_is_in_its_text_and_states_its_number():
    """nlcore.paper's quotes are verbatim (up to how alpha is written), and each contains its number."""
    def norm(s):
        s = " ".join(s.replace("$", "").replace("\\alpha", "alpha").replace("α", "alpha").split())
        return s.replace(" )", ")").replace(" ,", ",")

    text = norm(PAPER[0].read_text())
    for (figure, model, alpha), (acc, quote) in paper.ACCURACY.items():
        said = re.search(rf"(alpha = {alpha:g}\b|\b{alpha:g} (noisy|random) labels)", norm(quote))
        assert norm(quote) in text and said, (figure, model, quote)
        assert f"{acc:.0%}" in quote or f"{acc * 100:.0f} percent" in quote, (figure, quote)
    for n, quote in paper.CRITICAL_N_CLEAN_90.values():
        assert norm(quote) in text and f"{n:,}" in quote
    for claim, quote in paper.CLAIMS.items():
        assert norm(quote) in text, claim
