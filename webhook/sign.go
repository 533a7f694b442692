// Package webhook delivers audit events to webhook endpoints: the outbox
// worker every node runs, Standard Webhooks signing, and the guard that
// keeps deliveries off private addresses. The deliveries themselves are
// enqueued by the store, in each audit event's own transaction.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every endpoint secret (Standard Webhooks' whsec_,
// then the base64 of the key).
const SecretPrefix = "whsec_"

// ErrBadSecret is returned for a secret that is not whsec_ and base64.
var ErrBadSecret = errors.New("not a whsec_ secret")

// EncodeSecret returns the secret whose key is key.
func EncodeSecret(key []byte) string { return SecretPrefix + base64.StdEncoding.EncodeToString(key) }

// DecodeSecret returns the key of a secret EncodeSecret made.
func DecodeSecret(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, ErrBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) == 0 {
		return nil, ErrBadSecret
	}
	return key, nil
}

// Signature is the webhook-signature header of a message: "v1," and the
// base64 HMAC-SHA256 of "id.timestamp.body" under each key, space
// separated (several during a secret's rotation).
func Signature(keys [][]byte, id string, at time.Time, body []byte) string {
	signed := id + "." + strconv.FormatInt(at.Unix(), 10) + "."
	sigs := make([]string, len(keys))
	for i, k := range keys {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(signed))
		m.Write(body)
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	return strings.Join(sigs, " ")
}
