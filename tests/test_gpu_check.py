"The GPU check script: skips cleanly without CUDA, and its checks run (tiny, on CPU) so that it works when a GPU is there."
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here: the script runs for real")
def test_gpu_check_skips_without_cuda():
    r = subprocess.run(["bash", REPO/"tests"/"gpu_check.sh"], capture_output=True, text=True, env={"PYTHON": sys.executable})
    assert r.returncode == 0 and "skipped" in r.stdout, r.stderr


def test_every_check_runs_tiny_on_cpu():
    r = subprocess.run([sys.executable, REPO/"tests"/"gpu_check.py", "--device", "cpu", "--tiny"], capture_output=True,
                       text=True, env={"OMP_NUM_THREADS": "1", "PATH": ""})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    table = [l for l in r.stdout.splitlines() if l.startswith("| ") and "check" not in l]
    assert len(table) == 8 and {l.split("|")[1].strip() for l in table} == {"stage1", "stage2", "gradcam", "outputs"}
