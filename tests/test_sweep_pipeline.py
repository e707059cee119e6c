"""`oodgen sweep` and `oodgen pipeline` end to end on tiny benchmark runs: resuming, grouped stages at once.
(Apart from test_cli.py so that `pytest -n 2 --dist loadfile` can run them beside it.)"""
import json
import pandas as pd
from conftest import oodgen_main


def test_sweep_resumes_without_redoing_finished_points(tmp_path):
    args = ["sweep", "benchmark", "-p", "seeds", "[0]", "-p", "steps", "1,2", "-p", "test_domains", "[colored]",
            "-p", "eval_every", "0", "--name", "s", "--out", tmp_path]
    oodgen_main(*args)
    root = tmp_path/"s"
    done = sorted(p.parent.name for p in root.glob("*/done"))
    assert done == ["steps=1", "steps=2"]
    # a sweep killed half way: one point unfinished (no done marker); the rerun redoes only that one
    (root/"steps=2"/"done").unlink()
    before = (root/"steps=1"/"metrics.jsonl").stat().st_mtime_ns
    r = oodgen_main(*args)
    assert "skip steps=1 (done)" in r.stdout and "ok   steps=2" in r.stdout
    assert (root/"steps=1"/"metrics.jsonl").stat().st_mtime_ns == before
    df = pd.read_csv(root/"sweep_metrics.csv")
    assert set(df["param.steps"]) == {1, 2}

def test_pipeline_runs_a_group_of_stages_at_once_and_resumes(tmp_path, capsys):
    "Grouped steps run as parallel `oodgen run` processes; the next step gets their folders; finished steps are skipped."
    from oodgen.runs import run_pipeline
    fixed = {"seeds": [0], "steps": 2, "eval_every": 0}
    grp = [("benchmark", f"erm-{d}", {"test_domains": lambda done, root, d=d: [d]}) for d in ("gray", "colored")]
    after = ("benchmark", "after", {"test_domains": lambda done, root: [sorted(done)[0].split("-")[1]]})
    root = run_pipeline(tmp_path, "p", fixed, steps=[grp, after], jobs=2)
    for name in ("erm-gray", "erm-colored", "after"): assert (root/name/"done").exists(), name
    assert json.loads((root/"after"/"params.json").read_text())["test_domains"] == ["colored"]
    assert json.loads((root/"erm-gray"/"params.json").read_text())["jobs"] == 2     # forwarded to stages with `jobs`
    capsys.readouterr()
    run_pipeline(tmp_path, "p", fixed, steps=[grp, after], jobs=2)
    out = capsys.readouterr().out
    assert out.count("done already, skipped") == 3
