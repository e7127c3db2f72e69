#!/usr/bin/env bash
# Installs the Debian packages the local platform runs (HAProxy, Prometheus, nftables) when missing,
# wrk, the HTTP load tool `make bench` measures the fault proxy with, etcd (Patroni's DCS) and
# python3-venv (Patroni runs from a venv of Debian's Python, which the database user can read), and
# the edge's WAF and cache: nginx-light with the ModSecurity connector and the OWASP Core Rule Set.
# Never fails the set-up: where it cannot install, it says what is missing and what that disables.
set -u
want=()
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || want+=(haproxy)
command -v prometheus >/dev/null 2>&1 || [ -x /usr/bin/prometheus ] || want+=(prometheus)
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || want+=(nftables)
command -v wrk >/dev/null 2>&1 || want+=(wrk)
# game-day mode is tested as an operator drives it: in a tmux pane (tests/runs/test_gameday_mode_tmux.py)
command -v tmux >/dev/null 2>&1 || want+=(tmux)
command -v etcd >/dev/null 2>&1 || want+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || want+=(etcd-client)
[ -x /usr/sbin/nginx ] || want+=(nginx-light)
[ -e /usr/share/nginx/modules-available/mod-http-modsecurity.conf ] || [ -e /usr/lib/nginx/modules/ngx_http_modsecurity_module.so ] || want+=(libnginx-mod-http-modsecurity)
[ -d /usr/share/modsecurity-crs/rules ] || want+=(modsecurity-crs)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1 || want+=(python3-venv)
# PostgreSQL refuses to run as root: the database members run as unprivileged users, one per
# region (a region isolation tells the region's own traffic by its user) and one for the witness.
for DB_USER in gameday-db gameday-db-a gameday-db-b; do
  id "$DB_USER" >/dev/null 2>&1 && continue
  if [ "$(id -u)" -eq 0 ]; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$DB_USER" && echo "system user: created $DB_USER"
  elif command -v sudo >/dev/null 2>&1; then
    sudo useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$DB_USER" && echo "system user: created $DB_USER"
  else
    echo "system user: cannot create $DB_USER (not root, no sudo); the rag stack's database cannot start" >&2
  fi
done
if [ ${#want[@]} -eq 0 ]; then
  echo "system packages: haproxy, prometheus, nftables, wrk, etcd, python3-venv, nginx + ModSecurity + CRS present"
  exit 0
fi
echo "system packages: installing ${want[*]}"
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "system packages: cannot install ${want[*]} (not root, no sudo)." >&2
  echo "  install them yourself: apt-get install ${want[*]}" >&2
  echo "  without haproxy or nginx the local platform cannot start; without nftables isolation falls back to the fault proxy;" >&2
  echo "  without wrk, make bench measures the fault proxy with its own (slower) Python client" >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null; }; then
  echo "system packages: apt-get could not install ${want[*]}; install them by hand" >&2
fi
# Debian starts the services it installs where systemd runs; the harness runs its own copies.
for svc in haproxy prometheus etcd nginx; do
  command -v systemctl >/dev/null 2>&1 && $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
exit 0
