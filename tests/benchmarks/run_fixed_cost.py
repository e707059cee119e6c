"""A run's fixed cost: `oodgen run benchmark -p steps 1` against the same cells run as plain Python (issue 27 goal:
< 3 s beyond the work), and what a later pipeline step pays (`run_stage` in a process that has loaded everything).

    python tests/benchmarks/run_fixed_cost.py [--stage benchmark] [-p steps 1] [-p seeds "[0]" ...]

The work: the stage's experiment notebook (`oodgen.runs.experiment_notebook`: parameters, library cell, experiment
cells) written out as one Python script with the same parameters and run by `python` in a fresh process, headless.
The run: the `oodgen run` command line in a fresh process (its imports, parameter checks, papermill, the kernel and
the same cells). A pipeline step: a second `run_stage` in this process after a first one (what `oodgen pipeline` pays
per stage). Fixed cost = run - work. Wall seconds, one measurement each: on a shared machine, say the load.
Printed figures only, no timed asserts.
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path

def plain_script(stage: str, params: dict, out_dir: Path) -> str:
    "The experiment cells of `stage` as one Python script, the parameters set as papermill would inject them."
    from oodgen.runs import experiment_notebook, find_stage
    nb = experiment_notebook(find_stage(stage)); parts = []
    for c in nb.cells:
        if c.cell_type != "code": continue
        parts.append(c.source)
        if "parameters" in c.metadata.get("tags", []):
            parts.append("\n".join(f"{k} = {v!r}" for k, v in {**params, "out_dir": str(out_dir)}.items()))
    return "\n\n".join(parts) + "\n"

def timed(fn) -> tuple[float, float]:
    "(wall, CPU) seconds of `fn()`: CPU of this process and of the child processes it waited for (the kernel, a command)."
    cpu = lambda: time.process_time() + sum(getattr(resource.getrusage(resource.RUSAGE_CHILDREN), f) for f in ("ru_utime", "ru_stime"))
    w, c = time.perf_counter(), cpu(); fn(); return time.perf_counter() - w, cpu() - c

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stage", default="benchmark")
    ap.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[["steps", "1"]])
    ap.add_argument("--repeats", type=int, default=2, help="each measurement, interleaved; the fastest counts")
    a = ap.parse_args(argv)
    from oodgen.runs import parse_value, run_stage
    params = {k: parse_value(v) for k, v in a.param}
    tmp = Path(tempfile.mkdtemp(prefix="fixed-cost-"))
    env = dict(os.environ, OODGEN_HEADLESS="1", MPLBACKEND="Agg")
    pairs = [x for k, v in params.items() for x in ("-p", k, json.dumps(v))]
    run_stage(a.stage, params, name="warm-up", out=tmp, progress=False)      # this process loads what a pipeline has loaded
    best = {}
    for i in range(a.repeats):
        (tmp/f"plain{i}").mkdir(); (tmp/"work.py").write_text(plain_script(a.stage, params, tmp/f"plain{i}"))
        todo = {"work": lambda: subprocess.run([sys.executable, str(tmp/"work.py")], cwd=tmp/f"plain{i}", env=env, check=True,
                                               capture_output=True),
                "run": lambda: subprocess.run([sys.executable, "-m", "oodgen.cli", "run", a.stage, *pairs, "--out", str(tmp),
                                               "--name", f"cli{i}", "--quiet"], check=True, capture_output=True),
                "step": lambda: run_stage(a.stage, params, name=f"step{i}", out=tmp, progress=False)}
        for k, fn in todo.items():
            t = timed(fn); best[k] = tuple(map(min, zip(best.get(k, t), t)))
    (w0, c0) = best["work"]
    print(f"oodgen run {a.stage} {' '.join(f'-p {k} {json.dumps(v)}' for k, v in params.items())}  "
          f"(load {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs; best of {a.repeats}; wall / CPU seconds)")
    print(f"  the cells as plain Python: {w0:6.1f} / {c0:6.1f} s")
    for k, what in (("run", "oodgen run:               "), ("step", "a later pipeline step:    ")):
        w, c = best[k]
        print(f"  {what} {w:6.1f} / {c:6.1f} s   fixed cost {w - w0:5.1f} / {c - c0:5.1f} s  goal < 3 s: "
              f"{'meets' if w - w0 < 3 else 'MISSES'}")

if __name__ == "__main__": main()
