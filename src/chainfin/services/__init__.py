"""Use cases. One command = one database transaction. Authorisation and tenant scoping are
checked here, never in routers or pages."""
