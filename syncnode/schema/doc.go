// Package schema compiles a collection's JSON Schema (draft 2020-12) and checks
// materialised documents against it, so that a push whose result would violate the
// schema is refused whole (400 schema_violation) and devices can fetch the same
// schema to validate offline.
package schema
