// Package testnet holds network helpers for tests: only tests import it.
// It must never be imported by code that ships in the binary.
package testnet

import (
	"fmt"
	"net"
	"testing"
)

// FreePort returns a port that is free on 127.0.0.1 for both UDP and TCP
// at the moment (SIP listens on both).
func FreePort(tb testing.TB) int {
	tb.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		_ = l.Close()
		if err == nil {
			_ = u.Close()
			return port
		}
	}
	tb.Fatal("no port free for both UDP and TCP on 127.0.0.1")
	return 0
}
