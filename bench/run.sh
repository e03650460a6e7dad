#!/usr/bin/env bash
# Runs the recorder benchmark of bench/RESULTS.md: one fresh `callrec serve`
# on embedded defaults, driven by bench/siprecload with N concurrent
# two-stream G.711 calls of DURATION each. Traffic stays on loopback.
# Usage: bench/run.sh N [DURATION] [extra siprecload flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:?usage: bench/run.sh N [DURATION]}
dur=${2:-60s}
shift $(( $# >= 2 ? 2 : 1 ))
out=$(mktemp -d /tmp/callrec-bench.XXXXXX)
go build -o "$out/callrec" ./cmd/callrec
go build -o "$out/siprecload" ./bench/siprecload
token=bench-$(date +%s)
echo "$token" > "$out/token"
CALLREC_ADMIN_TOKEN=$token "$out/callrec" serve --data-dir "$out/data" \
  --http 127.0.0.1:18480 --siprec 127.0.0.1:15470 --sip 127.0.0.1:15460 \
  --log-level warn --min-free-disk 100MB 2> "$out/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT  # kill fails once the server is gone: not an error
for _ in $(seq 100); do curl -sf http://127.0.0.1:18480/readyz >/dev/null && break; sleep 0.1; done
"$out/siprecload" -n "$n" -duration "$dur" -target sip:srs@127.0.0.1:15470 \
  -server-pid "$pid" -api http://127.0.0.1:18480 -token-file "$out/token" \
  -media-ports 42000-49999 -json "$out/summary.json" "$@"
kill -TERM $pid; wait $pid || true
echo "artifacts: $out (serve.log, summary.json); recordings in $out/data"
