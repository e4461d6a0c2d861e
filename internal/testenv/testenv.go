// Package testenv decides what a test does when a real dependency it needs
// (a data set, a binary, a database) is absent: outside CI it skips with a
// message saying what is missing; with CI=true, where scripts/test.sh
// installs everything, it fails.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Missing skips the test with msg, or fails it when CI=true.
func Missing(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg + " (CI=true: it must be present)")
	}
	tb.Skip(msg)
}

// Tool returns the path of a program on PATH, or skips (fails in CI) with
// a message naming the Debian package that provides it.
func Tool(tb testing.TB, name, debianPackage string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(tb, name+" not found: install Debian "+debianPackage)
	}
	return path
}
