"""Stage 1 under `accelerate launch` with 2 CPU processes (gloo): the same losses and weights as one process on the
same global batch, only rank 0 writes, and a killed run resumes. (accelerate's `--cpu` launch path needs mpirun;
`--multi_gpu` is its torchrun path, and with device='cpu' the processes talk over gloo.)"""
import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

SCRIPT = Path(__file__).with_name("stage1_dist.py")
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def _run(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, **kw)
    assert r.returncode == 0, f"{cmd} failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r


def _launch(out, *args):
    return _run([BIN/"accelerate", "launch", "--multi_gpu", "--num_processes", 2, "--num_machines", 1,
                 "--main_process_port", _free_port(), "--mixed_precision", "no", "--dynamo_backend", "no",
                 SCRIPT, out, 4, *args])


@pytest.mark.slow
def test_two_processes_equal_one_on_the_global_batch_and_resume(tmp_path):
    one, two = tmp_path/"one", tmp_path/"two"
    _run([sys.executable, SCRIPT, one, 8])                        # one process, batch 8
    _launch(two, "--max-steps", 3)                                # 2 x 4, killed after step 3 (last.pt holds step 2)
    assert torch.load(two/"checkpoints"/"last.pt", weights_only=False)["state"]["step"] == 2
    _launch(two, "--resume")                                      # continues from step 2 to the end
    a, b = (pd.read_json(d/"metrics.jsonl", lines=True) for d in (one, two))
    # rank 0 alone wrote: one record per metric and step, none from the killed steps after the checkpoint
    assert not b.duplicated(["metric", "step", "split"]).any() and len(a) == len(b) == 24
    m = a.merge(b, on=["metric", "split", "epoch", "step"], suffixes=("_one", "_two"))
    assert len(m) == len(a)
    assert (m.value_one - m.value_two).abs().max() < 1e-4, m[["metric", "step", "value_one", "value_two"]]
    wa, wb = (torch.load(d/"checkpoints"/"last.pt", weights_only=False)["model"] for d in (one, two))
    assert wa.keys() == wb.keys() and all(torch.allclose(wa[k], wb[k], atol=1e-3) for k in wa)
    assert sorted(p.name for p in two.iterdir()) == ["checkpoints", "env.json", "figures", "metrics.jsonl", "units"]   # units/: the commit of last.pt's records
