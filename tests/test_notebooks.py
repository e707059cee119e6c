"""Every stage notebook's `parameters` cell is fully visible to papermill (a parse failure silently drops a knob)."""
import ast, json
import pytest
from oodgen.runs import notebook_parameters, stage_notebooks

STAGES = stage_notebooks()

def test_there_are_stage_notebooks():
    assert {"40_benchmark", "24_train.distill", "03_data.corruptions", "23_train.contrastive", "31_eval.stability"} <= set(STAGES)

@pytest.mark.parametrize("stage", sorted(STAGES))
def test_parameters_cell_parses(stage):
    nb = json.loads(STAGES[stage].read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    names = [t.id for n in ast.parse("".join(cell["source"])).body if isinstance(n, ast.Assign) for t in n.targets]
    assert names, "empty parameters cell"
    assert names == list(notebook_parameters(STAGES[stage])), "papermill cannot parse some parameter lines (no '=' in comments)"
    for must in ("out_dir", "device"): assert must in names


def test_stages_orchestrate_through_the_runs_module_only():
    "Stage notebooks start other stages only through oodgen.runs (ensure_teachers), never the CLI or run_stage itself."
    import json
    for stage, path in stage_notebooks().items():
        for c in json.loads(path.read_text())["cells"]:
            src = "".join(c["source"])
            if c["cell_type"] != "code": continue
            assert "oodgen.cli" not in src and "run_stage(" not in src, (stage, src[:200])


# Run All never rewrites the package: `nbdev_export` (or `make sync-check`) is the developer's command, not a cell.
def test_no_notebook_exports_the_package():
    from pathlib import Path
    for nb in sorted((Path(__file__).resolve().parents[1]/"nbs").glob("*.ipynb")):
        for c in json.loads(nb.read_text())["cells"]:
            assert not (c["cell_type"] == "code" and "nbdev_export(" in "".join(c["source"])), f"{nb.name}: a cell calls nbdev_export"
