package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/merge"
	"github.com/lattice-sync/lattice/syncnode/schema"
)

// Config is a sync node's configuration. The YAML file uses the json tag names.
type Config struct {
	// Listen is the HTTP listen address.
	Listen string `json:"listen,omitzero"`
	// Tenant is the tenant this node serves; tokens must carry it.
	Tenant string `json:"tenant,omitzero"`
	// DataDir holds the embedded store (store kind "embedded").
	DataDir string `json:"dataDir,omitzero"`
	// Store selects and configures the document store.
	Store StoreConfig `json:"store,omitzero"`
	// Auth configures authentication.
	Auth AuthConfig `json:"auth,omitzero"`
	// Fanout configures how the nodes of a tenant tell each other of commits.
	Fanout FanoutConfig `json:"fanout,omitzero"`
	// Server bounds connections and how long a client may take.
	Server ServerConfig `json:"server,omitzero"`
	// CORS lets web pages of other origins call the API.
	CORS CORSConfig `json:"cors,omitzero"`
	// TLS, when set, serves HTTPS (otherwise put a TLS-terminating proxy in front).
	TLS TLSConfig `json:"tls,omitzero"`
	// Admin, when set, moves /metrics to a listener of its own.
	Admin AdminConfig `json:"admin,omitzero"`
	// Clock bounds client clocks.
	Clock ClockConfig `json:"clock,omitzero"`
	// Limits bound requests and documents.
	Limits LimitsConfig `json:"limits,omitzero"`
	// Collections declares the collections served and their field types.
	Collections map[string]CollectionConfig `json:"collections,omitzero"`
	// AutoCollections serves any valid collection name, created on first use with
	// last-writer-wins fields (the default of `lattice dev`).
	AutoCollections bool `json:"autoCollections,omitzero"`
	// Retention: a client not seen for longer must reset (410 client_reset_required)
	// before syncing again; 0 turns the check off. Default 90 days (2160h).
	Retention Duration `json:"retention,omitzero"`
}

// StoreConfig selects the store.
type StoreConfig struct {
	// Kind is "embedded" (bbolt file in DataDir) or "mongodb".
	Kind string `json:"kind,omitzero"`
	// MongoURI is the MongoDB connection string (kind mongodb).
	MongoURI string `json:"mongoURI,omitzero"`
	// Database is the MongoDB database (default "lattice_<tenant>").
	Database string `json:"database,omitzero"`
	// WriteConcern is "majority" (default) or a number of nodes.
	WriteConcern string `json:"writeConcern,omitzero"`
}

// ServerConfig bounds the HTTP server's connections. Zero values take defaults.
type ServerConfig struct {
	// ReadHeaderTimeout bounds reading a request's headers (default 10s).
	ReadHeaderTimeout Duration `json:"readHeaderTimeout,omitzero"`
	// ReadTimeout bounds reading a whole request, body included (default 60s): a
	// client that announces a body and sends it slowly is disconnected.
	ReadTimeout Duration `json:"readTimeout,omitzero"`
	// IdleTimeout closes keep-alive connections idle for longer (default 120s).
	IdleTimeout Duration `json:"idleTimeout,omitzero"`
	// MaxHeaderBytes bounds a request's headers (default 64 KiB; 431 beyond).
	MaxHeaderBytes int `json:"maxHeaderBytes,omitzero"`
	// MaxConnections bounds the open connections, streams included (default
	// 25000); further connections wait to be accepted.
	MaxConnections int `json:"maxConnections,omitzero"`
	// LocalhostOnly answers only requests whose Host is the loopback (default true
	// in dev: no web page can reach the node through DNS rebinding).
	LocalhostOnly bool `json:"localhostOnly,omitzero"`
}

// TLSConfig serves HTTPS from a certificate and key in PEM files.
type TLSConfig struct {
	CertFile string `json:"certFile,omitzero"`
	KeyFile  string `json:"keyFile,omitzero"`
}

// AdminConfig is the operators' listener.
type AdminConfig struct {
	// Listen, when set, serves /metrics, /healthz and /readyz there, and /metrics
	// no longer on the main listener (keep it off the public network).
	Listen string `json:"listen,omitzero"`
}

// CORSConfig lets web pages of other origins call the API.
type CORSConfig struct {
	// AllowedOrigins: "*", exact origins ("https://app.example.com"), or any port of
	// a host ("http://localhost:*"). Default: none in serve, localhost in dev.
	AllowedOrigins []string `json:"allowedOrigins,omitzero"`
}

// WithDefaults returns s with its zero values replaced by the defaults.
func (s ServerConfig) WithDefaults() ServerConfig {
	def := func(d *Duration, v time.Duration) {
		if d.Duration == 0 {
			d.Duration = v
		}
	}
	def(&s.ReadHeaderTimeout, 10*time.Second)
	def(&s.ReadTimeout, time.Minute)
	def(&s.IdleTimeout, 2*time.Minute)
	if s.MaxHeaderBytes == 0 {
		s.MaxHeaderBytes = 64 << 10
	}
	if s.MaxConnections == 0 {
		s.MaxConnections = 25000
	}
	return s
}

func (c *Config) validateServer() []error {
	var errs []error
	s := c.Server
	for name, d := range map[string]Duration{"server.readHeaderTimeout": s.ReadHeaderTimeout,
		"server.readTimeout": s.ReadTimeout, "server.idleTimeout": s.IdleTimeout} {
		if d.Duration < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative", name))
		}
	}
	if s.MaxHeaderBytes < 0 || (s.MaxHeaderBytes > 0 && s.MaxHeaderBytes < 4096) {
		errs = append(errs, fmt.Errorf("server.maxHeaderBytes %d: want at least 4096 (0 for the default)", s.MaxHeaderBytes))
	}
	if s.MaxConnections < 0 {
		errs = append(errs, errors.New("server.maxConnections: must not be negative"))
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("tls: set both certFile and keyFile, or neither"))
	}
	if c.Admin.Listen != "" && c.Admin.Listen == c.Listen {
		errs = append(errs, errors.New("admin.listen: must differ from listen"))
	}
	for _, o := range c.CORS.AllowedOrigins {
		if o != "*" && !corsOrigin.MatchString(o) {
			errs = append(errs, fmt.Errorf("cors.allowedOrigins %q: want *, scheme://host[:port] or scheme://host:*", o))
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errs
}

// FanoutConfig selects the bus between nodes: Redis Streams when RedisURL is set,
// otherwise the in-memory bus of a single node.
type FanoutConfig struct {
	// RedisURL is redis://[user:password@]host:port/db (rediss:// for TLS); env
	// LATTICE_REDIS_URL.
	RedisURL string `json:"redisURL,omitzero"`
	// StreamPrefix starts the Redis key of the tenant's stream, which is
	// StreamPrefix+tenant (default "lattice:events:").
	StreamPrefix string `json:"streamPrefix,omitzero"`
	// MaxLen bounds the stream's length, trimmed approximately (default 10000).
	MaxLen int64 `json:"maxLen,omitzero"`
	// PollInterval is how often live streams re-read the store while Redis is
	// unreachable (default 1s, at most 1m).
	PollInterval Duration `json:"pollInterval,omitzero"`
}

// AuthConfig configures authentication.
type AuthConfig struct {
	// Mode is "jwt" (default for serve) or "none" (dev only).
	Mode string `json:"mode,omitzero"`
	// HS256Secret verifies HS256 tokens.
	HS256Secret string `json:"hs256Secret,omitzero"`
	// PublicKeyFile is a PEM public key (RSA or EC) that verifies tokens.
	PublicKeyFile string `json:"publicKeyFile,omitzero"`
	// JWKSURL is fetched (and refreshed) for the verification keys.
	JWKSURL string `json:"jwksURL,omitzero"`
	// Audience and Issuer must equal the tokens' aud and iss; required with
	// JWKSURL.
	Audience string `json:"audience,omitzero"`
	Issuer   string `json:"issuer,omitzero"`
	// MaxTokenLifetime, when set, refuses tokens without iat or living longer.
	MaxTokenLifetime Duration `json:"maxTokenLifetime,omitzero"`
}

// ClockConfig bounds client clocks.
type ClockConfig struct {
	// MaxAhead is how far a client clock may run ahead of server time (default 1m).
	MaxAhead Duration `json:"maxAhead,omitzero"`
	// Policy is "reject" (default: 400 invalid_mutation) or "clamp" (restamp).
	Policy string `json:"policy,omitzero"`
}

// LimitsConfig bounds requests and documents.
type LimitsConfig struct {
	// MaxBodyBytes bounds a request body (default 4 MiB; 413 too_large).
	MaxBodyBytes int64 `json:"maxBodyBytes,omitzero"`
	// MaxBatch bounds the mutations of one push (default 1000; 413 too_large).
	MaxBatch int `json:"maxBatch,omitzero"`
	// MaxDocBytes bounds a document's JSON after a merge, and its merge metadata
	// (state and version) (default 1 MiB; 413).
	MaxDocBytes int `json:"maxDocBytes,omitzero"`
	// MaxPageBytes bounds the documents of one pull page, adapter pull or stream
	// event (default 8 MiB, at least 64 KiB; a page holds at least one document).
	MaxPageBytes int `json:"maxPageBytes,omitzero"`
	// MaxDepth bounds path depth plus value nesting (default 32; 400 invalid_path).
	MaxDepth int `json:"maxDepth,omitzero"`
	// RequestsPerSecond and Burst bound each client's requests (429 rate_limited);
	// RequestsPerSecond 0 turns the limit off.
	RequestsPerSecond float64 `json:"requestsPerSecond,omitzero"`
	Burst             int     `json:"burst,omitzero"`
	// MaxStreams bounds the live streams open on one node (default 20000; 503
	// unavailable with Retry-After beyond, so a load balancer tries another node).
	MaxStreams int `json:"maxStreams,omitzero"`
	// MaxStreamsPerSubject bounds the streams one token subject has open on one
	// node (default 1000 in serve, none in dev; 429 beyond).
	MaxStreamsPerSubject int `json:"maxStreamsPerSubject,omitzero"`
	// PerAddressRequestsPerSecond and PerAddressBurst bound each remote address's
	// requests before authentication (default off: behind a proxy or NAT every
	// client shares an address; enable it when clients connect directly).
	PerAddressRequestsPerSecond float64 `json:"perAddressRequestsPerSecond,omitzero"`
	PerAddressBurst             int     `json:"perAddressBurst,omitzero"`
}

// CollectionConfig declares one collection.
type CollectionConfig struct {
	// Fields maps dotted paths to "counter", "set", "text", "list" (others are lww).
	Fields map[string]string `json:"fields,omitzero"`
	// Schema is a JSON Schema (draft 2020-12) every document must satisfy.
	Schema json.RawMessage `json:"schema,omitzero"`
}

// Duration is a time.Duration written as "90s" in YAML.
type Duration struct{ time.Duration }

// MarshalJSON writes d as a Go duration string ("90s").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON parses a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %s: %w", b, err)
	}
	d.Duration = v
	return nil
}

// Dev returns the defaults of `lattice dev`.
func Dev() Config {
	return Config{Listen: "127.0.0.1:8080", Tenant: "dev", DataDir: "./data", Store: StoreConfig{Kind: "embedded"},
		Auth: AuthConfig{Mode: "none"}, AutoCollections: true, Limits: devLimits, Retention: defaultRetention,
		Server: ServerConfig{LocalhostOnly: true},
		CORS:   CORSConfig{AllowedOrigins: []string{"http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"}}}
}

// Serve returns the defaults of `lattice serve`.
func Serve() Config {
	return Config{Listen: ":8080", DataDir: "./data", Store: StoreConfig{Kind: "embedded"}, Auth: AuthConfig{Mode: "jwt"},
		Limits: defaultLimits, Retention: defaultRetention}
}

var defaultLimits = LimitsConfig{RequestsPerSecond: 200, Burst: 400, MaxStreams: 20000, MaxStreamsPerSubject: 1000}

// devLimits has no rate limit: lattice dev serves one developer on the loopback,
// whose tools and load generators should not be throttled.
var devLimits = LimitsConfig{MaxStreams: 20000}

// defaultRetention is how long a client may stay away before it must reset.
var defaultRetention = Duration{90 * 24 * time.Hour}

// LoadFile merges the YAML file at path into c, refusing unknown keys.
func (c *Config) LoadFile(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if err := yaml.UnmarshalStrict(raw, c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

var tenantName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
var collectionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate checks the whole configuration and reports every problem found.
func (c *Config) Validate(dev bool) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !tenantName.MatchString(c.Tenant) {
		bad("tenant %q: want lower-case letters, digits and '-', 1-63 characters (set --tenant or LATTICE_TENANT)", c.Tenant)
	}
	switch c.Store.Kind {
	case "embedded":
		if c.DataDir == "" {
			bad("dataDir: required for the embedded store")
		}
	case "mongodb":
		if c.Store.MongoURI == "" {
			bad("store.mongoURI: required for the mongodb store (or LATTICE_MONGODB_URI)")
		}
	default:
		bad("store.kind %q: want embedded or mongodb", c.Store.Kind)
	}
	errs = append(errs, c.validateAuth(dev)...)
	errs = append(errs, c.validateFanout()...)
	errs = append(errs, c.validateServer()...)
	if p := c.Clock.Policy; p != "" && p != "reject" && p != "clamp" {
		bad("clock.policy %q: want reject or clamp", p)
	}
	if c.Clock.MaxAhead.Duration < 0 {
		bad("clock.maxAhead: must not be negative")
	}
	if l := c.Limits; l.MaxStreams < 0 || l.MaxStreamsPerSubject < 0 || l.PerAddressRequestsPerSecond < 0 || l.PerAddressBurst < 0 {
		bad("limits.maxStreams, maxStreamsPerSubject, perAddressRequestsPerSecond, perAddressBurst: must not be negative")
	}
	if p := c.Limits.MaxPageBytes; p != 0 && p < 64<<10 {
		bad("limits.maxPageBytes %d: want at least 65536 (0 for the default, 8 MiB)", p)
	}
	if c.Retention.Duration < 0 {
		bad("retention: must not be negative")
	}
	errs = append(errs, c.validateCollections()...)
	return errors.Join(errs...)
}

func (c *Config) validateFanout() []error {
	var errs []error
	f := c.Fanout
	if f.RedisURL != "" && !strings.HasPrefix(f.RedisURL, "redis://") && !strings.HasPrefix(f.RedisURL, "rediss://") {
		errs = append(errs, errors.New("fanout.redisURL: want redis://host:port/db or rediss://…"))
	}
	if f.MaxLen < 0 || (f.MaxLen > 0 && f.MaxLen < 100) {
		errs = append(errs, fmt.Errorf("fanout.maxLen %d: want at least 100 (0 for the default)", f.MaxLen))
	}
	if d := f.PollInterval.Duration; d < 0 || d > time.Minute {
		errs = append(errs, errors.New("fanout.pollInterval: want between 0 (the default, 1s) and 1m"))
	}
	if f.StreamPrefix != "" && !streamPrefix.MatchString(f.StreamPrefix) {
		errs = append(errs, fmt.Errorf("fanout.streamPrefix %q: want letters, digits and :_.- (at most 64)", f.StreamPrefix))
	}
	return errs
}

var corsOrigin = regexp.MustCompile(`^https?://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:([0-9]{1,5}|\*))?$`)

var streamPrefix = regexp.MustCompile(`^[A-Za-z0-9:_.-]{1,64}$`)

func (c *Config) validateAuth(dev bool) []error {
	a := c.Auth
	switch a.Mode {
	case "none":
		if !dev {
			return []error{errors.New("auth.mode none is only for `lattice dev`")}
		}
	case "jwt":
		if a.HS256Secret == "" && a.PublicKeyFile == "" && a.JWKSURL == "" {
			return []error{errors.New("auth: jwt mode needs hs256Secret, publicKeyFile or jwksURL")}
		}
		if a.HS256Secret != "" && len(a.HS256Secret) < 32 {
			return []error{errors.New("auth.hs256Secret: use at least 32 bytes")}
		}
		if a.JWKSURL != "" && (a.Audience == "" || a.Issuer == "") {
			return []error{errors.New("auth.audience and auth.issuer: required with auth.jwksURL (a key set signs tokens for other services too)")}
		}
		if a.MaxTokenLifetime.Duration < 0 {
			return []error{errors.New("auth.maxTokenLifetime: must not be negative")}
		}
	default:
		return []error{fmt.Errorf("auth.mode %q: want jwt or none", a.Mode)}
	}
	return nil
}

func (c *Config) validateCollections() []error {
	var errs []error
	for name, cc := range c.Collections {
		if !collectionName.MatchString(name) {
			errs = append(errs, fmt.Errorf("collections.%s: name must be 1-64 of [A-Za-z0-9_-]", name))
			continue
		}
		if _, err := cc.compile(name, c.limits()); err != nil {
			errs = append(errs, fmt.Errorf("collections.%s: %w", name, err))
		}
	}
	return errs
}

func (c *Config) limits() crdt.Limits { return crdt.Limits{MaxDepth: c.Limits.MaxDepth} }

func (cc CollectionConfig) fields(lim crdt.Limits) (crdt.Fields, error) {
	f := crdt.Fields{}
	paths := make([]string, 0, len(cc.Fields))
	for p := range cc.Fields {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		t, err := crdt.ParseFieldType(cc.Fields[p])
		if err != nil {
			return nil, fmt.Errorf("fields.%s: %w", p, err)
		}
		f[p] = t
	}
	return f, f.Validate(lim)
}

func (cc CollectionConfig) compile(name string, lim crdt.Limits) (merge.Collection, error) {
	f, err := cc.fields(lim)
	if err != nil {
		return merge.Collection{}, err
	}
	s, err := schema.Compile(cc.Schema, f)
	if err != nil {
		return merge.Collection{}, err
	}
	return merge.Collection{Name: name, Fields: f, Schema: s}, nil
}

// CollectionSet returns the lookup of served collections (of a validated Config).
func (c *Config) CollectionSet() *Collections {
	defaults, _ := CollectionConfig{}.compile("", c.limits())
	cs := &Collections{auto: c.AutoCollections, known: map[string]merge.Collection{}, anySchema: defaults.Schema}
	for name, cc := range c.Collections {
		cs.known[name], _ = cc.compile(name, c.limits())
	}
	return cs
}

// Collections serves the configured collections, and any valid name when auto is set.
type Collections struct {
	auto      bool
	known     map[string]merge.Collection
	anySchema *schema.Schema
}

// Lookup implements httpapi.Collections.
func (cs *Collections) Lookup(name string) (merge.Collection, bool) {
	if c, ok := cs.known[name]; ok {
		return c, true
	}
	if cs.auto && collectionName.MatchString(name) {
		return merge.Collection{Name: name, Fields: crdt.Fields{}, Schema: cs.anySchema}, true
	}
	return merge.Collection{}, false
}

// SkewPolicy returns the configured clock policy.
func (c *Config) SkewPolicy() crdt.SkewPolicy {
	if c.Clock.Policy == "clamp" {
		return crdt.SkewClamp
	}
	return crdt.SkewReject
}

// CRDTLimits returns the limits a mutation must respect.
func (c *Config) CRDTLimits() crdt.Limits { return c.limits() }
