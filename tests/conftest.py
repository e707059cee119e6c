import os, subprocess, sys
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]

@pytest.fixture(scope="session")
def repo(): return REPO

def oodgen_cli(*args, cwd=None, check=True, timeout=600):
    "Run the `oodgen` console script of this environment; returns the CompletedProcess."
    exe = Path(sys.executable).parent/"oodgen"
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd or REPO, timeout=timeout,
                       env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if check and r.returncode != 0:
        raise AssertionError(f"oodgen {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r
