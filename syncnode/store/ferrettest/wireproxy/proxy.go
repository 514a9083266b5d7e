package wireproxy

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

// Proxy forwards MongoDB wire-protocol connections from its listener to a target
// server, running write commands one at a time. Start returns one; Close stops it.
type Proxy struct {
	ln      net.Listener
	target  string
	writeMu sync.Mutex // held while one write command is in flight
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]struct{} // nil once closing
	writes  WriteStats            // guarded by mu
}

// WriteStats says how long the target spent on write commands, by command name. As
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
	// Count is how many commands of this kind ran.
	Count int
	// Busy is the time they took, from request sent to last response received.
	Busy time.Duration
}

// Start listens on listenAddr (such as "127.0.0.1:0") and forwards every connection
// to target (host:port) until Close is called.
func Start(listenAddr, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("wireproxy: listen on %s: %w", listenAddr, err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}, writes: WriteStats{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address the proxy listens on (host:port).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// TakeStats returns the write statistics since Start or the previous call and starts
// counting afresh.
func (p *Proxy) TakeStats() WriteStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.writes
	p.writes = WriteStats{}
	return st
}

// Close stops accepting, ends every open connection and waits until the proxy's
// goroutines are done. It must be called once.
func (p *Proxy) Close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// timeWrite ends a write command that started at start: it releases writeMu and
// records the command's time.
func (p *Proxy) timeWrite(name string, start time.Time) {
	d := time.Since(start)
	p.writeMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.writes[name]
	st.Count++
	st.Busy += d
	p.writes[name] = st
}

func (p *Proxy) accept() {
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

// track records a connection so Close can end it; it reports false once closing.
func (p *Proxy) track(c net.Conn, add bool) bool {
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

func (p *Proxy) serve(client net.Conn) {
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
func (p *Proxy) roundTrip(client, server net.Conn) error {
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

// readMessage reads one whole wire-protocol message (header included).
func readMessage(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(hdr[:]))
	if n < headerLen || n > maxMessageSize {
		return nil, errors.New("wireproxy: bad message length")
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
