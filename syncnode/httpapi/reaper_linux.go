package httpapi

import (
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The reaper notices at once when the client of a detached stream goes away:
// nothing reads a detached connection, so without it a closed one would only be
// found by the next write (a ping, up to 15 s later), counting against the stream
// limits meanwhile. One epoll set for the whole process, one goroutine blocked in
// epoll_wait, and per stream only its registration.
type reaper struct {
	once    sync.Once
	epfd    int
	mu      sync.Mutex
	next    uint64
	streams map[uint64]*detached
}

var streamReaper reaper

// watch registers d's connection; the reaper closes d when its peer hangs up or
// sends anything (a stream's client has nothing more to say). It returns a token
// for forget, 0 if the connection cannot be watched.
func (r *reaper) watch(d *detached) uint64 {
	r.once.Do(r.start)
	if r.epfd < 0 {
		return 0
	}
	sc, ok := d.conn.(syscall.Conn)
	if !ok {
		return 0
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	r.mu.Lock()
	r.next++
	token := r.next
	r.streams[token] = d
	r.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: int32(token), Pad: int32(token >> 32)}
	var addErr error
	if err := rc.Control(func(fd uintptr) { addErr = unix.EpollCtl(r.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev) }); err != nil || addErr != nil {
		r.forget(token, nil)
		return 0
	}
	return token
}

// forget unregisters a stream before its connection closes.
func (r *reaper) forget(token uint64, conn syscall.Conn) {
	if token == 0 {
		return
	}
	r.mu.Lock()
	delete(r.streams, token)
	r.mu.Unlock()
	if conn == nil {
		return
	}
	if rc, err := conn.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.EpollCtl(r.epfd, unix.EPOLL_CTL_DEL, int(fd), nil) })
	}
}

func (r *reaper) start() {
	r.streams = map[uint64]*detached{}
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		r.epfd = -1
		return
	}
	r.epfd = fd
	go r.loop()
}

// loop closes the streams whose connections report a hang-up or input.
func (r *reaper) loop() {
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(r.epfd, events, -1)
		if err != nil {
			continue // EINTR
		}
		for _, ev := range events[:n] {
			token := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			r.mu.Lock()
			d := r.streams[token]
			delete(r.streams, token)
			r.mu.Unlock()
			if d != nil {
				go d.close()
			}
		}
	}
}
