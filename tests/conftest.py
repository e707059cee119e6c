import os, subprocess, sys
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]

@pytest.fixture(scope="session")
def repo(): return REPO

@pytest.fixture(scope="session", autouse=True)
def feature_cache(tmp_path_factory):
    "Frozen-encoder features the tests compute go to a temporary cache, not the user's ~/.cache/oodgen."
    old = os.environ.get("OODGEN_CACHE")
    os.environ["OODGEN_CACHE"] = str(tmp_path_factory.mktemp("feature_cache"))
    yield Path(os.environ["OODGEN_CACHE"])
    if old is None: os.environ.pop("OODGEN_CACHE", None)
    else: os.environ["OODGEN_CACHE"] = old

def oodgen_cli(*args, cwd=None, check=True, timeout=600):
    "Run the `oodgen` console script of this environment; returns the CompletedProcess."
    exe = Path(sys.executable).parent/"oodgen"
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd or REPO, timeout=timeout,
                       env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if check and r.returncode != 0:
        raise AssertionError(f"oodgen {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r
