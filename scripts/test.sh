#!/usr/bin/env bash
# The one test command: installs the test dependencies, checks style, and
# runs every test (unit, fuzz seeds, end-to-end through the real binary).
# Usage: scripts/test.sh            everything
#        SKIP_INSTALL=1 scripts/test.sh   when the dependencies are there
set -euo pipefail
cd "$(dirname "$0")/.."

[ "${SKIP_INSTALL:-}" = 1 ] || scripts/install-test-deps.sh
export PATH="$(go env GOPATH)/bin:$PATH"

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi
echo "== go vet"
go vet ./...
echo "== staticcheck"
staticcheck ./...

echo "== go test (race detector on the concurrent packages)"
go test -count=1 -race ./media/mix/ ./recorder/ ./callpath/ ./callpath/relay/ ./callpath/registrar/ ./siprecclient/ ./retention/ ./store/sqlite/
echo "== go test"
go test -count=1 -timeout 15m ./... 2>&1 | tee /tmp/callrec-test.log
