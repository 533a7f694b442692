// Package testserver starts gatehouse for tests and benchmarks, the one
// way they all do it: a fresh database, the administrator AdminUsername,
// and the server's handler on a loopback listener that is bound before
// anything else, so the URL is known to the options (an issuer can name
// it) and the server accepts connections as soon as Start returns.
package testserver

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/auth/seal"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/store/storetest"
)

// AdminUsername and AdminPassword are the administrator every server
// starts with.
const (
	AdminUsername = "admin"
	AdminPassword = "admin-password-for-tests"
)

// HashParams are argon2id parameters light enough for a suite that logs
// in hundreds of times; the algorithm and code path are the production
// ones. Benchmarks set auth.DefaultHashParams instead.
var HashParams = auth.HashParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// MasterKey seals secrets on PostgreSQL, where every node of a test
// shares one database and so needs the same key; SQLite makes its own
// beside the file.
var MasterKey = bytes.Repeat([]byte{0x5e}, seal.KeySize)

// Server is a running gatehouse.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string
	*gatehouse.Instance
}

// Start starts gatehouse, stopped and closed when tb ends. change, when
// not nil, edits the options first, given the server's URL; the defaults
// are HashParams, a discarding logger and, unless change sets DB, a SQLite
// file in tb's temporary directory or, with GATEHOUSE_TEST_POSTGRES set, a
// fresh PostgreSQL database (dropped when tb ends). A PostgreSQL database
// without a master key gets MasterKey.
func Start(tb testing.TB, change func(url string, o *gatehouse.Options)) *Server {
	tb.Helper()
	ts := httptest.NewUnstartedServer(nil)
	tb.Cleanup(ts.Close) // should what follows fail
	url := "http://" + ts.Listener.Addr().String()
	o := gatehouse.Options{Hash: HashParams}
	if change != nil {
		change(url, &o)
	}
	if o.DB == "" {
		o.DB = FreshDB(tb)
	}
	if store.IsPostgresURL(o.DB) && o.MasterKey == nil && o.MasterKeyFile == "" {
		o.MasterKey = MasterKey
	}
	ctx := context.Background()
	inst, err := gatehouse.Open(ctx, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { inst.Close() })
	tb.Cleanup(ts.Close) // again: the server stops before the instance closes
	if _, err := inst.Service.EnsureAdmin(ctx, auth.Admin{Username: AdminUsername, Password: AdminPassword}); err != nil {
		tb.Fatal(err)
	}
	ts.Config.Handler = inst.Handler
	ts.Start()
	return &Server{URL: url, Instance: inst}
}

// FreshDB is a database of its own for tb: a SQLite file in tb's
// temporary directory or, with GATEHOUSE_TEST_POSTGRES set, a fresh
// PostgreSQL database, dropped when tb ends.
func FreshDB(tb testing.TB) string {
	tb.Helper()
	if pg := os.Getenv(storetest.PostgresEnv); pg != "" {
		return storetest.NewPostgresDatabase(tb, pg)
	}
	return filepath.Join(tb.TempDir(), "gatehouse.db")
}

// Client is the generated client of the server.
func (s *Server) Client(tb testing.TB, opts ...client.ClientOption) *client.ClientWithResponses {
	tb.Helper()
	c, err := client.NewClientWithResponses(s.URL, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
