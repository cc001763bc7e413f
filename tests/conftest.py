import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
BIN = Path(sys.executable).parent


@pytest.fixture()
def results_root(tmp_path, monkeypatch):
    """An empty results store for the test (the committed results/ is never touched)."""
    root = tmp_path / "results"
    monkeypatch.setenv("NLCORE_RESULTS", str(root))
    return root


def pytest_configure(config):
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    # one calibration file for the whole session (and its subprocesses), not the user's
    import tempfile

    os.environ["NLCORE_CALIBRATION"] = os.path.join(tempfile.mkdtemp(prefix="nlcore-cal-"), "calibration.json")


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Every notebook executed by papermill at the smoke profile into a copy of book/, then the book built
    with execution off and warnings as errors (what scripts/book.sh does). Shared by the book and browser tests."""
    tmp = tmp_path_factory.mktemp("book")
    book = tmp / "book"
    shutil.copytree(REPO / "book", book, symlinks=False, ignore=shutil.ignore_patterns("_build", "chapters"))
    (book / "chapters").mkdir()
    env = dict(os.environ, NLCORE_BOOK="1", NLCORE_RESULTS=str(tmp / "results"))
    def papermill(nb, *extra):
        t0 = time.time()
        r = subprocess.run([BIN / "papermill", nb, book / "chapters" / nb.name, "-p", "profile", "smoke", *extra,
                            "-k", "python3", "--cwd", REPO, "--no-progress-bar"],
                           env=env, capture_output=True, text=True)
        assert r.returncode == 0, (nb.name, r.stderr[-3000:])
        return time.time() - t0

    # first as a student would ask for one new point: exp1 with -p alpha 3 must train that point only
    times = {"exp1 -p alpha 3": papermill(REPO / "notebooks" / "exp1.ipynb", "-p", "alpha", "3")}
    after_alpha3 = {p.stem for p in (tmp / "results" / "runs").glob("*.json")}
    for nb in NOTEBOOKS:  # then every chapter at the smoke profile (exp1 again: its whole smoke grid)
        times[nb.stem] = papermill(nb)
    (REPO / "artifacts").mkdir(exist_ok=True)
    (REPO / "artifacts" / "notebook_times.json").write_text(json.dumps(times, indent=1))
    r = subprocess.run([BIN / "jupyter-book", "build", book, "-W", "-n", "--keep-going"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return dict(book=book, html=book / "_build" / "html", results=tmp / "results", after_alpha3=after_alpha3)
