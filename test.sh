#!/usr/bin/env bash
# Builds everything and runs every test project against real PostgreSQL, Redis and RabbitMQ that the
# test fixtures start themselves. Ends with one line: "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")"

scripts/prerequisites.sh || exit 1

results=.test-results
rm -rf "$results"
mkdir -p "$results"

if ! dotnet build VoiceKraliki.sln -c Debug -warnaserror -nologo -clp:NoSummary -v:q; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

projects=(tests/*/*.csproj)
test_exit=0
for project in "${projects[@]}"; do
  name=$(basename "$project" .csproj)
  echo "=== $name"
  # One project at a time: several of them start PostgreSQL, Redis and RabbitMQ, on 2 cores.
  if ! dotnet test "$project" -c Debug --no-build --nologo \
      --results-directory "$results" \
      --logger "trx;LogFileName=$name.trx" \
      --logger "console;verbosity=normal" \
      --blame-hang-timeout 15m \
      "$@"; then
    test_exit=1
  fi
done

passed=0 failed=0 skipped=0 reports=0
for trx in "$results"/*.trx; do
  [[ -e "$trx" ]] || continue
  reports=$((reports + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  value() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  total=$(value total); p=$(value passed)
  f=$(( $(value failed) + $(value error) + $(value timeout) + $(value aborted) ))
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + total - p - f))
done

# A test project that produced no report crashed or never ran: count it as a failure.
if ((reports < ${#projects[@]})); then
  echo "${#projects[@]} test projects, but only $reports test reports" >&2
  failed=$((failed + ${#projects[@]} - reports))
fi
if ((test_exit != 0 && failed == 0)); then
  failed=1
fi

line="$passed passed, $failed failed"
if ((skipped > 0)); then line="$line, $skipped skipped"; fi
echo "$line"
((failed == 0))
