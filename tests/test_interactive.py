"""Run by hand, a stage notebook shows its figures inline and its tables as DataFrames; under `oodgen run`
(`OODGEN_HEADLESS=1` in the papermill kernel) it writes the same PNG / Markdown files and shows nothing inline."""
import json
import pytest

PARAMS = dict(corruptions=["gaussian_noise", "mnist_c/rotate"], severities=[1, 3], n_images=24, steps=3,
              batch_size=16, photo_size=32)

def _outputs(nb_path):
    nb = json.loads(nb_path.read_text())
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]

def _mimes(outs): return {m for o in outs for m in o.get("data", {})}

def test_figures_inline_by_hand_files_only_headless(tmp_path, monkeypatch):
    pm = pytest.importorskip("papermill")
    from oodgen.runs import experiment_notebook, find_stage, run_stage
    monkeypatch.delenv("OODGEN_HEADLESS", raising=False); monkeypatch.delenv("MPLBACKEND", raising=False)
    # by hand: the notebook a person runs (papermill stands in for Run All), no OODGEN_HEADLESS
    hand = tmp_path/"by_hand"
    pm.execute_notebook(experiment_notebook(find_stage("corruptions")), str(tmp_path/"hand.ipynb"), cwd=str(tmp_path),
                        parameters={**PARAMS, "out_dir": str(hand)}, kernel_name="python3", progress_bar=False)
    outs = _outputs(tmp_path/"hand.ipynb")
    pngs = [o for o in outs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 4, _mimes(outs)                          # 3 galleries and the accuracy plot, inline
    assert "text/html" in _mimes(outs)                            # the accuracy table as a DataFrame
    assert {"accuracy_vs_severity.png", "gallery_digit_cifar_c.png"} <= {p.name for p in (hand/"figures").glob("*.png")}
    assert (hand/"accuracy_vs_severity.md").exists()
    # oodgen run: the same files, nothing inline, the table as Markdown text in the executed notebook
    run = run_stage("corruptions", PARAMS, name="headless", out=tmp_path, progress=False)
    outs = _outputs(run/"03_data.corruptions.ipynb")
    assert "image/png" not in _mimes(outs) and "text/html" not in _mimes(outs), _mimes(outs)
    assert any("| mnist_c/rotate" in "".join(o.get("text", "")) for o in outs)
    assert {p.name for p in (hand/"figures").glob("*.png")} == {p.name for p in (run/"figures").glob("*.png")}
    assert (run/"accuracy_vs_severity.md").read_text() == (hand/"accuracy_vs_severity.md").read_text()
