"""Values that used to fail only once a stage's kernel ran (issue 28): each is now refused before any work, with a
message naming the parameter and what it must be (`oodgen.runs.PARAMETER_RULES`), and no kernel starts."""
import pytest
from conftest import oodgen_main
from oodgen.runs import check_values, find_stage, notebook_parameters
from oodgen.runs import CLIError

CASES = [  # (stage, parameter, value, words in the message)
    ("zeroshot", "methods", [], "non-empty list of methods"),
    ("zeroshot", "lp_Cs", [], "non-empty list of positive inverse regularization"),
    ("zeroshot", "soup_seeds", 0, "at least 1 seed per soup"),
    ("probes", "imagenet_backbone", "efficientnet_lite", "registered image encoder"),
    ("probes", "n_images", 0, "positive number of held-out images"),
    ("gradcam", "n_images", 0, "positive number of images for the stability tables"),
    ("augstudy", "shift_cache", "{file}", "not a file"),
    ("diffusion", "to_keep", [0, 1], "each at least 1"),
    ("diffusion", "widths", [], "non-empty list of positive UNet block widths"),
    ("contrastive", "grad_accum", 0, "at least 1 (batches per optimizer step)"),
    ("diffusion", "n_samples", [8, 4], "increasing list"),
    ("diffusion", "n_trials", 0, "at least 1 noise draw"),
    ("augstudy", "hparams", {"cutout_length": -4}, "numbers are >= 0"),
]

def judge(stage, name, value):
    nb = find_stage(stage)
    return check_values({name: value}, notebook_parameters(nb), nb.stem)

@pytest.mark.parametrize("stage,name,value,words", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_refused_before_the_kernel(tmp_path, stage, name, value, words):
    if value == "{file}": (tmp_path/"cache.pt").write_text("x"); value = str(tmp_path/"cache.pt")
    with pytest.raises(CLIError, match=rf"parameter '{name}' of stage .*got .*expected .*{words.replace('(', '.').replace(')', '.')}"):
        judge(stage, name, value)

def test_valid_neighbours_still_pass(tmp_path):
    "The rules refuse only what cannot work: the documented special values pass."
    assert judge("probes", "imagenet_backbone", "")["imagenet_backbone"] == ""       # "": no ImageNet probe
    assert judge("corruptions", "n_images", 0)["n_images"] == 0                      # 0: all images there
    assert judge("augstudy", "shift_cache", str(tmp_path)) and judge("augstudy", "shift_cache", None)
    assert judge("diffusion", "n_samples", [10, 50]) and judge("augstudy", "hparams", {"cutout_length": 8})
    assert judge("augstudy", "shifts", [])["shifts"] == []                            # clean test only: a valid request

def test_cli_refuses_before_the_kernel_starts(tmp_path):
    "End to end through `oodgen run`: exit status 2, the message, and no executed notebook in the run folder."
    r = oodgen_main("run", "diffusion", "-p", "n_samples", "[8, 4]", "--out", tmp_path, "--name", "d", check=False)
    assert r.returncode == 2 and "increasing list" in r.stderr and "Traceback" not in r.stderr
    assert not list(tmp_path.rglob("*.ipynb"))

def test_pipeline_refuses_a_cam_that_would_be_1x1_before_stage1(tmp_path):
    "`oodgen pipeline -p dataset <48 px images> -p image_size 32` failed at the very end, in the Grad-CAM stage."
    import numpy as np
    from PIL import Image
    for d in ("art", "photo"):
        for c in ("cat", "dog"):
            (tmp_path/"data"/d/c).mkdir(parents=True)
            for k in range(2): Image.fromarray(np.full((48, 48, 3), 40 * k, np.uint8)).save(tmp_path/"data"/d/c/f"{k}.png")
    r = oodgen_main("pipeline", "-p", "dataset", tmp_path/"data", "-p", "image_size", "32", "-p", "device", "cpu",
                   "--out", tmp_path/"runs", "--name", "p", check=False)
    assert r.returncode == 2 and "gives a 1x1 map" in r.stderr and "image_size" in r.stderr, r.stderr[-2000:]
    assert not list((tmp_path/"runs").rglob("*.ipynb"))                     # Stage 1 never started
