"""ASGI entry point: ``uvicorn jimu.asgi:app`` (configured from the environment)."""

from jimu.app import create_app

app = create_app()
