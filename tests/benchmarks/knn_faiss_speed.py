"""KNN OOD score vs faiss itself (issue 27: within 1.1x of faiss), on the same synthetic features.

    python tests/benchmarks/knn_faiss_speed.py [--train 20000] [--n 5000] [--dim 512] [--k 50] [--threads 1] [--repeat 3]

faiss: `faiss.normalize_L2` on the features, an exact `IndexFlatL2` built from the training bank, `search` of the test
rows (OpenOOD's KNN). Ours: `oodgen.eval.ood_scores.KNN(backend=...)`: `fit` (normalise, build the index) + `score`; the torch
backend (the fallback without faiss) is timed too. Best of `--repeat`; needs the `[faiss]` extra.
"""
import argparse, time

import numpy as np
import torch

from oodgen.core import require
from oodgen.eval.outputs import ModelOutputs
from oodgen.eval.ood_scores import KNN


def best(fn, repeat: int):
    ts = []
    for _ in range(repeat): t = time.perf_counter(); r = fn(); ts.append(time.perf_counter() - t)
    return r, min(ts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=20_000, help="ID training rows in the bank")
    ap.add_argument("--n", type=int, default=5_000, help="rows scored")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads of torch and faiss (0: their defaults)")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    faiss = require("faiss", "this benchmark")
    if a.threads: torch.set_num_threads(a.threads)
    faiss.omp_set_num_threads(torch.get_num_threads())
    g = torch.Generator().manual_seed(0)
    tr, te = torch.relu(torch.randn(a.train, a.dim, generator=g)), torch.relu(torch.randn(a.n, a.dim, generator=g))
    out_tr, out_te = ModelOutputs(torch.zeros(a.train, 1), features=tr), ModelOutputs(torch.zeros(a.n, 1), features=te)

    def faiss_own():
        x, q = tr.numpy().copy(), te.numpy().copy()
        faiss.normalize_L2(x); faiss.normalize_L2(q)
        index = faiss.IndexFlatL2(a.dim); index.add(x)
        return -np.sqrt(np.maximum(index.search(q, a.k)[0][:, -1], 0))
    ref, t_ref = best(faiss_own, a.repeat)
    print(f"KNN k={a.k}: bank {a.train:,} x {a.dim}, {a.n:,} rows scored, {torch.get_num_threads()} thread(s); "
          f"faiss {faiss.__version__} (fit + score, best of {a.repeat})")
    print(f"  {'':14s} {'seconds':>8s} {'vs faiss':>9s}  goal")
    print(f"  {'faiss itself':14s} {t_ref:8.3f} {1.0:8.2f}x")
    for backend in ("faiss", "torch"):
        s, t = best(lambda: KNN(k=a.k, backend=backend).fit(out_tr).score(out_te), a.repeat)
        same = np.allclose(s.numpy(), ref, rtol=1e-4, atol=1e-5)
        goal = ("<= 1.1x " + ("met" if t / t_ref <= 1.1 else "NOT met")) if backend == "faiss" else "(fallback)"
        print(f"  {'oodgen ' + backend:14s} {t:8.3f} {t / t_ref:8.2f}x  {goal}; same scores: {same}", flush=True)


if __name__ == "__main__":
    main()
