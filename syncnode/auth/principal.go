package auth

import (
	"errors"
	"net/http"
	"strings"
	"time"
)

// Principal is an authenticated caller.
type Principal struct {
	// Subject is the JWT `sub` (the user).
	Subject string
	// Tenant is the JWT `tenant` claim.
	Tenant string
	// Scopes are the granted scopes: "read:<collection>", "write:<collection>", "*".
	Scopes []string
	// Expires is when the credentials stop being valid (zero: never). Long-lived
	// requests such as streams end then, so the client comes back with a fresh token.
	Expires time.Time
}

// Action is what a request does to a collection.
type Action string

// The actions scopes grant.
const (
	Read  Action = "read"
	Write Action = "write"
)

// Can reports whether p may perform action on collection.
func (p Principal) Can(action Action, collection string) bool {
	want := string(action) + ":" + collection
	for _, s := range p.Scopes {
		if s == "*" || s == want || s == string(action)+":*" {
			return true
		}
	}
	return false
}

// Authenticator turns a request into a Principal.
type Authenticator interface {
	// Authenticate returns the caller, or an error wrapping ErrUnauthenticated (no or
	// bad credentials, 401) or ErrForbidden (valid but for another tenant, 403).
	Authenticate(r *http.Request) (Principal, error)
}

// Errors of Authenticate.
var (
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrForbidden       = errors.New("forbidden")
)

// AnonymousSubject is the subject of every request None authenticates.
const AnonymousSubject = "anonymous"

// None authenticates everyone with every scope. Only `lattice dev` uses it.
type None struct{}

// Authenticate implements Authenticator.
func (None) Authenticate(*http.Request) (Principal, error) {
	return Principal{Subject: AnonymousSubject, Scopes: []string{"*"}}, nil
}

// bearerToken returns the token of an "Authorization: Bearer" header, or, on GET
// stream routes only, of the access_token query parameter (EventSource cannot set
// headers; elsewhere a token in a URL would only end up in logs).
func bearerToken(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return "", false
		}
		return strings.TrimSpace(tok), true
	}
	if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/stream") {
		return "", false // only EventSource, which cannot set headers, may put it in the URL
	}
	tok := r.URL.Query().Get("access_token")
	return tok, tok != ""
}
