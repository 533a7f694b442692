package auth

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestWebhookEventsAreTheAuditActions: every action auth audits (each
// Origin.event call with a literal action) is an event an endpoint may
// subscribe to, so the list cannot fall behind a new action unnoticed.
func TestWebhookEventsAreTheAuditActions(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	actions := map[string]string{} // action -> where
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			lit, isLit := call.Args[0].(*ast.BasicLit)
			if ok && sel.Sel.Name == "event" && isLit && lit.Kind == token.STRING {
				action, _ := strconv.Unquote(lit.Value)
				actions[action] = fset.Position(lit.Pos()).String()
			}
			return true
		})
	}
	if len(actions) < 20 {
		t.Fatalf("found %d audited actions; the scan is broken", len(actions))
	}
	for action, where := range actions {
		if !slices.Contains(WebhookEvents, action) {
			t.Errorf("%s audits %q, which WebhookEvents does not list", where, action)
		}
	}
}
