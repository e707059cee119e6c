"""No stale or mixed results: a rerun in the same run folder (library or notebook run by hand) never shows an earlier run's records."""
import json
import pandas as pd


def test_library_rerun_in_one_folder_gives_the_full_table(tmp_path):
    "`RunRecord` + `run_leave_one_domain_out` twice in one folder: a fresh run retrains every unit, a resumed one reuses them."
    from oodgen.benchmark import results_table, run_leave_one_domain_out
    from oodgen.core import RunRecord
    from oodgen.data.domains import DigitsShift
    import oodgen.train.algorithms  # noqa: F401  (registers ERM)
    ds = DigitsShift(domains=["gray", "colored", "rotated"], size=16)    # 16 px: the runner's paths at a quarter of the compute
    def once(resume):
        run = RunRecord(tmp_path/"r", params={"steps": 2}, resume=resume)
        res = run_leave_one_domain_out(ds, run, ["ERM"], test_domains=["colored", "rotated"], seeds=[0], steps=2)
        return res, run.metrics(), results_table(run.metrics(), "acc", ds.domains)
    res1, m1, t1 = once(False)
    res2, m2, t2 = once(False)          # a fresh run: the old records and their done markers go aside, every unit trains again
    assert list(t1.columns) == list(t2.columns) == ["colored", "rotated", "avg"] and not t2.isna().any().any()
    assert len(m2) == len(m1) and [r["acc"] for r in res2] == [r["acc"] for r in res1]   # the same units, retrained
    assert len(list((tmp_path/"r").glob("units.*.old"))) == 1 and len(list((tmp_path/"r"/"units").glob("*.done"))) == 2
    res3, m3, t3 = once(True)           # resumed: the finished units are reused, nothing is appended
    assert len(m3) == len(m2) and t3.equals(t2) and [r["acc"] for r in res3] == [r["acc"] for r in res2]


def test_notebook_runs_by_hand_with_other_parameters_get_their_own_folder(tmp_path, monkeypatch):
    "papermill on a stage notebook with `out_dir` at its default: other parameters, another folder; the same ones resume."
    import papermill as pm
    from oodgen.runs import experiment_notebook, find_stage
    import nbformat
    runs = tmp_path/"runs"; monkeypatch.setenv("OODGEN_RUNS", str(runs))    # <repo>/runs otherwise
    nb = tmp_path/"benchmark.ipynb"; nbformat.write(experiment_notebook(find_stage("benchmark")), str(nb))
    tiny = {"test_domains": ["rotated"], "seeds": [0], "eval_every": 0, "device": "cpu"}
    def run(steps):
        pm.execute_notebook(str(nb), str(tmp_path/f"out{steps}.ipynb"), parameters={**tiny, "steps": steps},
                            cwd=str(tmp_path), kernel_name="python3", progress_bar=False)
    run(2); run(3)
    folders = sorted(runs.glob("benchmark-interactive-*"))
    assert len(folders) == 2 and not (tmp_path/"runs"/"benchmark-interactive").exists()
    for f in folders:
        steps = json.loads((f/"params.json").read_text())["steps"]
        df = pd.read_json(f/"metrics.jsonl", lines=True)
        assert df.step.max() == steps, (f, steps)                            # only this run's records
        assert not df.duplicated(["metric", "split", "domain", "step"]).any()   # one run's worth, not two appended
        assert df.metric.eq("acc").any() and (f/"results_acc.md").exists()
    before = {f: (f/"metrics.jsonl").read_text() for f in folders}
    run(2)                                                                     # the same parameters: resumed, nothing retrained
    assert sorted(runs.glob("benchmark-interactive-*")) == folders
    assert {f: (f/"metrics.jsonl").read_text() for f in folders} == before
