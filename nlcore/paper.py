"""Numbers the paper states in its text (Rolnick et al. 2017), with the sentence they come from.

Only what the text says: the figures' other points are not given as numbers, so
they are not invented here. Accuracies are fractions in [0, 1].
"""

# (figure, model, alpha) -> (accuracy, quote)
ACCURACY = {
    ("fig1", "convnet4", 100): (0.91, "Even with 100 noisy labels for every clean label the ConvNet still attains a performance of 91%."),
    ("fig1", "perceptron", 100): (0.40, "the performance of a perceptron decays rapidly with increasing noise (though it still attains 40 percent accuracy, well above chance, at alpha = 100)"),
    ("fig2", "resnet101", 10): (0.85, "Even with 10 noisy labels for every clean label the ResNet still attains a performance of 85%."),
    # Figure 3's caption says "a performance of 70%"; Section 3.1 says which accuracy that is
    ("fig3", "resnet18", 5): (0.70, "to attain over 70 percent top-5 accuracy on ImageNet with 5 random labels for every clean label"),
}
# Fig 8: clean labels needed for 90% test accuracy at a given alpha (MNIST ConvNet)
CRITICAL_N_CLEAN_90 = {
    10: (2000, "at alpha = 10, 2,000 clean labels are needed to attain 90% performance"),
    50: (10000, "while at alpha = 50, 10,000 clean labels are needed"),
}


# What the Keras example a model is taken from says it reaches without noise (not the paper: its points for
# these figures are drawn, not stated). cifar10_cnn.py (Keras 2, 2017) trains on all 50,000 images with data
# augmentation, RMSprop and batch 32.
LINEAGE = {
    "convnet6": (0.75, 25, "It gets to 75% validation accuracy in 25 epochs, and 79% after 50 epochs."),
}


def points(figure: str) -> list[dict]:
    """The paper's stated points of one figure: dicts with model, alpha, accuracy, quote."""
    return [dict(model=m, alpha=a, accuracy=acc, quote=q) for (f, m, a), (acc, q) in ACCURACY.items() if f == figure]

# The claims the book's front page scores, in the paper's words (claim id -> quote; numbers as in ACCURACY)
CLAIMS = {
    "fig1_ordering": "larger neural network architectures tend also to be more robust to label noise",
    "fig5_structured": "performance is similar to uniform noise",
    "fig6_cifar100": "Noise drawn from CIFAR-100 resulted in only half the drop in performance observed with noise "
                     "from CIFAR-10 itself",
    "fig6_white": "white noise examples did not appreciably affect performance",
    "fig7_repeat": "Essentially no difference is observed between the two types of noisy examples",
    "fig11_batch": "dataset noise can be partly compensated for by larger batch sizes",
    "fig12_lr": "Generally, we observe that the higher the label noise, the lower the optimal learning rate.",
}
