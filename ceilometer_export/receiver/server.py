"""Serving the receiver with cheroot (see README: why cheroot).

cheroot is CherryPy's HTTP/1.1 server: a bounded pool of request threads,
keep-alive connections parked in a selector (an idle publisher connection
holds no thread), a request header size limit, per-connection timeouts,
TLS through the standard ssl module, and a graceful stop that lets
requests in flight finish.
"""

import dataclasses
import ssl

from cheroot import wsgi
from cheroot.ssl import builtin

from ceilometer_export import errors

# A publisher keeps up to max_parallel_requests (64) connections per agent.
_KEEP_ALIVE_CONNECTIONS = 1024
_MAX_HEADER_BYTES = 65536
# Seconds a connection may sit idle or be slow to send its request.
_SOCKET_TIMEOUT = 30
_LISTEN_BACKLOG = 128


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    threads: int
    stop_timeout: float
    ssl_cert_file: str = None
    ssl_key_file: str = None

    @classmethod
    def from_conf(cls, conf, stop_timeout):
        section = conf.receiver
        return cls(section.host, section.port, section.threads, stop_timeout,
                   section.ssl_cert_file, section.ssl_key_file)


def make_server(app, settings):
    """A cheroot server for the app, bound but not yet serving."""
    server = wsgi.Server(
        (settings.host, settings.port), app, numthreads=settings.threads,
        max=settings.threads, request_queue_size=_LISTEN_BACKLOG,
        timeout=_SOCKET_TIMEOUT, shutdown_timeout=settings.stop_timeout,
        server_name='ceilometer-export-receiver')
    # The body limit is the application's (413 before reading, counted in
    # its metrics, the same under any WSGI server).
    server.max_request_header_size = _MAX_HEADER_BYTES
    server.keep_alive_conn_limit = _KEEP_ALIVE_CONNECTIONS
    if settings.ssl_cert_file:
        server.ssl_adapter = _ssl_adapter(settings)
    elif settings.ssl_key_file:
        raise errors.ConfigError('[receiver] ssl_key_file: set without '
                                 'ssl_cert_file')
    try:
        server.prepare()
    except OSError as exc:
        raise errors.ExportError('cannot serve on %s:%s: %s' % (
            settings.host, settings.port, exc)) from exc
    return server


def _ssl_adapter(settings):
    """The TLS adapter; a certificate or key that cannot be loaded is a
    configuration error (exit 2), found before listening."""
    try:
        return builtin.BuiltinSSLAdapter(settings.ssl_cert_file,
                                         settings.ssl_key_file)
    except (OSError, ssl.SSLError) as exc:
        raise errors.ConfigError(
            '[receiver] ssl_cert_file/ssl_key_file: cannot load %s%s: %s'
            % (settings.ssl_cert_file, ' and ' + settings.ssl_key_file
               if settings.ssl_key_file else '', exc)) from None


def bound_port(server):
    return server.socket.getsockname()[1]
