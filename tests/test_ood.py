"""OOD stage (oodgen.ood) and its library (oodgen.eval.ood_scores, oodgen.data.ood_sets, oodgen.train.wild): scores
against the formulas of the public code ported here (ASH, DICE, LINe, ReAct,
OpenOOD's Mahalanobis and metrics, the ReAct/DICE FPR95), bad input, and the stage end to end through `run_stage`."""
import json

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn import metrics

from oodgen.eval.outputs import ModelOutputs, model_outputs
from oodgen.data.ood_sets import check_disjoint, class_split
from oodgen.eval.ood_scores import (ASH, DICE, KNN, LINe, Mahalanobis, ODIN, ReAct, Energy, MSP, MaxLogit, OOD_SCORES, ash,
                                    fit_scores, fpr95_classical, fpr95_openood, linear_head, make_score, ood_metrics)
from oodgen.train.wild import train_wild


# ------------------------------------------------------------------ reference code, ported (CPU, no .cuda())
def ref_ash(x, percentile, variant):
    "andrijazz/ash ash.py: ash_p / ash_b / ash_s on a (B, C, H, W) map (in place, as there)."
    assert x.dim() == 4 and 0 <= percentile <= 100
    b, c, h, w = x.shape
    s1 = x.sum(dim=[1, 2, 3])
    n = x.shape[1:].numel()
    k = n - int(np.round(n * percentile / 100.0))
    t = x.view((b, c * h * w))
    v, i = torch.topk(t, k, dim=1)
    if variant == "b":
        fill = (s1 / k).unsqueeze(dim=1).expand(v.shape)
        t.zero_().scatter_(dim=1, index=i, src=fill); return x
    t.zero_().scatter_(dim=1, index=i, src=v)
    if variant == "p": return x
    s2 = x.sum(dim=[1, 2, 3])
    return x * torch.exp((s1 / s2)[:, None, None, None])


class RefRouteDICE(nn.Linear):
    "deeplearning-wisc/dice models/route.py RouteDICE (CPU)."
    def __init__(self, in_features, out_features, bias=True, p=90, info=None):
        super().__init__(in_features, out_features, bias); self.p, self.info, self.masked_w = p, info, None
    def calculate_mask_weight(self):
        self.contrib = self.info[None, :] * self.weight.data.cpu().numpy()
        self.thresh = np.percentile(self.contrib, self.p)
        mask = torch.Tensor((self.contrib > self.thresh))
        self.masked_w = (self.weight.squeeze().cpu() * mask)
    def forward(self, input):
        if self.masked_w is None: self.calculate_mask_weight()
        vote = input[:, None, :] * self.masked_w
        return vote.sum(2) + self.bias if self.bias is not None else vote.sum(2)


class RefRouteLUNCH(nn.Linear):
    "LINe's RouteLUNCH (CPU): per-class weight masks C x C x D and activation masks from the Shapley matrix `info` (D, C)."
    def __init__(self, in_features, out_features, bias=True, p_w=10, p_a=10, info=None):
        super().__init__(in_features, out_features, bias)
        self.p, self.weight_p, self.info, self.masked_w, self.mask_f = p_a, p_w, info, None, None
    def calculate_shap_value(self):
        self.contrib = self.info.T
        self.mask_f = torch.zeros(self.out_features, self.in_features)
        self.masked_w = torch.zeros((self.out_features, self.out_features, self.in_features))
        for class_num in range(self.out_features):
            self.matrix = abs(self.contrib[class_num, :]) * self.weight.data.cpu().numpy()
            self.thresh = np.percentile(self.matrix, self.weight_p)
            mask_w = torch.Tensor((self.matrix > self.thresh))
            self.masked_w[class_num, :, :] = (self.weight.squeeze().cpu() * mask_w)
            self.class_thresh = np.percentile(self.contrib[class_num, :], self.p)
            self.mask_f[class_num, :] = torch.Tensor((self.contrib[class_num, :] > self.class_thresh))
    def forward(self, input):
        if self.masked_w is None: self.calculate_shap_value()
        pre = input[:, None, :] * self.weight.data
        pred = pre.sum(2) + self.bias if self.bias is not None else pre.sum(2)
        preds = np.argmax(torch.softmax(pred, dim=1).detach().numpy(), axis=1)
        cp = torch.zeros((len(input), self.in_features))
        for j, idx in enumerate(preds): cp[j, :] = input[j, :] * self.mask_f[idx, :]
        vote = torch.zeros((len(preds), self.out_features, self.in_features))
        for j, idx in enumerate(preds): vote[j, :, :] = cp[j, :] * self.masked_w[idx, :, :]
        return vote.sum(2) + self.bias if self.bias is not None else vote.sum(2)


def ref_fpr95_classical(known, novel):
    "deeplearning-wisc/react util/metrics.py get_curve: threshold = known[round(0.05 n)], FPR = mean(novel > threshold)."
    known = np.sort(known); threshold = known[round(0.05 * known.shape[0])]
    return np.sum(novel > threshold) / float(novel.shape[0])


def ref_openood(conf, label, tpr_th=0.95):
    "OpenOOD v1.5 openood/evaluators/metrics.py auc_and_fpr_recall (OOD = label -1 is positive)."
    ood_indicator = np.zeros_like(label); ood_indicator[label == -1] = 1
    fpr_list, tpr_list, thresholds = metrics.roc_curve(ood_indicator, -conf)
    fpr = fpr_list[np.argmax(tpr_list >= tpr_th)]
    return metrics.auc(fpr_list, tpr_list), fpr


def ref_mds(train_f, train_y, test_f, num_classes):
    "OpenOOD mds postprocessor: class means, EmpiricalCovariance of the centred features, max of -d^T P d."
    from sklearn.covariance import EmpiricalCovariance
    means, centred = [], []
    for c in range(num_classes):
        fs = train_f[train_y == c]; m = fs.mean(0); means.append(m); centred.append(fs - m)
    prec = EmpiricalCovariance(assume_centered=False).fit(np.concatenate(centred)).precision_
    scores = np.stack([-np.einsum("nd,de,ne->n", test_f - m, prec, test_f - m) for m in means], 1)
    return scores.max(1)


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def toy():
    torch.manual_seed(0)
    head = nn.Linear(16, 5)
    f_tr = F.relu(torch.randn(200, 16) + 0.3); y_tr = torch.arange(200) % 5
    f_te = F.relu(torch.randn(50, 16) * 1.5)
    tr = ModelOutputs(head(f_tr).detach(), y_tr, f_tr)
    te = ModelOutputs(head(f_te).detach(), None, f_te)
    return head, tr, te


# ------------------------------------------------------------------ scores against the reference formulas
@pytest.mark.parametrize("variant", ["p", "b", "s"])
@pytest.mark.parametrize("p", [65, 90])
def test_ash_matches_reference(toy, variant, p):
    head, tr, te = toy
    ref = ref_ash(te.features.clone()[:, :, None, None], p, variant).flatten(1)
    torch.testing.assert_close(ash(te.features, p, variant), ref)
    score = ASH(p, variant).fit(tr, head=head).score(te)
    torch.testing.assert_close(score, torch.logsumexp(head(ref), 1).detach())


@pytest.mark.parametrize("p", [70, 90])
def test_dice_matches_reference(toy, p):
    head, tr, te = toy
    ref = RefRouteDICE(16, 5, p=p, info=tr.features.mean(0).numpy()); ref.load_state_dict(head.state_dict())
    torch.testing.assert_close(DICE(p).fit(tr, head=head).score(te), torch.logsumexp(ref(te.features), 1).detach())


def test_react_matches_reference(toy):
    head, tr, te = toy
    thr = np.percentile(tr.features.numpy().flatten(), 90)
    torch.testing.assert_close(ReAct(90).fit(tr, head=head).score(te), torch.logsumexp(head(te.features.clip(max=thr)), 1).detach())


@pytest.mark.parametrize("p_w,p_a", [(90, 90), (90, 10), (10, 10)])
def test_line_matches_reference(toy, p_w, p_a):
    head, tr, te = toy
    ln = LINe(p_w, p_a, clip_percentile=85).fit(tr, head=head)
    # LINe's Shapley matrix by its recipe: per class, the mean of activation x gradient of that class's logit
    info = np.zeros((16, 5))
    for c in range(5):
        f = tr.features[tr.labels == c].clone().requires_grad_(True)
        g, = torch.autograd.grad(head(f)[:, c].sum(), f)
        info[:, c] = (f * g).mean(0).detach().numpy()
    np.testing.assert_allclose(ln.importance.numpy(), info.T, rtol=1e-5, atol=1e-6)
    ref = RefRouteLUNCH(16, 5, p_w=p_w, p_a=p_a, info=info); ref.load_state_dict(head.state_dict())
    x = te.features.clip(max=ln.threshold)                       # the official forward clips before the routed layer
    torch.testing.assert_close(ln.score(te), torch.logsumexp(ref(x), 1).detach(), rtol=1e-5, atol=1e-5)


def test_line_masks_in_batches_equal_one_pass(toy):
    head, tr, te = toy
    a = LINe(block=3).fit(tr, head=head); b = LINe(block=10_000).fit(tr, head=head)
    torch.testing.assert_close(a.score(te), b.score(te))


def test_mahalanobis_matches_openood(toy):
    head, tr, te = toy
    ref = ref_mds(tr.features.double().numpy(), tr.labels.numpy(), te.features.double().numpy(), 5)
    np.testing.assert_allclose(Mahalanobis().fit(tr, head=head).score(te).numpy(), ref, rtol=1e-4)


def test_knn_ranks_as_nearest_neighbours(toy):
    from sklearn.neighbors import NearestNeighbors
    head, tr, te = toy
    bank = F.normalize(tr.features, dim=1).numpy(); q = F.normalize(te.features, dim=1).numpy()
    d, _ = NearestNeighbors(n_neighbors=10).fit(bank).kneighbors(q)
    np.testing.assert_allclose(KNN(k=10).fit(tr).score(te).numpy(), -d[:, -1], rtol=1e-4, atol=1e-5)


def test_logit_scores_match_ash_repo(toy):
    head, tr, te = toy
    z = te.logits
    np.testing.assert_allclose(MSP().score(te).numpy(), np.max(F.softmax(z, dim=1).numpy(), axis=1), rtol=1e-6)
    np.testing.assert_allclose(Energy().score(te).numpy(), torch.logsumexp(z, dim=1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(MaxLogit().score(te).numpy(), z.max(1).values.numpy())


# ------------------------------------------------------------------ metrics
def test_metrics_match_references():
    rng = np.random.default_rng(0)
    i, o = rng.normal(1, 1, 300), rng.normal(0, 1, 200)
    m = ood_metrics(i, o)
    conf, label = np.r_[i, o], np.r_[np.zeros(300), -np.ones(200)]
    auroc_openood, fpr_openood = ref_openood(conf, label)
    assert m["auroc"] == pytest.approx(metrics.roc_auc_score(np.r_[np.ones(300), np.zeros(200)], conf))
    assert m["auroc"] == pytest.approx(auroc_openood)
    assert m["fpr95_openood"] == pytest.approx(fpr_openood)
    assert m["fpr95_classical"] == pytest.approx(ref_fpr95_classical(i, o))
    assert m["aupr_in"] == pytest.approx(metrics.average_precision_score(np.r_[np.ones(300), np.zeros(200)], conf))


def test_fpr95_conventions_differ():
    i, o = np.arange(1, 21, dtype=float), np.arange(1, 21) / 2.0
    assert fpr95_classical(i, o) == pytest.approx(0.8) == ref_fpr95_classical(i, o)
    assert fpr95_openood(i, o) == pytest.approx(0.45) == ref_openood(np.r_[i, o], np.r_[np.zeros(20), -np.ones(20)])[1]


# ------------------------------------------------------------------ bad input
def test_bad_input(toy):
    head, tr, te = toy
    for cls, kw in [(ReAct, {"percentile": 101}), (ASH, {"percentile": -1}), (DICE, {"percentile": 200}),
                    (LINe, {"p_w": 120}), (LINe, {"p_a": -5})]:
        with pytest.raises(ValueError, match="between 0 and 100"): cls(**kw)
    no_feats = ModelOutputs(tr.logits, tr.labels)
    for name in ("react", "ash", "dice", "knn", "mahalanobis", "line"):
        with pytest.raises(ValueError, match="needs penultimate features"): make_score(name).fit(no_feats, head=head)
    with pytest.raises(ValueError, match="needs penultimate features"): ReAct().fit(tr, head=head).score(ModelOutputs(te.logits))
    conv = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())   # exposes no features
    with pytest.raises(ValueError, match="no nn.Linear classifier layer"): linear_head(conv)
    with pytest.raises(ValueError, match="no nn.Linear classifier layer"): model_outputs(conv, torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match="known: msp, maxlogit"): make_score("lin")
    with pytest.raises(ValueError, match="at least two classes"):
        Mahalanobis().fit(ModelOutputs(tr.logits[:3], torch.zeros(3, dtype=torch.long), tr.features[:3]), head=head)
    with pytest.raises(ValueError, match="needs the images"): ODIN().fit(model=head).score(te)
    from oodgen.data.domains import DigitsShift
    dg = DigitsShift(domains=["gray", "rotated"])
    with pytest.raises(ValueError, match="at least two ID classes"): class_split(dg, ["three"])
    with pytest.raises(ValueError, match="every class is an ID class"): class_split(dg, list(dg.classes))
    with pytest.raises(ValueError, match="overlaps the ID classes"): check_disjoint(["one", "two"], ["two", "nine"], "SVHN")


def test_scone_woods_keep_two_multipliers():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 2))
    x = torch.rand(64, 3, 2, 2); y = (x.mean((1, 2, 3)) > 0.5).long()
    tr = train_wild(net, torch.utils.data.TensorDataset(x, y), torch.rand(30, 3, 2, 2) + 1, torch.rand(30, 3, 2, 2) + 3,
                    "scone", rounds=3, steps_per_round=4, batch_size=16)
    assert tr.eta == -10.0 and len(tr.history) == 3
    assert tr.lam is not tr.lam2
    # the CE constraint is slack (fine-tuning starts at the pretrained CE) while the false-alarm one is not: with the
    # public code's aliasing both would read the same number
    assert tr.history[-1]["lam"] > 0 and tr.history[-1]["lam2"] == 0.0



def test_old_import_path_keeps_working():
    "The stage module re-exports the library it wires: `from oodgen.ood import X` is the object of X's home module."
    import oodgen.ood as stage, oodgen.eval.ood_scores as S, oodgen.data.ood_sets as D, oodgen.train.wild as W
    for mod in (S, D, W):
        for name in mod.__all__:
            if name in ("scone", "woods"): continue                     # registered constructors, reached by name
            assert getattr(stage, name) is getattr(mod, name), name
    import oodgen
    assert oodgen.OOD_SCORES is S.OOD_SCORES and oodgen.ood_metrics is S.ood_metrics and oodgen.WILD_METHODS is W.WILD_METHODS

# ------------------------------------------------------------------ the stage end to end
TINY = {"steps": 20, "wild_rounds": 1, "wild_steps": 3, "far_ood": 24, "limit": 60, "seeds": [0],
        "score_kwargs": {"knn": {"k": 5}}, "device": "cpu"}


def test_stage_end_to_end(tmp_path):
    from PIL import Image
    from oodgen.runs import run_stage
    lsun = tmp_path/"data"/"ood"/"LSUN"; lsun.mkdir(parents=True)         # a prepared real OOD set (as odin_ood.py leaves it)
    for i in range(6): Image.fromarray(np.full((36, 36, 3), 40 * i, dtype=np.uint8)).save(lsun/f"{i}.png")
    (lsun/".oodgen_done").write_text("{}")
    run = run_stage("ood", {**TINY, "data_root": str(tmp_path/"data"), "ood_sets": ["LSUN"]}, name="tiny", out=tmp_path, progress=False)
    t = pd.read_csv(run/"ood_results.csv", index_col=[0, 1])
    scores = set(t.index.get_level_values("score"))
    assert scores == set(OOD_SCORES) | {"scone (energy)", "woods (energy)"}
    assert set(t.index.get_level_values("ood_set")) == {"near_ood", "textures", "noise", "LSUN"}
    assert list(t.columns) == ["auroc", "aupr_in", "aupr_out", "fpr95_openood", "fpr95_classical"]
    assert ((t >= 0) & (t <= 100)).all().all()
    md = (run/"ood_results.md").read_text()
    assert "OpenOOD convention" in md and "classical convention" in md            # the FPR95 conventions are named
    stats = torch.load(run/"ood_stats_seed0.pt", weights_only=False)
    assert set(stats) == set(OOD_SCORES) and "importance" in stats["line"]["state"]
    acc = pd.read_csv(run/"accuracy.csv", index_col=0)
    assert list(acc.index) == ["ERM", "SCONE", "WOODS"]
    for f in ("hist_energy", "hist_line", "roc_near_ood", "roc_textures"): assert (run/"figures"/f"{f}.png").exists()
    ck = run/"checkpoints"/"erm_seed0.pt"; assert ck.exists()
    # the same network from its checkpoint: the same ERM accuracy, no training
    again = run_stage("ood", {**TINY, "checkpoint": str(ck), "scores": ["msp"], "score_kwargs": {}, "wild_methods": []},
                      name="from_ckpt", out=tmp_path, progress=False)
    pd.testing.assert_frame_equal(pd.read_csv(again/"accuracy.csv", index_col=0), acc.loc[["ERM"]])
    assert not (again/"checkpoints").exists()


@pytest.mark.parametrize("params,msg", [({"scores": ["msp", "lien"]}, "unknown OOD score 'lien'")])
def test_stage_bad_parameters(tmp_path, params, msg):
    from oodgen.runs import run_stage
    with pytest.raises(Exception, match=msg):
        run_stage("ood", {**TINY, **params}, name="bad", out=tmp_path, progress=False)
