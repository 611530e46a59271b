"""Routers, one per area. Each stays a screen long: parse, call a service, shape the reply."""
