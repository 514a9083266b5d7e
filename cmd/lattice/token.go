package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// minSecretLen is the shortest HS256 secret lattice serve accepts.
const minSecretLen = 32

// tokenOptions are the flags of `lattice token`.
type tokenOptions struct {
	secretFile, tenant, sub, scope string
	ttl                            time.Duration
}

// runToken mints an HS256 JWT for development and the local cluster and prints it.
func runToken(args []string, stdout, stderr io.Writer) error {
	o, err := parseTokenFlags(args, stderr)
	if err != nil {
		return err
	}
	secret, err := tokenSecret(o.secretFile)
	if err != nil {
		return err
	}
	tok, err := mintToken(secret, o, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

func parseTokenFlags(args []string, stderr io.Writer) (tokenOptions, error) {
	var o tokenOptions
	fs := flag.NewFlagSet("lattice token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.secretFile, "secret-file", "", "file holding the HS256 secret (default: env LATTICE_AUTH_HS256_SECRET)")
	fs.StringVar(&o.tenant, "tenant", "", "the token's tenant claim (required; must equal the node's tenant)")
	fs.StringVar(&o.sub, "sub", "dev", "the token's subject")
	fs.StringVar(&o.scope, "scope", "*", `space-separated scopes ("read:orders write:orders", or "*")`)
	fs.DurationVar(&o.ttl, "ttl", 24*time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("token: %w", err)
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("token: unexpected arguments: %v", fs.Args())
	case o.tenant == "":
		return o, errors.New("token: --tenant is required")
	case o.ttl <= 0:
		return o, fmt.Errorf("token: --ttl must be positive, got %s", o.ttl)
	}
	return o, nil
}

// tokenSecret reads the secret from file (surrounding whitespace removed) or, with no
// file, from LATTICE_AUTH_HS256_SECRET, and checks its length.
func tokenSecret(file string) ([]byte, error) {
	secret, from := os.Getenv("LATTICE_AUTH_HS256_SECRET"), "LATTICE_AUTH_HS256_SECRET"
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("token: read the secret: %w", err)
		}
		secret, from = strings.TrimSpace(string(b)), file
	}
	switch {
	case secret == "":
		return nil, fmt.Errorf("token: no HS256 secret: %s is empty (use --secret-file or LATTICE_AUTH_HS256_SECRET)", from)
	case len(secret) < minSecretLen:
		return nil, fmt.Errorf("token: the HS256 secret in %s is %d bytes; use at least %d", from, len(secret), minSecretLen)
	}
	return []byte(secret), nil
}

// mintToken signs the claims lattice serve reads: sub, tenant, scope, iat and exp.
func mintToken(secret []byte, o tokenOptions, now time.Time) (string, error) {
	claims := jwt.MapClaims{
		"sub":    o.sub,
		"tenant": o.tenant,
		"scope":  strings.Join(strings.Fields(o.scope), " "),
		"iat":    now.Unix(),
		"exp":    now.Add(o.ttl).Unix(),
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return tok, nil
}
