"""Sweeps: each figure of the paper as an explicit product of config values, run resumably.

``figure_configs("fig1", "cpu")`` lists the configs of a figure at a profile;
``run(configs)`` trains those not yet stored (skipping the rest) and returns the
records. A crash loses at most the run in flight: every finished run is
already on disk (``nlcore.results``).
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from . import checkpoint, data, noise, results, switches, train
from .config import PROFILES, config_key, make_config, replace
from .evaluate import restat

# A figure: the models, fields fixed for all its runs, and per profile a grid (an explicit product of
# config values, big_vision style; an axis whose values are dicts sets several fields at once), the
# seeds of each model ("*" = any other model; [] = not run at that profile) and profile overrides, then per
# profile the fields of one model (``model_overrides``) or of one alpha (``alpha_overrides``).
# Figures 4, 9 and 12 train nothing of their own: 4 is drawn from the noise code, 9 is re-plotted from
# Figure 8's runs and 12 from the per-learning-rate accuracies of Figure 2's ConvNet-4 runs.
# two of the five rates, to save time, chosen from Figure 1's ConvNet-4 seed 0 at the cpu profile (validation
# accuracy): 0.1 was within 0.4 points of the best rate at alpha = 10 and the best at 20, 0.05 within 2 points
# at 20. Seed 1 prefers 0.5 at alpha = 20 (0.1: 6.9 points below it)
LR2 = [0.05, 0.1]
# MLP-1 at alpha = 100 in the ablations: the two rates that won it there in every earlier stored run (cpu
# profile, seeds 0 and 1: 0.1; the GPU's paper-profile run: 0.05); a whole pass is 43,000 steps per rate
MLP1_LRS = [0.05, 0.1]
# Figure 8 at the full profile: FIG8_PASSES passes over the diluted set of n clean labels or as many examples as
# Figure 1's run at the same alpha (one pass over FIG1_N_CLEAN * (1 + alpha)), whichever is fewer, and at least
# FIG8_MIN_STEPS steps (binds without noise only: there every size below 55,000 trains 500 steps, Figure 1's run
# 430); the same passes at every alpha of a size. The reported accuracy is where validation peaked
# (evaluate.final's "peak": the best mean of 3 consecutive of the run's 12 evaluations), the rate chosen there.
# The fig8len runs (the Exp 4 chapter shows them) measured both ends at alpha = 10, seed 0:
# - small sets peak early and then fall, as the network fits the diluted set's fixed noisy labels: 500 clean
#   labels rise for 4 passes, stay until about 10 and fall from 67% to 46% by 32; 2,000 peak after about 6 of 8.
#   32 passes leave room for a later peak at larger alpha, and 12 evaluations over them are 2.7 passes apart,
#   close enough that the peak window is not diluted by the fall (Figure 1's length, 110 passes at 500, would be);
# - larger sets peak later in examples, after about as many passes (5 or 6): trained as long as Figure 1's run
#   (4,727 steps), 5,000 labels peaked after 6 of 11 passes and fell 3 points by the end, 10,000 peaked near their
#   end (5 of 5.5) and 20,000 were still rising (2.75 passes). Against the runs this figure was first trained at
#   (16,000 x (1 + alpha) examples, at least one pass: 1,375 steps, 1,719 at 20,000) the longer runs gained 0.9
#   points of test accuracy at 5,000 labels (90.6 -> 91.5%), 3.7 at 10,000 (90.3 -> 94.0%) and 3.6 at 20,000
#   (91.1 -> 94.7%), each read at its validation peak (one seed; rates 0.5 and 1 against the whole grid).
# Those shorter runs stay in the store under their own keys (fig8_size(n, short=True)); the chapter sets the two
# side by side (fig8_lengths).
FIG8_PASSES = 32.0
FIG8_MIN_STEPS = 500
FIG1_N_CLEAN = PROFILES["full"]["n_clean"]  # Figure 1's clean training images (60,000 less 5,000 for validation)
FIG8_SHORT_N_REF = 16000  # the shorter length: at least 16,000 x (1 + alpha) examples and one pass
FIG8_SIZES = [500, 1000, 2000, 5000, 10000, 20000, FIG1_N_CLEAN]  # 55,000: Figure 1's runs (one pass), the same keys
# going down the sizes of one alpha, a size is trained only if the next larger one (seed 0) reached this test
# accuracy: below it the crossings of every target at or above it are located
FIG8_FLOOR = 0.70


def fig8_size(n: int, short: bool = False) -> dict:
    """Figure 8's fields at the full profile for ``n`` clean labels (the length rule above; ``short``: the shorter
    length of the runs kept for comparison)."""
    if n == FIG8_SIZES[-1]:
        return dict(n_clean=n)
    passes = max(1.0, FIG8_SHORT_N_REF / n) if short else min(FIG8_PASSES, FIG1_N_CLEAN / n)
    return dict(n_clean=n, epochs=passes, min_steps=FIG8_MIN_STEPS)


def fig8_lengths(profile: str = "full", root=None) -> list[tuple[dict, dict | None, dict | None]]:
    """Figure 8 under its two lengths: ``(config, shorter, current)`` per config of the figure below the largest
    size and at most the pilot's alpha (the runs that train every rate: above it the two lengths' pilots may
    choose different rates) where either run is stored, each record read at its validation peak as the figure
    reads it (None: not stored)."""
    rows = []
    top = FIGURES["fig8"]["pilot"][profile]["alpha"]
    for c in figure_configs("fig8", profile, root=root, unpiloted="estimate"):  # every size, not only those listed
        if c["n_clean"] == FIG8_SIZES[-1] or c["alpha"] > top:
            continue
        short = results.load(replace(c, **fig8_size(c["n_clean"], short=True)), root)
        now = results.load(c, root)
        if short or now:
            rows.append((c, short and restat(short, "peak"), now and restat(now, "peak")))
    return rows


FIG11_IMAGES = 51200  # Figure 11: every batch size sees the same number of examples (400 steps at 128)

# The other figures at the full profile: the largest scale of each that fits in about 6 CPU hours (book/cost.md
# predicts each), with Figure 1's choices (the Keras lineage, validation-chosen rates, 12 evaluations) and one
# length rule per figure that is the same at every alpha.
# Figure 5 at 20,000 clean labels, one pass over the diluted set and at least 500 steps: the delta axis compares
# runs of one length, read at their peaks; Figure 8's length at this size (2.75 passes) or 55,000 clean labels
# would be 2.75 times the hours. One pass stops short of the peak (Figure 8's run at 20,000 labels and alpha = 10
# gained over its one-pass run: the Exp 2 chapter gives how much), which may shrink the differences between
# deltas: the chapter counts such runs
FIG5 = dict(n_clean=20000, epochs=1.0, min_steps=500)
# Figure 7 at 2,500 clean labels: 6.4 passes over the diluted set (16,000 x (1 + alpha) examples) and at least 500
# steps; the fig8len runs at 500 and 2,000 labels peaked within that many examples at alpha = 10. Figure 8's length
# would be 22 passes, 3.4 times the hours
FIG7 = dict(n_clean=2500, epochs=6.4, min_steps=500)
# Figure 11 at 10,000 clean labels: one pass over the diluted set for every batch size and for H_alpha (whose
# steps are those of batch 128 on the diluted set: nlcore.train.num_steps), and at least FIG11_FULL_IMAGES
# examples (binds at alpha = 0 only, where one pass is 10,000 images)
FIG11_SIZE, FIG11_FULL_IMAGES = 10000, 64000
# CIFAR-10 (Figures 2, 6, 12) at the cpu profile's 5,000 clean labels (what the hours allow), CIFAR_PASSES passes
# over the diluted set at every alpha and, with noise, at least CIFAR_MIN_STEPS steps (binds at alpha = 2 only,
# where 8 passes are 938 steps: 8.5 passes). Without noise the floor is off (CIFAR_ALPHA0: 8 passes, 313
# steps): with it, alpha = 0 made 25.6 passes over its clean labels against 8 to 8.5 for the noisy runs, and
# reading at the validation peak let it use them, which alone made a drop from alpha = 0 (Figure 6's white
# noise: at 8.5 passes that run read about what the white-noise runs read). Those runs stay stored and the
# chapters show them beside (findings.floor_line). At
# alpha = 10 the 50,000 noisy images come from our CIFAR-100 copy's 38,000, so some repeat (about 1.3 times
# each; the paper's 50,000 clean labels at alpha = 10 would need 500,000, more than CIFAR-100 holds). The Keras
# example trains 100 passes over 50,000 images; the paper profile's 2 passes over 50,000 are on the cost page.
CIFAR_SIZE, CIFAR_PASSES, CIFAR_MIN_STEPS = 5000, 8.0, 1000
CIFAR_ALPHA0 = {0: dict(min_steps=0)}  # alpha_overrides of Figures 2 and 6 at full: alpha = 0 without the floor
# the three ConvNet-6 rates of Figures 2 and 6 at the full profile: the cpu profile's ConvNet-6 runs (with the
# earlier choices: standardised inputs, torch's AdaDelta and initialisation, every convolution padded) chose 0.5
# or 1.0 (within a point of each other) below alpha = 10 and 0.1 or 0.5 at 10; 0.01 and 0.05 never won
CONVNET6_LRS = [0.1, 0.5, 1.0]

FIGURES = {
    "fig1": dict(
        title="Figure 1: MNIST, uniform noise", experiment="exp1", fixed=dict(dataset="mnist"),
        models=["perceptron", "mlp1", "mlp2", "mlp4", "convnet4"],
        grid={"smoke": dict(alpha=[0, 20]), "cpu": dict(alpha=[0, 5, 10, 20, 50, 100]),
              "full": dict(alpha=[0, 5, 10, 20, 50, 100]),
              "paper": dict(alpha=[0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100])},
        seeds={"smoke": {"*": [0]}, "cpu": {"*": [0, 1]}, "full": {"*": [0, 1]}, "paper": {"*": [0, 1, 2]}},
        # a ConvNet-4 run at alpha = 100 on 55,000 clean images is 43,000 steps per learning rate (book/cost.md
        # gives the hours): above alpha = 20 it trains two rates, chosen by the pilot rule of prune_lrs
        pilot={"full": dict(model="convnet4", alpha=20, seed=0)},
    ),
    # Sec 3.1's inputs and optimiser where the paper is silent: the Keras examples' x / 255 against
    # standardised pixels, Keras' rho = 0.95 against torch's 0.9, at the paper's scale and alpha = 100
    "ablation": dict(
        title="Inputs and AdaDelta's rho under heavy noise (alpha = 100)", experiment="exp1",
        fixed=dict(dataset="mnist", alpha=100), models=["perceptron", "mlp1"],
        grid={p: dict(inputs=["unit", "standardized"], rho=[0.95, 0.9]) for p in ("smoke", "full")},
        seeds={"smoke": {"*": [0]}, "full": {"*": [0, 1]}},
        model_overrides={"full": {"mlp1": dict(lrs=MLP1_LRS)}},
    ),
    # Figure 1's full profile holds 5,000 clean images out to choose the learning rate: against all 60,000
    # clean images with the rate chosen on the test set (our reading of the paper), at one alpha
    "valsplit": dict(
        title="55,000 clean images and a validation split against 60,000 and the test set (alpha = 10)",
        experiment="exp1", fixed=dict(dataset="mnist", alpha=10), models=["perceptron", "mlp1"],
        grid={p: dict(split=[dict(), dict(n_clean=n, n_val=0, lr_select="test")])
              for p, n in (("smoke", 700), ("full", 60000))},
        seeds={"smoke": {"*": [0]}, "full": {"*": [0, 1]}},
    ),
    # the rest of the Keras lineage, one choice at a time against the lineage run (inputs x / 255, rho 0.95):
    # torch's initialisation, no dropout in the MLP, and AdaDelta's epsilon of Keras 2.0.x (1e-8; Keras 2.1 and
    # later take 1e-7 from K.epsilon(), the default). Epsilon sets AdaDelta's first steps: with no update
    # accumulated yet a step is about |g| sqrt(eps / (E[g^2] + eps)), so 1e-8 starts about 3 times smaller
    "lineage": dict(
        title="Keras initialisation, the MLP's dropout and AdaDelta's epsilon (alpha = 100)", experiment="exp1",
        fixed=dict(dataset="mnist", alpha=100), models=["perceptron", "mlp1"],
        grid={p: dict(choice=[dict(), dict(init="torch"), dict(mlp_dropout=0.0), dict(eps=1e-8)])
              for p in ("smoke", "full")},
        seeds={"smoke": {"*": [0]}, "full": {"perceptron": [0, 1], "*": [0]}},
        model_overrides={"full": {"mlp1": dict(lrs=MLP1_LRS)}},
    ),
    # the perceptron's Figure 1 line with torch's initialisation: at alpha = 100 it changed the perceptron
    # more than any other choice of the lineage (seed 0: 39.0% against Keras's 25.7%)
    "init": dict(
        title="Figure 1's perceptron with torch's initialisation", experiment="exp1",
        fixed=dict(dataset="mnist", init="torch"), models=["perceptron"],
        grid={"smoke": dict(alpha=[0, 20]), "full": dict(alpha=[0, 5, 10, 20, 50, 100])},
        seeds={"smoke": {"*": [0]}, "full": {"*": [0, 1]}},
    ),
    "fig2": dict(
        title="Figure 2: CIFAR-10, uniform noise", experiment="exp1", fixed=dict(dataset="cifar10"),
        models=["convnet4", "convnet6", "resnet101"],
        grid={"smoke": dict(alpha=[0, 5]), "cpu": dict(alpha=[0, 2, 5, 10]), "full": dict(alpha=[0, 2, 5, 10]),
              "paper": dict(alpha=list(range(11)))},
        seeds={"smoke": {"resnet101": [], "*": [0]}, "cpu": {"resnet101": [], "*": [0]},
               "full": {"resnet101": [], "*": [0, 1]}, "paper": {"*": [0, 1, 2]}},
        # full: ConvNet-4 trains every rate (Figure 12 is drawn from them); ConvNet-6's runs are Figure 6's
        # (CIFAR-10's own images as noise), the same keys
        overrides={"cpu": dict(min_steps=600),
                   "full": dict(n_clean=CIFAR_SIZE, epochs=CIFAR_PASSES, min_steps=CIFAR_MIN_STEPS),
                   "paper": dict(n_clean=50000)},
        model_overrides={"full": {"convnet6": dict(lrs=CONVNET6_LRS)}}, alpha_overrides={"full": CIFAR_ALPHA0},
        report={"full": "peak"},
    ),
    "confusion": dict(  # Sec 3.2: "training the network repeatedly on a small subset of MNIST"
        title="The confusion matrix behind the confusing order (Sec 3.2)", experiment="exp2",
        fixed=dict(dataset="mnist", alpha=0), models=["convnet4"],
        grid={p: {} for p in ("smoke", "cpu", "full", "paper")},
        seeds={"smoke": {"*": [0, 1]}, "cpu": {"*": [0, 1, 2, 3, 4]}, "full": {"*": list(range(10))},
               "paper": {"*": list(range(10))}},
        # full: the Keras lineage's inputs, optimiser and initialisation (the cpu profile's runs predate them);
        # 500 steps, where Figure 8's length runs without noise had stopped climbing (the fig8len runs chose 1.0)
        overrides={"cpu": dict(n_clean=1000, lrs=[1.0], epochs=0.0, min_steps=300, evals=1),
                   "full": dict(n_clean=1000, lrs=[0.5, 1.0], epochs=0.0, min_steps=500, evals=1, mean_last=1),
                   "paper": dict(n_clean=1000, epochs=0.0, min_steps=1000, evals=1, mean_last=1)},
    ),
    "fig5": dict(
        title="Figure 5: MNIST, structured noise (alpha = 20)", experiment="exp2",
        fixed=dict(dataset="mnist", alpha=20), models=["convnet4"], needs="confusion",
        grid={"smoke": dict(delta=[0, 1.0], order=["confusing", "reverse", "random"]),
              "cpu": dict(delta=[0, 0.5, 1.0], order=["confusing", "reverse", "random"]),
              "full": dict(delta=[0, 0.25, 0.5, 0.75, 0.9, 1.0], order=["confusing", "reverse", "random"]),
              "paper": dict(delta=[0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
                            order=["confusing", "reverse", "random"])},
        seeds={"smoke": {"*": [0]}, "cpu": {"*": [0, 1]}, "full": {"*": [0, 1]}, "paper": {"*": [0, 1, 2]}},
        overrides={"cpu": dict(lrs=LR2), "full": FIG5},
        # full: uniform noise (delta = 0) trains every rate; structured noise the pilot's rate and the next smaller
        # (its rate chosen where the figure reads its runs, at the peak: no other figure's keys depend on it)
        pilot={"full": dict(model="convnet4", delta=0, seed=0, report="peak")}, report={"full": "peak"},
    ),
    "fig6": dict(
        title="Figure 6: CIFAR-10, source of the noisy examples", experiment="exp3",
        fixed=dict(dataset="cifar10"), models=["convnet6"],
        grid={p: dict(alpha=a, source=[dict(noise_source="same"), dict(noise_source="other", repeat=False),
                                       dict(noise_source="white", repeat=False)])
              for p, a in (("smoke", [0, 5]), ("cpu", [0, 5, 10]), ("full", [0, 2, 5, 10]),
                           ("paper", [0, 2, 4, 6, 8, 10]))},
        seeds={"smoke": {"*": [0]}, "cpu": {"*": [0, 1]}, "full": {"*": [0, 1]}, "paper": {"*": [0, 1, 2]}},
        overrides={"cpu": dict(min_steps=600, lrs=[0.1, 0.5]),
                   "full": dict(n_clean=CIFAR_SIZE, epochs=CIFAR_PASSES, min_steps=CIFAR_MIN_STEPS, lrs=CONVNET6_LRS),
                   "paper": dict(n_clean=50000)},
        alpha_overrides={"full": CIFAR_ALPHA0}, report={"full": "peak"},
    ),
    "fig7": dict(
        title="Figure 7: MNIST, repeated vs unique noisy images (2,500 clean)", experiment="exp3",
        fixed=dict(dataset="mnist", n_clean=2500), models=["convnet4"],
        grid={"smoke": dict(alpha=[0, 5], repeat=[True, False]), "cpu": dict(alpha=[0, 10, 20], repeat=[True, False]),
              "full": dict(alpha=[0, 5, 10, 15, 20], repeat=[True, False]),
              "paper": dict(alpha=[0, 5, 10, 15, 20], repeat=[True, False])},
        seeds={"smoke": {"*": [0]}, "cpu": {"*": [0, 1]}, "full": {"*": [0, 1]}, "paper": {"*": [0, 1, 2]}},
        overrides={"cpu": dict(lrs=LR2), "smoke": dict(n_clean=500), "full": FIG7},
        report={"full": "peak"},
    ),
    "fig8": dict(
        title="Figure 8: MNIST, accuracy against the number of clean labels", experiment="exp4",
        fixed=dict(dataset="mnist"), models=["convnet4"],
        grid={"smoke": dict(n_clean=[200, 500], alpha=[0, 10]),
              "cpu": dict(n_clean=[500, 1000, 2000, 5000], alpha=[0, 10, 20, 50]),
              "full": dict(size=[fig8_size(n) for n in FIG8_SIZES], alpha=[0, 10, 20, 50, 100]),
              "paper": dict(n_clean=[1000, 2000, 5000, 10000, 20000, 40000, 55000], alpha=[0, 10, 20, 50, 100])},
        seeds={"smoke": {"*": [0]}, "cpu": {"*": [0]}, "full": {"*": [0, 1]}, "paper": {"*": [0, 1]}},
        overrides={"cpu": dict(lrs=[0.01, 0.1]), "paper": dict(n_val=5000, lr_select="val")},
        # as Figure 1 (whose runs at 55,000 clean images are these): above alpha = 20 two rates, by the pilot rule;
        # the pilot's rate is the one its last evaluations chose, as in Figure 1, so that those runs keep their keys
        pilot={"full": dict(model="convnet4", alpha=20, seed=0)},
        report={"full": "peak"}, descend={"full": FIG8_FLOOR},
    ),
    # Figure 1's headline point over two passes: ConvNet-4 at alpha = 100 was still rising at the end of its one
    # pass (full profile, seed 0, lr 0.1, the smaller of its two rates), so the same run trained twice as long,
    # with the chosen rate and the next smaller. Exactly twice the one-pass run's steps (43,399; two passes round
    # up to one step fewer), so that its 24 evaluations fall on that run's 12 steps and more; lr 0.1 first, as
    # there, so that it draws the same dropout masks (one buffer per step, a slice per rate). With the same
    # seed, batches and labels its first pass should repeat that run: the chapter checks it
    "fig1len": dict(
        title="Figure 1's ConvNet-4 at alpha = 100 over two passes", experiment="exp1",
        fixed=dict(dataset="mnist", alpha=100, epochs=2.0, evals=24, lrs=[0.1, 0.05],
                   min_steps=2 * train.num_steps(make_config("full", dataset="mnist", alpha=100))),
        models=["convnet4"], grid={"full": {}}, seeds={"full": {"*": [0]}},
    ),
    # Figure 8's training length, measured before its grid: one pass over a small clean set diluted by alpha
    # is a few dozen steps, so small sets get more passes. Learning curves with 16 evaluations show after how
    # many passes accuracy stops rising: the smallest sizes with many passes (alpha = 0 and 10), the middle
    # sizes at alpha = 10 as long as Figure 1's run
    "fig8len": dict(
        title="Figure 8's training length: learning curves at its sizes", experiment="exp4",
        fixed=dict(dataset="mnist", lrs=[0.5, 1.0], evals=16), models=["convnet4"],
        grid={"smoke": dict(point=[dict(n_clean=200, alpha=a, epochs=2.0) for a in (0, 10)]),
              # alpha = 10 runs half the passes of alpha = 0: 1,375 steps at both sizes, the steps of one pass at
              # alpha = 10 over 16,000 clean images
              "full": dict(point=[dict(n_clean=n, alpha=a, epochs=e / (2 if a else 1))
                                  for n, e in ((500, 64.0), (2000, 16.0)) for a in (0, 10)]
                           # the middle sizes at alpha = 10 as long as Figure 1's run there (one pass over
                           # 55,000 x 11 examples, 4,727 steps): the 16,000 rule's runs at 5,000 to 20,000 were
                           # still climbing at their last evaluation
                           + [dict(n_clean=n, alpha=10, epochs=FIG1_N_CLEAN / n) for n in (5000, 10000, 20000)])},
        seeds={"smoke": {"*": [0]}, "full": {"*": [0]}}, report={"full": "peak"},
    ),
    "fig11": dict(
        title="Figure 11: MNIST ConvNet-2, batch size and the noisy loss H_alpha", experiment="exp5",
        fixed=dict(dataset="mnist", epochs=0.0), models=["convnet2"],
        grid={p: dict(alpha=a, train=[dict(batch_size=b, min_steps=images // b) for b in (32, 64, 128, 256)]
                      + [dict(batch_size=128, min_steps=images // 128, loss="h_alpha")])
              for p, a, images in (("smoke", [0, 20], 2560), ("cpu", [0, 20, 50], FIG11_IMAGES),
                                   ("paper", [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 60000 * 10))}
        | {"full": dict(alpha=[0, 20, 50, 100],
                        train=[dict(batch_size=b, min_steps=FIG11_FULL_IMAGES // b) for b in (32, 64, 128, 256)]
                        + [dict(batch_size=128, min_steps=FIG11_FULL_IMAGES // 128, loss="h_alpha")])},
        seeds={"smoke": {"*": [0]}, "cpu": {"*": [0, 1]}, "full": {"*": [0, 1]}, "paper": {"*": [0, 1, 2]}},
        overrides={"cpu": dict(lrs=[0.01, 0.1, 1.0]),
                   "full": dict(n_clean=FIG11_SIZE, epochs=1.0, lrs=[0.01, 0.1, 1.0])},
    ),
    # Figure 11's alternative length: the same number of steps for every batch size (those of batch 32 over one
    # pass, at least 2,000), so batch b makes b / 32 times the passes of batch 32. Figure 11 gives every batch
    # size one pass (the lineage's fixed number of epochs), where a small batch takes more steps; this
    # separates the steps from the batch. Batch 32 is Figure 11's own run (the same config, so the same key)
    "fig11steps": dict(
        title="Figure 11 at equal steps: MNIST ConvNet-2, every batch size for the steps of batch 32",
        experiment="exp5", fixed=dict(dataset="mnist", n_clean=FIG11_SIZE, lrs=[0.01, 0.1, 1.0]),
        models=["convnet2"],
        grid={"full": dict(alpha=[100, 50, 20, 0], train=[dict(batch_size=b, epochs=b / 32,
                                                                 min_steps=FIG11_FULL_IMAGES // 32)
                                                            for b in (32, 64, 128, 256)])},
        seeds={"full": {"*": [0, 1]}},
    ),
}
# ImageNet (a folder the user provides, nlcore.data): specified at the paper profile, not run for this book
IMAGENET = "ImageNet (ResNet-18, top-5) cannot be downloaded here; set NLCORE_IMAGENET to a copy to run these"
FIGURES.update({
    "fig3": dict(
        title="Figure 3: ImageNet, uniform noise (top-5)", experiment="exp1", fixed=dict(dataset="imagenet"),
        models=["resnet18"],
        grid={"smoke": dict(alpha=[]), "cpu": dict(alpha=[]), "paper": dict(alpha=[0, 1, 2, 3, 4, 5])},
        seeds={p: {"*": [0]} for p in ("smoke", "cpu", "paper")}, overrides={"paper": dict(n_clean="all")},
    ),
    "fig10": dict(
        title="Figure 10: ImageNet, accuracy against the number of clean labels", experiment="exp4",
        fixed=dict(dataset="imagenet"), models=["resnet18"],
        grid={"smoke": dict(alpha=[]), "cpu": dict(alpha=[]),
              "paper": dict(n_clean=[100000, 200000, 400000, 800000], alpha=[0, 1, 2, 4])},
        seeds={p: {"*": [0]} for p in ("smoke", "cpu", "paper")},
    ),
})
DERIVED = {"fig4": "noise code (nlcore.noise)", "fig9": "fig8", "fig12": "fig2"}  # figures made from others
NOT_RUN = {"fig3": IMAGENET, "fig10": IMAGENET}


def larger_scale(profile: str) -> str:
    """The profile of a chapter's "at a larger scale" sections when the book is built at ``profile``: the
    committed (cpu) book shows the full profile's runs; smoke and paper draw, and train, their own."""
    return "full" if profile in ("cpu", "full") else profile


def model_seeds_of(figure: str, profile: str, model: str) -> list[int]:
    """The seeds a figure runs ``model`` with at ``profile`` (empty: the model is not run there)."""
    seeds = FIGURES[figure]["seeds"][profile]
    return list(seeds.get(model, seeds["*"]))


def figure_configs(figure: str, profile: str = "cpu", *, alphas=None, seeds=None, models=None, grid=None,
                   confusion=None, root=None, unpiloted: str = "skip", **overrides) -> list[dict]:
    """Configs of ``figure`` at ``profile``, one per distinct run (duplicates, e.g. delta = 0 in every
    order, appear once). ``alphas``/``seeds``/``models`` replace the profile's lists; ``grid`` replaces
    axes of the grid; ``overrides`` set fields. Figure 5 needs the confusion matrix (Sec 3.2): pass
    ``confusion`` ((m, m) counts) or store the ``confusion`` sweep first (:func:`confusion_matrix`).

    ``unpiloted``: what to do with a run whose learning rates wait for a pilot run not stored yet
    (:func:`prune_lrs`), or whose class order waits for the confusion runs: ``"skip"`` leaves it out (a
    sweep cannot train it yet); ``"estimate"`` lists it with the first two rates of its grid (a stand-in
    with the work of the real run: two rates, one if the pilot chooses the smallest) and a uniform
    confusion matrix, for predicting its cost and counting the figure's runs, never to be trained."""
    if unpiloted not in ("skip", "estimate"):
        raise ValueError(f"unpiloted must be 'skip' or 'estimate', got {unpiloted!r}")
    if figure not in FIGURES:
        raise ValueError(f"figure must be one of {sorted(FIGURES)}, got {figure!r}")
    spec = FIGURES[figure]
    make_config(profile)  # validates the profile name before anything else
    if profile not in spec["grid"]:
        raise ValueError(f"{figure} is not defined at profile {profile!r}; it is at {sorted(spec['grid'])}")
    named = bool(models)
    models = list(models or spec["models"])
    bad = [m for m in models if m not in spec["models"]]
    if bad:
        raise ValueError(f"model(s) {bad} are not in {figure}; choose from {spec['models']}")
    grid = dict(grid or {})
    if "n_clean" in grid and "size" in spec["grid"][profile]:  # a size carries its length: Figure 8's rule
        grid["size"] = [fig8_size(n) for n in grid.pop("n_clean")]
    axes = dict(spec["grid"][profile], **grid)
    if alphas is not None:
        axes["alpha"] = list(alphas)
    base = dict(spec["fixed"], **spec.get("overrides", {}).get(profile, {}), **overrides)
    ranks = {}
    out, seen = [], set()
    for model in models:
        model_seeds = model_seeds_of(figure, profile, model)
        if seeds is not None and (model_seeds or named):  # a model off at this profile stays off unless named
            model_seeds = seeds
        for values in itertools.product(*axes.values()):
            point = dict(base)
            for name, v in zip(axes, values):
                point.update(v if isinstance(v, dict) else {name: v})
            if point.get("delta", 0) > 0 and point.get("order") in ("confusing", "reverse"):
                if not ranks:
                    cm = confusion
                    if cm is None:
                        try:
                            cm = confusion_matrix(profile, root)
                        except MissingRuns:  # these runs wait on the confusion runs, as others on a pilot
                            if unpiloted == "skip":
                                continue
                            cm = np.ones((data.num_classes(point["dataset"]),) * 2)  # a stand-in, to count
                    ranks.update({o: noise.class_order(o, len(cm), cm).tolist() for o in ("confusing", "reverse")})
                point["ranks"] = ranks[point["order"]]
            if point.get("n_clean") == "all":  # every training image not held out for validation
                n_val = point.get("n_val", make_config(profile)["n_val"])
                point["n_clean"] = data.train_size(point["dataset"]) - n_val
            point.update(spec.get("model_overrides", {}).get(profile, {}).get(model, {}))
            point.update(spec.get("alpha_overrides", {}).get(profile, {}).get(point.get("alpha"), {}))
            for seed in model_seeds:
                cfg = make_config(profile, **dict(point, model=model, seed=seed))
                pruned = prune_lrs(spec.get("pilot", {}).get(profile), cfg, root)
                if pruned is None and unpiloted == "estimate":  # two rates, as the pilot will leave
                    pruned = make_config(profile, **dict(point, model=model, seed=seed, lrs=sorted(cfg["lrs"])[:2]))
                if pruned is None:  # its learning rates come from a pilot run not stored yet: not listed until then
                    continue
                cfg = pruned
                key = config_key(cfg)
                if key not in seen:
                    seen.add(key)
                    out.append(cfg)
    floor = spec.get("descend", {}).get(profile)
    if floor is not None and unpiloted == "skip":
        out = descend(out, floor, spec.get("report", {}).get(profile, "last"), root)
    return out


def descend(cfgs: list[dict], floor: float, report: str = "last", root=None) -> list[dict]:
    """The configs a sweep down the sizes lists: going from the largest ``n_clean`` of each line (the same
    config but for ``n_clean`` and what a size sets with it: ``epochs``, ``min_steps``, ``lrs``) to smaller
    ones, a size is kept only if the next larger size is kept and its seed-0 run is stored with a test
    accuracy (by ``report``) of at least ``floor``. Below a run under the floor, smaller clean sets cannot
    locate a crossing above it, and each costs as much as that run. Until the larger run is stored, the
    smaller is not listed (a later sweep lists it)."""
    lines: dict = {}
    for c in cfgs:
        sized = ("n_clean", "epochs", "min_steps", "lrs")
        lines.setdefault(tuple((k, str(v)) for k, v in sorted(c.items()) if k not in sized), []).append(c)
    keep = []
    for line in lines.values():
        line.sort(key=lambda c: -c["n_clean"])
        keep.append(line[0])
        for larger, c in zip(line, line[1:]):
            rec = results.load(replace(larger, seed=0), root)
            acc = None if rec is None else restat(rec, report)["metrics"]["best"]["test_acc"]
            if acc is None or acc < floor:
                break
            keep.append(c)
    kept = {config_key(c) for c in keep}
    return [c for c in cfgs if config_key(c) in kept]


def prune_lrs(pilot: dict | None, cfg: dict, root=None) -> dict | None:
    """The learning rates a costly run trains, by a rule measured on a stored pilot run.

    ``pilot``: ``model``, ``seed`` and one axis value (``alpha=20``: Figure 1; ``delta=0``: Figure 5) of a
    run trained on the whole grid, and optionally ``report``, the statistic its rate is chosen by
    (:func:`nlcore.evaluate.restat`; by default the mean of the last evaluations). A run of that model
    beyond the pilot on that axis (more noise, or more structured noise) trains two rates: the one the
    pilot chose (on its ``lr_select`` split) and the next smaller rate of the grid (one rate if the pilot
    chose the smallest), since the best rate falls as noise rises (Sec 3.4; Fig 12). Until the pilot is
    stored such a run has no grid yet: None (the figure leaves it out; a sweep run again after the pilot
    is stored trains it). Any other config is returned as it is.
    """
    if pilot is None:
        return cfg
    (axis,) = [k for k in pilot if k not in ("model", "seed", "report")]
    if cfg["model"] != pilot["model"] or cfg[axis] <= pilot[axis]:
        return cfg
    rec = results.load(replace(cfg, **{axis: pilot[axis]}, seed=pilot["seed"]), root)
    if rec is None:
        return None
    if pilot.get("report", "last") != "last":
        rec = restat(rec, pilot["report"])
    if rec["metrics"]["best"]["lr"] is None:  # every rate of the pilot diverged: nothing to prune by
        return cfg
    grid = sorted(cfg["lrs"])
    best = grid.index(rec["metrics"]["best"]["lr"])
    return replace(cfg, lrs=grid[max(0, best - 1):best + 1])


class MissingRuns(ValueError):
    """Runs that others wait on are not stored (the confusion runs of Figure 5's class orders)."""


def confusion_matrix(profile: str = "cpu", root=None, train_missing: bool = False, device=None):
    """The (m, m) test-confusion counts of Sec 3.2, summed over the ``confusion`` sweep's runs.

    ``[c, k]`` = test images of class c that a ConvNet-4 trained on a small MNIST subset predicted
    as k, over all its seeds (a different subset each). Raises :class:`MissingRuns` (a ValueError) if
    runs are missing and ``train_missing`` is False.
    """
    cfgs = figure_configs("confusion", profile)
    recs = run(cfgs, device=device, progress=False, root=root, log=None) if train_missing else \
        [results.load(c, root) for c in cfgs]
    if any(r is None for r in recs):
        missing = sum(r is None for r in recs)
        raise MissingRuns(f"Figure 5's confusing order needs the confusion matrix of Sec 3.2: {missing}"
                         f" of its {len(cfgs)} runs at profile {profile!r} are not stored; run "
                         f"`python -m nlcore sweep confusion --profile {profile}` first")
    return np.sum([r["metrics"]["confusion"] for r in recs], axis=0)


def run(configs: list[dict], *, device: str | None = None, progress: bool = True, root=None, log=print,
        poll_s: float = 2.0) -> list[dict]:
    """Train and store every config that is not stored yet; return all records (stored + new).

    Safe to run in several processes on one store: each run is trained by whichever process takes its
    lock first; the others go on to the next run and, at the end, wait for the runs held elsewhere.
    A run in flight is checkpointed every few minutes (:mod:`nlcore.checkpoint`): after a crash or a
    kill, the next ``run`` continues it from there.
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
                    where = checkpoint.path(cfg, root)
                    with results.Heartbeat(cfg, root):
                        metrics = train.train(cfg, device=device, progress=progress, checkpoint=where)
                    stored[i] = results.save(cfg, metrics, time.time() - t0, root)
                    where.unlink(missing_ok=True)
                    done += 1
                    if log:
                        b = metrics["best"]
                        acc = "all diverged" if b["lr"] is None else f"test {b['test_acc']:.4f} (lr {b['lr']:g})"
                        log(f"[{done}] {cfg['model']} alpha={cfg['alpha']:g} seed={cfg['seed']}: {acc}, "
                            f"{stored[i]['wall_time_s']:.0f}s")
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


def train_figure(figure: str, profile: str = "cpu", *, device=None, progress: bool = True, root=None, log=print,
                 sort_key=None, **selection) -> list[dict]:
    """Train the runs of ``figure`` at ``profile`` (``selection``: the keyword arguments of
    :func:`figure_configs`, ``alphas``, ``seeds``, ``models``, ``grid``...) that are not stored, and the
    confusion runs Figure 5 needs first. Runs that wait on others (a pilot's rates, a larger size, the
    confusion runs) are listed once those are stored, so the figure is listed again until no run is added.
    ``sort_key``: a sort key for the runs of each listing (cheapest first, say). Returns the last listing;
    runs still waiting on runs outside ``selection`` (another seed's pilot, say) are logged, not trained."""
    if FIGURES[figure].get("needs") == "confusion":
        confusion_matrix(profile, root, train_missing=True, device=device)
    wanted = figure_configs(figure, profile, root=root, **selection)
    while True:
        run(sorted(wanted, key=sort_key) if sort_key else wanted, device=device, progress=progress, root=root, log=log)
        more = figure_configs(figure, profile, root=root, **selection)
        if {config_key(c) for c in more} <= {config_key(c) for c in wanted}:
            waiting = len(figure_configs(figure, profile, root=root, unpiloted="estimate", **selection)) - len(more)
            if waiting and log:
                log(f"{waiting} runs of {figure} still wait on runs outside this selection (a pilot, a larger "
                    "size, the confusion runs)")
            return more
        wanted = more


def figure_records(figure: str, profile: str = "cpu", *, train_missing: bool = False, device=None, root=None,
                   progress: bool | None = None, **selection) -> list[dict]:
    """What a notebook shows: the stored records of ``figure`` at ``profile``, read with the figure's
    statistic where it names one (``report``: :func:`nlcore.evaluate.restat`).

    With ``train_missing``, first trains what :func:`train_figure` trains for ``selection`` (by default
    the whole figure). Returns the records of the profile's grid and of ``selection``, those stored, each once.
    """
    if progress is None:  # a bar in a live notebook; in the book build, one line per run
        progress = not switches.book()
    wanted = train_figure(figure, profile, device=device, progress=progress, root=root, **selection) \
        if train_missing else figure_configs(figure, profile, root=root, **selection)
    shown = figure_configs(figure, profile, root=root, seeds=selection.get("seeds"), models=selection.get("models"))
    keys = {config_key(c) for c in shown}
    shown += [c for c in wanted if config_key(c) not in keys]
    recs = [r for r in (results.load(c, root) for c in shown) if r is not None]
    report = FIGURES[figure].get("report", {}).get(profile)
    return [restat(r, report) for r in recs] if report else recs


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


def complete(figure: str, profile: str, root=None, **selection) -> bool:
    """Whether every run of ``figure`` at ``profile`` is stored, those that wait on others (a pilot's rates,
    the confusion runs) included. Figure 8's sizes below its floor are not runs of the figure (:func:`descend`).
    ``selection`` (``alphas``, ``seeds``, ``models``) narrows the question to part of the figure."""
    listed = figure_configs(figure, profile, root=root, **selection)
    if any(results.load(c, root) is None for c in listed):
        return False
    everything = figure_configs(figure, profile, root=root, unpiloted="estimate", **selection)
    floor = FIGURES[figure].get("descend", {}).get(profile)
    if floor is not None:
        everything = descend(everything, floor, FIGURES[figure].get("report", {}).get(profile, "last"), root)
    point = lambda c: config_key(dict(c, lrs=[], ranks=None))  # noqa: E731  (a run, whatever its rates)
    return {point(c) for c in everything} <= {point(c) for c in listed}


def open_alphas(figure: str, profile: str, alphas, root=None) -> list[float]:
    """The ``alphas`` whose seed-0 line of ``figure`` at ``profile`` still has runs to train (:func:`complete`),
    for example Figure 8's smaller sizes, which wait on the larger ones."""
    return [a for a in alphas if not complete(figure, profile, root, alphas=[a], seeds=[0])]


def status(root=None) -> dict:
    """Per figure and profile: how many of its runs are stored (readable); ``unreadable``: stored files that
    cannot be read, ``{path: why}`` (not counted as stored)."""
    bad = results.unreadable(root)
    out = {}
    for fig in FIGURES:
        out[fig] = {}
        for profile in PROFILES:
            if profile not in FIGURES[fig]["grid"]:
                continue
            try:
                cfgs = figure_configs(fig, profile, root=root)
                every = figure_configs(fig, profile, root=root, unpiloted="estimate")
            except (ValueError, data.DataError) as e:  # ImageNet absent
                out[fig][profile] = dict(stored=0, total=None, needs=str(e))
                continue
            done = sum(results.run_path(c, root).exists() and str(results.run_path(c, root)) not in bad
                       for c in cfgs)
            # total: the runs listed now and those that wait on others (a pilot, the confusion runs)
            out[fig][profile] = dict(stored=done, total=max(len(every), len(cfgs)))
    for fig, source in DERIVED.items():
        out[fig] = dict(derived_from=source)
    for fig, why in NOT_RUN.items():
        out[fig]["not_run"] = why
    out["all_stored_runs"] = len(list((results.results_dir(root) / "runs").glob("*.json"))) - len(bad)
    out["unreadable"] = bad
    return out
