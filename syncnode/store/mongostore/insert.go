package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Inserts go out as plain insert commands rather than through Collection.InsertMany:
// InsertMany decodes every document's _id with a reflection-based decoder (about 5 µs
// a document), and the group commit's leader, whom every round waits for, sends them.
// The documents are encoded beforehand by their callers (newDoc), so the command is
// assembled by copying bytes.

// maxInsertBytes bounds the documents of one insert command, well below MongoDB's
// 16 MiB limit on a command. A variable for tests.
var maxInsertBytes = 8 << 20

// insertDocs inserts docs (unordered) and returns the indexes of those refused as
// duplicates (of their _id, or of their seq: a seal). Any other failure is returned
// as an error.
func (s *Store) insertDocs(ctx context.Context, collection string, docs []bson.Raw) ([]int, error) {
	var dup []int
	for start := 0; start < len(docs); {
		end, size := start, 0
		for end < len(docs) && (end == start || size+len(docs[end]) <= maxInsertBytes) {
			size += len(docs[end])
			end++
		}
		d, err := s.insertCommand(ctx, collection, docs[start:end])
		if err != nil {
			return nil, err
		}
		for _, i := range d {
			dup = append(dup, start+i)
		}
		start = end
	}
	return dup, nil
}

// insertCommand runs one unordered insert of docs and returns the indexes (into
// docs) of those refused as duplicate keys. The driver reports write errors in the
// reply as a mongo.WriteException.
func (s *Store) insertCommand(ctx context.Context, collection string, docs []bson.Raw) ([]int, error) {
	err := s.db.RunCommand(ctx, s.insertCmd(collection, docs)).Err()
	var we mongo.WriteException
	if err == nil || !errors.As(err, &we) || we.WriteConcernError != nil {
		return nil, mapErr("insert into "+collection, err)
	}
	dup := make([]int, 0, len(we.WriteErrors))
	for _, e := range we.WriteErrors {
		if !mongo.IsDuplicateKeyError(e) || e.Index < 0 || e.Index >= len(docs) {
			return nil, mapErr("insert into "+collection, err)
		}
		dup = append(dup, e.Index)
	}
	return dup, nil
}

// insertCmd is the insert command of docs, built by copying their bytes (the
// driver's encoder would walk each document).
func (s *Store) insertCmd(collection string, docs []bson.Raw) bson.Raw {
	size := 128 + len(s.writeConcernRaw)
	for _, d := range docs {
		size += len(d) + 8
	}
	start, cmd := bsoncore.AppendDocumentStart(make([]byte, 0, size))
	cmd = bsoncore.AppendStringElement(cmd, "insert", "docs."+collection)
	arr, cmd := bsoncore.AppendArrayElementStart(cmd, "documents")
	for i, d := range docs {
		cmd = bsoncore.AppendDocumentElement(cmd, strconv.Itoa(i), d)
	}
	cmd, _ = bsoncore.AppendArrayEnd(cmd, arr)
	cmd = bsoncore.AppendBooleanElement(cmd, "ordered", false)
	cmd = bsoncore.AppendDocumentElement(cmd, "writeConcern", s.writeConcernRaw)
	cmd, _ = bsoncore.AppendDocumentEnd(cmd, start)
	return cmd
}

// writeConcernDoc is wc as a command's writeConcern field.
func writeConcernDoc(wc *writeconcern.WriteConcern) bson.Raw {
	d := bson.D{}
	if wc.W != nil {
		d = append(d, bson.E{Key: "w", Value: wc.W})
	}
	if wc.Journal != nil {
		d = append(d, bson.E{Key: "j", Value: *wc.Journal})
	}
	raw, err := bson.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("mongostore: encode write concern %v: %v", d, err)) // W is a string or an int
	}
	return raw
}
