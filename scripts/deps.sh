#!/usr/bin/env bash
# Installs everything crm-hygiene needs to build, run and test, from Debian 12 packages only.
# Idempotent: skips apt entirely when every package is already installed.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libsoci-dev libsqlite3-dev libmariadb-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev doctest-dev libsystemd-dev
  libhowardhinnant-date-dev nlohmann-json3-dev tzdata libicu-dev libphonenumber-dev
  libprotobuf-dev libabsl-dev
  libxxhash-dev  # XXH3-128, header-only: the dedup sweep cache's hash of each contact's raw values
  libcairo2-dev libcurl4-openssl-dev python3-aiosmtpd
  file        # cpack DEB: dpkg-shlibdeps needs it to compute Depends (tests/package_test.py)
  sqlite3 mariadb-server mariadb-client python3 python3-croniter systemd
  prometheus  # promtool: tests check /metrics and config/alerts.yml
  galera-4    # tests/galera_test.py (mariadb-server depends on it already; named for clarity)
  chromium    # tests/browser_test.py: the archived digest screenshotted in headless Chromium
  fonts-wqy-microhei fonts-sil-abyssinica  # CJK and Ethiopic names of the demo in that screenshot
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # A package's postinst may try to start a service (mariadb); we start our own, so forbid it.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
