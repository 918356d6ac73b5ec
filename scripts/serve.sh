#!/usr/bin/env bash
# Start a local Prefect server (SQLite, localhost only, analytics off) and serve the
# datasummary deployments against it: intake every 10 minutes, the quarterly report the
# morning after the deadline (waits for review in the UI), the returns chaser.
# Ctrl-C stops both. See docs/operations.md. Called by `make serve`.
set -euo pipefail

cd "$(dirname "$0")/.."
UV="${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}"

export PREFECT_SERVER_ANALYTICS_ENABLED=false
export DO_NOT_TRACK=1
export GX_ANALYTICS_ENABLED=false
export PREFECT_HOME="${PREFECT_HOME:-$PWD/output/state/prefect}"
HOST="${PREFECT_SERVER_API_HOST:-127.0.0.1}"
PORT="${PREFECT_SERVER_API_PORT:-4200}"
export PREFECT_API_URL="${PREFECT_API_URL:-http://$HOST:$PORT/api}"
# If the server requires an auth string, the client sends the same one.
if [[ -n "${PREFECT_SERVER_API_AUTH_STRING:-}" ]]; then
  export PREFECT_API_AUTH_STRING="${PREFECT_API_AUTH_STRING:-$PREFECT_SERVER_API_AUTH_STRING}"
fi
mkdir -p "$PREFECT_HOME"

"$UV" run prefect server start --host "$HOST" --port "$PORT" --analytics-off \
  >"$PREFECT_HOME/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true' EXIT INT TERM

echo "Prefect server starting on http://$HOST:$PORT (log: $PREFECT_HOME/server.log)"
for _ in $(seq 1 120); do
  if curl -fsS "http://$HOST:$PORT/api/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "The Prefect server stopped; see $PREFECT_HOME/server.log" >&2; exit 1
  fi
  sleep 1
done
curl -fsS "http://$HOST:$PORT/api/health" >/dev/null || {
  echo "The Prefect server did not answer within 2 minutes" >&2; exit 1; }

echo "UI: http://$HOST:$PORT  —  serving deployments (Ctrl-C to stop)"
"$UV" run datasummary serve "$@"
