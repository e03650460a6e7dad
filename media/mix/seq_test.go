package mix

import "testing"

func TestSeqState(t *testing.T) {
	type step struct {
		seq uint16
		ext int64
		v   seqVerdict
	}
	tests := []struct {
		name  string
		steps []step
		lost  uint64
	}{
		{"in order", []step{{10, 10, seqFirst}, {11, 11, seqNext}, {12, 12, seqNext}}, 0},
		{"duplicate of newest and of older", []step{{10, 10, seqFirst}, {11, 11, seqNext}, {11, 11, seqDup}, {10, 10, seqDup}}, 0},
		{"loss then late arrival", []step{{1, 1, seqFirst}, {4, 4, seqNext}, {2, 2, seqOld}}, 1},
		{"reordered before the first", []step{{5, 5, seqFirst}, {3, 3, seqOld}, {4, 4, seqOld}, {6, 6, seqNext}}, 0},
		{"wrap", []step{{65534, 65534, seqFirst}, {65535, 65535, seqNext}, {1, 65537, seqNext}, {0, 65536, seqOld}}, 0},
		{"wrap backwards at the start", []step{{0, 0, seqFirst}, {65535, -1, seqOld}, {1, 1, seqNext}}, 0},
		{"large jump needs a second packet", []step{{100, 100, seqFirst}, {101, 101, seqNext}, {20000, 0, seqProbe}, {102, 102, seqNext}, {30000, 0, seqProbe}, {30001, 30001, seqFirst}, {30003, 30003, seqNext}}, 1},
		{"old beyond misorder is a probe", []step{{500, 500, seqFirst}, {300, 0, seqProbe}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var q seqState
			for i, s := range tc.steps {
				ext, v, _ := q.update(s.seq)
				if v != s.v || (v != seqProbe && ext != s.ext) {
					t.Fatalf("step %d: seq %d gave ext %d verdict %d, want %d, %d", i, s.seq, ext, v, s.ext, s.v)
				}
			}
			if got := q.lost(); got != tc.lost {
				t.Errorf("lost %d, want %d", got, tc.lost)
			}
		})
	}
}
