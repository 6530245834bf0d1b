"""Exceptions shared across modules, each mapped to an exit code or to
one mapping's failure by the caller.

One root, ``ExportError``, so that a console script needs one ``except``;
causes are kept (``raise ... from exc``) for the debug log and stripped
only where a message is printed (``cmd.fail``).
"""


class ExportError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(ExportError):
    """Bad configuration or usage: exit code 2, one line on stderr."""


class SchemaError(ConfigError):
    """The database schema is missing or not at the latest revision."""


class SourceError(ExportError):
    """The API could not deliver a page; this mapping fails this pass."""


class FatalSourceError(SourceError):
    """Retrying cannot help (410 Gone, rejected credentials, a query the
    API refuses): the operator has to change something."""


class MappingRefused(FatalSourceError):
    """The API refuses the mapping's query itself, whatever the meter (a
    token without the admin role naming another project: 401 Not
    Authorized to access project): the mapping fails as a whole."""


class SampleError(SourceError):
    """The API returned a sample that cannot be stored as it is."""


class Interrupted(ExportError):
    """A stop was requested while waiting (SIGTERM/SIGINT)."""


class StoreError(ExportError):
    """The target database failed; the mapping fails this pass."""


class CoordinationError(ExportError):
    """The coordination backend cannot be joined."""


class WorkerLockHeld(ExportError):
    """Another uncoordinated worker exports into this database."""


class DatabaseUnavailable(StoreError):
    """The database cannot be reached (after retries): nothing else can
    be stored this pass either."""
