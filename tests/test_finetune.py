"""The fine-tuning registry (27_train.finetune): filled on import, without importing any stage; CAR-FT's
context-recognition accuracy against a hand computation."""
import math, subprocess, sys

import torch


def test_registry_fills_on_import_without_a_stage():
    code = ("import sys, oodgen.train.finetune as f; print(sorted(f.FINETUNERS)); "
            "print(any(m.startswith('oodgen.zeroshot') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert eval(out[0]) == sorted(["LP", "FT", "LPFT", "WiSE-FT", "soup_uniform", "soup_greedy", "CAR-FT", "CAR-FT+WiSE-FT",
                                   "CAR-FT+soup_uniform", "CAR-FT+soup_greedy", "FLYP"])
    assert out[1] == "False"


def test_context_accuracy_by_hand():
    "Three contexts, one class, scale 10: per image the context whose prompts hold the most probability (sum) / the best cosine (max)."
    from oodgen.train.finetune import context_accuracy, context_scores
    deg = lambda a: [math.cos(math.radians(a)), math.sin(math.radians(a))]
    prompts = torch.tensor([deg(0), deg(120), deg(240), deg(100)])          # context 1 has two prompts (120 and 100 degrees)
    owner = torch.tensor([0, 1, 2, 1])
    images = torch.tensor([deg(10), deg(110), deg(200), deg(60)])
    truth = torch.tensor([0, 1, 2, 0])
    want_sum, want_max = [], []
    for im in images.tolist():
        cos = [im[0] * p[0] + im[1] * p[1] for p in prompts.tolist()]
        e = [math.exp(10 * c) for c in cos]
        prob = [x / sum(e) for x in e]
        ctx_sum = [sum(pr for pr, o in zip(prob, owner.tolist()) if o == k) for k in range(3)]
        ctx_max = [max(10 * c for c, o in zip(cos, owner.tolist()) if o == k) for k in range(3)]
        want_sum.append(max(range(3), key=ctx_sum.__getitem__)); want_max.append(max(range(3), key=ctx_max.__getitem__))
    # image 3 (60 degrees) sits between context 0 (0) and context 1's prompt at 100: max picks 1 (40 vs 60 degrees away),
    # and context 1's second prompt at 120 adds probability to the sum
    assert want_sum == want_max == [0, 1, 2, 1]
    assert context_accuracy(images, truth, prompts, owner, 3, 10.0, "sum") == 0.75
    assert context_accuracy(images, truth, prompts, owner, 3, 10.0, "max") == 0.75
    assert context_scores(images, prompts, owner, 3, 10.0, "sum").argmax(1).tolist() == want_sum
    assert context_scores(images, prompts, owner, 3, 10.0, "max").argmax(1).tolist() == want_max
    torch.testing.assert_close(context_scores(images, prompts, owner, 3, 10.0, "sum").sum(1), torch.ones(4))
