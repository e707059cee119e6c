"""Parallel units that pay: 2 benchmark units trained with `jobs=2` against `jobs=1` (issue 27 goal: >= 1.6x on an
idle 2-core machine).

    python tests/benchmarks/jobs_speedup.py [--steps 80]

Two units (ERM, held-out `colored`, seeds 0 and 1) of `oodgen.benchmark.run_leave_one_domain_out` as `oodgen run
benchmark` trains them, once serially and once in 2 worker processes, each into a fresh run folder, in one call.
The figure is wall(jobs=1) / wall(jobs=2). Wall seconds, one measurement each: on a shared machine, say the load.
CPU seconds (this process and its workers) beside: what the workers' start-up costs, whatever the load.
Printed figures only, no timed asserts.
"""
import argparse, os, resource, tempfile, time

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=80)
    a = ap.parse_args(argv)
    from oodgen.benchmark import run_leave_one_domain_out
    from oodgen.core import RunRecord
    from oodgen.data.domains import DigitsShift
    cpu = lambda: time.process_time() + sum(getattr(resource.getrusage(resource.RUSAGE_CHILDREN), f) for f in ("ru_utime", "ru_stime"))
    ds, times, cpus = DigitsShift(), {}, {}
    for jobs in (1, 2):
        run = RunRecord(tempfile.mkdtemp(prefix=f"jobs{jobs}-"))
        t, c = time.perf_counter(), cpu()
        run_leave_one_domain_out(ds, run, ["ERM"], ["colored"], [0, 1], a.steps, device="cpu", eval_every=None, jobs=jobs)
        times[jobs], cpus[jobs] = time.perf_counter() - t, cpu() - c
    r = times[1] / times[2]
    print(f"2 units x {a.steps} steps (load {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs): jobs=1 {times[1]:.1f} s "
          f"({cpus[1]:.1f} s CPU), jobs=2 {times[2]:.1f} s ({cpus[2]:.1f} s CPU): {r:.2f}x  goal >= 1.6x: "
          f"{'meets' if r >= 1.6 else 'MISSES'}")

if __name__ == "__main__": main()
