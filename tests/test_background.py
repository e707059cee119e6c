"""The background-shortcut study (seed 004): the data hold the configured correlations, the worst-group metric
matches a hand computation, bad parameters end before any work, and the stage runs end to end through `oodgen run`."""
import json
import numpy as np
import pandas as pd
import pytest
import torch

from conftest import oodgen_main

TINY = {"classes": "[3, 7]", "backgrounds": "[brick, grass]", "source": "digits", "n_train": 120, "image_size": 24,
        "object_size": 14, "steps": 5, "batch_size": 16, "n_cam": 8, "n_cam_figure": 2, "device": "cpu",
        "methods": "[erm, crop_mask, GroupDRO]", "seeds": "[0, 1]"}


@pytest.mark.parametrize("corr", [0.95, 0.5, 0.0])
def test_data_hold_the_configured_correlation(corr):
    from oodgen.background import shortcut_data
    d = shortcut_data([0, 1, 2], ["brick", "grass", "gravel"], corr, None, n_train=300, image_size=24, object_size=14,
                      source="digits")
    for s in ("train", "val", "id_test"):
        lab, bg = d[s].labels, d[s].backgrounds
        for c in range(3):
            n = int((lab == c).sum()); own = int(((lab == c) & (bg == c)).sum())
            assert own == round(corr * n), (s, c, own, n)
            others = [int(((lab == c) & (bg == b)).sum()) for b in range(3) if b != c]
            assert max(others) - min(others) <= 1                  # the rest spread evenly over the other backgrounds
    t = d["test"]                                                  # None: every test digit on every background
    assert torch.bincount(t.groups, minlength=9).tolist() == [int((d["id_test"].labels == c).sum()) for c in range(3) for _ in range(3)]
    # the pasted images are the background crop outside the ink, and the boxes hold all the ink
    outside = (t.alpha == 0).expand_as(t.images)
    assert torch.equal(t.images[outside], t.background_only[outside])
    for a, (x1, y1, x2, y2) in zip(t.alpha[:, 0] > 0.25, t.boxes.tolist()):
        assert a.sum() == a[y1:y2, x1:x2].sum() and a[y1:y2, x1:x2].any(0).all() and a[y1:y2, x1:x2].any(1).all()


def test_worst_group_accuracy_by_hand():
    from oodgen.background import group_accuracies, shortcut_scores, worst_group_accuracy
    rng = np.random.default_rng(0)
    labels, groups = rng.integers(0, 3, 200), rng.integers(0, 6, 200)
    preds = np.where(rng.random(200) < 0.7, labels, (labels + 1) % 3)
    hand = {}
    for g in range(6):                                             # a loop over the images, as one would by hand
        right = total = 0
        for p, y, gg in zip(preds, labels, groups):
            if gg == g: total += 1; right += int(p == y)
        if total: hand[g] = right / total
    assert group_accuracies(preds, labels, groups) == pytest.approx(hand)
    assert worst_group_accuracy(preds, labels, groups) == pytest.approx(min(hand.values()))
    s = shortcut_scores(preds, labels, groups)
    assert s["avg_acc"] == pytest.approx(np.mean(preds == labels)) and s["group_mean_acc"] == pytest.approx(np.mean(list(hand.values())))
    # a group that is absent does not count as 0
    assert worst_group_accuracy([1, 1], [1, 1], [4, 4]) == 1.0


def test_cam_mass_share_back_in_the_full_frame():
    "A crop model's map goes back into the crop's place: all its mass lies on the box; an even map has the area share."
    from oodgen.background import box_masks, full_frame, mass_share
    boxes = torch.tensor([[4, 6, 12, 16], [0, 0, 5, 5]])
    region = box_masks(boxes, (20, 20))
    maps = full_frame(torch.rand(2, 20, 20) + 0.1, boxes, "crop")
    assert torch.allclose(mass_share(maps, region), torch.ones(2))
    assert torch.allclose(mass_share(torch.ones(2, 20, 20), region), torch.tensor([80 / 400, 25 / 400]))


@pytest.mark.parametrize("name,value,words", [
    ("train_correlation", "1.2", "expected a share in [0, 1]"), ("test_correlation", "-0.1", "or null for every test object"),
    ("methods", "[erm, cropp]", "a non-empty list of erm, crop, mask"), ("methods", "[]", "a non-empty list"),
    ("classes", "[3, 3]", "two different digits"), ("max_saturation", "2", "a saturation in [0, 1]"),
    ("source", "svhn", "mnist5k or digits")])
def test_bad_parameters_end_before_work(tmp_path, name, value, words):
    r = oodgen_main("run", "background", "-p", name, value, "--out", tmp_path, "--name", "bad", check=False)
    assert r.returncode == 2 and words in r.stderr, r.stderr
    assert not (tmp_path/"bad").exists()                           # refused before the run folder is made


def test_cross_parameter_errors_in_the_first_cell(tmp_path):
    """Checks across parameters end in the stage's first cell, before any data or training: the first cell calls
    `check_study` (one run through `oodgen run` shows it), and `check_study` holds each check (called here, no kernel)."""
    from oodgen.background import check_study
    from oodgen.runs import STAGES
    import oodgen.train.algorithms  # noqa: F401  (registers GroupDRO, as the stage's imports do)
    r = oodgen_main("run", "background", "-p", "hparams", "{groupdro_eta: 0.1}", "-p", "methods", "[erm, mask]", "--out", tmp_path,
                    "--name", "hp", "--quiet", check=False)
    assert r.returncode != 0 and "failed in cell" in r.stderr and "belong to none of the methods' algorithms" in r.stderr + r.stdout
    assert not (tmp_path/"hp"/"metrics.jsonl").exists()          # a typo is not dropped silently, and nothing ran before
    d = STAGES["background"].defaults
    args = lambda **kw: {k: kw.get(k, d[k]) for k in ("classes", "backgrounds", "methods", "hparams", "image_size", "object_size")}
    with pytest.raises(ValueError, match="give one background per class"):
        check_study(**args(classes=[3, 7, 1], backgrounds=["brick", "grass"]))
    with pytest.raises(ValueError, match="no sample image 'bricks'"):
        check_study(**args(backgrounds=["brick", "bricks", "grass"]))
    check_study(**args())                                          # the defaults pass


def test_background_stage_end_to_end(tmp_path):
    args = [a for k, v in TINY.items() for a in ("-p", k, str(v))]
    oodgen_main("run", "background", *args, "--out", tmp_path, "--name", "bg", "--quiet")
    run = tmp_path/"bg"
    df = pd.read_json(run/"metrics.jsonl", lines=True)
    scores = df[df.metric.isin(["avg_acc", "worst_group_acc", "group_mean_acc"])]
    assert len(scores) == 3 * 2 * 3 * 2 and scores.value.between(0, 1).all()  # 3 methods x 2 sets x 3 metrics x 2 seeds
    wg = scores[scores.metric == "worst_group_acc"].set_index(["method", "set", "seed"]).value
    ga = df[df.metric == "group_acc"].groupby(["method", "set", "seed"]).value.min()
    assert np.allclose(wg.sort_index(), ga.sort_index())                      # worst group = min of the groups logged
    sizes = df[(df.metric == "group_size") & (df.set == "test")].value
    assert len(sizes) == 4 and (sizes.to_numpy().reshape(2, 2).std(1) == 0).all()   # every test digit on both backgrounds
    table = pd.read_csv(run/"results.csv", index_col=0)
    assert list(table.index) == ["erm", "crop_mask", "GroupDRO"]
    assert {"shifted test worst group", "in-distribution average", "Grad-CAM on box"} <= set(table.columns)
    assert table.loc["crop_mask", "Grad-CAM on box"] == pytest.approx(100.0)  # a crop model's map lies in the box
    assert (run/"results.md").read_text().count("|") > 10 and (run/"results_std.md").exists()   # two seeds: their spread too
    assert {p.stem for p in (run/"figures").glob("*.png")} == {"accuracy_bars", "gradcam", "groups"}
    assert json.loads((run/"params.json").read_text())["steps"] == 5
