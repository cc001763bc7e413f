"""The cost of reproduction: the training work of every figure at each profile, and its time on this CPU
and on the one GPU measured (an NVIDIA H200).

    python benchmarks/cost.py > book/cost.md

Work is counted from the configs alone (steps x batch x learning rates, per run: nothing is trained).
Time is predicted from measured speed: the median images/s (every model's images, evaluation included)
of the stored runs of the same model and dataset, and, for models with no stored run, the engine's
rate from benchmarks/results/throughput-cpu*.json (GPU: the stored GPU runs, else
throughput-gpu*.json). Where neither exists the time is left blank rather than guessed. Stored runs'
own wall times are shown beside the prediction where they exist.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nlcore import data, results, sweep  # noqa: E402
from nlcore.cost import bench_rates, configs, hours, images, predict, rates, resnet_cost_line  # noqa: E402


def main() -> None:
    stored = results.load_all()
    cpu, gpu = (rates(False, stored), bench_rates()), (rates(True, stored), bench_rates(gpu=True))
    rows = []
    for fig in sweep.FIGURES:
        for profile in ("cpu", "full", "paper"):
            if profile not in sweep.FIGURES[fig]["grid"]:
                continue
            try:
                cfgs = configs(fig, profile)
            except data.DataError:
                rows.append(f"| {fig} | {profile} | | | needs a copy of ImageNet (not available here) | | |")
                continue
            if not cfgs:
                continue
            stored = [r for r in (results.load(c) for c in cfgs) if r is not None]
            where = sorted({"GPU" if not r["device"].startswith("cpu") else "CPU" for r in stored})
            done = f"{len(stored)}/{len(cfgs)} stored ({', '.join(where)}), " \
                   f"{hours(sum(results.run_seconds(r) for r in stored))}" if stored else f"0/{len(cfgs)} stored"
            work = sum(map(images, cfgs)) / 1e6
            rows.append(f"| {fig} | {profile} | {len(cfgs)} | {work:,.1f} M | {predict(cfgs, *cpu)} | "
                        f"{predict(cfgs, *gpu)} | {done} |")
    print("""# The cost of reproduction

How much training each figure takes, from its configs (steps × batch × learning rates of every run),
and how long that is on the 2-core AMD EPYC most of this book's runs were trained on, predicted from measured
speed: the median images per second of its stored runs of the same model and dataset (evaluation included), or the
engine's rate from `benchmarks/throughput.py` for a model with no stored run. A model with neither is
marked *not measured* rather than guessed (ResNets on a CPU). The last column is what is stored and the
wall time those runs actually took, on whichever machine trained them (Figure 2's `full` runs, say, on an
Intel Xeon with AMX bf16, faster than the EPYC; it includes any time the sweep was paused for tests; a run continued
from a checkpoint counts the processes before, `results.run_seconds`, and where its record holds only the
last process's seconds they are scaled up by steps, an estimate). A run whose
learning rates come from a pilot run not stored yet (above α = 20 at the `full` profile, a run whose
α = 20 run of the same clean set is not stored yet, such as Figure 8's smaller sizes: `sweep.prune_lrs`) is
counted with two rates, what the pilot rule trains unless the pilot chose the smallest rate of the grid
(then one). Figure 8 at the `full` profile is counted at every size, so its
images are an upper bound (going down the sizes of one α a size is trained only if the next larger one
reached `sweep.FIG8_FLOOR`); its predicted time is not, since the prediction is images over a rate and
leaves out the fixed cost of evaluating, which dominates the short runs of small clean sets (the fig8len
row shows by how much, though those runs also shared the CPU with another).

The GPU column is one NVIDIA H200 (lent for 15 minutes; `benchmarks/gpu.sh`), predicted the same way
from the four Figure 1 runs it trained at 60,000 clean images with the earlier choices (`config.EARLIER`;
whole CUDA-graph steps, bf16, the learning-rate grid
stacked; evaluation included) and, for other models, from `benchmarks/results/throughput-gpu-nvidia-h200.json`.
CIFAR models were not run on it (their data could not travel to it), so their GPU time is *not measured*.
The `full`-profile runs stored from an H200 (Figures 1, 5, 7, 8 and 11: the records whose `note` says so)
were trained by `benchmarks/gpu.sh` with four or five worker processes sharing the GPU under CUDA MPS, so
their wall times in the last column are those of shared runs and the prediction leaves them out. Together
the workers stored 74 runs (147.9 M images, all rates) in 510 s and then 41 runs (56.9 M) in 150 s: about
290,000 and 380,000 images per second, not counting the runs still in flight when the time was up.

Regenerate: `python benchmarks/cost.py > book/cost.md`.

| figure | profile | runs | images trained (all lrs) | predicted time on this CPU | predicted time on one H200 \
| stored (where, their wall time) |
|---|---|---|---|---|---|---|""")
    print("\n".join(rows))
    print("\n" + resnet_cost_line())
    print(engine_note(cpu[0]))


def engine_note(stored: dict) -> str:
    """The stored CPU runs' speed beside the latest CPU benchmark's engine (the engine may be newer)."""
    files = sorted((REPO / "benchmarks" / "results").glob("throughput-cpu*.json"))
    if not files:
        return ""
    b = json.loads(files[-1].read_text())  # the latest only: one row per model
    notes = []
    for m, v in b["by_model"].items():
        how = f"{v['engine']}{', compiled' if v.get('compiled') else ''}, {v['precision']}"
        old = stored.get((m, "mnist"))
        notes.append(f"| {m} | {old:,.0f} |" if old else f"| {m} | – |")
        notes[-1] += f" {v['engine_img_s']:,.0f} ({how}) | {v['baseline_img_s']:,.0f} |"
    version = b.get("code_version", "?")[:7]
    return (f"""
## Stored runs and the current engine

The CPU predictions above use the speed of the stored runs, which were trained by the engine of their
own code version. The latest CPU benchmark (`benchmarks/results/`, code {version}) times the engine of
that version on the same machine (training steps only, MNIST, alpha = 10, 5 learning rates; images per second
counting every model's), beside plain PyTorch:

| model | stored MNIST runs (median, evaluation included) | engine of that version (training steps) | plain PyTorch |
|---|---|---|---|
""" + "\n".join(notes))


if __name__ == "__main__":
    main()
