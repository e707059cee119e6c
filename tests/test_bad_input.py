"""Bad input, as a new user types it: each case is refused with exit status 2, a message that names the problem and
the fix, no traceback, and (where the input can be judged before any work) no run folder is started."""
import pytest
from conftest import oodgen_cli

B = ["run", "benchmark"]
CASES = [  # (args, words in the message, work may start: the error can only show once the data is read)
    (B + ["-p", "steps", "-5"], "positive number of training steps", False),
    (B + ["-p", "steps", "0"], "positive number of training steps", False),
    (B + ["-p", "steps", "abc"], "expected int", False),
    (B + ["-p", "seeds", "0"], "expected list", False),
    (B + ["-p", "seeds", "0,1"], "expected list", False),
    (B + ["-p", "seeds", "[]"], "non-empty list of seeds", False),
    (B + ["-p", "hparams", "{lr: 0.1"], "YAML", False),
    (B + ["-p", "datset", "pacs"], "no parameter(s) ['datset']", False),
    (B + ["-p", "seed", "1"], "'seed' is now 'seeds'", False),
    (B + ["-p", "test_domains", "3"], "expected str or list", False),
    (B + ["-p", "dataset", "/no/such/folder"], "existing DomainBed-layout folder", False),
    (B + ["-p", "device", "cuda0"], "cuda:N", False),
    (B + ["-p", "algorithms", "[ERMM]"], "registered algorithms", False),
    (B + ["-p", "holdout", "2"], "between 0 and 1", False),
    (["run", "benchmrk"], "unknown stage 'benchmrk'", False),
    (B + ["--name", "../escape"], "plain folder name", False),
    (["pipeline", "-p", "stepz", "5"], "no parameter(s) ['stepz']", False),
    (["pipeline", "-p", "steps", "-1"], "positive number", False),
    (["sweep", "benchmark", "-p", "steps", "5,-1"], "positive number", False),
    (["run", "distill", "-p", "student", "resnet50"], "'student' is now 'backbone'", False),
    (["run", "contrastive", "-p", "test_domain", "gray"], "'test_domain' is now 'test_domains'", False),
    (["run", "gradcam", "-p", "train_steps", "5"], "'train_steps' is now 'steps'", False),
    (B + ["-p", "dataset", "pacs", "-p", "data_root", "{tmp}/nowhere", "-p", "steps", "2"], "data_scripts/pacs.py", True),
]

def cli_in_process(args, capsys) -> tuple[int, str]:
    "`oodgen ARGS` in this process (no notebook starts for these inputs): exit status and stderr."
    from oodgen.cli import main
    with pytest.raises(SystemExit) as e: main([str(a) for a in args])
    return e.value.code, capsys.readouterr().err

@pytest.mark.parametrize("args,words,may_start", CASES, ids=[" ".join(c[0][:4])[:40] for c in CASES])
def test_bad_input_is_refused_clearly(tmp_path, capsys, args, words, may_start):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    args += ([] if "--name" in args else ["--name", "r"]) + ["--out", tmp_path/"out"]
    if may_start: r = oodgen_cli(*args, check=False); code, err = r.returncode, r.stderr
    else: code, err = cli_in_process(args, capsys)
    assert code == 2, (code, err[-500:])
    assert words in err, err[-800:]
    assert "Traceback" not in err
    if not may_start: assert not (tmp_path/"out").exists() or not any((tmp_path/"out").rglob("*.ipynb"))

def test_output_folder_that_is_a_file_and_bad_grid(tmp_path, capsys):
    (tmp_path/"afile").write_text("")
    code, err = cli_in_process(["run", "benchmark", "--out", tmp_path/"afile"], capsys)
    assert code == 2 and "cannot write the run folder" in err and "Traceback" not in err
    (tmp_path/"grid.yaml").write_text("steps: [5, 10\n")
    code, err = cli_in_process(["sweep", "benchmark", "--grid", tmp_path/"grid.yaml", "--out", tmp_path], capsys)
    assert code == 2 and "not valid YAML" in err

def test_rerun_with_other_parameters_is_refused_and_overwrite_starts_over(tmp_path):
    tiny = ["-p", "test_domains", "[colored]", "-p", "seeds", "[0]", "-p", "eval_every", "0", "--name", "r", "--out", tmp_path]
    oodgen_cli("run", "benchmark", "-p", "steps", "3", *tiny, "--quiet")
    r = oodgen_cli("run", "benchmark", "-p", "steps", "4", *tiny, "--quiet", check=False)
    assert r.returncode == 2 and "steps=3 (now 4)" in r.stderr and "--overwrite" in r.stderr
    r = oodgen_cli("run", "benchmark", "-p", "steps", "3", *tiny, "--quiet")         # same parameters: kept as it is
    assert "finished already" in r.stdout
    oodgen_cli("run", "benchmark", "-p", "steps", "4", *tiny, "--quiet", "--overwrite")
    import json
    assert json.loads((tmp_path/"r"/"params.json").read_text())["steps"] == 4
