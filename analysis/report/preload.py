"""Named in :func:`multiprocessing.set_forkserver_preload` by :mod:`analysis.report.pool`:
importing it warms the fork server up (:func:`analysis.report.warmup.prepare`). Nothing else
should import it."""

from analysis.report.warmup import prepare

prepare()
