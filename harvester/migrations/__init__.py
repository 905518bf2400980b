"""Alembic migrations of the harvester's schema (run by ``harvest db upgrade``)."""
