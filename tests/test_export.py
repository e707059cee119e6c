"""`oodgen export --tensorboard` (issue 24): the committed demo's run records, read back from the event files by
TensorBoard's own `EventAccumulator`, are every record with its value and step; without tensorboard the command names
the `[tracking]` extra."""
import json, os, shutil, subprocess, sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from oodgen.cli import tensorboard_tag

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args, pre=""):
    code = pre + f"import sys; from oodgen.cli import main; sys.exit(main({list(args)!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT)))


def test_demo_records_round_trip_through_tensorboard(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    demo = tmp_path/"demo"; shutil.copytree(ROOT/"results"/"demo", demo)
    r = _cli("export", "--tensorboard", str(demo)); assert r.returncode == 0, r.stderr[-2000:]
    runs = sorted(p.parent.name for p in demo.glob("*/metrics.jsonl"))
    assert len(runs) >= 3 and sorted(p.name for p in (demo/"tensorboard").iterdir()) == runs
    for name in runs:
        recs = [json.loads(l) for l in (demo/name/"metrics.jsonl").read_text().splitlines() if l.strip()]
        ea = EventAccumulator(str(demo/"tensorboard"/name), size_guidance={"scalars": 0}); ea.Reload()
        got = Counter((t, e.step, np.float32(e.value)) for t in ea.Tags()["scalars"] for e in ea.Scalars(t))
        want = Counter((tensorboard_tag(x), int(x.get("step", 0)), np.float32(x["value"])) for x in recs)
        assert got == want, name
        assert len({tensorboard_tag(x) for x in recs}) == len(ea.Tags()["scalars"])
    assert sorted(p.name for p in demo.iterdir() if p.is_dir()) == sorted(runs + ["tensorboard"])   # no temp folder left
    r = _cli("export", "--tensorboard", str(demo)); assert r.returncode == 0, r.stderr[-2000:]          # again: replaced


def test_export_needs_tensorboard_and_a_run(tmp_path):
    (tmp_path/"r").mkdir(); (tmp_path/"r"/"metrics.jsonl").write_text('{"metric": "acc", "value": 1.0}\n')
    r = _cli("export", "--tensorboard", str(tmp_path/"r"), pre="import sys; sys.modules['tensorboard'] = None\n")
    assert r.returncode == 2 and "oodgen[tracking]" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path/"r"/"tensorboard").exists()
    (tmp_path/"empty").mkdir(); r = _cli("export", "--tensorboard", str(tmp_path/"empty"))
    assert r.returncode == 2 and "no metrics.jsonl" in r.stderr, r.stderr
