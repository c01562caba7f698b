"""Small plugins used by core's own tests; each is a module, loaded as a plugin would be."""
