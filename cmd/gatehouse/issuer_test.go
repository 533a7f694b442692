package main

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
)

// TestIssuerFor: the default issuer is --public-url, else http:// and
// --addr with the port bound; an address of every interface defaults to
// localhost, with a warning.
func TestIssuerFor(t *testing.T) {
	bound := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 41234}
	cases := []struct {
		name, flag, publicURL, addr string
		want, wantErr               string
		wantWarning                 bool
	}{
		{name: "default", addr: "127.0.0.1:8080", want: "http://127.0.0.1:41234"},
		{name: "a name", addr: "localhost:8080", want: "http://localhost:41234"},
		{name: "IPv6", addr: "[::1]:0", want: "http://[::1]:41234"},
		{name: "every interface", addr: ":8080", want: "http://localhost:41234", wantWarning: true},
		{name: "every IPv4 interface", addr: "0.0.0.0:8080", want: "http://localhost:41234", wantWarning: true},
		{name: "every IPv6 interface", addr: "[::]:8080", want: "http://localhost:41234", wantWarning: true},
		{name: "public URL", publicURL: "https://auth.example.com/", addr: "0.0.0.0:8080", want: "https://auth.example.com"},
		{name: "flag", flag: "https://id.example.com", publicURL: "https://auth.example.com", addr: ":8080", want: "https://id.example.com"},
		{name: "flag not a URL", flag: "gatehouse", addr: "127.0.0.1:8080", wantErr: `--issuer: "gatehouse" is not an http or https URL`},
		{name: "public URL not a URL", publicURL: "auth.example.com", addr: "127.0.0.1:8080", wantErr: `--public-url (the default issuer): "auth.example.com" is not an http or https URL`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			got, err := issuerFor(tc.flag, tc.publicURL, tc.addr, bound, slog.New(slog.NewTextHandler(&logs, nil)))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
			if warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "--public-url"); warned != tc.wantWarning {
				t.Errorf("warning %v, want %v: %s", warned, tc.wantWarning, logs.String())
			}
		})
	}
}
