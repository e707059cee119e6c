import os, subprocess, sys
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]

def pytest_configure(config):
    "Under pytest-xdist (`make pytest`: 2 workers) each worker, and the stage processes it starts, gets its share of the cores."
    n = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if n > 1 and "OMP_NUM_THREADS" not in os.environ:
        from oodgen.core import threads_per_job
        import torch
        os.environ["OMP_NUM_THREADS"] = str(threads_per_job(n)); torch.set_num_threads(threads_per_job(n))

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

def oodgen_main(*args, check=True):
    """`oodgen ARGS` through the CLI's `main` in this process: exit status, stdout and stderr as `oodgen_cli` returns them,
    less the console script's start (~4 s of CPU for its imports). For what the CLI does; `oodgen_cli` where the process
    itself is under test (signals, locks between processes, kills) and for one real console-script run per feature."""
    import contextlib, io, traceback
    from oodgen.cli import main
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: main([str(a) for a in args])
        except SystemExit as e: code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except Exception: traceback.print_exc(); code = 1          # what the console script would show and return
    r = subprocess.CompletedProcess(["oodgen", *map(str, args)], code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f"oodgen {' '.join(map(str, args))} failed ({code}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r

# One tiny Stage 1 run (real offline encoders, 16 images per split) shared by the Stage 1 test and the Stage 2 run on it.
# Under pytest-xdist a session fixture is made once per worker: its users stay in one file (test_stage1.py) and
# `make pytest` distributes by file (--dist loadfile; loadgroup does not group under pytest 9.2: pytest-xdist #1386).
STAGE1_TINY = {"limit": 16, "image_size": 64, "epochs": 2, "batch_size": 32, "embed_dim": 32, "heads": 2, "device": "cpu",
               "test_domains": "[rotated]"}

@pytest.fixture(scope="session")
def stage1_run(tmp_path_factory, feature_cache):
    "Folder of the shared tiny Stage 1 run, named as the pipeline names it: `<root>/stage1-rotated`."
    root = tmp_path_factory.mktemp("stage1")
    oodgen_main("run", "contrastive", *[a for k, v in STAGE1_TINY.items() for a in ("-p", k, v)],
               "--name", "stage1-rotated", "--out", root, "--quiet")
    return root/"stage1-rotated"

# Test files, longest first (CPU seconds of `pytest --durations`, summed per file): `make pytest` hands whole files to its
# 2 workers in this order (--no-loadscope-reorder), so the last files to start are short and both workers end together.
# Files not listed follow in their collection order. Measure again when a file grows (`pytest --durations=0`).
LONGEST_FIRST = ["test_launchers.py", "test_resume.py", "test_bad_input.py", "test_stage1.py", "test_pipeline_folder.py",
                 "test_pinned.py", "test_zeroshot.py", "test_cli.py", "test_augstudy.py", "test_sweep_pipeline.py",
                 "test_multiprocess.py", "test_diffusion.py", "test_algorithms.py", "test_ood.py", "test_background.py",
                 "test_rerun.py", "test_stages.py", "test_probes.py", "test_gradcam.py", "test_extras.py", "test_interactive.py"]

# The `slow` tier (`make test-slow`; CI runs it after `make test`), end to end beyond `make test`'s 6 minutes, each a path that
# `make test` reaches another way: the cluster launcher (test_launchers: sweeps, units and pipeline groups as submitit-local
# jobs; the local launcher: test_sweep_pipeline), kill -9 and resume (test_resume ood / augstudy; resume in one process:
# test_stage1, test_rerun), two processes under `accelerate launch` (test_multiprocess), the 3-stage pipeline on a new
# folder (test_pipeline_folder; Stage 1 -> Stage 2: test_stage1), the pinned ERM_AugMix demo unit and the AVX2-capped kernels (test_pinned; ERM stays),
# UMAP's numba compile (test_probes), the diffusion stage's bad schedule (test_diffusion).

def pytest_collection_modifyitems(config, items):
    """Files in the order of LONGEST_FIRST; tests marked `longrun` (the README's hour-long comparison, resume checks of more
    stages) run only with OODGEN_SLOW=1. (`slow` ones run unless deselected: `make pytest` leaves them to `make test-slow`.)"""
    rank = {f: i for i, f in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda it: rank.get(it.path.name, len(rank)))            # stable: a file's own order is kept
    if os.environ.get("OODGEN_SLOW") == "1": return
    skip = pytest.mark.skip(reason="longrun: set OODGEN_SLOW=1 to run")
    for it in items:
        if "longrun" in it.keywords: it.add_marker(skip)
