"""The journal's pipeline on a DomainBed-layout folder it has never seen (3 domains x 3 classes, one unreadable
file, one class missing from a domain), with no teacher given: Stage 1 -> Stage 2 -> Grad-CAM. And a run leaves
the checkout as it found it."""
import hashlib, json, subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import oodgen_main

REPO = Path(__file__).resolve().parents[1]
DOMAINS, CLASSES = ("art", "photo", "sketch"), ("cat", "dog", "guitar_case")


def make_folder(root: Path, n: int = 4) -> Path:
    rng = np.random.default_rng(0)
    for d in DOMAINS:
        for k, c in enumerate(CLASSES):
            if (d, c) == ("sketch", "guitar_case"): continue          # a class missing from one domain
            (root/d/c).mkdir(parents=True)
            for i in range(n):
                img = rng.integers(0, 60, (20, 20, 3), dtype=np.uint8); img[..., k] += 150   # class = dominant channel
                Image.fromarray(img).save(root/d/c/f"{i}.png")
    (root/"photo"/"dog"/"broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return root


TINY = ["-p", "test_domains", "[art]", "-p", "seeds", "[0]", "-p", "epochs", "1", "-p", "image_size", "64",
        "-p", "steps", "5", "-p", "algorithms", "[ERM, RISE]", "-p", "cpu_threads", "1", "-p", "n_images", "6",
        "-p", "n_road_images", "2", "-p", "n_figure_images", "2", "-p", "methods", "[gradcam]",
        "-p", "teacher_methods", "[gradcam]", "-p", "stability_methods", "[gradcam]", "-p", "smoothgrad_samples", "2",
        "-p", "smoothgrad_sigmas", "[0.0, 0.1]", "-p", "road_percentiles", "[50]", "-p", "sigmas", "[1]",
        "-p", "rotations", "[20]", "-p", "colors", "[invert]", "-p", "corruptions", "[]"]


def checkout_state() -> dict:
    "Content hash and modification time of every file of the checkout that git sees (tracked or not ignored)."
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    return {f: (hashlib.sha1((REPO/f).read_bytes()).hexdigest(), (REPO/f).stat().st_mtime_ns)
            for f in files if (REPO/f).is_file()}


@pytest.mark.slow
def test_pipeline_on_a_new_folder_runs_to_the_end(tmp_path):
    data = make_folder(tmp_path/"toy")
    before = checkout_state()
    # the unreadable file stops the pipeline before any training, naming the file and the fix
    r = oodgen_main("pipeline", "-p", "dataset", data, *TINY, "--out", tmp_path, "--name", "bad", check=False)
    assert r.returncode != 0 and "broken.jpg" in r.stderr + r.stdout and "skip_corrupt" in r.stderr + r.stdout
    assert not (tmp_path/"bad"/"stage1-art"/"checkpoints").exists()
    # skipping it, the whole chain runs
    r = oodgen_main("pipeline", "-p", "dataset", data, *TINY, "-p", "skip_corrupt", "true", "--out", tmp_path, "--name", "p")
    root = tmp_path/"p"
    for f in ["stage1-art/done", "stage1-art/checkpoints/best.pt", "distill/done", "distill/results_acc.md",
              "gradcam/done", "gradcam/stability_blur_mse.md"]:
        assert (root/f).exists(), f
    ck_domains = json.loads((root/"stage1-art"/"params.json").read_text())["test_domains"]
    assert ck_domains == ["art"]
    acc = (root/"distill"/"results_acc.md").read_text()
    assert "ERM" in acc and "RISE" in acc and "art" in acc
    assert checkout_state() == before            # no run wrote into the checkout (package, notebooks, README)


def test_misspelt_pipeline_parameter_is_refused_before_any_work(tmp_path):
    r = oodgen_main("pipeline", "-p", "stepz", "5", "--out", tmp_path, "--name", "x", check=False)
    assert r.returncode == 2 and "stepz" in r.stderr and not (tmp_path/"x").exists()
    r = oodgen_main("run", "benchmark", "-p", "seed", "1", "--out", tmp_path, check=False)
    assert r.returncode == 2 and "'seed' is now 'seeds'" in r.stderr
