"""Bad input, as a new user types it: each case is refused with exit status 2, a message that names the problem and
the fix, no traceback, and (where the input can be judged before any work) no run folder is started."""
import pytest
from conftest import oodgen_main

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
    code, err = cli_in_process(args, capsys)
    assert code == 2, (code, err[-500:])
    assert words in err, err[-800:]
    assert "Traceback" not in err
    assert not (tmp_path/"out").exists() or not any((tmp_path/"out").rglob("*.ipynb"))

# One run that can only fail once the data is read, shared by the three tests below (a kernel start each otherwise):
# `-p dataset pacs` with a data root that holds no PACS, that root being a string built to break out of its literal.
@pytest.fixture(scope="module")
def pacs_missing(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pacs_missing")
    evil = f"x\"); import os; os.system('touch {tmp}/pwned') #"
    quoted = "'" + evil.replace("'", "''") + "'"                  # YAML-quoted: an unquoted ' #' is refused as a comment
    r = oodgen_main("run", "benchmark", "-p", "dataset", "pacs", "-p", "data_root", quoted, "-p", "steps", "2",
                    "--name", "r", "--out", tmp, "--quiet", check=False)
    return tmp, evil, r

def test_missing_data_is_refused_clearly_once_read(pacs_missing):
    "The one case of CASES that needs the data read: exit status 2 and the script to run, no traceback."
    _, _, r = pacs_missing
    assert r.returncode == 2, (r.returncode, r.stderr[-500:])
    assert "data_scripts/pacs.py" in r.stderr and "Traceback" not in r.stderr, r.stderr[-800:]

def test_failing_cell_is_named_and_partial_notebook_kept(pacs_missing):
    tmp, _, r = pacs_missing
    assert r.returncode != 0
    assert "failed in cell" in r.stderr and "data_scripts/pacs.py" in r.stderr, r.stderr
    assert (tmp/"r"/"40_benchmark.ipynb").exists() and not (tmp/"r"/"done").exists()

def test_output_folder_that_is_a_file_and_bad_grid(tmp_path, capsys):
    (tmp_path/"afile").write_text("")
    code, err = cli_in_process(["run", "benchmark", "--out", tmp_path/"afile"], capsys)
    assert code == 2 and "cannot write the run folder" in err and "Traceback" not in err
    (tmp_path/"grid.yaml").write_text("steps: [5, 10\n")
    code, err = cli_in_process(["sweep", "benchmark", "--grid", tmp_path/"grid.yaml", "--out", tmp_path], capsys)
    assert code == 2 and "not valid YAML" in err

def test_rerun_with_other_parameters_is_refused_and_overwrite_starts_over(tmp_path, two_starts):
    "On a copy of the finished run of `two_starts` (steps 1, below): other parameters refused, the same kept, --overwrite reruns."
    import json, shutil
    shutil.copytree(two_starts[0], tmp_path/"r")
    tiny = [*TINY, "--name", "r", "--out", tmp_path, "--quiet"]
    assert json.loads((tmp_path/"r"/"params.json").read_text())["steps"] == 1 and (tmp_path/"r"/"done").exists()
    r = oodgen_main("run", "benchmark", *tiny, "-p", "steps", "2", check=False)
    assert r.returncode == 2 and "steps=1 (now 2)" in r.stderr and "--overwrite" in r.stderr
    r = oodgen_main("run", "benchmark", *tiny)                                        # same parameters: kept as it is
    assert "finished already" in r.stdout
    oodgen_main("run", "benchmark", *tiny, "-p", "steps", "2", "--overwrite")
    m = json.loads((tmp_path/"r"/"params.json").read_text())
    assert m["steps"] == 2 and (tmp_path/"r"/"done").exists()

# Values are read as a safe YAML subset (issue 28). `-p steps -5` comes last in these cases: without the check under
# test the run is still refused before any work, by a message that lacks the words looked for.
SAFE = ["-p", "steps", "-5"]

@pytest.mark.parametrize("value", ["!!binary aGk=", "!!set {a, b}", "!!python/name:os.system", "!mine {a: 1}",
                                   "{a: !!python/tuple [1, 2]}", "[1, !!str 2]"])
def test_yaml_tags_are_refused(tmp_path, capsys, value):
    code, err = cli_in_process(B + ["-p", "hparams", value, *SAFE, "--name", "r", "--out", tmp_path], capsys)
    assert code == 2 and "tags" in err and "are not accepted" in err and repr(value) in err, err
    assert "Traceback" not in err and not (tmp_path/"r").exists()

def test_value_cut_by_a_yaml_comment_is_refused(tmp_path, capsys):
    code, err = cli_in_process(B + ["-p", "data_root", "/data/run #2", *SAFE, "--name", "r", "--out", tmp_path], capsys)
    assert code == 2 and "as a comment" in err and "quote the value" in err, err

def test_mapping_keys_must_be_text(tmp_path, capsys):
    "papermill and JSON would turn the key 1 into '1' in the run without a word."
    code, err = cli_in_process(B + ["-p", "hparams", "{1: 0.5}", *SAFE, "--name", "r", "--out", tmp_path], capsys)
    assert code == 2 and "keys must be text" in err, err

def test_exponent_numbers_are_floats_also_inside_lists_and_maps():
    from oodgen.runs import parse_value
    assert [parse_value(v) for v in ["1e-3", "1E-4", "-2.5e3"]] == [1e-3, 1e-4, -2500.0]
    assert parse_value("{lr: 1e-4, decay: [1e-5, 3E2]}") == {"lr": 1e-4, "decay": [1e-5, 300.0]}
    assert parse_value("010") == 10 and parse_value("1:30") == "1:30"        # no octal, no base 60

def test_exponent_float_accepted_where_a_float_is_expected(tmp_path, capsys):
    "`holdout 2e-1` was the text '2e-1' (expected float); now it passes and only the bad steps value is refused."
    code, err = cli_in_process(B + ["-p", "holdout", "2e-1", *SAFE, "--name", "r", "--out", tmp_path], capsys)
    assert code == 2 and "'steps'" in err and "holdout" not in err, err

def test_yes_no_on_off_stay_words_where_text_is_expected():
    from oodgen.runs import check_values, find_stage, notebook_parameters, parse_value
    ood = notebook_parameters(find_stage("ood"))
    got = check_values({"id_classes": parse_value("[yes, no]"), "test_domains": parse_value("[off]"),
                        "pretrained": parse_value("yes")}, ood, "42_ood")
    assert got == {"id_classes": ["yes", "no"], "test_domains": ["off"], "pretrained": True}
    assert all(type(x) is str for x in got["id_classes"]) and type(got["pretrained"]) is bool

def test_grid_file_is_read_by_the_same_safe_parser(tmp_path, capsys):
    (tmp_path/"grid.yaml").write_text("# a grid\nhparams: [!!python/name:os.system x]\n")
    code, err = cli_in_process(["sweep", "benchmark", "--grid", tmp_path/"grid.yaml", *SAFE, "--out", tmp_path], capsys)
    assert code == 2 and "tags" in err and "grid file" in err, err

def test_launcher_args_are_read_by_the_same_safe_parser(tmp_path, capsys):
    code, err = cli_in_process(["sweep", "benchmark", "--launcher", "slurm", "--launcher-args", "{partition: !!binary aGk=}",
                                *SAFE, "--out", tmp_path], capsys)
    assert code == 2 and "--launcher-args" in err and "tags" in err, err

# Run folders: --overwrite empties only oodgen's own folders, runs stay inside --out, one writer per folder.
import os, subprocess, sys, time
from pathlib import Path
TINY = ["-p", "test_domains", "[colored]", "-p", "seeds", "[0]", "-p", "steps", "1", "-p", "eval_every", "0"]

def _thesis(tmp_path):
    d = tmp_path/"my_thesis"; d.mkdir(); (d/"chapter1.tex").write_text("\\chapter{One}\n"); return d

def test_run_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path):
    d = _thesis(tmp_path)
    r = oodgen_main("run", "benchmark", *TINY, "--name", "my_thesis", "--out", tmp_path, "--quiet", "--overwrite", check=False)
    assert r.returncode == 2 and "--overwrite refused" in r.stderr and "nothing was deleted" in r.stderr, r.stderr[-800:]
    assert sorted(os.listdir(d)) == ["chapter1.tex"] and (d/"chapter1.tex").read_text() == "\\chapter{One}\n"

def test_sweep_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    d = _thesis(tmp_path)
    code, err = cli_in_process(["sweep", "benchmark", *TINY, "--name", "my_thesis", "--out", tmp_path, "--overwrite"], capsys)
    assert code == 2 and "--overwrite refused" in err and sorted(os.listdir(d)) == ["chapter1.tex"], err[-800:]

def test_pipeline_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path):
    from oodgen.runs import CLIError, run_pipeline
    d = _thesis(tmp_path)
    with pytest.raises(CLIError, match="--overwrite refused"):
        run_pipeline(tmp_path, "my_thesis", {"seeds": [0], "steps": 1, "eval_every": 0},
                     steps=[("benchmark", "b", {"test_domains": lambda done, root: ["colored"]})], overwrite=True)
    assert sorted(os.listdir(d)) == ["chapter1.tex"]

def test_run_name_that_is_a_symlink_is_refused(tmp_path):
    (tmp_path/"elsewhere").mkdir(); (tmp_path/"out").mkdir(); (tmp_path/"out"/"link").symlink_to(tmp_path/"elsewhere")
    r = oodgen_main("run", "benchmark", *TINY, "--name", "link", "--out", tmp_path/"out", "--quiet", check=False)
    assert r.returncode == 2 and "symbolic link" in r.stderr and "Traceback" not in r.stderr, r.stderr[-800:]
    assert not any((tmp_path/"elsewhere").iterdir())

@pytest.fixture(scope="module")
def two_starts(tmp_path_factory):
    "Two `oodgen run` on one folder: the first a process of its own, the second (here) started while the first writes."
    out = tmp_path_factory.mktemp("two_starts")
    args = ["run", "benchmark", *TINY, "--name", "r", "--out", out, "--quiet"]
    first = subprocess.Popen([str(Path(sys.executable).parent/"oodgen"), *map(str, args)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        t0 = time.time()
        while not (out/"r"/"params.json").exists() and first.poll() is None and time.time() - t0 < 120: time.sleep(0.1)
        running = first.poll() is None
        second = oodgen_main(*args, check=False) if running else None
        code = first.wait(timeout=300)
    finally: first.kill(); first.wait()
    return out/"r", running, second, code

def test_second_start_on_a_running_folder_is_refused_at_once(two_starts):
    "Two `oodgen run` processes on one folder: the second is refused while the first writes; the first finishes."
    run, running, r, code = two_starts
    assert running, "the first run ended before the second started"
    assert r.returncode == 2 and f"another oodgen run is writing into {run.resolve()}" in r.stderr, r.stderr[-800:]
    assert code == 0 and (run/"done").exists()

def test_lock_of_a_killed_writer_is_released(tmp_path):
    from oodgen.runs import CLIError, prepare_run_dir, release_run_dir
    run = tmp_path/"r"; run.mkdir()
    hold = "import fcntl, os, sys, time; fcntl.flock(os.open(sys.argv[1], os.O_RDWR | os.O_CREAT), fcntl.LOCK_EX); print('held', flush=True); time.sleep(300)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(run/".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(CLIError, match="another oodgen run is writing into"): prepare_run_dir(run)
    finally: holder.kill(); holder.wait()
    prepare_run_dir(run); release_run_dir(run)           # the kill released it

# Sweeps: every point its own folder, no empty axis, no launcher arguments that nothing reads.
def test_sweep_points_whose_names_sanitise_alike_get_their_own_folders(tmp_path):
    "Dataset folders `ds a` and `ds_a` both ran into one point folder (the second was skipped as done)."
    import json
    import numpy as np
    import pandas as pd
    from PIL import Image
    rng = np.random.default_rng(0)
    for ds in ("ds a", "ds_a"):
        for d in ("d0", "d1"):
            for c in ("c0", "c1"):
                (tmp_path/ds/d/c).mkdir(parents=True)
                for i in range(3): Image.fromarray(rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)).save(tmp_path/ds/d/c/f"{i}.png")
    vals = [str(tmp_path/"ds a"), str(tmp_path/"ds_a")]
    (tmp_path/"grid.yaml").write_text(json.dumps({"dataset": vals}))
    oodgen_main("sweep", "benchmark", "--grid", tmp_path/"grid.yaml", "-p", "test_domains", "[d1]", "-p", "seeds", "[0]",
               "-p", "steps", "1", "-p", "eval_every", "0", "-p", "image_size", "16", "--name", "s", "--out", tmp_path/"out")
    points = sorted((tmp_path/"out"/"s").glob("*/done"))
    assert len(points) == 2, points
    assert sorted(json.loads((p.parent/"params.json").read_text())["dataset"] for p in points) == vals
    assert sorted(set(pd.read_csv(tmp_path/"out"/"s"/"sweep_metrics.csv")["param.dataset"])) == sorted(json.dumps(v) for v in vals)

def test_sweep_grid_with_an_empty_axis_is_refused(tmp_path, capsys):
    (tmp_path/"grid.yaml").write_text("steps: []\n")
    code, err = cli_in_process(["sweep", "benchmark", "--grid", tmp_path/"grid.yaml", "--name", "s", "--out", tmp_path/"out"], capsys)
    assert code == 2 and "'steps' has no values" in err, err
    assert not (tmp_path/"out").exists()

@pytest.mark.parametrize("cmd", [["sweep", "benchmark", "-p", "steps", "-5"], ["pipeline", "-p", "steps", "-1"]])
def test_launcher_args_with_the_local_launcher_are_refused(tmp_path, capsys, cmd):
    code, err = cli_in_process(cmd + ["--launcher-args", "{partition: gpu}", "--name", "s", "--out", tmp_path], capsys)
    assert code == 2 and "--launcher-args" in err and "would be ignored" in err, err

# Ctrl-C ends with one line and exit status 130.
def test_ctrl_c_is_one_line_and_status_130(tmp_path, capsys, monkeypatch):
    import oodgen.runs
    def interrupted(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(oodgen.runs, "run_stage", interrupted)   # the CLI imports it when it runs a command
    code, err = cli_in_process(B + ["--name", "r", "--out", tmp_path], capsys)
    assert code == 130 and err == "oodgen: interrupted; rerun the same command to resume\n", err

def test_ctrl_c_during_a_real_run(tmp_path):
    "Ctrl-C in a terminal: SIGINT to oodgen's process group while the notebook runs (the kernel has a session of its own: nbclient shuts it down)."
    import signal
    long = [("100000" if a == "1" and TINY[i - 1] == "steps" else a) for i, a in enumerate(TINY)]   # still running at the signal
    args = ["run", "benchmark", *long, "--name", "r", "--out", tmp_path, "--quiet"]
    p = subprocess.Popen([str(Path(sys.executable).parent/"oodgen"), *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
                         # as in a terminal: a suite started in the background (`nohup make test &`, CI runners) inherits
                         # SIGINT *ignored*, and so would oodgen (the Ctrl-C "lost" in earlier CI runs was exactly that)
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        t0 = time.time()
        # env.json: the experiment cells run (a signal while the kernel still starts can be lost: see the closing note)
        while not (tmp_path/"r"/"env.json").exists() and p.poll() is None and time.time() - t0 < 240: time.sleep(0.1)
        time.sleep(2); os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=120)
    finally: p.kill(); p.wait()
    assert p.returncode == 130 and "Traceback" not in err, err[-1500:]
    assert err.strip().splitlines()[-1] == "oodgen: interrupted; rerun the same command to resume", err[-800:]
    assert not (tmp_path/"r"/"done").exists() and (tmp_path/"r"/"kernel.log").exists()      # the kernel's own noise kept there

# A text value is injected into the run's notebook as a string literal (papermill escapes it), never as code.
def test_string_parameter_cannot_break_out_of_its_literal(pacs_missing):
    import ast, json
    tmp, evil, r = pacs_missing
    assert r.returncode != 0 and "failed in cell" in r.stderr, r.stderr[-800:]         # no PACS under that root
    assert not (tmp/"pwned").exists()
    assert json.loads((tmp/"r"/"params.json").read_text())["data_root"] == evil
    nb = json.loads((tmp/"r"/"40_benchmark.ipynb").read_text())
    cell = next("".join(c["source"]) for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    got = {n.targets[0].id: ast.literal_eval(n.value) for n in ast.parse(cell).body if isinstance(n, ast.Assign)}
    assert got["data_root"] == evil

def test_sweep_values_read_back_exactly_from_their_json():
    "A sweep hands each point's values to its `oodgen run` as JSON, which writes characters beyond U+FFFF as two escapes."
    import json
    from oodgen.runs import parse_value
    for v in ["runs 😀", {"k😀": ["é", "a\u2028b"]}, ["x\"); import os #", "tab\there"]]:
        assert parse_value(json.dumps(v)) == v, v

# A disk that fills under --out: one line naming the folder and the space free, never torch's "unexpected pos"; the
# checkpoint written before is kept.
def test_disk_full_while_saving_a_checkpoint_is_one_clear_line(tmp_path, monkeypatch):
    import torch
    from oodgen.core import DiskFullError, load_checkpoint, save_checkpoint
    path = save_checkpoint({"step": 1}, tmp_path/"last.pt")
    def short_write(*a, **k): raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")
    monkeypatch.setattr(torch, "save", short_write)
    with pytest.raises(DiskFullError) as e: save_checkpoint({"step": 2}, path)
    assert f"no space left on the device holding {tmp_path}" in str(e.value) and "MiB free" in str(e.value)
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]

def test_disk_full_while_logging_a_record_is_one_clear_line(tmp_path, monkeypatch):
    import builtins, errno
    from oodgen.core import DiskFullError, RunRecord
    run = RunRecord(tmp_path/"r"); run.log("acc", 0.5)
    real_open = builtins.open
    def full_open(f, mode="r", *a, **k):
        if str(f).endswith("metrics.jsonl") and "a" in mode: raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(f, mode, *a, **k)
    monkeypatch.setattr(builtins, "open", full_open)
    with pytest.raises(DiskFullError, match="no space left on the device holding"): run.log("acc", 0.7)
    monkeypatch.undo()
    assert run.metrics().value.tolist() == [0.5]

# --launcher-args whose values cannot be right are refused before any job is submitted.
def test_launcher_args_with_a_negative_time_are_refused(tmp_path, capsys):
    code, err = cli_in_process(["sweep", "benchmark", "-p", "steps", "1,2", "--launcher", "submitit-local",
                                "--launcher-args", "{time: -5}", "--out", tmp_path, "--name", "s"], capsys)
    assert code == 2 and "time=-5 must be a positive number (minutes)" in err, err
    assert not (tmp_path/"s").exists() or not any((tmp_path/"s").glob("*/params.json"))

# A sweep value that is an existing folder whose name holds a comma is one value, not a grid axis.
def test_sweep_dataset_folder_with_a_comma_is_one_value(tmp_path, monkeypatch):
    import oodgen.runs
    seen = {}
    def fake_sweep(stage, grid, out, name, jobs, fixed, **kw): seen.update(grid=grid, fixed=fixed); return tmp_path
    monkeypatch.setattr(oodgen.runs, "run_sweep", fake_sweep)
    folder = tmp_path/"digits, v2"; folder.mkdir()
    from oodgen.cli import main
    main(["sweep", "benchmark", "-p", "dataset", str(folder), "-p", "steps", "1,2", "--out", str(tmp_path)])
    assert seen["fixed"]["dataset"] == str(folder) and seen["grid"] == {"steps": [1, 2]}, seen

# A feature-cache entry that is one row short (a damaged file) is computed again, not used.
def test_feature_cache_entry_of_another_length_is_recomputed(tmp_path):
    import torch
    from oodgen.models.encoders import create_image_encoder
    from oodgen.models.feature_cache import FeatureCache
    enc = create_image_encoder("resnet18", pretrained=False, trainable=False, input_size=32)
    imgs = torch.rand(6, 3, 32, 32); cache = FeatureCache(tmp_path)
    f = cache.image_features(enc, imgs); entry = next(tmp_path.glob("image-*.pt"))
    obj = torch.load(entry, weights_only=True); obj["pooled"], obj["tokens"] = obj["pooled"][:-1], obj["tokens"][:-1]
    torch.save(obj, entry)
    again = FeatureCache(tmp_path).image_features(enc, imgs)
    assert len(again.pooled) == 6 and torch.equal(again.pooled, f.pooled)
    assert len(torch.load(entry, weights_only=True)["pooled"]) == 6          # the entry is rewritten whole

# A truncated shifted-set cache file is computed again (with a warning), not an error with the wrong advice.
def test_truncated_shifted_set_cache_is_computed_again(tmp_path):
    import torch, warnings
    from oodgen.augstudy import ShiftSpec, shifted_set
    from oodgen.data.domains import TensorDomain
    test = TensorDomain(torch.rand(8, 3, 16, 16), torch.arange(8) % 4)
    spec = ShiftSpec("rotated", "rotated", "rotated")
    a = shifted_set(test, spec, 0, tmp_path); f = next(tmp_path.glob("*.pt"))
    f.write_bytes(f.read_bytes()[:100])                                     # cut by a kill or a full disk
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always"); b = shifted_set(test, spec, 0, tmp_path)
    assert torch.equal(a.images, b.images) and any("computing it again" in str(x.message) for x in w)
