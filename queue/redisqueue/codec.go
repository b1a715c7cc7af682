package redisqueue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// The parts of a Job that never change after enqueue are stored as one
// compact binary value (the job hash's field "d"): a version byte, then Kind,
// Args, UniqueKey as length-prefixed bytes, Timeout, EnqueuedAt and
// UniqueUntil as varints (nanoseconds; times as Unix nanoseconds, 0 for the
// zero time), and Meta as a count of length-prefixed key and value pairs.
// What changes (Attempt, RunAt, LastError, the lease) lives in fields of its
// own that the scripts update in place.

const codecVersion = 1

// errMalformed is wrapped by every decoding error.
var errMalformed = errors.New("malformed job")

func appendBytes(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func unixNano(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(maxNanoTime): // UnixNano is undefined past 2262: saturate, do not wrap into the past
		return math.MaxInt64
	case t.Before(minNanoTime):
		return math.MinInt64 + 1
	}
	return t.UnixNano()
}

var maxNanoTime, minNanoTime = time.Unix(0, math.MaxInt64), time.Unix(0, math.MinInt64+1)

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// encodeJob appends the immutable part of j to b.
func encodeJob(b []byte, j *queue.Job) []byte {
	b = append(b, codecVersion)
	b = appendBytes(b, j.Kind)
	b = binary.AppendUvarint(b, uint64(len(j.Args)))
	b = append(b, j.Args...)
	b = appendBytes(b, j.UniqueKey)
	b = binary.AppendVarint(b, int64(j.Timeout))
	b = binary.AppendVarint(b, unixNano(j.EnqueuedAt))
	b = binary.AppendVarint(b, unixNano(j.UniqueUntil))
	b = binary.AppendUvarint(b, uint64(len(j.Meta)))
	for k, v := range j.Meta {
		b = appendBytes(b, k)
		b = appendBytes(b, v)
	}
	return b
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errMalformed, what)
	}
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(what string) []byte {
	n := d.uvarint(what)
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(what + " length")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// decodeJob fills the immutable part of j from b, which it does not retain
// (Args is copied). It never panics, whatever b holds.
func decodeJob(b []byte, j *queue.Job) error {
	if len(b) == 0 || b[0] != codecVersion {
		return fmt.Errorf("%w: unknown encoding version", errMalformed)
	}
	d := decoder{b: b[1:]}
	j.Kind = string(d.bytes("kind"))
	if args := d.bytes("args"); args != nil {
		j.Args = append([]byte(nil), args...)
	}
	j.UniqueKey = string(d.bytes("unique key"))
	j.Timeout = time.Duration(d.varint("timeout"))
	j.EnqueuedAt = fromUnixNano(d.varint("enqueued at"))
	j.UniqueUntil = fromUnixNano(d.varint("unique until"))
	n := d.uvarint("meta count")
	if d.err == nil && n > uint64(len(d.b))/2 { // each pair takes two bytes at least
		d.fail("meta count")
	}
	if d.err == nil && n > 0 {
		j.Meta = make(map[string]string, n)
		for range n {
			k := string(d.bytes("meta key"))
			j.Meta[k] = string(d.bytes("meta value"))
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}
