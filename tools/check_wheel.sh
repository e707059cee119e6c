#!/usr/bin/env bash
# Stages ship with the package (issue 23): build the wheel, install it (no deps) into a fresh venv that sees the
# environment's packages, then run a stage from a folder outside the checkout with PYTHONPATH unset.
# Usage: tools/check_wheel.sh [python of the environment, default .venv/bin/python]   (~2 min on a loaded 2-core machine)
set -euo pipefail
PY=${1:-.venv/bin/python}
SITE=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
"$PY" -m pip wheel -q --no-deps . -w "$TMP/wheel"
"$PY" -m venv "$TMP/venv"
echo "$SITE" > "$("$TMP/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/shared.pth"
"$TMP/venv/bin/python" -m pip install -q --no-deps "$TMP"/wheel/oodgen-*.whl
mkdir "$TMP/elsewhere"; cd "$TMP/elsewhere"
env -u PYTHONPATH -u OODGEN_NBS "$TMP/venv/bin/python" -c "
import oodgen.runs as r; from pathlib import Path
assert Path(r.__file__).is_relative_to('$TMP/venv'), r.__file__
assert r.nbs_dir() == Path(r.__file__).parent/'stages', r.nbs_dir(); print('stages shipped:', ', '.join(r.STAGES))"
env -u PYTHONPATH -u OODGEN_NBS "$TMP/venv/bin/oodgen" run benchmark -p steps 2 --quiet --name wheel
test -f runs/wheel/done && test -f runs/wheel/results_acc.md
echo "OK: the wheel's 'oodgen run benchmark -p steps 2' ran outside the checkout"
