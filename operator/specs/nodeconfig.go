package specs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"

	"sigs.k8s.io/yaml"

	"github.com/lattice-sync/lattice/api/v1alpha1"
	"github.com/lattice-sync/lattice/syncnode/config"
)

// NodeConfig is the configuration every node of c runs with: the node's own YAML
// format (syncnode/config), so the operator and `lattice serve` validate one thing.
// Credentials are not in it: the pods get them from the Secrets as LATTICE_*
// variables (or, for a PEM key, a mounted file).
func NodeConfig(c *v1alpha1.SyncCluster) config.Config {
	s := c.Spec
	cfg := config.Config{
		Listen: fmt.Sprintf(":%d", HTTPPort), Tenant: s.Tenant,
		Store:       config.StoreConfig{Kind: "mongodb", Database: Database(c), WriteConcern: s.MongoDB.WriteConcern},
		Auth:        nodeAuth(s.Auth),
		Admin:       config.AdminConfig{Listen: fmt.Sprintf(":%d", AdminPort)},
		Limits:      nodeLimits(s.Limits),
		Collections: nodeCollections(s.Collections),
	}
	if s.Redis != nil {
		cfg.Fanout.StreamPrefix = s.Redis.StreamPrefix
		if s.Redis.MaxLen != nil {
			cfg.Fanout.MaxLen = *s.Redis.MaxLen
		}
	}
	if s.Retention != nil {
		cfg.Retention = config.Duration{Duration: s.Retention.Duration}
	}
	return cfg
}

func nodeAuth(a v1alpha1.AuthSpec) config.AuthConfig {
	out := config.AuthConfig{Mode: "jwt", JWKSURL: a.JWKSURL, Audience: a.Audience, Issuer: a.Issuer}
	if a.MaxTokenLifetime != nil {
		out.MaxTokenLifetime = config.Duration{Duration: a.MaxTokenLifetime.Duration}
	}
	if a.KeySecret != nil && a.KeyType == "PEM" {
		out.PublicKeyFile = path.Join(AuthDir, a.KeySecret.Key)
	}
	return out
}

// nodeLimits copies the limits c sets over the defaults of `lattice serve`.
func nodeLimits(l *v1alpha1.LimitsSpec) config.LimitsConfig {
	out := config.Serve().Limits
	if l == nil {
		return out
	}
	setInt := func(dst *int, v *int32) {
		if v != nil {
			*dst = int(*v)
		}
	}
	if l.MaxBodyBytes != nil {
		out.MaxBodyBytes = *l.MaxBodyBytes
	}
	setInt(&out.MaxBatch, l.MaxBatch)
	setInt(&out.MaxDocBytes, l.MaxDocBytes)
	setInt(&out.MaxDepth, l.MaxDepth)
	setInt(&out.Burst, l.Burst)
	setInt(&out.MaxStreams, l.MaxStreams)
	setInt(&out.MaxStreamsPerSubject, l.MaxStreamsPerSubject)
	if l.RequestsPerSecond != nil {
		out.RequestsPerSecond = float64(*l.RequestsPerSecond)
	}
	return out
}

func nodeCollections(in map[string]v1alpha1.CollectionSpec) map[string]config.CollectionConfig {
	out := make(map[string]config.CollectionConfig, len(in))
	for name, cs := range in {
		cc := config.CollectionConfig{}
		if len(cs.Fields) > 0 {
			cc.Fields = make(map[string]string, len(cs.Fields))
			for p, t := range cs.Fields {
				cc.Fields[p] = string(t)
			}
		}
		if cs.Schema != nil {
			cc.Schema = cs.Schema.Raw
		}
		out[name] = cc
	}
	return out
}

// RenderNodeConfig is c's node configuration as the YAML file the pods read, and
// its hash (the pod template's config-hash annotation).
func RenderNodeConfig(c *v1alpha1.SyncCluster) (yamlText []byte, hash string, err error) {
	yamlText, err = yaml.Marshal(NodeConfig(c))
	if err != nil {
		return nil, "", fmt.Errorf("render the node configuration of %s: %w", c.Name, err)
	}
	sum := sha256.Sum256(yamlText)
	return yamlText, hex.EncodeToString(sum[:8]), nil
}

// placeholderSecret stands in for credentials the pods read from Secrets, so that
// validation checks everything else exactly as a node would at start.
const placeholderSecret = "placeholder-secret-of-at-least-32-bytes"

// ValidateNodeConfig checks c's node configuration as `lattice serve` does at start
// (collections, JSON Schemas, field types, limits, auth): the operator refuses to
// roll out a configuration its nodes would refuse.
func ValidateNodeConfig(c *v1alpha1.SyncCluster) error {
	text, _, err := RenderNodeConfig(c)
	if err != nil {
		return err
	}
	cfg := config.Serve()
	if err := yaml.UnmarshalStrict(text, &cfg); err != nil {
		return fmt.Errorf("node configuration: %w", err)
	}
	cfg.Store.MongoURI = "mongodb://placeholder"
	if c.Spec.Auth.KeySecret != nil && c.Spec.Auth.KeyType != "PEM" {
		cfg.Auth.HS256Secret = placeholderSecret
	}
	if c.Spec.Redis != nil {
		cfg.Fanout.RedisURL = "redis://placeholder:6379/0"
	}
	return cfg.Validate(false)
}
