package peers

import (
	"fmt"
	"os"
	"path/filepath"
)

// Nginx starts nginx as a shared proxy_cache in front of origin, listening
// on addr, with workers worker processes, its cache on tmpfs. It returns
// the process and the config it wrote (for the report).
//
// Non-default settings, each for a reason:
//   - proxy_cache_path on tmpfs, keys_zone 16m, max_size 256m: the same
//     byte bound as ladder's default and Varnish's -s malloc,256m.
//   - proxy_cache_valid is NOT set: with it nginx would cache what the
//     origin did not allow; unset, freshness comes from the origin's
//     Cache-Control/Expires (and no heuristic: nginx has none).
//   - proxy_cache_lock on: one origin request per burst of misses (the
//     stampede figure); lock_timeout 5s, lock_age 5s (defaults, spelled out).
//   - proxy_cache_revalidate on: revalidate with If-None-Match /
//     If-Modified-Since instead of refetching (RFC 9111 §4.3).
//   - proxy_cache_background_update on + proxy_cache_use_stale updating:
//     stale-while-revalidate (RFC 5861 §3) served while one background
//     request refreshes; use_stale error timeout http_5xx: stale-if-error
//     (RFC 5861 §4; nginx ≥ 1.11.10 honours the response's directives).
//   - upstream keepalive, proxy_http_version 1.1, Connection "": reuse
//     origin connections (a benchmark of the cache, not of TCP handshakes).
//   - access_log off, open_file_cache: the tuned config the nginx
//     documentation recommends for cache-heavy servers.
//   - worker_processes = the cores nginx runs on; worker_connections 4096
//     and worker_rlimit_nofile: room for the 1000-client burst.
func Nginx(ps *Procs, dir, addr, origin string, workers int, cpus string) (*Proc, string, error) {
	if _, err := execLook("nginx"); err != nil {
		return nil, "", Missing("nginx")
	}
	nd := filepath.Join(dir, "nginx")
	if err := os.MkdirAll(nd, 0o755); err != nil {
		return nil, "", err
	}
	cache, err := CacheDir("nginx-cache")
	if err != nil {
		return nil, "", err
	}
	// nginx workers run as nobody/www-data when started as root.
	_ = os.Chmod(cache, 0o777)
	_ = os.Chmod(nd, 0o777)
	conf := fmt.Sprintf(`worker_processes %[4]d;
worker_rlimit_nofile 8192;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  open_file_cache max=10000 inactive=60s;
  open_file_cache_valid 60s;
  open_file_cache_errors on;
  proxy_cache_path %[5]s levels=1:2 keys_zone=edge:16m max_size=256m inactive=60m use_temp_path=off;
  upstream origin {
    server %[2]s;
    keepalive 64;
  }
  server {
    listen %[3]s;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache edge;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 5s;
      proxy_cache_lock_age 5s;
      proxy_cache_revalidate on;
      proxy_cache_background_update on;
      proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;
    }
  }
}
`, nd, origin, addr, workers, cache)
	p := filepath.Join(nd, "nginx.conf")
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		return nil, "", err
	}
	name, args := Pin(cpus, "nginx", "-c", p, "-g", "daemon off;")
	proc, err := ps.Start(name, args...)
	return proc, conf, err
}

// Varnish starts varnishd in the foreground (-F) with its builtin VCL in
// front of origin (-b), a 256 MiB malloc store (-s) and its working
// directory under dir (-n). Request coalescing (the waiting list) is
// Varnish's default. -j none keeps it in our user and our temp dir rather
// than switching to the varnish user (no effect on caching).
// Every other parameter is the default (default_ttl 120s, default_grace
// 10s, which Varnish applies when the response names no grace).
func Varnish(ps *Procs, dir, addr, origin, cpus string) (*Proc, string, error) {
	if _, err := execLook("varnishd"); err != nil {
		return nil, "", Missing("varnishd")
	}
	wd := filepath.Join(dir, "varnish")
	args := []string{"-F", "-j", "none", "-a", addr, "-b", origin, "-s", "malloc,256m", "-n", wd}
	name, full := Pin(cpus, "varnishd", args...)
	proc, err := ps.Start(name, full...)
	return proc, "varnishd " + join(args), err
}

func join(a []string) string {
	s := ""
	for i, x := range a {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}
