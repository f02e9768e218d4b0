#!/usr/bin/env bash
# Floods `agentauth serve`, run under a 256-descriptor limit, with three times as many idle
# connections, TRIALS times (default 20), each on a fresh server: it must never crash, must keep
# serving the connections it holds, and must answer /healthz as soon as the flood closes.
# `swift test` runs the same test with 2 trials (Tests/agentauthTests/DescriptorExhaustionTests).
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-20}
start=$(date +%s)
AGENTAUTH_FD_TRIALS=$trials swift test --filter 'DescriptorExhaustionTests/flood'
echo "fd-exhaustion: $trials trials passed in $(( $(date +%s) - start )) s"
