package replicatest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"

	"github.com/ladder-go/ladder/replica"
)

// Errors returned by this package, checked with errors.Is.
var (
	// ErrInvalidOptions is returned by New for a bad Options field.
	ErrInvalidOptions = errors.New("replicatest: invalid options")
	// ErrNotPrimary is returned by WritePosition on a node that is not a primary.
	ErrNotPrimary = errors.New("replicatest: node is not a primary")
	// ErrNotPair is returned by State, WritePosition and Promote for a
	// Querier that reaches a database that is not one of the pair's (another
	// pair's, or one without a position table). Reached, one cheap query,
	// does not check.
	ErrNotPair = errors.New("replicatest: not a database of this pair")
	// ErrClosed is returned by Sync and Step after Close.
	ErrClosed = errors.New("replicatest: pair closed")
	// ErrReplicationStopped is returned by Sync and Step once the replica can
	// no longer catch up: it was promoted, or replaying a transaction failed
	// (the error says which).
	ErrReplicationStopped = errors.New("replicatest: replication stopped")
)

// Options configures a [Pair]. The zero value is a pair that replicates each
// commit as soon as the replica gets to it.
type Options struct {
	// Dir holds the two database files (primary.db and replica.db). "" is a new
	// temporary directory that Close removes.
	Dir string
	// Delay holds each transaction back from the replica until this long after
	// its commit: a replica that many seconds behind. 0 ships at once; < 0 is
	// an error. Under testing/synctest, with the pair made inside the bubble,
	// it runs on the bubble's clock.
	Delay time.Duration
	// Paused starts the pair with replication paused (see [Pair.Pause]).
	Paused bool
}

// Pair is an in-process primary and its replica: two SQLite databases
// (modernc.org/sqlite, pure Go) where every transaction committed on the
// primary is shipped, statement by statement, to the replica and replayed
// there in commit order by a goroutine of the pair, behind a lag the test
// controls ([Pair.Pause], [Pair.Resume], [Pair.Step], [Options.Delay],
// [Pair.Sync]). A read on the replica right after a write on the primary
// may therefore miss it, as with real replication, and code under test
// that wants read-your-writes has to ask for it.
//
// Pair implements [replica.Positions]: a position is the number of write
// transactions a node has committed or replayed, stored in each database
// (table replicatest_position) and read through SQL, so it works on any
// connection of the pair (*sql.DB, *sql.Conn, *sql.Tx). Promote turns the
// replica into a primary on the next timeline; the old primary stays a
// primary on its own, as a real one would until fenced.
//
// Replication is statement-based, as MySQL's was: what a statement writes
// must depend only on the database and its arguments: random(),
// datetime('now') and a column DEFAULT CURRENT_TIMESTAMP give the replica
// its own value (later by the lag); pass such values as arguments. Write through ExecContext, QueryContext or
// a transaction from BeginTx (BEGIN, COMMIT and ROLLBACK as SQL text are
// refused; SAVEPOINT and ROLLBACK TO work). A statement starting with
// SELECT, VALUES or EXPLAIN is taken for a read and not shipped; PRAGMA,
// VACUUM, ATTACH and DETACH act on their connection and are not shipped
// either. The replica refuses writes (PRAGMA query_only) until promoted.
type Pair struct {
	primary, replica *node
	primaryDB        *sql.DB
	replicaDB        *sql.DB
	delay            time.Duration
	dir              string
	removeDir        bool

	commitMu sync.Mutex // orders a commit and its entry in the log
	applyMu  sync.Mutex // one replay at a time (applier, Step, Promote)
	applier  driver.Conn

	mu       sync.Mutex
	pending  []entry // committed on the primary, not yet replayed
	head     replica.Position
	applied  replica.Position
	paused   bool
	promoted bool
	closed   bool
	err      error         // a replay failed
	changed  chan struct{} // closed and replaced whenever applied, err or promoted change
	wake     chan struct{}
	done     chan struct{}

	closeOnce sync.Once
	closeErr  error
}

var _ replica.Positions = (*Pair)(nil)

// entry is one committed transaction of the primary.
type entry struct {
	pos   replica.Position
	at    time.Time
	stmts []stmtLog
}

type stmtLog struct {
	query string
	args  []driver.NamedValue
}

// node is one database of the pair.
type node struct {
	name     string // "primary <pair id>" or "replica <pair id>": the name in its position table
	dsn      string
	pair     *Pair
	writable atomic.Bool
}

const positionTable = "replicatest_position"

// New creates the two databases, starts shipping, and returns the pair.
// Close it when done.
func New(opts Options) (*Pair, error) {
	if opts.Delay < 0 {
		return nil, fmt.Errorf("%w: Delay %v: must be ≥ 0", ErrInvalidOptions, opts.Delay)
	}
	p := &Pair{delay: opts.Delay, dir: opts.Dir, paused: opts.Paused,
		changed: make(chan struct{}), wake: make(chan struct{}, 1), done: make(chan struct{})}
	if p.dir == "" {
		d, err := os.MkdirTemp("", "replicatest-")
		if err != nil {
			return nil, fmt.Errorf("replicatest: %w", err)
		}
		p.dir, p.removeDir = d, true
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	p.primary = p.newNode("primary", hex.EncodeToString(id[:]))
	p.replica = p.newNode("replica", hex.EncodeToString(id[:]))
	p.primary.writable.Store(true)
	fail := func(err error) (*Pair, error) {
		if p.applier != nil {
			_ = p.applier.Close()
		}
		if p.removeDir {
			_ = os.RemoveAll(p.dir)
		}
		return nil, fmt.Errorf("replicatest: creating the pair in %s: %w", p.dir, err)
	}
	for _, n := range []*node{p.primary, p.replica} {
		c, err := (&sqlite.Driver{}).Open(n.dsn)
		if err != nil {
			return fail(err)
		}
		_, err = c.(driver.ExecerContext).ExecContext(context.Background(),
			`CREATE TABLE IF NOT EXISTS `+positionTable+` (node TEXT NOT NULL, role TEXT NOT NULL,
				timeline INTEGER NOT NULL, position INTEGER NOT NULL);
			DELETE FROM `+positionTable+`;
			INSERT INTO `+positionTable+` VALUES ('`+n.name+`', 'primary', 1, 0)`, nil)
		if n == p.replica {
			if err == nil {
				_, err = c.(driver.ExecerContext).ExecContext(context.Background(),
					`UPDATE `+positionTable+` SET role = 'replica'`, nil)
			}
			p.applier = c
		} else {
			err = errors.Join(err, c.Close())
		}
		if err != nil {
			return fail(err)
		}
	}
	p.primaryDB = sql.OpenDB(connector{p.primary})
	p.replicaDB = sql.OpenDB(connector{p.replica})
	go p.run()
	return p, nil
}

func (p *Pair) newNode(role, id string) *node {
	path := filepath.Join(p.dir, role+".db")
	return &node{name: role + " " + id, pair: p,
		dsn: "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)"}
}

// Primary returns the primary's database. Writes to it are shipped.
func (p *Pair) Primary() *sql.DB { return p.primaryDB }

// Replica returns the replica's database: read-only until promoted.
func (p *Pair) Replica() *sql.DB { return p.replicaDB }

// Pause stops the replica replaying: commits on the primary queue up until
// Resume or Step. A replay in progress finishes first.
func (p *Pair) Pause() {
	p.applyMu.Lock() // wait for a replay in progress
	defer p.applyMu.Unlock()
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
}

// Resume lets the replica replay again (after Options.Delay, if set).
func (p *Pair) Resume() {
	p.mu.Lock()
	p.paused = false
	p.mu.Unlock()
	p.poke()
}

// Pending returns how many committed transactions the replica has not replayed.
func (p *Pair) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// Step replays the next n pending transactions now, paused or not and
// whatever their delay, and returns how many it replayed (fewer if fewer
// were pending).
func (p *Pair) Step(n int) (int, error) {
	done := 0
	for done < n {
		ok, err := p.applyNext(false)
		if err != nil || !ok {
			return done, err
		}
		done++
	}
	return done, nil
}

// Sync waits until the replica has replayed every transaction committed
// before the call, and returns nil, or an error once ctx ends (paused
// replication waits for Resume), replication stops before that point, or
// the pair is closed ([ErrClosed]).
func (p *Pair) Sync(ctx context.Context) error {
	p.mu.Lock()
	target := p.head
	p.mu.Unlock()
	for {
		p.mu.Lock()
		applied, err, ch, closed := p.applied, p.stopErr(), p.changed, p.closed
		p.mu.Unlock()
		if closed {
			return ErrClosed
		}
		if applied >= target {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replicatest: waiting for the replica to replay position %d (at %d): %w", target, applied, ctx.Err())
		case <-ch:
		}
	}
}

// stopErr returns why the replica can no longer catch up; p.mu held.
func (p *Pair) stopErr() error {
	switch {
	case p.closed:
		return ErrClosed
	case p.err != nil:
		return p.err
	case p.promoted:
		return fmt.Errorf("%w: the replica was promoted", ErrReplicationStopped)
	}
	return nil
}

// Close stops replication and closes both databases, and removes the
// directory New created. It is idempotent.
func (p *Pair) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.notifyLocked()
		p.mu.Unlock()
		p.poke()
		<-p.done
		p.applyMu.Lock()
		err := errors.Join(p.primaryDB.Close(), p.replicaDB.Close(), p.applier.Close())
		p.applyMu.Unlock()
		if p.removeDir {
			err = errors.Join(err, os.RemoveAll(p.dir))
		}
		if err != nil {
			p.closeErr = fmt.Errorf("replicatest: closing the pair: %w", err)
		}
	})
	return p.closeErr
}

func (p *Pair) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// notifyLocked wakes Sync waiters; p.mu held.
func (p *Pair) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// ship appends a committed transaction to the log; called with commitMu
// held, so entries arrive in commit order.
func (p *Pair) ship(e entry) {
	p.mu.Lock()
	if p.promoted || p.closed {
		p.mu.Unlock()
		return // nobody replicates from this primary any more
	}
	p.pending = append(p.pending, e)
	p.head = e.pos
	p.mu.Unlock()
	p.poke()
}

// run is the replica's replay loop, owned by Close.
func (p *Pair) run() {
	defer close(p.done)
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return
		}
		var timer *time.Timer
		var due <-chan time.Time
		ready := false
		if !p.paused && p.err == nil && !p.promoted && len(p.pending) > 0 {
			if d := time.Until(p.pending[0].at.Add(p.delay)); d > 0 {
				timer = time.NewTimer(d)
				due = timer.C
			} else {
				ready = true
			}
		}
		p.mu.Unlock()
		if ready {
			_, _ = p.applyNext(true) // an error is kept in p.err for Sync and Step
			continue
		}
		select {
		case <-p.wake:
		case <-due:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// applyNext replays the oldest pending transaction on the replica. auto is
// the replay loop, which honours a pause and the delay that may have begun
// since it looked.
func (p *Pair) applyNext(auto bool) (bool, error) {
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	p.mu.Lock()
	if err := p.stopErr(); err != nil {
		p.mu.Unlock()
		return false, err
	}
	if len(p.pending) == 0 || auto && (p.paused || time.Until(p.pending[0].at.Add(p.delay)) > 0) {
		p.mu.Unlock()
		return false, nil
	}
	e := p.pending[0]
	p.mu.Unlock()

	err := p.replay(e)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.err = fmt.Errorf("%w: replaying position %d on the replica: %w", ErrReplicationStopped, e.pos, err)
		p.notifyLocked()
		return false, p.err
	}
	p.pending = p.pending[1:]
	p.applied = e.pos
	p.notifyLocked()
	return true, nil
}

// replay runs one transaction's statements on the replica and records its
// position in the same transaction; applyMu held.
func (p *Pair) replay(e entry) (err error) {
	ctx := context.Background()
	c := p.applier
	tx, err := c.(driver.ConnBeginTx).BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	ex := c.(driver.ExecerContext)
	for _, s := range e.stmts {
		if _, err := ex.ExecContext(ctx, s.query, s.args); err != nil {
			return fmt.Errorf("%q: %w", s.query, err)
		}
	}
	if _, err := ex.ExecContext(ctx, `UPDATE `+positionTable+` SET position = ?`,
		[]driver.NamedValue{{Ordinal: 1, Value: int64(e.pos)}}); err != nil {
		return err
	}
	return tx.Commit()
}
