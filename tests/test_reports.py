"""Every table the README quotes is what `oodgen report` gives from the committed run records it names, and the
committed demo records are the portable ones."""
import json
from pathlib import Path

from oodgen.report import REPORT_BLOCK, report, stale_reports

REPO = Path(__file__).resolve().parents[1]

def test_readme_tables_come_from_their_records():
    text = (REPO/"README.md").read_text(encoding="utf-8")
    blocks = list(REPORT_BLOCK.finditer(text))
    assert blocks, "the README quotes no report block"
    for m in blocks: assert (REPO/m[2]/"metrics.jsonl").exists(), f"README names {m[2]}, which holds no metrics.jsonl"
    assert stale_reports(text, REPO) == [], "README tables differ from their records: run `oodgen report --readme`"

def test_demo_records_are_portable():
    env = json.loads((REPO/"results/demo/distill/env.json").read_text())
    assert env["numerics"]["portable"] and env["numerics"]["isa"] == "DEFAULT" and env["numerics"]["threads"] == 1
