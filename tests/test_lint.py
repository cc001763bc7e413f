"""ruff (the project's linter) passes on the package, tests and scripts."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    r = subprocess.run([Path(sys.executable).parent / "ruff", "check", "nlcore", "tests", "scripts", "book/_ext"],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
