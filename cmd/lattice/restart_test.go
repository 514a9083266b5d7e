package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
)

// buildLattice builds the lattice binary once for the test.
func buildLattice(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lattice")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startDev runs `lattice dev` and waits until it serves.
func startDev(t *testing.T, bin, addr, dataDir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "dev", "--listen", addr, "--data-dir", dataDir)
	logs, err := os.Create(filepath.Join(t.TempDir(), "lattice.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("lattice dev did not become ready")
	return nil
}

// TestKillMidLoadLosesNoAcknowledgedMutation pushes from several clients, kills the
// node with SIGKILL in the middle, restarts it on the same data directory and
// checks that every mutation that got a 200 is there.
func TestKillMidLoadLosesNoAcknowledgedMutation(t *testing.T) {
	bin, addr, dir := buildLattice(t), freeAddr(t), t.TempDir()
	node := startDev(t, bin, addr, dir)
	var mu sync.Mutex
	acked := map[string]int{} // doc id -> last acknowledged value
	var wg sync.WaitGroup
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func(client string) {
			defer wg.Done()
			pushUntilFailure(addr, client, func(id string, v int) { mu.Lock(); acked[id] = v; mu.Unlock() })
		}(fmt.Sprintf("tablet-%d", c))
	}
	time.Sleep(700 * time.Millisecond)
	if err := node.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = node.Wait()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no push was acknowledged before the kill")
	}
	node = startDev(t, bin, addr, dir)
	defer func() { _ = node.Process.Signal(syscall.SIGTERM); _ = node.Wait() }()
	docs := pullAll(t, addr)
	for id, v := range acked {
		if docs[id] < v {
			t.Errorf("%s: acknowledged value %d, after restart %d", id, v, docs[id])
		}
	}
	t.Logf("%d acknowledged documents, all present after kill -9 and restart", len(acked))
}

// pushUntilFailure pushes batches of 5 mutations (new documents and updates) until
// the node stops answering, reporting each acknowledged document's value.
func pushUntilFailure(addr, client string, ack func(id string, v int)) {
	for mid := 1; ; mid += 5 {
		var ms []string
		for k := 0; k < 5; k++ {
			ms = append(ms, fmt.Sprintf(`{"id":"%s-%d","mid":%d,"set":{"v":%d}}`, client, (mid+k)%40, mid+k, mid+k))
		}
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/collections/orders/push",
			strings.NewReader(`{"mutations":[`+strings.Join(ms, ",")+`]}`))
		req.Header.Set("Lattice-Client", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return
		}
		for k := 0; k < 5; k++ {
			ack(fmt.Sprintf("%s-%d", client, (mid+k)%40), mid+k)
		}
	}
}

func pullAll(t *testing.T, addr string) map[string]int {
	t.Helper()
	out := map[string]int{}
	cp := ""
	for {
		resp, err := http.Get("http://" + addr + "/v1/collections/orders/pull?checkpoint=" + cp)
		if err != nil {
			t.Fatal(err)
		}
		var page protocol.PullResponse
		err = json.NewDecoder(bufio.NewReader(resp.Body)).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Changes {
			var d struct{ V int }
			_ = json.Unmarshal(c.Doc, &d)
			out[c.ID] = d.V
		}
		if cp = page.Checkpoint; !page.HasMore {
			return out
		}
	}
}
