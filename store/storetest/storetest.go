// Package storetest is the conformance suite of store.Store: one set of
// behavioural tests that every implementation passes, so that the SQLite
// and PostgreSQL engines stay interchangeable. store's own tests run it
// against both (sqlite_test.go, postgres_test.go).
//
// It also starts PostgreSQL test databases (PostgresServer,
// NewPostgresDatabase) for the tests of other packages.
package storetest

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/store"
)

// Run runs the conformance suite. open must return a migrated, empty store
// of its own (a fresh database) on each call, closed when the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, open func(*testing.T) store.Store)
	}{
		{"Users", testUsers},
		{"TimeRoundTripUTC", testTimeRoundTripUTC},
		{"ListUsers", testListUsers},
		{"UnstorableStrings", testUnstorableStrings},
		{"Applications", testApplications},
		{"Members", testMembers},
		{"Roles", testRoles},
		{"SigningKeys", testSigningKeys},
		{"RefreshTokens", testRefreshTokens},
		{"LoginWritesOnce", testLoginWritesOnce},
		{"RefreshGrant", testRefreshGrant},
		{"RotateRefreshTokenRace", testRotateRefreshTokenRace},
		{"AccessTokenRevocationAndPurge", testAccessTokenRevocationAndPurge},
		{"AuditEvents", testAuditEvents},
		{"APIKeys", testAPIKeys},
		{"ApplicationClients", testApplicationClients},
		{"AuthorizationCodes", testAuthorizationCodes},
		{"TouchAPIKeysConcurrent", testTouchAPIKeysConcurrent},
		{"LoginFailureWindow", testLoginFailureWindow},
		{"LoginFailureRace", testLoginFailureRace},
		{"ConcurrentLoad", testConcurrentLoad},
		{"Sessions", testSessions},
		{"RevocationLog", testRevocationLog},
		{"SecondFactor", testSecondFactor},
		{"EmailTokens", testEmailTokens},
		{"EmailTokenRaces", testEmailTokenRaces},
		{"Purge", testPurge},
		{"WebhookOutbox", testWebhookOutbox},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open)
		})
	}
}
