#!/usr/bin/env bash
# Take down what .ci/slurm-up.sh started: cancel jobs, stop slurmd, slurmctld and munged.
set -uo pipefail
scancel --user root >/dev/null 2>&1 || true
for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
    [ -s "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done
echo "slurm-down: stopped"
