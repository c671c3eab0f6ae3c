package flows

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The import rule of DESIGN.md: dependencies point inward. cmd may import
// everything; bot, scheduler, storage and payments only flows (and small
// pure packages); flows only the standard library; sandbox and vietqr
// nothing of ours.
func TestImportRule(t *testing.T) {
	const mod = "github.com/renewbot/renewbot/"
	allowed := map[string][]string{
		"flows":              {},
		"sandbox":            {},
		"vietqr":             {},
		"bot":                {"flows", "vietqr"},
		"payments":           {"flows"},
		"scheduler":          {"flows"},
		"storage/postgres":   {"flows"},
		"storage/redisstate": {"flows"},
	}
	for pkg, ok := range allowed {
		if files, _ := filepath.Glob("../" + pkg + "/*.go"); len(files) == 0 {
			continue // the room has no code yet
		}
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "../"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if !strings.HasPrefix(dep, mod) || dep == mod+pkg {
				continue
			}
			rel := strings.TrimPrefix(dep, mod)
			good := false
			for _, a := range ok {
				if rel == a || strings.HasPrefix(rel, a+"/") {
					good = true
				}
			}
			if !good {
				t.Errorf("%s imports %s, which the import rule forbids", pkg, rel)
			}
		}
		if pkg == "flows" {
			for _, dep := range strings.Fields(string(out)) {
				if !strings.HasPrefix(dep, mod) {
					t.Errorf("flows depends on %s: only the standard library is allowed", dep)
				}
			}
		}
	}
}
