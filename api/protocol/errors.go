package protocol

// Error codes of PROTOCOL.md.
const (
	CodeInvalidJSON         = "invalid_json"
	CodeInvalidMutation     = "invalid_mutation"
	CodeInvalidPath         = "invalid_path"
	CodeTypeMismatch        = "type_mismatch"
	CodeSchemaViolation     = "schema_violation"
	CodeUnauthenticated     = "unauthenticated"
	CodeForbidden           = "forbidden"
	CodeUnknownCollection   = "unknown_collection"
	CodeNotFound            = "not_found"
	CodeMethodNotAllowed    = "method_not_allowed"
	CodeStaleBase           = "stale_base"
	CodeStaleClock          = "stale_clock"
	CodeClientResetRequired = "client_reset_required"
	CodeTooLarge            = "too_large"
	CodeRateLimited         = "rate_limited"
	CodeUnavailable         = "unavailable"
	CodeInternal            = "internal"
)

// ErrorBody is every error response: {"error": {...}}.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Error describes what went wrong, for a person (Message) and a program (Code, Details).
type Error struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}
