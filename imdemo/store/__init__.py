"""Persistence layer: the course's tables through Peewee, counters and notices in Redis."""
