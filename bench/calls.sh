#!/usr/bin/env bash
# Runs the call-plane benchmark of bench/RESULTS.md: one fresh `callrec
# serve` on embedded defaults, driven by bench/callload with C concurrent
# inbound PSTN calls (gateway -> B2BUA -> registered phones, recorded by the
# built-in recorder) set up at RATE per second, each DURATION long, for
# LOAD. Traffic stays on loopback.
# Usage: bench/calls.sh C [RATE] [DURATION] [LOAD] [extra callload flags...]
#   e.g. bench/calls.sh 100 100 20s 30s -label C=100
# DIGEST=MD5 picks the digest algorithm (default SHA-256); PROFILE=1 also
# fetches a CPU profile of the server over the steady window.
set -euo pipefail
cd "$(dirname "$0")/.."
c=${1:?usage: bench/calls.sh C [RATE] [DURATION] [LOAD] [callload flags...]}
rate=${2:-100}
dur=${3:-20s}
load=${4:-30s}
shift $(( $# >= 4 ? 4 : $# ))
digest=${DIGEST:-SHA-256}
# --rtp-ports: the recorder, the relay and the SIPREC client share one
# range; a relayed and recorded call takes six port pairs (12 ports), so
# 20 per call leaves room. Kept below the kernel's ephemeral range
# (32768-) which the load tool's own sockets use.
span=$(( c * 20 > 4000 ? c * 20 : 4000 ))
lo=10000
hi=$(( lo + span - 1 ))
if (( hi >= 32768 )); then echo "C=$c needs --rtp-ports up to $hi, past 32767" >&2; exit 2; fi
out=$(mktemp -d /tmp/callrec-calls.XXXXXX)
go build -o "$out/callrec" ./cmd/callrec
go build -o "$out/callload" ./bench/callload
token=bench-$(date +%s)
echo "$token" > "$out/token"
CALLREC_ADMIN_TOKEN=$token "$out/callrec" serve --data-dir "$out/data" \
  --http 127.0.0.1:18490 --siprec 127.0.0.1:15570 --sip 127.0.0.1:15560 \
  --sip-digest "$digest" --rtp-ports "$lo-$hi" \
  --log-level warn --min-free-disk 100MB 2> "$out/serve.log" &
pid=$!
# kill fails when the server is already gone (stopped below): under set -e
# that failure would become the script's exit status, so it is ignored.
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:18490/readyz >/dev/null && break; sleep 0.1; done
prof=()
if [[ ${PROFILE:-} == 1 ]]; then prof=(-server-profile "$out/server.pprof" -cpuprofile "$out/callload.pprof"); fi
rc=0
"$out/callload" -calls "$c" -rate "$rate" -duration "$dur" -load "$load" \
  -api http://127.0.0.1:18490 -token-file "$out/token" -sip 127.0.0.1:15560 \
  -sip-digest "$digest" -server-pid "$pid" -json "$out/summary.json" "${prof[@]}" "$@" || rc=$?
kill -TERM $pid; wait $pid || true
echo "artifacts: $out (serve.log, summary.json${prof:+, server.pprof, callload.pprof}); recordings in $out/data"
exit $rc
