package auth

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// JWTConfig says how to verify tokens. Exactly one key source must be set.
type JWTConfig struct {
	// Tenant is the node's tenant: a token's `tenant` claim must equal it.
	Tenant string
	// HS256Secret verifies HS256-signed tokens.
	HS256Secret []byte
	// PublicKeyPEM verifies RS256/RS384/RS512 or ES256/ES384/ES512 tokens.
	PublicKeyPEM []byte
	// JWKSURL is fetched, and refreshed in the background, for the verification keys.
	JWKSURL string
	// Leeway tolerates clock skew on exp/nbf/iat (default 30 s).
	Leeway time.Duration
	// Audience and Issuer, when set, must equal the token's `aud` (one of them) and
	// `iss`. Both are required with a JWKS URL: a key set usually signs tokens for
	// many services, and without them a token minted for another would pass.
	Audience, Issuer string
	// MaxLifetime, when set, refuses tokens without `iat` or whose `exp` is more
	// than MaxLifetime after their `iat`.
	MaxLifetime time.Duration
}

// JWT verifies bearer tokens.
type JWT struct {
	tenant      string
	keyfunc     jwt.Keyfunc
	parser      *jwt.Parser
	maxLifetime time.Duration
}

// claims are the claims Lattice reads.
type claims struct {
	jwt.RegisteredClaims
	Tenant string `json:"tenant"`
	Scope  string `json:"scope"`
}

// NewJWT returns a JWT authenticator. With a JWKS URL it fetches the key set once
// before returning (ctx bounds that) and keeps it fresh until ctx ends.
func NewJWT(ctx context.Context, cfg JWTConfig) (*JWT, error) {
	if cfg.Tenant == "" {
		return nil, errors.New("jwt auth: the node's tenant is required")
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.JWKSURL != "" && (cfg.Audience == "" || cfg.Issuer == "") {
		return nil, errors.New("jwt auth: auth.audience and auth.issuer are required with auth.jwksURL")
	}
	kf, methods, err := keySource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithLeeway(cfg.Leeway), jwt.WithExpirationRequired()}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.MaxLifetime > 0 {
		opts = append(opts, jwt.WithIssuedAt())
	}
	return &JWT{tenant: cfg.Tenant, keyfunc: kf, parser: jwt.NewParser(opts...), maxLifetime: cfg.MaxLifetime}, nil
}

func keySource(ctx context.Context, cfg JWTConfig) (jwt.Keyfunc, []string, error) {
	n := 0
	for _, set := range []bool{len(cfg.HS256Secret) > 0, len(cfg.PublicKeyPEM) > 0, cfg.JWKSURL != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, nil, errors.New("jwt auth: configure exactly one of an HS256 secret, a PEM public key or a JWKS URL")
	}
	switch {
	case len(cfg.HS256Secret) > 0:
		secret := cfg.HS256Secret
		return func(*jwt.Token) (any, error) { return secret, nil }, []string{"HS256"}, nil
	case len(cfg.PublicKeyPEM) > 0:
		return pemKey(cfg.PublicKeyPEM)
	}
	k, err := keyfunc.NewDefaultCtx(ctx, []string{cfg.JWKSURL})
	if err != nil {
		return nil, nil, fmt.Errorf("jwt auth: JWKS %s: %w", cfg.JWKSURL, err)
	}
	return k.Keyfunc, []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "EdDSA"}, nil
}

func pemKey(pem []byte) (jwt.Keyfunc, []string, error) {
	var key crypto.PublicKey
	methods := []string{"RS256", "RS384", "RS512", "PS256"}
	key, err := jwt.ParseRSAPublicKeyFromPEM(pem)
	if err != nil {
		key, err = jwt.ParseECPublicKeyFromPEM(pem)
		methods = []string{"ES256", "ES384", "ES512"}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("jwt auth: public key is neither an RSA nor an EC PEM key: %w", err)
	}
	return func(*jwt.Token) (any, error) { return key, nil }, methods, nil
}

// ReadPEMFile reads a PEM public key file for JWTConfig.PublicKeyPEM.
func ReadPEMFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwt auth: public key file: %w", err)
	}
	return b, nil
}

// checkLifetime refuses a token that lives longer than MaxLifetime.
func (j *JWT) checkLifetime(c claims) error {
	if j.maxLifetime <= 0 {
		return nil
	}
	if c.IssuedAt == nil {
		return fmt.Errorf("%w: the token has no iat (auth.maxTokenLifetime is set)", ErrUnauthenticated)
	}
	if life := c.ExpiresAt.Sub(c.IssuedAt.Time); life > j.maxLifetime {
		return fmt.Errorf("%w: the token lives %s, longer than auth.maxTokenLifetime (%s)", ErrUnauthenticated, life, j.maxLifetime)
	}
	return nil
}

// Authenticate implements Authenticator.
func (j *JWT) Authenticate(r *http.Request) (Principal, error) {
	tok, ok := bearerToken(r)
	if !ok {
		return Principal{}, fmt.Errorf("%w: send Authorization: Bearer <token> (or ?access_token=)", ErrUnauthenticated)
	}
	var c claims
	if _, err := j.parser.ParseWithClaims(tok, &c, j.keyfunc); err != nil {
		return Principal{}, fmt.Errorf("%w: invalid token: %v", ErrUnauthenticated, err)
	}
	if err := j.checkLifetime(c); err != nil {
		return Principal{}, err
	}
	if c.Tenant != j.tenant {
		return Principal{}, fmt.Errorf("%w: the token is for tenant %q, this node serves %q", ErrForbidden, c.Tenant, j.tenant)
	}
	p := Principal{Subject: c.Subject, Tenant: c.Tenant, Scopes: strings.Fields(c.Scope)}
	if c.ExpiresAt != nil {
		p.Expires = c.ExpiresAt.Time
	}
	return p, nil
}
