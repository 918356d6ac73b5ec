#!/usr/bin/env bash
# Build the wheel, install it with the locked dependencies into a throw-away virtual
# environment, and use it from an empty folder: `datasummary templates` and `check` must find
# the spec, the GX suites and the template as package data, not in a source tree.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$UV" build --wheel --quiet --out-dir "$work/dist"
"$UV" export --locked --no-dev --no-emit-project --format requirements-txt --quiet \
  > "$work/requirements.txt"
"$UV" venv --quiet --python "${PYTHON:-python3.11}" "$work/venv"
VIRTUAL_ENV="$work/venv" "$UV" pip install --quiet -r "$work/requirements.txt" "$work"/dist/*.whl
mkdir "$work/empty"
cd "$work/empty"
export PREFECT_SERVER_ANALYTICS_ENABLED=false GX_ANALYTICS_ENABLED=false DO_NOT_TRACK=1
"$work/venv/bin/datasummary" templates --quarter 2022-09-30 --out blank >/dev/null
sample=$(find blank -name '*.xlsx' | sort | head -1)
# A blank template is a structurally valid return with nothing filled in: check runs every
# stage (pre-flight, parse, GX suites from package data) and says what is missing.
set +e
"$work/venv/bin/datasummary" check "$sample" > check.txt 2>&1
rc=$?
set -e
cat check.txt
if [[ $rc -gt 1 ]]; then echo "wheel-check: datasummary check failed (exit $rc)"; exit 1; fi
if [[ -e "$work/empty/spec" || -e "$work/empty/gx" ]]; then
  echo "wheel-check: the installed CLI wrote into the folder it was run from"; exit 1
fi
echo "wheel-check: the installed wheel works from an empty folder"
