"""Run figures' sweeps at a profile in the background, cheapest runs first, seed 0 of every model first.

    python scripts/sweep_bg.py cpu fig11 fig5 fig7                    (every run of those figures)
    python scripts/sweep_bg.py full fig1:perceptron,mlp1 fig1:convnet4@0,5,10,20   (models, then alphas)
    python scripts/sweep_bg.py full fig1:convnet4@20#0                             (then seeds)

Runs that wait on others are listed once those are stored (Figure 1's ConvNet-4 above alpha = 20 on its
pilot, Figure 8's smaller sizes on the larger: nlcore.sweep), so each item is listed again until nothing of
it is missing. Resumable: rerun after a crash or a kill; stored runs are skipped and a run in flight
continues from its last checkpoint (nlcore.checkpoint).
"""
import sys

from nlcore import results, sweep

COST = {"perceptron": 0, "mlp1": 1, "mlp2": 2, "convnet2": 3, "convnet4": 4, "mlp4": 5, "convnet6": 6}
profile, items = sys.argv[1], sys.argv[2:]
for item in items:
    figure, _, rest = item.partition(":")
    rest, _, seeds = rest.partition("#")
    models, _, alphas = rest.partition("@")
    print(f"== {item} ({profile})", flush=True)
    if sweep.FIGURES[figure].get("needs") == "confusion":
        sweep.confusion_matrix(profile, train_missing=True)
    while True:  # a figure whose runs wait on others (a pilot's rates, Figure 8's sizes) lists more once they land
        cfgs = sweep.figure_configs(figure, profile, models=models.split(",") if models else None,
                                    alphas=[float(a) for a in alphas.split(",")] if alphas else None)
        if seeds:
            cfgs = [c for c in cfgs if c["seed"] in {int(s) for s in seeds.split(",")}]
        if all(results.load(c) is not None for c in cfgs):
            break
        cfgs.sort(key=lambda c: (c["seed"], COST.get(c["model"], 9), c["alpha"], -c["n_clean"]))
        sweep.run(cfgs, progress=False, log=lambda s: print(s, flush=True))
