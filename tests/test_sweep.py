"""The results store and sweeps: records, skipping, resume after a crash, corrupt and unwritable stores."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nlcore import config, evaluate, findings, results, sweep, train


def _cfgs():
    return sweep.figure_configs("fig1", "smoke", models=["perceptron"], alphas=[0, 1, 2])


def test_record_holds_config_metrics_and_provenance(results_root):
    cfg = _cfgs()[0]
    (rec,) = sweep.run([cfg], progress=False, log=None)
    stored = json.loads(results.run_path(cfg).read_text())
    assert stored == rec
    assert stored["key"] == config.config_key(cfg) == results.run_path(cfg).stem
    assert stored["config"] == cfg and stored["seed"] == cfg["seed"]
    for k in ("code_version", "torch_version", "device", "wall_time_s", "created"):
        assert stored[k]
    assert stored["metrics"]["best"]["test_acc"] is not None
    # on a CPU the device names the machine's vector unit: machines of one model name differ in it
    flags = next((ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags")), "") \
        if Path("/proc/cpuinfo").exists() else ""
    if "avx2" in flags.split():
        assert stored["device"].startswith("cpu (") and stored["device"].rstrip(")").rsplit(", ", 1)[-1] in (
            "amx_bf16", "avx512_bf16", "avx512f", "avx2")


class Crash(Exception):
    pass


def test_sweep_skips_done_and_resumes_after_crash(results_root, monkeypatch):
    cfgs = _cfgs()
    real, calls, crash = train.train, [], [True]

    def crashing(cfg, **kw):
        calls.append(cfg["alpha"])
        if crash[0] and len(calls) == 2:
            raise Crash("simulated crash in the second run")
        return real(cfg, **kw)

    monkeypatch.setattr(train, "train", crashing)
    with pytest.raises(Crash):
        sweep.run(cfgs, progress=False, log=None)
    assert [results.run_path(c).exists() for c in cfgs] == [True, False, False]
    assert not list((results_root / "runs").glob("*.tmp"))  # no partial file
    first = results.run_path(cfgs[0]).read_text()
    calls.clear()
    crash[0] = False
    recs = sweep.run(cfgs, progress=False, log=None)
    assert calls == [1.0, 2.0]  # only the missing runs were trained
    assert results.run_path(cfgs[0]).read_text() == first  # the stored run was not touched
    assert [r["config"]["alpha"] for r in recs] == [0.0, 1.0, 2.0]
    calls.clear()
    sweep.run(cfgs, progress=False, log=None)
    assert calls == []


def test_corrupt_result_is_reported_and_kept(results_root, monkeypatch):
    cfg = _cfgs()[0]
    path = results.run_path(cfg)
    path.parent.mkdir(parents=True)
    path.write_text('{"config": ')
    monkeypatch.setattr(train, "train", lambda *a, **k: pytest.fail("trained despite a corrupt store"))
    with pytest.raises(results.ResultsError, match=path.name):
        sweep.run([cfg], progress=False, log=None)
    assert path.read_text() == '{"config": '


def test_unwritable_results_dir_fails_before_training(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(train, "train", lambda *a, **k: pytest.fail("trained despite an unwritable store"))
    with pytest.raises(results.ResultsError, match="not writable"):
        sweep.run(_cfgs(), root=blocker / "results", progress=False, log=None)


def test_summarize_over_seeds(results_root):
    cfgs = sweep.figure_configs("fig1", "smoke", models=["perceptron"], alphas=[0], seeds=[0, 1])
    recs = sweep.run(cfgs, progress=False, log=None)
    (s,) = results.summarize(recs)
    accs = [r["metrics"]["best"]["test_acc"] for r in recs]
    assert s["n_seeds"] == 2 and s["seeds"] == [0, 1]
    assert s["mean"] == pytest.approx(sum(accs) / 2) and s["min"] == min(accs) and s["max"] == max(accs)


def test_status_cli_json(results_root):
    sweep.run(_cfgs()[:1], progress=False, log=None)
    out = subprocess.run([sys.executable, "-m", "nlcore", "status", "--json"], capture_output=True, text=True,
                         env=dict(os.environ), check=True).stdout
    st = json.loads(out)
    assert st["fig1"]["smoke"]["stored"] == 1 and st["fig1"]["smoke"]["total"] == 10
    assert st["fig1"]["cpu"]["total"] == 60 and st["all_stored_runs"] == 1


def test_status_names_unreadable_records_and_fails(results_root):
    """A torn or foreign file is not counted as stored: status lists it by path and exits 1."""
    (rec,) = sweep.run(_cfgs()[:1], progress=False, log=None)
    path = results.run_path(rec["config"])
    path.write_text(path.read_text()[:100])  # torn mid-write by something other than nlcore
    r = subprocess.run([sys.executable, "-m", "nlcore", "status"], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 1 and f"unreadable: {path}" in r.stderr and "not valid JSON" in r.stderr
    assert "fig1 smoke: 0/10" in r.stdout and "stored runs: 0" in r.stdout
    st = sweep.status()
    assert st["fig1"]["smoke"]["stored"] == 0 and list(st["unreadable"]) == [str(path)]
    path.unlink()
    r = subprocess.run([sys.executable, "-m", "nlcore", "status"], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 0 and "unreadable" not in r.stderr


def test_sweep_cli_rejects_bad_profile():
    r = subprocess.run([sys.executable, "-m", "nlcore", "sweep", "fig1", "--profile", "huge"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "profile" in r.stderr


def test_expand_shared_draws_the_one_zero_run_on_every_line():
    """alpha = 0 is one stored run (the source cannot matter): each line gets it, other points stay once."""
    s = [dict(alpha=0.0, noise_source="same", mean=0.9), dict(alpha=5.0, noise_source="white", mean=0.8),
         dict(alpha=5.0, noise_source="same", mean=0.5)]
    rows = results.expand_shared(s, {"alpha": 0}, "noise_source", ("same", "white"))
    assert [(r["noise_source"], r["alpha"], r["mean"]) for r in rows] == [
        ("same", 0.0, 0.9), ("same", 5.0, 0.5), ("white", 0.0, 0.9), ("white", 5.0, 0.8)]
    assert s[0]["noise_source"] == "same"  # the input is not modified
    assert [bool(r.get("shared")) for r in rows] == [True, False, True, False]
    from nlcore import plots

    row = dict(rows[0], seeds=[0], lrs=[0.1], std=0.0, min=0.9, max=0.9, selected_on=["val"], profile=["cpu"],
               diverged=[])
    assert "one set of runs drawn on every line: at alpha = 0 the noise_source cannot matter" in plots.hover(row, ())


def test_costly_runs_train_the_pilots_rate_and_the_next_smaller_one(results_root):
    """Fig 1 at the full profile: ConvNet-4 above alpha = 20 trains two rates, from the stored pilot run."""
    def convnet(alpha):
        (c,) = [c for c in sweep.figure_configs("fig1", "full", models=["convnet4"], seeds=[0]) if c["alpha"] == alpha]
        return c

    waiting = sweep.figure_configs("fig1", "full", models=["convnet4"], seeds=[0])
    assert {c["alpha"] for c in waiting} == {0, 5, 10, 20}  # no pilot stored yet: alpha 50 and 100 wait for it
    pilot = convnet(20)
    per_lr = [dict(lr=lr, diverged=False, val_acc=acc, test_acc=acc, curve=[])
              for lr, acc in zip(pilot["lrs"], [0.5, 0.8, 0.9, 0.85, 0.2])]
    results.save(pilot, dict(per_lr=per_lr, best=evaluate.select_lr(per_lr, "val")), 1.0)
    assert convnet(100)["lrs"] == [0.05, 0.1] and convnet(50)["lrs"] == [0.05, 0.1]
    assert convnet(20)["lrs"] == pilot["lrs"] and convnet(10)["lrs"] == pilot["lrs"]
    mlp = [c for c in sweep.figure_configs("fig1", "full", models=["mlp1"]) if c["alpha"] == 100]
    assert all(c["lrs"] == pilot["lrs"] for c in mlp)  # other models keep the grid


def test_sweep_cli_takes_config_fields_with_set(results_root):
    """`python -m nlcore sweep FIG --set KEY=JSON` sets fields of every run; a bad value is refused, named."""
    cmd = [sys.executable, "-m", "nlcore", "sweep", "fig1", "--profile", "smoke", "--models", "perceptron",
           "--alphas", "0", "--no-progress"]
    r = subprocess.run(cmd + ["--set", 'inputs="standardized"', "rho=0.9"], capture_output=True, text=True,
                       env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    (rec,) = results.load_all()
    assert rec["config"]["inputs"] == "standardized" and rec["config"]["rho"] == 0.9
    r = subprocess.run(cmd + ["--set", "inputs=zscore"], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 2 and "--set takes KEY=VALUE with a JSON value" in r.stderr
    r = subprocess.run(cmd + ["--set", 'inputs="zscore"'], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 2 and "inputs must be one of" in r.stderr


def test_a_run_waiting_for_its_pilot_is_left_out_or_estimated_with_two_rates(tmp_path):
    """Figure 1's ConvNet-4 above alpha = 20 at the full profile trains the pilot's rate and the next smaller:
    before the pilot is stored a sweep cannot list it; the cost page counts it with two rates."""
    listed = sweep.figure_configs("fig1", "full", models=["convnet4"], alphas=[20.0, 100.0], seeds=[0], root=tmp_path)
    assert [c["alpha"] for c in listed] == [20.0]
    est = sweep.figure_configs("fig1", "full", models=["convnet4"], alphas=[20.0, 100.0], seeds=[0], root=tmp_path,
                               unpiloted="estimate")
    assert [(c["alpha"], len(c["lrs"])) for c in est] == [(20.0, 5), (100.0, 2)]
    with pytest.raises(ValueError, match="unpiloted must be"):
        sweep.figure_configs("fig1", "full", unpiloted="maybe")


def test_a_dead_holders_lock_beside_a_stored_run_is_removed(tmp_path):
    """A sweep killed after storing a run but before releasing its lock leaves the lock; the next sweep skips
    the stored run (never claims it), so remove_orphans must clear the dead holder's lock, not a live one's."""
    runs = tmp_path / "runs"
    runs.mkdir(parents=True)
    host, boot, _ = results._ME.split()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (runs / "aaaa.lock").write_text(f"{host} {boot} {int(dead.stdout)}")  # that process has exited
    (runs / "bbbb.lock").write_text(results._ME)  # this live process
    gone = results.remove_orphans(tmp_path)
    assert [p.name for p in gone] == ["aaaa.lock"] and (runs / "bbbb.lock").exists()


def _store_curve(cfg, vals):
    """Store ``cfg`` with one rate whose validation (and test, 1 point lower) accuracy follows ``vals``."""
    curve = [dict(step=i, epoch=float(i), val_acc=v, test_acc=v - 0.01) for i, v in enumerate(vals)]
    per_lr = [dict(lr=cfg["lrs"][0], diverged=False, curve=curve, **evaluate.final(curve, cfg["mean_last"]))]
    results.save(cfg, dict(per_lr=per_lr, best=evaluate.select_lr(per_lr, cfg["lr_select"])), 1.0)


def test_figure_8_goes_down_the_sizes_while_the_larger_size_reaches_the_floor(results_root):
    line = [config.make_config("full", alpha=10, n_clean=n, epochs=55000 / n, lrs=[0.5], seed=s)
            for n in (20000, 5000, 1000) for s in (0, 1)]
    listed = lambda: [(c["n_clean"], c["seed"]) for c in sweep.descend(line, 0.7, "peak")]  # noqa: E731
    assert listed() == [(20000, 0), (20000, 1)]  # nothing stored: only the largest size
    _store_curve(line[0], [0.6, 0.9, 0.9, 0.9])  # 20,000 clean labels, seed 0: 89% where validation peaked
    assert listed() == [(20000, 0), (20000, 1), (5000, 0), (5000, 1)]
    # 5,000 rose to 72% and fell to 50%: its peak (71%) clears the floor though its last evaluations do not
    _store_curve(line[2], [0.5, 0.72, 0.72, 0.72, 0.6, 0.5, 0.5])
    assert listed()[-2:] == [(1000, 0), (1000, 1)]
    assert [(c["n_clean"]) for c in sweep.descend(line, 0.7, "last")] == [20000, 20000, 5000, 5000]


def test_figure_records_read_with_the_figures_statistic(results_root):
    cfg = sweep.figure_configs("fig8len", "full")[0]
    _store_curve(cfg, [0.5, 0.8, 0.8, 0.8, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    (rec,) = [r for r in sweep.figure_records("fig8len", "full") if r["key"] == config.config_key(cfg)]
    assert rec["metrics"]["best"]["report"] == "peak" and rec["metrics"]["best"]["test_acc"] == pytest.approx(0.79)
    assert results.load(cfg)["metrics"]["best"]["test_acc"] == pytest.approx(0.49)  # stored as trained


def test_training_figure_8_lists_the_smaller_sizes_as_the_larger_land(results_root, monkeypatch):
    trained = []

    def fake_run(cfgs, **kw):  # stores every listed run at 95% (above the floor) instead of training it
        for c in cfgs:
            if results.load(c) is None:
                trained.append(c["n_clean"])
                _store_curve(c, [0.9, 0.96, 0.96, 0.96])
        return [results.load(c) for c in cfgs]

    monkeypatch.setattr(sweep, "run", fake_run)
    recs = sweep.figure_records("fig8", "full", train_missing=True, alphas=[0], seeds=[0])
    assert trained == sorted(sweep.FIG8_SIZES, reverse=True)  # one size at a time, largest first
    assert sorted(r["config"]["n_clean"] for r in recs) == sweep.FIG8_SIZES


def test_one_size_of_figure_8_carries_its_length():
    (c,) = sweep.figure_configs("fig8", "full", grid={"n_clean": [3000]}, alphas=[10], seeds=[0])
    assert (c["n_clean"], c["epochs"], c["min_steps"]) == (3000, 55000 / 3000, sweep.FIG8_MIN_STEPS)
    assert train.num_steps(c) == train.num_steps(dict(c, n_clean=55000, epochs=1.0))  # Figure 1's length at alpha
    big = [c for c in sweep.figure_configs("fig8", "full", alphas=[10], seeds=[0], unpiloted="estimate")
           if c["n_clean"] == 55000]
    fig1 = [c for c in sweep.figure_configs("fig1", "full", models=["convnet4"], alphas=[10], seeds=[0])]
    assert config.config_key(big[0]) == config.config_key(fig1[0])  # Figure 1's run, not trained twice


def _store(cfg, accs, confusion=None, peaks=None):
    """A record whose rates end at ``accs``; ``peaks``: each rate's best earlier accuracy (default: none)."""
    per_lr = []
    for i, (lr, a) in enumerate(zip(cfg["lrs"], accs)):
        p = a if peaks is None else peaks[i]
        curve = [dict(step=k, val_acc=v, test_acc=v) for k, v in enumerate([p, p, p, a, a, a])]
        per_lr.append(dict(lr=lr, diverged=False, val_acc=a, test_acc=a, curve=curve))
    results.save(cfg, dict(per_lr=per_lr, best=evaluate.select_lr(per_lr, "val"), confusion=confusion), 1.0)


def test_structured_runs_wait_on_the_confusion_runs_and_on_uniform_noise(results_root):
    """Figure 5 at the full profile: delta = 0 (uniform noise at 20,000 clean labels, one pass) trains every
    rate; delta > 0 waits for the confusion runs (its class orders) and for seed 0's uniform run (its two
    rates), and the figure is complete only when every run, waiting ones included, is stored."""
    first = sweep.figure_configs("fig5", "full")
    assert {(c["delta"], c["seed"], len(c["lrs"])) for c in first} == {(0.0, 0, 5), (0.0, 1, 5)}
    assert all((c["n_clean"], c["alpha"], c["epochs"]) == (20000, 20, 1.0) for c in first)
    every = sweep.figure_configs("fig5", "full", unpiloted="estimate")
    assert len(every) == 2 + 5 * 3 * 2  # delta 0, then 5 deltas x 3 orders x 2 seeds
    assert not sweep.complete("fig5", "full")
    assert sweep.status()["fig5"]["full"] == dict(stored=0, total=len(every))
    for c in first:  # the last evaluations choose 0.1; the peak (how Figure 5 reads its runs) chooses 0.5
        _store(c, [0.5, 0.8, 0.9, 0.85, 0.2], peaks=[0.5, 0.8, 0.9, 0.95, 0.2])
    listed = sweep.figure_configs("fig5", "full")
    assert {c["order"] for c in listed if c["delta"] > 0} == {"random"}  # confusing and reverse wait on the orders
    assert all(c["lrs"] == [0.1, 0.5] for c in listed if c["delta"] > 0)
    for c in listed:
        if results.load(c) is None:
            _store(c, [0.7, 0.6])
    assert not sweep.complete("fig5", "full")  # every listed run stored, but the confusion runs are missing
    cm = [[100 if k == c else (c + k) % 10 for k in range(10)] for c in range(10)]
    for c in sweep.figure_configs("confusion", "full"):
        assert c["n_clean"] == 1000 and c["inputs"] == "unit" and c["rho"] == 0.95
        _store(c, [0.9, 0.95], confusion=cm)
    listed = sweep.figure_configs("fig5", "full")
    assert len(listed) == len(every) and all(c["lrs"] == [0.1, 0.5] for c in listed if c["delta"] > 0)
    confusing = {tuple(c["ranks"][0]) for c in listed if c["order"] == "confusing" and c["delta"]}
    assert confusing == {(9, 8, 7, 6, 5, 4, 3, 2, 1)}  # class 0 is most often taken for 9
    missing = [c for c in listed if results.load(c) is None]
    assert {c["order"] for c in missing} == {"confusing", "reverse"}
    for c in missing[:-1]:
        _store(c, [0.7, 0.6])
    assert not sweep.complete("fig5", "full")
    _store(missing[-1], [0.7, 0.6])
    assert sweep.complete("fig5", "full")


def test_the_other_figures_at_the_full_profile_share_runs_and_keep_one_length_per_alpha():
    """Figure 2's ConvNet-6 runs are Figure 6's same-dataset runs (alpha = 0 included); CIFAR trains the same
    passes at every alpha; Figure 11's batch sizes see the same examples above the floor; Figure 7 trains 6.4
    passes at 2,500."""
    fig2 = sweep.figure_configs("fig2", "full")
    six = {config.config_key(c) for c in fig2 if c["model"] == "convnet6"}
    assert six == {config.config_key(c) for c in sweep.figure_configs("fig6", "full") if c["noise_source"] == "same"}
    assert {c["model"] for c in fig2} == {"convnet4", "convnet6"}  # ResNet-101 waits for a GPU
    assert {c["model"] for c in sweep.figure_configs("fig2", "full", seeds=[3])} == {"convnet4", "convnet6"}
    assert {c["model"] for c in sweep.figure_configs("fig2", "full", seeds=[3], models=["resnet101"])} == {"resnet101"}
    assert all(c["epochs"] == sweep.CIFAR_PASSES and c["n_clean"] == sweep.CIFAR_SIZE for c in fig2)
    passes = {c["alpha"]: train.num_steps(c) * c["batch_size"] / (c["n_clean"] * (1 + c["alpha"])) for c in fig2}
    # the same passes at every alpha: the floor of steps binds at alpha = 2 only and is off without noise
    # (alpha_overrides), where it gave alpha = 0 25.6 passes
    assert passes[0] == pytest.approx(8, abs=0.02) and 8 < passes[2] < 8.6
    assert {c["alpha"]: c["min_steps"] for c in fig2} == {0: 0, 2: sweep.CIFAR_MIN_STEPS, 5: sweep.CIFAR_MIN_STEPS,
                                                          10: sweep.CIFAR_MIN_STEPS}
    assert passes[5] == pytest.approx(8, abs=0.01) and passes[10] == pytest.approx(8, abs=0.01)
    fig11 = sweep.figure_configs("fig11", "full")
    for a in (20, 50, 100):
        images = {train.num_steps(c) * c["batch_size"] for c in fig11 if c["alpha"] == a}
        assert max(images) - min(images) < 256  # one pass each, to within a batch
    assert {train.num_steps(c) * c["batch_size"] for c in fig11 if c["alpha"] == 0} == {sweep.FIG11_FULL_IMAGES}
    fig7 = sweep.figure_configs("fig7", "full")
    assert {(c["n_clean"], c["epochs"], c["min_steps"]) for c in fig7} == {(2500, 6.4, 500)}
    assert sweep.FIGURES["fig7"]["report"]["full"] == "peak"


def test_the_background_sweep_takes_figures_models_alphas_and_seeds(results_root):
    """scripts/sweep_bg.py ITEM...: FIG[:MODELS[@ALPHAS]][#SEEDS]; each item trains what is missing of it."""
    script = os.path.join(os.path.dirname(__file__), "..", "scripts", "sweep_bg.py")
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), ".."))
    r = subprocess.run([sys.executable, script, "smoke", "fig1:perceptron@20#3", "fig1:perceptron,mlp1@0"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    got = sorted((c["model"], c["alpha"], c["seed"]) for c in (x["config"] for x in results.load_all()))
    assert got == [("mlp1", 0.0, 0), ("perceptron", 0.0, 0), ("perceptron", 20.0, 3)]  # the profile's seeds: [0]
    assert "== fig1:perceptron@20#3 (smoke)" in r.stdout and "perceptron alpha=20 seed=3: test" in r.stdout


def test_figure_8_under_its_two_length_rules_run_for_run(results_root):
    (now,) = sweep.figure_configs("fig8", "full", grid={"n_clean": [5000]}, alphas=[10], seeds=[0])
    short = config.replace(now, **sweep.fig8_size(5000, short=True))
    assert (short["epochs"], now["epochs"]) == (3.2, 11.0) and train.num_steps(short) == 1375
    assert sweep.fig8_size(20000, short=True)["epochs"] == 1.0  # at least one pass
    names = ("shorter", "current")
    assert sweep.fig8_lengths() == []
    _store_curve(short, [0.5, 0.8, 0.9, 0.9, 0.9, 0.6, 0.6, 0.6])  # read at its peak (89%), not its end (59%)
    (row,) = sweep.fig8_lengths()
    assert row[0]["n_clean"] == 5000 and row[2] is None
    assert row[1]["metrics"]["best"]["test_acc"] == pytest.approx(0.89)
    table = findings.lengths_table(sweep.fig8_lengths(), names)
    assert "| 5,000 | 10 | 0 | 89.0% (lr 0.01), peak at 4 of 7 steps | not stored yet |" in table
    _store_curve(now, [0.6, 0.9, 0.95, 0.95, 0.95])
    table = findings.lengths_table(sweep.fig8_lengths(), names)
    assert table.rstrip().endswith("| 94.0% (lr 0.01), peak at 4 of 4 steps | +5.0 |")
    assert findings.length_gain(sweep.fig8_lengths(), 5000, 10) == \
        "reached 94.0% where the shorter rule's run reached 89.0% (+5.0 points, seed 0)"  # what the Exp 2 chapter cites
    assert findings.length_gain(sweep.fig8_lengths(), 20000, 10).startswith("(not measured")
    # a size only the current rule ran: no sweep trains the shorter rule any more, so no row promises that run
    (other,) = sweep.figure_configs("fig8", "full", grid={"n_clean": [10000]}, alphas=[10], seeds=[0])
    _store_curve(other, [0.6, 0.9, 0.95, 0.95, 0.95])
    table = findings.lengths_table(sweep.fig8_lengths(), names)
    assert "| 10,000 |" not in table and len(table.splitlines()) == 3
    # above the pilot's alpha the two lengths' pilots may choose different rates: not compared
    (high,) = sweep.figure_configs("fig8", "full", grid={"n_clean": [5000]}, alphas=[50], seeds=[0],
                                   unpiloted="estimate")
    _store_curve(config.replace(high, **sweep.fig8_size(5000, short=True)), [0.7, 0.7, 0.7])
    assert len(sweep.fig8_lengths()) == 2  # the two alpha = 10 rows only


def test_figure_8_length_rule():
    """32 passes or Figure 1's length, whichever is fewer, at least 500 steps; the smallest size's runs are the
    shorter rule's (the same fields, so the same keys); Figures 5 and 7 keep lengths of their own."""
    assert [sweep.fig8_size(n)["epochs"] for n in sweep.FIG8_SIZES[:-1]] == [32.0, 32.0, 27.5, 11.0, 5.5, 2.75]
    assert sweep.fig8_size(500) == sweep.fig8_size(500, short=True)
    (c,) = sweep.figure_configs("fig8", "full", grid={"n_clean": [5000]}, alphas=[10], seeds=[0])
    assert train.num_steps(c) == train.num_steps(dict(c, n_clean=55000, epochs=1.0)) == 4727  # Figure 1's length
    assert {(c["n_clean"], c["epochs"], c["min_steps"]) for c in sweep.figure_configs("fig5", "full")} == \
        {(20000, 1.0, 500)}
    assert {(c["n_clean"], c["epochs"], c["min_steps"]) for c in sweep.figure_configs("fig7", "full")} == \
        {(2500, 6.4, 500)}
