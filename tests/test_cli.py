"""`oodgen run` end to end: run folder contents, reproducibility, parameters checked (a failing cell named: test_bad_input.py)."""
import json
import pandas as pd
import pytest
from conftest import oodgen_cli, oodgen_main

TINY = ["-p", "test_domains", "[colored]", "-p", "seeds", "[0]", "-p", "steps", "4", "-p", "eval_every", "2",
        "-p", "dataset", "digits_shift"]

@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    "One tiny benchmark run, shared by the run-folder and the reproducibility tests."
    out = tmp_path_factory.mktemp("cli")
    return out/"a", oodgen_cli("run", "benchmark", *TINY, "--name", "a", "--out", out, "--quiet")

def test_run_writes_a_complete_run_folder(tiny_run):
    d, r = tiny_run
    assert f"run folder: {d}" in r.stdout
    for f in ["40_benchmark.ipynb", "params.json", "env.json", "metrics.jsonl", "done", "results_acc.csv",
              "results_acc.md", "results_macro_f1_training_domain.md", "figures/heldout_accuracy.png", "figures/confusion_ERM_colored.png",
              "checkpoints/ERM_colored_trial0_seed0.pt", "reports/ERM_colored_trial0_seed0.json", "units/ERM_colored_trial0_seed0.done", "results_acc_oracle.md"]:
        assert (d/f).exists(), f
    params = json.loads((d/"params.json").read_text())
    assert params["steps"] == 4 and params["seeds"] == [0] and params["test_domains"] == ["colored"]
    env = json.loads((d/"env.json").read_text())
    assert env["git"]["commit"] and env["versions"]["torch"] and env["python"].startswith("3.")
    m = pd.read_json(d/"metrics.jsonl", lines=True)
    held = m[(m.metric == "acc") & (m.domain == "colored") & (m.split == "in")]
    assert sorted(held.step) == [2, 4]
    # the table's number is the logged held-out accuracy at the last step
    table = pd.read_csv(d/"results_acc.csv", index_col=0)
    mean = float(table.loc["ERM", "colored"].split(" ± ")[0])
    assert abs(mean - 100*held[held.step == 4].value.item()) < 0.051

def test_seeded_runs_give_identical_metrics(tmp_path, tiny_run):
    oodgen_main("run", "benchmark", *TINY, "--name", "b", "--out", tmp_path, "--quiet")
    a, b = (pd.read_json(d/"metrics.jsonl", lines=True) for d in [tiny_run[0], tmp_path/"b"])
    pd.testing.assert_frame_equal(a, b)

def test_unknown_parameter_and_stage_are_clear_errors(tmp_path):
    r = oodgen_main("run", "benchmark", "-p", "datset", "pacs", "--out", tmp_path, check=False)
    assert r.returncode == 2 and "no parameter(s) ['datset']" in r.stderr and "Traceback" not in r.stderr
    r = oodgen_main("run", "benchmrk", "--out", tmp_path, check=False)
    assert r.returncode == 2 and "unknown stage 'benchmrk'" in r.stderr

def test_benchmark_runs_on_a_domainbed_layout_folder(tmp_path):
    "The real-benchmark path (here PACS) on a generated DomainBed-layout tree of PNGs."
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    for d in ["art_painting", "cartoon", "photo", "sketch"]:
        for c in ["dog", "house", "person"]:
            (tmp_path/"data"/"PACS"/d/c).mkdir(parents=True)
            for i in range(4):
                Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(tmp_path/"data"/"PACS"/d/c/f"{i}.jpg")
    oodgen_main("run", "benchmark", "-p", "dataset", "pacs", "-p", "data_root", tmp_path/"data", "-p", "image_size", "32",
               "-p", "steps", "2", "-p", "eval_every", "0", "-p", "seeds", "[0]", "-p", "test_domains", "[sketch]",
               "-p", "hparams", "{batch_size: 8}", "--name", "pacs", "--out", tmp_path, "--quiet")
    table = pd.read_csv(tmp_path/"pacs"/"results_acc.csv", index_col=0)
    assert list(table.columns) == ["sketch", "avg"]
    rep = json.loads((tmp_path/"pacs"/"reports"/"ERM_sketch_trial0_seed0.json").read_text())
    assert set(rep["report"]) >= {"dog", "elephant", "giraffe", "guitar", "horse", "house", "person"}

def test_leave_one_domain_out_selection_and_hparam_trials(tmp_path):
    oodgen_main("run", "benchmark", "-p", "test_domains", "[colored]", "-p", "seeds", "[0]", "-p", "steps", "2",
               "-p", "eval_every", "0", "-p", "n_hparams", "2", "-p", "loo_validation", "true",
               "--name", "loo", "--out", tmp_path, "--quiet")
    d = tmp_path/"loo"
    assert (d/"results_acc_leave_one_domain_out.md").exists()
    m = pd.read_json(d/"metrics.jsonl", lines=True)
    assert set(m.trial) == {0, 1} and set(m.val_domain.dropna()) == {"gray", "rotated", "inverted"}
    reps = [json.loads((d/"reports"/f"ERM_colored_trial{k}_seed0.json").read_text())["hparams"] for k in (0, 1)]
    assert reps[0]["lr"] == 1e-3 and reps[1]["lr"] != 1e-3          # trial 1 is a seeded random draw
