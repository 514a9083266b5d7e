package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const secret = "0123456789abcdef0123456789abcdef"

func token(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func okClaims(tenant string) jwt.MapClaims {
	return jwt.MapClaims{"sub": "u1", "tenant": tenant, "scope": "read:orders write:orders",
		"exp": time.Now().Add(time.Hour).Unix()}
}

func request(tok, query string) *http.Request {
	r := httptest.NewRequest("GET", "/v1/collections/orders/pull"+query, nil)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return r
}

func TestHS256(t *testing.T) {
	a, err := NewJWT(context.Background(), JWTConfig{Tenant: "acme", HS256Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	good := token(t, jwt.SigningMethodHS256, []byte(secret), "", okClaims("acme"))
	p, err := a.Authenticate(request(good, ""))
	if err != nil || p.Subject != "u1" || !p.Can(Write, "orders") || p.Can(Write, "invoices") || p.Can(Read, "other") {
		t.Fatalf("good token: %+v, %v", p, err)
	}
	if _, err := a.Authenticate(httptest.NewRequest("GET", "/v1/stream?access_token="+good, nil)); err != nil {
		t.Fatalf("token in a stream's query: %v", err)
	}
	expired := okClaims("acme")
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	noExp := okClaims("acme")
	delete(noExp, "exp")
	cases := map[string]struct {
		r    *http.Request
		want error
	}{
		"no token":        {request("", ""), ErrUnauthenticated},
		"not a JWT":       {request("abc.def.ghi", ""), ErrUnauthenticated},
		"wrong secret":    {request(token(t, jwt.SigningMethodHS256, []byte(secret+"x"), "", okClaims("acme")), ""), ErrUnauthenticated},
		"expired":         {request(token(t, jwt.SigningMethodHS256, []byte(secret), "", expired), ""), ErrUnauthenticated},
		"no expiry":       {request(token(t, jwt.SigningMethodHS256, []byte(secret), "", noExp), ""), ErrUnauthenticated},
		"alg none":        {request(token(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", okClaims("acme")), ""), ErrUnauthenticated},
		"HS384 not HS256": {request(token(t, jwt.SigningMethodHS384, []byte(secret), "", okClaims("acme")), ""), ErrUnauthenticated},
		"other tenant":    {request(token(t, jwt.SigningMethodHS256, []byte(secret), "", okClaims("globex")), ""), ErrForbidden},
		"no tenant":       {request(token(t, jwt.SigningMethodHS256, []byte(secret), "", jwt.MapClaims{"exp": time.Now().Add(time.Hour).Unix()}), ""), ErrForbidden},
	}
	basic := httptest.NewRequest("GET", "/", nil)
	basic.Header.Set("Authorization", "Basic dTpw")
	cases["basic auth header"] = struct {
		r    *http.Request
		want error
	}{basic, ErrUnauthenticated}
	for name, c := range cases {
		if _, err := a.Authenticate(c.r); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
}

func TestPEMKeys(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, k := range map[string]struct {
		priv   any
		pub    any
		method jwt.SigningMethod
	}{
		"rsa": {rsaKey, &rsaKey.PublicKey, jwt.SigningMethodRS256},
		"ec":  {ecKey, &ecKey.PublicKey, jwt.SigningMethodES256},
	} {
		der, _ := x509.MarshalPKIXPublicKey(k.pub)
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		a, err := NewJWT(context.Background(), JWTConfig{Tenant: "acme", PublicKeyPEM: pemBytes})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := a.Authenticate(request(token(t, k.method, k.priv, "", okClaims("acme")), "")); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		forged := token(t, jwt.SigningMethodHS256, pemBytes, "", okClaims("acme")) // key confusion
		if _, err := a.Authenticate(request(forged, "")); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("%s: HS256 signed with the public key accepted: %v", name, err)
		}
	}
}

func TestJWKS(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks := map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jwks)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := NewJWT(ctx, JWTConfig{Tenant: "acme", JWKSURL: srv.URL, Audience: "lattice", Issuer: "idp"})
	if err != nil {
		t.Fatal(err)
	}
	claims := okClaims("acme")
	claims["aud"], claims["iss"] = "lattice", "idp"
	if _, err := a.Authenticate(request(token(t, jwt.SigningMethodRS256, key, "k1", claims), "")); err != nil {
		t.Fatalf("JWKS-verified token refused: %v", err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := a.Authenticate(request(token(t, jwt.SigningMethodRS256, other, "k1", claims), "")); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("token of an unknown key accepted: %v", err)
	}
}

func TestNewJWTNeedsExactlyOneKeySource(t *testing.T) {
	for _, c := range []JWTConfig{{Tenant: "a"}, {Tenant: "a", HS256Secret: []byte(secret), JWKSURL: "http://x"}, {HS256Secret: []byte(secret)}} {
		if _, err := NewJWT(context.Background(), c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if _, err := NewJWT(context.Background(), JWTConfig{Tenant: "a", PublicKeyPEM: []byte("not pem")}); err == nil {
		t.Error("garbage PEM accepted")
	}
}

func TestAudienceIssuerAndLifetime(t *testing.T) {
	a, err := NewJWT(context.Background(), JWTConfig{Tenant: "acme", HS256Secret: []byte(secret),
		Audience: "lattice", Issuer: "https://auth.example.com", MaxLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := okClaims("acme")
		c["aud"], c["iss"], c["iat"] = "lattice", "https://auth.example.com", now.Unix()
		edit(c)
		return c
	}
	if _, err := a.Authenticate(request(token(t, jwt.SigningMethodHS256, []byte(secret), "", claims(func(jwt.MapClaims) {})), "")); err != nil {
		t.Fatalf("good token refused: %v", err)
	}
	for name, edit := range map[string]func(jwt.MapClaims){
		"other audience": func(c jwt.MapClaims) { c["aud"] = "billing" },
		"no audience":    func(c jwt.MapClaims) { delete(c, "aud") },
		"other issuer":   func(c jwt.MapClaims) { c["iss"] = "https://evil.example" },
		"no iat":         func(c jwt.MapClaims) { delete(c, "iat") },
		"lives a day":    func(c jwt.MapClaims) { c["exp"] = now.Add(24 * time.Hour).Unix() },
	} {
		if _, err := a.Authenticate(request(token(t, jwt.SigningMethodHS256, []byte(secret), "", claims(edit)), "")); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
	if _, err := NewJWT(context.Background(), JWTConfig{Tenant: "acme", JWKSURL: "https://auth.example.com/jwks"}); err == nil {
		t.Error("a JWKS URL without audience and issuer accepted")
	}
}

func TestAccessTokenOnlyInStreamURLs(t *testing.T) {
	a, err := NewJWT(context.Background(), JWTConfig{Tenant: "acme", HS256Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	tok := token(t, jwt.SigningMethodHS256, []byte(secret), "", okClaims("acme"))
	for target, ok := range map[string]bool{"GET /v1/stream?collections=orders": true, "GET /v1/rxdb/orders/stream": true,
		"GET /v1/collections/orders/pull": false, "POST /v1/collections/orders/push": false, "POST /v1/rxdb/orders/stream": false} {
		method, path, _ := strings.Cut(target, " ")
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		_, err := a.Authenticate(httptest.NewRequest(method, path+sep+"access_token="+tok, nil))
		if (err == nil) != ok {
			t.Errorf("%s with ?access_token=: err=%v, want accepted=%v", target, err, ok)
		}
	}
}

// FuzzAuthenticate fuzzes the Authorization header and the access_token of a stream
// URL: anything that is not a valid token of the node's tenant is refused with
// ErrUnauthenticated or ErrForbidden, and never panics.
func FuzzAuthenticate(f *testing.F) {
	good := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "tenant": "acme", "scope": "*",
		"exp": time.Now().Add(time.Hour).Unix()})
	tok, _ := good.SignedString([]byte(secret))
	for _, s := range []string{"Bearer " + tok, "Bearer", "bearer  x", "Basic dTpw", "Bearer a.b.c", "Bearer " + tok + "x", ""} {
		f.Add(s, tok)
	}
	a, err := NewJWT(context.Background(), JWTConfig{Tenant: "acme", HS256Secret: []byte(secret)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header, query string) {
		r := httptest.NewRequest("GET", "/v1/stream", nil)
		r.URL.RawQuery = url.Values{"access_token": {query}}.Encode()
		if header != "" {
			r.Header["Authorization"] = []string{header}
		}
		p, err := a.Authenticate(r)
		switch {
		case err == nil && p.Tenant != "acme":
			t.Fatalf("accepted a token of tenant %q", p.Tenant)
		case err != nil && !errors.Is(err, ErrUnauthenticated) && !errors.Is(err, ErrForbidden):
			t.Fatalf("error %v wraps neither ErrUnauthenticated nor ErrForbidden", err)
		}
	})
}
