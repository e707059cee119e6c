"Probes stage (43_probes; its library 33_eval.probes) and the operators (17_models.operators): formulas against the reference code, ported here; the cue-conflict data script on a local server; the stage end to end (tiny parameters) and its errors."
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from oodgen.models import operators as ops
from oodgen import probes as P
from test_data_scripts import make_tar, png, server, sha  # noqa: F401  (server: the local HTTP fixture)
from test_gradcam import tiny_teacher                      # a random-weight Stage 1 teacher, saved as Stage 1 saves it

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------- model-vs-human, ported
# bethgelab/model-vs-human modelvshuman/helper/human_categories.py (the <category>_indices lists, verbatim)
REF_INDICES = dict(
    airplane=[404], bear=[294, 295, 296, 297], bicycle=[444, 671],
    bird=[8, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 22, 23, 24, 80, 81, 82, 83, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 98, 99,
          100, 127, 128, 129, 130, 131, 132, 133, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145],
    boat=[472, 554, 625, 814, 914], bottle=[440, 720, 737, 898, 899, 901, 907], car=[436, 511, 817],
    cat=[281, 282, 283, 284, 285, 286], chair=[423, 559, 765, 857], clock=[409, 530, 892],
    dog=[152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175,
         176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 193, 194, 195, 196, 197, 198, 199, 200,
         201, 202, 203, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225,
         226, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 243, 244, 245, 246, 247, 248, 249, 250, 252,
         253, 254, 255, 256, 257, 259, 261, 262, 263, 265, 266, 267, 268],
    elephant=[385, 386], keyboard=[508, 878], knife=[499], oven=[766], truck=[555, 569, 656, 675, 717, 734, 864, 867])


def ref_probabilities_to_decision(probabilities):
    "modelvshuman/helper/probabilities_to_decision.py ImageNetProbabilitiesTo16ClassesMapping.__call__ (np.mean), top category."
    categories = sorted(REF_INDICES)
    agg = np.transpose([np.mean(np.take(probabilities, REF_INDICES[c], axis=-1), axis=-1) for c in categories])
    sorted_indices = np.flip(np.argsort(agg, axis=-1), axis=-1)
    return np.take(categories, sorted_indices, axis=-1)[:, 0]


def ref_get_texture_category(imagename):
    "modelvshuman/plotting/analyses.py ShapeBias.get_texture_category."
    a = imagename.split("_")[-1]; b = a.split(".")[0]; c = b.split("-")[-1]
    return "".join([i for i in c if not i.isdigit()])


def ref_shape_bias(df):
    "modelvshuman/plotting/analyses.py ShapeBias.analysis."
    df = df.copy()
    df["correct_texture"] = df["imagename"].apply(ref_get_texture_category)
    df["correct_shape"] = df["category"]
    df2 = df.loc[df.correct_shape != df.correct_texture]
    fraction_correct_shape = len(df2.loc[df2.object_response == df2.correct_shape]) / len(df)
    fraction_correct_texture = len(df2.loc[df2.object_response == df2.correct_texture]) / len(df)
    return {"fraction-correct-shape": fraction_correct_shape, "fraction-correct-texture": fraction_correct_texture,
            "shape-bias": fraction_correct_shape / (fraction_correct_shape + fraction_correct_texture)}


def test_sixteen_class_mapping_matches_model_vs_human():
    assert {c: sorted(v) for c, v in P.IMAGENET_16.items()} == REF_INDICES
    rng = np.random.default_rng(0)
    logits = torch.tensor(rng.normal(size=(300, 1000)) * 3); logits[:100, 281:287] += 4; logits[100:200, 152:200] += 3
    probs = logits.softmax(-1)
    ours = [P.CUE_CONFLICT_CATEGORIES[k] for k in P.imagenet_to_16(probs).argmax(1).tolist()]
    assert ours == list(ref_probabilities_to_decision(probs.numpy()))


def test_shape_bias_matches_model_vs_human():
    rng = np.random.default_rng(1); cats = sorted(REF_INDICES)
    shape, tex = rng.choice(cats, 400), rng.choice(cats, 400)
    tex[:40] = shape[:40]                                                     # some images without a conflict
    resp = np.where(rng.random(400) < 0.3, shape, np.where(rng.random(400) < 0.6, tex, rng.choice(cats, 400)))
    names = [f"im{i}_{s}{i % 10 + 1}-{t}{i % 7 + 1}.png" for i, (s, t) in enumerate(zip(shape, tex))]
    ref = ref_shape_bias(pd.DataFrame({"imagename": names, "category": shape, "object_response": resp}))
    assert [P.texture_category(n) for n in names] == [ref_get_texture_category(n) for n in names]
    ours = P.cue_conflict_shape_bias(resp, shape, [P.texture_category(n) for n in names])
    assert math.isclose(ours["shape_bias"], ref["shape-bias"]) and math.isclose(ours["fraction_shape"], ref["fraction-correct-shape"])
    assert math.isclose(ours["fraction_texture"], ref["fraction-correct-texture"])


def test_gram_matches_the_pytorch_neural_style_tutorial():
    def gram_matrix(input):   # pytorch/tutorials advanced_source/neural_style_tutorial.py
        a, b, c, d = input.size()
        features = input.view(a * b, c * d)
        G = torch.mm(features, features.t())
        return G.div(a * b * c * d)
    f = torch.randn(3, 5, 4, 6)
    for i in range(3): torch.testing.assert_close(P.gram(f)[i], gram_matrix(f[i:i + 1]))


# ------------------------------------------------------------------------------- operators
def test_attention_operators_match_torch_attention():
    torch.manual_seed(0); x = torch.randn(2, 4, 5, 6); t = ops.tokens(x)
    torch.testing.assert_close(ops.SelfAttention()(x), ops.untokens(F.scaled_dot_product_attention(t, t, t), x), atol=1e-5, rtol=1e-5)
    rel = ops.RelativeAttention((5, 6))
    ref = F.scaled_dot_product_attention(t, t, t, attn_mask=rel.relative_bias().detach())   # a float mask is added to the logits
    torch.testing.assert_close(rel(x), ops.untokens(ref, x), atol=1e-5, rtol=1e-5)
    cm = ops.ConvModulatedAttention(4); q = ops.tokens(cm.conv(x))
    torch.testing.assert_close(cm(x), ops.untokens(F.scaled_dot_product_attention(q, q, t), x), atol=1e-5, rtol=1e-5)


def test_local_operators_match_loops():
    torch.manual_seed(1); x = torch.randn(1, 2, 4, 4); k = 3
    dw = ops.DepthwiseConv(2, k); torch.nn.init.normal_(dw.conv.weight)
    am = ops.AttentionModulatedConv(2, k); torch.nn.init.normal_(am.weight)
    y_dw, y_am = torch.zeros_like(x), torch.zeros_like(x)
    for r in range(4):
        for c in range(4):
            nb = [(r + dr, c + dc, (dr + 1) * 3 + dc + 1) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if 0 <= r + dr < 4 and 0 <= c + dc < 4]
            s = torch.stack([x[0, :, r, c] @ x[0, :, rr, cc] / math.sqrt(2) for rr, cc, _ in nb]).softmax(0)
            for (rr, cc, p), a in zip(nb, s):
                y_dw[0, :, r, c] += dw.conv.weight[:, 0, p // 3, p % 3] * x[0, :, rr, cc]
                y_am[0, :, r, c] += a * am.weight[:, p // 3, p % 3] * x[0, :, rr, cc]
    torch.testing.assert_close(dw(x), y_dw, atol=1e-5, rtol=1e-5); torch.testing.assert_close(am(x), y_am, atol=1e-5, rtol=1e-5)
    post = ops.PostSoftmaxConvAttention(k); torch.nn.init.normal_(post.weight)
    conv = F.conv2d(x, post.weight.view(1, 1, 3, 3).expand(2, 1, 3, 3), padding=1, groups=2)
    torch.testing.assert_close(post(x), ops.SelfAttention()(x) + conv, atol=1e-5, rtol=1e-5)


# ------------------------------------------------------------------------------- transforms and errors
def test_transforms_and_bad_input():
    x = torch.zeros(2, 3, 32, 32); x[:, :, 8:24, 12:20] = 1
    with pytest.raises(ValueError, match="does not divide 30x30"): P.patch_scramble(torch.rand(1, 3, 30, 30), 4)
    with pytest.raises(ValueError, match="does not fit"): P.noise_patch(torch.rand(1, 3, 6, 6), 8)
    with pytest.raises(ValueError, match="has no layer 'nope'"):
        P.activation_maps(torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3)), x, "nope")
    with pytest.raises(ValueError, match="has no layer"): P.FeatureTaps(torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3)), ["features.3"])
    with pytest.raises(ValueError, match="built for 5x6"): ops.RelativeAttention((5, 6))(torch.rand(1, 3, 4, 4))
    with pytest.raises(ValueError, match="undo the normalisation"): P.edges(x * 4 - 2)
    # an elastic field shifts pixels by about alpha of the size: the texture view keeps the ink, loses the layout
    e = P.elastic(x, alpha=0.15); assert abs(e.mean() - x.mean()) < 0.05 and (e - x).abs().mean() > 0.1
    for f in (P.edges, P.silhouette, P.colourise, P.patch_scramble, P.noise_patch):
        y = f(x); assert y.shape == x.shape and 0 <= y.min() and y.max() <= 1


@pytest.mark.slow
def test_umap_view():   # umap-learn compiles with numba first: tens of seconds
    rng = np.random.default_rng(0); f = rng.normal(size=(60, 8)) + 5 * np.eye(8)[np.repeat([0, 1, 2], 20)]
    assert P.embed_2d(f, "umap").shape == (60, 2)


# ------------------------------------------------------------------------------- data script
def test_cue_conflict_script(server, tmp_path):
    sys.path.insert(0, str(REPO/"data_scripts")); import cue_conflict as cc
    files = {f"cue-conflict/{c}/{c}{i}-{cc.CATEGORIES[(k + i) % 16]}{i}.png": png(k * 2 + i)
             for k, c in enumerate(cc.CATEGORIES) for i in (1, 2)}
    data = make_tar(files, "w:gz"); url = server.serve("/cue-conflict.tar.gz", data)
    out = cc.prepare(tmp_path, url=url, sha256=sha(data), quiet=True)
    assert out == tmp_path/"cue-conflict" and (out/"dog").is_dir()
    x, shp, tex, names = P.load_cue_conflict(out, size=16)
    assert x.shape == (32, 3, 16, 16) and len(set(shp)) == 16 and names[0] == "airplane1-bear1.png" and tex[0] == "bear"
    n = len(server.log)
    assert cc.prepare(tmp_path, url=url, quiet=True) == out and len(server.log) == n        # done: no download
    bad = make_tar({"cue-conflict/cat/cat1-dog1.png": png(0)}, "w:gz"); url2 = server.serve("/bad.tar.gz", bad)
    with pytest.raises(Exception, match="no folder under|category folders"): cc.prepare(tmp_path/"b", url=url2, quiet=True)


# ------------------------------------------------------------------------------- the stage
def test_stage_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    from oodgen.runs import run_stage
    import oodgen.train.distill  # noqa: F401  (registers RISE)
    from oodgen.train.loop import build_algorithm, save_algorithm
    stu = save_algorithm(build_algorithm("RISE", 10, {"embed_dim": 16}, seed=1), tmp_path/"student.pt")
    params = dict(device="cpu", steps=5, n_images=16, n_cue_conflict=8, style_steps=1, n_style_images=4, style_size=32,
                  n_embed=24, n_probe_train=40, imagenet_input_size=32, n_figure_images=2,
                  student_checkpoint=str(stu), teacher_checkpoint=str(tiny_teacher(tmp_path/"teacher.pt")),
                  cue_conflict_root=str(tmp_path/"cc"))
    from PIL import Image
    for k, c in enumerate(P.CUE_CONFLICT_CATEGORIES):   # 16 stand-in cue-conflict images: the ImageNet-16 path runs
        (tmp_path/"cc"/c).mkdir(parents=True); Image.fromarray(np.full((24, 24, 3), 15 * k, np.uint8)).save(tmp_path/"cc"/c/f"{c}1-cat{k}.png")
    run = run_stage("probes", params, name="p", out=tmp_path, progress=False)
    bias = pd.read_csv(run/"bias.csv", index_col=0)
    assert {"ERM", "student", "teacher", "efficientnet_lite0"} <= set(bias.index)
    assert {"shape_bias", "texture_bias", "colour_bias", "cue_conflict_shape_bias"} <= set(bias.columns)
    assert bias.loc["ResNet-50 (model-vs-human, published)", "cue_conflict_shape_bias"] == 0.214
    assert 0 <= bias.loc["efficientnet_lite0 (ImageNet-16)", "cue_conflict_shape_bias"] <= 1 or \
        math.isnan(bias.loc["efficientnet_lite0 (ImageNet-16)", "cue_conflict_shape_bias"])
    loc = pd.read_csv(run/"locality.csv", index_col=0)
    assert {"noise_patch_drop", "scramble_drop", "style_drop"} <= set(loc.columns) and len(loc) == 4
    figs = {p.stem for p in (run/"figures").iterdir()}
    assert {"operators", "features_tsne", "probe_examples", "similarity", "activations_ERM"} <= figs
    assert (run/"prompt_sensitivity.csv").exists() and (run/"class_separation.csv").exists()
    # bad sizes fail in the stage's first cell (check_locality_params), before any training
    with pytest.raises(ValueError, match="does not divide the 32x32"): P.check_locality_params((32, 32), 5)
    with pytest.raises(ValueError, match="unknown shape view"): P.semantic_views(torch.rand(1, 3, 8, 8), "outline")


# ------------------------------------------------------------------------------- the library's home
def test_the_stage_module_keeps_the_old_names_and_the_registry_runs():
    import oodgen.eval.probes as L
    assert P.fit_linear_probe is L.fit_linear_probe and P.semantic_views is L.semantic_views and P.PROBES is L.PROBES
    assert {"semantic", "cue_conflict", "texture_fill", "locality", "style", "class_separation"} <= set(L.PROBES)
    with pytest.raises(ValueError, match="unknown probe 'shape'; known: class_separation, cue_conflict"):
        L.run_probe("shape", {}, torch.rand(1, 3, 8, 8), torch.zeros(1))
    import oodgen.diffusion as D, oodgen.eval.diffusion_classifier as DC
    assert D.classify is DC.classify and D.train_denoiser is DC.train_denoiser and callable(D.dataset_images)
