package rota

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

var updateArchitecture = flag.Bool("update", false, "rewrite the import rules in docs/ARCHITECTURE.md")

// importRules are the packages of ours each package may import (names
// relative to the module; "." is the root), the dependency rule of
// docs/ARCHITECTURE.md: arrows point toward the root, and only cmd/rotad
// sees everything. Tests may cross it (they wire real parts).
var importRules = map[string][]string{
	".":                               nil,
	"clocktest":                       nil,
	"scheduler":                       {"."},
	"config":                          {".", "scheduler"},
	"policy":                          {".", "scheduler"},
	"store":                           {"."},
	"paging":                          {".", "scheduler", "policy", "paging/notify"},
	"paging/replay":                   {".", "scheduler", "policy", "paging", "paging/notify"},
	"paging/notify":                   {"."},
	"paging/notify/email":             {".", "paging/notify"},
	"paging/notify/webhook":           {".", "paging/notify"},
	"paging/notify/teams":             {".", "paging/notify"},
	"paging/notify/twilio":            {".", "paging/notify"},
	"paging/notify/twilio/twiliotest": nil,
	"paging/notify/slack":             {".", "paging/notify", "paging/notify/webhook"},
	"paging/notify/slack/slacktest":   {"paging/notify/slack"},
	"api":                             {".", "scheduler", "policy", "paging", "paging/notify", "paging/notify/slack", "paging/notify/twilio"},
	"store/pgtest":                    nil,
	"store/storetest":                 {"clocktest", "store", "store/pgtest"},
	"cmd/rotabench":                   {"config", "paging/replay", "paging/notify/twilio/twiliotest", "store/pgtest"},
	"importer":                        nil,
	"importer/pagerdutytest":          nil,
	"cmd/rotad":                       {"*"},
}

const module = "github.com/rotahq/rota"

// TestImportRules checks every package's imports of ours against
// importRules with go list, and that docs/ARCHITECTURE.md states the rules
// as they are checked (go test . -run TestImportRules -update rewrites
// them there).
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	seen := map[string]bool{}
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		name := rel(p.ImportPath)
		seen[name] = true
		allowed, ok := importRules[name]
		if !ok {
			t.Errorf("package %s has no import rule: add it to importRules (arch_test.go) and docs/ARCHITECTURE.md", name)
			continue
		}
		for _, imp := range p.Imports {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			if !slices.Contains(allowed, "*") && !slices.Contains(allowed, rel(imp)) {
				t.Errorf("%s imports %s, which the dependency rule does not allow (it may import %s)", name, rel(imp), list(allowed))
			}
		}
	}
	for name := range importRules {
		if !seen[name] {
			t.Errorf("importRules names %s, which is no package", name)
		}
	}

	var b strings.Builder
	b.WriteString("| package | may import, of ours |\n|---|---|\n")
	names := make([]string, 0, len(importRules))
	for name := range importRules {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "| `%s` | %s |\n", display(name), list(importRules[name]))
	}
	const begin, end = "<!-- import rules: written by go test . -run TestImportRules -update -->\n", "<!-- end of import rules -->\n"
	path := "docs/ARCHITECTURE.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(doc, []byte(begin)), bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("%s lacks the import rules' markers %q and %q", path, strings.TrimSpace(begin), strings.TrimSpace(end))
	}
	want := string(doc[:i]) + begin + b.String() + end + string(doc[j+len(end):])
	if *updateArchitecture {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(doc) != want {
		t.Errorf("%s states other import rules than arch_test.go checks: go test . -run TestImportRules -update", path)
	}
}

func rel(path string) string {
	if path == module {
		return "."
	}
	return strings.TrimPrefix(path, module+"/")
}

func display(name string) string {
	if name == "." {
		return "rota (root)"
	}
	return name
}

func list(names []string) string {
	switch {
	case len(names) == 0:
		return "nothing"
	case slices.Contains(names, "*"):
		return "everything"
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "`" + display(n) + "`"
	}
	return strings.Join(out, ", ")
}
