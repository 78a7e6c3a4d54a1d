"""The production WSGI entry, as the Dockerfile runs it.

``gunicorn -c python:image_enricher.gunicorn_conf image_enricher.wsgi:app``.

Settings come from the environment when gunicorn imports this module; a missing
``ENRICHER_API_KEY`` stops the workers from booting with a message saying what to set.
"""

from image_enricher.app import create_app

app = create_app()
