package edgeh

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Object is one cached object of the benchmarks: its table name, path and size.
type Object struct {
	Name, Path string
	Size       int
}

// Objects are the cached objects, by path; the table names them by size.
var Objects = []Object{
	{"1KiB", "/obj/1k", 1 << 10},
	{"16KiB", "/obj/16k", 16 << 10},
	{"256KiB", "/obj/256k", 256 << 10},
}

// Origin serves the objects with explicit freshness and strong ETags, the
// collapse keys (/slow/...) after a delay, and /_count?path=P: how many
// requests P got.
type Origin struct {
	bodies map[string][]byte
	etags  map[string]string
	delay  time.Duration
	counts sync.Map // path → *atomic.Int64
}

func NewOrigin(delay time.Duration) *Origin {
	o := &Origin{bodies: map[string][]byte{}, etags: map[string]string{}, delay: delay}
	for _, ob := range Objects {
		b := make([]byte, ob.Size)
		for i := range b {
			b[i] = 'a' + byte(i%26)
		}
		sum := sha256.Sum256(b)
		o.bodies[ob.Path], o.etags[ob.Path] = b, `"`+hex.EncodeToString(sum[:8])+`"`
	}
	o.bodies["/slow"], o.etags["/slow"] = []byte("cold object behind a slow origin\n"), `"slow-v1"`
	return o
}

var lastModified = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)

func (o *Origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_count" {
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, o.count(r.URL.Query().Get("path")).Load())
		return
	}
	o.count(r.URL.Path).Add(1)
	key := r.URL.Path
	if strings.HasPrefix(key, "/slow/") {
		key = "/slow"
		time.Sleep(o.delay)
	}
	body, ok := o.bodies[key]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", o.etags[key])
	h.Set("Last-Modified", lastModified)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, o.etags[key]) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func (o *Origin) count(path string) *atomic.Int64 {
	v, _ := o.counts.LoadOrStore(path, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// Count returns how many requests path has received.
func (o *Origin) Count(path string) int64 { return o.count(path).Load() }

// ETag returns the ETag the origin sends for path.
func (o *Origin) ETag(path string) string { return o.etags[path] }
