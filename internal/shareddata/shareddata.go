// Package shareddata finds the real public datasets in ../shared/data for
// tests and benchmarks. They are never copied into the repository.
package shareddata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/kommunity/kommunity/internal/testenv"
)

// Dir returns the shared data folder: $KOMMUNITY_SHARED_DATA, or
// ../shared/data beside the repository. It returns "" when absent.
func Dir() string {
	if d := os.Getenv("KOMMUNITY_SHARED_DATA"); d != "" {
		return d
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	// internal/shareddata/shareddata.go -> repository root -> ../shared/data
	d := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "data")
	if st, err := os.Stat(d); err == nil && st.IsDir() {
		return d
	}
	return ""
}

// Path returns the path of a file under the shared data folder. When the
// file is missing the test is skipped with a clear message, or fails when
// CI=true, where the data must be present.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	d := Dir()
	p := filepath.Join(d, rel)
	if d != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	testenv.Missing(tb, "shared data file "+rel+" not found (set KOMMUNITY_SHARED_DATA or place ../shared/data beside the repository)")
	return ""
}
