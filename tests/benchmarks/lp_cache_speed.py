"""Linear probe on cached frozen features vs. features recomputed: the same probe (zero-shot tower features of a
Digits-Shift held-out split, scikit-learn LogisticRegression over a C grid chosen on validation), once with the
EfficientNet-Lite0 features read from the on-disk `FeatureCache`, once with every image encoded again. Prints
both times and the speed ratio.

    .venv/bin/python tests/benchmarks/lp_cache_speed.py [--limit 120] [--image-size 128] [--Cs 5]

Real encoders (offline): efficientnet-lite0 (ImageNet) and MiniLM inside a (random-head) Stage 1 teacher: the
speed does not depend on the heads being trained.
"""
import argparse, time

import numpy as np
import torch
from torch.utils.data import Subset

from oodgen.data.domains import DigitsShift, split_domains
from oodgen.models.cross_attention import ImageTextMatcher
from oodgen.models.encoders import create_image_encoder, create_text_encoder
from oodgen.train.finetune import linear_probe, unit_features
from oodgen.zeroshot import split_inputs, stage1_model, template_set, zeroshot_classifier


def probe_time(model, ds, splits, on_features: bool, Cs) -> tuple[float, float]:
    "Seconds for features + probe on one held-out split, and the probe's validation accuracy."
    t = time.perf_counter()
    data = split_inputs(model, splits, on_features)
    zs = zeroshot_classifier(model, ds.classes, template_set("dataset", ds), on_features)
    fx = {k: unit_features(zs, data[k], "cpu") for k in ("train", "val")}
    probe, scores = linear_probe(*fx["train"], *fx["val"], Cs)
    return time.perf_counter() - t, max(scores.values())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=120, help="images per domain")
    ap.add_argument("--image-size", type=int, default=128)
    ap.add_argument("--Cs", type=int, default=5, help="points of the C grid (logspace(-3, 3))")
    a = ap.parse_args()
    torch.manual_seed(0)
    ds = DigitsShift()
    ds.datasets = [Subset(d, range(min(a.limit, len(d)))) for d in ds.datasets]
    splits = split_domains(ds, ["rotated"], seed=0)
    ie = create_image_encoder("efficientnet_lite0", trainable=False, input_size=a.image_size)
    te = create_text_encoder("minilm", trainable=False)
    model = stage1_model(ImageTextMatcher(ie, te, embed_dim=128, heads=4).eval())
    Cs = np.logspace(-3, 3, a.Cs)
    n = sum(len(d) for d in ds.datasets)
    print(f"Digits-Shift, {n} images ({a.limit} per domain), efficientnet-lite0 @ {a.image_size}px, {a.Cs} C values; "
          f"torch threads {torch.get_num_threads()}")
    first, _ = probe_time(model, ds, splits, True, Cs)          # builds the cache entries (whole domains) or reads them
    cached, acc_c = probe_time(model, ds, splits, True, Cs)
    recomputed, acc_r = probe_time(model, ds, splits, False, Cs)
    print(f"recomputed features: {recomputed:7.2f} s  (val acc {acc_r:.3f})")
    print(f"cached features:     {cached:7.2f} s  (val acc {acc_c:.3f}; first call, building or reading the cache: {first:.1f}s)")
    print(f"speed ratio: {recomputed / cached:.1f}x")


if __name__ == "__main__":
    main()
