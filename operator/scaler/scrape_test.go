package scaler

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestScrapeSumsTheStreamGauge(t *testing.T) {
	body := `# HELP lattice_stream_connections open live streams
# TYPE lattice_stream_connections gauge
lattice_stream_connections{format="native"} 120
lattice_stream_connections{format="rxdb"} 30
# TYPE lattice_pushes_total counter
lattice_pushes_total 9
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }))
	defer srv.Close()
	got, err := Scrape(context.Background(), srv.Client(), srv.URL)
	if err != nil || got != 150 {
		t.Fatalf("got %v, %v; want 150", got, err)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusServiceUnavailable) }))
	defer bad.Close()
	if _, err := Scrape(context.Background(), bad.Client(), bad.URL); err == nil {
		t.Fatal("a 503 scraped as a load")
	}
}
