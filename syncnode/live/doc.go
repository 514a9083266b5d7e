// Package live shares one reader of each collection's change feed among all the
// live streams of a node. A tail per collection follows the store's feed from
// checkpoint to checkpoint (woken by the fanout hub) and hands each page to every
// stream that follows it; a page's wire encoding is made once per format and
// shared. A stream catches up from its own position by reading the store itself,
// then joins the tail; a stream whose bounded queue overflows is cut (it
// reconnects with its last event id and catches up), so a slow client never slows
// the others or the tail.
//
// No page is skipped: a tail's pages are contiguous ((From, To] then (To, …]), a
// stream joins only at a position the tail has not passed or that its recent
// pages still cover, and a stream drops from a page only records at or before its
// own position (docs/cluster.md, "Live streams").
package live
