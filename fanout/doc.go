// Package fanout tells every node about every commit, so each can wake its live
// streams. Bus is the small interface (centrifuge's Broker is the model): the
// in-memory bus for one node (MemoryBus) and, with the fanout work, Redis Streams
// beside it. Hub turns bus events into coalesced wake-ups for subscriptions.
//
// Events are notifications only: the store's change feed is the source of truth, so
// a lost or trimmed event delays a stream but never loses a change.
package fanout
