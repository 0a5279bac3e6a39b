# A throwaway PostgreSQL cluster for the hub's tests and demo. Source this file, then:
#   pg_start        installs Debian's postgresql if missing, makes a cluster in a scratch folder
#                   (initdb, trust auth on a Unix socket only, no TCP port), starts it, and exports
#                   YIZHAN_PG_ADMIN_URL (superuser "yizhan", database "postgres")
#   pg_stop         stops it and removes the folder (safe to call twice; run it from a trap)
# initdb refuses to run as root: as root the cluster runs as Debian's "postgres" user.

pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && echo "$dir"
}

pg_install() {
  if pg_bin_dir >/dev/null; then return 0; fi
  echo "installing PostgreSQL from Debian's packages"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  # The package makes and starts a "main" cluster of its own on port 5432; ours is separate, so
  # the one it just made is stopped and removed again.
  if command -v pg_lsclusters >/dev/null; then
    pg_lsclusters -h | while read -r version name _; do
      $sudo pg_dropcluster --stop "$version" "$name" || true
    done
  fi
}

pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  pg_install
  local bin; bin=$(pg_bin_dir)
  PG_SCRATCH=$(mktemp -d /tmp/yizhan-pg.XXXXXX)
  export PG_SCRATCH
  chmod 755 "$PG_SCRATCH"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_SCRATCH"
  pg_as_owner "$bin/initdb" -D "$PG_SCRATCH/data" -U yizhan --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_SCRATCH/initdb.log" 2>&1 \
    || { cat "$PG_SCRATCH/initdb.log" >&2; return 1; }
  # Trust on a socket only its owner (and root) can open: nobody else on the machine gets in.
  # fsync stays on (the bench measures the real thing); enough connections for parallel tests.
  pg_as_owner "$bin/pg_ctl" -D "$PG_SCRATCH/data" -l "$PG_SCRATCH/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $PG_SCRATCH -c unix_socket_permissions=0700 -c max_connections=200 -c shared_buffers=128MB" start >/dev/null \
    || { cat "$PG_SCRATCH/server.log" >&2; return 1; }
  export YIZHAN_PG_ADMIN_URL="postgres://yizhan@localhost/postgres?host=$PG_SCRATCH"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') running in $PG_SCRATCH"
}

pg_stop() {
  [ -n "${PG_SCRATCH:-}" ] && [ -d "$PG_SCRATCH" ] || return 0
  pg_as_owner "$(pg_bin_dir)/pg_ctl" -D "$PG_SCRATCH/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_SCRATCH"
  unset PG_SCRATCH YIZHAN_PG_ADMIN_URL
}
