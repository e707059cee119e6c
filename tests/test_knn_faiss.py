"""KNN through faiss (issue 27): the exact faiss index and the torch fallback give the same scores, and both rank as
OpenOOD's KNNPostprocessor (ported below: the normalised training bank in a faiss `IndexFlatL2`, score = minus the
k-th *squared* distance); without faiss `auto` falls back to torch and `backend='faiss'` names the extra."""
import json, os, subprocess, sys
from pathlib import Path

import numpy as np
import pytest
import torch

from oodgen.eval.outputs import ModelOutputs
from oodgen.eval.ood_scores import KNN

ROOT = Path(__file__).resolve().parents[1]


def ref_openood_knn(train: np.ndarray, test: np.ndarray, k: int) -> np.ndarray:
    "OpenOOD openood/postprocessors/knn_postprocessor.py (setup + postprocess), CPU."
    import faiss
    normalizer = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True) + 1e-10
    index = faiss.IndexFlatL2(train.shape[1]); index.add(normalizer(train).astype(np.float32))
    D, _ = index.search(normalizer(test).astype(np.float32), k)
    return -D[:, -1]


@pytest.fixture(scope="module")
def feats():
    g = torch.Generator().manual_seed(0)
    tr, te = torch.relu(torch.randn(3000, 64, generator=g)), torch.relu(torch.randn(1000, 64, generator=g) * 1.5)
    return ModelOutputs(torch.zeros(len(tr), 2), features=tr), ModelOutputs(torch.zeros(len(te), 2), features=te)


def test_faiss_torch_and_openood_agree(feats):
    pytest.importorskip("faiss")
    from sklearn.neighbors import NearestNeighbors
    tr, te = feats
    fa, to = KNN(k=50, backend="faiss").fit(tr), KNN(k=50, backend="torch").fit(tr)
    assert fa.config()["backend"] == "faiss" and to.config()["backend"] == "torch"
    assert KNN(k=50).fit(tr).config()["backend"] == "faiss"                       # auto picks faiss when installed
    s_fa, s_to = fa.score(te).numpy(), to.score(te).numpy()
    np.testing.assert_allclose(s_fa, s_to, rtol=1e-4, atol=1e-5)
    bank = torch.nn.functional.normalize(tr.features, dim=1).numpy(); q = torch.nn.functional.normalize(te.features, dim=1).numpy()
    d, _ = NearestNeighbors(n_neighbors=50).fit(bank).kneighbors(q)                # the plain formula
    np.testing.assert_allclose(s_fa, -d[:, -1], rtol=1e-4, atol=1e-5)
    ref = ref_openood_knn(tr.features.numpy(), te.features.numpy(), 50)           # squared distances: same numbers squared
    np.testing.assert_allclose(-s_fa ** 2, ref, rtol=1e-4, atol=1e-5)
    assert (np.argsort(s_fa, kind="stable") == np.argsort(ref, kind="stable")).mean() > 0.99


def test_without_faiss_auto_falls_back_and_faiss_names_the_extra(feats):
    code = """import sys, json, torch; sys.modules['faiss'] = None
from oodgen.eval.outputs import ModelOutputs
from oodgen.eval.ood_scores import KNN
g = torch.Generator().manual_seed(0); tr = torch.randn(200, 8, generator=g); te = torch.randn(50, 8, generator=g)
kn = KNN(k=5).fit(ModelOutputs(torch.zeros(200, 2), features=tr))
out = {"backend": kn.config()["backend"], "scores": kn.score(ModelOutputs(torch.zeros(50, 2), features=te)).tolist()}
try: KNN(k=5, backend="faiss").fit(ModelOutputs(torch.zeros(200, 2), features=tr)); out["error"] = None
except Exception as e: out["error"] = str(e)
print(json.dumps(out))"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["backend"] == "torch" and "oodgen[faiss]" in out["error"]
    g = torch.Generator().manual_seed(0); tr = torch.randn(200, 8, generator=g); te = torch.randn(50, 8, generator=g)
    here = KNN(k=5, backend="torch").fit(ModelOutputs(torch.zeros(200, 2), features=tr)).score(ModelOutputs(torch.zeros(50, 2), features=te))
    np.testing.assert_allclose(out["scores"], here.numpy(), rtol=1e-6)
