"Diffusion classifier (46_diffusion): stub noise predictors with known errors, the reference's top-k schedule ported, the stage end to end."
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.stats import ttest_rel
from diffusers import DDPMScheduler

from oodgen.diffusion import (ClassConditionalUNet, TopKSchedule, TTestSchedule, classify, classify_images)

AC = DDPMScheduler(num_train_timesteps=1000).alphas_cumprod


class StubUNet(nn.Module):
    "A UNet2DConditionModel stand-in: predicts the true noise (it knows x0) + offset[class, t]; the class is read from encoder_hidden_states[:, 0, 0]. Records the noise it saw per (t, class)."
    dtype = torch.float32
    def __init__(self, x0, offset):
        super().__init__(); self.x0, self.offset, self.seen = x0, offset, {}
    def forward(self, x_t, t, encoder_hidden_states):
        c, t = encoder_hidden_states[:, 0, 0].long(), t.long()
        a = AC[t].view(-1, 1, 1, 1)
        eps = (x_t.float() - a.sqrt() * self.x0) / (1 - a).sqrt()
        for i in range(len(t)): self.seen.setdefault(int(t[i]), {})[int(c[i])] = eps[i].clone()
        return SimpleNamespace(sample=eps + self.offset[c, t].view(-1, 1, 1, 1))


def class_tokens(n): return torch.arange(n, dtype=torch.float32).view(n, 1, 1)


# --- the reference's adaptive evaluation (diffusion-classifier/diffusion-classifier, eval_prob_adaptive.py, HEAD e9f772d),
# ported line by line: `device` is cpu, T comes from the scheduler config (1000), tqdm dropped, fp16 branch kept.
device = "cpu"

def ref_eval_prob_adaptive(unet, latent, text_embeds, scheduler, args, latent_size=64, all_noise=None):
    T = 1000
    max_n_samples = max(args.n_samples)
    if all_noise is None:
        all_noise = torch.randn((max_n_samples * args.n_trials, 4, latent_size, latent_size), device=latent.device)
    if args.dtype == 'float16':
        all_noise = all_noise.half()
        scheduler.alphas_cumprod = scheduler.alphas_cumprod.half()
    data = dict()
    t_evaluated = set()
    remaining_prmpt_idxs = list(range(len(text_embeds)))
    start = T // max_n_samples // 2
    t_to_eval = list(range(start, T, T // max_n_samples))[:max_n_samples]
    for n_samples, n_to_keep in zip(args.n_samples, args.to_keep):
        ts = []
        noise_idxs = []
        text_embed_idxs = []
        curr_t_to_eval = t_to_eval[len(t_to_eval) // n_samples // 2::len(t_to_eval) // n_samples][:n_samples]
        curr_t_to_eval = [t for t in curr_t_to_eval if t not in t_evaluated]
        for prompt_i in remaining_prmpt_idxs:
            for t_idx, t in enumerate(curr_t_to_eval, start=len(t_evaluated)):
                ts.extend([t] * args.n_trials)
                noise_idxs.extend(list(range(args.n_trials * t_idx, args.n_trials * (t_idx + 1))))
                text_embed_idxs.extend([prompt_i] * args.n_trials)
        t_evaluated.update(curr_t_to_eval)
        pred_errors = ref_eval_error(unet, scheduler, latent, all_noise, ts, noise_idxs,
                                     text_embeds, text_embed_idxs, args.batch_size, args.dtype, args.loss)
        for prompt_i in remaining_prmpt_idxs:
            mask = torch.tensor(text_embed_idxs) == prompt_i
            prompt_ts = torch.tensor(ts)[mask]
            prompt_pred_errors = pred_errors[mask]
            if prompt_i not in data:
                data[prompt_i] = dict(t=prompt_ts, pred_errors=prompt_pred_errors)
            else:
                data[prompt_i]['t'] = torch.cat([data[prompt_i]['t'], prompt_ts])
                data[prompt_i]['pred_errors'] = torch.cat([data[prompt_i]['pred_errors'], prompt_pred_errors])
        errors = [-data[prompt_i]['pred_errors'].mean() for prompt_i in remaining_prmpt_idxs]
        best_idxs = torch.topk(torch.tensor(errors), k=n_to_keep, dim=0).indices.tolist()
        remaining_prmpt_idxs = [remaining_prmpt_idxs[i] for i in best_idxs]
    assert len(remaining_prmpt_idxs) == 1
    pred_idx = remaining_prmpt_idxs[0]
    return pred_idx, data


def ref_eval_error(unet, scheduler, latent, all_noise, ts, noise_idxs,
                   text_embeds, text_embed_idxs, batch_size=32, dtype='float32', loss='l2'):
    assert len(ts) == len(noise_idxs) == len(text_embed_idxs)
    pred_errors = torch.zeros(len(ts), device='cpu')
    idx = 0
    with torch.inference_mode():
        for _ in range(len(ts) // batch_size + int(len(ts) % batch_size != 0)):
            batch_ts = torch.tensor(ts[idx: idx + batch_size])
            noise = all_noise[noise_idxs[idx: idx + batch_size]]
            noised_latent = latent * (scheduler.alphas_cumprod[batch_ts] ** 0.5).view(-1, 1, 1, 1).to(device) + \
                            noise * ((1 - scheduler.alphas_cumprod[batch_ts]) ** 0.5).view(-1, 1, 1, 1).to(device)
            t_input = batch_ts.to(device).half() if dtype == 'float16' else batch_ts.to(device)
            text_input = text_embeds[text_embed_idxs[idx: idx + batch_size]]
            noise_pred = unet(noised_latent, t_input, encoder_hidden_states=text_input).sample
            if loss == 'l2':
                error = F.mse_loss(noise, noise_pred, reduction='none').mean(dim=(1, 2, 3))
            elif loss == 'l1':
                error = F.l1_loss(noise, noise_pred, reduction='none').mean(dim=(1, 2, 3))
            elif loss == 'huber':
                error = F.huber_loss(noise, noise_pred, reduction='none').mean(dim=(1, 2, 3))
            else:
                raise NotImplementedError
            pred_errors[idx: idx + len(batch_ts)] = error.detach().cpu()
            idx += len(batch_ts)
    return pred_errors
# --- end of the reference


@pytest.mark.parametrize("n_samples,to_keep,n_classes,n_trials,loss", [
    ((50, 500), (5, 1), 10, 1, "l1"),                 # the reference's CIFAR-10 command
    ((20, 50, 100, 500), (20, 10, 5, 1), 25, 1, "l2"),   # its Food-101 command (on 25 classes)
    ((25, 250), (5, 1), 8, 2, "huber")])              # Pets-like, two noise draws per timestep
def test_topk_schedule_equals_the_reference(n_samples, to_keep, n_classes, n_trials, loss):
    g = torch.Generator().manual_seed(len(n_samples))
    x0 = torch.randn(1, 4, 2, 2, generator=g)
    offset = 0.2 * torch.rand(n_classes, 1, generator=g) + 0.3 * torch.randn(n_classes, 1000, generator=g)
    noise = torch.randn(max(n_samples) * n_trials, 4, 2, 2, generator=g)
    args = SimpleNamespace(n_samples=list(n_samples), to_keep=list(to_keep), n_trials=n_trials, batch_size=32,
                           dtype="float32", loss=loss)
    ref_pred, data = ref_eval_prob_adaptive(StubUNet(x0, offset), x0, class_tokens(n_classes),
                                            SimpleNamespace(alphas_cumprod=AC.clone()), args, 2, noise)
    ours = classify(ClassConditionalUNet(StubUNet(x0, offset), class_tokens(n_classes)), x0, n_classes,
                    TopKSchedule(n_samples, to_keep), AC, loss=loss, n_trials=n_trials, noise=noise, batch_size=32)
    assert ours.pred == ref_pred
    for c, d in data.items():                         # same timesteps, same errors, class by class
        m = ~ours.errors[c].isnan()
        assert torch.tensor(ours.timesteps)[m].tolist() == d["t"].tolist()
        torch.testing.assert_close(ours.errors[c][m], d["pred_errors"], rtol=1e-5, atol=1e-6)
    assert set(data) == {c for c in range(n_classes) if not ours.errors[c].isnan().all()}


def expected_ttest_run(offset, rounds, p_threshold):
    "Survivors after each round and the prediction, from the known errors |offset| and scipy's ttest_rel directly."
    alive, ts, out = list(range(len(offset))), [], []
    for new in rounds:
        ts += new
        e = offset[:, ts].abs().double().numpy()
        best = min(alive, key=lambda c: e[c].mean())
        alive = [c for c in alive if c == best or not ttest_rel(e[c], e[best], alternative="greater").pvalue < p_threshold]
        out.append(sorted(alive))
        if len(alive) == 1: break
    return out, min(alive, key=lambda c: offset[c, ts].abs().mean())


@pytest.mark.parametrize("seed", range(4))
def test_ttest_prunes_exactly_the_classes_it_should(seed):
    g = torch.Generator().manual_seed(seed)
    n = 6
    offset = torch.linspace(0.1, 0.35, n)[torch.randperm(n, generator=g)][:, None] + 0.08 * torch.randn(n, 1000, generator=g)
    offset = offset.abs() + 0.01
    x0 = torch.randn(1, 3, 4, 4, generator=g)
    sched = TTestSchedule(p_threshold=0.05, round_size=4, max_timesteps=40)
    res = classify(ClassConditionalUNet(StubUNet(x0, offset), class_tokens(n)), x0, n, sched, AC, loss="l1", generator=g)
    want_alive, want_pred = expected_ttest_run(offset, sched.rounds(1000), 0.05)
    assert [sorted(a) for a in res.alive] == want_alive
    assert res.pred == want_pred and res.n_timesteps == 4 * len(want_alive)
    assert len(want_alive[0]) < n                       # the first round already prunes some classes


def test_stub_classifier_returns_the_right_class_with_every_schedule_and_loss():
    g = torch.Generator().manual_seed(0)
    n, k = 10, 6
    x0s, labels = torch.randn(k, 4, 2, 2, generator=g), torch.randint(0, n, (k,), generator=g)
    for i in range(k):
        offset = 0.3 + 0.2 * torch.rand(n, 1, generator=g) + 0.02 * torch.randn(n, 1000, generator=g)
        offset[labels[i]] -= 0.2                          # the true class predicts the noise best
        unet = ClassConditionalUNet(StubUNet(x0s[i:i + 1], offset), class_tokens(n))
        for sched in (TTestSchedule(0.05, 5, 30), TopKSchedule((10, 30), (3, 1))):
            for loss in ("l1", "l2", "huber"):
                df, _ = classify_images(unet, x0s[i:i + 1], [int(labels[i])], n, sched, AC, seed=i, loss=loss)
                assert df.correct.tolist() == [1], (i, sched.name, loss)


def test_paired_noise_is_shared_across_classes_and_differs_across_timesteps():
    g = torch.Generator().manual_seed(1)
    x0, n = torch.randn(1, 4, 4, 4, generator=g), 5
    stub = StubUNet(x0, torch.full((n, 1000), 0.1))                 # all classes equal: nothing is pruned
    res = classify(ClassConditionalUNet(stub, class_tokens(n)), x0, n, TopKSchedule((8,), (1,)), AC, generator=g, batch_size=7)
    assert sorted(stub.seen) == sorted(res.timesteps) and all(len(v) == n for v in stub.seen.values())
    for v in stub.seen.values():
        for c in range(1, n): torch.testing.assert_close(v[c], v[0], rtol=0, atol=1e-4)
    firsts = [v[0] for v in stub.seen.values()]
    assert all(not torch.allclose(a, b) for a, b in zip(firsts, firsts[1:]))
    assert torch.isclose(res.errors, res.errors[:1]).all()          # equal predictors: identical errors, class by class


TINY = dict(device="cpu", steps=20, limit=10, widths=[8, 16], embed_dim=8, train_batch_size=32, round_size=4,
            max_timesteps=8, n_samples=[4, 8], to_keep=[2, 1], n_figure_images=2, figure_timesteps=5, batch_size=80)


def test_stage_end_to_end(tmp_path):
    from oodgen.runs import run_stage
    run = run_stage("diffusion", TINY, name="diff", out=tmp_path, progress=False)
    res = pd.read_csv(run/"diffusion_results.csv", index_col=0)
    assert list(res.index) == ["ttest", "topk"] and (res["images"] == 10).all()
    assert res["accuracy"].between(0, 1).all() and res.loc["topk", "timesteps/image"] == 8
    assert res.loc["topk", "UNet calls/image"] == 10 * 4 + 2 * 4
    assert (res.loc["ttest", "timesteps/image"] <= 8) and (res.loc["ttest", "UNet calls/image"] <= 80)
    alive = pd.read_csv(run/"classes_alive.csv", index_col=0)
    assert alive.loc["topk"].tolist() == [2.0, 1.0]
    assert "| ttest " in (run/"diffusion_results.md").read_text() and "| ours: tiny UNet" in (run/"anchors.md").read_text()
    anchors = pd.read_csv(run/"anchors.csv", index_col=0)
    assert anchors.loc["Diffusion Classifier, SD 2.0-base (reference)", "accuracy"] == 0.885
    assert (run/"figures"/"error_vs_timestep.png").stat().st_size > 1000
    m = pd.read_json(run/"metrics.jsonl", lines=True)
    assert {"acc", "timesteps_per_image", "unet_evals_per_image", "classes_alive", "train_loss"} <= set(m.metric)
    per = pd.read_csv(run/"per_image.csv")
    assert len(per) == 20 and set(per.schedule) == {"ttest", "topk"} and (per.alive.str.split().str[0].astype(int) <= 10).all()
    assert json.loads((run/"params.json").read_text())["model"] == "tiny"


def make_tiny_sd(folder):
    "A Stable-Diffusion-layout folder (tokenizer, text_encoder, unet, vae, scheduler) of tiny random models, saved as diffusers / transformers save them."
    import string
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
    (folder/"tokenizer").mkdir(parents=True)
    chars = list(string.ascii_lowercase + ".")        # a character-level vocabulary: every class name tokenises differently
    vocab = {t: i for i, t in enumerate(["<|startoftext|>", "<|endoftext|>"] + chars + [c + "</w>" for c in chars])}
    (folder/"tokenizer"/"vocab.json").write_text(json.dumps(vocab)); (folder/"tokenizer"/"merges.txt").write_text("#version: 0.2\n")
    CLIPTokenizer(str(folder/"tokenizer"/"vocab.json"), str(folder/"tokenizer"/"merges.txt"), model_max_length=77).save_pretrained(folder/"tokenizer")
    torch.manual_seed(0)
    CLIPTextModel(CLIPTextConfig(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                                 max_position_embeddings=77, bos_token_id=0, eos_token_id=1)).save_pretrained(folder/"text_encoder")
    UNet2DConditionModel(sample_size=8, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(8, 16),
                         down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
                         cross_attention_dim=16, attention_head_dim=8, norm_num_groups=8).save_pretrained(folder/"unet")
    AutoencoderKL(block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                  latent_channels=4, norm_num_groups=8).save_pretrained(folder/"vae")
    DDPMScheduler(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012).save_pretrained(folder/"scheduler")
    return folder


def test_stage_runs_the_stable_diffusion_path_on_a_tiny_local_checkpoint(tmp_path):
    "The real-model branch (from_pretrained of every part, CLIP prompts, VAE latents, no training) on a tiny random checkpoint."
    from oodgen.runs import run_stage
    sd = make_tiny_sd(tmp_path/"tiny-sd")
    params = {k: v for k, v in TINY.items() if k not in ("steps", "widths", "embed_dim", "train_batch_size")}
    run = run_stage("diffusion", {**params, "model": str(sd), "limit": 6}, name="sd", out=tmp_path, progress=False)
    res = pd.read_csv(run/"diffusion_results.csv", index_col=0)
    assert list(res.index) == ["ttest", "topk"] and (res["images"] == 6).all()
    assert "zero-shot, prompts 'a photo of a {}.', fp32" in (run/"notes.md").read_text()
    m = pd.read_json(run/"metrics.jsonl", lines=True)
    assert "train_loss" not in set(m.metric) and set(m[m.metric == "acc"].split) == {"zeroshot"}
    assert (run/"figures"/"error_vs_timestep.png").exists()


def test_stage_rows_per_weighting_and_target_through_the_vae(tmp_path):
    "weighting / target lists give one row each (seed 002's exp(-7t/T), the x0 error decoded by the checkpoint's VAE)."
    from oodgen.runs import run_stage
    sd = make_tiny_sd(tmp_path/"tiny-sd")
    params = {k: v for k, v in TINY.items() if k not in ("steps", "widths", "embed_dim", "train_batch_size")}
    run = run_stage("diffusion", {**params, "model": str(sd), "limit": 4, "schedules": ["topk"], "weighting": ["uniform", "exp7"],
                                  "target": ["noise", "x0"], "n_figure_images": 1}, name="variants", out=tmp_path, progress=False)
    res = pd.read_csv(run/"diffusion_results.csv", index_col=0)
    assert list(res.index) == ["topk / uniform / noise", "topk / uniform / x0", "topk / exp7 / noise", "topk / exp7 / x0"]
    assert (res["images"] == 4).all() and (res["timesteps/image"] == 8).all()
    m = pd.read_json(run/"metrics.jsonl", lines=True); acc = m[m.metric == "acc"]
    assert set(zip(acc.weighting, acc.target)) == {("uniform", "noise"), ("uniform", "x0"), ("exp7", "noise"), ("exp7", "x0")}
    assert set(acc.schedule) == {"topk"}


@pytest.mark.slow   # a kernel start (~10 s) for one error message: outside the 45 s budget of this file; `make test-slow` runs it
def test_bad_schedule_is_refused_before_any_training(tmp_path):
    from oodgen.runs import CLIError, run_stage
    with pytest.raises(CLIError, match="unknown schedule 'greedy'; known: ttest, topk"):
        run_stage("diffusion", {**TINY, "schedules": ["greedy"]}, name="bad", out=tmp_path, progress=False)
    assert not (tmp_path/"bad"/"per_image.csv").exists()
