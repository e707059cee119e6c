"""Time a Run All of stage notebooks the way Jupyter runs them: every cell of the notebook in a kernel whose working
folder is nbs/, no OODGEN_HEADLESS, and JPY_SESSION_NAME naming the notebook (what jupyter_server gives its kernels),
so a stage's quick profile applies as it would in JupyterLab. Runs go to a temporary $OODGEN_RUNS. Wall minutes and the kernel's CPU seconds (with the stage runs it started):
on a shared machine the CPU figure is the steadier one.

    python tools/time_run_all.py benchmark ood --profile quick --timeout 600
"""
import argparse, os, sys, tempfile, time
from pathlib import Path

def slowest_cells(nb, n: int = 3) -> str:
    "The `n` slowest cells of an executed notebook (nbclient's timing metadata): seconds and first line."
    from datetime import datetime
    def secs(c):
        t = c.get("metadata", {}).get("execution", {})
        a, b = t.get("iopub.execute_input"), t.get("shell.execute_reply")
        return (datetime.fromisoformat(b.rstrip("Z")) - datetime.fromisoformat(a.rstrip("Z"))).total_seconds() if a and b else 0
    cells = sorted((c for c in nb.cells if c.cell_type == "code"), key=secs, reverse=True)[:n]
    return "; ".join(f"{secs(c):.0f} s: {c.source.splitlines()[-1][:60] if c.source else ''}" for c in cells)

def run_all(nb_path: Path, profile: str | None, timeout: int) -> tuple[float, str]:
    "Seconds a Run All of `nb_path` took and how it ended (ok / the error / timeout), with its slowest cells."
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError
    nb = nbformat.read(str(nb_path), as_version=4)
    env = {k: v for k, v in os.environ.items() if k not in ("OODGEN_HEADLESS", "MPLBACKEND", "OODGEN_PROFILE")}
    env.update(JPY_SESSION_NAME=str(nb_path), OODGEN_RUNS=tempfile.mkdtemp(prefix="run-all-"))
    if profile: env["OODGEN_PROFILE"] = profile
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(nb_path.parent)}})
    old = dict(os.environ); os.environ.clear(); os.environ.update(env)      # the kernel inherits this environment
    import resource
    cpu = lambda: sum(getattr(resource.getrusage(resource.RUSAGE_CHILDREN), f) for f in ("ru_utime", "ru_stime"))
    t0, c0, how = time.time(), cpu(), "ok"
    try: client.execute()
    except CellTimeoutError: how = f"timeout (a cell ran over {timeout} s)"
    except CellExecutionError as e: how = f"error: {str(e).strip().splitlines()[-1][:200]}"
    finally: os.environ.clear(); os.environ.update(old)
    return time.time() - t0, f"kernel CPU {cpu() - c0:.0f} s, {how}; slowest cells: {slowest_cells(nb)}"

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stages", nargs="*", help="stage names (default: every stage)")
    ap.add_argument("--profile", choices=["quick", "full"], help="force a profile (OODGEN_PROFILE); default: what Jupyter gets")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell before giving up")
    a = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from oodgen.runs import STAGES
    for name in a.stages or list(STAGES):
        s, how = run_all(STAGES[name].notebook, a.profile, a.timeout)
        print(f"{name:13s} {s / 60:5.1f} min  {how}", flush=True)
