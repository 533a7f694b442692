package auth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/jose"
	"github.com/gatehouse-auth/gatehouse/store"
)

// lockedBuffer is a log destination safe for the watcher's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWatchExpiredPurges: at each tick the watcher purges what expired by
// the service's clock, keeps the entry of a session ended while its access
// tokens are still valid (a node reading the log afresh still refuses
// them), and logs a failed purge as a warning and goes on.
func TestWatchExpiredPurges(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	clock := newTestClock()
	var logs lockedBuffer
	cfg := Config{AdminScopes: []string{"profile"}, UserScopes: []string{"profile"}, Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	svc := newTestService(t, st, cfg, "alice")
	login := func() Tokens { return mustLogin(t, svc, "alice") }

	old := login()
	if err := svc.Revoke(ctx, old.Access.Token, store.Application{}, Origin{}); err != nil {
		t.Fatal(err)
	}
	// Past the refresh token's lifetime, a session ended now.
	clock.Advance(DefaultRefreshTokenTTL + time.Hour)
	ended := login()
	if err := svc.Revoke(ctx, ended.RefreshToken, store.Application{}, Origin{}); err != nil {
		t.Fatal(err)
	}

	tick, purged := make(chan time.Time), make(chan error)
	wctx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		svc.watchExpired(wctx, tick, func(err error) { purged <- err })
	}()
	tick <- clock.Now()
	if err := <-purged; err != nil {
		t.Fatalf("purge: %v", err)
	}

	if _, err := st.GetRefreshToken(ctx, jose.HashRandomSecret(old.RefreshToken)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the expired refresh token after a purge: %v, want ErrNotFound", err)
	}
	if _, err := st.GetRefreshToken(ctx, jose.HashRandomSecret(ended.RefreshToken)); err != nil {
		t.Errorf("the ended session's unexpired refresh token after a purge: %v", err)
	}
	entries, _, err := st.RevocationsSince(ctx, 0)
	if err != nil || len(entries) != 1 || entries[0].Kind != store.RevokedSession {
		t.Errorf("the revocation log after a purge: %+v, %v; want the ended session alone", entries, err)
	}
	other := New(st, NewHasher(testHashParams, 0, 0), cfg)
	if err := other.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.SyncRevocations(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := other.VerifyOwnAccessToken(ctx, ended.Access.Token); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("the ended session's access token on a node that read the purged log: %v, want ErrInvalidToken", err)
	}
	if _, err := other.VerifyOwnAccessToken(ctx, login().Access.Token); err != nil {
		t.Errorf("a live session's access token on that node: %v", err)
	}

	// A failure is a warning, and the watcher goes on.
	st.Close()
	for range 2 {
		tick <- clock.Now()
		if err := <-purged; err == nil {
			t.Fatal("a purge of a closed store succeeded")
		}
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "purge of expired rows failed") {
		t.Errorf("no warning logged for the failed purge:\n%s", out)
	}
	stop()
	<-stopped
}
