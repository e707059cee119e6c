"""Stage 1 feature cache: one training epoch with the frozen encoders recomputed at every step vs. one that reads
cached features (same model, data, batches and optimizer). Prints samples/s for both and the speed-up.

    .venv/bin/python tests/benchmarks/stage1_cache_speed.py [--limit 24] [--image-size 128] [--batch-size 32]

Real encoders (offline): efficientnet-lite0 (ImageNet) and MiniLM, on Digits-Shift template-caption pairs.
"""
import argparse, tempfile, time

import torch

from oodgen.train.contrastive import ContrastiveTrainer, model_inputs, pair_data, TrainConfig
from oodgen.models.cross_attention import ImageTextMatcher
from oodgen.data.captions import labelled_caption_splits
from oodgen.data.domains import DigitsShift
from oodgen.models.encoders import create_image_encoder, create_text_encoder
from oodgen.models.feature_cache import FeatureCache


def epoch_throughput(model, data, cfg) -> float:
    "Pairs per second over one training epoch (forward, masked CLIP loss, backward, AdamW step)."
    trainer = ContrastiveTrainer(model, data, config=cfg, out_dir=tempfile.mkdtemp())   # for its batches and loss
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr)
    model.train(); n = 0
    t = time.perf_counter()
    for batch in trainer.loader(data, cfg.seed):
        loss = trainer.loss(model(**model_inputs(batch)), batch)["loss"]
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        n += len(batch["pair_index"])
    return n / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=24, help="images per training domain")
    ap.add_argument("--image-size", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=32)
    a = ap.parse_args()
    torch.manual_seed(0)
    pairs = labelled_caption_splits(DigitsShift(), "rotated", limit=a.limit)["train"]
    ie = create_image_encoder("efficientnet_lite0", trainable=False, input_size=a.image_size)
    te = create_text_encoder("minilm", trainable=False)
    cfg = TrainConfig(batch_size=a.batch_size, device="cpu")
    def fresh():
        torch.manual_seed(0); return ImageTextMatcher(ie, te, embed_dim=128, heads=4)

    print(f"{len(pairs)} pairs ({len(pairs.images)} images, {len(pairs.texts)} captions), batch {a.batch_size}, "
          f"efficientnet-lite0 @ {a.image_size}px + MiniLM, frozen; torch threads {torch.get_num_threads()}")
    raw = epoch_throughput(fresh(), pair_data(fresh(), pairs, cache=None), cfg)
    print(f"recomputed every step: {raw:8.1f} samples/s")

    cache = FeatureCache(tempfile.mkdtemp())
    t = time.perf_counter(); cached_data = pair_data(fresh(), pairs, cache); build = time.perf_counter() - t
    t = time.perf_counter(); pair_data(fresh(), pairs, cache); reread = time.perf_counter() - t
    cached = epoch_throughput(fresh(), cached_data, cfg)
    print(f"cached features:       {cached:8.1f} samples/s  (cache built once in {build:.1f}s, re-read in {reread:.2f}s)")
    print(f"speed-up: {cached / raw:.1f}x")


if __name__ == "__main__":
    main()
