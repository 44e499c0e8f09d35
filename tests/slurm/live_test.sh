#!/usr/bin/env bash
# Live test of profiles/slurm: start a real one-node Slurm cluster on this machine (munged, slurmctld,
# slurmd), run presets/smoke.yaml through `snakemake --profile slurm` in a scratch copy of the repository,
# check that every non-local job went through Slurm as the profile asks, and that results/metrics.csv
# equals a local `--cores N` run's. Stops exactly the daemons it started, also on failure.
#
# Usage (as root, Debian/Ubuntu): tests/slurm/live_test.sh
#   PYTHON=/path/to/python    environment with robustxlt[train,workflow,cluster] (default: .venv, python3)
#   KEEP=1                    keep the scratch directory after a passing run (kept after a failure)
#   ROBUSTXLT_CACHE_DIR=DIR   download cache shared by both runs (default: resources/cache of the repo)
#   LOCAL_RUN=DIR             a finished local run of the smoke preset (`snakemake --cores N --configfile
#                             presets/smoke.yaml` in DIR, e.g. the test suite's shared one): compared with, not rerun
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SELF="$REPO/tests/slurm/live_test.sh"
START=$SECONDS

say() { printf '[live-slurm %4ds] %s\n' "$((SECONDS - START))" "$*"; }
fail() { printf '[live-slurm] FAILED: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------
# Stage 1 (host): preconditions and packages, then re-run this script in a private mount namespace.
# ---------------------------------------------------------------------------------------------------
if [[ -z "${ROBUSTXLT_SLURM_NAMESPACE:-}" ]]; then
    [[ $(id -u) -eq 0 ]] || fail "run as root: the test installs slurm-wlm/munge and runs slurmd"
    if [[ -z "${PYTHON:-}" && -x "$REPO/.venv/bin/python" ]]; then
        PYTHON="$REPO/.venv/bin/python"
    fi
    PYTHON=${PYTHON:-$(command -v python3)}
    "$PYTHON" -c "import snakemake, snakemake_executor_plugin_slurm, robustxlt" 2>/dev/null ||
        fail "$PYTHON lacks snakemake, the Slurm plugin or robustxlt: pip install -e '.[train,workflow,cluster]'"
    missing=0
    for tool in slurmctld slurmd sbatch squeue scontrol munged mungekey; do
        command -v "$tool" >/dev/null || missing=1
    done
    if [[ $missing -eq 1 ]]; then
        say "installing Debian's slurm-wlm and munge"
        command -v apt-get >/dev/null || fail "slurm-wlm and munge are missing and there is no apt-get"
        # Whatever daemons the packages may start are left alone: the test starts and stops its own.
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
    fi
    command -v unshare >/dev/null || fail "unshare (util-linux) is needed"
    [[ -d /etc/slurm ]] || fail "/etc/slurm is missing (it comes with slurm-wlm)"
    # Slurm's tools and srun inside jobs read /etc/slurm/slurm.conf (the jobstep plugin drops SLURM_CONF
    # from the job's environment), so the test cluster's config is bind-mounted there, privately.
    export ROBUSTXLT_SLURM_NAMESPACE=1 PYTHON
    exec unshare --mount --propagation private bash "$SELF" "$@"
fi

# ---------------------------------------------------------------------------------------------------
# Stage 2 (private mount namespace): cluster, runs, checks.
# ---------------------------------------------------------------------------------------------------
BIN=$(dirname "$PYTHON")
export PATH="$BIN:$PATH" HF_HUB_OFFLINE=1
[[ $(command -v snakemake) == "$BIN/snakemake" ]] || fail "no snakemake next to $PYTHON"
WORK=$(mktemp -d /tmp/robustxlt-slurm-live.XXXXXX)
chmod 755 "$WORK"  # munged refuses a socket below a directory that others cannot traverse
CLUSTER="$WORK/cluster"
CACHE=${ROBUSTXLT_CACHE_DIR:-$REPO/resources/cache}
mkdir -p "$CLUSTER"/{etc,state,spool} "$CACHE"
DAEMONS=()  # "name:pid" of every daemon this script started, in start order

stop_daemons() {
    local status=$?
    # A snakemake still running (interrupted test) is stopped first: it cancels its own Slurm jobs.
    if [[ -n "${RUN_PID:-}" ]] && kill -TERM "$RUN_PID" 2>/dev/null; then
        for _ in $(seq 300); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$RUN_PID" 2>/dev/null || true
    fi
    # Cancel what is left of our cluster's jobs while its controller is still up.
    if [[ -n "${CTLD_PID:-}" ]] && kill -0 "$CTLD_PID" 2>/dev/null; then
        scancel --user="$(id -un)" 2>/dev/null || true
    fi
    local i name pid
    for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
        name=${DAEMONS[i]%%:*}
        pid=${DAEMONS[i]#*:}
        if ! kill -TERM "$pid" 2>/dev/null; then
            say "$name (pid $pid) had already exited"
            continue
        fi
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name (pid $pid) ignored TERM for 10 s, killing it"
            kill -KILL "$pid"
        fi
        wait "$pid" 2>/dev/null || true
        say "stopped $name (pid $pid)"
    done
    if [[ $status -eq 0 && -z "${KEEP:-}" ]]; then
        rm -rf "$WORK"
    else
        say "scratch directory kept: $WORK"
    fi
    exit "$status"
}
trap stop_daemons EXIT
trap 'exit 130' INT TERM

free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# run_snakemake LOG SECONDS DIR ARGS...: snakemake in DIR with a time limit, in the background so that
# a signal to this script reaches its trap at once instead of after snakemake ends.
run_snakemake() {
    local log=$1 limit=$2 dir=$3 status=0
    shift 3
    (cd "$dir" && exec timeout "$limit" snakemake "$@") >"$log" 2>&1 &
    RUN_PID=$!
    wait "$RUN_PID" || status=$?
    RUN_PID=
    return "$status"
}

# wait_for SECONDS LOG COMMAND...: poll COMMAND until it succeeds; on timeout show the daemon's LOG.
wait_for() {
    local limit=$1 log=$2
    shift 2
    for _ in $(seq $((limit * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    tail -15 "$log" >&2
    fail "not ready after ${limit}s: $* (logs in $CLUSTER)"
}

# --- the cluster: this machine as one node, in every partition the profile names --------------------
mapfile -t PARTITIONS < <("$PYTHON" - "$REPO/profiles/slurm/config.yaml" <<'EOF'
import sys, yaml
profile = yaml.safe_load(open(sys.argv[1]))
names = [profile["default-resources"]["slurm_partition"]]  # the default partition comes first
names += [r["slurm_partition"] for r in profile.get("set-resources", {}).values() if "slurm_partition" in r]
print("\n".join(dict.fromkeys(names)))
EOF
)
[[ ${#PARTITIONS[@]} -gt 0 && -n ${PARTITIONS[0]} ]] || fail "no slurm_partition found in profiles/slurm/config.yaml"
# The node as slurmd sees it (CPUs, sockets, memory), renamed; slurmd drains a node configured larger.
NODE=$(slurmd -C | head -1 | sed -e 's/^NodeName=[^ ]*/NodeName=localnode/')
CPUS=$(sed -E 's/.* CPUs=([0-9]+).*/\1/' <<<"$NODE")

cat >"$CLUSTER/etc/slurm.conf" <<EOF
# One-node test cluster of tests/slurm/live_test.sh (generated).
ClusterName=robustxlt-live
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$CLUSTER/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$CLUSTER/state
SlurmdSpoolDir=$CLUSTER/spool
SlurmctldPidFile=$CLUSTER/slurmctld.pid
SlurmdPidFile=$CLUSTER/slurmd.pid
SlurmctldLogFile=$CLUSTER/slurmctld.log
SlurmdLogFile=$CLUSTER/slurmd.log
# No cgroups in a container: track processes through /proc, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# No slurmdbd: sacct cannot work, so the run uses squeue, which lists finished jobs for MinJobAge s; the
# plugin falls back to sacct unless MinJobAge >= 3 x its first poll delay.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=600
# Every finished job gets a line here: the cluster's own record of what ran.
JobCompType=jobcomp/filetxt
JobCompLoc=$CLUSTER/jobcomp.txt
ReturnToService=2
# Two stand-in GPUs (see gres.conf), so the profile's GPU requests are scheduled as written.
GresTypes=gpu
$NODE NodeAddr=127.0.0.1 Gres=gpu:2 State=UNKNOWN
$(for name in "${PARTITIONS[@]}"; do
    echo "PartitionName=$name Nodes=localnode MaxTime=INFINITE State=UP Default=$([[ $name == "${PARTITIONS[0]}" ]] && echo YES || echo NO)"
done)
EOF
# Slurm only counts GPUs and sets CUDA_VISIBLE_DEVICES; the devices behind them are never opened here
# (the CPU build of torch sees no CUDA), so two harmless character devices stand in. A job given a GPU that
# finds no CUDA stops (robustxlt.models.runtime.select_device) unless told to use the CPU on purpose, as here:
export ROBUSTXLT_DEVICE=cpu
cat >"$CLUSTER/etc/gres.conf" <<EOF
NodeName=localnode Name=gpu File=/dev/null
NodeName=localnode Name=gpu File=/dev/zero
EOF
mount --bind "$CLUSTER/etc" /etc/slurm

say "starting munged, slurmctld, slurmd (node: $NODE)"
mungekey --create --keyfile="$CLUSTER/munge.key"
munged --foreground --socket="$CLUSTER/munge.socket" --key-file="$CLUSTER/munge.key" \
    --pid-file="$CLUSTER/munged.pid" --log-file="$CLUSTER/munged.log" --seed-file="$CLUSTER/munged.seed" \
    >"$CLUSTER/munged.out" 2>&1 &
DAEMONS+=("munged:$!")
wait_for 20 "$CLUSTER/munged.out" munge --socket="$CLUSTER/munge.socket" --no-input
slurmctld -D >"$CLUSTER/slurmctld.out" 2>&1 &
CTLD_PID=$!
DAEMONS+=("slurmctld:$CTLD_PID")
slurmd -D -N localnode >"$CLUSTER/slurmd.out" 2>&1 &
DAEMONS+=("slurmd:$!")
node_idle() { [[ $(sinfo -h -n localnode -o %T) == idle ]]; }
wait_for 60 "$CLUSTER/slurmd.out" node_idle
say "cluster up: $(sinfo -h -o '%P %D %c %G' | tr '\n' ' ')"

# --- the two runs, each in its own scratch copy of the repository ------------------------------------
runs=(slurm)
[[ -n "${LOCAL_RUN:-}" ]] || runs=(local slurm)
for run in "${runs[@]}"; do
    mkdir -p "$WORK/$run"
    cp -a "$REPO"/{Snakefile,config.yaml,presets,workflow,envs,profiles,slurm} "$WORK/$run/"
done
PRESET=(--configfile presets/smoke.yaml --config "cache_dir=$CACHE")

if [[ -n "${LOCAL_RUN:-}" ]]; then
    [[ -f "$LOCAL_RUN/results/metrics.csv" ]] || fail "LOCAL_RUN=$LOCAL_RUN holds no finished run (results/metrics.csv)"
    say "local run: the finished one in $LOCAL_RUN"
    LOCAL_RESULTS=$LOCAL_RUN/results LOCAL_TIME="(given)"
else
    say "local run: snakemake --cores $CPUS ${PRESET[*]}"
    started=$SECONDS
    run_snakemake "$WORK/local.log" 900 "$WORK/local" --cores "$CPUS" "${PRESET[@]}" ||
        { tail -30 "$WORK/local.log"; fail "the local run failed (log: $WORK/local.log)"; }
    LOCAL_RESULTS=$WORK/local/results LOCAL_TIME="$((SECONDS - started))s"
fi

# Test-cluster settings beside the profile (none of its keys is replaced): threads capped at the node's
# CPUs (train asks for 4), squeue for job status (no slurmdbd), status first polled after 5 s instead
# of 40 s (a busy real cluster deserves the default), Slurm logs kept for the checks.
SLURM_ARGS=(--max-threads "$CPUS" --slurm-status-command squeue --slurm-init-seconds-before-status-checks 5
    --slurm-keep-successful-logs)
say "Slurm run: snakemake --profile slurm ${PRESET[*]} ${SLURM_ARGS[*]}"
started=$SECONDS
run_snakemake "$WORK/slurm.log" 1500 "$WORK/slurm" --profile slurm "${PRESET[@]}" "${SLURM_ARGS[@]}" ||
    { tail -40 "$WORK/slurm.log"; fail "the Slurm run failed (log: $WORK/slurm.log)"; }
SLURM_TIME=$((SECONDS - started))
scontrol -o show job >"$WORK/scontrol-jobs.txt"

say "checking (local run ${LOCAL_TIME}, Slurm run ${SLURM_TIME}s)"
"$PYTHON" "$REPO/tests/slurm/check_live_run.py" \
    --run-log "$WORK/slurm.log" --scontrol "$WORK/scontrol-jobs.txt" --jobcomp "$CLUSTER/jobcomp.txt" \
    --profile "$WORK/slurm/profiles/slurm/config.yaml" \
    --local-results "$LOCAL_RESULTS" --slurm-results "$WORK/slurm/results" ||
    fail "checks failed (Snakemake log: $WORK/slurm.log, cluster: $CLUSTER)"
say "PASSED: local run ${LOCAL_TIME}, Slurm run ${SLURM_TIME}s, total $((SECONDS - START))s"
