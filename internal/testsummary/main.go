// Command testsummary reads `go test -json` events on standard input, prints
// what a reader of a test run needs (one line per package, the output of
// failed tests and packages) and ends with a summary that names every
// skipped test with its reason, every failed test, and a last line
// "N passed, N failed, N skipped". It exits 1 if anything failed.
//
//	go test -race -json ./... | go run ./internal/testsummary
//
// .ci/test pipes every module's tests through it. Lines that are not JSON
// events (such as the script's own headings) are copied through, except
// "##testsummary exit STATUS NAME" lines: the script writes one after each
// `go test` run, so that a run that failed without a failing test or
// package event (a go.mod error, say, reported on standard error only) is
// counted as a failure too.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func main() {
	if failed := summarize(os.Stdin, os.Stdout); failed {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Time        time.Time
	Action      string
	Package     string
	ImportPath  string // build-output and build-fail events
	Test        string
	Elapsed     float64
	Output      string
	FailedBuild string
}

type key struct{ pkg, test string }

// run is the state of one summary.
type run struct {
	w       io.Writer
	output  map[key][]string // buffered output, per package ("" test) or test
	build   map[string][]string
	failing map[string]bool // packages with a failed test
	skipped []string        // "pkg Test: reason"
	failed  []string
	passed  int
	mark    int // len(failed) at the previous exit marker
}

// exitMarker starts the line .ci/test writes after each go test run.
const exitMarker = "##testsummary exit "

// exit handles "STATUS NAME" from an exit marker line.
func (s *run) exit(rest string) {
	status, name, _ := strings.Cut(rest, " ")
	if status != "0" && len(s.failed) == s.mark {
		s.failed = append(s.failed, fmt.Sprintf("%s (go test exited with status %s without a failed test: see its errors above)", name, status))
	}
	s.mark = len(s.failed)
}

// summarize reads events from r and writes the report to w. It reports
// whether anything failed.
func summarize(r io.Reader, w io.Writer) bool {
	s := &run{w: w, output: map[key][]string{}, build: map[string][]string{}, failing: map[string]bool{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if rest, ok := strings.CutPrefix(string(line), exitMarker); ok {
			s.exit(rest)
			continue
		}
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil || e.Action == "" {
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		s.handle(e)
	}
	if err := sc.Err(); err != nil {
		s.failed = append(s.failed, "reading the test output: "+err.Error())
	}
	s.report()
	return len(s.failed) > 0
}

func (s *run) handle(e event) {
	k := key{e.Package, e.Test}
	switch e.Action {
	case "build-output":
		s.build[e.ImportPath] = append(s.build[e.ImportPath], e.Output)
	case "build-fail":
		fmt.Fprint(s.w, strings.Join(s.build[e.ImportPath], ""))
		delete(s.build, e.ImportPath)
	case "output":
		s.output[k] = append(s.output[k], e.Output)
	case "pass", "fail", "skip":
		out := s.output[k]
		delete(s.output, k)
		if e.Test == "" {
			s.packageDone(e, out)
		} else {
			s.testDone(e, out)
		}
	}
}

func (s *run) testDone(e event, out []string) {
	name := e.Package + " " + e.Test
	switch e.Action {
	case "pass":
		s.passed++
	case "fail":
		s.failing[e.Package] = true
		s.failed = append(s.failed, name)
		fmt.Fprint(s.w, strings.Join(out, ""))
	case "skip":
		s.skipped = append(s.skipped, name+": "+skipReason(out))
	}
}

func (s *run) packageDone(e event, out []string) {
	if e.Action == "fail" {
		// All of it: a panic, a build error or a TestMain failure is
		// only in the package's output.
		fmt.Fprint(s.w, strings.Join(out, ""))
		if !s.failing[e.Package] {
			what := "no test failed: a build error, or a crash outside a test"
			if e.FailedBuild != "" {
				what = "build failed"
			}
			s.failed = append(s.failed, e.Package+" ("+what+")")
		}
		return
	}
	// The package's result line ("ok  pkg 1.2s", "?   pkg [no test files]").
	for i := len(out) - 1; i >= 0; i-- {
		if strings.HasPrefix(out[i], "ok") || strings.HasPrefix(out[i], "?") {
			fmt.Fprint(s.w, out[i])
			return
		}
	}
}

// skipReason is what a skipped test logged, without the framing lines.
func skipReason(out []string) string {
	var lines []string
	for _, o := range out {
		t := strings.TrimSpace(o)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		lines = append(lines, t)
	}
	if len(lines) == 0 {
		return "(no reason given)"
	}
	return strings.Join(lines, " / ")
}

func (s *run) report() {
	fmt.Fprintln(s.w, "== summary")
	if len(s.skipped) > 0 {
		fmt.Fprintf(s.w, "skipped tests (%d):\n", len(s.skipped))
		for _, t := range s.skipped {
			fmt.Fprintf(s.w, "  %s\n", t)
		}
	}
	if len(s.failed) > 0 {
		fmt.Fprintf(s.w, "failed (%d):\n", len(s.failed))
		for _, t := range s.failed {
			fmt.Fprintf(s.w, "  %s\n", t)
		}
	}
	fmt.Fprintf(s.w, "%d passed, %d failed, %d skipped\n", s.passed, len(s.failed), len(s.skipped))
}
