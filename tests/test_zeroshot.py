"""The zero-shot / robust fine-tuning stage (41_zeroshot) and its methods (27_train.finetune): end to end through the run
machinery on a tiny random Stage 1 teacher, and the formulas against the reference code (wise-ft, model-soups) ported here."""
import json, os
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F


def tiny_teacher(path, train_domains):
    "A random Stage 1 teacher small enough for a test (resnet18 at 32 px, a one-layer DistilBERT)."
    from oodgen.models.cross_attention import ImageTextMatcher, save_teacher
    from oodgen.models.encoders import create_image_encoder, create_text_encoder
    torch.manual_seed(0)
    ie = create_image_encoder("resnet18", pretrained=False, trainable=False, input_size=32)
    te = create_text_encoder("distilbert-base-uncased", pretrained=False, trainable=False,
                             config=dict(dim=32, n_layers=1, n_heads=2, hidden_dim=64))
    return save_teacher(ImageTextMatcher(ie, te, embed_dim=16, heads=2).eval(), path, train_domains=train_domains)


TINY = {"test_domains": ["rotated"], "seeds": [0, 1], "steps": 6, "batch_size": 32, "warmup_steps": 2,
        "lp_Cs": [0.1, 10.0], "alphas": [0.0, 0.5, 1.0], "soup_lrs": [1e-3, 1e-2], "car_lambdas": [0.1, 1.0],
        "template_sets": ["photo", "dataset"], "device": "cpu"}


@pytest.fixture(scope="module")
def stage_run(tmp_path_factory):
    "The stage run end to end (`oodgen.runs.run_stage`) on a tiny random teacher that never saw `rotated`."
    from oodgen.runs import run_stage
    root = tmp_path_factory.mktemp("zeroshot")
    teacher = tiny_teacher(root/"teacher.pt", ["gray", "colored", "inverted"])
    return run_stage("zeroshot", {**TINY, "teacher": str(teacher), "baselines": str(baseline_run(root/"bench"))},
                     name="tiny", out=root, progress=False)


def baseline_run(folder):
    "A hand-made benchmark / distill run's records: ERM and RISE units held out on `rotated`, seeds 0 and 1."
    folder.mkdir(parents=True)
    recs = [dict(metric="acc", value=acc + 0.01 * seed if d == "rotated" else 0.9, algorithm=alg, test_domain="rotated",
                 trial=0, seed=seed, step=5, domain=d, split="in" if d == "rotated" else "out")
            for alg, acc in (("ERM", 0.30), ("RISE", 0.40)) for seed in (0, 1) for d in ("gray", "colored", "inverted", "rotated")]
    (folder/"metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    return folder


def _acc(df, method, split, **tags):
    d = df[(df.metric == "acc") & (df.method == method) & (df.split == split)]
    for k, v in tags.items(): d = d[d[k] == v]
    return d.sort_values("seed").value.to_numpy()


def test_stage_end_to_end(stage_run):
    from oodgen.core import read_metrics
    from oodgen.zeroshot import METHODS
    run = stage_run
    df = read_metrics(run)
    assert set(METHODS) | {"soup_best", "zeroshot[photo]", "zeroshot[dataset]"} <= set(df.method.dropna())
    assert set(df.test_domain.dropna()) == {"rotated"} and set(df.seed.dropna()) == {0, 1}
    for f in ("results_ood.md", "results_id.md", "results_context.md", "results_templates.md", "anchors.md", "verdict.md",
              "figures/wise_ft_curve.png", "figures/accuracy_on_the_line.png", "figures/context_recognition.png"):
        assert (run/f).exists(), f
    table = (run/"results_ood.md").read_text()
    assert "| WiSE-FT " in table and "±" in table
    # WiSE-FT's ends are the zero-shot and the fine-tuned models, exactly (same data, same seed)
    for split in ("val", "test"):
        np.testing.assert_array_equal(_acc(df, "WiSE-FT", split, alpha=0.0), _acc(df, "zeroshot", split))
        np.testing.assert_array_equal(_acc(df, "WiSE-FT", split, alpha=1.0), _acc(df, "FT", split))
    # the greedy soup never does worse on its held-out (training-domain) split than its best single ingredient
    assert (_acc(df, "soup_greedy", "val") >= _acc(df, "soup_best", "val")).all()
    # every CAR-FT lambda is recorded; the table's CAR-FT row is the one best on training-domain validation
    assert sorted(df[df.method == "CAR-FT"]["lambda"].unique()) == [0.1, 1.0]
    # CAR-FT + WiSE-FT: alpha 1 is CAR-FT, alpha 0 the zero-shot model, for every lambda
    for lam in (0.1, 1.0):
        np.testing.assert_array_equal(_acc(df, "CAR-FT+WiSE-FT", "test", alpha=1.0, **{"lambda": lam}), _acc(df, "CAR-FT", "test", **{"lambda": lam}))
        np.testing.assert_array_equal(_acc(df, "CAR-FT+WiSE-FT", "test", alpha=0.0, **{"lambda": lam}), _acc(df, "zeroshot", "test"))
    assert (_acc(df, "CAR-FT+soup_greedy", "val") >= _acc(df, "CAR-FT+soup_best", "val")).all()
    # context recognition: one record per model and seed, in the table's `context` column and its own table
    ctx = df[df.metric == "ctx_acc"]
    assert set(ctx.split) == {"context"} and ctx.value.between(0, 1).all()
    assert {"zeroshot", "FT", "CAR-FT"} <= set(ctx.method) and "zeroshot_cross" not in set(ctx.method)
    ood = pd.read_csv(run/"results_ood.csv", index_col=0)
    assert "±" in ood.loc["FT", "context"] and ood.loc["zeroshot_cross", "context"] == "-"
    assert "Context recognition (chance 25 %): zeroshot" in (run/"verdict.md").read_text()
    params = json.loads((run/"params.json").read_text())
    assert params["teacher"].endswith("teacher.pt")
    # the baseline run's units stand in the comparison table beside this run's methods (held-out accuracy, %)
    cmp = pd.read_csv(run/"comparison.csv", index_col=0)
    assert cmp.loc["RISE student (baseline run)", "avg"] == "40.5 ± 0.5" and cmp.loc["ERM (baseline run)", "rotated"] == "30.5 ± 0.5"
    assert "LPFT" in cmp.index


def test_bad_input_fails_early(tmp_path):
    from oodgen.runs import CLIError, run_stage
    from oodgen.zeroshot import image_text_model, run_methods, template_set
    with pytest.raises((ValueError, CLIError), match="known: zeroshot"):
        run_stage("zeroshot", {"methods": ["ZS"], "teacher": "x", "test_domains": ["rotated"]}, name="bad", out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="without a text tower"): image_text_model("efficientnet_lite0")
    with pytest.raises(ValueError, match="known: photo, simple_imagenet"): template_set("imagenet")
    leaky = tiny_teacher(tmp_path/"leaky.pt", ["gray", "colored", "rotated", "inverted"])
    with pytest.raises(ValueError, match=r"held-out domain\(s\) \['rotated'\]"): image_text_model(str(leaky), ["rotated"])


# ---- formulas against the reference code -------------------------------------------------------------------

def wise_ft_zeroshot_head(clip_model, classnames, template):
    "wise-ft src/models/zeroshot.py `get_zeroshot_classifier` (mlfoundations/wise-ft), ported: the head's weights."
    import clip
    logit_scale = clip_model.logit_scale
    with torch.no_grad():
        zeroshot_weights = []
        for classname in classnames:
            texts = clip.tokenize([t(classname) for t in template])
            embeddings = clip_model.encode_text(texts)
            embeddings /= embeddings.norm(dim=-1, keepdim=True)
            embeddings = embeddings.mean(dim=0, keepdim=True)
            embeddings /= embeddings.norm()
            zeroshot_weights.append(embeddings)
        zeroshot_weights = torch.stack(zeroshot_weights, dim=0)
        zeroshot_weights = torch.transpose(zeroshot_weights, 0, 2)
        zeroshot_weights *= logit_scale.exp()
        zeroshot_weights = zeroshot_weights.squeeze().float()
        zeroshot_weights = torch.transpose(zeroshot_weights, 0, 1)
    return zeroshot_weights


def test_zeroshot_head_equals_wise_ft_on_tiny_clip():
    from oodgen.models.encoders import load_clip
    from oodgen.zeroshot import clip_model, zeroshot_classifier
    from open_clip import SIMPLE_IMAGENET_TEMPLATES
    kw = dict(embed_dim=16, vision_layers=(1, 1, 1, 1), vision_width=16, image_resolution=32, transformer_width=32,
              transformer_heads=2, transformer_layers=1)
    torch.manual_seed(0); raw, _ = load_clip("RN50", pretrained=False, **kw)
    torch.manual_seed(0); ours = clip_model("RN50", pretrained=False, **kw)
    names = ["cat", "dog", "sea turtle"]
    ref = wise_ft_zeroshot_head(raw.eval(), names, SIMPLE_IMAGENET_TEMPLATES)
    clf = zeroshot_classifier(ours, names, SIMPLE_IMAGENET_TEMPLATES)
    torch.testing.assert_close(clf.head.weight, ref, rtol=1e-5, atol=1e-5)
    assert torch.equal(clf.head.bias, torch.zeros(3))
    x = torch.rand(2, 3, 32, 32)           # wise-ft ClassificationHead: normalise the image feature, then the linear map
    feats = ours.image_tower(x)
    torch.testing.assert_close(clf(x), (feats / feats.norm(dim=-1, keepdim=True)) @ ref.T, rtol=1e-4, atol=1e-4)


def test_wise_ft_matches_reference_merge_and_endpoints():
    "wise-ft src/wise_ft.py `_merge`: {k: (1 - alpha) * theta_0[k] + alpha * theta_1[k]}."
    from oodgen.train.finetune import wise_ft
    torch.manual_seed(0)
    net = lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(2))
    a, b = net(), net()
    x = torch.randn(2, 3, 6, 6); a(x); b.train(); b(x); b(x)
    t0, t1 = a.state_dict(), b.state_dict()
    for alpha in (0.0, 0.25, 0.5, 1.0):
        ours = wise_ft(t0, t1, alpha)
        for k in t0:
            if t0[k].is_floating_point():
                torch.testing.assert_close(ours[k], (1 - alpha) * t0[k] + alpha * t1[k], rtol=0, atol=1e-7)
            else: assert ours[k].dtype == t0[k].dtype
    for k in t0:
        assert torch.equal(wise_ft(t0, t1, 0.0)[k], t0[k]) and torch.equal(wise_ft(t0, t1, 1.0)[k], t1[k])


def model_soups_greedy(states, evaluate):
    "model-soups main.py greedy soup (mlfoundations/model-soups), ported: running average, strict improvement."
    scores = {i: evaluate(s) for i, s in enumerate(states)}
    sorted_models = sorted(scores, key=lambda i: scores[i], reverse=True)
    greedy_soup_ingredients = [sorted_models[0]]
    greedy_soup_params = states[sorted_models[0]]
    best_val_acc_so_far = scores[sorted_models[0]]
    for i in range(1, len(states)):
        new_ingredient_params = states[sorted_models[i]]
        num_ingredients = len(greedy_soup_ingredients)
        potential = {k: greedy_soup_params[k].clone() * (num_ingredients / (num_ingredients + 1.)) +
                        new_ingredient_params[k].clone() * (1. / (num_ingredients + 1)) for k in new_ingredient_params}
        held_out_val_accuracy = evaluate(potential)
        if held_out_val_accuracy > best_val_acc_so_far:
            greedy_soup_ingredients.append(sorted_models[i]); best_val_acc_so_far = held_out_val_accuracy
            greedy_soup_params = potential
    return greedy_soup_params, greedy_soup_ingredients


def test_greedy_soup_matches_model_soups_and_never_lowers_held_out_accuracy():
    from oodgen.train.finetune import greedy_soup, uniform_soup
    torch.manual_seed(0)
    X, w_true = torch.randn(300, 6), torch.randn(6, 3)
    y = (X @ w_true).argmax(1)
    acc = lambda s: float(((X @ s["w"]).argmax(1) == y).float().mean())       # the held-out (training-domain) split
    states = [{"w": w_true + s * torch.randn(6, 3)} for s in (0.6, 0.8, 1.0, 3.0, 0.7, 5.0)]
    soup, chosen, history = greedy_soup(states, acc)
    ref_soup, ref_chosen = model_soups_greedy(states, acc)
    assert chosen == ref_chosen
    torch.testing.assert_close(soup["w"], ref_soup["w"])
    assert all(b > a for a, b in zip(history, history[1:])) and acc(soup) >= max(acc(s) for s in states)
    torch.testing.assert_close(uniform_soup(states)["w"], torch.stack([s["w"] for s in states]).mean(0))


def test_linear_probe_chooses_C_on_validation_only():
    from sklearn.linear_model import LogisticRegression
    from oodgen.train.finetune import linear_probe
    rng = np.random.default_rng(1)
    tx = rng.normal(size=(200, 4)); ty = (tx[:, 0] > 0).astype(int)
    vx = rng.normal(size=(100, 4))
    Cs = [1e-3, 1e-1, 10.0]
    for vy in ((vx[:, 0] > 0).astype(int), (vx[:, 2] > 0).astype(int)):
        probe, scores = linear_probe(tx, ty, vx, vy, Cs)
        expect = {C: (LogisticRegression(C=C, max_iter=1000).fit(tx, ty).predict(vx) == vy).mean() for C in Cs}
        assert scores == pytest.approx(expect)
        assert probe.C == max(Cs, key=lambda C: (expect[C], -Cs.index(C)))


def test_car_ft_kl_is_zero_shot_to_fine_tuned():
    "KL(p_zs || p_ft) with the logit scale on both softmaxes; gradient in the fine-tuned logits = scale * (p_ft - p_zs) / B."
    from oodgen.train.finetune import car_ft_kl
    torch.manual_seed(0)
    ctx = F.normalize(torch.randn(5, 8), dim=-1)
    fz = F.normalize(torch.randn(4, 8), dim=-1)
    logits_ft = (20 * F.normalize(torch.randn(4, 8), dim=-1) @ ctx.T).requires_grad_()
    # through the features: check the value against the explicit sum
    ff = F.normalize(torch.randn(4, 8), dim=-1)
    p, q = (20 * fz @ ctx.T).softmax(-1), (20 * ff @ ctx.T).softmax(-1)
    torch.testing.assert_close(car_ft_kl(ff, fz, ctx, 20.0), (p * (p / q).log()).sum(-1).mean())
    lp = F.log_softmax(20 * fz @ ctx.T, -1)
    # through the logits: car_ft_kl on identity contexts at scale 1 takes them as they are
    loss = car_ft_kl(logits_ft, 20 * fz @ ctx.T, torch.eye(5), 1.0)
    loss.backward()
    torch.testing.assert_close(logits_ft.grad, (logits_ft.detach().softmax(-1) - lp.exp()) / 4)


def test_finetune_all_trains_on_images(tmp_path):
    "`finetune='all'`: the towers train and evaluate on images (no cached features); WiSE-FT's ends still match."
    from oodgen.data.domains import DigitsShift, split_domains
    from oodgen.zeroshot import image_text_model, run_methods
    t = tiny_teacher(tmp_path/"t.pt", ["gray"])
    from torch.utils.data import Subset
    ds = DigitsShift(domains=["gray", "rotated"])
    ds.datasets = [Subset(d, range(60)) for d in ds.datasets]        # 60 images a domain: the path, not the numbers
    sp = split_domains(ds, ["rotated"], seed=0)
    recs = run_methods(image_text_model(str(t), ["rotated"]), ds, sp, methods=["zeroshot", "FT", "WiSE-FT"],
                       finetune="all", steps=2, batch_size=16, alphas=[0.0, 1.0])
    acc = {(m, s, tags.get("alpha")): v for m, s, v, tags in recs}
    assert acc[("WiSE-FT", "test", 0.0)] == acc[("zeroshot", "test", None)]
    assert acc[("WiSE-FT", "test", 1.0)] == acc[("FT", "test", None)]
    with pytest.raises(ValueError, match="known: tower, all"):
        run_methods(image_text_model(str(t), ["rotated"]), ds, sp, methods=["zeroshot"], finetune="everything")


def test_a_loaded_frozen_teacher_is_fine_tuned_in_its_copy(tmp_path):
    "Stage1Teacher loads the teacher with requires_grad off: FT, CAR-FT and FLYP must still train the copied tower."
    from oodgen.data.domains import DigitsShift, split_domains
    from oodgen.train.finetune import finetune_classifier
    from oodgen.zeroshot import image_text_model, split_inputs, zeroshot_classifier
    from torch.utils.data import Subset
    m = image_text_model(str(tiny_teacher(tmp_path/"t.pt", ["gray"])), ["rotated"])
    assert not any(p.requires_grad for p in m.top.parameters())
    ds = DigitsShift(domains=["gray", "rotated"]); ds.datasets = [Subset(d, range(40)) for d in ds.datasets]
    data = split_inputs(m, split_domains(ds, ["rotated"]), on_features=True)
    clf = zeroshot_classifier(m, ds.classes, ["a {}"], on_features=True)
    before = {k: v.clone() for k, v in clf.state_dict().items()}
    finetune_classifier(clf, data["train"], steps=3, batch_size=8)
    assert not torch.equal(clf.tower.proj.weight, before["tower.proj.weight"])


@pytest.mark.longrun
def test_the_journal_comparison(tmp_path):
    """Issue 13's comparison on one pretrained backbone (ImageNet EfficientNet-Lite0), 3 seeds x every held-out Digits-Shift
    domain, training-domain validation: the robust fine-tuning family (this stage, default parameters) beside ERM and
    the RISE student fine-tuning the whole backbone, distilled from the same Stage 1 teachers. About an hour on 2 CPU
    cores; the README's table is this test's `comparison.md` (OODGEN_SLOW=1 to run)."""
    from conftest import oodgen_cli
    oodgen_cli("run", "zeroshot", "--name", "zs", "--out", tmp_path, "--quiet")
    oodgen_cli("run", "distill", "-p", "backbone", "efficientnet_lite0", "-p", "pretrained", "true", "-p", "algorithms", "[ERM, RISE]",
               "-p", "teacher", tmp_path/"zs"/"teachers", "-p", "steps", "200",
               "-p", "hparams", "{lr: 0.0001, batch_size: 32, input_size: 32}", "-p", "seeds", "[0, 1, 2]", "-p", "jobs", "2",
               "--name", "distill", "--out", tmp_path, "--quiet", timeout=3 * 3600)
    oodgen_cli("run", "zeroshot", "-p", "teacher", tmp_path/"zs"/"teachers", "-p", "baselines", tmp_path/"distill",
               "--name", "comparison", "--out", tmp_path, "--quiet")
    cmp = pd.read_csv(tmp_path/"comparison"/"comparison.csv", index_col=0)
    assert {"FT", "LP", "LPFT", "WiSE-FT", "CAR-FT", "ERM (baseline run)", "RISE student (baseline run)"} <= set(cmp.index)
    assert list(cmp.columns) == ["gray", "colored", "rotated", "inverted", "avg"]
