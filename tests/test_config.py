"""Configs: profiles, hashing, and clear errors for bad input before any compute."""

import pytest

from nlcore import config, sweep


def test_profiles_are_visible_and_valid():
    for p in config.PROFILES:
        cfg = config.make_config(p, model="mlp1")
        assert cfg["profile"] == p
    assert config.make_config("cpu", model="convnet4")["n_clean"] == 5000
    assert config.make_config("paper", model="convnet4")["n_clean"] == 60000


def test_hash_is_stable_and_sensitive_to_every_field():
    cfg = config.make_config("cpu", model="mlp1", alpha=10)
    key = config.config_key(cfg)
    assert key == config.config_key(dict(reversed(list(cfg.items()))))  # field order does not matter
    assert len(key) == 16
    other_value = dict(dataset="cifar10", model="mlp2", width=256, n_clean=999, n_val=7, alpha=11.0, delta=0.1,
                       order="random", noise_source="white", repeat=False, lrs=[0.1], lr_select="test", rho=0.95,
                       eps=1e-7, batch_size=64, epochs=2.0, min_steps=3, evals=2, seed=1, engine="sequential",
                       precision="fp32", profile="paper", loss="h_alpha", ranks=[[1, 2]], n_test=10,
                       inputs="unit", init="keras", mlp_dropout=0.5, mean_last=2, conv_padding="keras")
    assert set(other_value) == set(cfg)  # every field of the config is tried
    keys = {config.config_key(dict(cfg, **{k: v})) for k, v in other_value.items()}
    assert key not in keys and len(keys) == len(other_value)


def test_fields_added_later_keep_old_keys():
    """A run stored before `loss`/`ranks` existed keeps its key: those fields at their default are not hashed."""
    cfg = config.make_config("cpu", model="mlp1", alpha=10)
    old = {k: v for k, v in cfg.items() if k not in config.ADDED_FIELDS}
    assert config.config_key(old) == config.config_key(cfg)
    assert config.config_key(dict(cfg, loss="h_alpha")) != config.config_key(cfg)


def test_the_defaults_are_the_keras_lineage_and_the_cpu_profile_keeps_the_earlier_choices():
    """New runs take Keras 2's AdaDelta, initialisation, inputs and the MLP's dropout; the stored cpu-profile
    book was trained with torch's, and its runs keep their keys (the earlier values are not hashed)."""
    full = config.make_config("full", model="mlp1", alpha=100)
    lineage = (full["rho"], full["eps"], full["inputs"], full["init"], full["mlp_dropout"])
    assert lineage == (0.95, 1e-7, "unit", "keras", 0.2)
    assert (full["n_clean"], full["n_val"], full["epochs"], full["min_steps"]) == (55000, 5000, 1.0, 0)
    assert (full["evals"], full["mean_last"]) == (12, 3)
    cpu = config.make_config("cpu", model="mlp1", alpha=100)
    assert {k: cpu[k] for k in config.EARLIER} == config.EARLIER
    assert config.config_key(cpu) == config.config_key({k: v for k, v in cpu.items() if k not in config.ADDED_FIELDS})
    # the hidden-layer dropout is the MLPs' alone: other models' runs do not differ by it
    key, mk = config.config_key, config.make_config
    assert key(mk("full", model="convnet4", mlp_dropout=0.0)) == key(mk("full", model="convnet4"))
    assert key(mk("full", model="mlp2", mlp_dropout=0.0)) != key(mk("full", model="mlp2"))
    # ConvNet-6 pads as cifar10_cnn.py at the new profiles; the stored cpu runs padded every convolution
    c6 = dict(model="convnet6", dataset="cifar10", n_clean=45000)
    assert mk("full", **c6)["conv_padding"] == "keras" and mk("cpu", **c6)["conv_padding"] == "same"
    assert key(mk("full", **c6, conv_padding="same")) != key(mk("full", **c6))
    assert key(mk("full", model="convnet4", conv_padding="same")) == key(mk("full", model="convnet4"))


def test_runs_that_cannot_differ_share_one_key():
    key, mk = config.config_key, config.make_config
    # alpha = 0: no noisy examples, so the noise source and repetition cannot matter
    white = mk("cpu", dataset="cifar10", alpha=0, noise_source="white", repeat=False)
    assert key(white) == key(mk("cpu", dataset="cifar10", alpha=0))
    # delta = 0: uniform noise, so the order cannot matter
    assert key(mk("cpu", alpha=20, order="reverse")) == key(mk("cpu", alpha=20, order="random"))
    structured = mk("cpu", alpha=20, delta=0.5, order="random")
    assert key(structured) != key(dict(structured, seed=1))


def test_negative_zero_is_zero():
    key = config.config_key
    assert key(config.make_config("cpu", alpha=-0.0)) == key(config.make_config("cpu", alpha=0))


def test_int_and_float_alpha_hash_the_same():
    key = config.config_key
    assert key(config.make_config("cpu", alpha=10)) == key(config.make_config("cpu", alpha=10.0))


BAD = [
    (dict(alpha=-1), "alpha must be a finite number >= 0"),
    (dict(alpha="ten"), "alpha must be a number"),
    (dict(alpha=float("nan")), "alpha"),
    (dict(delta=1.5, alpha=20), r"delta must be in \[0, 1\]"),
    (dict(delta=-0.1, alpha=20), r"delta must be in \[0, 1\]"),
    (dict(delta=0.9, alpha=2), "infeasible"),
    (dict(model="resnet7"), "model must be one of"),
    (dict(dataset="svhn"), "dataset must be one of"),
    (dict(noise_source="web"), "noise_source must be one of"),
    (dict(order="sideways"), "order must be one of"),
    (dict(batch_size=0), "batch_size must be an integer >= 1"),
    (dict(lrs=[]), "lrs must be a non-empty list"),
    (dict(lrs=[0.1, -1]), "learning rates > 0"),
    (dict(n_clean=60000, n_val=5000), r"n_clean \+ n_val must be <= 60000"),
    (dict(n_val=0, lr_select="val"), "needs n_val"),
    (dict(epochs=-1), "epochs must be a number >= 0"),
    (dict(noise_source="white", alpha=5), "set repeat=False"),
    (dict(seed=1.5), "seed must be an integer"),
    (dict(foo=1), "unknown config field"),
    (dict(lrs=[0.1, 0.1]), "must not repeat"),
    (dict(noise_source="other", repeat=False, alpha=2), "needs dataset='cifar10'"),
    (dict(alpha=20, delta=0.5, repeat=False), "needs repeat=True"),
    (dict(repeat=False, alpha=20, n_clean=5000), "alpha \\* n_clean = 100000 must be <= 50000"),
    (dict(alpha=1e6), "must be < 2\\*\\*32"),
    (dict(loss="l2"), "loss must be one of"),
    (dict(alpha=20, delta=0.5, order="random", ranks=[[1]]), "ranks are used only"),
    (dict(alpha=20, delta=0.5, ranks=[[0, 1]]), "ranks must be a list of 10 lists"),
    (dict(inputs="zscore"), "inputs must be one of \\['unit', 'standardized'\\]"),
    (dict(init="he"), "init must be one of"),
    (dict(model="mlp1", mlp_dropout=1.0), "mlp_dropout must be a number >= 0 and < 1"),
    (dict(model="mlp1", mlp_dropout=-0.1), "mlp_dropout must be a number >= 0"),
    (dict(model="convnet4", mlp_dropout=5), "mlp_dropout must be a number >= 0"),  # checked for every model
    (dict(model="convnet6", dataset="cifar10", conv_padding="valid"), "conv_padding must be one of"),
    (dict(mean_last=0), r"mean_last must be an integer in \[1, 4\]"),
    (dict(mean_last=5), r"mean_last must be an integer in \[1, 4\]"),
]


@pytest.mark.parametrize("overrides,message", BAD)
def test_bad_input_names_parameter_and_range(overrides, message):
    with pytest.raises(ValueError, match=message):
        config.make_config("cpu", **overrides)


def test_unknown_profile_and_figure():
    with pytest.raises(ValueError, match="profile must be one of"):
        config.make_config("huge")
    with pytest.raises(ValueError, match="figure must be one of"):
        sweep.figure_configs("fig99", "cpu")
    with pytest.raises(ValueError, match="not in fig1"):
        sweep.figure_configs("fig1", "cpu", models=["resnet101"])


def test_fig1_cpu_sweep_is_what_the_issue_asks():
    cfgs = sweep.figure_configs("fig1", "cpu")
    models = {c["model"] for c in cfgs}
    assert models == {"perceptron", "mlp1", "mlp2", "mlp4", "convnet4"}
    assert {0, 5, 10, 20, 50, 100} <= {c["alpha"] for c in cfgs}
    for m in ("perceptron", "mlp1", "mlp2", "mlp4"):
        assert {c["seed"] for c in cfgs if c["model"] == m} >= {0, 1}
    assert len({config.config_key(c) for c in cfgs}) == len(cfgs)
