"""DomainBed's algorithms: each penalty / loss equals DomainBed's own formula (ported here from
facebookresearch/DomainBed `domainbed/algorithms.py`) on the same inputs, and every algorithm runs through
`oodgen run benchmark`."""
import copy, itertools, json, resource, time

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import autograd

import oodgen.benchmark   # registers every algorithm (the registry has no plugin imports)
from conftest import oodgen_main
from oodgen.train.algorithms import CORAL, IRM, MMD, VREx, Mixup, GroupDRO, SagNet
from oodgen.train.loop import ALGORITHMS, build_algorithm, load_algorithm, pooled


def _minibatches(n=3, b=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.rand(b, 3, 32, 32, generator=g), torch.randint(0, 10, (b,), generator=g)) for _ in range(n)]

# --- DomainBed's formulas, ported as they are written there -------------------------------------------------------

def db_irm_penalty(logits, y):
    scale = torch.tensor(1.).requires_grad_()
    loss_1 = F.cross_entropy(logits[::2] * scale, y[::2])
    loss_2 = F.cross_entropy(logits[1::2] * scale, y[1::2])
    grad_1 = autograd.grad(loss_1, [scale], create_graph=True)[0]
    grad_2 = autograd.grad(loss_2, [scale], create_graph=True)[0]
    return torch.sum(grad_1 * grad_2)

def db_my_cdist(x1, x2):
    x1_norm, x2_norm = x1.pow(2).sum(dim=-1, keepdim=True), x2.pow(2).sum(dim=-1, keepdim=True)
    res = torch.addmm(x2_norm.transpose(-2, -1), x1, x2.transpose(-2, -1), alpha=-2).add_(x1_norm)
    return res.clamp_min_(1e-30)

def db_gaussian_kernel(x, y, gamma=(0.001, 0.01, 0.1, 1, 10, 100, 1000)):
    D = db_my_cdist(x, y); K = torch.zeros_like(D)
    for g in gamma: K.add_(torch.exp(D.mul(-g)))
    return K

def db_mmd(x, y, kernel_type):
    if kernel_type == "gaussian":
        return db_gaussian_kernel(x, x).mean() + db_gaussian_kernel(y, y).mean() - 2 * db_gaussian_kernel(x, y).mean()
    mean_x, mean_y = x.mean(0, keepdim=True), y.mean(0, keepdim=True)
    cent_x, cent_y = x - mean_x, y - mean_y
    cova_x, cova_y = (cent_x.t() @ cent_x) / (len(x) - 1), (cent_y.t() @ cent_y) / (len(y) - 1)
    return (mean_x - mean_y).pow(2).mean() + (cova_x - cova_y).pow(2).mean()

def db_randomize(x, what="style", eps=1e-5):
    sizes = x.size(); alpha = torch.rand(sizes[0], 1)
    if len(sizes) == 4: x = x.view(sizes[0], sizes[1], -1); alpha = alpha.unsqueeze(-1)
    mean, var = x.mean(-1, keepdim=True), x.var(-1, keepdim=True)
    x = (x - mean) / (var + eps).sqrt()
    idx_swap = torch.randperm(sizes[0])
    if what == "style":
        mean = alpha * mean + (1 - alpha) * mean[idx_swap]; var = alpha * var + (1 - alpha) * var[idx_swap]
    else: x = x[idx_swap].detach()
    x = x * (var + eps).sqrt() + mean
    return x.view(*sizes)

# --- penalties on fixed tensors ------------------------------------------------------------------------------------

def test_irm_penalty_is_domainbeds():
    torch.manual_seed(0); logits, y = torch.randn(10, 4), torch.randint(0, 4, (10,))
    torch.testing.assert_close(IRM.penalty(logits, y), db_irm_penalty(logits, y))

def test_vrex_penalty_is_domainbeds():
    losses = torch.tensor([0.3, 1.7, 0.9, 2.2]); mean = losses.mean()
    torch.testing.assert_close(VREx.penalty(losses), ((losses - mean) ** 2).mean())

@pytest.mark.parametrize("shift", [0.0, 0.5, 3.0])
def test_mmd_and_coral_are_domainbeds(shift):
    torch.manual_seed(1); x, y = torch.randn(7, 5), torch.randn(9, 5) * 1.5 + shift
    torch.testing.assert_close(MMD.mmd(x, y), db_mmd(x, y, "gaussian"), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(CORAL.coral(x, y), db_mmd(x, y, "mean_cov"), rtol=1e-5, atol=1e-6)

def test_groupdro_weights_are_domainbeds():
    losses = torch.tensor([0.4, 2.0, 1.1]); eta = 0.05
    q = torch.ones(3)                                     # DomainBed: q starts at ones, updated then normalised
    for m in range(3): q[m] *= (eta * losses[m]).exp()
    q /= q.sum()
    torch.testing.assert_close(GroupDRO.reweight(torch.ones(3) / 3, losses, eta), q)

def test_cdann_disc_loss_is_domainbeds():
    torch.manual_seed(2); out, lab = torch.randn(8, 3), torch.randint(0, 3, (8,))
    y = torch.tensor([0, 1, 1, 2, 4, 4, 4, 3])            # largest class present: DomainBed's one_hot width is right
    y_counts = F.one_hot(y).sum(dim=0); weights = 1. / (y_counts[y] * y_counts.shape[0]).float()
    ref = (weights * F.cross_entropy(out, lab, reduction="none")).sum()
    torch.testing.assert_close(build_algorithm("CDANN", 5, seed=0, num_domains=3).disc_loss(out, lab, y), ref)
    torch.testing.assert_close(build_algorithm("DANN", 5, seed=0, num_domains=3).disc_loss(out, lab, y),
                               F.cross_entropy(out, lab))

@pytest.mark.parametrize("what", ["style", "content"])
@pytest.mark.parametrize("shape", [(6, 8), (6, 4, 3, 3)])
def test_sagnet_randomize_is_domainbeds(what, shape):
    x = torch.randn(*shape) * 2 + 1
    torch.manual_seed(3); ours = SagNet.randomize(x, what)
    torch.manual_seed(3); ref = db_randomize(x, what)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(SagNet.adversarial_loss(x.view(6, -1)), -F.log_softmax(x.view(6, -1), dim=1).mean(1).mean())

# --- whole updates against DomainBed's update, ported, on copies of the same network ------------------------------

def test_irm_update_is_domainbeds():
    alg = build_algorithm("IRM", 10, {"irm_penalty_anneal_iters": 0}, seed=0, num_domains=3)
    net = copy.deepcopy(alg.network); opt = torch.optim.Adam(net.parameters(), lr=alg.hparams["lr"])
    mbs = _minibatches()
    out = alg.update(mbs)
    # DomainBed's IRM.update (penalty weight irm_lambda from step 0, Adam reset at step 0 as the anneal step)
    all_logits = net(torch.cat([x for x, y in mbs])); nll = penalty = 0.; idx = 0
    for x, y in mbs:
        logits = all_logits[idx:idx + x.shape[0]]; idx += x.shape[0]
        nll += F.cross_entropy(logits, y); penalty += db_irm_penalty(logits, y)
    nll /= len(mbs); penalty /= len(mbs); loss = nll + alg.hparams["irm_lambda"] * penalty
    opt.zero_grad(); loss.backward(); opt.step()
    assert abs(out["loss"] - loss.item()) < 1e-5 and abs(out["penalty"] - penalty.item()) < 1e-6
    for p, q in zip(alg.network.parameters(), net.parameters()): torch.testing.assert_close(p, q)

def test_mixup_update_is_domainbeds():
    alg = build_algorithm("Mixup", 10, seed=0, num_domains=3)
    # eval mode: BatchNorm then acts per sample, so one pooled forward (ours, `per_domain`) and DomainBed's forward per
    # pair compute the same thing, and the comparison checks the formula (in train mode they differ on purpose)
    alg.eval(); net = copy.deepcopy(alg.network); mbs = _minibatches()
    torch.manual_seed(4); np.random.seed(4); out = alg.update(mbs)["loss"]
    torch.manual_seed(4); np.random.seed(4); objective = 0
    perm = torch.randperm(len(mbs)).tolist()              # DomainBed's random_pairs_of_minibatches + Mixup.update
    for i in range(len(mbs)):
        j = i + 1 if i < len(mbs) - 1 else 0
        (xi, yi), (xj, yj) = mbs[perm[i]], mbs[perm[j]]
        lam = np.random.beta(alg.hparams["mixup_alpha"], alg.hparams["mixup_alpha"])
        pred = net(lam * xi + (1 - lam) * xj)
        objective += lam * F.cross_entropy(pred, yi) + (1 - lam) * F.cross_entropy(pred, yj)
    assert abs(out - (objective / len(mbs)).item()) < 1e-5

def db_mldg_update(network, optimizer, minibatches, hparams):
    "DomainBed's MLDG.update (first order), ported with the network and optimizer passed in."
    num_mb = len(minibatches); objective = 0
    optimizer.zero_grad()
    for p in network.parameters():
        if p.grad is None: p.grad = torch.zeros_like(p)
    perm = torch.randperm(num_mb).tolist()
    meta_train, meta_test = perm[:(num_mb - hparams["n_meta_test"])], perm[-hparams["n_meta_test"]:]
    for i, j in zip(meta_train, itertools.cycle(meta_test)):
        (xi, yi), (xj, yj) = minibatches[i], minibatches[j]
        inner_net = copy.deepcopy(network)
        inner_opt = torch.optim.Adam(inner_net.parameters(), lr=hparams["lr"], weight_decay=hparams["weight_decay"])
        inner_obj = F.cross_entropy(inner_net(xi), yi)
        inner_opt.zero_grad(); inner_obj.backward(); inner_opt.step()
        for p_tgt, p_src in zip(network.parameters(), inner_net.parameters()):
            if p_src.grad is not None: p_tgt.grad.data.add_(p_src.grad.data / num_mb)
        objective += inner_obj.item()
        loss_inner_j = F.cross_entropy(inner_net(xj), yj)
        grad_inner_j = autograd.grad(loss_inner_j, inner_net.parameters(), allow_unused=True)
        objective += (hparams["mldg_beta"] * loss_inner_j).item()
        for p, g_j in zip(network.parameters(), grad_inner_j):
            if g_j is not None: p.grad.data.add_(hparams["mldg_beta"] * g_j.data / num_mb)
    optimizer.step()
    return objective / num_mb

@pytest.mark.parametrize("n_meta_test", [1, 2])
def test_mldg_update_is_domainbeds(n_meta_test):
    alg = build_algorithm("MLDG", 10, {"mldg_beta": 0.5, "n_meta_test": n_meta_test}, seed=0, num_domains=3)
    net = copy.deepcopy(alg.network); opt = torch.optim.Adam(net.parameters(), lr=alg.hparams["lr"])
    mbs = _minibatches()
    torch.manual_seed(5); out = alg.update(mbs)["loss"]
    torch.manual_seed(5); ref = db_mldg_update(net, opt, mbs, alg.hparams)
    assert abs(out - ref) < 1e-5
    for p, q in zip(alg.network.parameters(), net.parameters()): torch.testing.assert_close(p, q)

def test_registered_with_domainbed_defaults():
    from oodgen.train.loop import hparams_of
    defaults = {"IRM": {"irm_lambda": 1e2, "irm_penalty_anneal_iters": 500}, "VREx": {"vrex_lambda": 10.0,
                "vrex_penalty_anneal_iters": 500}, "Mixup": {"mixup_alpha": 0.2}, "GroupDRO": {"groupdro_eta": 1e-2},
                "MMD": {"mmd_gamma": 1.0}, "CORAL": {"mmd_gamma": 1.0}, "MLDG": {"mldg_beta": 1.0, "n_meta_test": 2},
                "SagNet": {"sag_w_adv": 0.1}, "DANN": {"lambda": 1.0, "d_steps_per_g_step": 1, "grad_penalty": 0.0,
                "beta1": 0.5, "mlp_width": 256, "mlp_depth": 3, "lr_d": 1e-3, "lr_g": 1e-3},
                "MIRO": {"ld": 0.1, "lr_mult": 10.0}}          # MIRO: kakaobrain/miro config.yaml
    for name, d in defaults.items():
        hp = hparams_of(name); assert {k: hp[k] for k in d} == d, name
        assert hparams_of(name, seed=1) != hp and hparams_of(name, seed=1) == hparams_of(name, seed=1)
    assert hparams_of("CDANN")["lambda"] == 1.0

# --- every algorithm through the benchmark runner --------------------------------------------------------------------

SMOKE = ["ERM", "ERM_ClassBalanced", "ERM_AugMix", "IRM", "VREx", "CORAL", "MMD", "GroupDRO", "Mixup", "DANN", "CDANN",
         "SagNet", "MLDG", "MIRO", "SWAD", "ERM_SMA", "EoA"]

def _cpu_so_far():
    "CPU seconds of this process and its finished children (the stage's kernel): the run goes through `main` in this process."
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))

def test_every_algorithm_through_oodgen_run(tmp_path):
    "One tiny unit of every algorithm (3 steps, 1 seed, 1 held-out domain); under 60 s of CPU (wall time grows on a shared machine)."
    cpu = _cpu_so_far()
    oodgen_main("run", "40_benchmark", "-p", "algorithms", f"[{', '.join(SMOKE)}]", "-p", "steps", "3", "-p", "seeds", "[0]",
               "-p", "test_domains", "[rotated]", "-p", "eval_every", "0",
               "-p", "hparams", "{batch_size: 8, swad_eval_every: 1, bn_update_steps: 2, sma_start: 2, n_members: 2}",
               "--name", "smoke", "--out", tmp_path, "--quiet")
    assert _cpu_so_far() - cpu < 60, _cpu_so_far() - cpu
    d = tmp_path/"smoke"
    m = pd.read_json(d/"metrics.jsonl", lines=True)
    held = m[(m.metric == "acc") & (m.domain == "rotated") & (m.split == "in")]
    assert sorted(held.algorithm.unique()) == sorted(SMOKE)
    swad = json.loads((d/"reports"/"SWAD_rotated_trial0_seed0.json").read_text())["train_end"]
    assert swad["swad_converged"] in (True, False) and 1 <= swad["swad_start"] <= swad["swad_end"] <= 3
    assert json.loads((d/"reports"/"EoA_rotated_trial0_seed0.json").read_text())["train_end"] == {"sma_steps": 2, "members": 2}
    assert set(m[m.split == "train_end"].metric) >= {"swad_start", "swad_end", "sma_steps"}
    for name in ["SWAD", "EoA", "DANN", "GroupDRO", "MIRO"]:     # checkpoints reload (DANN: discriminator sized by domains)
        alg = load_algorithm(d/"checkpoints"/f"{name}_rotated_trial0_seed0.pt")
        assert alg.predict(torch.rand(2, 3, 32, 32)).shape == (2, 10)

def test_erm_seeded_determinism(tmp_path):
    from oodgen.benchmark import train_unit
    from oodgen.data.domains import DigitsShift
    job = {"name": "ERM_rotated", "held_out": ["rotated"], "main": True,
           "tags": dict(algorithm="ERM", dataset="digits_shift", test_domain="rotated", trial=0, seed=0)}
    kw = dict(steps=5, hparams={"batch_size": 16}, holdout=0.2, device="cpu", eval_every=None, hparams_seed=0, ckpt_dir=None)
    ds = DigitsShift()
    a, b = train_unit(ds, job, **kw), train_unit(ds, job, **kw)
    assert a["records"] == b["records"] and a["report"]["result"]["y_pred"] == b["report"]["result"]["y_pred"]

# --- MIRO: kakaobrain/miro `domainbed/algorithms/miro.py`, ported as written there ----------------------------------

class MiroMeanEncoder(torch.nn.Module):
    def __init__(self, shape): super().__init__(); self.shape = shape
    def forward(self, x): return x

class MiroVarianceEncoder(torch.nn.Module):
    def __init__(self, shape, init=0.1, channelwise=True, eps=1e-5):
        super().__init__(); self.shape = shape; self.eps = eps
        init = (torch.as_tensor(init - eps).exp() - 1.0).log()
        b_shape = shape
        if channelwise:
            if len(shape) == 4: b_shape = (1, shape[1], 1, 1)
            elif len(shape) == 3: b_shape = (1, 1, shape[2])
            else: raise ValueError()
        self.b = torch.nn.Parameter(torch.full(b_shape, init))
    def forward(self, x): return F.softplus(self.b) + self.eps

def miro_loss(logit, all_y, inter_feats, pre_feats, mean_encoders, var_encoders, ld):
    loss = F.cross_entropy(logit, all_y)
    reg_loss = 0.
    for f, pre_f, mean_enc, var_enc in zip(inter_feats, pre_feats, mean_encoders, var_encoders):
        mean = mean_enc(f)
        var = var_enc(f)
        vlb = (mean - pre_f).pow(2).div(var) + var.log()
        reg_loss += vlb.mean() / 2.
    loss += reg_loss * ld
    return loss, reg_loss

def test_miro_loss_is_the_references():
    "Same features, same encoder parameters (trained a few steps, so the variances differ per channel): same loss."
    from oodgen.train.algorithms import layer_outputs
    alg = build_algorithm("MIRO", 10, {"ld": 0.3}, seed=0, num_domains=3)
    for s in range(3): alg.update(_minibatches(seed=s))               # moves the network and the variance encoders
    shapes = [tuple(v.b.shape) for v in alg.var_encoders]
    ref_var = [MiroVarianceEncoder((2, c[1], 4, 4)) for c in shapes]
    from oodgen.train.algorithms import VarianceEncoder
    for shape in [(2, 16, 4, 4), (3, 64, 1, 1)]:                       # same initial parameters
        torch.testing.assert_close(VarianceEncoder(shape).b.data, MiroVarianceEncoder(shape).b.data)
    for ours, theirs in zip(alg.var_encoders, ref_var): theirs.b.data.copy_(ours.b.data)
    assert any(v.b.std() > 0 for v in alg.var_encoders)
    mbs = _minibatches(seed=7); x, y = pooled(mbs)
    alg.train(); net_state = copy.deepcopy(alg.state_dict())
    with torch.no_grad():
        feat, inter = layer_outputs(alg.featurizer, alg.layers, x)
        _, pre = layer_outputs(alg.pre_featurizer, alg.layers, x)
        loss, reg = miro_loss(alg.classifier(feat), y, inter, pre, [MiroMeanEncoder(None)] * len(inter), ref_var, 0.3)
    alg.load_state_dict(net_state)                                    # BatchNorm statistics as before that forward
    out = alg.update(mbs)
    assert abs(out["reg_loss"] - reg.item()) < 1e-5 and abs(out["loss"] - loss.item()) < 1e-5, (out, loss, reg)
