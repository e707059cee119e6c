"""The `STAGES` registry: what each stage notebook declares (defaults, meanings, pipeline role, quick profile), read
without papermill but agreeing with it, and shown by `oodgen stages` / `oodgen run STAGE --help`."""
import json
import pytest
from conftest import oodgen_cli
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
    r = oodgen_cli("stages")
    assert [l.split()[0] for l in r.stdout.splitlines()[:len(NAMES)]] == NAMES
    assert "oodgen pipeline: contrastive -> distill -> stability" in r.stdout
    r = oodgen_cli("run", "benchmark", "--help")
    for name, p in STAGES["benchmark"].params.items():
        assert f"  {name} ({p.type}, default {p.default!r})\n      {p.meaning}" in r.stdout, name
    assert "allowed: a positive number of training steps" in r.stdout
    r = oodgen_cli("pipeline", "--help")
    assert "benchmark" not in r.stdout and "Stage 1 per held-out domain -> Stage 2 -> Grad-CAM" in r.stdout.replace("\n", " ").replace("  ", " ")
    r = oodgen_cli("run", "--out", tmp_path, check=False)
    assert r.returncode == 2 and "needs a STAGE" in r.stderr
