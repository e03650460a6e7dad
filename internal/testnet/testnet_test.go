package testnet

import (
	"fmt"
	"net"
	"testing"
)

func TestFreePortIsFreeForUDPAndTCP(t *testing.T) {
	port := FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("TCP %s: %v", addr, err)
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("UDP %s: %v", addr, err)
	}
	u.Close()
}
