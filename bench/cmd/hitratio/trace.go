package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxLine bounds one trace line; longer lines are an error, not a crash.
const maxLine = 1 << 16

// parseTrace reads one request per line: the first field (split on
// whitespace or commas) is the key. Blank lines, '#' comments and LIRS "*"
// markers are skipped. Keys map to dense ids in order of first appearance.
func parseTrace(r io.Reader) ([]uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	ids := map[string]uint64{}
	var keys []uint64
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text == "*" || strings.HasPrefix(text, "#") {
			continue
		}
		field, _, _ := strings.Cut(strings.ReplaceAll(text, ",", " "), " ")
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		id, ok := ids[field]
		if !ok {
			id = uint64(len(ids))
			ids[field] = id
		}
		keys = append(keys, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trace line %d: %w", line+1, err)
	}
	return keys, nil
}

// readTrace opens a trace file, gunzipping names ending in .gz.
func readTrace(path string) ([]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	keys, err := parseTrace(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}
