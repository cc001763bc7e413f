"""The ImageNet path: a user-provided ImageFolder copy, tested on a tiny generated one (12 classes)."""

import numpy as np
import pytest
from PIL import Image

from nlcore import config, data, sweep, train


@pytest.fixture()
def tiny_imagenet(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for split, per_class in (("train", 3), ("val", 1)):
        for c in range(12):
            d = tmp_path / "imagenet" / split / f"n{c:08d}"
            d.mkdir(parents=True)
            for i in range(per_class):  # odd sizes and aspect ratios, as real photos have
                w, h = rng.integers(40, 120, size=2)
                Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(d / f"{i}.JPEG")
    monkeypatch.setenv("NLCORE_IMAGENET", str(tmp_path / "imagenet"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data._load_cached.cache_clear()
    yield tmp_path
    data._load_cached.cache_clear()


def test_imagenet_folder_loads_as_uint8_at_64px(tiny_imagenet):
    x, y = data.load("imagenet", "train")
    assert x.shape == (36, 3, 64, 64) and x.dtype.__str__() == "torch.uint8"
    assert sorted(y.tolist()) == sorted(list(range(12)) * 3)
    xt, yt = data.load("imagenet", "test")  # the val/ folder is the test split
    assert xt.shape == (12, 3, 64, 64) and data.num_classes("imagenet") == 12 and data.train_size("imagenet") == 36
    assert list((tiny_imagenet / "cache" / "nlcore").glob("imagenet64-train-*.npz"))  # decoded once, cached


def test_imagenet_run_trains_and_reports_top5(tiny_imagenet):
    cfg = config.make_config("smoke", dataset="imagenet", model="resnet18", n_clean=30, n_val=6, alpha=1,
                             batch_size=8, min_steps=2, lrs=[0.1], evals=1)
    m = train.train(cfg, progress=False)
    (entry,) = m["per_lr"]
    assert 0 <= entry["test_acc"] <= entry["test_top5"] <= 1  # top-5 counts every top-1 hit
    assert np.array(m["confusion"]).shape == (12, 12)


def test_missing_imagenet_names_the_folder_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("NLCORE_IMAGENET", str(tmp_path / "nowhere"))
    with pytest.raises(data.DataError, match="NLCORE_IMAGENET"):
        config.make_config("paper", dataset="imagenet", model="resnet18")
    status = sweep.status()
    assert "needs" in status["fig3"]["paper"] and "not_run" in status["fig3"]
