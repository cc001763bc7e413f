"""Run figures' sweeps at a profile in the background, cheapest runs first, seed 0 of every model first.

    python scripts/sweep_bg.py cpu fig11 fig5 fig7                    (every run of those figures)
    python scripts/sweep_bg.py full fig1:perceptron,mlp1 fig1:convnet4@0,5,10,20   (models, then alphas)
    python scripts/sweep_bg.py full fig1:convnet4@20#0 fig8#0                      (then seeds)

An item is FIGURE[:MODELS[@ALPHAS]][#SEEDS], lists comma-separated, each replacing the profile's (as the
command `python -m nlcore sweep` takes them). Runs that wait on others are listed once those are stored
(Figure 1's ConvNet-4 above alpha = 20 on its pilot, Figure 8's smaller sizes on the larger, Figure 5's
structured noise on the confusion runs: nlcore.sweep.train_figure), so each item is listed again until
nothing of it is missing. Resumable: rerun after a crash or a kill; stored runs are skipped and a run in
flight continues from its last checkpoint (nlcore.checkpoint).
"""
import sys

from nlcore import sweep

COST = {"perceptron": 0, "mlp1": 1, "mlp2": 2, "convnet2": 3, "convnet4": 4, "mlp4": 5, "convnet6": 6}
profile, items = sys.argv[1], sys.argv[2:]
for item in items:
    rest, _, seeds = item.partition("#")
    figure, _, rest = rest.partition(":")
    models, _, alphas = rest.partition("@")
    print(f"== {item} ({profile})", flush=True)
    sweep.train_figure(figure, profile, progress=False, log=lambda s: print(s, flush=True),
                       sort_key=lambda c: (c["seed"], COST.get(c["model"], 9), c["alpha"], -c["n_clean"]),
                       models=models.split(",") if models else None,
                       alphas=[float(a) for a in alphas.split(",")] if alphas else None,
                       seeds=[int(s) for s in seeds.split(",")] if seeds else None)
