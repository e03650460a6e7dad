package testnet

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// SlowProxy starts a TCP relay on 127.0.0.1 in front of target and
// returns its address. What a client writes in the first delay of a
// connection reaches target only then, so a SIP server behind it answers
// a request about delay late, as a busy SRS or a slow path does; answers
// come back at once. The relay stops when the test ends.
func SlowProxy(tb testing.TB, target string, delay time.Duration) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	tb.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			opened := time.Now()
			srv, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			go func() { // client -> target, held until opened+delay
				defer wg.Done()
				defer srv.Close()
				buf := make([]byte, 8192)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						time.Sleep(time.Until(opened.Add(delay)))
						if _, werr := srv.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
			go func() { // target -> client
				defer wg.Done()
				defer c.Close()
				_, _ = io.Copy(c, srv)
			}()
		}
	}()
	return l.Addr().String()
}
