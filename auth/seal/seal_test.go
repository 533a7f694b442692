package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key, _ := GenerateKey()
	s, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("a private key")
	sealed, err := s.Seal(plain, []byte("row 1"))
	if err != nil {
		t.Fatal(err)
	}
	if !IsSealed(sealed) || IsSealed(plain) || bytes.Contains(sealed, plain) {
		t.Errorf("sealed %q", sealed)
	}
	if again, _ := s.Seal(plain, []byte("row 1")); bytes.Equal(again, sealed) {
		t.Error("two seals of one value are equal: no fresh nonce")
	}
	if got, err := s.Open(sealed, []byte("row 1")); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("open: %q %v", got, err)
	}
	if _, err := s.Open(sealed, []byte("row 2")); !errors.Is(err, ErrWrongKey) {
		t.Errorf("open under another row's ad: %v", err)
	}
	other, _ := GenerateKey()
	o, _ := New(other)
	if _, err := o.Open(sealed, []byte("row 1")); !errors.Is(err, ErrWrongKey) {
		t.Errorf("open with another key: %v", err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := s.Open(tampered, []byte("row 1")); !errors.Is(err, ErrWrongKey) {
		t.Errorf("open of a tampered value: %v", err)
	}
	if _, err := s.Open(sealed[:len(prefix)+3], nil); err == nil {
		t.Error("open of a truncated value succeeded")
	}
	if _, err := New(key[:16]); err == nil {
		t.Error("a 16-byte master key accepted")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "master.key")
	key, err := CreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v, want 0600", fi.Mode(), err)
	}
	if got, err := ReadKeyFile(path); err != nil || !bytes.Equal(got, key) {
		t.Errorf("read back: %v", err)
	}
	if _, err := CreateKeyFile(path); err == nil {
		t.Error("an existing key file was overwritten")
	}
	short := filepath.Join(t.TempDir(), "short.key")
	os.WriteFile(short, []byte("c2hvcnQ=\n"), 0o600)
	if _, err := ReadKeyFile(short); err == nil {
		t.Error("a 5-byte key file accepted")
	}
}
