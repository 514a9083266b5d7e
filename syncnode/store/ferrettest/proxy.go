package ferrettest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"time"
)

// FerretDB v1.24 runs every update and findAndModify as "query, change the document in
// Go, replace it by _id", with nothing holding the document in between: two clients
// that compare-and-swap the same document at the same moment can both succeed, which
// MongoDB's single-document atomicity rules out. The serializing proxy below restores
// that atomicity for tests: it sits between the driver and FerretDB and lets one
// write command at a time through (from any connection), while reads pass freely.
// It is stronger than MongoDB (a whole multi-document write command runs alone), which
// only removes interleavings inside one command; the store never relies on those.

// writeCommands are the commands the proxy runs one at a time.
var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findAndModify": true,
	"findandmodify": true, "create": true, "createIndexes": true, "drop": true,
	"dropDatabase": true, "dropIndexes": true,
}

const (
	opMsg          = 2013
	headerLen      = 16
	maxMessageSize = 64 << 20
	flagMoreToCome = 1 << 1
)

// proxy forwards MongoDB wire-protocol connections from a loopback listener to target.
type proxy struct {
	ln      net.Listener
	target  string
	writeMu sync.Mutex // held while one write command is in flight
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	writes  WriteStats // guarded by mu
}

// WriteStats says how long FerretDB spent on write commands, by command name. As
// writes run one at a time, their sum over a benchmark's wall time is how busy the
// server was.
type WriteStats map[string]CommandStats

// String lists the commands by name: "insert 20× 130ms, update 32× 58ms".
func (ws WriteStats) String() string {
	names := make([]string, 0, len(ws))
	for name := range ws {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s %d× %s", name, ws[name].Count, ws[name].Busy.Round(time.Millisecond))
	}
	return strings.Join(parts, ", ")
}

// CommandStats counts one kind of write command.
type CommandStats struct {
	Count int
	Busy  time.Duration
}

// timeWrite ends a write command that started at start: it releases writeMu and
// records the command's time.
func (p *proxy) timeWrite(name string, start time.Time) {
	d := time.Since(start)
	p.writeMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.writes[name]
	st.Count++
	st.Busy += d
	p.writes[name] = st
}

// takeStats returns the write statistics so far and starts counting afresh.
func (p *proxy) takeStats() WriteStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.writes
	p.writes = WriteStats{}
	return st
}

// startProxy listens on a loopback port and serves until close is called.
func startProxy(target string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ferrettest: proxy listen: %w", err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}, writes: WriteStats{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c)
		}()
	}
}

// track records a connection so close can end it; it reports false once closing.
func (p *proxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !add {
		delete(p.conns, c)
		return true
	}
	if p.conns == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *proxy) serve(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	if !p.track(client, true) || !p.track(server, true) {
		return
	}
	defer p.track(client, false)
	defer p.track(server, false)
	for {
		if err := p.roundTrip(client, server); err != nil {
			return
		}
	}
}

// roundTrip forwards one request and the responses it asks for.
func (p *proxy) roundTrip(client, server net.Conn) error {
	req, err := readMessage(client)
	if err != nil {
		return err
	}
	if name := commandName(req); writeCommands[name] {
		p.writeMu.Lock()
		defer p.timeWrite(name, time.Now())
	}
	if _, err := server.Write(req); err != nil {
		return err
	}
	if msgFlags(req)&flagMoreToCome != 0 {
		return nil // the client expects no answer
	}
	for {
		resp, err := readMessage(server)
		if err != nil {
			return err
		}
		if _, err := client.Write(resp); err != nil {
			return err
		}
		if msgFlags(resp)&flagMoreToCome == 0 {
			return nil
		}
	}
}

// close stops accepting, ends every open connection and waits for the goroutines.
func (p *proxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// readMessage reads one whole wire-protocol message (header included).
func readMessage(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(hdr[:]))
	if n < headerLen || n > maxMessageSize {
		return nil, errors.New("ferrettest: proxy: bad message length")
	}
	msg := make([]byte, n)
	copy(msg, hdr[:])
	if _, err := io.ReadFull(r, msg[4:]); err != nil {
		return nil, err
	}
	return msg, nil
}

func opCode(msg []byte) uint32 { return binary.LittleEndian.Uint32(msg[12:16]) }

// msgFlags returns an OP_MSG's flag bits (0 for other opcodes).
func msgFlags(msg []byte) uint32 {
	if opCode(msg) != opMsg || len(msg) < headerLen+4 {
		return 0
	}
	return binary.LittleEndian.Uint32(msg[headerLen : headerLen+4])
}

// commandName returns the first key of an OP_MSG's body section: the command name.
func commandName(msg []byte) string {
	const bodyStart = headerLen + 4
	if opCode(msg) != opMsg || len(msg) < bodyStart+1+4+1 || msg[bodyStart] != 0 {
		return ""
	}
	key := msg[bodyStart+1+4+1:] // section kind, document length, element type
	for i, b := range key {
		if b == 0 {
			return string(key[:i])
		}
	}
	return ""
}
