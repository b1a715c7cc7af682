package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// figures turns a drill's figures file (scripts/drill collects the file
// each drill writes to $LADDER_DRILL_OUT) into markdown: a line holding a
// JSON object becomes a table of its fields in their order; any other
// line is kept as written.
func figures(w io.Writer, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if keys, vals, ok := object(line); ok {
			fmt.Fprintln(w, "| figure | value |")
			fmt.Fprintln(w, "|---|---|")
			for i, k := range keys {
				fmt.Fprintf(w, "| %s | %s |\n", strings.ReplaceAll(k, "_", " "), strings.ReplaceAll(vals[i], "|", "/"))
			}
		} else {
			fmt.Fprintln(w, line)
		}
		fmt.Fprintln(w)
	}
	return sc.Err()
}

// object parses a flat JSON object, keeping its keys' order.
func object(line string) (keys, vals []string, ok bool) {
	if !strings.HasPrefix(line, "{") {
		return nil, nil, false
	}
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			var n json.Number
			d := json.NewDecoder(bytes.NewReader(v))
			d.UseNumber()
			if d.Decode(&n) == nil {
				s = num([]float64{mustFloat(n)})
			} else {
				s = string(v)
			}
		}
		keys, vals = append(keys, k), append(vals, s)
	}
	return keys, vals, true
}

func mustFloat(n json.Number) float64 {
	f, _ := n.Float64()
	return f
}
