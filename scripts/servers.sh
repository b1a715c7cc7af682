# shellcheck shell=bash
# Sourced by scripts/test and scripts/bench: installs (as root, with apt) and
# starts on free loopback ports, in a fresh temp dir, one redis-server (no
# persistence), a three-master Redis Cluster, and a PostgreSQL primary with
# one streaming replica made by pg_basebackup -R. Exports LADDER_REDIS_ADDR,
# LADDER_REDIS_CLUSTER (comma-separated seed addresses), LADDER_PG_PRIMARY,
# LADDER_PG_REPLICA. servers_stop (run from an EXIT trap) stops them all and
# removes the temp dir. It also installs promtool (Debian prometheus) and
# chromium for observe's SLO-rules and status-page tests.

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'scripts: %s\n' "$*" >&2; exit 1; }

pg_bindir() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_basebackup" ] && { echo "$d"; return 0; }
	done
	return 1
}

# install_if_missing CMD-CHECK PACKAGE...: apt-get install the packages when
# the check fails; when not root, fail naming them.
apt_updated=
install_if_missing() {
	local check=$1; shift
	if eval "$check" >/dev/null 2>&1; then return 0; fi
	if [ "$(id -u)" != 0 ]; then
		die "missing $*: install the Debian package(s) '$*' (apt-get install $*), or run this script as root to install them"
	fi
	log "installing $* with apt-get"
	if [ -z "$apt_updated" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed; cannot install $*"
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
		|| die "apt-get install $* failed"
	eval "$check" >/dev/null 2>&1 || die "installed $* but the check '$check' still fails"
}

# Ports are drawn below the kernel's ephemeral range (ip_local_port_range), where
# no outgoing connection can be holding one as its source port: such a port looks
# free to a connect probe, yet the server's bind fails. Cluster nodes also need
# their bus port (+10000) there.
ephemeral_low() {
	local lo; lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	echo "${lo:-32768}"
}

# free_port [LIMIT] prints a TCP port on 127.0.0.1 below LIMIT (default: the
# ephemeral range) that nothing listens on.
free_port() {
	local p i limit=${1:-$(ephemeral_low)}
	for i in $(seq 1 200); do
		p=$(( (RANDOM % (limit - 12000)) + 12000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
	done
	die "no free loopback port found"
}

# free_cluster_port prints a port that is free with its cluster bus port (+10000).
free_cluster_port() {
	local p i
	for i in $(seq 1 200); do
		p=$(free_port $(( $(ephemeral_low) - 10000 )))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 10000))") 2>/dev/null; then echo "$p"; return 0; fi
	done
	die "no free loopback port pair for a Redis Cluster node"
}

# node_up PORT: a redis-server on PORT answers PING for 0.3 s after it first does
# (up to 5 s in all).
node_up() {
	local i ok=0
	for i in $(seq 1 100); do
		if [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; then
			ok=$((ok + 1))
			[ "$ok" -ge 6 ] && return 0
		elif [ "$ok" -gt 0 ]; then
			return 1 # answered, then died
		fi
		sleep 0.05
	done
	return 1
}

# start_redis_cluster DIR: three masters (no replicas, no persistence) on
# loopback, slots spread by redis-cli --cluster create; waits for cluster_state:ok.
start_redis_cluster() {
	local d=$1 p ports=() addrs=()
	local try
	for _ in 1 2 3; do
		for try in 1 2 3 4 5; do
			p=$(free_cluster_port)
			while printf '%s\n' "${ports[@]}" | grep -qx "$p"; do p=$(free_cluster_port); done
			redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no \
				--cluster-enabled yes --cluster-config-file "$d/redis-cluster-$p.nodes" --cluster-node-timeout 5000 \
				--dir "$d" --daemonize yes --pidfile "$d/redis-cluster-$p.pid" --logfile "$d/redis-cluster-$p.log" \
				|| die "redis-server (cluster node $p) did not start"
			# A node opens its port before its bus port and exits if the bus port is
			# taken: it counts as up only once it answers PING after that.
			if node_up "$p"; then break; fi
			log "cluster node on $p did not stay up (try $try): $(tail -3 "$d/redis-cluster-$p.log" 2>/dev/null)"
			[ -f "$d/redis-cluster-$p.pid" ] && kill "$(cat "$d/redis-cluster-$p.pid")" 2>/dev/null
			rm -f "$d/redis-cluster-$p.pid"
			[ "$try" = 5 ] && die "no Redis Cluster node would start: $(tail -20 "$d/redis-cluster-$p.log" 2>/dev/null)"
		done
		ports+=("$p"); addrs+=("127.0.0.1:$p")
	done
	redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$d/redis-cluster-create.log" 2>&1 \
		|| die "redis-cli --cluster create failed: $(tail -20 "$d/redis-cluster-create.log")"
	local state=
	for _ in $(seq 1 200); do
		state=ok
		for p in "${ports[@]}"; do
			redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || state=
		done
		[ -n "$state" ] && break
		sleep 0.05
	done
	[ -n "$state" ] || die "the Redis Cluster did not reach cluster_state:ok: $(redis-cli -p "${ports[0]}" cluster info 2>&1 | head -5)"
	LADDER_REDIS_CLUSTER=$(IFS=,; echo "${addrs[*]}")
	export LADDER_REDIS_CLUSTER
	log "Redis Cluster (3 masters) on $LADDER_REDIS_CLUSTER"
}

# as_pg runs a command as the postgres user when we are root (initdb refuses root).
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

SERVERS_DIR=
servers_stop() {
	[ -n "$SERVERS_DIR" ] || return 0
	local d=$SERVERS_DIR
	SERVERS_DIR=
	if [ -n "${PGBIN:-}" ]; then
		for c in replica primary; do
			[ -f "$d/pg/$c/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d/pg/$c" -m immediate -w stop >/dev/null 2>&1
		done
	fi
	local pid f
	for f in "$d"/redis*.pid; do
		pid=$(cat "$f" 2>/dev/null || true)
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	done
	rm -rf "$d"
	log "servers stopped, $d removed"
}

servers_start() {
	install_if_missing "command -v redis-server" redis-server
	install_if_missing "command -v redis-cli" redis-tools
	install_if_missing "pg_bindir" postgresql
	# testenv.PgBouncer: adapters prove they work through transaction pooling.
	install_if_missing "command -v pgbouncer || test -x /usr/sbin/pgbouncer" pgbouncer
	# observe: promtool checks the generated SLO rules; headless Chromium loads the
	# status page (no recommended packages: no fonts beyond what chromium needs).
	install_if_missing "command -v promtool" prometheus
	install_if_missing "command -v chromium" chromium
	PGBIN=$(pg_bindir)

	SERVERS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ladder-servers.XXXXXX")
	chmod 755 "$SERVERS_DIR"
	local d=$SERVERS_DIR

	local rport; rport=$(free_port)
	redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$d" --daemonize yes --pidfile "$d/redis.pid" --logfile "$d/redis.log" \
		|| die "redis-server did not start (log: $d/redis.log)"
	for _ in $(seq 1 100); do
		[ -s "$d/redis.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$rport") 2>/dev/null && break; sleep 0.05
	done
	(exec 3<>"/dev/tcp/127.0.0.1/$rport") 2>/dev/null || die "redis-server is not listening on $rport: $(cat "$d/redis.log")"
	export LADDER_REDIS_ADDR="127.0.0.1:$rport"
	log "redis-server on $LADDER_REDIS_ADDR"
	start_redis_cluster "$d"

	local pport sport
	pport=$(free_port)
	sport=$(free_port)
	while [ "$sport" = "$pport" ]; do sport=$(free_port); done
	# Everything PostgreSQL writes lives under $d/pg, owned by the server's user.
	mkdir -p "$d/pg/primary" "$d/pg/sock"
	if [ "$(id -u)" = 0 ]; then chown -R postgres: "$d/pg"; fi
	chmod 700 "$d/pg/primary"
	as_pg "$PGBIN/initdb" -D "$d/pg/primary" -U postgres --auth=trust -E UTF8 --no-sync >"$d/pg/initdb.log" 2>&1 \
		|| die "initdb failed: $(cat "$d/pg/initdb.log")"
	cat >>"$d/pg/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pport
unix_socket_directories = '$d/pg/sock'
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
full_page_writes = off
max_connections = 300
shared_buffers = 64MB
CONF
	as_pg "$PGBIN/pg_ctl" -D "$d/pg/primary" -l "$d/pg/primary.log" -w -t 60 start >/dev/null \
		|| die "PostgreSQL primary did not start: $(tail -20 "$d/pg/primary.log")"
	as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$pport" -U postgres -D "$d/pg/replica" -R -X stream -c fast \
		>"$d/pg/basebackup.log" 2>&1 || die "pg_basebackup failed: $(cat "$d/pg/basebackup.log")"
	echo "port = $sport" >>"$d/pg/replica/postgresql.conf"
	as_pg "$PGBIN/pg_ctl" -D "$d/pg/replica" -l "$d/pg/replica.log" -w -t 60 start >/dev/null \
		|| die "PostgreSQL replica did not start: $(tail -20 "$d/pg/replica.log")"
	local streaming=0
	for _ in $(seq 1 300); do
		streaming=$(as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$pport" -U postgres -d postgres -Atc \
			"SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null || echo 0)
		[ "$streaming" = 1 ] && break
		sleep 0.1
	done
	[ "$streaming" = 1 ] || die "the replica is not streaming: $(tail -20 "$d/pg/replica.log")"
	export LADDER_PG_PRIMARY="postgres://postgres@127.0.0.1:$pport/postgres?sslmode=disable"
	export LADDER_PG_REPLICA="postgres://postgres@127.0.0.1:$sport/postgres?sslmode=disable"
	log "PostgreSQL primary on 127.0.0.1:$pport, streaming replica on 127.0.0.1:$sport"
}
