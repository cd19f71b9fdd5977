"""Per-student limits of a class on JupyterHub: the one place they are written.

Read by deploy/jupyterhub_config.py (single node, SystemdSpawner) and checked against
deploy/z2jh/values.yaml (Zero to JupyterHub) by tests/test_deploy.py, so the two
deployments cannot drift apart. The figures come from measurements:

- a notebook kernel peaks at 200-680 MB (benchmarks/notebooks.py, the ten chapters), and a
  single-user Jupyter server with JupyterLab adds about 100-150 MB (measured by
  `make classroom-load`, column "server MB");
- every course function refuses, with a ValueError, work that would not fit a 2 GB server
  (README, "JupyterHub"), so 2 GB is the hard limit a student's whole server gets: one kernel
  at its peak, a second notebook open, and the server itself;
- the guarantee is what a student uses at a time in the normal case: one kernel at the
  highest measured peak (680 MB) plus the server, rounded up to 1 GB. Sizing a node by the
  guarantee is what the README's table does (`students_per_node`).
- one core at most per student (CPU quota): torch and OpenBLAS would otherwise spread one
  student's cell over every core of the node; the guarantee is a share under contention
  (a student working alone uses 0.63 core, CPU_PER_ACTIVE_STUDENT, but a class is rarely all
  at work in the same second; the README's sizing table assumes it is).
"""

from __future__ import annotations

import math

# --- limits per student's server ------------------------------------------------------------
MEMORY_LIMIT = "2G"  # hard cap: the server is killed (OOM) above it
MEMORY_GUARANTEE = "1G"  # reserved per student; what the sizing counts
CPU_LIMIT = 1.0  # cores: at most one core per student
CPU_GUARANTEE = 0.25  # cores reserved per student under contention (Kubernetes requests)
# Threads of torch, OpenBLAS and MKL in a kernel. Left alone, each library starts one thread
# per core of the NODE (64 on a big one) inside a one-core quota, and their spinning threads
# fight each other and every other student's: one thread per core of the limit.
THREAD_ENVIRONMENT = {
    name: str(max(1, int(CPU_LIMIT)))
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
}

# --- idle culling (jupyterhub-idle-culler) --------------------------------------------------
CULL_TIMEOUT_S = 3600  # a server without activity for an hour is stopped (files stay)
CULL_EVERY_S = 300  # how often the culler looks
CULL_CONCURRENCY = 10  # servers stopped at once
KERNEL_CULL_IDLE_S = 1800  # inside a server: an idle kernel is shut down after 30 min

# --- start-up -------------------------------------------------------------------------------
START_TIMEOUT_S = 300  # a class arriving at once queues on the disk and CPU: be patient

# --- nbgrader -------------------------------------------------------------------------------
COURSE_ID = "nn-training"
EXCHANGE_ROOT = "/srv/nbgrader/exchange"  # shared by every student's server (single node)


def bytes_of(size: str) -> int:
    """Bytes of a JupyterHub / Kubernetes size string ('2G', '512M', '1.5G').

    JupyterHub's ByteSpecification reads K, M, G, T as powers of 1024 (so does this).
    """
    units = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    if not isinstance(size, str) or not size or size[-1] not in units:
        raise ValueError(f"size must be a string like '2G' or '512M', got {size!r}")
    return int(float(size[:-1]) * units[size[-1]])


# --- the sizing model (README "Running a class") ----------------------------------------------
# Measured by `make classroom-load` on a 2-core, 24 GB machine (README, "Running a class"):
# one student alone used 31 CPU s in 49 s working through chapter 03 at the load test's pace
# (cells back to back, then an explorer move every 0.5 s): 0.63 cores while active; a
# student's server peaked at 844 MB (kernel) + 146 MB (server).
CPU_PER_ACTIVE_STUDENT = 0.63  # cores
MEMORY_PER_STUDENT_GB = 1.0  # the guarantee: peak kernel + server, rounded up
SYSTEM_RESERVE_GB = 2.0  # the OS, JupyterHub, the proxy, page cache for the environment
SYSTEM_RESERVE_CORES = 0.5


def students_per_node(cores: float, memory_gb: float) -> dict[str, int]:
    """Students one node holds: the smaller of what its memory and its cores allow.

    memory: (memory_gb - SYSTEM_RESERVE_GB) / MEMORY_PER_STUDENT_GB servers, each able to
    reach the guarantee at once; cores: (cores - SYSTEM_RESERVE_CORES) /
    CPU_PER_ACTIVE_STUDENT students working at the load test's pace, every one of them
    active (the worst minute of a lecture: "now run the chapter").
    """
    if cores <= SYSTEM_RESERVE_CORES or memory_gb <= SYSTEM_RESERVE_GB:
        raise ValueError(
            f"a node needs more than {SYSTEM_RESERVE_CORES} cores and "
            f"{SYSTEM_RESERVE_GB} GB, got {cores} cores and {memory_gb} GB"
        )
    by_memory = math.floor((memory_gb - SYSTEM_RESERVE_GB) / MEMORY_PER_STUDENT_GB)
    by_cpu = math.floor((cores - SYSTEM_RESERVE_CORES) / CPU_PER_ACTIVE_STUDENT)
    return {"memory": by_memory, "cpu": by_cpu, "students": min(by_memory, by_cpu)}
