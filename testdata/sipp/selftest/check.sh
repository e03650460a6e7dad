#!/bin/sh
# Self-check of the SIPREC SRC scenarios: runs each one against a SIPp SRS
# emulator on loopback, over TCP and UDP, and prints one line per run.
# Needs sipp (Debian sip-tester) and sox. Exits non-zero when a UAC run fails.
# Usage: testdata/sipp/selftest/check.sh   (from anywhere)
set -u
here=$(cd "$(dirname "$0")" && pwd)
scen=$(dirname "$here")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
sox -n -r 8000 -c 1 -t ul tone.pcmu synth 10 sine 1000
fail=0
run() { # uac uas transport
	sipp -sf "$here/$2.xml" -t "$3" -i 127.0.0.1 -p 25099 -mi 127.0.0.1 -mp 27000 \
		-m 1 -nostdin -timeout 30 -timeout_error >uas.log 2>&1 &
	uas=$!
	sleep 0.5
	rm -f cancel.outcome
	sipp -sf "$scen/$1.xml" -t "$3" -i 127.0.0.1 -p 25098 -mi 127.0.0.1 -mp 26000 \
		-m 1 -nostdin -timeout 30 -timeout_error 127.0.0.1:25099 >uac.log 2>&1
	rc=$?
	wait "$uas"
	uasrc=$?
	printf '%-16s %-20s %s  uac=%s uas=%s %s\n' "$1" "$2" "$3" "$rc" "$uasrc" "$(cat cancel.outcome 2>/dev/null)"
	[ "$rc" -eq 0 ] || fail=1
}
for t in t1 u1; do
	for s in rfc7866 broadworks cisco avaya oracle metaswitch sonus opensips pause-resume broadworks-hold; do
		run "$s" uas-srs "$t"
	done
	run cancel uas-cancel "$t"
	run cancel uas-race-481-first "$t"
	run cancel uas-race-200-first "$t"
	run not-siprec uas-488 "$t"
done
exit $fail
