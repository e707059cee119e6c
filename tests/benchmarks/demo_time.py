"""The demo's minutes (issue 27 goal: the pipeline of `make demo` in <= 5 min on the 2-core machine, install excluded),
read from a finished pipeline folder: no run here, `make demo` (14 min) is too long for `make bench`.

    python tests/benchmarks/demo_time.py [runs/pipeline-<time>]     # default: the newest runs/pipeline-*

Per step: from its `params.json` (written when the run starts) to its `done` marker; the pipeline: from its
`pipeline.json` to the last `done`. Steps of one group overlap (`--jobs 2`), so their minutes add up to more than
the group's. Wall minutes: say the load the demo ran under. Printed figures only, no timed asserts.
"""
import argparse, sys
from pathlib import Path

GOAL_MIN = 5.0

def step_minutes(root: Path) -> dict:
    "run name -> minutes from its params.json to its done marker, for the finished runs of a pipeline folder."
    return {d.name: ((d/"done").stat().st_mtime - (d/"params.json").stat().st_mtime) / 60
            for d in sorted(root.iterdir()) if (d/"done").is_file() and (d/"params.json").is_file()}

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pipeline", nargs="?", help="a pipeline folder (default: the newest runs/pipeline-*)")
    a = ap.parse_args(argv)
    cands = [Path(a.pipeline)] if a.pipeline else sorted(Path("runs").glob("pipeline-*"), key=lambda p: p.stat().st_mtime)
    root = cands[-1] if cands else None
    if root is None or not (root/"pipeline.json").is_file():
        print(f"demo pipeline: no finished pipeline folder ({a.pipeline or 'runs/pipeline-*'}); run `make demo` first. "
              f"goal <= {GOAL_MIN:.0f} min"); return
    steps = step_minutes(root)
    if not steps: print(f"demo pipeline {root}: no finished step yet"); return
    end = max((root/n/"done").stat().st_mtime for n in steps)
    total = (end - (root/"pipeline.json").stat().st_mtime) / 60
    print(f"demo pipeline {root}: {total:.1f} min  goal <= {GOAL_MIN:.0f} min: {'meets' if total <= GOAL_MIN else 'MISSES'}")
    print("    steps: " + ", ".join(f"{n} {m:.1f}" for n, m in steps.items()))

if __name__ == "__main__": main()
