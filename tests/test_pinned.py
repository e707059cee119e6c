"""The demo's numbers, pinned: two of its Stage 2 units with the demo's settings (Digits-Shift, 100 steps, 21 images per
training domain a step) in portable numerics (`OODGEN_PORTABLE=1`: torch's default kernels, MKL's COMPATIBLE branch, no
oneDNN / NNPACK, one thread), the mode `make demo` runs in. Portable numbers are the same on every x86-64 CPU, so they
are pinned exactly; each unit runs in a fresh process (the kernels are chosen before torch loads) under the machine's own
kernels and under kernels capped at AVX2, as another CPU would have them. A change that moves what `make demo` prints
shows here: if the move is intended, update PINS and the README's demo table (`oodgen report`) in the same commit.

Without portable mode the same unit moves with the CPU: on one AMD EPYC (AVX-512) the gray in-domain accuracy of the ERM
unit was 0.806 (AVX-512 kernels), 0.836 (capped at AVX2), 0.847 (torch default kernels, oneDNN at SSE4.1) and 0.886
(portable), so unpinned runs are compared by `oodgen compare`, not to the digit."""
import json, os, subprocess, sys
from pathlib import Path
import pytest
import torch

import oodgen.benchmark as B
from oodgen.data.domains import DigitsShift

PINS = {  # (algorithm, held-out domain) -> {(metric, domain, split): value at the last step}, portable numerics
    ('ERM', 'colored'): {
        ('acc', 'colored', 'in'): 0.144847, ('acc', 'colored', 'out'): 0.122222,
        ('acc', 'gray', 'in'): 0.886111, ('acc', 'gray', 'out'): 0.9,
        ('acc', 'inverted', 'in'): 0.668524, ('acc', 'inverted', 'out'): 0.544444,
        ('acc', 'rotated', 'in'): 0.738162, ('acc', 'rotated', 'out'): 0.777778,
        ('macro_f1', 'colored', 'in'): 0.095382, ('macro_f1', 'colored', 'out'): 0.075117,
        ('macro_f1', 'gray', 'in'): 0.882409, ('macro_f1', 'gray', 'out'): 0.894102,
        ('macro_f1', 'inverted', 'in'): 0.616423, ('macro_f1', 'inverted', 'out'): 0.546093,
        ('macro_f1', 'rotated', 'in'): 0.73968, ('macro_f1', 'rotated', 'out'): 0.758112},
    ('ERM_AugMix', 'colored'): {
        ('acc', 'colored', 'in'): 0.133705, ('acc', 'colored', 'out'): 0.144444,
        ('acc', 'gray', 'in'): 0.833333, ('acc', 'gray', 'out'): 0.855556,
        ('acc', 'inverted', 'in'): 0.791086, ('acc', 'inverted', 'out'): 0.644444,
        ('acc', 'rotated', 'in'): 0.626741, ('acc', 'rotated', 'out'): 0.588889,
        ('macro_f1', 'colored', 'in'): 0.037698, ('macro_f1', 'colored', 'out'): 0.040376,
        ('macro_f1', 'gray', 'in'): 0.831778, ('macro_f1', 'gray', 'out'): 0.858618,
        ('macro_f1', 'inverted', 'in'): 0.76586, ('macro_f1', 'inverted', 'out'): 0.635145,
        ('macro_f1', 'rotated', 'in'): 0.623509, ('macro_f1', 'rotated', 'out'): 0.583869}}

# the kernel caps of the machine this runs on (none) and of an AVX2 machine; portable mode must not care
CAPS = {"native": {}, "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2"}}

def unit_result(algorithm: str, test_domain: str = "colored") -> dict:
    "The demo unit's last-step accuracy / macro-F1 records, in this process (one thread, as each demo worker)."
    threads = torch.get_num_threads(); torch.set_num_threads(1)
    try:
        ds = DigitsShift()
        job = B.unit_jobs(ds, [algorithm], [test_domain], 1, [0], False)[0]
        out = B.train_unit(ds, job, steps=100, hparams={"batch_size": 21}, holdout=0.2, device="cpu", eval_every=None,
                           hparams_seed=0, ckpt_dir=None)
    finally: torch.set_num_threads(threads)
    return {(m, t.get("domain"), t.get("split")): round(v, 6) for m, v, t in out["records"] if m in ("acc", "macro_f1")}

def portable_results(algorithms, caps: dict) -> dict:
    "The units' records from a fresh process in portable mode, started with the kernel caps `caps` in its environment."
    code = (f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import oodgen.core as C; "
            "from test_pinned import unit_result; "
            f"print(json.dumps({{'isa': C.numerics_info()['isa'], 'out': {{a: [[*k, v] for k, v in unit_result(a).items()] "
            f"for a in {list(algorithms)!r}}}}}))")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_CBWR", "ATEN_CPU_CAPABILITY")}
    r = subprocess.run([sys.executable, "-c", code], env={**env, **caps, "OODGEN_PORTABLE": "1"}, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["isa"] == "DEFAULT", got["isa"]
    return {a: {tuple(x[:3]): x[3] for x in recs} for a, recs in got["out"].items()}

# ERM under the machine's kernels in `make test`; ERM_AugMix (the slow one, once) and the AVX2 cap in `make test-slow` (CI)
@pytest.mark.parametrize("cap,algorithm", [("native", "ERM"), pytest.param("native", "ERM_AugMix", marks=pytest.mark.slow),
                                           pytest.param("avx2", "ERM", marks=pytest.mark.slow)])
def test_demo_units_give_the_pinned_numbers(cap, algorithm):
    algorithms = [algorithm]
    got = portable_results(algorithms, CAPS[cap])
    for a in algorithms:
        assert got[a] == PINS[(a, "colored")], f"{a} under {cap} kernels: numbers moved; got {got[a]}"
