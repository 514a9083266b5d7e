package embedded

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lattice-sync/lattice/syncnode/store"
)

func TestCodecRoundTrip(t *testing.T) {
	in := store.Record{ID: "x", State: []byte{0, 1, 2}, Doc: []byte(`{"a":1}`), Version: "v", Rev: 7, Seq: 1 << 40}
	out, err := decodeRecord("x", encodeRecord(in))
	if err != nil {
		t.Fatal(err)
	}
	if out.Rev != in.Rev || out.Seq != in.Seq || !bytes.Equal(out.State, in.State) ||
		!bytes.Equal(out.Doc, in.Doc) || out.Version != in.Version || out.Deleted {
		t.Fatalf("round trip: %+v, want %+v", out, in)
	}
	enc := encodeRecord(in)
	for _, bad := range [][]byte{nil, {9, 1}, enc[:len(enc)-1], append(enc, 0)} {
		if _, err := decodeRecord("x", bad); !errors.Is(err, errCorrupt) {
			t.Fatalf("decode %v: err %v, want errCorrupt", bad, err)
		}
	}
}

func TestClosedStoreRefusesCalls(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Commit(ctx, "c", []store.Write{{Record: store.Record{ID: "a"}}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit after Close: %v", err)
	}
	if _, err := s.Get(ctx, "c", []string{"a"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ping after Close: %v", err)
	}
}

// TestGroupCommitSharesTransaction holds the commit loop inside its first group
// while more commits queue up, and checks that they then share one transaction.
func TestGroupCommitSharesTransaction(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	entered, release := make(chan struct{}), make(chan struct{})
	var sizes []int
	s.groupHook = func(n int) {
		if len(sizes) == 0 {
			close(entered)
			<-release
		}
		sizes = append(sizes, n)
	}
	const queued = 20
	var wg sync.WaitGroup
	commit := func(id string) {
		defer wg.Done()
		if _, err := s.Commit(context.Background(), "c", []store.Write{{Record: store.Record{ID: id}}}); err != nil {
			t.Error(err)
		}
	}
	wg.Add(1)
	go commit("first")
	<-entered // the loop has taken "first" alone and waits on release
	for i := range queued {
		wg.Add(1)
		go commit(fmt.Sprint("q", i))
	}
	for len(s.reqs) != queued { // the loop is held, so the queue only grows
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if len(sizes) != 2 || sizes[0] != 1 || sizes[1] != queued {
		t.Fatalf("group sizes %v, want [1 %d]", sizes, queued)
	}
}

// Crash test: a child process commits in a loop and prints each acknowledged commit;
// the parent kills it with SIGKILL mid-stream, reopens the file, and checks that
// every acknowledged commit is there.
const crashChildEnv = "LATTICE_EMBEDDED_CRASH_CHILD"

func TestCrashKeepsAcknowledgedCommits(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKeepsAcknowledgedCommits$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]int64{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if id, rev, ok := parseAck(sc.Text()); ok {
			acked[id] = max(acked[id], rev)
		}
		if len(acked) == 300 && cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
	}
	_ = cmd.Wait()
	if len(acked) < 300 {
		t.Fatalf("child acknowledged only %d documents before exiting", len(acked))
	}
	assertAcked(t, path, acked)
}

func parseAck(line string) (string, int64, bool) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "ack" {
		return "", 0, false
	}
	rev, err := strconv.ParseInt(f[2], 10, 64)
	return f[1], rev, err == nil
}

// crashChild commits forever from 4 goroutines (until killed).
func crashChild(path string) {
	s, err := Open(path)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("g%d-%d", g, i)
				res, err := s.Commit(context.Background(), "c", []store.Write{{Record: store.Record{ID: id, State: []byte(id)}}})
				if err != nil {
					fmt.Println("commit:", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Printf("ack %s %d\n", id, res.Committed[id].Rev)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func assertAcked(t *testing.T, path string, acked map[string]int64) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer s.Close(context.Background())
	ids := make([]string, 0, len(acked))
	for id := range acked {
		ids = append(ids, id)
	}
	got, err := s.Get(context.Background(), "c", ids)
	if err != nil {
		t.Fatal(err)
	}
	for id, rev := range acked {
		if got[id].Rev < rev || string(got[id].State) != id {
			t.Fatalf("acknowledged %s rev %d lost after the crash: %+v", id, rev, got[id])
		}
	}
	p, err := s.Changes(context.Background(), "c", 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) < len(acked) {
		t.Fatalf("feed after the crash has %d records, fewer than %d acknowledged", len(p.Records), len(acked))
	}
}
