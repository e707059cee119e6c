"""The `STAGES` registry: what each stage notebook declares (defaults, meanings, pipeline role, quick profile), read
without papermill but agreeing with it, and shown by `oodgen stages` / `oodgen run STAGE --help`."""
import json
import pytest
from conftest import oodgen_main
from oodgen.runs import STAGES, check_values, stage_notebooks

NAMES = [s for s in STAGES]

@pytest.mark.parametrize("stage", NAMES)
def test_registry_defaults_are_papermills(stage):
    "The registry's own parser reads every parameter and default papermill injects into (a literal, or papermill's text)."
    import ast
    pm = pytest.importorskip("papermill")
    st = STAGES[stage]
    seen = {}
    for k, v in pm.inspect_notebook(str(st.notebook)).items():
        try: seen[k] = ast.literal_eval(v["default"])
        except (ValueError, SyntaxError): seen[k] = v["default"]
    assert st.defaults == seen

@pytest.mark.parametrize("stage", NAMES)
def test_every_parameter_says_what_it_means(stage):
    st = STAGES[stage]
    assert st.help and st.role in ("alone", "teacher", "student", "saliency")
    assert not [k for k, p in st.params.items() if not p.meaning], "add a trailing comment to these parameters' lines"

def test_pipeline_roles_name_one_stage_each():
    assert [s.notebook.stem for s in STAGES.pipeline()] == ["23_train.contrastive", "24_train.distill", "31_eval.stability"]

def test_stages_and_run_help_list_what_the_registry_holds(tmp_path):
    r = oodgen_main("stages")
    assert [l.split()[0] for l in r.stdout.splitlines()[:len(NAMES)]] == NAMES
    assert "oodgen pipeline: contrastive -> distill -> stability" in r.stdout
    r = oodgen_main("run", "benchmark", "--help")
    for name, p in STAGES["benchmark"].params.items():
        assert f"  {name} ({p.type}, default {p.default!r})\n      {p.meaning}" in r.stdout, name
    assert "allowed: a positive number of training steps" in r.stdout
    r = oodgen_main("pipeline", "--help")
    assert "benchmark" not in r.stdout and "Stage 1 per held-out domain -> Stage 2 -> Grad-CAM" in r.stdout.replace("\n", " ").replace("  ", " ")
    r = oodgen_main("run", "--out", tmp_path, check=False)
    assert r.returncode == 2 and "needs a STAGE" in r.stderr

@pytest.mark.parametrize("stage", NAMES)
def test_quick_profile_is_valid_and_read_in_time(stage):
    "Every quick value is a parameter of the stage that passes its checks, and no experiment cell reads it before `interactive_run_dir` puts it in."
    import ast
    st = STAGES[stage]
    assert st.quick, "give the stage a '# quick: {...}' line: Run All in Jupyter should take about a minute"
    assert set(st.quick) <= set(st.params) and "out_dir" not in st.quick
    check_values(st.quick, st.defaults, st.notebook.stem)
    early = set()
    for c in json.loads(st.notebook.read_text())["cells"]:
        src = "".join(c["source"])
        if c["cell_type"] != "code" or not src.startswith("#| experiment"): continue
        for node in ast.parse(src).body:
            if "interactive_run_dir(" in ast.get_source_segment(src, node):
                assert not early & set(st.quick), f"read before the quick profile applies: {early & set(st.quick)}"
                return
            early |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    raise AssertionError("no experiment cell calls interactive_run_dir")

def test_run_all_in_jupyter_gets_the_quick_profile_papermill_does_not(tmp_path, monkeypatch):
    "A kernel of a Jupyter session on the stage's notebook gets the quick values for the parameters left at their defaults; the same notebook under papermill alone runs the parameters cell as it stands."
    pm = pytest.importorskip("papermill")
    from oodgen.runs import experiment_notebook
    st = STAGES["benchmark"]; nb = tmp_path/"40_benchmark.ipynb"
    import nbformat; nbformat.write(experiment_notebook(st.notebook), str(nb))
    monkeypatch.setenv("OODGEN_RUNS", str(tmp_path/"runs"))
    for k in ("OODGEN_HEADLESS", "MPLBACKEND", "OODGEN_PROFILE", "JPY_SESSION_NAME"): monkeypatch.delenv(k, raising=False)
    mine = {"steps": 2, "test_domains": ["colored"]}          # what the person set keeps its value
    def run(tag):
        pm.execute_notebook(str(nb), str(tmp_path/f"{tag}.ipynb"), parameters=mine, cwd=str(tmp_path), kernel_name="python3",
                            progress_bar=False)
        return {json.loads(p.read_text())["eval_every"]: json.loads(p.read_text()) for p in (tmp_path/"runs").glob("*/params.json")}
    full = run("papermill")
    assert list(full) == [st.defaults["eval_every"]] and full[st.defaults["eval_every"]]["seeds"] == st.defaults["seeds"]
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/oodgen/nbs/40_benchmark.ipynb")   # what jupyter_server gives its kernels
    quick = run("jupyter")[st.quick["eval_every"]]
    assert quick["steps"] == 2 and quick["test_domains"] == ["colored"] and quick["seeds"] == st.quick["seeds"]
    assert "quick profile (Run All" in (tmp_path/"jupyter.ipynb").read_text()
