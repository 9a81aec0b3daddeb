#!/usr/bin/env bash
# `make demo`: snapkeeper's main job on a workstation, with nothing to set up.
# Starts a throwaway PostgreSQL (a private cluster in a temporary directory,
# 127.0.0.1, a free port) with a little sample data, backs it up with
# `snapkeeper backup` into ./backups (the embedded default storage, a local
# directory), lists what is there, and stops the server.
#
# The demo cluster trusts local TCP connections for its own `demo` user, so
# no password exists anywhere (none on a command line, none in a file).
# Needs: `npm run build` (dist/cli.js) and PostgreSQL's server package
# (Debian `postgresql`; test/env/provision.sh apt installs it).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { printf '[demo] %s\n' "$*" >&2; }
[ -f dist/cli.js ] || { log "dist/cli.js is missing: run npm run build (or make demo)"; exit 1; }

bindir=${SNAPKEEPER_PG_BINDIR:-}
if [ -z "$bindir" ]; then
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [ -x "$d/initdb" ]; then bindir=$d; break; fi
  done
fi
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] ||
  { log "no PostgreSQL server found (initdb): run test/env/provision.sh apt"; exit 1; }

# PostgreSQL refuses to run as root: as root, run it as the package's user.
as=()
if [ "$(id -u)" -eq 0 ]; then as=(runuser -u postgres --); fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/snapkeeper-demo-XXXXXX")
[ ${#as[@]} -eq 0 ] || chown postgres: "$dir"
pgctl() { "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" "$@"; }
cleanup() {
  pgctl stop -m fast >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

log "starting PostgreSQL ($("$bindir/postgres" --version)) on 127.0.0.1:$port"
"${as[@]}" "$bindir/initdb" -D "$dir/data" -U demo --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >/dev/null
pgctl -w -l "$dir/postgres.log" -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null

psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U demo "$@"; }
psql -d postgres -c 'CREATE DATABASE shop'
psql -d shop <<'SQL'
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE);
CREATE TABLE orders (
  id serial PRIMARY KEY,
  customer_id int NOT NULL REFERENCES customers (id),
  total numeric(10, 2) NOT NULL,
  placed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO customers (name, email)
  SELECT 'customer ' || i, 'customer' || i || '@example.com' FROM generate_series(1, 200) AS i;
INSERT INTO orders (customer_id, total, placed_at)
  SELECT 1 + (i % 200), round((random() * 500)::numeric, 2), now() - i * interval '1 hour'
  FROM generate_series(1, 5000) AS i;
SQL
log "sample data: $(psql -d shop -At -c 'SELECT count(*) FROM customers') customers, $(psql -d shop -At -c 'SELECT count(*) FROM orders') orders"

log "snapkeeper backup postgresql://demo@127.0.0.1:$port/shop --to ./backups --name demo/shop"
node dist/cli.js backup "postgresql://demo@127.0.0.1:$port/shop" --to ./backups --name demo/shop

log "snapkeeper list --from ./backups"
node dist/cli.js list --from ./backups

dump=$(ls -t backups/demo/shop/*/shop.sql.gz | head -n 1)
gunzip -t "$dump"
log "$dump is plain gzip'd SQL: zcat $dump | less"
