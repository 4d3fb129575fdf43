#!/usr/bin/env bash
# A private MariaDB for the tests: `tests/mariadb.sh start DIR` prints the socket path;
# `tests/mariadb.sh stop DIR` stops it. Unix socket only (--port=0 would still bind 3306), utf8mb4
# (the server default is latin1 and "Nguyễn" would not fit), root over the socket.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?directory}
sock="$dir/mysqld.sock"
case "$cmd" in
start)
  mkdir -p "$dir"
  if [ ! -d "$dir/data/mysql" ]; then
    mariadb-install-db --no-defaults --user=root --datadir="$dir/data" --skip-test-db \
      --auth-root-authentication-method=socket >"$dir/install.log" 2>&1 ||
      { cat "$dir/install.log" >&2; exit 1; }
  fi
  mariadbd --no-defaults --user=root --datadir="$dir/data" --socket="$sock" --skip-networking \
    --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 --skip-log-bin \
    --max-connections=500 >/dev/null 2>&1 &
  for _ in $(seq 1 120); do
    if mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1; then
      echo "$sock"
      exit 0
    fi
    sleep 0.25
  done
  echo "mariadb did not start; its log:" >&2
  cat "$dir/error.log" >&2 || true
  exit 1
  ;;
stop)
  if [ -f "$dir/mysqld.pid" ]; then
    mariadb-admin --no-defaults --socket="$sock" -uroot shutdown >/dev/null 2>&1 ||
      kill "$(cat "$dir/mysqld.pid")" 2>/dev/null || true
  fi
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
