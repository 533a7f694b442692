package contract_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// atkSeg is one base64url JWT segment of v (a JSON value, or raw bytes).
func atkSeg(t *testing.T, v any) string {
	t.Helper()
	if b, ok := v.([]byte); ok {
		return base64.RawURLEncoding.EncodeToString(b)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// atkSign signs claims with method and key, the header carrying header's
// entries (a nil value deletes one, e.g. "kid").
func atkSign(t *testing.T, method jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

// atkParts splits a compact JWT and decodes its header and claims.
func atkParts(t *testing.T, token string) (header, claims map[string]any, sig string) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", token)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims, parts[2]
}

// TestTokenAttacks presents forged, tampered, confused and out-of-date
// tokens to a protected route: each must answer 401 in the problem shape
// (the validating doer checks it against the contract) with
// WWW-Authenticate naming invalid_token where a token was presented.
func TestTokenAttacks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The server's clock stands still but for the jumps the cases make, so
	// "an hour and 31 s after the login" is exact however slow the run.
	skew := newFakeClock()
	now := skew.Now()
	s := newServer(t, withClock(skew))
	admin := s.login(t, "admin", adminPassword)
	realTok := admin.AccessToken

	// A token for another application: genuine, for the same admin, with
	// the admin's scopes, but its aud is that application's resource
	// server, which could replay it here.
	otherApp := s.createApplication(t, realTok, client.ApplicationCreate{Name: "other-api", Audience: ptr("https://other-api.example")})
	if r, err := s.Client.AddApplicationMemberWithResponse(ctx, otherApp.Id, s.adminID(t, realTok), bearer(realTok)); err != nil || r.StatusCode() != http.StatusNoContent {
		t.Fatalf("add member: %v %d", err, r.StatusCode())
	}
	otherAppTok := s.loginTo(t, otherApp.Id.String(), "admin", adminPassword).AccessToken
	if aud := mustClaims(t, otherAppTok)["aud"]; !reflect.DeepEqual(aud, []any{"https://other-api.example"}) && aud != "https://other-api.example" {
		t.Fatalf("other application's token has aud %v", aud)
	}
	other := s.createUser(t, realTok, client.UserCreate{Username: "mallory", Password: "mallory-password"})
	victim := s.createUser(t, realTok, client.UserCreate{Username: "victim", Password: "victim-password"})
	victimTok := s.login(t, "victim", "victim-password").AccessToken

	// The server's private keys, as an insider (or a backup thief with
	// the master key) would have them: the crafted-claims cases below
	// must fail on their claims, not on a signature.
	keys, err := s.Store.ListSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		if keys[i], err = s.Svc.UnsealSigningKey(keys[i]); err != nil {
			t.Fatal(err)
		}
	}
	var (
		esKID, rsKID string
		esKey        *ecdsa.PrivateKey
		rsKey        *rsa.PrivateKey
	)
	for _, k := range keys {
		if k.RetiredAt != nil {
			continue
		}
		priv, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		switch k.Alg {
		case auth.AlgES256:
			esKID, esKey = k.KID, priv.(*ecdsa.PrivateKey)
		case auth.AlgRS256:
			rsKID, rsKey = k.KID, priv.(*rsa.PrivateKey)
		}
	}
	if esKey == nil || rsKey == nil {
		t.Fatalf("want an active ES256 and RS256 key, have %d keys", len(keys))
	}
	if h, _, _ := atkParts(t, realTok); h["kid"] != esKID || h["alg"] != "ES256" {
		t.Fatalf("real token header %v, want ES256 kid %s", h, esKID)
	}

	// The RS256 public key as published, in every encoding an HMAC
	// key-confusion attack might try as the secret.
	jwks, err := s.Client.GetJWKSWithResponse(ctx)
	if err != nil || jwks.JSON200 == nil {
		t.Fatalf("jwks: %v", err)
	}
	var rsPub *rsa.PublicKey
	var esPub *ecdsa.PublicKey
	for _, k := range jwks.JSON200.Keys {
		raw := func(s *string) []byte {
			b, err := base64.RawURLEncoding.DecodeString(*s)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		switch k.Kid {
		case rsKID:
			rsPub = &rsa.PublicKey{N: new(big.Int).SetBytes(raw(k.N)), E: int(new(big.Int).SetBytes(raw(k.E)).Int64())}
		case esKID:
			if esPub, err = ecdsa.ParseUncompressedPublicKey(elliptic.P256(), slices.Concat([]byte{4}, raw(k.X), raw(k.Y))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if rsPub == nil || esPub == nil || !rsPub.Equal(rsKey.Public()) || !esPub.Equal(esKey.Public()) {
		t.Fatal("the JWKS does not publish the active keys")
	}
	rsDER, err := x509.MarshalPKIXPublicKey(rsPub)
	if err != nil {
		t.Fatal(err)
	}
	rsPKCS1 := x509.MarshalPKCS1PublicKey(rsPub)
	rsPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsDER})
	rsPKCS1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: rsPKCS1})
	esDER, err := x509.MarshalPKIXPublicKey(esPub)
	if err != nil {
		t.Fatal(err)
	}
	esPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: esDER})

	// A real RS256 token, from the OCARIoT dialect.
	oc, err := s.Client.OcariotAuthWithResponse(ctx, client.OcariotAuthJSONRequestBody{Username: "admin", Password: adminPassword})
	if err != nil || oc.JSON200 == nil {
		t.Fatalf("/v1/auth: %v", err)
	}
	realRS := oc.JSON200.AccessToken

	realHeader, realClaims, realSig := atkParts(t, realTok)
	rsHeader, _, rsSig := atkParts(t, realRS)
	realPayload := strings.Split(realTok, ".")[1]
	rsPayload := strings.Split(realRS, ".")[1]
	with := func(m map[string]any, kv ...any) map[string]any {
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(out, kv[i].(string))
			} else {
				out[kv[i].(string)] = kv[i+1]
			}
		}
		return out
	}
	// Valid claims, crafted: the base of the cases that change one.
	good := func(kv ...any) jwt.MapClaims {
		c := jwt.MapClaims{
			"iss": realClaims["iss"], "sub": realClaims["sub"], "sub_type": "admin",
			"aud": realClaims["aud"], "iat": now.Unix(), "nbf": now.Unix(),
			"exp": now.Add(time.Hour).Unix(), "jti": "crafted-" + rand.Text(),
			"scope": realClaims["scope"], "username": "admin",
		}
		return jwt.MapClaims(with(c, kv...))
	}
	esSign := func(header map[string]any, claims jwt.MapClaims) string {
		return atkSign(t, jwt.SigningMethodES256, esKey, with(map[string]any{"kid": esKID}, mapPairs(header)...), claims)
	}
	hsSign := func(secret []byte, kid any) string {
		return atkSign(t, jwt.SigningMethodHS256, secret, map[string]any{"kid": kid}, good())
	}
	attackerES, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	attackerPt, err := attackerES.PublicKey.Bytes() // 0x04 || x || y
	if err != nil {
		t.Fatal(err)
	}
	attackerJWK := map[string]any{
		"kty": "EC", "crv": "P-256", "kid": esKID,
		"x": base64.RawURLEncoding.EncodeToString(attackerPt[1:33]),
		"y": base64.RawURLEncoding.EncodeToString(attackerPt[33:65]),
	}
	pssSig := func() string {
		// A genuine PS256 signature by the RS256 key: the key, not the
		// header, decides the algorithm.
		h := atkSeg(t, with(rsHeader, "alg", "PS256"))
		digest := sha256Sum(h + "." + rsPayload)
		sig, err := rsa.SignPSS(rand.Reader, rsKey, crypto.SHA256, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		if err != nil {
			t.Fatal(err)
		}
		return h + "." + rsPayload + "." + atkSeg(t, sig)
	}()
	randSeg := func(n int) string {
		b := make([]byte, n)
		rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}

	// Positive controls: the real tokens, and crafted ones with valid
	// claims, are accepted, so every refusal below is the attack's doing.
	for name, tok := range map[string]string{
		"real ES256": realTok, "real RS256": realRS,
		"crafted ES256":                  esSign(nil, good()),
		"crafted RS256":                  atkSign(t, jwt.SigningMethodRS256, rsKey, map[string]any{"kid": rsKID}, good()),
		"exp 10s ago, inside the leeway": esSign(nil, good("exp", now.Add(-10*time.Second).Unix())),
	} {
		if r, err := s.Client.GetMeWithResponse(ctx, bearer(tok)); err != nil || r.JSON200 == nil {
			t.Fatalf("control %s: %v %d %s", name, err, r.StatusCode(), r.Body)
		}
	}

	bearerTok := func(tok string) string { return "Bearer " + tok }
	cases := []struct {
		name          string
		authorization string // the whole header; "" sends none
		noToken       bool   // no token presented: no error="invalid_token"
		// verifies: the JWT itself is valid and the handler refuses it (or
		// it is no JWT at all); otherwise VerifyAccessToken must fail too.
		verifies bool
		advance  time.Duration
	}{
		// alg none, in the spellings libraries have tripped on.
		{name: "alg none, empty signature", authorization: bearerTok(atkSeg(t, map[string]any{"alg": "none"}) + "." + realPayload + ".")},
		{name: "alg none with kid", authorization: bearerTok(atkSeg(t, map[string]any{"alg": "none", "kid": esKID, "typ": "JWT"}) + "." + realPayload + ".")},
		{name: "alg None", authorization: bearerTok(atkSeg(t, map[string]any{"alg": "None"}) + "." + realPayload + ".")},
		{name: "alg NONE", authorization: bearerTok(atkSeg(t, map[string]any{"alg": "NONE"}) + "." + realPayload + ".")},
		{name: "alg nOnE", authorization: bearerTok(atkSeg(t, map[string]any{"alg": "nOnE"}) + "." + realPayload + ".")},
		{name: "alg none, real signature kept", authorization: bearerTok(atkSeg(t, with(realHeader, "alg", "none")) + "." + realPayload + "." + realSig)},
		{name: "alg none via golang-jwt's own none signer", authorization: bearerTok(atkSign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": esKID}, good()))},

		// HMAC key confusion: the published public key as the HMAC secret.
		{name: "HS256 with the RS256 public key PEM (PKIX) as secret", authorization: bearerTok(hsSign(rsPEM, rsKID))},
		{name: "HS256 with the RS256 public key PEM, no trailing newline", authorization: bearerTok(hsSign([]byte(strings.TrimSpace(string(rsPEM))), rsKID))},
		{name: "HS256 with the RS256 public key PEM (PKCS#1) as secret", authorization: bearerTok(hsSign(rsPKCS1PEM, rsKID))},
		{name: "HS256 with the RS256 public key DER (PKIX) as secret", authorization: bearerTok(hsSign(rsDER, rsKID))},
		{name: "HS256 with the RS256 public key DER (PKCS#1) as secret", authorization: bearerTok(hsSign(rsPKCS1, rsKID))},
		{name: "HS256 with the ES256 public key PEM as secret", authorization: bearerTok(hsSign(esPEM, esKID))},
		{name: "HS256 with the ES256 public key DER as secret", authorization: bearerTok(hsSign(esDER, esKID))},
		{name: "HS512 with the RS256 public key PEM as secret", authorization: bearerTok(atkSign(t, jwt.SigningMethodHS512, rsPEM, map[string]any{"kid": rsKID}, good()))},

		// Tampering with a real token.
		{name: "tampered sub", authorization: bearerTok(strings.Join([]string{strings.Split(realTok, ".")[0], atkSeg(t, with(realClaims, "sub", other.Id.String())), realSig}, "."))},
		{name: "tampered scope", authorization: bearerTok(strings.Join([]string{strings.Split(victimTok, ".")[0], atkSeg(t, with(mustClaims(t, victimTok), "scope", "profile users:read users:write")), strings.Split(victimTok, ".")[2]}, "."))},
		{name: "tampered exp", authorization: bearerTok(strings.Join([]string{strings.Split(realTok, ".")[0], atkSeg(t, with(realClaims, "exp", now.Add(365*24*time.Hour).Unix())), realSig}, "."))},
		{name: "tampered header kid (ES256 token names the RS256 key)", authorization: bearerTok(atkSeg(t, with(realHeader, "kid", rsKID)) + "." + realPayload + "." + realSig)},
		{name: "signature stripped", authorization: bearerTok(strings.Split(realTok, ".")[0] + "." + realPayload + ".")},
		{name: "signature truncated", authorization: bearerTok(realTok[:len(realTok)-4])},
		{name: "signature of another token", authorization: bearerTok(strings.Split(realTok, ".")[0] + "." + realPayload + "." + strings.Split(victimTok, ".")[2])},
		{name: "ES256 zero signature (r = s = 0)", authorization: bearerTok(strings.Split(realTok, ".")[0] + "." + realPayload + "." + atkSeg(t, make([]byte, 64)))},
		{name: "two segments only", authorization: bearerTok(strings.Split(realTok, ".")[0] + "." + realPayload)},
		{name: "four segments", authorization: bearerTok(realTok + "." + realSig)},

		// kid games.
		{name: "unknown kid", authorization: bearerTok(esSign(map[string]any{"kid": "no-such-kid"}, good()))},
		{name: "kid ../../etc/passwd", authorization: bearerTok(esSign(map[string]any{"kid": "../../etc/passwd"}, good()))},
		{name: "kid /dev/null, HS256 with an empty secret", authorization: bearerTok(atkSign(t, jwt.SigningMethodHS256, []byte{}, map[string]any{"kid": "/dev/null"}, good()))},
		{name: "kid /dev/null, ES256", authorization: bearerTok(esSign(map[string]any{"kid": "/dev/null"}, good()))},
		{name: "kid with SQL", authorization: bearerTok(esSign(map[string]any{"kid": "x' OR '1'='1"}, good()))},
		{name: "kid a number", authorization: bearerTok(esSign(map[string]any{"kid": 1}, good()))},
		{name: "no kid", authorization: bearerTok(esSign(map[string]any{"kid": nil}, good()))},

		// Keys the token brings along, or a key of the right type that is
		// not the server's.
		{name: "fresh ES256 key, known ES256 kid", authorization: bearerTok(atkSign(t, jwt.SigningMethodES256, attackerES, map[string]any{"kid": esKID}, good()))},
		{name: "fresh ES256 key, known RS256 kid", authorization: bearerTok(atkSign(t, jwt.SigningMethodES256, attackerES, map[string]any{"kid": rsKID}, good()))},
		{name: "fresh ES256 key embedded as jwk header", authorization: bearerTok(atkSign(t, jwt.SigningMethodES256, attackerES, map[string]any{"kid": esKID, "jwk": attackerJWK}, good()))},
		{name: "fresh ES256 key behind jku", authorization: bearerTok(atkSign(t, jwt.SigningMethodES256, attackerES, map[string]any{"kid": esKID, "jku": "https://attacker.example/jwks.json"}, good()))},
		{name: "RS256 token relabelled PS256", authorization: bearerTok(atkSeg(t, with(rsHeader, "alg", "PS256")) + "." + rsPayload + "." + rsSig)},
		{name: "RS256 token relabelled ES256", authorization: bearerTok(atkSeg(t, with(rsHeader, "alg", "ES256")) + "." + rsPayload + "." + rsSig)},
		{name: "RS256 token relabelled RS512", authorization: bearerTok(atkSeg(t, with(rsHeader, "alg", "RS512")) + "." + rsPayload + "." + rsSig)},
		{name: "ES256 token relabelled RS256", authorization: bearerTok(atkSeg(t, with(realHeader, "alg", "RS256")) + "." + realPayload + "." + realSig)},
		{name: "PS256 genuinely signed by the RS256 key", authorization: bearerTok(pssSig)},
		{name: "RS256 key signing with RS512", authorization: bearerTok(atkSign(t, jwt.SigningMethodRS512, rsKey, map[string]any{"kid": rsKID}, good()))},

		// Claims, signed with the server's own key.
		{name: "nbf in the future", authorization: bearerTok(esSign(nil, good("nbf", now.Add(5*time.Minute).Unix())))},
		{name: "iat in the future", authorization: bearerTok(esSign(nil, good("iat", now.Add(5*time.Minute).Unix())))},
		{name: "wrong iss", authorization: bearerTok(esSign(nil, good("iss", "https://evil.example")))},
		{name: "missing iss", authorization: bearerTok(esSign(nil, good("iss", nil)))},
		{name: "iss of another case", authorization: bearerTok(esSign(nil, good("iss", strings.ToUpper(realClaims["iss"].(string)))))},
		{name: "expired (exp 2 min ago)", authorization: bearerTok(esSign(nil, good("exp", now.Add(-2*time.Minute).Unix())))},
		{name: "missing exp", authorization: bearerTok(esSign(nil, good("exp", nil)))},
		{name: "exp not a number", authorization: bearerTok(esSign(nil, good("exp", "tomorrow")))},
		{name: "missing sub", authorization: bearerTok(esSign(nil, good("sub", nil)))},
		{name: "empty sub", authorization: bearerTok(esSign(nil, good("sub", "")))},
		{name: "missing jti", authorization: bearerTok(esSign(nil, good("jti", nil)))},
		// Audience: gatehouse's own API takes only its own (RFC 8725 §3.9).
		{name: "genuine token for another application (aud https://other-api.example)", authorization: bearerTok(otherAppTok)},
		{name: "crafted aud of another application", authorization: bearerTok(esSign(nil, good("aud", "https://other-api.example")))},
		{name: "aud a list without gatehouse's own", authorization: bearerTok(esSign(nil, good("aud", []string{"https://other-api.example", "x"})))},
		{name: "missing aud", authorization: bearerTok(esSign(nil, good("aud", nil)))},
		{name: "aud of another case", authorization: bearerTok(esSign(nil, good("aud", strings.ToUpper(realClaims["aud"].([]any)[0].(string)))))},
		{name: "sub of no user", authorization: bearerTok(esSign(nil, good("sub", "00000000-0000-4000-8000-000000000000"))), verifies: true},

		// Time: the real token once the clock has passed exp + leeway.
		{name: "expired by the clock (exp + leeway 30s + 1s)", authorization: bearerTok(realTok), advance: time.Hour + 31*time.Second},

		// Garbage.
		{name: "20 KB token of random segments", authorization: bearerTok(randSeg(5000) + "." + randSeg(5000) + "." + randSeg(5000))},
		{name: "20 KB token without dots", authorization: bearerTok(randSeg(15000))},
		{name: "a.b.c", authorization: bearerTok("a.b.c")},
		{name: "....", authorization: bearerTok("....")},
		{name: "API-key prefix with garbage", authorization: bearerTok(auth.APIKeyPrefix + "garbage"), verifies: true},
		{name: "real token under the Basic scheme", authorization: "Basic " + realTok, noToken: true},
		{name: "Bearer with nothing", authorization: "Bearer ", noToken: true},
		{name: "no Authorization", noToken: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			skew.Set(tc.advance)
			defer skew.Set(0)
			r, err := s.Client.GetMeWithResponse(ctx, func(_ context.Context, req *http.Request) error {
				if tc.authorization != "" {
					req.Header.Set("Authorization", tc.authorization)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			assertUnauthorized(t, r, !tc.noToken)
			// The refusal is the verifier's, not an accident further on.
			if tok, ok := strings.CutPrefix(tc.authorization, "Bearer "); ok && !tc.noToken && !tc.verifies {
				if _, err := s.Svc.VerifyOwnAccessToken(ctx, tok); !errors.Is(err, auth.ErrInvalidToken) {
					t.Errorf("VerifyOwnAccessToken: %v, want ErrInvalidToken", err)
				}
			}
		})
	}

	// Just inside the leeway the real token still works: the case above
	// fails on exp, not on something else.
	skew.Set(time.Hour + 20*time.Second)
	if r, err := s.Client.GetMeWithResponse(ctx, bearer(realTok)); err != nil || r.JSON200 == nil {
		t.Errorf("real token at exp + 20s (inside the leeway): %v %d %s", err, r.StatusCode(), r.Body)
	}
	skew.Set(0)

	// A deleted user's token authenticates no one.
	t.Run("token of a deleted user", func(t *testing.T) {
		if r, err := s.Client.DeleteUserWithResponse(ctx, victim.Id, bearer(realTok)); err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("delete victim: %v %d %s", err, r.StatusCode(), r.Body)
		}
		r, err := s.Client.GetMeWithResponse(ctx, bearer(victimTok))
		if err != nil {
			t.Fatal(err)
		}
		assertUnauthorized(t, r, true)
	})

	// The other application's token is fine for its own resource server:
	// the refusal above is gatehouse's API guarding itself.
	if _, err := s.Svc.VerifyAccessToken(ctx, otherAppTok, "https://other-api.example"); err != nil {
		t.Errorf("other application's token for its own audience: %v", err)
	}

	// The service checks any audience it is asked to.
	t.Run("wrong aud", func(t *testing.T) {
		app, err := s.Store.DefaultApplication(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Svc.VerifyAccessToken(ctx, realTok, app.Audience); err != nil {
			t.Fatalf("right aud: %v", err)
		}
		for _, aud := range []string{"other-audience", strings.ToUpper(app.Audience), app.Audience + " "} {
			if _, err := s.Svc.VerifyAccessToken(ctx, realTok, aud); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("aud %q: err = %v, want ErrInvalidToken", aud, err)
			}
		}
		noAud := esSign(nil, good("aud", nil))
		if _, err := s.Svc.VerifyAccessToken(ctx, noAud, app.Audience); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("no aud: err = %v, want ErrInvalidToken", err)
		}
	})

	// Revocation: a revoked refresh family's token no longer refreshes;
	// a revoked access token no longer authenticates.
	t.Run("revoked", func(t *testing.T) {
		sess := s.login(t, "admin", adminPassword)
		revoke := func(token string) {
			t.Helper()
			r, err := s.Client.RevokeTokenWithFormdataBodyWithResponse(ctx, client.RevokeTokenFormdataRequestBody{Token: token})
			if err != nil || r.StatusCode() != http.StatusOK {
				t.Fatalf("revoke: %v %d %s", err, r.StatusCode(), r.Body)
			}
		}
		revoke(sess.RefreshToken)
		rr := refresh(t, s, sess.RefreshToken)
		oauthError(t, rr.StatusCode(), rr.Body, rr.JSON400, 400, client.OAuthErrorErrorInvalidGrant)
		// Revoking the family ends its session, and with it the access
		// tokens it issued, on gatehouse itself: /v1/me refuses them and
		// introspection calls them inactive (DESIGN.md "Sessions").
		refused := func(what, token string) {
			t.Helper()
			r, err := s.Client.GetMeWithResponse(ctx, bearer(token))
			if err != nil {
				t.Fatal(err)
			}
			assertUnauthorized(t, r, true)
			in, err := s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: token}, bearer(s.adminToken(t)))
			if err != nil || in.JSON200 == nil || in.JSON200.Active {
				t.Errorf("introspection of %s: %v %d %s", what, err, in.StatusCode(), in.Body)
			}
		}
		refused("the access token of a revoked family", sess.AccessToken)

		// Revoking an access token itself puts its jti on the deny-list.
		other := s.login(t, "admin", adminPassword)
		revoke(other.AccessToken)
		refused("a revoked access token", other.AccessToken)
		if _, err := s.Svc.VerifyAccessToken(ctx, other.AccessToken, ""); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("VerifyAccessToken of a revoked jti: %v", err)
		}
	})
}

// assertUnauthorized checks a 401 in the problem shape, with the
// WWW-Authenticate challenge the contract documents.
func assertUnauthorized(t *testing.T, r *client.GetMeResponse, tokenGiven bool) {
	t.Helper()
	if r.StatusCode() != http.StatusUnauthorized || r.ApplicationproblemJSON401 == nil {
		t.Fatalf("status %d, want 401 problem+json: %s", r.StatusCode(), r.Body)
	}
	if p := r.ApplicationproblemJSON401; p.Status != http.StatusUnauthorized || p.Title == "" || p.Type == "" {
		t.Errorf("problem %+v", *p)
	}
	if ct := r.HTTPResponse.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type %q", ct)
	}
	h := r.HTTPResponse.Header.Get("WWW-Authenticate")
	if !strings.HasPrefix(h, "Bearer ") {
		t.Errorf("WWW-Authenticate %q, want a Bearer challenge", h)
	}
	if got := strings.Contains(h, `error="invalid_token"`); got != tokenGiven {
		t.Errorf("WWW-Authenticate %q: invalid_token %v, want %v", h, got, tokenGiven)
	}
}

func mustClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	_, c, _ := atkParts(t, token)
	return c
}

func mapPairs(m map[string]any) []any {
	out := make([]any, 0, 2*len(m))
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}

func sha256Sum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}
