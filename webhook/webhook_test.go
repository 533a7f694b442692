package webhook

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// TestSignature: the Standard Webhooks specification's example message
// signs as the specification shows, and a rotation adds a second
// signature.
func TestSignature(t *testing.T) {
	key, err := DecodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	const want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	got := Signature([][]byte{key}, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	if two := Signature([][]byte{key, []byte("other")}, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`)); len(two) <= len(want)+1 || two[:len(want)+1] != want+" " {
		t.Errorf("two signatures: %s", two)
	}
	for _, bad := range []string{"", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!"} {
		if _, err := DecodeSecret(bad); err == nil {
			t.Errorf("DecodeSecret(%q) accepted", bad)
		}
	}
	if k, err := DecodeSecret(EncodeSecret([]byte{1, 2, 3})); err != nil || string(k) != "\x01\x02\x03" {
		t.Errorf("round trip: %v %v", k, err)
	}
}

// TestGuard: which addresses a delivery may reach, and that a dial to a
// refused address fails in the dialer's Control hook, after resolution.
func TestGuard(t *testing.T) {
	g := Guard{}
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "8.8.8.8": true, "2606:4700::1111": true,
		"127.0.0.1": false, "127.255.0.9": false, "::1": false, "::ffff:127.0.0.1": false,
		"10.0.0.1": false, "172.16.0.1": false, "172.31.255.255": false, "192.168.0.1": false, "fd00::1": false,
		"169.254.169.254": false, "fe80::1": false, "100.100.100.200": false, "100.64.0.1": false,
		"0.0.0.0": false, "0.1.2.3": false, "::": false, "224.0.0.251": false, "ff02::1": false,
		"255.255.255.255": false, "198.18.0.1": false, "192.0.0.8": false, "64:ff9b::7f00:1": false,
	} {
		if got := g.Allowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Allowed(%s) = %v, want %v", addr, got, want)
		}
		if !(Guard{AllowPrivate: true}).Allowed(netip.MustParseAddr(addr)) {
			t.Errorf("AllowPrivate refuses %s", addr)
		}
	}
	// A name resolving to loopback is refused at the dial, before any
	// connection is made.
	rebinding := Guard{Resolve: func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}}
	c, err := rebinding.DialContext(t.Context(), "tcp", "hooks.example:80")
	if err == nil {
		c.Close()
	}
	if !errors.Is(err, ErrAddressRefused) {
		t.Errorf("dial of a name resolving to loopback: %v, want ErrAddressRefused", err)
	}
}
