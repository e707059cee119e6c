#!/usr/bin/env bash
# The GPU check (README "Running on a cluster"): each stage's step on CUDA, mixed precision and torch.compile on/off.
# Under 5 minutes on one GPU; prints "skipped" and exits 0 without one.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" tests/gpu_check.py "$@"
