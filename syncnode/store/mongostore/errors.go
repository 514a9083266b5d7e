package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// unavailableCodes are server error codes that mean "try again, elsewhere or later".
var unavailableCodes = map[int32]bool{
	6: true, 7: true, 89: true, 91: true, 189: true, 262: true, // host unreachable/not found, timeouts, shutdown, stepdown
	9001: true, 10107: true, 11600: true, 11602: true, 13435: true, 13436: true, // socket, not primary, interrupted
}

// mapErr wraps err with op; errors meaning the server could not be reached or
// could not answer in time also wrap store.ErrUnavailable.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if unavailable(err) {
		return fmt.Errorf("mongostore: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("mongostore: %s: %w", op, err)
}

func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false // the caller gave up; the server is not to blame
	}
	if mongo.IsTimeout(err) || mongo.IsNetworkError(err) || errors.Is(err, mongo.ErrClientDisconnected) {
		return true
	}
	if errors.As(err, &topology.ServerSelectionError{}) {
		return true
	}
	var le mongo.LabeledError
	if errors.As(err, &le) && le.HasErrorLabel("RetryableWriteError") {
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		for code := range unavailableCodes {
			if se.HasErrorCode(int(code)) {
				return true
			}
		}
	}
	return false
}
