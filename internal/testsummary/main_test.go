package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goTestJSON runs `go test -json ./...` on a module made of files and
// returns its standard output.
func goTestJSON(t *testing.T, files map[string]string) []byte {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module example.com/x\n\ngo 1.26\n"
	for name, body := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	}
	cmd := exec.CommandContext(t.Context(), "go", "test", "-count=1", "-json", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	_ = cmd.Run() // fails, since some tests do
	require.NotEmpty(t, stdout.Bytes())
	return stdout.Bytes()
}

// TestSummaryOfARealRun: the summary names every skipped test with its
// reason and every failure, and ends with the counts.
func TestSummaryOfARealRun(t *testing.T) {
	events := goTestJSON(t, map[string]string{
		"x_test.go": `package x

import "testing"

func TestPass(t *testing.T) {}
func TestFail(t *testing.T) { t.Log("the detail"); t.Fatal("boom") }
func TestSkip(t *testing.T) { t.Skip("needs chromium") }
func TestSub(t *testing.T) {
	t.Run("inner", func(t *testing.T) { t.Skip("inner reason") })
}
func TestNoReason(t *testing.T) { t.SkipNow() }
`,
		"broken/broken_test.go": "package broken\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) { undefined() }\n",
		"notests/notests.go":    "package notests\n",
	})
	var out bytes.Buffer
	failed := summarize(bytes.NewReader(append([]byte("== a heading\n"), events...)), &out)
	got := out.String()
	t.Log(got)

	assert.True(t, failed)
	assert.Contains(t, got, "== a heading\n", "non-JSON lines are copied")
	assert.Contains(t, got, "boom", "a failed test's output is shown")
	assert.Contains(t, got, "the detail")
	assert.Contains(t, got, "undefined", "a build error is shown")
	assert.Contains(t, got, "[no test files]")
	assert.NotContains(t, got, "=== RUN   TestPass", "passing tests' output is not shown")

	_, summary, ok := strings.Cut(got, "== summary\n")
	require.True(t, ok)
	for _, want := range []string{
		"example.com/x TestSkip: x_test.go:7: needs chromium",
		"example.com/x TestSub/inner: x_test.go:9: inner reason",
		"example.com/x TestNoReason: (no reason given)",
		"example.com/x TestFail\n",
		"example.com/x/broken (build failed)",
	} {
		assert.Contains(t, summary, want)
	}
	assert.True(t, strings.HasSuffix(summary, "\n2 passed, 2 failed, 3 skipped\n"), "last line: %q", summary)
}

func TestSummaryAllPassed(t *testing.T) {
	var out bytes.Buffer
	failed := summarize(strings.NewReader(
		`{"Action":"run","Package":"p","Test":"TestA"}`+"\n"+
			`{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}`+"\n"+
			`{"Action":"pass","Package":"p","Test":"TestA"}`+"\n"+
			`{"Action":"output","Package":"p","Output":"ok  \tp\t0.01s\n"}`+"\n"+
			`{"Action":"pass","Package":"p"}`+"\n"), &out)
	assert.False(t, failed)
	assert.Equal(t, "ok  \tp\t0.01s\n== summary\n1 passed, 0 failed, 0 skipped\n", out.String())
}

// TestSummaryOfAFailedRunWithoutEvents: go test failing before any test
// ran (a go.mod error, on standard error only) counts as a failure; a
// non-zero exit after a failed test does not count twice.
func TestSummaryOfAFailedRunWithoutEvents(t *testing.T) {
	var out bytes.Buffer
	failed := summarize(strings.NewReader(
		"== go test -race ./... in examples\n"+
			"go: updates to go.mod needed\n"+
			"##testsummary exit 1 examples\n"+
			`{"Action":"fail","Package":"p","Test":"TestA"}`+"\n"+
			`{"Action":"fail","Package":"p"}`+"\n"+
			"##testsummary exit 1 .\n"+
			"##testsummary exit 0 bench\n"), &out)
	assert.True(t, failed)
	assert.NotContains(t, out.String(), "##testsummary")
	assert.Contains(t, out.String(), "examples (go test exited with status 1 without a failed test")
	assert.True(t, strings.HasSuffix(out.String(), "\n0 passed, 2 failed, 0 skipped\n"), out.String())
}
