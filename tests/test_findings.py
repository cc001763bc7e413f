"""The chapters' computed sentences say what the stored runs say (synthetic summaries and records, known answers)."""

from nlcore import config, findings


def row(mean, spread=0.0, n_seeds=2, lrs=(0.1, 0.1), **fields):
    return dict(mean=mean, std=spread / 2, min=mean - spread / 2, max=mean + spread / 2, n_seeds=n_seeds,
                lrs=list(lrs), **fields)


def record(model, alpha, curve, seed=0, lr=0.1, wall=60.0, **fields):
    cfg = config.make_config("smoke", model=model, alpha=alpha, seed=seed, **fields)
    per_lr = [dict(lr=lr, diverged=False, val_acc=curve[-1], test_acc=curve[-1],
                   curve=[dict(step=i + 1, test_acc=a, val_acc=a) for i, a in enumerate(curve)])]
    return dict(key=config.config_key(cfg), config=cfg, seed=seed, wall_time_s=wall, device="cpu-x",
                metrics=dict(per_lr=per_lr, best=dict(lr=lr, test_acc=curve[-1], val_acc=curve[-1]), steps=100,
                             slots=1280))


def test_last_interval_counts_runs_still_climbing_and_names_them_in_the_caveat():
    recs = [record("perceptron", 100, [0.2, 0.25], seed=0), record("perceptron", 100, [0.3, 0.31], seed=1),
            record("convnet4", 100, [0.5, 0.45], seed=0)]
    summary = [row(0.28, model="perceptron", alpha=100.0), row(0.45, n_seeds=1, lrs=(0.1,), model="convnet4",
                                                              alpha=100.0)]
    out = findings.last_interval(recs, summary, 100.0)
    assert out["n_rising"] == "1 of 3"  # +5 points; +1 is within the 2-point threshold; -5 is a fall
    assert out["median_last_change"] == "5.0 points"  # |changes| 1, 5, 5 points
    assert "1 run lost more than 2 points" in out["rising_text"]
    caveat = out["ordering_caveat"]
    assert "1 to 2 seeds per model" in caveat and "of Perceptron was still climbing" in caveat
    assert "| Perceptron | 100 | 0.1, 0.1 | +5.0, +1.0 | 100 |" in out["table"]
    assert out["over"] == "over the last evaluation interval" and "(more than 2 points up over the last" in caveat
    # runs reported as the mean of their last 3 evaluations are judged over that window, and the texts say so
    six = [dict(r, config=dict(r["config"], mean_last=3)) for r in
           (record("perceptron", 100, [0.20, 0.21, 0.22, 0.26, 0.27, 0.27], seed=0),)]
    out = findings.last_interval(six, summary[:1], 100.0)
    assert out["over"] == "from the mean of the 3 evaluations before the last 3 to theirs"
    assert "| +5.7 |" in out["table"] and "change from the mean of the 3" in out["table"]


def test_last_interval_with_no_climbing_run_says_so():
    recs = [record("mlp1", 10, [0.8, 0.8])]
    out = findings.last_interval(recs, [row(0.8, n_seeds=1, model="mlp1", alpha=10.0)], 10.0)
    assert out["rising_text"] == "No run was still climbing by that measure."
    assert out["ordering_caveat"] == "That ranking rests on 1 seed per model."


def test_drop_and_the_fig6_sentence():
    s6 = [row(0.60, 0.02, noise_source=src, alpha=0.0) for src in ("same", "other", "white")] + [
        row(0.40, noise_source="same", alpha=50.0), row(0.50, noise_source="other", alpha=50.0),
        row(0.59, noise_source="white", alpha=50.0)]
    d, a = findings.drop(s6, "noise_source", "same")
    assert round(d, 6) == 0.2 and a == 50.0
    text = findings.fig6_text(s6)
    assert "loses 20.0 points with CIFAR-10 noise, loses 10.0 points with CIFAR-100 noise (ratio 0.50" in text
    assert text.startswith("Without noise our ConvNet-6 reaches 60.0% (") and "75% after 25 passes" in text
    assert "loses 1.0 points with white noise" in text and "spread between seeds of one point is 2.0 points" in text
    s6[-1]["mean"] = 0.603  # white noise that helps is a gain, not a "loss of -0.3 points"
    assert "and gains 0.3 points with white noise" in findings.fig6_text(s6)
    assert findings.drop(s6[3:], "noise_source", "same") == (None, None)  # no alpha = 0
    assert findings.fig6_text(s6[:3]).startswith("Not every source")


def test_fig7_gaps_say_whether_seed_ranges_overlap():
    s7 = [row(0.80, 0.02, repeat=True, alpha=20.0), row(0.79, 0.04, repeat=False, alpha=20.0),
          row(0.70, 0.0, repeat=True, alpha=50.0), row(0.60, 0.0, repeat=False, alpha=50.0)]
    text = findings.fig7_gaps(s7)
    assert "α = 20: repeated 80.0%, unique 79.0% (difference +1.0 points; seed ranges overlap)" in text
    assert "α = 50: repeated 70.0%, unique 60.0% (difference +10.0 points; seed ranges do not overlap)" in text
    assert findings.fig7_gaps([]) == "No stored runs above α = 0."


def test_fig5_lines_score_the_claim_by_the_front_pages_rule():
    rows = [row(0.90, 0.01, order=o, delta=0.0) for o in ("confusing", "reverse", "random")]
    rows += [row(0.895, 0.01, order=o, delta=0.5) for o in ("confusing", "reverse", "random")]
    rows += [row(0.60, 0.01, order=o, delta=1.0) for o in ("confusing", "reverse", "random")]
    text = findings.fig5_lines(rows)
    assert "- Uniform noise (δ = 0): 90.0% (89.5%–90.5%)." in text  # the lowest and highest seed
    assert "the largest drop from uniform at δ = 0.5 is +0.5 points; at δ = 1 the smallest drop is +30.0 points" in text
    assert "Verdict: **held**" in text
    flat = [dict(r, mean=0.9) for r in rows]  # even delta = 1 costs nothing: only half the claim
    assert "Verdict: **partly**" in findings.fig5_lines(flat)
    early = [dict(r, mean=0.7) if r["delta"] == 0.5 else r for r in rows]  # falls 20 points already at 0.5
    assert "Verdict: **not held**" in findings.fig5_lines(early)


def test_fig11_lines_check_that_accuracy_rises_with_the_batch():
    s11 = [row(0.5, loss="ce", batch_size=32, alpha=50.0), row(0.6, loss="ce", batch_size=128, alpha=50.0),
           row(0.9, loss="h_alpha", batch_size=128, alpha=0.0), row(0.88, loss="h_alpha", batch_size=128, alpha=50.0)]
    text = findings.fig11_lines(s11)
    assert "- At α = 50: batch 32 50.0% (50.0%–50.0%), batch 128 60.0% (60.0%–60.0%); H_α 88.0% (88.0%–88.0%)." in text
    assert "rises with every doubling" in text and "90.0% at α = 0, 88.0% at α = 50 (change -2.0 points)" in text
    # scored by the front page's rule, so that the chapter and the front page cannot disagree
    assert "batch 128 against batch 32: +10.0 points" in text and "Verdict: **held**" in text
    assert findings.fig11_variant(s11[2]) == "H_α (infinite batch)"
    s11[1].update(mean=0.52, min=0.47, max=0.57)  # gains 2 points, within its 10-point spread between seeds
    text = findings.fig11_lines(s11)
    assert "Verdict: **not held**" in text and "spread between seeds of either point: 10.0 points" in text
    s11[1].update(mean=0.4, min=0.4, max=0.4)
    assert "does not rise with every doubling" in findings.fig11_lines(s11)


def test_protocol_tables_and_scale_sentences_come_from_the_records():
    recs = [record("convnet4", 10, [0.9], seed=s, wall=120.0) for s in (1, 0)]
    table = findings.settings_table([("α", "10")] + findings.run_settings(recs, recs[0]["config"], devices=True))
    assert "| seeds | 0, 1 |" in table and "| training time of the runs shown | 4 min (cpu-x) |" in table
    assert table.startswith("| setting | value |\n|---|---|\n| α | 10 |")
    sentence = findings.scale_sentence(recs, "MNIST images")
    assert "clean MNIST images" in sentence and "seeds 0, 1; 4 min of training." in sentence
    assert findings.scale_sentence([], "x") == "No stored runs yet."
    # a run resumed at step 50 of 100 whose record holds only its last process's 120 s counts 240 s
    recs[0]["metrics"]["resumed_at"] = [50]
    assert "seeds 0, 1; 6 min of training." in findings.scale_sentence(recs, "MNIST images")
    recs[0]["metrics"]["resumed_at"] = []
    table, scale = findings.exp3_protocol({"Figure 7": recs, "Figure 6": []})
    assert table.count("\n| Figure 7 | mnist | ConvNet, 4 layers |") == 1 and "Figure 6" not in table
    assert "10 to 10 passes" in scale  # 100 steps of 128 over 1,280 slots


def test_drops_by_model_at_the_largest_alpha():
    s = [row(0.8, model="convnet4", alpha=0.0), row(0.5, model="convnet4", alpha=10.0)]
    assert findings.drops_by_model(s) == "- ConvNet, 4 layers: 80.0% at α = 0, loses 30.0 points by α = 10"


def test_fig1_points_ranking_and_the_paper_profile_table():
    summary = [row(0.9, model="convnet4", alpha=100.0), row(0.3, model="perceptron", alpha=100.0),
               row(0.5, model="mlp1", alpha=100.0), row(0.98, model="convnet4", alpha=0.0)]
    table, points = findings.fig1_points(summary, ("perceptron", "mlp1", "convnet4"), alphas=(0, 100))
    assert points["convnet4_100"] == "90.0%" and points["mlp1_0"] == "n/a (not run at this profile)"
    assert "| ConvNet, 4 layers | 98.0% | 90.0% |" in table
    rank = findings.fig1_ranking(summary, ("perceptron", "mlp1", "convnet4"))
    assert rank["top"] == 100.0 and rank["ordering_holds"] == "holds"
    assert rank["ranking"] == "ConvNet, 4 layers (90.0%) > MLP, 1 hidden layer (50.0%) > Perceptron (30.0%)"
    missing = findings.fig1_ranking(summary, ("perceptron", "mlp1", "mlp2", "convnet4"))  # MLP-2 not stored
    assert missing["ordering_holds"] == "does not hold"
    big = [dict(record("convnet4", 100, [0.78], n_clean=1000, epochs=2.0), device="H200", code_version="abcdef0123456")]
    text = findings.paper_profile_table(big, summary, "full", {("convnet4", 100): 0.91})
    assert text.startswith("| model | α | 1,000 clean, 2 passes (seed 0) | profile full |")
    assert "| ConvNet, 4 layers | 100 | 78.0% (lr 0.1) | 90.0% | 91% | H200, 60 s | `abcdef0123` |" in text
    assert findings.paper_profile_table([], summary, "full", {}) == "No paper-profile run of Figure 1 is stored."


def test_statistics_table_reads_both_statistics_off_the_kept_evaluations():
    def entry(lr, vals):
        return dict(lr=lr, diverged=False, curve=[dict(epoch=2.0 * (i + 1), val_acc=v, test_acc=v - 0.01)
                                                  for i, v in enumerate(vals)])
    rec = dict(key="k", config=dict(n_clean=500, alpha=10.0, mean_last=3, lr_select="val", n_val=5000), seed=0,
               metrics=dict(per_lr=[entry(0.5, [0.4, 0.66, 0.67, 0.65, 0.5, 0.45, 0.44]),
                                    entry(1.0, [0.4, 0.5, 0.55, 0.56, 0.57, 0.55, 0.56])],
                            best=dict(selected_on="val")))  # a stored record as training leaves it
    text = findings.statistics_table([rec])
    # last 3: lr 1.0 (0.56 against 0.46); peak: lr 0.5's window [1, 3] (0.66), the middle at 6 passes of 14
    assert "| 500 | 10 | 0 | 55.0% (lr 1) | 65.0% (lr 0.5) | 6.0 of 14 |" in text
    assert findings.statistics_table([]) == "No stored runs."


def test_peak_text_says_where_each_run_peaked_and_what_it_lost_after():
    def rec(n, vals, alpha=10.0):
        curve = [dict(epoch=2.0 * (i + 1), val_acc=v, test_acc=v) for i, v in enumerate(vals)]
        return dict(key=str(n), config=dict(n_clean=n, alpha=alpha, mean_last=3, lr_select="val", n_val=5000),
                    seed=0, metrics=dict(per_lr=[dict(lr=0.5, diverged=False, curve=curve)],
                                         best=dict(selected_on="val")))
    falls, rises = rec(500, [0.4, 0.66, 0.67, 0.65, 0.5, 0.45, 0.44]), rec(2000, [0.5, 0.6, 0.7, 0.8, 0.9, 0.91, 0.95])
    text = findings.peak_text([rises, falls, rec(500, [0.9] * 7, alpha=0.0)], 10.0)
    # the peak window [1, 3] (mean 0.66), its middle at 6 of 14 passes; the last 3 mean 0.4633: 19.7 points lower
    assert text == ("500 labels (rate 0.5, seed 0): validation peaked at 66.0% after 6 of 14 passes and ended at "
                    "46.3% (-19.7 points); 2,000 labels (rate 0.5, seed 0): validation highest at the end, 92.0% "
                    "after 14 passes")
    assert findings.peak_text([falls], 50.0) == "no run at α = 50 with an accuracy is stored"
    level = rec(1000, [0.5, 0.8, 0.9, 0.9, 0.9, 0.89, 0.9, 0.9, 0.9])  # peak window [2, 4], the end as high
    assert findings.peak_text([level], 10.0).endswith("validation peaked at 90.0% after 8 of 18 passes and ended "
                                                      "level with it")


def test_calculator_table_gives_each_answer_its_interval_or_says_why_not():
    rows = [dict(alpha=10, target=0.9, n_clean=2000.0, low=1500.0, high=2600.0, upper_bound=False),
            dict(alpha=0, target=0.9, n_clean=500.0, low=None, high=None, upper_bound=True),
            dict(alpha=200, target=0.9, refused="alpha = 200 is outside the measured alphas")]
    text = findings.calculator_table(rows, "full")
    assert "| 10 | 18.2% | 2,000 (1,500 to 2,600) |" in text  # label accuracy (1 + 10/10) / 11
    assert "| 0 | 100.0% | ≤ 500 |" in text
    assert "| 200 | 10.4% | outside the measured range |" in text
    open_above = dict(rows[0], high=None)  # the runs bound it below only: said, not dropped
    assert "| 10 | 18.2% | 2,000 (1,500 to unbounded) |" in findings.calculator_table([open_above], "full")
    no_law = dict(alpha=20, target=0.9, refused="target 0.9 was crossed only at alpha = 10; ...", no_law=True)
    assert "| 20 | 14.3% | no law yet |" in findings.calculator_table(rows + [no_law], "full")
    never = dict(alpha=50, target=0.9, refused="at alpha = 50 no stored run reaches ...", no_law=False,
                 not_reached=55000, sizes_tried=[55000])
    assert "| 50 | 11.8% | not reached up to 55,000 |" in findings.calculator_table(rows + [never], "full")
    assert "| 50 | 11.8% | not reached up to 55,000 so far (smaller sizes still to train) |" in \
        findings.calculator_table(rows + [never], "full", still_to_train=[50])
    never["left_out"] = {1: {55000: 0.954}}  # a run left out of the crossing that reached the target
    assert "| 50 | 11.8% | not reached up to 55,000 by the runs kept; a run left out reached it (seed 1's 55,000: " \
           "95.4%) |" in findings.calculator_table(rows + [never], "full")
    never["left_out"] = {1: {55000: 0.85}}  # ... and one that did not: not mentioned in the cell
    assert "| 50 | 11.8% | not reached up to 55,000 |" in findings.calculator_table(rows + [never], "full")
    never["sizes_tried"] = [20000, 55000]  # a smaller size (more passes) fell short too: the answer stands
    assert "| 50 | 11.8% | not reached up to 55,000 |" in \
        findings.calculator_table(rows + [never], "full", still_to_train=[50])
    assert text.endswith("Every answer is from the stored runs of profile full.")
    assert findings.calculator_table([dict(alpha=10, target=0.9, refused="no stored runs")], "full") == \
        "No stored runs."


def test_tradeoff_text_counts_the_noisy_labels_a_clean_set_is_worth():
    rows = [dict(alpha=0, target=0.9, n_clean=500.0, low=None, high=None, upper_bound=False),
            dict(alpha=10, target=0.9, n_clean=2000.0, low=1500.0, high=2600.0, upper_bound=False),
            dict(alpha=20, target=0.9, n_clean=8000.0, low=None, high=None, upper_bound=True),
            dict(alpha=50, target=0.9, refused="not reached", not_reached=55000)]
    text = findings.tradeoff_text(rows, 0.9)
    assert text.startswith("Reaching 90% from clean labels alone takes 500 of them (α = 0).")
    # 2,000 clean labels' worth at alpha = 10 is 22,000 labels; 500 / 22,000 = 2.3%
    assert "- α = 10 (labels right with probability 18.2%): 2,000 clean labels' worth, that is 22,000 labels" in text
    # and over its interval: 500 / (2,600 x 11) = 1.7% to 500 / (1,500 x 11) = 3.0%
    assert ("it pays when a noisy label costs less than 2.3% (1 in 44) of a clean one; across 1,500 to 2,600 clean "
            "labels' worth (its interval) the break-even is 1.7% (1 in 57) to 3.0% (1 in 33).") in text
    tiny = findings.tradeoff_text([rows[0], dict(rows[1], alpha=50, n_clean=40000.0, low=None, high=None)], 0.9)
    assert "costs less than 0.025% (1 in 4,080) of a clean one" in tiny  # 500 / 2,040,000: not "0.0%"
    assert (findings.share(0.0003), findings.share(0.25)) == ("0.030% (1 in 3,333)", "25%")  # two figures
    assert "- α = 20 (labels right with probability 14.3%): at most 8,000 clean labels' worth, that is at most " \
           "168,000 labels from the noisy source." in text and "α = 50" not in text
    bound = findings.tradeoff_text([dict(rows[0], upper_bound=True)] + rows[1:], 0.9)  # n*(0) <= 500
    assert "takes at most 500 of them" in bound
    assert "2.3% (1 in 44) of a clean one (less still if fewer than 500 clean labels suffice); across 1,500" in bound
    assert findings.tradeoff_text(rows[1:], 0.9) == ""  # no answer at alpha = 0: nothing to compare with


def test_critical_table_states_each_crossing_with_its_interval_and_k_with_its_own():
    cross = {0.0: dict(n=300.0, status="at_smallest", low=None, high=None),
             10.0: dict(n=2000.0, status="crossed", low=1800.0, high=2300.0, label="95%"),
             50.0: dict(n=None, status="never", low=None, high=None, sizes=[20000, 55000])}
    laws = {0.9: dict(k=None, interval="none: the law needs the target crossed at two alphas > 0", crossings=cross),
            0.8: dict(k=1.1, k_low=0.9, k_high=1.3, interval="95% bootstrap", label="95%", crossings=cross)}
    text = findings.critical_table(laws)
    assert "| 80% | ≤ 300 | 2,000 (95% 1,800 to 2,300) | not reached up to 55,000 | 1.10 (95% 0.90 to 1.30) |" in text
    # two seeds: the same numbers named a range over the seeds, not a confidence interval
    two = {a: dict(v, label="seed range") if v["status"] == "crossed" else v for a, v in cross.items()}
    ranged = findings.critical_table({0.8: dict(laws[0.8], crossings=two, label="seed range")})
    assert "| 2,000 (seed range 1,800 to 2,300) |" in ranged and "| 1.10 (seed range 0.90 to 1.30) |" in ranged
    assert "| 90% |" in text and "n/a (the law needs the target crossed at two alphas > 0)" in text
    assert findings.critical_table({}) == "No stored runs."
    # only the largest size tried and smaller ones still to train: "so far"; a left-out seed is named
    cross[50.0]["sizes"] = [55000]
    cross[10.0]["left_out"] = {1: {55000: 0.954}}
    text = findings.critical_table(laws, still_to_train=(50.0,))
    assert "| not reached up to 55,000 so far (smaller sizes still to train) |" in text
    assert text.endswith("the runs kept are those that give the most runs on shared sizes): seed 1 at α = 10 "
                         "(95.4% at 55,000).")
    cross[50.0]["sizes"] = [20000, 55000]  # a smaller size, trained for more passes, fell short too: it stands
    assert "so far" not in findings.critical_table(laws, still_to_train=(50.0,))


def test_peaks_at_end_names_the_runs_still_rising_when_they_stopped():
    from nlcore.evaluate import restat, select_lr

    def rec(vals, n):
        curve = [dict(epoch=float(i), val_acc=v, test_acc=v) for i, v in enumerate(vals)]
        per_lr = [dict(lr=0.5, diverged=False, curve=curve, val_acc=vals[-1], test_acc=vals[-1])]
        return restat(dict(key="k", seed=0, config=dict(n_clean=n, alpha=10.0, mean_last=3, n_val=5000),
                           metrics=dict(per_lr=per_lr, best=select_lr(per_lr, "val"))), "peak")

    level = rec([0.5, 0.9, 0.9, 0.9, 0.9, 0.9, 0.91], 5000)  # its last window is its best, by a third of a point
    text = findings.peaks_at_end([rec([0.5, 0.8, 0.8, 0.8, 0.6, 0.5], 500), rec([0.5, 0.6, 0.7, 0.8, 0.9], 2000),
                                  level])
    assert text == ("2 of 3 runs peaked in their last evaluations (level or rising when they stopped); 1 of them "
                    "was still climbing, more than 2 points of validation accuracy above the evaluations before "
                    "(there the length, not the clean labels, may have limited it): 2,000 clean at α = 10 "
                    "(seed 0).")
    assert findings.peaks_at_end([]) == "No run is read at its peak yet."
    a, b = rec([0.3, 0.4, 0.5, 0.6, 0.7, 0.8], 2000), rec([0.3, 0.4, 0.5, 0.6, 0.7, 0.8], 2000)
    a["config"]["delta"], b["config"]["delta"] = 0.5, 1.0  # what else tells the runs apart is named
    assert findings.peaks_at_end([a, b]).endswith(": 2,000 clean at α = 10, δ = 0.5 (seed 0), "
                                                  "2,000 clean at α = 10, δ = 1 (seed 0).")
    for r, src in ((a, "other"), (b, "same")):  # names a reader knows, not config fields
        r["config"].update(delta=0.0, noise_source=src, repeat=src == "same")
    assert findings.peaks_at_end([a, b]).endswith(": 2,000 clean at α = 10, CIFAR-100 images (seed 0), "
                                                  "2,000 clean at α = 10, same dataset (repeated) (seed 0).")


def test_edge_rates_counts_pruned_runs_that_chose_their_smaller_rate():
    def rec(lrs, best, profile="full"):
        return dict(config=dict(lrs=lrs, profile=profile), metrics=dict(best=dict(lr=best)))

    recs = [rec([0.05, 0.1], 0.05), rec([0.05, 0.1], 0.1), rec([0.01, 0.05, 0.1, 0.5, 1.0], 0.01),
            rec([0.1, 0.5], None), rec([0.1, 1.0], 0.1, "smoke")]  # the smoke profile's whole grid is two rates
    assert findings.edge_rates(recs).startswith("1 of 2 runs trained on two rates chose the smaller one")
    assert findings.edge_rates(recs[2:3] + recs[4:]) == "No run trained a pruned pair of rates."
    # the predicate both the front page's caveats and this count use: a run of one rate has no edge to name
    assert [findings.chose_smallest_rate(r) for r in recs] == [True, False, True, False, True]
    assert not findings.chose_smallest_rate(rec([0.1], 0.1))


def test_passes_table_reads_each_pass_and_checks_the_first_against_the_one_pass_run():
    def curve(accs, step0=10):
        return [dict(step=step0 * (i + 1), test_acc=a) for i, a in enumerate(accs)]

    two = dict(config=dict(epochs=2.0, evals=6, mean_last=2),
               metrics=dict(per_lr=[dict(lr=0.1, curve=curve([0.2, 0.4, 0.6, 0.8, 0.9, 0.94])),
                                    dict(lr=0.05, curve=curve([0.1, 0.2, 0.3, 0.4, None, 0.5]))]))
    one = dict(metrics=dict(per_lr=[dict(lr=0.1, curve=curve([0.2, 0.4, 0.61])), dict(lr=0.5, curve=curve([0.1] * 3))]))
    table = findings.passes_table(two, one)
    assert "| 0.1 | 50.0% | 92.0% | differs by up to 1.00 points at the 3 evaluations at the same steps |" in table
    assert "| 0.05 | 25.0% | diverged | not trained there |" in table
    one["metrics"]["per_lr"][0]["curve"][2]["test_acc"] = 0.6
    assert "identical at the 3 evaluations at the same steps" in findings.passes_table(two, one)
    assert findings.passes_table(two).count("no one-pass run stored") == 2
    one["metrics"]["per_lr"][0]["curve"][1]["test_acc"] = None  # a diverged evaluation where both were evaluated
    assert "| 0.1 | 50.0% | 92.0% | diverged at a shared evaluation |" in findings.passes_table(two, one)


def test_two_passes_text_reads_the_gain_off_its_own_passes_and_sets_the_one_pass_run_beside():
    def run(accs, epochs, wall, device, version, mean_last=2):
        curve = [dict(step=10 * (i + 1), test_acc=a) for i, a in enumerate(accs)]
        acc = None if accs[-1] is None else sum(accs[-mean_last:]) / mean_last
        entry = dict(lr=0.1, test_acc=acc, curve=curve)
        return dict(seed=0, config=dict(epochs=epochs, evals=len(accs), mean_last=mean_last), device=device,
                    wall_time_s=wall, code_version=version, metrics=dict(best=dict(lr=0.1 if acc else None,
                                                                                   test_acc=acc), per_lr=[entry]))
    two = run([0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.78, 0.82], 2.0, 5400.0, "cpu (Xeon)", "b" * 40)
    one = run([0.2, 0.3, 0.6, 0.62], 1.0, 7200.0, "cpu (EPYC)", "a" * 40)
    text = findings.two_passes_text(two, one, 0.91)
    # the gain is the run's own: pass 1 ends at mean(0.5, 0.6), pass 2 at mean(0.78, 0.82)
    assert text.startswith("Over 2 passes the run reads 80.0% with rate 0.1 (the mean of its last 2 evaluations; "
                           "its last one 82.0%); at that rate the last pass took it from 55.0% to 80.0% (+25.0 points)."
                           " The paper states 91%: the run is 11.0 points below it. Seed 0's one-pass run reads 61.0%")
    assert text.endswith("trained 1.5 h on cpu (Xeon), code `bbbbbbbbbb`; the one-pass run 2.0 h on cpu (EPYC), "
                         "code `aaaaaaaaaa`.")
    alone = findings.two_passes_text(run([0.9, 0.92, 0.92, 0.92], 2.0, 60.0, "gpu", "c" * 40), None, 0.91)
    assert "and the run reaches it" in alone and "one-pass" not in alone
    diverged = findings.two_passes_text(run([0.2, 0.3, 0.4, None], 2.0, 60.0, "gpu", "c" * 40), one, 0.91)
    assert diverged.startswith("Over 2 passes the run reads no accuracy (every rate diverged). Seed 0's one-pass")


def test_twin_rates_text_pairs_runs_that_differ_only_in_their_rates():
    def run(lrs, accs, seed=0, **cfg):
        return dict(seed=seed, config=dict(model="mlp1", alpha=100, seed=seed, lrs=lrs, **cfg),
                    metrics=dict(per_lr=[dict(lr=x, test_acc=a) for x, a in zip(lrs, accs)]))
    grid = run([0.05, 0.1, 0.5], [0.52, 0.474, 0.17])
    pair = run([0.05, 0.1], [0.52, 0.556])
    other = run([0.05, 0.1], [0.30, 0.30], inputs="standardized")  # another config: not a twin
    text = findings.twin_rates_text([grid], [pair, other], ("figure", "ablation"))
    assert ("MLP, 1 hidden layer seed 0, rate 0.05: 52.0% against 52.0%; MLP, 1 hidden layer seed 0, rate 0.1: "
            "47.4% against 55.6%. They differ by up to 8.2 points") in text  # the gap of the percentages shown
    assert findings.twin_rates_text([grid], [other], ("figure", "ablation")).startswith("No run of the figure")


def test_lag_text_sets_the_reported_mean_beside_the_last_evaluation():
    def run(seed, acc, last, k=3):
        entry = dict(lr=0.1, test_acc=acc, curve=[dict(step=1, test_acc=0.1), dict(step=2, test_acc=last)])
        return dict(seed=seed, config=dict(model="convnet4", alpha=100.0, mean_last=k),
                    metrics=dict(best=dict(lr=0.1, test_acc=acc), per_lr=[entry]))
    text = findings.lag_text([run(1, 0.518, 0.6), run(0, 0.61, 0.697)], "convnet4", 100)
    assert text == ("The reported accuracy is the mean of the last 3 evaluations, which lags a run still rising: "
                    "ConvNet, 4 layers at α = 100 reads 61.0% and 51.8% (seeds 0, 1), and 69.7% and 60.0% at the "
                    "last evaluation.")
    assert findings.lag_text([run(0, 0.6, 0.6, k=1)], "convnet4", 100) == ""
    assert findings.lag_text([], "convnet4", 100) == ""


def test_the_two_pass_run_is_evaluated_at_every_step_the_one_pass_run_was():
    """fig1len's first-pass evaluations fall on Figure 1's ConvNet-4 alpha = 100 run's steps, the last one too,
    and lr 0.1 takes the same slot of the rate grid (its dropout masks) as it had there."""
    from nlcore import sweep, train

    (two,) = sweep.figure_configs("fig1len", "full")
    one = sweep.make_config("full", model="convnet4", alpha=100, lrs=[0.1, 0.5])
    assert train.num_steps(two) == 2 * train.num_steps(one)
    assert set(train.eval_steps(one)) <= set(train.eval_steps(two)) and len(train.eval_steps(two)) == 24
    assert two["lrs"].index(0.1) == one["lrs"].index(0.1) == 0


def test_against_paper_puts_our_crossings_for_90_percent_beside_the_two_stated_ones():
    cross = {10.0: dict(n=3848.0, status="crossed", low=2000.0, high=5000.0, per_seed={0: 3848.0}, sizes=[500, 5000],
                        seeds=(0,), left_out={1: {55000: 0.95}}),
             50.0: dict(n=None, status="never", low=None, high=None, per_seed={0: None}, sizes=[500, 20000])}
    text = findings.against_paper({0.9: dict(crossings=cross)})
    assert ("- α = 10: ours 3,848 (between the measured sizes 2,000 and 5,000; seed 0 only; 1 run left out, named "
            "under the table), 1.9 times the paper's; the paper about 2,000") in text
    assert "- α = 50: ours not reached at the sizes tried (up to 20,000); the paper about 10,000" in text
    assert findings.against_paper({}).count("ours not run yet") == 2
    bound = {10.0: dict(n=55000.0, status="at_smallest", low=None, high=None, per_seed={0: 55000.0, 1: 55000.0},
                        sizes=[55000], seeds=(0, 1), left_out={})}
    assert ("- α = 10: ours at most 55,000 (seeds 0, 1), at most 27.5 times the paper's"
            in findings.against_paper({0.9: dict(crossings=bound)}))
    assert ("27.5 times the paper's; smaller sizes are still to train; the paper"
            in findings.against_paper({0.9: dict(crossings=bound)}, still_to_train=(10,)))


def test_line_text_reads_one_line_of_figure_8_smallest_size_first():
    cross = {10.0: dict(curve={5000: 0.9, 1000: 0.77}, seeds=(0,)), 0.0: dict(curve={500: 0.98}, seeds=(0, 1))}
    assert findings.line_text(cross, 10.0) == "at α = 10 (seed 0), 77.0% at 1,000, 90.0% at 5,000 clean labels"
    assert findings.line_text(cross, 0) == "at α = 0 (mean of seeds 0, 1), 98.0% at 500 clean labels"
    assert findings.line_text(cross, 50.0) == "no run at α = 50 is stored yet"


def test_missing_text_names_the_points_not_stored_grouped_along_alpha():
    from nlcore import sweep

    planned = sweep.figure_configs("fig1", "cpu")
    gone = lambda c: c["model"] == "convnet4" and c["seed"] == 1 and c["alpha"] >= 50  # noqa: E731
    held = [dict(config=c) for c in planned if not gone(c)]
    # the MLPs' dropout differs from the other models' but names nothing: it is not listed
    assert findings.missing_text("fig1", "cpu", held) == " Not stored yet: ConvNet, 4 layers, seed 1 at α = 50, 100."
    assert findings.missing_text("fig1", "cpu", [dict(config=c) for c in planned]) == ""
    assert findings.missing_text("fig1", "cpu", held[:5], most=2).startswith(" Not stored yet: 55 runs")


def test_fig12_text_gives_each_best_rate_its_lead_over_the_next():
    def rec(alpha, accs):
        per_lr = [dict(lr=lr, diverged=False, test_acc=a, val_acc=a) for lr, a in accs.items()]
        return dict(config=dict(model="convnet4", alpha=alpha), seed=0,
                    metrics=dict(per_lr=per_lr, best=dict(lr=max(accs, key=accs.get))))
    text = findings.fig12_text([rec(0.0, {0.1: 0.5, 1.0: 0.6}), rec(10.0, {0.1: 0.40, 1.0: 0.399})])
    assert "α = 0: 1 (+10.0 points over 0.1), α = 10: 0.1 (+0.1 points over 1)" in text
    assert "lower than without noise" in text and "Without noise the best rate is 1" in text
    tie = findings.fig12_text([rec(0.0, {0.1: 0.5, 1.0: 0.6}), rec(10.0, {0.1: 0.4, 1.0: 0.4})])
    assert "α = 10: 0.1 (+0.0 points over 1)" in tie  # a tie names the other rate, never the best itself


def test_missing_text_names_points_by_the_fields_that_name_them():
    from nlcore import sweep

    planned = sweep.figure_configs("fig11", "full", seeds=[0])
    held = [dict(config=c) for c in planned if not (c["alpha"] == 100 and c["batch_size"] in (32, 128))]
    # min_steps differs with the batch but follows from it; the loss names the H_alpha run
    assert findings.missing_text("fig11", "full", held, seeds=[0]) == (
        " Not stored yet: cross-entropy, batch 32 at α = 100; cross-entropy, batch 128 at α = 100; "
        "H_α, batch 128 at α = 100.")


def test_floor_text_names_the_lines_that_stop_at_their_largest_size():
    def rec(alpha, n, seed, acc):
        return dict(config=dict(alpha=alpha, n_clean=n), seed=seed, metrics=dict(best=dict(test_acc=acc)))
    recs = [rec(10.0, 55000, 0, 0.97), rec(10.0, 20000, 0, 0.95), rec(100.0, 55000, 0, 0.61),
            rec(100.0, 55000, 1, 0.75), rec(50.0, 55000, 0, 0.845)]
    text = findings.floor_text(recs, 0.70)
    assert text.endswith("reaches it: α = 100 (61.0% at 55,000 clean labels).")
    assert findings.floor_text(recs[:2], 0.70) == ""


def test_exponent_text_puts_our_k_beside_the_papers_two_points():
    laws = {0.8: dict(k=None, interval="none: the law needs the target crossed at two alphas > 0"),
            0.9: dict(k=1.1656, k_low=None, k_high=None, alphas=[10.0, 20.0],
                      interval="none: a line through two alphas says nothing of its error"),
            0.95: dict(k=1.3, k_low=1.1, k_high=1.5, alphas=[10.0, 20.0, 50.0],
                       interval="95% bootstrap over seeds (2000 resamples, paired across alphas)", label="95%")}
    text = findings.exponent_text(laws)
    assert text.startswith("Our exponent k: 1.17 at 90% (through α = 10, 20; no interval: a line through two alphas")
    assert "1.30 at 95% (through α = 10, 20, 50; 95% 1.10 to 1.50: bootstrap over seeds" in text
    assert text.endswith("give k = log(10,000/2,000)/log(50/10) = 1.00, and its Figure 9 and text say "
                         "slightly above 1.")
    assert findings.exponent_text({0.8: laws[0.8]}).startswith("No target was crossed at two α > 0 yet")


def test_devices_line_counts_each_device_and_names_few_gpu_runs():
    def rec(device, seed, precision, **extra):
        return dict(device=device, seed=seed, config=dict(model="convnet4", alpha=100.0),
                    metrics=dict(precision=precision), **extra)

    cpu = [rec("cpu (AMD EPYC, 2 threads, avx2)", s, "fp32") for s in (0, 1)]
    gpu = rec("NVIDIA H200", 1, "bf16", note="trained while 5 processes shared the GPU under MPS")
    line = findings.devices_line(cpu + [gpu])
    assert line.startswith("Where the runs shown trained: 2 on cpu (AMD EPYC, 2 threads, avx2), fp32; "
                           "1 on NVIDIA H200, bf16: ConvNet, 4 layers at α = 100, seed 1, trained while 5 "
                           "processes shared the GPU under MPS.")
    assert "reproducibility page" in line
    assert "reproducibility" not in findings.devices_line(cpu) and findings.devices_line([]) == ""
    many = findings.devices_line([rec("NVIDIA H200", s, "bf16") for s in range(4)])
    assert many.startswith("Where the runs shown trained: 4 on NVIDIA H200, bf16.")  # four: counted, not named
    mixed = [rec("NVIDIA H200", s, "bf16", note=f"trained while {k} processes shared the GPU")
             for s, k in ((0, 4), (1, 5), (2, 5), (3, 5))]
    assert findings.devices_line(mixed).startswith(
        "Where the runs shown trained: 4 on NVIDIA H200, bf16 (1 trained while 4 processes shared the GPU, "
        "3 trained while 5 processes shared the GPU).")


def test_the_floor_line_sets_the_runs_without_noise_beside_those_with_the_noisy_runs_floor(results_root):
    from nlcore import evaluate, results, sweep

    def store(cfg, acc):
        curve = [dict(step=i, epoch=i, val_acc=acc, test_acc=acc) for i in range(3)]
        per_lr = [dict(lr=lr, diverged=False, val_acc=acc, test_acc=acc, curve=curve) for lr in cfg["lrs"]]
        results.save(cfg, dict(per_lr=per_lr, best=evaluate.select_lr(per_lr, "val")), 1.0)

    ours = [c for c in sweep.figure_configs("fig6", "full") if c["alpha"] == 0]
    assert len(ours) == 2 and all(c["min_steps"] == 0 for c in ours)
    for c in ours:
        store(c, 0.40 + 0.01 * c["seed"])
    recs = sweep.figure_records("fig6", "full")
    assert findings.floor_line(recs) == ""  # no run with the floor stored
    for c in ours:
        store(dict(c, min_steps=sweep.CIFAR_MIN_STEPS), 0.52)
    line = findings.floor_line(sweep.figure_records("fig6", "full"))
    assert "ConvNet, 6 layers 40.5% (40.0%–41.0%) in 8 passes, 52.0% (52.0%–52.0%) in 25.6 (the floor's 1,000 steps)" \
        in line
