#!/usr/bin/env bash
# Runs the whole system locally: PostgreSQL, Redis, RabbitMQ and the six services, behind the
# gateway on http://127.0.0.1:8080. Options go to the AppHost, e.g. ./run.sh --fresh --gateway-port 9000
set -euo pipefail
cd "$(dirname "$0")"
scripts/prerequisites.sh
exec dotnet run --project VoiceKraliki.AppHost -- run "$@"
