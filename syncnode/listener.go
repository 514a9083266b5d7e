package syncnode

import (
	"net"
	"sync"
)

// limitListener accepts at most n connections at once; further ones wait in the
// kernel's backlog until one closes. Unlike x/net's netutil.LimitListener it hands
// out connections that embed the *net.TCPConn, so a stream that takes its
// connection over still reaches the socket (SyscallConn for the reaper, writev for
// its events).
type limitListener struct {
	net.Listener
	sem chan struct{}
}

func newLimitListener(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n)}
}

// Accept waits for a free slot, then for a connection.
func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	release := sync.OnceFunc(func() { <-l.sem })
	if tcp, ok := c.(*net.TCPConn); ok {
		return &limitedTCPConn{TCPConn: tcp, release: release}, nil
	}
	return &limitedConn{Conn: c, release: release}, nil
}

// limitedTCPConn frees its slot when closed.
type limitedTCPConn struct {
	*net.TCPConn
	release func()
}

// Close closes the connection and frees its slot.
func (c *limitedTCPConn) Close() error {
	defer c.release()
	return c.TCPConn.Close()
}

// limitedConn is limitedTCPConn for other kinds of connections.
type limitedConn struct {
	net.Conn
	release func()
}

// Close closes the connection and frees its slot.
func (c *limitedConn) Close() error {
	defer c.release()
	return c.Conn.Close()
}
