#!/bin/sh
# mariadb-install-db on first start, then mariadbd on every interface with an
# init file (0600, in the container's /tmp) that gives root its password from
# the environment: no password on a command line.
set -eu
: "${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD is required}"
data=/var/lib/mysql/data
sql_string() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g"; }
if [ ! -d "$data/mysql" ]; then
  mariadb-install-db --no-defaults --datadir="$data" --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null
fi
init=$(mktemp)
chmod 600 "$init"
pw=$(sql_string "$MARIADB_ROOT_PASSWORD")
# (printf, not echo: dash's echo would read the password's backslashes)
{
  printf '%s\n' "CREATE USER IF NOT EXISTS 'root'@'%';"
  printf '%s\n' "ALTER USER 'root'@'%' IDENTIFIED BY '$pw';"
  printf '%s\n' "ALTER USER 'root'@'localhost' IDENTIFIED BY '$pw';"
  printf '%s\n' "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
  if [ -n "${MARIADB_DATABASE:-}" ]; then printf '%s\n' "CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"; fi
} >"$init"
exec mariadbd --no-defaults --datadir="$data" --bind-address=0.0.0.0 --port=3306 \
  --socket=/tmp/mysqld.sock --skip-name-resolve --init-file="$init"
