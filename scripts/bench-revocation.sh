#!/usr/bin/env bash
# Confirmed revocation on loopback: how long a key revocation takes to answer when two
# example-agent-api verifiers (release builds, default settings: API-key cache on) must
# acknowledge it first.
#
# Starts the auth server on a new SQLite database in a temp dir and two example-agent-api
# verifiers, makes --keys API keys (default 200), uses each once at both APIs (so each is cached
# there), then revokes them one after another through the admin API and records, per revocation,
# the answer's wall time (curl) and the server's own `propagation.waited_ms`. Every answer must
# say `confirmed: 2, pending: []`, and the key must be refused at both APIs right after; the
# script fails otherwise. Prints p50, p90, p99 and max.
#
# Usage: scripts/bench-revocation.sh [--keys N]
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS=200
while [ $# -gt 0 ]; do
    case "$1" in
    --keys) KEYS=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

AUTH_PORT=19180
API_PORTS=(19181 19182)

for tool in jq curl python3; do
    command -v $tool >/dev/null || { echo "bench-revocation needs $tool" >&2; exit 1; }
done

echo "== building release binaries"
# SwiftPM keeps the build plan of a path dependency (the root package) and does not notice
# source files added to it since; dropping the plan makes it look again (compiling stays incremental).
rm -f Benchmarks/.build/release.yaml Benchmarks/.build/*/release/description.json
for product in agentauth example-agent-api; do
    swift build -c release --package-path Benchmarks --product $product 2>&1 | grep -E "error|Build complete" || true
done
BIN=$(swift build -c release --package-path Benchmarks --show-bin-path)

# shellcheck source=lib/bench-processes.sh
source scripts/lib/bench-processes.sh agentauth-bench-revocation
DB=$WORK/auth.sqlite

AUTH=http://127.0.0.1:$AUTH_PORT
cli() { "$BIN/agentauth" "$@" --database "$DB"; }
cli init --json >"$WORK/init.json"
ADMIN=$(jq -r .admin_key "$WORK/init.json")
AGENT=$(cli agents create revoked-agent --json | jq -r .id)
GATEWAY=$(cli agents create example-api --json | jq -r .id)
INTROSPECT_KEY=$(cli keys create "$GATEWAY" --scope introspect --json | jq -r .key)

"$BIN/agentauth" serve --database "$DB" --port $AUTH_PORT --issuer "$AUTH" --log-level warning >"$WORK/auth.log" 2>&1 &
PIDS+=($!)
wait_for "$AUTH/healthz"
for index in 0 1; do
    "$BIN/example-agent-api" --auth-server "$AUTH" --port "${API_PORTS[$index]}" --introspection-key "$INTROSPECT_KEY" \
        --verifier-name "bench-api-$index" --log-level warning >"$WORK/api-$index.log" 2>&1 &
    PIDS+=($!)
done
for port in "${API_PORTS[@]}"; do wait_for "http://127.0.0.1:$port/readyz"; done

echo "== $KEYS keys, each cached at both APIs"
: >"$WORK/keys"
for _ in $(seq 1 "$KEYS"); do
    created=$(curl -s -X POST "$AUTH/admin/agents/$AGENT/keys" -H "X-API-Key: $ADMIN" -H 'Content-Type: application/json' \
        -d '{"scopes":["conversations:read"]}')
    id=$(echo "$created" | jq -r .id)
    key=$(echo "$created" | jq -r .key)
    for port in "${API_PORTS[@]}"; do
        status=$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $key" "http://127.0.0.1:$port/v1/conversations")
        [ "$status" = 200 ] || { echo "a new key got $status at :$port" >&2; exit 1; }
    done
    echo "$id $key" >>"$WORK/keys"
done

echo "== revoking them one after another"
: >"$WORK/times"
while read -r id key; do
    answer=$(curl -s -X POST "$AUTH/admin/keys/$id/revoke" -H "X-API-Key: $ADMIN" -w '\n%{time_total}')
    total=${answer##*$'\n'}
    body=${answer%$'\n'*}
    confirmed=$(echo "$body" | jq -r '.propagation.confirmed')
    pending=$(echo "$body" | jq -r '.propagation.pending | length')
    waited=$(echo "$body" | jq -r '.propagation.waited_ms')
    if [ "$confirmed" != 2 ] || [ "$pending" != 0 ]; then
        echo "revocation of $id not confirmed by both verifiers: $body" >&2
        exit 1
    fi
    for port in "${API_PORTS[@]}"; do
        status=$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $key" "http://127.0.0.1:$port/v1/conversations")
        [ "$status" = 401 ] || { echo "a confirmed revoked key got $status at :$port" >&2; exit 1; }
    done
    echo "$total $waited" >>"$WORK/times"
done <"$WORK/keys"

python3 - "$WORK/times" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
wall = sorted(float(total) * 1000 for total, _ in rows)
waited = sorted(int(w) for _, w in rows)
def pct(values, p):
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
print(f"{len(rows)} revocations, each confirmed by 2 verifiers and refused at both right after")
print("| | p50 | p90 | p99 | max |")
print("| --- | --- | --- | --- | --- |")
print(f"| answer (wall, ms) | {pct(wall, 50):.1f} | {pct(wall, 90):.1f} | {pct(wall, 99):.1f} | {wall[-1]:.1f} |")
print(f"| waited for the verifiers (waited_ms) | {pct(waited, 50)} | {pct(waited, 90)} | {pct(waited, 99)} | {waited[-1]} |")
PY
