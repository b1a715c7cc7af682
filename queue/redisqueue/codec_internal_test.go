package redisqueue

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

func TestCodecRoundTrip(t *testing.T) {
	in := &queue.Job{Kind: "email", Args: []byte(`{"to":"a@b"}`), Timeout: 90 * time.Second,
		EnqueuedAt: time.Unix(1700000000, 123456789), UniqueKey: "k", UniqueUntil: time.Unix(1700003600, 1),
		Meta: map[string]string{"traceparent": "00-abc-def-01", "": "empty key"}}
	var out queue.Job
	if err := decodeJob(encodeJob(nil, in), &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*in, out) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, *in)
	}
	var zero queue.Job
	if err := decodeJob(encodeJob(nil, &queue.Job{Kind: "x"}), &zero); err != nil || zero.Kind != "x" || !zero.EnqueuedAt.IsZero() || zero.Meta != nil {
		t.Fatalf("zero fields: %+v, %v", zero, err)
	}
}

// FuzzDecodeJob: whatever a stored job holds (a hand edit, a corruption),
// decoding returns a job or an error wrapping errMalformed, never panics, and
// never allocates beyond the input's size for the metadata.
func FuzzDecodeJob(f *testing.F) {
	f.Add(encodeJob(nil, &queue.Job{Kind: "k", Args: []byte("{}"), Meta: map[string]string{"a": "b"}}))
	f.Add(encodeJob(nil, &queue.Job{}))
	f.Add([]byte{})
	f.Add([]byte{codecVersion})
	f.Add([]byte{codecVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{codecVersion, 1, 'k', 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{2, 1, 'k'})
	f.Fuzz(func(t *testing.T, b []byte) {
		var j queue.Job
		err := decodeJob(b, &j)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v does not wrap errMalformed", err)
			}
			return
		}
		// What decodes re-encodes to a job that decodes the same.
		var again queue.Job
		if err := decodeJob(encodeJob(nil, &j), &again); err != nil || !reflect.DeepEqual(j, again) {
			t.Fatalf("re-encoding %+v gave %+v, %v", j, again, err)
		}
	})
}
