#!/usr/bin/python3
"""bench/rss.py OUT CMD...: run CMD (one MPI rank of it); write its peak resident set
(KiB) to OUT.RANK. mpirun starts this instead of popseg, popseg inherits the rank."""
import os, resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
r = os.environ.get("OMPI_COMM_WORLD_RANK", "0")
with open("%s.%s" % (sys.argv[1], r), "w") as fh:
    fh.write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
