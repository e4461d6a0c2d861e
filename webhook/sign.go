// Package webhook signs and posts webhook deliveries to providers'
// endpoints, following the Standard Webhooks specification
// (https://www.standardwebhooks.com), through an HTTP client that refuses
// to connect to loopback, private or link-local addresses (the SSRF
// guard). Its Deliverer is the dispatcher's handler of
// pledge.EventWebhookDelivery.
//
// The package imports pledge and dispatch, never a store or web.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/kommunity/kommunity/pledge"
)

// Headers of a delivery, per the specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Body is what is posted: {"type", "timestamp", "data"}, the same bytes
// on every attempt of one delivery.
func Body(d pledge.WebhookDelivery) []byte {
	b, _ := json.Marshal(struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{d.Type, d.Timestamp, d.Data})
	return b
}

// Signature is the webhook-signature value for msgID, timestamp ts (Unix
// seconds) and body: "v1,<base64 HMAC-SHA256 of id.timestamp.body>" per
// key, space-separated (two during a secret's rotation).
func Signature(keys [][]byte, msgID string, ts int64, body []byte) string {
	content := msgID + "." + strconv.FormatInt(ts, 10) + "." + string(body)
	sigs := make([]string, 0, len(keys))
	for _, k := range keys {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(content))
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}

// Verify reports whether header (a webhook-signature value) holds a v1
// signature of msgID, ts and body under secret (whsec_...). It is what a
// receiver runs; the tests use their own.
func Verify(secret, msgID string, ts int64, body []byte, header string) bool {
	key, err := pledge.WebhookSigningKey(secret)
	if err != nil {
		return false
	}
	want := Signature([][]byte{key}, msgID, ts, body)
	for _, sig := range strings.Fields(header) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}
