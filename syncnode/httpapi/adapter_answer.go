package httpapi

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// answerBuffer is how much of an answer is encoded before the first bytes go out.
const answerBuffer = 32 << 10

// jsonAnswer writes a 200 JSON answer as it is encoded, one piece (a literal or a
// document) at a time, instead of building the whole body first: the pieces go
// through a small buffer, so nothing reaches the client before the buffer first
// fills. An error until then is still answered as a JSON error (send returns it);
// after that the response can only be cut (http.ErrAbortHandler), so the client
// reads a broken body, never a well-formed part of one.
type jsonAnswer struct {
	out *okWriter
	buf *bufio.Writer
	log *slog.Logger
	r   *http.Request
}

// okWriter sends the status and content type before the first byte of the body
// and remembers the first write error (the client went away).
type okWriter struct {
	w    http.ResponseWriter
	sent bool
	err  error
}

func (o *okWriter) Write(p []byte) (int, error) {
	if !o.sent {
		o.sent = true
		o.w.Header().Set("Content-Type", "application/json")
		o.w.WriteHeader(http.StatusOK)
	}
	n, err := o.w.Write(p)
	if err != nil && o.err == nil {
		o.err = err
	}
	return n, err
}

// answer starts a streamed JSON answer to r on w.
func (a *API) answer(w http.ResponseWriter, r *http.Request) *jsonAnswer {
	out := &okWriter{w: w}
	return &jsonAnswer{out: out, buf: bufio.NewWriterSize(out, answerBuffer), log: a.cfg.Logger, r: r}
}

// send runs encode, which writes the whole answer into j, then ends the answer.
// An error of encode while nothing reached the client is returned, for the caller
// to answer; after that it cuts the response. A client that went away is no error:
// there is no one left to answer.
func (j *jsonAnswer) send(encode func(j *jsonAnswer) error) error {
	err := encode(j)
	if err == nil {
		_ = j.buf.Flush() // a failed write is in j.out.err
	}
	switch {
	case j.out.err != nil || err == nil:
		return nil
	case !j.out.sent:
		return err
	}
	j.log.ErrorContext(j.r.Context(), "answer cut after its first bytes", "method", j.r.Method, "path", j.r.URL.Path, "err", err)
	panic(http.ErrAbortHandler)
}

// raw writes literal JSON.
func (j *jsonAnswer) raw(s string) {
	_, _ = j.buf.WriteString(s) // a failed write is in j.out.err
}

// value writes v as JSON; it fails once the client went away, to stop encoding.
func (j *jsonAnswer) value(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = j.buf.Write(b)
	return err
}

// docs writes the JSON array of the documents of the records keep accepts, as the
// SignalDB and WatermelonDB adapters serve them (baseDoc).
func (j *jsonAnswer) docs(recs []store.Record, fields crdt.Fields, keep func(store.Record) bool) error {
	return j.array(recs, keep, func(r store.Record) (any, error) { return baseDoc(r, fields) })
}

// array writes the JSON array of item(r) for the records keep accepts.
func (j *jsonAnswer) array(recs []store.Record, keep func(store.Record) bool, item func(store.Record) (any, error)) error {
	j.raw("[")
	comma := false
	for _, r := range recs {
		if !keep(r) {
			continue
		}
		if comma {
			j.raw(",")
		}
		v, err := item(r)
		if err != nil {
			return err
		}
		if err := j.value(v); err != nil {
			return err
		}
		comma = true
	}
	j.raw("]")
	return nil
}

// present and absent select records for docs and array: whether the record holds
// a document or a deletion.
func present(r store.Record) bool { return !r.Deleted }
func absent(r store.Record) bool  { return r.Deleted }
