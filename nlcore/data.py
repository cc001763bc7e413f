"""Datasets as uint8 tensors: MNIST, CIFAR-10, CIFAR-100, and a user-provided ImageNet.

``load(name, split)`` returns ``(x, y)``: ``x`` uint8 of shape (N, C, H, W),
``y`` int64 of shape (N,). Where the files are looked for, in order:

1. the ``root`` argument, else the ``NLCORE_DATA`` environment variable;
2. ``../shared/data`` beside this repository (the offline copy used here and in CI);
3. the cache ``~/.cache/nlcore`` (``XDG_CACHE_HOME`` respected), where
   torchvision downloads the official files when there is internet.

A root may hold the shared layout (``mnist/*-ubyte.gz``, ``cifar10/*.u8.xz``,
``cifar100/*.u8.xz``, see ``shared/data/README.md``) or torchvision's own
(``MNIST/raw``, ``cifar-10-batches-py``, ``cifar-100-python``). Missing or
corrupt files raise :class:`DataError` naming the path, what was expected and
how to fix it.

ImageNet cannot be downloaded automatically (it needs a licence). ``load("imagenet", split)``
reads a folder the user provides, ``$NLCORE_IMAGENET`` or ``<root>/imagenet``, in the
layout torchvision's ``ImageFolder`` reads (``train/<class>/*.JPEG`` and ``val/<class>/*.JPEG``,
the usual preparation of the ILSVRC-2012 files; ``val`` is the test split, as in the paper).
Images are resized (shorter side) and centre-cropped to ``IMAGENET_SIDE`` pixels so that the
whole set fits in memory as uint8 (1.28 M x 3 x 64 x 64 = 16 GB), decoded once and cached in
``~/.cache/nlcore``. 64 x 64 is our choice (as in "downsampled ImageNet"); the paper's ResNet-18
saw 224 x 224 crops.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import pickle
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from . import switches

DATASETS = {  # name: (classes, channels, side, splits)
    "mnist": (10, 1, 28, ("train", "test")),
    "cifar10": (10, 3, 32, ("train", "test")),
    "cifar100": (100, 3, 32, ("train",)),
    "imagenet": (None, 3, 64, ("train", "test")),  # classes: from the folder
}
IMAGENET_SIDE = 64
REPO_SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


class DataError(RuntimeError):
    """A dataset file is missing, unreadable or not what it should be."""


def num_classes(name: str) -> int:
    if check_dataset(name) == "imagenet":
        return len(_imagenet_classes(str(imagenet_dir())))
    return DATASETS[name][0]


def train_size(name: str) -> int:
    """Number of training images (ImageNet: counted in the user's folder)."""
    if check_dataset(name) == "imagenet":
        return len(_imagenet_files(str(imagenet_dir()), "train"))
    return {"mnist": 60000, "cifar10": 50000, "cifar100": 38000}[name]


def imagenet_dir() -> Path:
    """The user's ImageNet folder (``$NLCORE_IMAGENET``, else ``imagenet/`` in a data root); DataError if absent."""
    if switches.imagenet_dir():
        roots = [Path(switches.imagenet_dir())]
    else:
        roots = [r / "imagenet" for r in candidate_roots()]
    for r in roots:
        if (r / "train").is_dir() and (r / "val").is_dir():
            return r
    raise DataError(f"ImageNet not found: looked for train/ and val/ class folders (torchvision ImageFolder layout) "
                    f"in {', '.join(map(str, roots))}. ImageNet cannot be downloaded automatically; prepare the "
                    f"ILSVRC-2012 files in that layout and set NLCORE_IMAGENET to the folder.")


@lru_cache(maxsize=4)
def _imagenet_classes(folder: str) -> tuple[str, ...]:
    train = sorted(p.name for p in (Path(folder) / "train").iterdir() if p.is_dir())
    val = sorted(p.name for p in (Path(folder) / "val").iterdir() if p.is_dir())
    if not train or train != val:
        raise DataError(f"ImageNet in {folder}: train/ and val/ must hold the same class folders "
                        f"({len(train)} vs {len(val)} found)")
    return tuple(train)


@lru_cache(maxsize=4)
def _imagenet_files(folder: str, split: str) -> tuple:
    import torchvision.datasets as tvd

    sub = Path(folder) / ("train" if split == "train" else "val")
    return tuple(tvd.ImageFolder(str(sub)).samples)


def _load_imagenet(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Decode, resize and centre-crop every image of one split once; cached as a .npz beside the other caches."""
    from PIL import Image
    from torchvision import transforms

    folder = imagenet_dir()
    files = _imagenet_files(str(folder), split)
    tag = hashlib.sha256(f"{folder.resolve()}|{len(files)}|{IMAGENET_SIDE}".encode()).hexdigest()[:12]
    cache = cache_dir() / f"imagenet{IMAGENET_SIDE}-{split}-{tag}.npz"
    if cache.exists():
        with np.load(cache) as z:
            return z["x"], z["y"]
    s = IMAGENET_SIDE
    shrink = transforms.Compose([transforms.Resize(s), transforms.CenterCrop(s)])  # shorter side to s, centre
    x = np.empty((len(files), s, s, 3), np.uint8)
    for i, (path, _) in enumerate(files):
        try:
            im = Image.open(path).convert("RGB")
        except OSError as e:
            raise DataError(f"ImageNet image {path} cannot be read ({e}); remove or replace it") from e
        x[i] = np.asarray(shrink(im))
    y = np.array([c for _, c in files], np.uint8 if len(_imagenet_classes(str(folder))) <= 256 else np.int64)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, x=x, y=y)
    os.replace(tmp, cache)
    return x, y


def check_dataset(name: str) -> str:
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {name!r}")
    return name


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "nlcore"


def candidate_roots(root=None) -> list[Path]:
    if root is not None:
        return [Path(root)]
    if switches.data_dir():
        return [Path(switches.data_dir())]
    return [REPO_SHARED, cache_dir()]


_SHARED_FILES = {
    ("mnist", "train"): ("mnist/train-images-idx3-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz"),
    ("mnist", "test"): ("mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"),
    ("cifar10", "train"): ("cifar10/train_images.u8.xz", "cifar10/train_labels.u8.xz"),
    ("cifar10", "test"): ("cifar10/test_images.u8.xz", "cifar10/test_labels.u8.xz"),
    ("cifar100", "train"): ("cifar100/train_images.u8.xz", "cifar100/train_labels.u8.xz"),
}
_TV_FILES = {  # torchvision layouts
    ("mnist", "train"): ("MNIST/raw/train-images-idx3-ubyte", "MNIST/raw/train-labels-idx1-ubyte"),
    ("mnist", "test"): ("MNIST/raw/t10k-images-idx3-ubyte", "MNIST/raw/t10k-labels-idx1-ubyte"),
    ("cifar10", "train"): ("cifar-10-batches-py",),
    ("cifar10", "test"): ("cifar-10-batches-py",),
    ("cifar100", "train"): ("cifar-100-python",),
}


def _verify_sha(root: Path, rel: str) -> None:
    """Check ``rel`` against ``root/SHA256SUMS`` when that file lists it."""
    sums = root / "SHA256SUMS"
    if not sums.exists():
        return
    want = {ln.split()[1].lstrip("*./"): ln.split()[0] for ln in sums.read_text().splitlines() if ln.strip()}
    if rel not in want:
        return
    h = hashlib.sha256((root / rel).read_bytes()).hexdigest()
    if h != want[rel]:
        raise DataError(
            f"{root / rel} is corrupt: its SHA-256 is {h[:16]}…, {sums} says {want[rel][:16]}…. "
            f"Restore the file (or delete it and let torchvision download it again)."
        )


def _read_idx(path: Path) -> np.ndarray:
    try:
        raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
        ndim = raw[3]
        shape = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
        arr = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
        return arr.reshape(shape).copy()
    except (OSError, EOFError, ValueError, IndexError, struct.error) as e:
        raise DataError(f"{path} is not a valid MNIST IDX file ({e}); expected the official file, "
                        f"see shared/data/README.md. Delete it and download again.") from e


def _read_u8(path: Path, *shape) -> np.ndarray:
    try:
        raw = lzma.open(path).read()
        return np.frombuffer(raw, np.uint8).reshape(-1, *shape).copy()
    except (OSError, EOFError, ValueError, lzma.LZMAError) as e:
        raise DataError(f"{path} is not a valid uint8 array of rows {shape} in xz ({e}); "
                        f"see shared/data/README.md for the layout.") from e


def _read_tv_cifar(folder: Path, name: str, split: str):
    if name == "cifar10":
        files = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
        key = b"labels"
    else:
        files, key = [split], b"fine_labels"
    xs, ys = [], []
    for f in files:
        try:
            with open(folder / f, "rb") as fh:
                d = pickle.load(fh, encoding="bytes")
        except (OSError, pickle.UnpicklingError, EOFError) as e:
            raise DataError(f"{folder / f} is missing or corrupt ({e}); delete {folder} and download again.") from e
        xs.append(np.asarray(d[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        ys.append(np.asarray(d[key], np.uint8))
    return np.concatenate(xs), np.concatenate(ys)


def _load_from(root: Path, name: str, split: str):
    """(x HWC or HW uint8, y uint8) from one root, or None when that root lacks the files."""
    _, c, side, _ = DATASETS[name]
    shared = _SHARED_FILES[(name, split)]
    if all((root / f).exists() for f in shared):
        for f in shared:
            _verify_sha(root, f)
        if name == "mnist":
            x, y = _read_idx(root / shared[0]), _read_idx(root / shared[1])
        else:
            x, y = _read_u8(root / shared[0], side, side, c), _read_u8(root / shared[1])
            y = y.reshape(-1)
        return x, y
    tv = _TV_FILES[(name, split)]
    if name == "mnist":
        for suffix in ("", ".gz"):
            if all((root / (f + suffix)).exists() for f in tv):
                return _read_idx(root / (tv[0] + suffix)), _read_idx(root / (tv[1] + suffix))
        return None
    if (root / tv[0]).is_dir():
        return _read_tv_cifar(root / tv[0], name, split)
    return None


def _download(name: str, dest: Path) -> None:
    """Fetch the official files with torchvision into ``dest`` (needs internet)."""
    import torchvision.datasets as tvd

    cls = {"mnist": tvd.MNIST, "cifar10": tvd.CIFAR10, "cifar100": tvd.CIFAR100}[name]
    for train in (True, False):
        cls(str(dest), train=train, download=True)


@lru_cache(maxsize=8)
def _load_cached(name: str, split: str, root) -> tuple[torch.Tensor, torch.Tensor]:
    roots = candidate_roots(root)
    if name == "imagenet":
        return _to_tensors(name, split, *_load_imagenet(split))
    for r in roots:
        got = _load_from(r, name, split)
        if got is not None:
            break
    else:
        if root is None and not switches.data_dir():
            try:
                _download(name, cache_dir())
            except Exception as e:  # no internet, disk full, ...
                raise DataError(
                    f"{name} ({split}) not found in {', '.join(map(str, roots))} and the download failed ({e}). "
                    f"Put the files in one of those folders (layout: shared/data/README.md) or set NLCORE_DATA."
                ) from e
            got = _load_from(cache_dir(), name, split)
        if got is None:
            raise DataError(
                f"{name} ({split}) not found in {', '.join(map(str, roots))}: expected "
                f"{' and '.join(_SHARED_FILES[(name, split)])} (shared/data/README.md) or torchvision's "
                f"{_TV_FILES[(name, split)][0]}. Fix NLCORE_DATA or the root argument."
            )
    return _to_tensors(name, split, *got)


def _to_tensors(name: str, split: str, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    _, c, side, _ = DATASETS[name]
    n_cls = num_classes(name)
    x = torch.from_numpy(x)
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(y.astype(np.int64))
    if x.shape[1:] != (c, side, side) or len(x) != len(y) or int(y.max()) >= n_cls:
        raise DataError(f"{name} ({split}) has images {tuple(x.shape)} and {len(y)} labels up to {int(y.max())}; "
                        f"expected (N, {c}, {side}, {side}) and labels < {n_cls}.")
    return x, y


def load(name: str, split: str = "train", root=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Images and labels of one split.

    Returns
    -------
    x : uint8 tensor, shape (N, C, H, W) (MNIST: (60000|10000, 1, 28, 28);
        CIFAR-10: (50000|10000, 3, 32, 32); CIFAR-100 here: (38000, 3, 32, 32)).
    y : int64 tensor, shape (N,), values in ``[0, classes)``.
    Tensors are shared between calls: do not modify them in place.
    """
    check_dataset(name)
    if split not in DATASETS[name][3]:
        raise ValueError(f"split of {name} must be one of {DATASETS[name][3]}, got {split!r}")
    return _load_cached(name, split, None if root is None else str(root))


def pixel_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images (N, C, H, W), in [0, 1] units, float32 (C,)."""
    xf = x.float().div_(255)
    return xf.mean((0, 2, 3)), xf.std((0, 2, 3))
