"""gunicorn settings for the analyzer: ``gunicorn -c python:image_enricher.gunicorn_conf …``.

gthread workers because the work is waiting on remote image hosts (I/O-bound), and because
the Lightsail endpoint talks to gunicorn directly: sync workers would let slow clients pin
every worker. The request timeout stays above the analyzer's total fetch deadline. Each value
can be overridden by the environment variable named beside it.
"""

from __future__ import annotations

import os

bind = os.environ.get("ENRICHER_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8080')}"
worker_class = "gthread"
workers = int(os.environ.get("ENRICHER_WORKERS", "2"))
threads = int(os.environ.get("ENRICHER_THREADS", "8"))
# One batch request analyses up to ENRICHER_MAX_BATCH images, ENRICHER_BATCH_WORKERS at a
# time, each within ENRICHER_DEADLINE: at the defaults ceil(50 / 8) * 10 s = 70 s at worst,
# so the worker timeout must be above that.
timeout = int(os.environ.get("ENRICHER_REQUEST_TIMEOUT", "90"))
graceful_timeout = 10
keepalive = 5
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("ENRICHER_LOG_LEVEL", "info")
# The access log never shows the Authorization header (not in the default format).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss'
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicorn >= 25.1 opens a control socket under $HOME; the container user has no home and
# nothing in it needs runtime control (older versions ignore this name).
control_socket_disable = True
