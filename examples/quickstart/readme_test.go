package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMEQuickStart: the README's Quick start is this program, so it
// compiles exactly as printed (go vet and go test build this package).
func TestREADMEQuickStart(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)

	_, section, ok := strings.Cut(string(readme), "\n## Quick start\n")
	require.True(t, ok, "README has no Quick start section")
	_, block, ok := strings.Cut(section, "```go\n")
	require.True(t, ok, "the Quick start has no go code block")
	block, _, ok = strings.Cut(block, "\n```\n")
	require.True(t, ok, "the Quick start's code block is not closed")

	// main.go is the block plus a doc comment above the package clause.
	_, program, ok := strings.Cut(string(src), "\npackage main\n")
	require.True(t, ok)
	require.Equal(t, "package main\n"+program, block+"\n",
		"README.md's Quick start differs from examples/quickstart/main.go: change both")
}
