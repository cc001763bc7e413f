"""Data loading: real shapes, and clear errors for missing or corrupt files."""

import gzip
import shutil

import pytest
import torch

from nlcore import data

REAL_SHARED = data.REPO_SHARED


def test_mnist_shapes():
    x, y = data.load("mnist", "train")
    assert x.shape == (60000, 1, 28, 28) and x.dtype == torch.uint8
    assert y.shape == (60000,) and y.dtype == torch.int64 and int(y.max()) == 9
    xt, yt = data.load("mnist", "test")
    assert xt.shape == (10000, 1, 28, 28) and torch.bincount(yt).min() > 800


def test_unknown_dataset_and_split():
    with pytest.raises(ValueError, match="dataset must be one of"):
        data.load("svhn")
    with pytest.raises(ValueError, match="split of cifar100 must be one of"):
        data.load("cifar100", "test")


def test_missing_files_name_the_path(tmp_path):
    with pytest.raises(data.DataError, match=str(tmp_path)):
        data.load("mnist", "test", root=tmp_path)


def _copy_mnist(tmp_path):
    (tmp_path / "mnist").mkdir()
    for f in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(data.REPO_SHARED / "mnist" / f, tmp_path / "mnist" / f)
    return tmp_path


def test_truncated_file_is_reported(tmp_path):
    root = _copy_mnist(tmp_path)
    p = root / "mnist" / "t10k-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:5000])
    with pytest.raises(data.DataError, match="t10k-images-idx3-ubyte.gz"):
        data.load("mnist", "test", root=root)


def test_checksum_mismatch_is_reported(tmp_path):
    root = _copy_mnist(tmp_path)
    p = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(p.read_bytes()))
    raw[100] = (raw[100] + 1) % 10  # a valid file with one wrong label
    p.write_bytes(gzip.compress(bytes(raw)))
    sums = [ln for ln in (data.REPO_SHARED / "SHA256SUMS").read_text().splitlines() if "t10k" in ln]
    (root / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    with pytest.raises(data.DataError, match="corrupt"):
        data.load("mnist", "test", root=root)


def test_torchvision_layout_is_read(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / f).write_bytes(gzip.decompress((data.REPO_SHARED / "mnist" / f"{f}.gz").read_bytes()))
    x, y = data.load("mnist", "test", root=tmp_path)
    x0, y0 = data.load("mnist", "test")
    assert torch.equal(x, x0) and torch.equal(y, y0)


def test_falls_back_to_a_torchvision_download_into_the_cache(tmp_path, monkeypatch):
    """No NLCORE_DATA, no shared copy: the loader asks torchvision to download into the cache, then reads it."""
    monkeypatch.delenv("NLCORE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "REPO_SHARED", tmp_path / "no-shared")
    asked = []

    def fake_download(name, dest):  # what torchvision.datasets.MNIST(..., download=True) leaves behind
        asked.append((name, dest))
        raw = dest / "MNIST" / "raw"
        raw.mkdir(parents=True)
        for f in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
            (raw / f).write_bytes(gzip.decompress((REAL_SHARED / "mnist" / f"{f}.gz").read_bytes()))

    monkeypatch.setattr(data, "_download", fake_download)
    data._load_cached.cache_clear()
    try:
        x, y = data.load("mnist", "test")
    finally:
        data._load_cached.cache_clear()
    assert asked == [("mnist", tmp_path / "cache" / "nlcore")] and x.shape == (10000, 1, 28, 28)


def test_failed_download_says_where_to_put_the_files(tmp_path, monkeypatch):
    monkeypatch.delenv("NLCORE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "REPO_SHARED", tmp_path / "no-shared")

    def offline(name, dest):
        raise OSError("network unreachable")

    monkeypatch.setattr(data, "_download", offline)
    data._load_cached.cache_clear()
    try:
        with pytest.raises(data.DataError, match="download failed.*NLCORE_DATA"):
            data.load("mnist", "test")
    finally:
        data._load_cached.cache_clear()
