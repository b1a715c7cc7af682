package rediscache

import (
	"encoding/json"
	"fmt"
)

// Codec turns values into bytes for Redis and back. Unmarshal receives a
// pointer to the value type.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSON is the default Codec.
type JSON struct{}

// Marshal encodes v as JSON.
func (JSON) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal decodes JSON into v.
func (JSON) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// encode runs the codec's Marshal, turning a panic into an error: a codec
// failure is an L2 problem, never a failed read.
func encode(c Codec, v any) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("rediscache: codec panicked encoding: %v", p)
		}
	}()
	return c.Marshal(v)
}

// decode runs the codec's Unmarshal, turning a panic into an error.
func decode(c Codec, b []byte, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("rediscache: codec panicked decoding: %v", p)
		}
	}()
	return c.Unmarshal(b, v)
}
