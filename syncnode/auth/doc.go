// Package auth authenticates requests and decides what a caller may do: JWTs
// verified with a JWKS URL, a PEM public key or an HS256 secret, carrying the tenant
// and space-separated scopes (read:<collection>, write:<collection>, *); and the
// `none` mode of `lattice dev`, which lets everyone do everything. Principal.Actor binds a device id to its user.
package auth
