"""Entry point for gunicorn (`gunicorn wsgi:app`) and the flask CLI (`flask --app wsgi ...`)."""
import gc

from tracker import create_app

app = create_app()
# What exists now (modules, the app, its templates and catalogues: ~150,000 objects) lives as
# long as the process: out of the collector's sight, its full passes no longer walk it again
# (~40 µs a request, amortised; docs/rendering-floor.md). Here, not in create_app: the tests
# make many apps in one process.
gc.freeze()
