//go:build race

package srcclient

// raceEnabled: the race detector makes sync.Pool (used inside x/net's
// sendmmsg path) drop items at random, so a few allocations per batch are
// expected in race builds.
const raceEnabled = true
