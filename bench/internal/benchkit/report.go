package benchkit

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// FlagExit is the exit code of a tool whose flags did not parse: 0 for
// -h (flag.ErrHelp: the usage is already printed), else 2 after printing
// err to stderr after tool.
func FlagExit(stderr io.Writer, tool string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", tool, err)
	return 2
}

// Report prints a run's Markdown table header and row and its JSON
// summary to w, and writes the JSON to jsonPath too when it is not "".
// It returns the process exit code: 0 when passed, 1 when not or when
// the file cannot be written (the error goes to stderr after tool).
func Report(w, stderr io.Writer, tool, header, row string, summary any, jsonPath string, passed bool) int {
	fmt.Fprintln(w, header)
	fmt.Fprintln(w, row)
	js, err := json.MarshalIndent(summary, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "%s: summary: %v\n", tool, err)
		return 1
	}
	fmt.Fprintln(w, string(js))
	if jsonPath != "" {
		if err := os.WriteFile(jsonPath, append(js, '\n'), 0o644); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", tool, err)
			return 1
		}
	}
	if !passed {
		return 1
	}
	return 0
}

// Add counts one recording's check in the summary: want is the span it
// was checked against (for the problem line).
func (rs *RecordingSummary) Add(c RecordingCheck, want float64) {
	problem := func(f string, a ...any) {
		if len(rs.Problems) < 10 {
			rs.Problems = append(rs.Problems, fmt.Sprintf(f, a...))
		}
	}
	if rs.Found == 0 {
		rs.MinDurationSec = c.DurationSeconds
	}
	rs.Found++
	switch {
	case c.Complete():
		rs.Complete++
	case !c.HasPartial || c.Partial:
		rs.Partial++
		problem("%s: partial=%v (present %v)", c.ID, c.Partial, c.HasPartial)
	default:
		rs.WrongDuration++
		problem("%s: %.3f s, want %.3f s", c.ID, c.DurationSeconds, want)
	}
	rs.Received += c.Received
	rs.Lost += c.Lost
	rs.Late += c.Late
	rs.Dropped += c.Drop
	rs.MinDurationSec = min(rs.MinDurationSec, c.DurationSeconds)
	rs.MaxDurationSec = max(rs.MaxDurationSec, c.DurationSeconds)
}
