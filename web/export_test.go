package web

// Message returns a catalogue text, for tests in package web_test.
func Message(lang, key string) string { return newLocale(lang).T(key) }

// KnownFieldMessage reports whether a service validation message has a
// catalogue text.
func KnownReason(reason string) bool { _, ok := reasonKeys[reason]; return ok }
