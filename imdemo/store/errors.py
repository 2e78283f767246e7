"""Store layer: the few facts the store reports to the services."""


class UnknownUser(LookupError):
    """A uid or username that has no row in im_user."""


class UnknownGroup(LookupError):
    """A gid that has no group (never made, or gone since its last member left)."""


class NotAMember(PermissionError):
    """uid is not a current member of the group; former: whether they were one once."""

    def __init__(self, gid: int, uid: int, former: bool):
        super().__init__(gid, uid, former)
        self.gid, self.uid, self.former = gid, uid, former


class DuplicateUsername(ValueError):
    """The username is taken."""


def transient_errors() -> tuple[type[BaseException], ...]:
    """The driver errors that mean "not now" (locked, unreachable) rather than "wrong": answer 503."""
    import peewee
    import redis

    return (peewee.OperationalError, peewee.InterfaceError,
            redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)
