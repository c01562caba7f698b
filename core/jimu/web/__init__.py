"""HTTP plumbing shared by core's and plugins' routes: request scope, errors, guards, lists."""
