"""HTTP/1.1 transport: threaded, keep-alive, one write per response.

keystoneauth1 reuses connections, so responses always carry a
Content-Length; headers and body go out in a single ``sendall`` with
TCP_NODELAY so small replies never wait on delayed ACKs.
"""
import http.server
import logging
import socket
import threading

from ceilometer_export.simulator import wire

LOG = logging.getLogger(__name__)
_REASONS = http.server.BaseHTTPRequestHandler.responses


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'ceilometer-export-simulator'

    def setup(self):
        super(_Handler, self).setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        LOG.debug('%s %s', self.address_string(), fmt % args)

    def _handle(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        request = wire.Request(self.command, self.path, self.headers, body)
        response = self.server.app(request)
        LOG.debug('%s %s -> %s', self.command, self.path, response.status)
        if response.action == 'drop':
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(response)

    def _send(self, response):
        reason = _REASONS.get(response.status, ('',))[0]
        lines = ['HTTP/1.1 %d %s' % (response.status, reason),
                 'Content-Type: %s' % response.content_type,
                 'Content-Length: %d' % len(response.body)]
        lines.extend('%s: %s' % header for header in response.headers)
        if self.close_connection:
            lines.append('Connection: close')
        head = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
        try:
            self.wfile.write(head + response.body)
        except OSError:
            # The client gave up (e.g. timed out on an injected delay).
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, app):
        self.app = app
        self._open = set()
        self._open_lock = threading.Lock()
        super(_Server, self).__init__(address, _Handler)

    def process_request(self, request, client_address):
        with self._open_lock:
            self._open.add(request)
        super(_Server, self).process_request(request, client_address)

    def shutdown_request(self, request):
        with self._open_lock:
            self._open.discard(request)
        super(_Server, self).shutdown_request(request)

    def close_connections(self):
        """Stop means stop: also end idle keep-alive connections."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        LOG.debug('connection error from %s', client_address, exc_info=True)


class HttpService(object):
    """One listening socket served by a background thread."""

    def __init__(self, app, host='127.0.0.1', port=0):
        self._server = _Server((host, port), app)
        self._thread = None

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def host(self):
        return self._server.server_address[0]

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={'poll_interval': 0.1},
                                        name='simulator-http-%d' % self.port,
                                        daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join(5)
