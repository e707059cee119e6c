"""What `import oodgen` and `import oodgen.benchmark` cost (issue 27 goals: < 1 s and < 3 s on an idle 2-core machine),
and `oodgen.cli` / `oodgen.runs`, the parent process of every run (< 1 s: they must not load torch).

    python tests/benchmarks/import_time.py [--repeats 3]

Each import runs in a fresh interpreter under `python -X importtime`; the figure is the top-level module's cumulative
import time from that report (the best of `--repeats`, so a busy moment does not count), with the wall time of the
whole interpreter beside it and the five slowest packages it pulled in. Printed figures only, no timed asserts.
"""
import argparse, re, subprocess, sys, time

GOALS = {"oodgen": 1.0, "oodgen.benchmark": 3.0, "oodgen.cli": 1.0,
         "oodgen.runs": 1.0}     # what `oodgen run` / `pipeline` load before the kernel starts: no torch

def importtime(module: str) -> tuple[float, float, list]:
    "(cumulative import seconds of `module`, wall seconds of the interpreter, [(package, seconds)] of the heaviest packages, nested ones counted in their parents too)."
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    rows = [m.groups() for m in re.finditer(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", r.stderr)]
    total = next(int(c) for s, c, ind, name in rows if name == module and not ind) / 1e6
    top = sorted({name: int(c) / 1e6 for s, c, ind, name in rows if "." not in name and not name.startswith(("oodgen", "_"))
                  and name not in sys.stdlib_module_names and int(c) >= 10_000}.items(),
                 key=lambda x: -x[1])[:5]
    return total, wall, top

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args(argv)
    for module, goal in GOALS.items():
        best = min((importtime(module) for _ in range(a.repeats)), key=lambda x: x[0])
        ok = "meets" if best[0] < goal else "MISSES"
        print(f"import {module:17s} {best[0]:6.2f} s (interpreter wall {best[1]:5.2f} s)  goal < {goal:.0f} s: {ok}")
        if best[2]: print("    heaviest packages (cumulative): " + ", ".join(f"{n} {s:.2f} s" for n, s in best[2]))

if __name__ == "__main__": main()
