"""The demo's numbers, pinned: two of its Stage 2 units with the demo's settings (Digits-DG, 100 steps, 21 images per
training domain a step, one CPU thread as in each of the demo's two workers). A change that moves what `make demo`
prints shows here. If the move is intended, update PINS and the README's demo table in the same commit (the README
states the commit its table was made at)."""
import pytest
import torch

import oodgen.benchmark as B
from oodgen.data.domains import DigitsDG

PINS = {  # (algorithm, held-out domain) -> {(metric, domain, split): value at the last step}, made at the commit that adds them
    ("ERM", "colored"): {("acc", "colored", "in"): 0.142061, ("acc", "colored", "out"): 0.122222,
                         ("acc", "gray", "in"): 0.872222, ("acc", "gray", "out"): 0.866667,
                         ("acc", "inverted", "in"): 0.584958, ("acc", "inverted", "out"): 0.466667,
                         ("acc", "rotated", "in"): 0.713092, ("acc", "rotated", "out"): 0.766667,
                         ("macro_f1", "colored", "in"): 0.095082, ("macro_f1", "colored", "out"): 0.074753,
                         ("macro_f1", "gray", "in"): 0.867328, ("macro_f1", "gray", "out"): 0.855571,
                         ("macro_f1", "inverted", "in"): 0.543809, ("macro_f1", "inverted", "out"): 0.477665,
                         ("macro_f1", "rotated", "in"): 0.718858, ("macro_f1", "rotated", "out"): 0.735912},
    ("ERM_AugMix", "colored"): {("acc", "colored", "in"): 0.133705, ("acc", "colored", "out"): 0.133333,
                                ("acc", "gray", "in"): 0.844444, ("acc", "gray", "out"): 0.844444,
                                ("acc", "inverted", "in"): 0.740947, ("acc", "inverted", "out"): 0.622222,
                                ("acc", "rotated", "in"): 0.654596, ("acc", "rotated", "out"): 0.622222,
                                ("macro_f1", "colored", "in"): 0.03699, ("macro_f1", "colored", "out"): 0.033827,
                                ("macro_f1", "gray", "in"): 0.841244, ("macro_f1", "gray", "out"): 0.848058,
                                ("macro_f1", "inverted", "in"): 0.705895, ("macro_f1", "inverted", "out"): 0.621822,
                                ("macro_f1", "rotated", "in"): 0.655888, ("macro_f1", "rotated", "out"): 0.602984}}

def unit_result(algorithm: str, test_domain: str = "colored") -> dict:
    threads = torch.get_num_threads(); torch.set_num_threads(1)
    try:
        ds = DigitsDG()
        job = B.unit_jobs(ds, [algorithm], [test_domain], 1, [0], False)[0]
        out = B.train_unit(ds, job, steps=100, hparams={"batch_size": 21}, holdout=0.2, device="cpu", eval_every=None,
                           hparams_seed=0, ckpt_dir=None)
    finally: torch.set_num_threads(threads)
    return {(m, t.get("domain"), t.get("split")): round(v, 6) for m, v, t in out["records"] if m in ("acc", "macro_f1")}

@pytest.mark.parametrize("algorithm", ["ERM", "ERM_AugMix"])
def test_demo_units_give_the_pinned_numbers(algorithm):
    got = unit_result(algorithm)
    want = PINS[(algorithm, "colored")]
    assert got == want, f"{algorithm}: numbers moved; got {got}"
