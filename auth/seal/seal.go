// Package seal encrypts secrets kept at rest (TOTP secrets, the private
// parts of signing keys) with AES-256-GCM under a master key, so that a
// database dump alone yields no usable secret. A sealed value starts with
// a version prefix, which tells it from a plain value: PKCS#8 DER starts
// with 0x30, and the prefix never does.
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the master key's length: 32 bytes, AES-256.
const KeySize = 32

// prefix marks a value sealed by version 1 of the format:
// prefix || 12-byte nonce || AES-256-GCM ciphertext and tag.
var prefix = []byte("ghseal1:")

// ErrWrongKey is returned by Open when the value was not sealed under this
// key (or was altered).
var ErrWrongKey = errors.New("sealed value does not open with this master key")

// Sealer seals and opens values under one master key.
type Sealer struct {
	aead cipher.AEAD
}

// New returns a Sealer for a 32-byte master key.
func New(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("master key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// IsSealed reports whether b carries the sealed-value prefix.
func IsSealed(b []byte) bool { return bytes.HasPrefix(b, prefix) }

// Seal encrypts plain. ad (additional data, e.g. the row's id) binds the
// value to its place: a sealed value copied to another row does not open.
func (s *Sealer) Seal(plain, ad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	out := append(append([]byte{}, prefix...), nonce...)
	return s.aead.Seal(out, nonce, plain, ad), nil
}

// Open decrypts a value Seal made with the same ad. It returns ErrWrongKey
// when the key or ad differ or the value was altered.
func (s *Sealer) Open(sealed, ad []byte) ([]byte, error) {
	if !IsSealed(sealed) {
		return nil, errors.New("open: value is not sealed")
	}
	rest := sealed[len(prefix):]
	if len(rest) < s.aead.NonceSize()+s.aead.Overhead() {
		return nil, errors.New("open: sealed value is truncated")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, rest[:n], rest[n:], ad)
	if err != nil {
		return nil, ErrWrongKey
	}
	return plain, nil
}

// GenerateKey returns a new random master key.
func GenerateKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	return k, nil
}

// ReadKeyFile reads a master key file: 32 bytes, standard base64, surrounding
// white space ignored.
func ReadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read master key file: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: not base64: %w", path, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("master key file %s: must hold %d bytes (base64), holds %d", path, KeySize, len(key))
	}
	return key, nil
}

// CreateKeyFile writes a new random master key to path with mode 0600 and
// returns it. It fails when path exists: a key is never overwritten.
func CreateKeyFile(path string) ([]byte, error) {
	key, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create master key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create master key file: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write master key file: %w", err)
	}
	return key, nil
}
