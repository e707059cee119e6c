"""What portable numerics cost: one demo Stage 2 unit (ERM, held-out colored, 100 steps, 21 images per domain a step,
one thread) in a fresh process under the machine's own kernels, kernels capped at AVX2, and portable mode.

    python tests/benchmarks/portable_speed.py [--algorithm ERM] [--repeats 1]

Prints the unit's training + evaluation CPU seconds (imports excluded; CPU time, so a loaded machine changes it little) per mode, the ratio to native, and whether the
records equal the native ones (they do not: other kernels, other last bits, other accuracies after 100 steps).
"""
import argparse, json, os, subprocess, sys
from pathlib import Path

CODE = """
import json, sys, time
sys.path.insert(0, {tests!r})
import oodgen.core
from test_pinned import unit_result
t, c = time.perf_counter(), time.process_time(); r = unit_result({alg!r})
dt, dc = time.perf_counter() - t, time.process_time() - c
print(json.dumps({{"seconds": dt, "cpu": dc, "gray_in": r[("acc", "gray", "in")], "records": sorted(map(str, r.items()))}}))
"""
MODES = {"native": {}, "avx2-capped": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2"},
         "portable": {"OODGEN_PORTABLE": "1"}}

def run(alg: str, env: dict) -> dict:
    code = CODE.format(tests=str(Path(__file__).resolve().parents[1]), alg=alg)
    base = {k: v for k, v in os.environ.items() if k not in ("OODGEN_PORTABLE", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_CBWR")}
    r = subprocess.run([sys.executable, "-c", code], env={**base, "OMP_NUM_THREADS": "1", **env}, capture_output=True, text=True)
    if r.returncode: raise SystemExit(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--algorithm", default="ERM"); ap.add_argument("--repeats", type=int, default=1)
    a = ap.parse_args(argv)
    res = {m: [run(a.algorithm, env) for _ in range(a.repeats)] for m, env in MODES.items()}
    base = min(r["cpu"] for r in res["native"])
    print(f"{a.algorithm} demo unit, 1 thread, best of {a.repeats} (CPU seconds of the unit, wall seconds beside):")
    for m, rs in res.items():
        c, t = min(r["cpu"] for r in rs), min(r["seconds"] for r in rs)
        same = rs[0]["records"] == res["native"][0]["records"]
        print(f"  {m:12s} {c:6.1f} s CPU ({t:5.1f} s wall)  x{c / base:4.2f} of native   gray in-domain acc "
              f"{rs[0]['gray_in']:.3f}   records {'=' if same else '!='} native")
    print("goal: portable mode costs < 3x native on this unit (it fixes the kernels, so it is slower by design)")

if __name__ == "__main__": main()
