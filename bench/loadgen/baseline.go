package main

// The baseline: a minimal HTTP server doing only the work a token server
// cannot avoid, so that gatehouse's figures can be read as a ratio of it.
// It runs as a second process (this same binary, re-executed with the
// hidden subcommand "serve-baseline"), so that it competes with the load
// generator for the two cores exactly as the gatehouse process does.
//
//	POST /login        one argon2id verification with auth.DefaultHashParams
//	                   (through auth.Hasher: the server's slots and queue
//	                   wait) and one JWT signature (ES256; ?alg=RS256 for
//	                   the OCARIoT dialect, which signs RS256)
//	POST /refresh      one SHA-256, one SQLite transaction (select, update,
//	                   insert) on a WAL database file, one ES256 signature
//	GET  /me           one ES256 signature verification
//	POST /introspect   two ES256 verifications: the caller's token and the
//	                   introspected one
//
// /setup/* endpoints hand out tokens for the scenarios' set-up; they are
// never timed.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	_ "modernc.org/sqlite"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// baselineClaims has the shape of gatehouse's access-token claims, so the
// baseline signs and verifies tokens of the same size.
type baselineClaims struct {
	jwt.RegisteredClaims
	SubType  string `json:"sub_type,omitempty"`
	Scope    string `json:"scope,omitempty"`
	Username string `json:"username,omitempty"`
	Email    string `json:"email,omitempty"`
}

type baseline struct {
	hasher   *auth.Hasher
	hash     string // the PHC hash every login verifies against
	es       *ecdsa.PrivateKey
	rs       *rsa.PrivateKey
	db       *sql.DB
	parser   *jwt.Parser
	issuer   string
	audience string
}

// serveBaseline is the "serve-baseline" subcommand: it prints
// "BASELINE_ADDR=host:port" on stdout once it listens.
func serveBaseline(args []string) error {
	fs := flag.NewFlagSet("serve-baseline", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	dbPath := fs.String("db", "", "the SQLite file of the refresh baseline")
	password := fs.String("password", benchPassword, "the password every login checks")
	queueWait := fs.Duration("hash-queue-wait", 5*time.Second, "longest wait for a hashing slot (the server's --hash-queue-wait)")
	fs.Parse(args)
	if *dbPath == "" {
		return errors.New("serve-baseline: -db is required")
	}
	ctx := context.Background()
	b := &baseline{
		// The server's hasher: DefaultHashParams, one slot per CPU, the
		// same queue limit.
		hasher: auth.NewHasher(auth.DefaultHashParams, 0, *queueWait),
		issuer: "gatehouse", audience: "00000000-0000-4000-8000-000000000000",
	}
	var err error
	if b.hash, err = b.hasher.Hash(ctx, *password); err != nil {
		return err
	}
	if b.es, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return err
	}
	if b.rs, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return err
	}
	b.parser = jwt.NewParser(jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(b.issuer),
		jwt.WithLeeway(30*time.Second), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	// The same connection settings as gatehouse's SQLite writer: WAL,
	// synchronous NORMAL, BEGIN IMMEDIATE, one writer connection.
	b.db, err = sql.Open("sqlite", *dbPath+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return err
	}
	b.db.SetMaxOpenConns(1)
	b.db.SetMaxIdleConns(1)
	if _, err := b.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS refresh_tokens (
		hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, user_id TEXT NOT NULL,
		created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER) STRICT`); err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", b.login)
	mux.HandleFunc("POST /refresh", b.refresh)
	mux.HandleFunc("GET /me", b.me)
	mux.HandleFunc("POST /introspect", b.introspect)
	mux.HandleFunc("POST /setup/token", b.setupToken)
	mux.HandleFunc("POST /setup/refresh", b.setupRefresh)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("BASELINE_ADDR=%s\n", ln.Addr())
	os.Stdout.Sync()
	srv := &http.Server{
		Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
	}
	return srv.Serve(ln)
}

// fields reads a form or JSON body into a flat map of strings.
func fields(r *http.Request) (map[string]string, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
		return out, nil
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	for k := range vals {
		out[k] = vals.Get(k)
	}
	return out, nil
}

func respond(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign signs a token of gatehouse's shape for user with alg.
func (b *baseline) sign(user, alg string) (string, error) {
	now := time.Now().Truncate(time.Second)
	c := baselineClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: b.issuer, Subject: "6f1c2a9e-3b7d-4c1e-9a52-0d8e4f7b1c3a", Audience: jwt.ClaimStrings{b.audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), ID: randomString(16),
		},
		SubType: "user", Scope: "profile api-keys:read api-keys:write", Username: user, Email: user + "@bench.example",
	}
	var (
		method jwt.SigningMethod = jwt.SigningMethodES256
		key    any               = b.es
	)
	if alg == "RS256" {
		method, key = jwt.SigningMethodRS256, b.rs
	}
	t := jwt.NewWithClaims(method, c)
	t.Header["kid"] = "baseline-" + alg
	return t.SignedString(key)
}

func (b *baseline) verify(token string) (baselineClaims, error) {
	var c baselineClaims
	_, err := b.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return &b.es.PublicKey, nil })
	return c, err
}

func bearer(r *http.Request) string {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

func (b *baseline) login(w http.ResponseWriter, r *http.Request) {
	f, err := fields(r)
	if err != nil {
		respond(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	user := f["username"] + f["email"] + f["userName"]
	ok, _, err := b.hasher.Verify(r.Context(), f["password"], b.hash)
	if errors.Is(err, auth.ErrOverloaded) {
		w.Header().Set("Retry-After", "1")
		respond(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"})
		return
	}
	if err != nil || !ok {
		respond(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	alg := r.URL.Query().Get("alg")
	tok, err := b.sign(user, alg)
	if err != nil {
		respond(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	respond(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

var errSpent = errors.New("refresh token spent or unknown")

func (b *baseline) refresh(w http.ResponseWriter, r *http.Request) {
	f, err := fields(r)
	if err != nil {
		respond(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	ctx := r.Context()
	old := hashToken(f["refresh_token"])
	next := randomString(32)
	now := time.Now()
	err = b.inTx(ctx, func(tx *sql.Tx) error {
		var (
			family, user string
			expires      int64
			used         sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT family_id, user_id, expires_at, used_at FROM refresh_tokens WHERE hash = ?`, old).
			Scan(&family, &user, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (used.Valid || expires <= now.UnixNano())) {
			return errSpent
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE hash = ?`, now.UnixNano(), old); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, family_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			hashToken(next), family, user, now.UnixNano(), now.Add(30*24*time.Hour).UnixNano())
		return err
	})
	if errors.Is(err, errSpent) {
		respond(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	if err != nil {
		respond(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	tok, err := b.sign("refresh-user", "")
	if err != nil {
		respond(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	respond(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "refresh_token": next})
}

func (b *baseline) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (b *baseline) me(w http.ResponseWriter, r *http.Request) {
	c, err := b.verify(bearer(r))
	if err != nil {
		respond(w, http.StatusUnauthorized, map[string]string{"title": "Unauthorized"})
		return
	}
	respond(w, http.StatusOK, map[string]any{"id": c.Subject, "username": c.Username, "email": c.Email, "role": c.SubType})
}

func (b *baseline) introspect(w http.ResponseWriter, r *http.Request) {
	if _, err := b.verify(bearer(r)); err != nil {
		respond(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	f, err := fields(r)
	if err != nil {
		respond(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	c, err := b.verify(f["token"])
	if err != nil {
		respond(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	respond(w, http.StatusOK, map[string]any{"active": true, "sub": c.Subject, "scope": c.Scope, "exp": c.ExpiresAt.Unix(),
		"iat": c.IssuedAt.Unix(), "iss": c.Issuer, "aud": c.Audience, "username": c.Username, "token_type": "access_token"})
}

func (b *baseline) setupToken(w http.ResponseWriter, _ *http.Request) {
	tok, err := b.sign("setup-user", "")
	if err != nil {
		respond(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	respond(w, http.StatusOK, map[string]any{"access_token": tok})
}

func (b *baseline) setupRefresh(w http.ResponseWriter, r *http.Request) {
	tok := randomString(32)
	now := time.Now()
	_, err := b.db.ExecContext(r.Context(), `INSERT INTO refresh_tokens (hash, family_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		hashToken(tok), randomString(16), "setup-user", now.UnixNano(), now.Add(30*24*time.Hour).UnixNano())
	if err != nil {
		respond(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	respond(w, http.StatusOK, map[string]any{"refresh_token": tok})
}
