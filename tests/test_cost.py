"""The cost of a figure: work counted from its configs, time from measured speeds, unmeasured models named."""

import json

from nlcore import cost, sweep, train


def test_work_counts_every_rate_and_time_is_work_over_the_measured_rate():
    cfgs = [c for c in sweep.figure_configs("fig1", "cpu") if c["model"] in ("perceptron", "mlp1")]
    assert all(cost.images(c) == train.num_steps(c) * c["batch_size"] * len(c["lrs"]) for c in cfgs)
    rate = {("perceptron", "mnist"): 1000.0}
    secs, unknown = cost.estimate(cfgs, rate, {("mlp1", "mnist"): 500.0})
    want = sum(cost.images(c) / (1000.0 if c["model"] == "perceptron" else 500.0) for c in cfgs)
    assert secs == want and unknown == set()
    secs, unknown = cost.estimate(cfgs, rate, {})
    assert unknown == {"mlp1"} and cost.predict(cfgs, rate, {}).endswith("+ mlp1: not measured")
    assert cost.predict(cfgs, {}, {}) == "mlp1, perceptron: not measured"


def test_a_chapter_line_names_what_is_not_measured_instead_of_guessing(monkeypatch):
    monkeypatch.setattr(cost, "rates", lambda gpu=False, records=None: {} if gpu else {("convnet2", "mnist"): 5500.0})
    monkeypatch.setattr(cost, "bench_rates", lambda gpu=False: {})
    line = cost.line("fig11", "full")
    hours = sum(map(cost.images, sweep.figure_configs("fig11", "full"))) / 5500.0 / 3600
    assert line.startswith("The `full` profile's 40 runs of Figure 11 (")
    assert f"would take {hours:.1f} h on the 2-core AMD EPYC and an unknown time on one NVIDIA H200 " \
           "(no measured speed of ConvNet, 2 layers there: runs that shared the GPU do not count)" in line


def test_the_resnet_cost_is_read_from_the_stored_step_times_or_said_to_be_unmeasured(tmp_path):
    assert "not measured" in cost.resnet_cost_line(tmp_path)
    m = dict(device="cpu (X, 2 threads)", step_s=dict(fp32=17.0, bf16=4.07), precision="bf16",
             fig2_paper_runs=33, fig2_paper_hours=873.98, hours_per_run_seed0={"alpha=0": 4.42, "alpha=10": 48.56})
    (tmp_path / "resnet101-cpu-x.json").write_text(json.dumps(m))
    line = cost.resnet_cost_line(tmp_path)
    assert ("on cpu (X, 2 threads) (not the cost page's CPU) a step of one learning rate takes 4.07 s "
            "(bf16; 17.00 s in fp32)") in line
    assert "33 ResNet-101 runs would take 874 h (48.6 h for one run at α = 10)" in line
    assert cost.resnet_cost_line() != cost.resnet_cost_line(tmp_path / "none")  # the measurement stored here


def test_the_spent_table_sets_what_the_stored_runs_took_beside_the_prediction(monkeypatch):
    monkeypatch.setattr(cost, "rates", lambda gpu=False, records=None: {("convnet4", "mnist"): 2000.0})
    monkeypatch.setattr(cost, "bench_rates", lambda gpu=False: {})
    monkeypatch.setattr(cost.results, "load_all", lambda root=None: [])
    (cfg,) = sweep.figure_configs("fig1len", "full")
    run = dict(config=cfg, device="cpu (Intel(R) Xeon(R) Processor, 2 threads)", wall_time_s=5400.0,
               metrics=dict(resumed_at=[]))
    (cfg11,) = [c for c in sweep.figure_configs("fig11", "full") if c["seed"] == 0 and c["alpha"] == 100
                and c["batch_size"] == 32]
    gpu = dict(run, config=cfg11, device="NVIDIA H200", wall_time_s=60.0)
    table = cost.spent_table({"fig1len": [run], "fig11": [gpu]}, "full").splitlines()
    assert table[0].startswith("| sweep | runs stored | predicted on the 2-core AMD EPYC (all runs) |")
    predicted = cost.hours(cost.images(cfg) / 2000.0)
    assert table[2] == f"| `fig1len` | 1 of 1 | {predicted} | 1.5 h | Intel(R) Xeon(R) Processor |"
    assert table[3].startswith("| `fig11` | 1 of 40 |") and table[3].endswith("| 1 min | GPU |")
    assert cost.spent_table({"fig1len": []}, "full").splitlines()[2] == f"| `fig1len` | 0 of 1 | {predicted} | – | – |"
