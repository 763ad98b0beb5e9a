"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
from ledger import create_app

app = create_app()
