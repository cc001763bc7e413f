"""Sweeps: each figure of the paper as an explicit product of config values, run resumably.

``figure_configs("fig1", "cpu")`` lists the configs of a figure at a profile;
``run(configs)`` trains those not yet stored (skipping the rest) and returns the
records. A crash loses at most the run in flight: every finished run is
already on disk (``nlcore.results``).
"""

from __future__ import annotations

import itertools
import time

from . import results, train
from .config import make_config

# figure: dataset, models, and per profile the alphas and the seeds of each model
FIGURES = {
    "fig1": dict(
        title="Figure 1: MNIST, uniform noise",
        experiment="exp1",
        fixed=dict(dataset="mnist"),
        models=["perceptron", "mlp1", "mlp2", "mlp4", "convnet4"],
        alpha={"smoke": [0, 20], "cpu": [0, 5, 10, 20, 50, 100],
               "paper": [0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]},
        seeds={"smoke": {"*": [0]}, "cpu": {"convnet4": [0], "*": [0, 1]}, "paper": {"*": [0, 1, 2]}},
    ),
}


def figure_configs(figure: str, profile: str = "cpu", alphas=None, seeds=None, models=None, **overrides) -> list[dict]:
    """Configs of ``figure`` at ``profile``; ``alphas``/``seeds``/``models`` replace the profile's lists."""
    if figure not in FIGURES:
        raise ValueError(f"figure must be one of {sorted(FIGURES)}, got {figure!r}")
    spec = FIGURES[figure]
    make_config(profile)  # validates the profile name before anything else
    models = list(models or spec["models"])
    bad = [m for m in models if m not in spec["models"]]
    if bad:
        raise ValueError(f"model(s) {bad} are not in {figure}; choose from {spec['models']}")
    alphas = list(spec["alpha"][profile] if alphas is None else alphas)
    out = []
    for model, alpha in itertools.product(models, alphas):
        model_seeds = seeds if seeds is not None else spec["seeds"][profile].get(model, spec["seeds"][profile]["*"])
        for seed in model_seeds:
            out.append(make_config(profile, **spec["fixed"], model=model, alpha=alpha, seed=seed, **overrides))
    return out


def run(configs: list[dict], device: str | None = None, progress: bool = True, root=None, log=print,
        poll_s: float = 2.0) -> list[dict]:
    """Train and store every config that is not stored yet; return all records (stored + new).

    Safe to run in several processes on one store: each run is trained by whichever process takes its
    lock first; the others go on to the next run and, at the end, wait for the runs held elsewhere.
    """
    results.check_writable(root)
    results.remove_orphans(root)
    stored = {i: results.load(c, root) for i, c in enumerate(configs)}  # raises on a corrupt file, before compute
    pending = [i for i, r in stored.items() if r is None]
    if log and configs:
        log(f"{len(configs) - len(pending)} of {len(configs)} runs already stored; training {len(pending)}")
    done = 0
    while pending:
        held = []
        for i in pending:
            cfg = configs[i]
            if not results.claim(cfg, root):
                held.append(i)
                continue
            try:
                stored[i] = results.load(cfg, root)  # another process may have finished it meanwhile
                if stored[i] is None:
                    t0 = time.time()
                    with results.Heartbeat(cfg, root):
                        metrics = train.train(cfg, device=device, progress=progress)
                    stored[i] = results.save(cfg, metrics, time.time() - t0, root)
                    done += 1
                    if log:
                        b = metrics["best"]
                        acc = "all diverged" if b["lr"] is None else f"test {b['test_acc']:.4f} (lr {b['lr']:g})"
                        log(f"[{done}] {cfg['model']} alpha={cfg['alpha']:g} seed={cfg['seed']}: {acc}, "
                            f"{time.time() - t0:.0f}s")
            finally:
                results.release(cfg, root)
        for i in held:
            stored[i] = results.load(configs[i], root)
        pending = [i for i in held if stored[i] is None]
        if pending:
            if log:
                log(f"waiting for {len(pending)} run(s) that other processes are training")
            time.sleep(poll_s)
    return [stored[i] for i in range(len(configs))]


def _run_one(cfg: dict, root: str, device) -> dict:
    return run([cfg], device=device, progress=False, root=root, log=None)[0]


def run_dask(configs: list[dict], scheduler, device: str | None = None, root=None) -> list[dict]:
    """Fan the runs out over a Dask cluster; every worker trains whole runs and writes to the same store.

    ``scheduler``: a ``distributed.Client``, a scheduler address (``tcp://host:8786``, e.g. from
    ``dask-scheduler`` or dask-jobqueue on SLURM) or ``"local:N"`` for N worker processes here. The store
    must be a folder every worker sees (a shared file system); the per-run locks of :func:`run` keep two
    workers off one run. Returns the records, in the order of ``configs``.
    """
    from distributed import Client, LocalCluster

    results.check_writable(root)
    for c in configs:
        results.load(c, root)  # a corrupt stored file stops us here, before any worker starts
    own = None
    if isinstance(scheduler, Client):
        client = scheduler
    elif str(scheduler).startswith("local:"):
        n = int(str(scheduler).split(":", 1)[1])
        own = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(own)
    else:
        client = Client(scheduler)
    root_s = str(results.results_dir(root))
    try:
        futures = [client.submit(_run_one, c, root_s, device, pure=False) for c in configs]
        return client.gather(futures)
    finally:
        if own is not None:
            client.close()
            own.close()


def status(root=None) -> dict:
    """Per figure and profile: how many of its runs are stored."""
    out = {}
    for fig in FIGURES:
        out[fig] = {}
        for profile in ("smoke", "cpu", "paper"):
            cfgs = figure_configs(fig, profile)
            done = sum(results.run_path(c, root).exists() for c in cfgs)
            out[fig][profile] = dict(stored=done, total=len(cfgs))
    out["all_stored_runs"] = len(list((results.results_dir(root) / "runs").glob("*.json")))
    return out
