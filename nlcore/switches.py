"""The machine switches: every ``NLCORE_*`` environment variable nlcore reads, read here and nowhere else.

Each is read when asked (so a test or a notebook can set it in-process). None changes a result except
``NLCORE_DATA``/``NLCORE_IMAGENET`` (which copy of a dataset) and ``NLCORE_RESULTS`` (which store);
the others change speed, storage or presentation. The list, with defaults, is in CONTRIBUTING.md.
"""

from __future__ import annotations

import os


def _get(name: str) -> str | None:
    return os.environ.get(name) or None


def data_dir() -> str | None:
    """``NLCORE_DATA``: a folder holding mnist/, cifar10/, cifar100/ (None: the default places)."""
    return _get("NLCORE_DATA")


def imagenet_dir() -> str | None:
    """``NLCORE_IMAGENET``: a copy of ImageNet in ImageFolder layout."""
    return _get("NLCORE_IMAGENET")


def results_dir() -> str | None:
    """``NLCORE_RESULTS``: the store (None: results/ in the repository)."""
    return _get("NLCORE_RESULTS")


def calibration_file() -> str | None:
    """``NLCORE_CALIBRATION``: the file of measured machine choices."""
    return _get("NLCORE_CALIBRATION")


def code_version() -> str | None:
    """``NLCORE_CODE_VERSION``: the code version to record, as stated (a tree without its own .git)."""
    return _get("NLCORE_CODE_VERSION")


def run_note() -> str | None:
    """``NLCORE_RUN_NOTE``: a sentence stored as each new run record's ``note``: how the machine was shared
    while it trained (its wall time is not a speed otherwise), say."""
    return _get("NLCORE_RUN_NOTE")


def checkpoint_s() -> str | None:
    """``NLCORE_CHECKPOINT_S``: seconds between checkpoints of a run in flight (text; nlcore.checkpoint parses it)."""
    return _get("NLCORE_CHECKPOINT_S")


def _on(name: str) -> bool:
    return os.environ.get(name, "1") != "0"


def compile_on() -> bool:
    """``NLCORE_COMPILE=0``: never torch.compile."""
    return _on("NLCORE_COMPILE")


def cuda_graphs_on() -> bool:
    """``NLCORE_CUDA_GRAPHS=0``: no CUDA graphs."""
    return _on("NLCORE_CUDA_GRAPHS")


def cudnn_benchmark_on() -> bool:
    """``NLCORE_CUDNN_BENCHMARK=0``: cuDNN's heuristics instead of timed algorithms."""
    return _on("NLCORE_CUDNN_BENCHMARK")


def malloc_on() -> bool:
    """``NLCORE_MALLOC=0``: leave glibc's malloc settings alone."""
    return _on("NLCORE_MALLOC")


def book() -> bool:
    """``NLCORE_BOOK=1`` (set by scripts/book.sh): static HTML figures and plain progress lines."""
    return os.environ.get("NLCORE_BOOK") == "1"
