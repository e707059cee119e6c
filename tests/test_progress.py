"""Progress you can trust (issue 24): a stage's per-step bars reach the log of the process that runs it, as lines (no
carriage-return redraws), prefixed with the run's name when stages run at once (`run_stage_process`, the pipeline's
`--jobs` path), and the stage still finishes."""
import io, os

from oodgen.runs import run_stage_process


def test_stage_bars_stream_into_the_log_as_prefixed_lines(tmp_path):
    log = io.StringIO()
    params = {"test_domains": ["colored"], "seeds": [0], "steps": 20, "eval_every": 0, "algorithms": ["ERM"], "jobs": 1}
    r = run_stage_process("benchmark", params, "tiny", tmp_path, jobs=1, log=log)
    text = log.getvalue()
    assert r.returncode == 0, text[-3000:]
    assert (tmp_path/"tiny"/"done").exists()
    lines = text.splitlines()
    assert lines and all(l.startswith("[tiny] ") for l in lines) and "\r" not in text and "\x1b" not in text
    bars = [l for l in lines if "%|" in l]
    assert any(" units: " in l for l in bars), bars                           # the stage's loop over units
    assert any("ERM_colored" in l and "/20 [" in l for l in bars), bars       # a unit's per-step training bar
