package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// TCPProxy forwards loopback TCP connections to a target and can cut them,
// for fault tests: Break is a network partition or a dead server as the
// client sees it, Restore heals it.
type TCPProxy struct {
	Addr   string // 127.0.0.1:port clients dial; stable across Break and Restore
	target string
	t      testing.TB

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Proxy starts a TCP proxy on a free loopback port in front of target and
// stops it, with every connection, when the test ends.
func Proxy(t testing.TB, target string) *TCPProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: proxy listen: %v", err)
	}
	p := &TCPProxy{Addr: ln.Addr().String(), target: target, t: t, conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.close)
	return p
}

// Break closes every open connection and refuses new ones until Restore.
func (p *TCPProxy) Break() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
}

// Restore accepts connections again on the same address.
func (p *TCPProxy) Restore() {
	p.mu.Lock()
	idle := p.ln == nil && !p.closed
	p.mu.Unlock()
	if !idle {
		return
	}
	var ln net.Listener
	err := poll(time.Second, 10*time.Millisecond, func() (err error) { // the port may linger briefly after Close
		ln, err = net.Listen("tcp", p.Addr)
		return err
	})
	if err != nil {
		p.t.Errorf("testenv: proxy cannot listen again on %s: %v", p.Addr, err)
		return
	}
	p.serve(ln)
}

func (p *TCPProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go p.pipe(c)
		}
	}()
}

func (p *TCPProxy) pipe(client net.Conn) {
	defer p.wg.Done()
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = client.Close()
		return
	}
	if !p.track(client, server) {
		return
	}
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go cp(server, client)
	go cp(client, server)
	<-done
	<-done
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// track registers both ends, or closes them if the proxy is broken or closed.
func (p *TCPProxy) track(a, b net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		_ = a.Close()
		_ = b.Close()
		return false
	}
	p.conns[a], p.conns[b] = struct{}{}, struct{}{}
	return true
}

func (p *TCPProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.Break()
	p.wg.Wait()
}
