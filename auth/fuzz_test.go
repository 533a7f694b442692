package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzVerifyAccessToken feeds arbitrary strings to VerifyAccessToken over a
// real SQLite store: it must never panic, and it must refuse, with
// ErrInvalidToken, everything but the one real token it issued — including
// respellings of it (set padding bits, CR/LF in the signature), which the
// lenient base64 decoding once let through.
func FuzzVerifyAccessToken(f *testing.F) {
	ctx := context.Background()
	svc := newTestService(f, openTestStore(f), Config{AdminScopes: []string{"profile"}}, "fuzz")
	sess, err := svc.Login(ctx, LoginRequest{Login: "fuzz", Password: "fuzz-password"})
	if err != nil {
		f.Fatal(err)
	}
	real := sess.Access.Token
	if _, err := svc.VerifyAccessToken(ctx, real, ""); err != nil {
		f.Fatalf("the real token does not verify: %v", err)
	}

	parts := strings.Split(real, ".")
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	for _, seed := range []string{
		real,
		"", "a.b.c", "....", ".", "..", "a.b.c.d", "   ",
		parts[0] + "." + parts[1] + ".",          // signature stripped
		parts[0] + "." + parts[1],                // two segments
		real + "." + parts[2],                    // four segments
		flip(real, len(parts[0])+5),              // payload byte changed
		flip(real, 3),                            // header byte changed
		flip(real, len(real)-10),                 // signature byte changed
		real[:len(real)-1],                       // signature truncated
		" " + real, real + " ", "Bearer " + real, // wrapping
		real + "\n", real[:len(real)-10] + "\r\n" + real[len(real)-10:], // CR/LF in the signature
		trailingBits(real),                                                // the signature's unused last bits set
		strings.ToUpper(real[:1]) + real[1:],                              // case
		seg(`{"alg":"none"}`) + "." + parts[1] + ".",                      // alg none
		seg(`{"alg":"none","kid":"x"}`) + "." + parts[1] + "." + parts[2], // alg none, signature kept
		seg(`{"alg":"HS256","kid":"../../etc/passwd"}`) + "." + parts[1] + "." + parts[2],
		seg(`{"alg":"ES256"}`) + "." + parts[1] + "." + parts[2], // no kid
		seg(`{}`) + "." + seg(`{}`) + ".",
		seg(`null`) + "." + seg(`null`) + "." + seg(`null`),
		seg(`[]`) + "." + seg(`[]`) + ".",
		parts[0] + "." + seg(strings.Replace(string(payload), `"sub":"`, `"sub":"x`, 1)) + "." + parts[2], // sub tampered
		parts[0] + "." + base64.StdEncoding.EncodeToString(payload) + "." + parts[2],                      // padded std base64
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, token string) {
		_, err := svc.VerifyAccessToken(ctx, token, "")
		if token == real {
			if err != nil {
				t.Fatalf("the real token: %v", err)
			}
			return
		}
		if !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("VerifyAccessToken(%q) = %v, want ErrInvalidToken", token, err)
		}
	})
}

// trailingBits respells token with the unused low bits of its last
// character set: the same signature bytes, another string.
func trailingBits(token string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	sig := token[strings.LastIndexByte(token, '.')+1:]
	unused := (len(sig) * 6) % 8 // bits of the last character that carry nothing
	if unused == 0 {
		return token
	}
	last := strings.IndexByte(alphabet, token[len(token)-1])
	return token[:len(token)-1] + string(alphabet[last|(1<<unused-1)])
}

// FuzzCheckRedirectURI: whatever CheckRedirectURI accepts is an absolute
// https URI, or http on localhost or a loopback address, with a host, no
// user information, no fragment, no wildcard and no space or control
// character; and a fragment added to it is refused.
func FuzzCheckRedirectURI(f *testing.F) {
	for _, seed := range []string{
		"https://app.example.com/cb", "http://127.0.0.1:8000/cb", "http://localhost/cb", "http://[::1]/cb",
		"http://app.example.com/cb", "http://localhost.evil.example/cb", "http://127.0.0.1.evil.example/",
		"https://*.example.com/cb", "https://app.example.com/cb#x", "https://u:p@app.example.com/", "/cb",
		"https:///cb", "javascript:alert(1)", "https://app.example.com/c b", "HTTPS://APP.EXAMPLE.COM/", "http://LOCALHOST/",
		"http://0x7f.1/", "http://127.1/", "http://[::ffff:127.0.0.1]/", "https://app.example.com%2F@evil/",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if CheckRedirectURI(raw) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", raw, err)
		}
		secure := u.Scheme == "https" || u.Scheme == "http" && loopbackHost(u.Hostname())
		if !secure || u.Host == "" || u.User != nil || u.Fragment != "" ||
			strings.ContainsAny(raw, "#* \t\r\n\x00") {
			t.Fatalf("accepted %q (scheme %q, host %q)", raw, u.Scheme, u.Host)
		}
		if CheckRedirectURI(raw+"#frag") == nil {
			t.Fatalf("accepted %q with a fragment", raw)
		}
	})
}

// FuzzValidateAuthRequest: whatever an authorization request holds,
// ValidateAuthRequest never panics and never lets a redirect go anywhere
// but a URI the client registered: a request it accepts, and every
// fault it redirects, name one of them; one it accepts has response_type
// code, an S256 challenge of 43 characters and a first-party client.
func FuzzValidateAuthRequest(f *testing.F) {
	ctx := context.Background()
	svc := newTestService(f, openTestStore(f), Config{Issuer: "https://id.example.com"})
	app, err := svc.CreateApplication(ctx, ApplicationChange{Name: new("fuzz"), FirstParty: new(true),
		RedirectURIs: &[]string{"https://app.example.com/cb", "http://127.0.0.1:8000/cb"}}, "", Origin{})
	if err != nil {
		f.Fatal(err)
	}
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	f.Add(app.ID, "https://app.example.com/cb", "code", "", "openid profile", challenge, "S256", "", "")
	f.Add(app.ID, "https://app.example.com/cb/", "code", "query", "openid", challenge, "S256", "none", "0")
	f.Add(app.ID, "", "token", "form_post", "", "", "plain", "login consent", "-1")
	f.Add("", "https://evil.example/cb", "code", "fragment", "x y", challenge+"x", "S256", "select_account", "1h")
	f.Fuzz(func(t *testing.T, clientID, redirectURI, responseType, responseMode, scope, codeChallenge, method, prompt, maxAge string) {
		p := AuthParams{ClientID: clientID, RedirectURI: redirectURI, ResponseType: responseType, ResponseMode: responseMode,
			Scope: scope, CodeChallenge: codeChallenge, CodeChallengeMethod: method, Prompt: prompt, MaxAge: maxAge}
		r, err := svc.ValidateAuthRequest(ctx, p)
		var page *AuthPageError
		var fault *AuthRedirectError
		switch {
		case err == nil:
			if !slices.Contains(app.RedirectURIs, r.RedirectURI) || p.ResponseType != "code" || p.CodeChallengeMethod != "S256" ||
				len(r.CodeChallenge) != 43 || r.App.ID != app.ID {
				t.Fatalf("accepted %+v as %+v", p, r)
			}
		case errors.As(err, &fault):
			if !slices.Contains(app.RedirectURIs, fault.Request.RedirectURI) || fault.Request.App.ID != app.ID {
				t.Fatalf("a fault of %+v redirected to %q", p, fault.Request.RedirectURI)
			}
		case errors.As(err, &page):
		default:
			t.Fatalf("%+v: %v", p, err)
		}
	})
}
