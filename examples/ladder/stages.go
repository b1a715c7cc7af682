package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ladder-go/ladder/examples/01-single-box/singlebox"
	"github.com/ladder-go/ladder/examples/02-split-web-db/splitwebdb"
	"github.com/ladder-go/ladder/examples/03-lb-replicas/lbreplicas"
	"github.com/ladder-go/ladder/examples/04-cache-cdn/cachecdn"
	"github.com/ladder-go/ladder/examples/05-multi-dc-sharding/multidc"
	"github.com/ladder-go/ladder/examples/06-queue-workers/queueworkers"
)

// EnvStage names the stage a child process of the ladder serves: ladder
// sets it before it calls a stage's Run, and the stage's children (this
// binary, re-executed with a role) inherit it.
const EnvStage = "LADDER_EXAMPLE_STAGE"

// runFunc is every stage package's Run.
type runFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// stageDef is one rung of the ladder.
type stageDef struct {
	num  int    // 1
	name string // "01-single-box"
	run  runFunc
	// args are the stage's flags for a profile (-json is added).
	args func(p profile) []string
}

// profile is the one bounded load every stage runs under.
type profile struct {
	quick bool
	// step is every stage's load step (where the stage has steps).
	step time.Duration
	// kdf is PBKDF2's iteration count: the app's minimum, the same in every
	// stage. Production's 600,000 makes a signup cost ~0.3 s of a core: the
	// walk would measure the hash, not the architecture (01 prints it).
	kdf       int
	pg, redis string
	pgReplica string // 03 needs a primary and its replica
}

// defaultProfile is tuned to finish in about 3 minutes on 2 cores.
func defaultProfile() profile {
	return profile{step: time.Second, kdf: 1000}
}

func (p profile) common(extra ...string) []string {
	if p.quick {
		return append([]string{"-quick"}, extra...)
	}
	return append([]string{"-step", p.step.String(), "-kdf-iter", strconv.Itoa(p.kdf)}, extra...)
}

var stages = []stageDef{
	{1, "01-single-box", singlebox.Run, func(p profile) []string {
		if p.quick {
			return p.common()
		}
		return p.common("-workers", "1,2,4,8,16,32")
	}},
	{2, "02-split-web-db", splitwebdb.Run, func(p profile) []string {
		if p.quick {
			return p.common("-pg", p.pg)
		}
		return p.common("-down", p.step.String(), "-pg", p.pg)
	}},
	{3, "03-lb-replicas", lbreplicas.Run, func(p profile) []string {
		replica := p.pgReplica
		if p.pg == "" {
			replica = ""
		}
		args := p.common("-redis", p.redis, "-pg-primary", p.pgPrimary03(), "-pg-replica", replica)
		if !p.quick {
			args = append(args, "-pairs", "60") // 200 pairs take a minute: 60 show the stale share as well
		}
		return args
	}},
	{4, "04-cache-cdn", cachecdn.Run, func(p profile) []string {
		return p.common("-redis", p.redis)
	}},
	{5, "05-multi-dc-sharding", multidc.Run, func(p profile) []string {
		return p.common("-pg", p.pg)
	}},
	{6, "06-queue-workers", queueworkers.Run, func(p profile) []string {
		if p.quick {
			return []string{"-quick", "-redis", p.redis}
		}
		return []string{"-kdf-iter", strconv.Itoa(p.kdf), "-redis", p.redis}
	}},
}

// pgPrimary03 is -pg for stage 03 only with a replica beside it: a primary
// alone runs 03's in-process pair.
func (p profile) pgPrimary03() string {
	if p.pgReplica == "" {
		return ""
	}
	return p.pg
}

// findStage finds a stage by number ("3", "03") or name ("03-lb-replicas",
// "lb-replicas").
func findStage(s string) (stageDef, error) {
	s = strings.TrimSpace(s)
	for _, st := range stages {
		if n, err := strconv.Atoi(s); err == nil && n == st.num ||
			s == st.name || s == st.name[3:] {
			return st, nil
		}
	}
	return stageDef{}, fmt.Errorf("unknown stage %q: want a number from 1 to %d or one of %s", s, len(stages), stageNames())
}

func stageNames() string {
	names := make([]string, len(stages))
	for i, st := range stages {
		names[i] = st.name
	}
	return strings.Join(names, ", ")
}
