//go:build !race

// Package racedetect tells tests whether the race detector is on: it
// changes allocation counts (sync.Pool drops items at random), so tests
// that pin allocations skip under it.
package racedetect

// Enabled is true when built with -race.
const Enabled = false
