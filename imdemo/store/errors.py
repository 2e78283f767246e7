"""Store layer: the few facts the store reports to the services."""


class UnknownUser(LookupError):
    """A uid or username that has no row in im_user."""


class DuplicateUsername(ValueError):
    """The username is taken."""


def transient_errors() -> tuple[type[BaseException], ...]:
    """The driver errors that mean "not now" (locked, unreachable) rather than "wrong": answer 503."""
    import peewee
    import redis

    return (peewee.OperationalError, peewee.InterfaceError,
            redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)
