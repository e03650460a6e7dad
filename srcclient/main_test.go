package srcclient

import (
	"log/slog"
	"os"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestMain(m *testing.M) {
	// sipgo warns when connections close at the end of each test; keep
	// the output to errors.
	sip.SetDefaultLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	LiftUDPLimit()
	os.Exit(m.Run())
}
