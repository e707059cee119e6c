"""The augmentation / shift study: the stage end to end through `oodgen run`, and the formulas against the reference
code they port (mixup-cifar10's mixup loss, CutMix's box area, DecAug's analytic gradients and orthogonality term)."""
import json
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F


def test_augstudy_stage_end_to_end(tmp_path):
    from oodgen.runs import run_stage
    params = dict(augmentations=["none", "decaug"], seeds=[0, 1], epochs=1, limit=40, batch_size=32,
                  shifts=["rotated", "grayscale", "corrupt:mnist_c/zigzag", "corrupt:fog"], severities=[1, 4],
                  shift_cache=str(tmp_path/"shifted"), device="cpu")
    run = run_stage("augstudy", params, name="aug", out=tmp_path, progress=False)
    df = pd.read_json(run/"metrics.jsonl", lines=True)
    test = df[(df.metric == "acc") & (df.split == "test")]
    # 2 augmentations x 2 seeds x (clean + 2 shifts + 2 corruptions x 2 severities)
    assert len(test) == 2 * 2 * 7 and set(test.kind) == {"clean", "shift", "corruption"}
    assert test.value.between(0, 1).all()
    val = df[(df.metric == "acc") & (df.split == "val")]
    assert len(val) == 2 * 2 and set(val.epoch) == {1}                      # one validation score per epoch
    table = pd.read_csv(run/"results_acc.csv", index_col=0)
    assert list(table.index) == ["none", "decaug"]
    assert list(table.columns) == ["clean", "rotated", "grayscale", "corruptions (mean)", "mCE", "relative_mCE"]
    assert table.loc["none", "mCE"].startswith("100.0 ± ")                 # the baseline against itself (mean over seeds)
    assert pd.read_csv(run/"corruption_acc.csv", index_col=0).index.tolist() == ["mnist_c/zigzag", "fog"]
    assert {p.stem for p in (run/"figures").glob("*.png")} == {"accuracy_on_the_line", "corruption_bars", "shift_bars"}
    assert "**rotated**" in (run/"which_helps.md").read_text()
    assert len(list((tmp_path/"shifted").glob("digits_shift_*.pt"))) == 2 + 2 * 2          # each shifted set written once
    unit = json.loads((run/"units"/"decaug_seed1.json").read_text())
    assert unit["algorithm"] == "DecAug" and unit["best_epoch"] == 1 and unit["hparams"]["batch_size"] == 32
    assert set(unit["clean_report"]) >= {"zero", "nine", "macro avg"}                      # per-class report, clean test set
    f1 = pd.read_csv(run/"results_macro_f1.csv", index_col=0)
    assert list(f1.columns) == ["clean", "rotated", "grayscale", "corruptions (mean)"]
    assert len(df[(df.metric == "macro_f1") & (df.split == "test")]) == len(test)


def test_mixup_loss_matches_reference():
    "facebookresearch/mixup-cifar10 `mixup_criterion`: lam CE(pred, y_a) + (1 - lam) CE(pred, y_b) = our soft-label CE."
    from oodgen.data.augment import mix_batch, soft_cross_entropy
    x, y = torch.rand(6, 3, 8, 8), torch.tensor([0, 1, 2, 3, 4, 5])
    xm, t = mix_batch(x, y, 7, "mixup", alpha=1.0, seed=0)
    lam = float(t[0, 0])                                  # one lam per batch; partner = previous image (roll 1)
    y_a, y_b = y, y.roll(1)
    assert torch.allclose(xm, lam * x + (1 - lam) * x[torch.arange(6).roll(1)], atol=1e-6)   # mixup_data with index = roll
    pred = torch.randn(6, 7)
    ref = lam * F.cross_entropy(pred, y_a) + (1 - lam) * F.cross_entropy(pred, y_b)
    assert torch.allclose(soft_cross_entropy(pred, t), ref, atol=1e-6)


def test_cutmix_lambda_is_the_box_area():
    "clovaai/CutMix-PyTorch: lam = 1 - box area / image area after clipping the box; soft labels sum to one."
    from oodgen.data.augment import mix_batch
    x, y = torch.rand(4, 3, 16, 16), torch.tensor([1, 2, 3, 0])
    for seed in range(5):
        xm, t = mix_batch(x, y, 4, "cutmix", seed=seed)
        pasted = (xm != x).any(1)[0]                      # the box, where the rolled image was pasted
        rows, cols = pasted.any(1).nonzero(), pasted.any(0).nonzero()
        area = 0 if len(rows) == 0 else (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert torch.allclose(t.sum(1), torch.ones(4))
        assert abs(float(t[0, y[0]]) - (1 - float(area) / 256)) < 1e-6, seed


def _decaug_public(logits_concept_softmax, gt_concept, w_tensor, w_branch, logits_category_softmax, gt_label,
                   w_tensor_l, w_branch_l, epsilon=1e-8):
    "HaoyueBaiZJU/DecAug main.py, lines 200-217 (the model's outputs are softmax probabilities there), on CPU."
    w = torch.matmul(w_tensor, w_branch)
    grad = -1 * w[gt_concept] + torch.matmul(logits_concept_softmax.detach(), w)
    grad_norm = grad / (grad.norm(2, dim=1, keepdim=True) + epsilon)
    w_l = torch.matmul(w_tensor_l, w_branch_l)
    grad_l = -1 * w_l[gt_label] + torch.matmul(logits_category_softmax.detach(), w_l)
    grad_norm_l = grad_l / (grad_l.norm(2, dim=1, keepdim=True) + epsilon)
    b, L = grad_norm_l.shape
    grad_norm = grad_norm.reshape(b, 1, L)
    grad_norm_l = grad_norm_l.reshape(b, L, 1)
    loss_orth = ((torch.bmm(grad_norm, grad_norm_l)) ** 2).sum()
    grad_aug = -1 * w_tensor[gt_concept] + torch.matmul(logits_concept_softmax.detach(), w_tensor)
    return loss_orth, grad_aug


def test_decaug_matches_public_code():
    "Our gradients (from logits) and orthogonality term equal the public code's (from its softmax outputs)."
    from oodgen.train.augmentation import ce_feature_gradient, orthogonality_loss
    g = torch.Generator().manual_seed(0)
    B, D, C, K = 5, 6, 4, 3
    f = torch.randn(B, D, generator=g, dtype=torch.float64)
    Bc, Bx, Wc, Wx = (torch.randn(D, D, generator=g, dtype=torch.float64), torch.randn(D, D, generator=g, dtype=torch.float64),
                      torch.randn(C, D, generator=g, dtype=torch.float64), torch.randn(K, D, generator=g, dtype=torch.float64))
    y, ctx = torch.randint(0, C, (B,), generator=g), torch.randint(0, K, (B,), generator=g)
    l_cat, l_ctx = (f @ Bc.T) @ Wc.T, (f @ Bx.T) @ Wx.T
    ref_orth, ref_aug = _decaug_public(l_ctx.softmax(1), ctx, Wx, Bx, l_cat.softmax(1), y, Wc, Bc)
    ours = orthogonality_loss(ce_feature_gradient(l_cat, y, Wc @ Bc), ce_feature_gradient(l_ctx, ctx, Wx @ Bx))
    assert torch.allclose(ours, ref_orth, atol=1e-10)
    assert torch.allclose(ce_feature_gradient(l_ctx, ctx, Wx), ref_aug, atol=1e-10)


def test_shifted_sets_deterministic_per_seed(tmp_path):
    from torch.utils.data import Subset
    from oodgen.augstudy import clean_study, shifted_set, study_shifts
    test = Subset(clean_study().test, range(16))
    for spec in study_shifts("digits_shift", ["colored", "rotated", "corrupt:mnist_c/shear"]):
        a = shifted_set(test, spec, 3, tmp_path/"a").images
        assert torch.equal(a, shifted_set(test, spec, 3, tmp_path/"b").images)
        assert not torch.equal(a, shifted_set(test, spec, 4, tmp_path/"a").images)


def test_mce_hand_table():
    from oodgen.augstudy import mean_corruption_error
    err = pd.DataFrame({1: [0.1, 0.5], 2: [0.3, 0.7], 3: [0.5, 0.9]}, index=["noise", "blur"])
    base = pd.DataFrame({1: [0.2, 0.5], 2: [0.4, 0.5], 3: [0.6, 0.5]}, index=["noise", "blur"])
    m = mean_corruption_error(err, 0.05, base, 0.1)
    ce = {"noise": 0.9 / 1.2, "blur": 2.1 / 1.5}
    rce = {"noise": (0.9 - 3 * 0.05) / (1.2 - 3 * 0.1), "blur": (2.1 - 3 * 0.05) / (1.5 - 3 * 0.1)}
    assert np.isclose(m["mCE"], 100 * np.mean(list(ce.values())))
    assert np.isclose(m["relative_mCE"], 100 * np.mean(list(rce.values())))


def test_mnist5k_split_balanced_fixed_disjoint():
    "mnist5k: 400 / 100 per class, the same split every time (a seeded permutation per class), train and test disjoint."
    from oodgen.data.domains import get_dataset, mnist5k_arrays, mnist5k_split
    x, y = mnist5k_arrays()
    assert x.shape == (5000, 28, 28, 1) and np.bincount(y).tolist() == [500] * 10
    tr, te = mnist5k_split(y)
    assert np.bincount(y[tr]).tolist() == [400] * 10 and np.bincount(y[te]).tolist() == [100] * 10
    assert not set(tr.tolist()) & set(te.tolist())
    assert np.array_equal(te, get_dataset("mnist5k").split[1]) and np.array_equal(tr, mnist5k_split(y, seed=0)[0])
    small_tr, small_te = mnist5k_split(y, (40, 10))
    assert len(small_tr) == 400 and set(small_te.tolist()) <= set(range(5000))


def _write_mnist_raw(folder, n_train=200, n_test=60):
    "A torchvision-layout MNIST folder (<folder>/MNIST/raw, idx files) holding mnist5k digits."
    from oodgen.data.domains import mnist5k_arrays, mnist5k_split
    x, y = mnist5k_arrays()                               # the file is sorted by label: take every class
    raw = folder/"MNIST"/"raw"; raw.mkdir(parents=True)
    def idx(path, a): path.write_bytes(bytes([0, 0, 8, a.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in a.shape) + a.tobytes())
    for p, sel in zip(("train", "t10k"), mnist5k_split(y, (n_train // 10, n_test // 10))):
        idx(raw/f"{p}-images-idx3-ubyte", np.ascontiguousarray(x[sel, :, :, 0])); idx(raw/f"{p}-labels-idx1-ubyte", y[sel].astype(np.uint8))
    return folder


def test_augstudy_seed003_protocol_on_mnist_folder(tmp_path):
    "Seed 003, Problem 2: `oodgen run augstudy -p dataset mnist -p data_root <folder> -p backbone mnist_cnn -p optimizer sgd -p lr 0.1 ...`."
    from oodgen.cli import main
    root = _write_mnist_raw(tmp_path/"data")
    args = ["run", "augstudy", "--out", str(tmp_path/"runs"), "--name", "p2", "--quiet"]
    for k, v in dict(dataset="mnist", data_root=str(root), backbone="mnist_cnn", optimizer="sgd", lr="0.1", epochs="1",
                     augmentations="[none]", shifts="[colored, grayscale, rotated]", seeds="[0]",
                     shift_cache=str(tmp_path/"shifted"), device="cpu").items():
        args += ["-p", k, v]
    main(args)
    run = tmp_path/"runs"/"p2"
    table = pd.read_csv(run/"results_acc.csv", index_col=0)
    assert list(table.columns) == ["clean", "colored", "grayscale", "rotated"] and list(table.index) == ["none"]
    test = pd.read_json(run/"metrics.jsonl", lines=True).query("metric == 'acc' and split == 'test'")
    assert len(test) == 4 and test.value.between(0, 1).all()
    unit = json.loads((run/"units"/"none_seed0.json").read_text())
    assert unit["hparams"]["backbone"] == "mnist_cnn" and unit["hparams"]["batch_size"] == 64
    sets = sorted(p.name.split("_seed")[0] for p in (tmp_path/"shifted").glob("*.pt"))
    assert sets == ["mnist_colored", "mnist_grayscale", "mnist_rotated"]
    from oodgen.augstudy import shifted_set, study_shifts, clean_study
    cs = clean_study("mnist", root)
    assert len(cs.test) == 60 and len(cs.train) + len(cs.val) == 200
    gray = shifted_set(cs.test, study_shifts("mnist", ["grayscale"])[0], 0, tmp_path/"shifted", study="mnist").images
    assert torch.equal(gray[:, 0], gray[:, 2]) and gray.shape == (60, 3, 28, 28)


def test_augstudy_mnist5k_runs_offline(tmp_path):
    "`-p dataset mnist5k` needs no data root; a tiny run (limit, 1 epoch) with a computed MNIST-C corruption."
    from oodgen.runs import run_stage
    params = dict(dataset="mnist5k", backbone="mnist_cnn", optimizer="sgd", lr=0.1, epochs=1, augmentations=["none"], seeds=[0],
                  shifts=["colored", "corrupt:mnist_c/zigzag"], limit=50, val_fraction=0.9, shift_cache=str(tmp_path/"s"), device="cpu")
    run = run_stage("augstudy", params, name="m5", out=tmp_path, progress=False)
    table = pd.read_csv(run/"results_acc.csv", index_col=0)
    assert list(table.columns)[:2] == ["clean", "colored"] and "corruptions (mean)" in table.columns


def test_augstudy_with_no_shifts_tests_on_the_clean_split_only(tmp_path):
    "`-p shifts []` is a valid request (issue 28): the clean test split alone, no shifted set built."
    from oodgen.cli import main
    args = ["run", "augstudy", "--out", str(tmp_path), "--name", "e", "--quiet"]
    for k, v in dict(dataset="mnist5k", epochs="1", augmentations="[none]", shifts="[]", seeds="[0]", limit="100",
                     shift_cache=str(tmp_path/"shifted"), device="cpu").items():
        args += ["-p", k, v]
    main(args)
    table = pd.read_csv(tmp_path/"e"/"results_acc.csv", index_col=0)
    assert list(table.columns) == ["clean"] and list(table.index) == ["none"]
    assert not (tmp_path/"shifted").exists() or not any((tmp_path/"shifted").iterdir())
