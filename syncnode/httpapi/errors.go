package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/syncnode/merge"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// apiError is an error response of PROTOCOL.md.
type apiError struct {
	status     int
	body       protocol.Error
	retryAfter int // seconds; 0: no Retry-After header
}

func (e *apiError) Error() string { return e.body.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, body: protocol.Error{Code: code, Message: fmt.Sprintf(format, args...)}}
}

func (e *apiError) with(key string, v any) *apiError {
	if e.body.Details == nil {
		e.body.Details = map[string]any{}
	}
	e.body.Details[key] = v
	return e
}

// toAPIError classifies any error from the layers below.
func toAPIError(err error) *apiError {
	var ae *apiError
	var me *merge.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &me):
		return &apiError{status: me.Status, body: protocol.Error{Code: me.Code, Message: me.Message, Details: me.Details}}
	case errors.Is(err, store.ErrUnavailable):
		e := errorf(http.StatusServiceUnavailable, protocol.CodeUnavailable, "the store is unreachable; nothing was written, retry later")
		e.retryAfter = 2
		return e
	case errors.Is(err, merge.ErrConflictRetries):
		e := errorf(http.StatusServiceUnavailable, protocol.CodeUnavailable, "%v", err)
		e.retryAfter = 1
		return e
	}
	return errorf(http.StatusInternalServerError, protocol.CodeInternal, "internal error")
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.status, protocol.ErrorBody{Error: e.body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
