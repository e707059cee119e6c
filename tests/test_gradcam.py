"Grad-CAM stage: the gradcam (31_eval.stability) experiment end to end (tiny parameters) and the errors people meet first."
import json
from pathlib import Path

import pandas as pd
import pytest
import torch
import torch.nn as nn

from oodgen.models.classifiers import create_classifier, SmallCNN
from oodgen.train.loop import build_algorithm, save_algorithm
from oodgen.eval.saliency import (check_images, compute_cam, default_target_layer, saliency_model, smoothgrad, teacher_saliency_model)
from oodgen.eval.stability import blur, heatmap_stability

REPO = Path(__file__).resolve().parents[1]
NB = REPO/"nbs"/"31_eval.stability.ipynb"


def run_stage(params: dict, out: Path) -> Path:
    "Run the stage with the `oodgen run` machinery when it exists, else papermill directly (cwd = nbs/)."
    try: from oodgen.runs import run_stage as cli_run
    except ImportError: cli_run = None
    if cli_run is not None: return cli_run("gradcam", params, name="gc", out=out, progress=False)
    import papermill as pm
    folder = out/"gc"
    pm.execute_notebook(str(NB), str(out/"gc.ipynb"), parameters={**params, "out_dir": str(folder)},
                        cwd=str(NB.parent), kernel_name="python3", progress_bar=False)
    return folder


def tiny_teacher(path: Path) -> Path:
    "A random-weight Stage 1 teacher (frozen resnet18 at 64 px + tiny BiGRU), saved as Stage 1 saves it."
    from oodgen.models.cross_attention import ImageTextMatcher, save_teacher
    from oodgen.models.encoders import create_image_encoder, create_text_encoder
    torch.manual_seed(0)
    t = ImageTextMatcher(create_image_encoder("resnet18", pretrained=False, trainable=False, input_size=64),
                         create_text_encoder("bigru", pretrained=False, trainable=False, hidden=16, emb_dim=32),
                         embed_dim=16, heads=2)
    return save_teacher(t, path, templates=["a handwritten digit {}"])


def test_experiment_writes_tables_figures_and_metrics(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")   # the kernel's tensors are tiny: extra threads only contend
    # an (untrained) Stage 2 RISE student, saved as the benchmark saves it; reloading it needs no teacher
    import oodgen.train.distill  # noqa: F401  (registers RISE)
    stu = save_algorithm(build_algorithm("RISE", 10, {"embed_dim": 16}, seed=1), tmp_path/"student.pt")
    params = dict(seeds=[0], device="cpu", steps=5, n_images=6, n_road_images=3, n_figure_images=2,
                  sigmas=[1, 3], rotations=[20], colors=["invert"], corruptions=["gaussian_noise"], severities=[2],
                  methods=["gradcam", "eigencam"], stability_methods=["gradcam"], smoothgrad_sigmas=[0.0, 0.15],
                  smoothgrad_samples=2, road_percentiles=[50], student_checkpoint=str(stu),
                  teacher_checkpoint=str(tiny_teacher(tmp_path/"teacher.pt")))
    run = run_stage(params, tmp_path)

    mse = pd.read_csv(run/"stability_blur_mse.csv", index_col=0)
    assert list(mse.index) == ["ERM", "student", "teacher"] and list(mse.columns) == ["1.0", "3.0"]
    assert (mse.values >= 0).all() and (mse["3.0"] >= mse["1.0"]).all()          # more blur moves maps more
    md = (run/"stability_blur_mse.md").read_text()
    assert "| ERM " in md and "| student " in md
    for stem in ("stability_blur_pearson", "stability_blur_iou", "stability_all_mse", "road_combined"):
        assert (run/f"{stem}.csv").exists() and (run/f"{stem}.md").exists(), stem

    figs = {p.stem for p in (run/"figures").glob("*.png")}
    for name in ("ERM", "student", "teacher"):
        assert {f"methods_{name}", f"smoothgrad_{name}", f"shifts_{name}"} <= figs, figs
    assert {"stability_blur", "stability_shifts_mse", "teacher_attention"} <= figs

    recs = [json.loads(l) for l in (run/"metrics.jsonl").read_text().splitlines()]
    stab = [r for r in recs if r["metric"] == "heatmap_mse" and r["shift"] == "blur"]
    assert {(r["model"], r["level"]) for r in stab} == {(m, s) for m in ("ERM", "student", "teacher") for s in (1.0, 3.0)}
    assert {r["shift"] for r in recs if r["metric"] == "heatmap_iou"} == {"blur", "rotation", "invert", "gaussian_noise"}
    assert any(r["metric"] == "road_combined" for r in recs)
    # the table is a query over metrics.jsonl, not a separate computation
    erm3 = next(r["value"] for r in stab if r["model"] == "ERM" and r["level"] == 3.0)
    assert erm3 == pytest.approx(mse.loc["ERM", "3.0"])


def test_bad_inputs_say_what_to_pass():
    net = SmallCNN(10)
    with pytest.raises(ValueError, match=r"no layer 'features.20'.*pass one of"):
        saliency_model(net, layer="features.20")
    with pytest.raises(ValueError, match="no default target layer for Sequential; pass layer="):
        default_target_layer(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(2)))
    x = torch.rand(2, 3, 32, 32)
    with pytest.raises(ValueError, match=r"x\[None\]"): compute_cam(net, x[0])
    with pytest.raises(ValueError, match="divide 0..255 images by 255"): compute_cam(net, x * 255)
    with pytest.raises(ValueError, match="unnormalised"): smoothgrad(net, x - 0.5)
    with pytest.raises(ValueError, match="takes 224x224 images"): compute_cam(create_classifier("vit_b_16", 3), x)
    with pytest.raises(ValueError, match="out of range for the model's 10 outputs"): compute_cam(net, x, [0, 12])
    with pytest.raises(ValueError, match="one label"): heatmap_stability({"a": net}, x, [blur(1)], targets=[1, 2, 3])
    def grow(t): return t * 3                                             # a custom shift leaving [0, 1]
    with pytest.raises(ValueError, match="images shifted by 'grow' must be in"):
        heatmap_stability({"a": net}, x, [grow], targets=[1, 2])
    assert check_images(x) is x



def test_one_saliency_registry_holds_every_method():
    from oodgen.eval.saliency import CAM_METHODS, SALIENCY
    from oodgen.eval.stability import saliency
    assert set(CAM_METHODS) | {"smoothgrad", "guided_backprop", "guided_gradcam"} <= set(SALIENCY)
    torch.manual_seed(0); net = SmallCNN(10).eval(); x = torch.rand(2, 3, 16, 16)
    sg = smoothgrad(net, x, [1, 2], n_samples=3)                          # by name: the same maps as before
    assert torch.equal(compute_cam(net, x, [1, 2], "smoothgrad", n_samples=3), sg)
    assert torch.equal(saliency(net, x, [1, 2], "smoothgrad", n_samples=3), sg)
    for m in SALIENCY: assert compute_cam(net, x, [1, 2], m).shape == (2, 16, 16), m
    with pytest.raises(ValueError, match="unknown saliency method 'smothgrad'; known: eigencam.*smoothgrad"):
        compute_cam(net, x, method="smothgrad")
