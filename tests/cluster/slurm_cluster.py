"""A real single-node SLURM cluster on loopback (munge, slurmctld, slurmd), for tests.

Needs root and Debian's packages ``slurmctld slurmd slurm-client munge`` (``.ci/run``
installs them where it can). Every daemon started here is stopped by its PID.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SLURM_CONF", "Cluster", "local_cluster", "missing_requirements"]

SLURM_CONF = Path("/etc/slurm/slurm.conf")  # the plugin's job step drops SLURM_CONF
GRES_CONF = SLURM_CONF.with_name("gres.conf")
MUNGE_SOCKET = Path("/run/munge/munge.socket.2")
MARKER = "# hepgen test cluster"
NODE = "localhost"
BINARIES = ("munged", "munge", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol")


def missing_requirements() -> str | None:
    """Why a local cluster cannot be started here, or ``None`` when it can."""
    if os.geteuid() != 0:
        return "needs root (daemons, /etc/slurm)"
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        return f"not installed: {missing} (apt-get install slurmctld slurmd slurm-client munge)"
    for conf in (SLURM_CONF, GRES_CONF):
        if conf.exists() and MARKER not in conf.read_text():
            return f"{conf} belongs to another SLURM set-up; not touching it"
    if subprocess.run(["pgrep", "-x", "slurmctld"], capture_output=True).returncode == 0:
        return "a slurmctld is already running on this machine"
    return None


def _slurm_conf(state: Path, cpus: int, memory_mb: int) -> str:
    return f"""{MARKER} (tests/cluster/slurm_cluster.py); removed when the test ends
ClusterName=hepgentest
SlurmctldHost={NODE}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={state}/ctld
SlurmdSpoolDir={state}/spool
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={state}/slurmd.pid
SlurmctldLogFile={state}/slurmctld.log
SlurmdLogFile={state}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
GresTypes=gpu
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerParameters=sched_interval=1
MinJobAge=300
NodeName={NODE} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes={NODE} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes={NODE} MaxTime=INFINITE State=UP
"""


@dataclass
class Cluster:
    """Handles on the daemons of a running local cluster."""

    state: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def log(self, name: str) -> str:
        """The tail of one daemon's log file (``slurmctld``, ``slurmd``)."""
        path = self.state / f"{name}.log"
        return path.read_text()[-3000:] if path.is_file() else ""


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 - 1024
    return 8000


def _start(cluster: Cluster, name: str, cmd: list[str], **kwargs) -> None:
    with (cluster.state / f"{name}.out").open("w") as out:  # the child keeps its own handle
        cluster.processes[name] = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kwargs
        )


def _start_munge(cluster: Cluster) -> None:
    if subprocess.run(["munge", "-n"], capture_output=True).returncode == 0:
        return  # a munged already serves the socket; leave it alone
    home = MUNGE_SOCKET.parent  # munged checks that the munge user owns every path it writes
    home.mkdir(parents=True, exist_ok=True)
    shutil.chown(home, "munge", "munge")
    home.chmod(0o755)
    cmd = ["munged", "--foreground", f"--log-file={home}/munged.log"]
    cmd += [f"--pid-file={home}/munged.pid", f"--seed-file={home}/munged.seed"]
    _start(cluster, "munged", cmd, user="munge", group="munge")
    _wait(cluster, "munged", lambda: _ok(["munge", "-n"]))


def _ok(cmd: list[str]) -> bool:
    return subprocess.run(cmd, capture_output=True).returncode == 0


def _wait(cluster: Cluster, name: str, ready: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        process = cluster.processes[name]
        if process.poll() is not None or time.monotonic() > deadline:
            out = (cluster.state / f"{name}.out").read_text()[-2000:]
            msg = (
                f"{name} did not come up (exit code {process.poll()}):\n{out}\n{cluster.log(name)}"
            )
            raise RuntimeError(msg)
        time.sleep(0.5)


def _node_idle() -> bool:
    out = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True)
    return out.returncode == 0 and out.stdout.strip().startswith("idle")


def _stop(cluster: Cluster) -> None:
    for name in ("slurmd", "slurmctld", "munged"):
        process = cluster.processes.get(name)
        if process is None or process.poll() is not None:
            continue
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def local_cluster(state: Path) -> Iterator[Cluster]:
    """Start munge, slurmctld and slurmd with a ``cpu`` and a ``gpu`` partition on one node.

    The node declares one GPU (``gres.conf``: ``File=/dev/null``), so jobs asking for
    ``--gpus=1`` are scheduled and see ``CUDA_VISIBLE_DEVICES=0`` without a real device.

    Arguments:
        state: an empty directory for the daemons' state, spool and logs.
    """
    cluster = Cluster(state)
    SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
    # more CPUs than cores (config_overrides): a CPU-bound test waits less on queueing
    SLURM_CONF.write_text(_slurm_conf(state, max(4, os.cpu_count() or 1), _memory_mb()))
    GRES_CONF.write_text(f"{MARKER}\nAutoDetect=off\nName=gpu File=/dev/null Count=1\n")
    try:
        _start_munge(cluster)
        _start(cluster, "slurmctld", ["slurmctld", "-D", "-i"])
        _wait(cluster, "slurmctld", lambda: _ok(["scontrol", "ping"]))
        _start(cluster, "slurmd", ["slurmd", "-D", "-N", NODE])
        _wait(cluster, "slurmd", _node_idle)
        yield cluster
    finally:
        _stop(cluster)
        for conf in (SLURM_CONF, GRES_CONF):
            if conf.is_file() and MARKER in conf.read_text():
                conf.unlink()
