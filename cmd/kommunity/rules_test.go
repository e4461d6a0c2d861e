package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	code, out, errOut := run(t, "rules", "set", "--db", db, "--name", "puljen-2027", "--title", "Bredbåndspuljen 2027",
		"--valid-from", "2027-01-01", "--min-own-payment", "3000", "--max-subsidy", "15000")
	if code != 0 || !strings.Contains(out, "puljen-2027\tBredbåndspuljen 2027\tfrom 2027-01-01\tmin own payment 3000.00 kr") {
		t.Fatalf("rules set: %d %q %q", code, out, errOut)
	}
	// A bad name says what is wrong and stores nothing.
	code, _, errOut = run(t, "rules", "set", "--db", db, "--name", "bad name", "--valid-from", "2027-01-01", "--min-own-payment", "1", "--max-subsidy", "1")
	if code != 1 || !strings.Contains(errOut, "name") {
		t.Errorf("bad name: %d %q", code, errOut)
	}
	if code, _, errOut = run(t, "rules", "set", "--db", db, "--name", "x", "--valid-from", "soon"); code != 2 || !strings.Contains(errOut, "--valid-from") {
		t.Errorf("bad date: %d %q", code, errOut)
	}
	_, out, _ = run(t, "rules", "list", "--db", db)
	if strings.Count(out, "\n") != 2 || strings.Contains(out, "bad name") {
		t.Errorf("rules list: %q", out)
	}
}
