"""Core's admin pages (server-rendered): sign-in, home, marketplace, templates, settings."""

from jimu.pages import (
    audit,
    auth,
    directory,
    flows,
    home,
    marketplace,
    notifications,
    operator,
    people,
    pricing,
    setup,
)

ROUTES = [*auth.ROUTES, *home.ROUTES, *marketplace.ROUTES, *setup.ROUTES, *directory.ROUTES,
          *audit.ROUTES, *operator.ROUTES, *people.ROUTES, *pricing.ROUTES,
          *notifications.ROUTES, *flows.ROUTES]
