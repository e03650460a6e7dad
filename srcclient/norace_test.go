//go:build !race

package srcclient

const raceEnabled = false
