package webhook_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/kommunity/kommunity/pledge"
	"github.com/kommunity/kommunity/webhook"
)

// The test vector published with the Standard Webhooks specification.
func TestSignatureSpecVector(t *testing.T) {
	const secret, id, body, want = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", `{"test": 2432232314}`,
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	key, err := pledge.WebhookSigningKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	if got := webhook.Signature([][]byte{key}, id, 1614265330, []byte(body)); got != want {
		t.Errorf("signature = %q, want %q", got, want)
	}
	if !webhook.Verify(secret, id, 1614265330, []byte(body), "v1,bm9wZQ== "+want) {
		t.Error("Verify rejects the vector among two signatures")
	}
	if webhook.Verify(secret, id, 1614265331, []byte(body), want) {
		t.Error("Verify accepts another timestamp")
	}
	two := webhook.Signature([][]byte{key, []byte("other")}, id, 1614265330, []byte(body))
	if f := strings.Fields(two); len(f) != 2 || f[0] != want {
		t.Errorf("two keys: %q", two)
	}
}

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"203.0.113.10": true, "8.8.8.8": true, "2a00:1450:4001::1": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.0.1": false, "169.254.169.254": false,
		"0.0.0.0": false, "100.64.0.1": false, "224.0.0.1": false, "255.255.255.255": false,
		"::1": false, "::": false, "fe80::1": false, "fc00::1": false, "ff02::1": false,
		"::ffff:127.0.0.1": false, "::ffff:8.8.8.8": true, "64:ff9b::a00:1": false, "2002:c0a8:101::1": false, "::127.0.0.1": false,
	} {
		if got := pledge.PublicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("æ", 150) // 300 bytes
	for in, want := range map[string]string{
		"ok\n":             "ok ",
		"a\x00b\x1b[31m":   "a.b.[31m",
		"\xff\xfe":         "..",
		long:               strings.Repeat("æ", 100),
		"<html>\tx</html>": "<html> x</html>",
	} {
		if got := webhook.Excerpt([]byte(in)); got != want {
			t.Errorf("Excerpt(%q) = %q, want %q", in, got, want)
		}
	}
}
