package app

import (
	"errors"
	"testing"

	"github.com/callrec/callrec/api"
)

// TestCallPlaneBeforeItRuns: until the B2BUA is set, the adapter answers
// api.ErrNoCallPlane, which the call control routes turn into 503.
func TestCallPlaneBeforeItRuns(t *testing.T) {
	var p callPlane
	if calls, err := p.Calls("org"); !errors.Is(err, api.ErrNoCallPlane) || calls != nil {
		t.Errorf("Calls = %v, %v; want api.ErrNoCallPlane", calls, err)
	}
	if err := p.Control(t.Context(), "org", "person", "call", "start"); !errors.Is(err, api.ErrNoCallPlane) {
		t.Errorf("Control = %v; want api.ErrNoCallPlane", err)
	}
}
