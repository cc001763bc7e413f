"""The chapters' computed tables and sentences say what the records say (synthetic records, known answers)."""

import pytest

from nlcore import config, report


def record(model, seed, curve_acc, lr=0.1, **fields):
    cfg = config.make_config("full", model=model, alpha=fields.pop("alpha", 100), seed=seed, **fields)
    curve = [dict(step=i + 1, epoch=(i + 1) / len(curve_acc), test_acc=a, val_acc=a, train_loss=1.0,
                  dark_drift=0.0 if cfg["inputs"] == "unit" else 0.5, lit_drift=0.1) for i, a in enumerate(curve_acc)]
    acc = sum(curve_acc[-3:]) / 3
    per_lr = [dict(lr=lr, diverged=False, curve=curve, val_acc=acc, test_acc=acc)]
    best = dict(lr=lr, val_acc=acc, test_acc=acc, selected_on="val")
    return dict(key=config.config_key(cfg), config=cfg, seed=seed, metrics=dict(per_lr=per_lr, best=best),
                wall_time_s=1800.0, device="cpu (test)")


def ablation():
    recs = []
    for seed in (0, 1):
        for inputs, base in (("unit", 0.30), ("standardized", 0.20)):
            for rho, bump in ((0.95, 0.01), (0.9, 0.0)):
                recs.append(record("perceptron", seed, [base + bump] * 12, inputs=inputs, rho=rho))
    return recs


def test_factor_effects_average_over_seeds_and_the_other_factor():
    text = report.factor_effects(ablation(), ("inputs", "rho"))
    assert "**inputs x / 255 against standardized**" in text and "30.5% against 20.5% (+10.0 points)" in text
    assert "**AdaDelta ρ 0.95 against 0.9**" in text and "26.0% against 25.0% (+1.0 points)" in text
    # seeds 2 points apart: the inputs move the model by more than that, rho by less
    spread = ablation()
    for r in spread:
        r["metrics"]["best"]["test_acc"] += 0.02 * r["seed"]
    inputs, rho = report.factor_effects(spread, ("inputs", "rho")).splitlines()
    assert inputs.endswith("Every model moves by more than the largest spread between the seeds of one row "
                           "(2.0 points).")
    assert rho.endswith("Within the largest spread between the seeds of one row (2.0 points) for every model: no "
                        "measurable difference at these seeds.")


def test_ablation_table_rows_spread_and_drift():
    table = report.ablation_table(ablation(), ("inputs", "rho"))
    assert table.startswith("| model | inputs | AdaDelta ρ | test accuracy |")  # names, not config fields
    rows = table.splitlines()[2:]
    assert len(rows) == 4
    unit95 = next(r for r in rows if "| x / 255 | 0.95 |" in r)
    assert "31.0% (31.0%–31.0%, 2 seeds)" in unit95 and "0.1, 0.1" in unit95 and unit95.endswith("| 0.0000 |")
    assert next(r for r in rows if "| standardized | 0.9 |" in r).endswith("| 0.5000 |")


def test_plateau_table_compares_the_last_evaluations_with_those_before():
    rising = record("mlp1", 0, [0.1] * 6 + [0.40, 0.40, 0.40, 0.50, 0.50, 0.50])
    flat = record("mlp1", 1, [0.1] * 6 + [0.50, 0.50, 0.50, 0.50, 0.50, 0.50])
    (row,) = report.plateau_table([rising, flat]).splitlines()[2:]
    assert row == "| MLP, 1 hidden layer | 100 | 50.0% | +5.0 points | 2 | 30 min |"
    # a GPU run's wall time is not what a CPU pass costs: the hours are the CPU runs', "–" without one
    gpu = dict(flat, device="NVIDIA H200", wall_time_s=60.0)
    assert report.plateau_table([rising, gpu]).splitlines()[2].endswith("| 2 | 30 min |")
    assert report.plateau_table([gpu]).splitlines()[2].endswith("| 1 | – |")


def test_vs_paper_marks_what_is_not_stored_and_quotes_the_paper():
    from nlcore import results

    recs = [record("perceptron", s, [0.4] * 12) for s in (0, 1)]
    table = report.vs_paper(results.summarize(recs), "fig1", ("perceptron", "convnet4"), (0, 100))
    assert "| Perceptron | not stored yet | 40.0% (40.0%–40.0%, 2 seeds); paper: 40% |" in table
    assert "| ConvNet, 4 layers | not stored yet | not stored yet; paper: 91% |" in table


def test_split_table_reads_what_the_test_set_would_have_chosen():
    r = record("perceptron", 0, [0.5] * 12, alpha=10)
    r["metrics"]["per_lr"].append(dict(lr=0.5, diverged=False, curve=[], val_acc=0.4, test_acc=0.6))
    table = report.split_table([r])
    assert "| Perceptron | 55,000 | val | 50.0% (seed 0 only) | 0.1 | 0.5 (60.0%) |" in table


@pytest.mark.parametrize("fields", [("inputs",), ("inputs", "rho")])
def test_nothing_stored_reads_as_such(fields):
    assert report.factor_effects([], fields) == "No ablation run is stored yet."


def test_init_drift_table_sets_the_initial_weights_beside_how_far_they_moved():
    recs = []
    for init, drift in (("keras", 0.04), ("torch", 0.05)):
        r = record("perceptron", 0, [0.3] * 12, init=init)
        for e in r["metrics"]["per_lr"][0]["curve"]:
            e["lit_drift"] = drift
        recs.append(r)
    for dropout, acc in ((0.2, 0.5), (0.0, 0.6)):  # one config per dropout: not pooled as two seeds
        r = record("mlp1", 0, [acc] * 12, init="keras", mlp_dropout=dropout)
        for e in r["metrics"]["per_lr"][0]["curve"]:
            e["lit_drift"] = 0.01
        recs.append(r)
    rows = report.init_drift_table(recs).splitlines()[2:]
    keras_rms, torch_rms = (6 / (784 + 10)) ** 0.5 / 3 ** 0.5, (1 / 784) ** 0.5 / 3 ** 0.5  # U(-b, b): b / sqrt(3)
    perceptron = [r for r in rows if "Perceptron" in r]
    cells = [[c if i < 3 else float(c) for i, c in enumerate(r.split(" | ")[:4])] for r in perceptron]
    assert cells[0][1:4] == ["keras", "–", pytest.approx(keras_rms, abs=1e-3)]
    assert "| 0.1 | 0.0400 | 30.0% | 1 |" in perceptron[0]
    assert cells[1][1:4] == ["torch", "–", pytest.approx(torch_rms, abs=1e-3)] and "| 0.0500 |" in perceptron[1]
    mlp = [r for r in rows if "Perceptron" not in r]
    assert len(mlp) == 2 and "| keras | 0 |" in mlp[0] and "| 60.0% | 1 |" in mlp[0] and "| 50.0% | 1 |" in mlp[1]
