#!/usr/bin/env bash
# README command 2: install what the tests need, build, start a private MariaDB, run every test
# (unit + integration against SQLite and MariaDB + systemd tooling + calendar differential).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
preset=${CRMH_PRESET:-ci}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
db_dir=$(mktemp -d /tmp/crmh-mariadb.XXXXXX)
trap 'tests/mariadb.sh stop "$db_dir"; rm -rf "$db_dir"' EXIT
sock=$(tests/mariadb.sh start "$db_dir")
export CRMH_TEST_MYSQL_SOCKET="$sock"
export CRMH_REQUIRE_MARIADB=1   # a test that cannot reach MariaDB fails instead of skipping
ctest --preset "$preset" -j2 "$@"
