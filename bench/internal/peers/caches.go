package peers

import (
	"fmt"
	"os"
	"os/exec"
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
	ps.RemoveOnStop(cache)
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

// Squid starts squid 5 in the foreground (-N) as a reverse proxy
// ("accelerator", the mode its documentation prescribes for a cache in
// front of a web server): http_port ... accel, one cache_peer parent that
// is the origin. Memory cache only (no cache_dir: nothing to initialise
// and the same store kind as the others). Every caching rule is the
// default, including refresh_pattern's heuristic (RFC 9111 §4.2.2 allows
// one) — the documented defaults are the fair configuration.
// Non-default settings, each for a reason:
//   - cache_mem 256 MB, maximum_object_size_in_memory 16 MB: the same
//     bounds as ladder's defaults (squid's 8 MB / 512 KB would refuse
//     the test objects sooner than the others).
//   - http_access allow localhost: the accelerator answers loopback
//     clients only (squid's default denies everything not listed).
//   - access_log none, pid/cache_log/coredump under the temp dir,
//     cache_effective_user left as the default (proxy) with the dir
//     writable by it; shutdown_lifetime 1 second: a quick clean stop.
func Squid(ps *Procs, dir, addr, origin, cpus string) (*Proc, string, error) {
	if _, err := execLook("squid"); err != nil {
		return nil, "", Missing("squid")
	}
	sd := filepath.Join(dir, "squid")
	if err := os.MkdirAll(sd, 0o777); err != nil {
		return nil, "", err
	}
	_ = os.Chmod(sd, 0o777)
	oh, op := HostPort(origin)
	conf := lines(
		"http_port "+addr+" accel defaultsite="+origin+" vhost",
		"cache_peer "+oh+" parent "+op+" 0 no-query originserver no-digest name=origin",
		"cache_peer_access origin allow all",
		"acl localnet src 127.0.0.0/8",
		"http_access allow localnet",
		"http_access deny all",
		"cache_mem 256 MB",
		"maximum_object_size_in_memory 16 MB",
		"access_log none",
		"cache_store_log none",
		"pid_filename "+sd+"/squid.pid",
		"cache_log "+sd+"/cache.log",
		"coredump_dir "+sd,
		"shutdown_lifetime 1 second",
	)
	p := filepath.Join(sd, "squid.conf")
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		return nil, "", err
	}
	name, args := Pin(cpus, "squid", "-N", "-f", p)
	proc, err := ps.Start(name, args...)
	return proc, conf, err
}

// TrafficServer starts Apache Traffic Server 9 as a reverse proxy from a
// private runroot under dir (runroot.yaml pointing the config, cache, log
// and runtime directories there; binaries and modules from the Debian
// package), configs copied from Debian's /etc/trafficserver (the upstream
// defaults) with these changes, each for a reason:
//   - proxy.config.http.server_ports: our loopback port only.
//   - proxy.config.admin.user_id #-1: stay the user that started it (the
//     temp dir is ours), instead of switching to the trafficserver user;
//     so it runs non-root from a non-root user (checked as nobody, with
//     this runroot) and as root only if started as root.
//   - proxy.config.log.logging_enabled 0: no access logs (as for the others).
//   - storage.config: a 64 MB cache file in the temp dir (the smallest ATS
//     takes comfortably); the RAM cache in front of it is the default.
//   - remap.config: `map / http://<origin>/` — reverse proxy every request
//     to the origin (reverse_proxy.enabled and remap_required are defaults).
//
// Everything about caching is the default (required_headers 2: cache only
// responses with an explicit lifetime; ignore_client_cc_max_age 1).
func TrafficServer(ps *Procs, dir, addr, origin, cpus string) (*Proc, string, error) {
	if _, err := execLook("traffic_server"); err != nil {
		return nil, "", Missing("traffic_server")
	}
	d := filepath.Join(dir, "ats")
	for _, s := range []string{"etc", "cache", "run", "log"} {
		if err := os.MkdirAll(filepath.Join(d, s), 0o755); err != nil {
			return nil, "", err
		}
	}
	cp := exec.Command("cp", "-r", "/etc/trafficserver/.", filepath.Join(d, "etc"))
	if out, err := cp.CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("copying /etc/trafficserver: %v: %s", err, out)
	}
	_, port := HostPort(addr)
	rr := lines(
		"prefix: "+d, "exec_prefix: /usr", "bindir: /usr/bin", "sbindir: /usr/sbin",
		"sysconfdir: "+d+"/etc", "datadir: "+d+"/cache", "includedir: /usr/include",
		"libdir: /usr/lib/trafficserver", "libexecdir: /usr/lib/trafficserver/modules",
		"localstatedir: "+d, "runtimedir: "+d+"/run", "logdir: "+d+"/log", "cachedir: "+d+"/cache",
	)
	records := lines(
		"CONFIG proxy.config.http.server_ports STRING "+port+":ipv4:ip-in=127.0.0.1",
		"CONFIG proxy.config.admin.user_id STRING #-1",
		"CONFIG proxy.config.log.logging_enabled INT 0",
	)
	storage := lines(d + "/cache 64M")
	remap := lines("map / http://" + origin + "/")
	for name, body := range map[string]string{"runroot.yaml": rr, "etc/storage.config": storage, "etc/remap.config": remap} {
		if err := os.WriteFile(filepath.Join(d, name), []byte(body), 0o644); err != nil {
			return nil, "", err
		}
	}
	f, err := os.OpenFile(filepath.Join(d, "etc/records.config"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, "", err
	}
	_, err = f.WriteString(records)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, "", err
	}
	name, args := Pin(cpus, "traffic_server", "--run-root="+filepath.Join(d, "runroot.yaml"))
	proc, err := ps.Start(name, args...)
	conf := "records.config (appended to Debian's defaults):\n" + records + "storage.config:\n" + storage + "remap.config:\n" + remap
	return proc, conf, err
}
