#!/usr/bin/env bash
# Bring up a single-node SLURM on this machine (as root): munge + slurmctld + slurmd, no accounting.
# Used by .ci/run for the SLURM end-to-end test; .ci/slurm-down.sh takes it down again.
# Idempotent: installs the Debian packages only when missing, rewrites /etc/slurm/slurm.conf, and
# restarts the daemons. The config lives at /etc/slurm/slurm.conf because the job step that the
# snakemake slurm executor starts does not pass SLURM_CONF on.
#   CPUS (default: nproc) and REAL_MEMORY_MB (default: 85 % of MemTotal) size the node.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "slurm-up: must run as root" >&2; exit 1; }

need=()
for cmd in munged slurmctld slurmd sbatch; do command -v "$cmd" >/dev/null || need+=("$cmd"); done
if [ "${#need[@]}" -gt 0 ]; then
    echo "slurm-up: installing slurmctld slurmd slurm-client munge (missing: ${need[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

NODE="$(hostname -s)"
CPUS="${CPUS:-$(nproc)}"
MEM_KB="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
REAL_MEMORY_MB="${REAL_MEMORY_MB:-$(( MEM_KB * 85 / 100 / 1024 ))}"
STATE=/var/spool/slurmctld
SPOOL=/var/spool/slurmd
LOGDIR=/var/log/slurm
mkdir -p /etc/slurm "$STATE" "$SPOOL" "$LOGDIR" /run/munge /var/log/munge /var/lib/munge

# munge: a key (the Debian package makes one; a bare image may not have it), then the daemon.
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
chmod 0700 /etc/munge && chmod 0400 /etc/munge/munge.key
if ! munge -n >/dev/null 2>&1 </dev/null; then
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n | unmunge >/dev/null

cat > /etc/slurm/slurm.conf <<CONF
# Written by belimap .ci/slurm-up.sh: one node, no accounting, no cgroups.
ClusterName=belimap-ci
SlurmctldHost=${NODE}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
ReturnToService=2
StateSaveLocation=${STATE}
SlurmdSpoolDir=${SPOOL}
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=${LOGDIR}/slurmctld.log
SlurmdLogFile=${LOGDIR}/slurmd.log
SchedulerParameters=sched_interval=2
MinJobAge=300
KillWait=5
NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${REAL_MEMORY_MB} State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

# (Re)start the daemons with a clean state: a previous run's jobs are not wanted.
for pidfile in /run/slurmd.pid /run/slurmctld.pid; do
    if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        kill "$(cat "$pidfile")"
        for _ in $(seq 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
    fi
done
rm -rf "${STATE:?}"/* "${SPOOL:?}"/*
slurmctld -c
slurmd -c

for _ in $(seq 120); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
        echo "slurm-up: node ${NODE} up (${CPUS} CPUs, ${REAL_MEMORY_MB} MB)"
        sinfo
        exit 0
    fi
    sleep 0.5
done
echo "slurm-up: the node did not come up; logs:" >&2
tail -n 30 "$LOGDIR/slurmctld.log" "$LOGDIR/slurmd.log" >&2 || true
exit 1
