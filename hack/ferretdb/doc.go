// Command ferretdb runs FerretDB v1.24 (SQLite handler) behind the write-serialising
// wire proxy of package wireproxy, for the local cluster (hack/cluster.sh).
//
//	ferretdb -dir .cache/cluster/mongo [-listen 127.0.0.1:27017] [-log]
//
// It prints "ready mongodb://<listen>/" on stdout once the proxy accepts connections
// and stops cleanly on SIGTERM or SIGINT.
//
// Why it exists: FerretDB's own command (cmd/ferretdb) panics when it is built from
// the Go module rather than from FerretDB's repository, so this small program embeds
// FerretDB as a library instead, with the configuration ferrettest uses. And FerretDB
// 1.24 on SQLite lacks MongoDB's single-document write atomicity (two concurrent
// compare-and-swaps of one document can both succeed); the proxy restores it by
// running write commands one at a time, so several lattice nodes can share one
// FerretDB safely.
package main
