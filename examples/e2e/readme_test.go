package e2e_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadingGuide: every file and function that the reading guide in
// examples/README.md names exists, so the guide cannot silently rot.
func TestReadingGuide(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, guide, ok := strings.Cut(string(readme), "## Reading guide")
	require.True(t, ok, "no reading guide in examples/README.md")
	guide, _, _ = strings.Cut(guide, "\n## ")

	code := regexp.MustCompile("`([^`]+)`")
	rows := 0
	for line := range strings.SplitSeq(guide, "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) != 4 || !regexp.MustCompile(`^\| \d+$`).MatchString(cells[0]) {
			continue
		}
		rows++
		declared := map[string]bool{}
		for _, m := range code.FindAllStringSubmatch(cells[2], -1) {
			for _, name := range declaredFuncs(t, filepath.Join("..", m[1])) {
				declared[name] = true
			}
		}
		funcs := code.FindAllStringSubmatch(cells[3], -1)
		require.NotEmpty(t, funcs, "row %s names no function", cells[0])
		for _, m := range funcs {
			assert.True(t, declared[m[1]], "row %s: %s is not declared in %s", cells[0], m[1], cells[2])
		}
	}
	assert.GreaterOrEqual(t, rows, 10, "the guide's table was not found")
}

// declaredFuncs lists the functions of a Go file, methods as "(*T).name"
// or "(T).name".
func declaredFuncs(t *testing.T, path string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	require.NoError(t, err, "the guide names %s", path)
	var names []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		if fn.Recv == nil {
			names = append(names, fn.Name.Name)
			continue
		}
		switch r := fn.Recv.List[0].Type.(type) {
		case *ast.StarExpr:
			if id, ok := r.X.(*ast.Ident); ok {
				names = append(names, "(*"+id.Name+")."+fn.Name.Name)
			}
		case *ast.Ident:
			names = append(names, "("+r.Name+")."+fn.Name.Name)
		}
	}
	return names
}
