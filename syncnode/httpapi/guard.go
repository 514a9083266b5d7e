package httpapi

import (
	"net"
	"net/http"
	"strings"

	"github.com/lattice-sync/lattice/api/protocol"
)

// guard runs before routing: the Host check of a local-only node (DNS
// rebinding), then CORS (preflight answered here, headers on every answer).
func (a *API) guard(w http.ResponseWriter, r *http.Request) bool {
	if a.cfg.LocalhostOnly && !localHost(r.Host) {
		writeError(w, errorf(http.StatusForbidden, protocol.CodeForbidden,
			"host %.100q is not served: this node answers only localhost, 127.0.0.1 and [::1] (DNS rebinding protection)", r.Host))
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || !originAllowed(a.cfg.AllowedOrigins, origin) {
		return true
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Lattice-Client, Last-Event-ID, traceparent")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	h.Set("Access-Control-Expose-Headers", "Retry-After")
	return true
}

// localHost reports whether a Host header names this machine's loopback.
func localHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// originAllowed matches origin against the allowed list: "*", an exact origin, or
// one with any port ("http://localhost:*").
func originAllowed(allowed []string, origin string) bool {
	for _, a := range allowed {
		if a == "*" || a == origin {
			return true
		}
		if base, ok := strings.CutSuffix(a, ":*"); ok {
			rest, found := strings.CutPrefix(origin, base)
			if found && (rest == "" || (strings.HasPrefix(rest, ":") && isPort(rest[1:]))) {
				return true
			}
		}
	}
	return false
}

func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
