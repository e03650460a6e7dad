package benchkit

import (
	"net"
	"strings"
)

// IsLoopback reports whether host is a loopback IP or "localhost" (IPv6
// literals may be bracketed).
func IsLoopback(host string) bool {
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
