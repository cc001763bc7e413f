"""The cost of training a figure: its work counted from its configs, its time predicted from measured speed.

Work is steps x batch x learning rates per run (nothing is trained). Time is work over a rate measured on
one kind of machine: the median images/s of the stored runs of the same model and dataset (evaluation
included) on :data:`PAGE_CPU` or on a GPU, else the engine's rate from ``benchmarks/results/throughput-*.json``;
a model with neither is named as *not measured*, never guessed. ``benchmarks/cost.py`` writes the book's
cost page from these; a chapter quotes one figure's line (:func:`line`).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np

from . import results, sweep, train
from .plots import NAMES

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"  # in a clone of the repository


def images(cfg: dict) -> int:
    """The images a run trains on, every learning rate's model counted: steps x batch x rates."""
    return train.num_steps(cfg) * cfg["batch_size"] * len(cfg["lrs"])


def configs(figure: str, profile: str) -> list[dict]:
    """The runs of ``figure`` at ``profile``, those that wait on others counted as :func:`nlcore.sweep.
    figure_configs` estimates them (Figure 5 before its confusion runs with any class order: the work does
    not depend on it). Raises :class:`nlcore.data.DataError` where the figure needs data not here (ImageNet)."""
    try:
        return sweep.figure_configs(figure, profile, unpiloted="estimate")
    except ValueError:
        return sweep.figure_configs(figure, profile, confusion=np.ones((10, 10)), unpiloted="estimate")


PAGE_CPU = "AMD EPYC"  # the CPU column's machine: most stored runs were trained on one


def rates(gpu: bool = False, records: list[dict] | None = None) -> dict:
    """(model, dataset) -> median images/s of stored runs on this kind of machine (CPU runs on :data:`PAGE_CPU`,
    or GPU runs). Runs whose record has a ``note`` (trained while processes shared the machine: benchmarks/gpu.sh's
    workers) are left out: their wall time is not one run's speed. ``records``: the store's, read once by a caller
    that needs them again."""
    by: dict = {}
    for r in results.load_all() if records is None else records:
        if r["device"].startswith("cpu") == gpu or results.run_seconds(r) <= 0 or r.get("note"):
            continue
        if not gpu and PAGE_CPU not in r["device"]:  # one CPU's speed: the machines differ (AMX bf16 or AVX2 only)
            continue
        c = r["config"]
        by.setdefault((c["model"], c["dataset"]), []).append(images(c) / results.run_seconds(r))
    return {k: statistics.median(v) for k, v in by.items()}


def bench_rates(gpu: bool = False) -> dict:
    """(model, "mnist") -> the engine's images/s in the stored throughput benchmarks (CPU or GPU)."""
    out = {}
    for p in sorted(BENCHMARKS.glob("throughput-gpu*.json" if gpu else "throughput-cpu*.json")):
        for m, v in json.loads(p.read_text())["by_model"].items():
            out[(m, "mnist")] = v["engine_img_s"]
    return out


def shared_gpu_models(records: list[dict]) -> set:
    """The models of ``records`` with GPU runs that shared the GPU (a ``note``), which :func:`rates` leaves out."""
    return {r["config"]["model"] for r in records if not r["device"].startswith("cpu") and r.get("note")}


def estimate(cfgs: list[dict], measured: dict, bench: dict) -> tuple[float, set]:
    """(seconds, models with no measured rate): the predicted training time of the runs whose model has one."""
    secs, unknown = 0.0, set()
    for c in cfgs:
        rate = measured.get((c["model"], c["dataset"])) or bench.get((c["model"], c["dataset"]))
        if rate is None:
            unknown.add(c["model"])
        else:
            secs += images(c) / rate
    return secs, unknown


def predict(cfgs: list[dict], measured: dict, bench: dict) -> str:
    """Predicted training time of cfgs from measured rates, naming the models with no measured rate."""
    secs, unknown = estimate(cfgs, measured, bench)
    if not unknown:
        return hours(secs)
    return (f"{hours(secs)} + " if secs else "") + f"{', '.join(sorted(unknown))}: not measured"


def hours(seconds: float | None) -> str:
    """:func:`nlcore.results.duration`, or *not measured* for None."""
    return "not measured" if seconds is None else results.duration(seconds)


def resnet_cost_line(folder: Path = BENCHMARKS) -> str:
    """What Figure 2's ResNet-101 would cost, from the step times ``benchmarks/resnet_cost.py`` stored
    (``resnet101-*.json``, one per device): per device the step of one rate, the paper profile's runs in hours
    and its longest run alone. Says *not measured* where no file is stored."""
    found = sorted(folder.glob("resnet101-*.json"))
    if not found:
        return "ResNet-101's cost is not measured here (`benchmarks/resnet_cost.py` times it)."
    parts = []
    for p in found:
        m = json.loads(p.read_text())
        longest = max(m["hours_per_run_seed0"].items(), key=lambda kv: kv[1])
        other = " (not the cost page's CPU)" if m["device"].startswith("cpu") and PAGE_CPU not in m["device"] else ""
        parts.append(f"on {m['device']}{other} a step of one learning rate takes {m['step_s'][m['precision']]:.2f} s "
                     f"({m['precision']}; {m['step_s']['fp32']:.2f} s in fp32), so the paper profile's "
                     f"{m['fig2_paper_runs']} ResNet-101 runs would take {m['fig2_paper_hours']:,.0f} h "
                     f"({longest[1]:.1f} h for one run at {longest[0].replace('alpha=', 'α = ')})")
    return ("ResNet-101's cost, its training step timed on random 32×32 images (`benchmarks/resnet_cost.py`; "
            "evaluation not counted): " + "; ".join(parts) + ".")


def line(figure: str, profile: str = "paper") -> str:
    """'The `paper` profile's N runs of Figure F (M images, all rates) would take X on the 2-core AMD EPYC
    and Y on one NVIDIA H200 ...': ``figure`` at ``profile``, predicted as the cost page does, with the
    models that have no measured speed on a machine named instead of guessed."""
    cfgs, stored = configs(figure, profile), results.load_all()

    def on(gpu: bool, machine: str) -> str:
        secs, unknown = estimate(cfgs, rates(gpu, stored), bench_rates(gpu))
        missing = "; ".join(NAMES.get(m, m) for m in sorted(unknown))
        shared = gpu and unknown & shared_gpu_models(stored)
        if not unknown:
            return f"{hours(secs)} on {machine}"
        if not secs:
            return (f"an unknown time on {machine} (no measured speed of {missing} there"
                    + (": runs that shared the GPU do not count)" if shared else ")"))
        return f"{hours(secs)} on {machine} for the models with a measured speed (not {missing})"

    name = sweep.FIGURES[figure]["title"].split(":")[0]
    return (f"The `{profile}` profile's {len(cfgs)} runs of {name} ({sum(map(images, cfgs)) / 1e6:,.1f} M "
            f"images, all rates) would take {on(False, f'the 2-core {PAGE_CPU}')} and "
            f"{on(True, 'one NVIDIA H200')}, predicted from measured speed (the cost page).")


def spent_table(sweeps: dict[str, list[dict]], profile: str) -> str:
    """Per sweep (name -> its stored records at ``profile``): its runs stored of all, the training time the
    cost page predicts for all of them on the 2-core :data:`PAGE_CPU` (:func:`predict`, from the store's
    measured speed) and what the stored ones took (every process of each run, :func:`nlcore.results.
    run_seconds`; GPU runs and runs that shared the machine included, so it is what was spent, not a speed).
    Markdown table."""
    stored = results.load_all()
    measured, bench = rates(False, stored), bench_rates(False)
    rows = [f"| sweep | runs stored | predicted on the 2-core {PAGE_CPU} (all runs) | training time of the stored "
            "runs | where they trained |", "|---|---|---|---|---|"]
    for name, recs in sweeps.items():
        cfgs = configs(name, profile)
        where = ", ".join(sorted({"GPU" if not r["device"].startswith("cpu") else  # "cpu (NAME, 2 threads...)"
                                  r["device"].removeprefix("cpu (").split(", ")[0] for r in recs})) or "–"
        took = sum(results.run_seconds(r) for r in recs)
        rows.append(f"| `{name}` | {len(recs)} of {len(cfgs)} | {predict(cfgs, measured, bench)} | "
                    f"{hours(took) if recs else '–'} | {where} |")
    return "\n".join(rows)
