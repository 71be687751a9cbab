#!/usr/bin/env bash
# A one-node SLURM cluster in a directory, for trying `irg scan … --slurm` and for the tests:
#   scripts/slurm-local.sh start <dir>   write <dir>/slurm.conf, start munged, slurmctld and slurmd
#   scripts/slurm-local.sh stop <dir>    stop them by their pid files
# Needs Debian's slurm-wlm and munge (apt-get install -y --no-install-recommends slurm-wlm munge) and
# root (the daemons run as root here; no systemd). Prints the SLURM_CONF to export; the node advertises
# twice the cores so that small test tasks can run side by side.
set -euo pipefail
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop <dir>" >&2; exit 2; }
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)

alive() { # a pid file whose process runs (not a zombie: PID 1 here does not reap)
  [ -f "$1" ] || return 1
  local pid state
  pid=$(cat "$1")
  state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
  [ -n "$state" ] && [ "${state:0:1}" != "Z" ]
}

stop() {
  SLURM_CONF="$dir/slurm.conf" timeout 5 scontrol shutdown >/dev/null 2>&1 || true
  for name in slurmd slurmctld munged; do
    if alive "$dir/$name.pid"; then
      kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
      for _ in $(seq 50); do alive "$dir/$name.pid" || break; sleep 0.1; done
      alive "$dir/$name.pid" && kill -9 "$(cat "$dir/$name.pid")" 2>/dev/null || true
    fi
    rm -f "$dir/$name.pid"
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop <dir>" >&2; exit 2; }
for b in munged slurmctld slurmd sbatch squeue scontrol; do
  command -v "$b" >/dev/null || { echo "$b not found: install slurm-wlm and munge (apt-get install -y --no-install-recommends slurm-wlm munge)" >&2; exit 3; }
done
[ "$(id -u)" = 0 ] || { echo "the one-node cluster runs its daemons as root; run as root" >&2; exit 3; }
stop
host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024) - 512}' /proc/meminfo)
mkdir -p "$dir/state" "$dir/spool" "$dir/log" /run/munge
[ -f /etc/munge/munge.key ] || { echo "/etc/munge/munge.key is missing (reinstall munge)" >&2; exit 3; }
cat > "$dir/slurm.conf" <<EOF
ClusterName=irg-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=5
MinJobAge=30
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
NodeName=$host NodeAddr=127.0.0.1 CPUs=$((2 * cpus)) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
munged --force --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge.seed"
export SLURM_CONF="$dir/slurm.conf"
slurmctld -i
slurmd
for _ in $(seq 100); do
  if timeout 3 sinfo -h -o "%t" 2>/dev/null | grep -q "idle"; then
    echo "export SLURM_CONF=$dir/slurm.conf"
    exit 0
  fi
  sleep 0.2
done
echo "the node did not become idle in 20 s; see $dir/log" >&2
stop
exit 4
