"""Core's admin pages (server-rendered): sign-in, home, marketplace, templates, settings."""

from jimu.pages import auth, home, marketplace, setup

ROUTES = [*auth.ROUTES, *home.ROUTES, *marketplace.ROUTES, *setup.ROUTES]
