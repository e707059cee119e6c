"""Launchers (issue: speed and scale): sweeps, pipeline groups and benchmark units through submitit's local executor,
the code path `--launcher slurm` takes on a cluster (no Slurm here)."""
import json
import shutil

import pandas as pd
import pytest
from conftest import oodgen_main

TINY = ["-p", "seeds", "[0]", "-p", "test_domains", "[colored]", "-p", "eval_every", "0"]


@pytest.mark.slow
def test_sweep_as_cluster_jobs_resumes_by_done_markers(tmp_path):
    args = ["sweep", "benchmark", *TINY, "-p", "steps", "1,2", "--name", "s", "--out", tmp_path,
            "--launcher", "submitit-local", "--launcher-args", "{time: 10, cpus: 1}"]
    r = oodgen_main(*args)
    root = tmp_path/"s"
    assert "2 run(s) submitted (submitit-local)" in r.stdout and "ok   steps=1" in r.stdout
    assert sorted(p.parent.name for p in root.glob("*/done")) == ["steps=1", "steps=2"]
    logs = list((root/"jobs").glob("*/*_log.out"))
    assert len(logs) == 2, logs                                   # one log per job, next to the sweep's runs
    # a requeued / re-submitted sweep redoes only what is unfinished: nothing here, then one point
    r = oodgen_main(*args)
    assert "skip steps=1 (done)" in r.stdout and "submitted" not in r.stdout
    (root/"steps=2"/"done").unlink()
    r = oodgen_main(*args)
    assert "1 run(s) submitted" in r.stdout and "ok   steps=2" in r.stdout
    assert set(pd.read_csv(root/"sweep_metrics.csv")["param.steps"]) == {1, 2}


@pytest.mark.slow
def test_benchmark_units_as_cluster_jobs_equal_local_units(tmp_path):
    "The same units trained as jobs and in this process log the same numbers (seeded, CPU)."
    base = ["run", "benchmark", *TINY, "-p", "steps", "3", "-p", "algorithms", "[ERM, VREx]", "-p", "device", "cpu",
            "--out", tmp_path, "--quiet"]
    oodgen_main(*base, "--name", "here")
    oodgen_main(*base, "--name", "jobs", "-p", "launcher", "submitit-local")
    cols = ["metric", "value", "algorithm", "domain", "split", "step", "seed"]
    a, b = (pd.read_json(tmp_path/n/"metrics.jsonl", lines=True) for n in ("here", "jobs"))
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert len(list((tmp_path/"jobs"/"jobs").glob("*/*_log.out"))) == 2        # one job per unit
    assert json.loads((tmp_path/"jobs"/"params.json").read_text())["launcher"] == "submitit-local"


def test_launcher_errors_are_clear(tmp_path):
    r = oodgen_main("sweep", "benchmark", "-p", "steps", "1,2", "--out", tmp_path, "--launcher", "ray", check=False)
    assert r.returncode == 2 and "unknown launcher 'ray'; known: local, slurm, submitit-local" in r.stderr
    r = oodgen_main("sweep", "benchmark", "-p", "steps", "1,2", "--out", tmp_path, "--launcher", "submitit-local",
                   "--launcher-args", "{bogus: 1}", check=False)
    assert r.returncode == 2 and "bad launcher argument" in r.stderr
    r = oodgen_main("run", "benchmark", "-p", "launcher", "slurmm", "--out", tmp_path, check=False)
    assert r.returncode == 2 and "one of local, slurm, submitit-local" in r.stderr
    if shutil.which("sbatch") is None:
        r = oodgen_main("sweep", "benchmark", "-p", "steps", "1,2", "--out", tmp_path, "--launcher", "slurm", check=False)
        assert r.returncode == 2 and "sbatch" in r.stderr and "submitit-local" in r.stderr


@pytest.mark.slow
def test_pipeline_groups_as_array_jobs_and_unit_stages_submit_their_units(tmp_path, capsys):
    "A group of stages without units is one array job; a stage with units (benchmark) runs here and submits them."
    from oodgen.runs import run_pipeline
    fixed = {"seeds": [0], "steps": 2}
    tiny = {"corruptions": lambda done, root: ["gaussian_noise"], "severities": lambda done, root: [1],
            "n_images": lambda done, root: 8, "batch_size": lambda done, root: 8, "photo_size": lambda done, root: 32}
    grp = [("corruptions", f"c{k}", {**tiny, "seeds": lambda done, root, k=k: [k]}) for k in (0, 1)]
    after = ("benchmark", "units", {"test_domains": lambda done, root: ["colored"], "eval_every": lambda done, root: 0})
    root = run_pipeline(tmp_path, "p", fixed, steps=[grp, after], launcher="submitit-local")
    out = capsys.readouterr().out
    assert "[pipeline] 2 run(s) submitted (submitit-local)" in out and "its units as submitit-local jobs" in out
    for n in ("c0", "c1", "units"): assert (root/n/"done").exists(), n
    assert len(list((root/"jobs").glob("*/*_log.out"))) == 2 and len(list((root/"units"/"jobs").glob("*/*_log.out"))) == 1
    run_pipeline(tmp_path, "p", fixed, steps=[grp, after], launcher="submitit-local")
    assert capsys.readouterr().out.count("done already, skipped") == 3
