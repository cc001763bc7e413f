import os

import pytest


@pytest.fixture()
def results_root(tmp_path, monkeypatch):
    """An empty results store for the test (the committed results/ is never touched)."""
    root = tmp_path / "results"
    monkeypatch.setenv("NLCORE_RESULTS", str(root))
    return root


def pytest_configure(config):
    os.environ.setdefault("OMP_NUM_THREADS", "2")
