"""Scale-out paths, tested on one machine: a Dask cluster of two workers, and DDP under torchrun (gloo)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nlcore import results, sweep

REPO = Path(__file__).resolve().parents[1]
VOLATILE = ("wall_time_s", "created", "code_version", "device")  # device names the thread count


def _strip(rec):
    return {k: v for k, v in rec.items() if k not in VOLATILE}


def test_dask_local_cluster_matches_serial_sweep(tmp_path):
    pytest.importorskip("distributed")
    # precision and engine pinned: a 1-thread worker measures its own machine choices, which may differ from
    # 2 threads' (and do on a loaded machine)
    smoke = sweep.figure_configs("fig1", "smoke", models=["perceptron"], alphas=[0, 1, 2, 3])
    cfgs = [dict(c, precision="fp32", engine="stacked") for c in smoke]
    t0 = time.time()
    serial = sweep.run(cfgs, progress=False, log=None, root=tmp_path / "serial")
    t_serial = time.time() - t0
    t0 = time.time()
    fanned = sweep.run_dask(cfgs, "local:2", root=tmp_path / "dask")
    t_dask = time.time() - t0
    # Dask workers run one thread each, the serial sweep two: float sums are ordered differently, so the
    # metrics agree to float tolerance, not bit for bit (book/reproducibility.md); configs and choices exactly
    assert len(fanned) == len(serial)
    for f, s in zip(fanned, serial):
        assert f["config"] == s["config"] and f["key"] == s["key"]
        assert f["metrics"]["engine"] == s["metrics"]["engine"] and f["metrics"]["steps"] == s["metrics"]["steps"]
        for pf, ps in zip(f["metrics"]["per_lr"], s["metrics"]["per_lr"]):
            assert pf["lr"] == ps["lr"] and pf["diverged"] == ps["diverged"]
            for cf, cs in zip(pf["curve"], ps["curve"]):
                assert cf["train_loss"] == pytest.approx(cs["train_loss"], rel=1e-4)
                assert abs(cf["test_acc"] - cs["test_acc"]) <= 0.003 and abs(cf["val_acc"] - cs["val_acc"]) <= 0.01
    files = list((tmp_path / "dask" / "runs").iterdir())
    assert sorted(p.name for p in files) == sorted(f"{r['key']}.json" for r in serial)  # each once, nothing else
    print(f"smoke sweep of {len(cfgs)} runs: serial {t_serial:.1f}s, Dask local:2 {t_dask:.1f}s")


def test_torchrun_ddp_equals_single_process(tmp_path):
    args = ["train", "--profile", "smoke", "--model", "mlp1", "--alpha", "2", "--no-progress",
            "--set", 'precision="fp32"', "mlp_dropout=0"]  # no dropout: the ranks draw their own masks
    env = dict(os.environ, PYTHONPATH=str(REPO))
    single = subprocess.run([sys.executable, "-m", "nlcore"] + args, capture_output=True, text=True,
                            env=dict(env, NLCORE_RESULTS=str(tmp_path / "one")))
    assert single.returncode == 0, single.stderr
    ddp = subprocess.run([Path(sys.executable).parent / "torchrun", "--nproc_per_node", "2", "-m", "nlcore"] + args,
                         env=dict(env, NLCORE_RESULTS=str(tmp_path / "two")), capture_output=True, text=True)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    (a,) = [json.loads(p.read_text()) for p in (tmp_path / "one" / "runs").glob("*.json")]
    (b,) = [json.loads(p.read_text()) for p in (tmp_path / "two" / "runs").glob("*.json")]
    assert a["key"] == b["key"] and b["metrics"]["world_size"] == 2 and a["metrics"]["world_size"] == 1
    for pa, pb in zip(a["metrics"]["per_lr"], b["metrics"]["per_lr"]):
        assert abs(pa["test_acc"] - pb["test_acc"]) <= 0.01  # same updates up to float summation order
        assert abs(pa["curve"][-1]["train_loss"] - pb["curve"][-1]["train_loss"]) <= 0.01


def test_run_dask_refuses_a_corrupt_store_before_starting(tmp_path):
    pytest.importorskip("distributed")
    (cfg,) = sweep.figure_configs("fig1", "smoke", models=["perceptron"], alphas=[0])
    path = results.run_path(cfg, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("not json")
    with pytest.raises(results.ResultsError, match="not valid JSON"):
        sweep.run_dask([cfg], "local:1", root=tmp_path)
