// Package verify verifies gatehouse's access tokens in a resource server,
// offline, against the issuer's JWKS.
//
// New discovers the issuer (/.well-known/openid-configuration, whose
// issuer must be the configured URL exactly), fetches the JWKS and keeps
// it fresh: in the background when the response's Cache-Control max-age
// runs out (at least Options.MinRefetchInterval, at most
// Options.RefreshInterval), and at once when a token names an unknown kid
// — at most once per MinRefetchInterval (10 s), with one fetch in flight
// that concurrent callers wait for, so that a flood of forged kids cannot
// make it hammer the server; a failed fetch keeps the old keys. gatehouse
// publishes a new key 20 minutes before signing with it, so a rotation
// never meets a stale cache.
//
// Verify accepts a compact JWS signed by a JWKS key with that key's own
// algorithm (ES256, RS256 or EdDSA, pinned by Options.Algorithms; the
// token's alg header must match the key and is never trusted beyond
// that), with iss equal to the issuer, aud containing Options.Audience,
// exp present, and exp, nbf and iat within Options.Leeway (30 s).
//
// Require is net/http middleware that requires scopes and puts the Claims
// in the request context (ClaimsFrom); RequireActive also introspects the
// token (RFC 7662) for routes that must see a revocation at once.
// Package echoverify gives the same for echo.
//
// The package imports nothing of gatehouse but its generated client's
// types and internal/jose, the JOSE rules gatehouse itself signs and
// verifies by (its Claims are jose's).
package verify
