# Sourced by the benchmark scripts: a work directory, the servers they start, removed and
# stopped on exit, and waiting for a URL to answer. Sets WORK (a new temp dir named after $1)
# and PIDS (append the pid of each process started).
WORK=$(mktemp -d "/tmp/${1:-agentauth-bench}.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

wait_for() { # url [expected-status]
    for _ in $(seq 1 400); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = "${2:-200}" ]; then return 0; fi
        sleep 0.05
    done
    echo "timed out waiting for $1" >&2
    exit 1
}
