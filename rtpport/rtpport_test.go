package rtpport

import (
	"errors"
	"sync"
	"testing"
)

func TestRangeRotatesEvenPortsAndRunsOut(t *testing.T) {
	r, err := NewRange(30001, 30008) // odd start: pairs 30002, 30004, 30006
	if err != nil {
		t.Fatal(err)
	}
	if r.Pairs() != 3 {
		t.Fatalf("Pairs = %d, want 3", r.Pairs())
	}
	var got []int
	for range 3 {
		p, err := r.Acquire()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	if got[0] != 30002 || got[1] != 30004 || got[2] != 30006 {
		t.Fatalf("ports = %v, want 30002 30004 30006", got)
	}
	if _, err := r.Acquire(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("fourth Acquire = %v, want ErrNoPorts", err)
	}
	r.Release(30004)
	if p, err := r.Acquire(); err != nil || p != 30004 {
		t.Fatalf("after releasing 30004: %d, %v", p, err)
	}
	r.Release(30002)
	r.Release(30006)
	// Rotation: the pair after the last one handed out comes first.
	if p, _ := r.Acquire(); p != 30006 {
		t.Errorf("after releases the next pair is %d, want 30006 (rotation, not the lowest)", p)
	}
	if r.InUse() != 2 {
		t.Errorf("InUse = %d, want 2", r.InUse())
	}
}

func TestNewRangeRefusesBadRanges(t *testing.T) {
	for _, c := range [][2]int{{80, 2000}, {30000, 30000}, {60000, 70000}, {30001, 30002}} {
		if _, err := NewRange(c[0], c[1]); err == nil {
			t.Errorf("NewRange(%d, %d) accepted", c[0], c[1])
		}
	}
}

func TestRangeConcurrentAcquireHandsOutEachPairOnce(t *testing.T) {
	r, err := NewRange(40000, 40199)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				p, err := r.Acquire()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[p] {
					t.Errorf("port %d handed out twice", p)
				}
				seen[p] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 100 || r.InUse() != 100 {
		t.Fatalf("handed out %d, InUse %d; want 100", len(seen), r.InUse())
	}
}
