package web

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kommunity/kommunity/pledge"
)

// FuzzPledgeJSON fuzzes the strict JSON decoder of POST /api/pledges: it
// never panics; every refusal is an EINVALID error whose message names no
// Go type; what it accepts is valid UTF-8, one object, and decodes the same
// with the standard decoder.
func FuzzPledgeJSON(f *testing.F) {
	for _, s := range []string{
		`{"address_id":"a1","unit":1,"name":"Ada","email":"ada@example.dk","phone":"","consent":true}`,
		`{"address_id":"a1","consent":false,"consent":true}`,
		`{"address_id":"a1"}{"address_id":"a2"}`,
		`[{"address_id":"a1"}]`, `"x"`, `null`, `{}`, ``, ` `, `{"unit":1e400}`, `{"unit":-0}`,
		`{"unit":99999999999999999999}`, `{"name":"A\u0000\u202e"}`, "{\"name\":\"\xff\"}",
		`{"address_id":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
		`{"e-mail":"x"}`, `{"name":{"first":"A"}}`, `{"address_id":"a1"} // comment`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in pledgeInput
		err := unmarshalStrict(data, &in)
		if err != nil {
			if pledge.ErrorCode(err) != pledge.EINVALID {
				t.Fatalf("refusal %v is not EINVALID", err)
			}
			msg := pledge.ErrorMessage(err)
			for _, leak := range []string{"web.", "int", "struct", "json:", "reflect"} {
				if strings.Contains(msg, leak) {
					t.Fatalf("message %q names Go internals", msg)
				}
			}
			return
		}
		if !utf8.Valid(data) {
			t.Fatalf("accepted invalid UTF-8 %q", data)
		}
		trimmed := bytes.TrimSpace(data)
		if len(trimmed) == 0 || trimmed[0] != '{' {
			t.Fatalf("accepted a non-object %q", data)
		}
		var std pledgeInput
		if err := json.Unmarshal(data, &std); err != nil || std != in {
			t.Fatalf("standard decoder disagrees: %+v, %v; strict gave %+v", std, err, in)
		}
	})
}
