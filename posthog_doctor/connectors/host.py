"""Facts about the machine the doctor runs on (psutil), including the limits a container imposes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class DiskUsage:
    path: str
    total: int
    free: int

    @property
    def used_fraction(self) -> float:
        return 1 - self.free / self.total if self.total else 0.0


@dataclass
class HostFacts:
    cpu_count: int
    cpu_limit: float | None  # cores allowed by the container's cgroup, when limited
    memory_total: int
    memory_available: int
    memory_limit: int | None  # bytes allowed by the container's cgroup, when limited
    load_average: tuple[float, float, float] | None
    in_container: bool
    disks: list[DiskUsage] = field(default_factory=list)

    @property
    def effective_memory(self) -> int:
        """Memory the processes here can really use: the container limit when lower than the machine's."""
        return min(self.memory_total, self.memory_limit) if self.memory_limit else self.memory_total

    @property
    def effective_cpus(self) -> float:
        return min(self.cpu_count, self.cpu_limit) if self.cpu_limit else float(self.cpu_count)


def host_facts(paths: tuple[str, ...] = ("/",)) -> HostFacts:
    import psutil

    memory = psutil.virtual_memory()
    disks = []
    for path in dict.fromkeys(paths):
        try:
            usage = psutil.disk_usage(path)
            disks.append(DiskUsage(path, usage.total, usage.free))
        except OSError:
            continue
    try:
        one, five, fifteen = os.getloadavg()
        load: tuple[float, float, float] | None = (round(one, 2), round(five, 2), round(fifteen, 2))
    except OSError:
        load = None
    return HostFacts(
        cpu_count=psutil.cpu_count() or 1,
        cpu_limit=_cgroup_cpu_limit(),
        memory_total=memory.total,
        memory_available=memory.available,
        memory_limit=_cgroup_memory_limit(memory.total),
        load_average=load,
        in_container=_in_container(),
        disks=disks,
    )


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _cgroup_memory_limit(machine_total: int) -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        value = _read(path)
        if value.isdigit() and 0 < int(value) < machine_total:
            return int(value)
    return None


def _cgroup_cpu_limit() -> float | None:
    quota = _read("/sys/fs/cgroup/cpu.max").split()
    if len(quota) == 2 and quota[0].isdigit() and quota[1].isdigit() and int(quota[1]):
        return int(quota[0]) / int(quota[1])
    q, p = _read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), _read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
    if q.isdigit() and p.isdigit() and int(p):
        return int(q) / int(p)
    return None


def _in_container() -> bool:
    if Path("/.dockerenv").exists() or Path("/run/.containerenv").exists():
        return True
    return any(word in _read("/proc/1/cgroup") for word in ("docker", "kubepods", "containerd"))
