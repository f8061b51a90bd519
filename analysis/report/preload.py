"""Named in :func:`multiprocessing.set_forkserver_preload` by :mod:`analysis.report.pool`:
importing it warms the fork server up (:func:`analysis.report.warmup.prepare`). Nothing else
should import it."""

import os
import sys

# the fork server started with PYTHONSAFEPATH (analysis.report.pool.start_server): its own
# import path is safe now, and what it forks need not inherit the variable
if os.environ.pop("CONFLICT_TRENDS_SAFE_PATH_SET", None):
    os.environ.pop("PYTHONSAFEPATH", None)

try:
    from analysis.report.warmup import prepare

    prepare()
except KeyboardInterrupt:
    # Ctrl-C reaches the whole process group: the command says it was interrupted, and the
    # fork server, stopped while warming up, leaves without a traceback of its own.
    sys.exit(130)
