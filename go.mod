module github.com/lattice-sync/lattice

go 1.26.8

require (
	github.com/FerretDB/FerretDB v1.24.0 // indirect
	go.etcd.io/bbolt v1.4.3 // indirect
	go.mongodb.org/mongo-driver/v2 v2.10.0 // indirect
	golang.org/x/sys v0.29.0 // indirect
)
