"""Stage 1's trainer on a tiny caption set, alone or under `accelerate launch` (used by tests/test_multiprocess.py).

Image features are given (a frozen, cached image tower); the caption tower (a small BiGRU) is trainable, so a step
exercises both halves of the distributed step: gathered cached features and gradients back through each process's own
encoder. usage: python stage1_dist.py OUT BATCH_SIZE [--max-steps K] [--resume]"""
import argparse

import torch

from oodgen.core import RunRecord
from oodgen.data.captions import CaptionPairs
from oodgen.models.cross_attention import ImageTextMatcher
from oodgen.models.encoders import ImageFeatures, create_image_encoder, create_text_encoder
from oodgen.train.contrastive import ContrastiveTrainer, PairData, TrainConfig

ap = argparse.ArgumentParser()
ap.add_argument("out"); ap.add_argument("batch_size", type=int)
ap.add_argument("--max-steps", type=int, default=None); ap.add_argument("--resume", action="store_true")
a = ap.parse_args()

torch.manual_seed(0)
n = 16
images = list(torch.rand(n, 3, 8, 8))
# two captions per image, each shared by the images of one class: several positives per row (the masked loss)
pairs = CaptionPairs(images, [(k, f"digit {k % 5} drawn {s}{' ' * (k % 3)}word" * (1 + k % 2)) for k in range(n)
                              for s in ("thin", "bold")], name="toy")
ie = create_image_encoder("resnet18", pretrained=False, trainable=False, input_size=32)
te = create_text_encoder("bigru", pretrained=False, trainable=True, hidden=8, emb_dim=16)
g = torch.Generator().manual_seed(1)
feats = ImageFeatures(torch.randn(n, ie.dim, generator=g), torch.randn(n, 4, ie.token_dim, generator=g), (2, 2))
model = ImageTextMatcher(ie, te, embed_dim=16, heads=2, dropout=0.0)
cfg = TrainConfig(epochs=2, batch_size=a.batch_size, lr=1e-2, warmup_ratio=0.25, log_every=1, checkpoint_every=2,
                  device="cpu", seed=0)
trainer = ContrastiveTrainer(model, PairData(pairs, feats, None), None, cfg, run=RunRecord(a.out, resume=a.resume))
trainer.fit(resume=a.resume, max_steps=a.max_steps)
