package crdt

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits bound what one mutation may contain. Zero fields take the defaults of
// DefaultLimits.
type Limits struct {
	// MaxDepth bounds path depth plus the nesting depth of values.
	MaxDepth int
	// MaxKeyLen bounds one object key or path segment, in bytes.
	MaxKeyLen int
	// MaxOps bounds the number of paths/elements/splice ops in one mutation.
	MaxOps int
}

// DefaultLimits are the documented defaults.
var DefaultLimits = Limits{MaxDepth: 32, MaxKeyLen: 256, MaxOps: 10_000}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxKeyLen <= 0 {
		l.MaxKeyLen = DefaultLimits.MaxKeyLen
	}
	if l.MaxOps <= 0 {
		l.MaxOps = DefaultLimits.MaxOps
	}
	return l
}

// Path is a parsed dot-separated path of object keys.
type Path []string

// String returns the dotted form.
func (p Path) String() string { return strings.Join(p, ".") }

// ParsePath splits and validates a dotted path.
func ParsePath(s string, lim Limits) (Path, error) {
	if err := ValidatePath(s, lim); err != nil {
		return nil, err
	}
	return Path(strings.Split(s, ".")), nil
}

// ValidatePath checks s as ParsePath does, without building the Path.
func ValidatePath(s string, lim Limits) error {
	lim = lim.withDefaults()
	if s == "" {
		return fmt.Errorf("empty path")
	}
	if depth := strings.Count(s, ".") + 1; depth > lim.MaxDepth {
		return fmt.Errorf("path %q is %d levels deep, limit is %d", s, depth, lim.MaxDepth)
	}
	for k := range strings.SplitSeq(s, ".") {
		if err := ValidateKey(k, lim); err != nil {
			return fmt.Errorf("path %q: %w", s, err)
		}
	}
	return nil
}

// ValidateKey checks one object key: not empty, not starting with '$', no '.', valid
// UTF-8 and within the length limit.
func ValidateKey(k string, lim Limits) error {
	lim = lim.withDefaults()
	switch {
	case k == "":
		return fmt.Errorf("empty key")
	case k[0] == '$':
		return fmt.Errorf("key %q starts with '$'", k)
	case strings.ContainsRune(k, '.'):
		return fmt.Errorf("key %q contains '.'", k)
	case len(k) > lim.MaxKeyLen:
		return fmt.Errorf("key of %d bytes, limit is %d", len(k), lim.MaxKeyLen)
	case !validUTF8NoNUL(k):
		return fmt.Errorf("key %q is not valid UTF-8 or contains NUL", k)
	}
	return nil
}

func validUTF8NoNUL(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// hasPrefix reports whether q is p or lies below p.
func hasPathPrefix(q, p string) bool {
	return q == p || (len(q) > len(p) && q[len(p)] == '.' && q[:len(p)] == p)
}
