"""Time of every OOD score in `oodgen.eval.ood_scores.OOD_SCORES` per 10,000 samples (LINe included), on synthetic features.

    python tests/benchmarks/ood_scores_speed.py [--n 10000] [--dim 512] [--classes 10] [--train 5000] [--device cpu]
    python tests/benchmarks/ood_scores_speed.py --dim 2048 --classes 1000 --train 20000   # ImageNet-sized head

Features are ReLU'd Gaussians (N, dim) through a random linear head with `classes` outputs; the statistics are fitted
on `train` rows (fit time printed apart). Post-hoc scores on features / logits do not include the network's forward
pass; ODIN does (it perturbs the input): a SmallCNN on 32x32 images, two forward passes and one backward per image.
"""
import argparse, time

import torch
import torch.nn as nn
import torch.nn.functional as F

from oodgen.eval.outputs import ModelOutputs
from oodgen.models.classifiers import SmallCNN
from oodgen.eval.ood_scores import OOD_SCORES, make_score


def timed(fn, dev):
    if dev.type == "cuda": torch.cuda.synchronize()
    t = time.perf_counter(); r = fn()
    if dev.type == "cuda": torch.cuda.synchronize()
    return r, time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="samples scored")
    ap.add_argument("--dim", type=int, default=512, help="penultimate feature size")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--train", type=int, default=5_000, help="ID training rows the statistics are fitted on")
    ap.add_argument("--odin-n", type=int, default=1_000, help="images ODIN is timed on (scaled to --n)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    dev, g = torch.device(a.device), torch.Generator().manual_seed(0)
    head = nn.Linear(a.dim, a.classes)
    f_tr, f_te = F.relu(torch.randn(a.train, a.dim, generator=g)), F.relu(torch.randn(a.n, a.dim, generator=g))
    with torch.no_grad(): tr = ModelOutputs(head(f_tr), torch.arange(a.train) % a.classes, f_tr); te = ModelOutputs(head(f_te), None, f_te)
    print(f"{a.n:,} samples, features {a.dim}, {a.classes} classes, fitted on {a.train:,} rows, device {dev}, "
          f"{torch.get_num_threads()} threads")
    print(f"  {'score':12s} {'fit (s)':>9s} {'s / 10k samples':>16s}")
    for name in OOD_SCORES:
        s = make_score(name)
        if s.needs == "images":
            net = SmallCNN(a.classes).to(dev).eval(); x = torch.rand(a.odin_n, 3, 32, 32, generator=g)
            _, tf = timed(lambda: s.fit(model=net), dev)
            s.score(None, images=x[:8])                                          # warm-up
            _, t = timed(lambda: s.score(None, images=x), dev); t *= a.n / a.odin_n
        else:
            _, tf = timed(lambda: s.fit(tr, head=head), dev)
            s.score(ModelOutputs(te.logits[:8], None, te.features[:8]))           # warm-up
            _, t = timed(lambda: s.score(te), dev)
        print(f"  {name:12s} {tf:9.3f} {t * 10_000 / a.n:16.3f}" + ("   (includes the network)" if s.needs == "images" else ""),
              flush=True)


if __name__ == "__main__":
    main()
