"""Core services: the domain logic behind the API and the CLI, free of HTTP."""
