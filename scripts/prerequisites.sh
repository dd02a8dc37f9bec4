#!/usr/bin/env bash
# Installs what VoiceKraliki needs on a Debian 12 machine and is missing: the servers the AppHost and
# the tests start themselves (PostgreSQL, Redis, RabbitMQ), and the tools the tests use.
# Safe to run again: it installs nothing that is already there.
set -euo pipefail

missing=()
need() { # need <debian package> <file that proves it is installed>
  if [[ ! -e "$2" ]]; then missing+=("$1"); fi
}

need postgresql         /usr/lib/postgresql/15/bin/postgres
need redis-server       /usr/bin/redis-server
need rabbitmq-server    /usr/lib/rabbitmq/bin/rabbitmq-server
need util-linux         /usr/bin/setpriv
need procps             /usr/bin/pgrep
need curl               /usr/bin/curl
need sox                /usr/bin/sox
need espeak-ng          /usr/bin/espeak-ng
need python3            /usr/bin/python3

if ((${#missing[@]})); then
  echo "Installing missing packages: ${missing[*]}"
  if [[ $EUID -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian starts the servers it installs as system services where it can; ours are started per
# AppHost and per test run on free ports, so a system instance only costs memory: stop one that is
# listening on its default port. (Probing the port, not `service … status`: rabbitmq's status
# command itself starts a stray epmd daemon.)
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for pair in postgresql:5432 redis-server:6379 rabbitmq-server:5672; do
  service_name=${pair%%:*} port=${pair##*:}
  if listening "$port" && command -v service >/dev/null 2>&1; then
    service "$service_name" stop >/dev/null 2>&1 || true
  fi
done

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET 10 SDK (dotnet) is not on PATH; install it first: https://dotnet.microsoft.com/download" >&2
  exit 1
fi
