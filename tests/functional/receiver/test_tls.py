"""HTTPS served by the receiver itself ([receiver] ssl_cert_file and
ssl_key_file): a self-signed certificate made here with openssl, and
ceilometer 27.0.0's own publisher with verify_ssl=False."""

import json
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request

import pytest

from tests.functional import harness as fharness
from tests.functional.receiver import harness
from tests.functional.receiver import samples


@pytest.fixture
def certificate(tmp_path):
    if shutil.which('openssl') is None:
        pytest.skip('no openssl command')
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                    '-nodes', '-keyout', str(key), '-out', str(cert),
                    '-days', '2', '-subj', '/CN=127.0.0.1',
                    '-addext', 'subjectAltName=IP:127.0.0.1'],
                   check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


def _https(rcv, path, cafile):
    context = ssl.create_default_context(cafile=cafile)
    url = 'https://127.0.0.1:%d%s' % (rcv.port, path)
    with urllib.request.urlopen(url, context=context, timeout=10) as resp:
        return resp.status, resp.read()


def _up(rcv, cert):
    try:
        return _https(rcv, '/healthcheck', cert)[0] == 200
    except OSError:     # not listening yet
        return False


def _tls_running(tmp_path, db_url, cert, key):
    # harness.running waits for /healthcheck over plain HTTP: start here.
    conf, port = harness.write_config(tmp_path / 'receiver.conf', db_url,
                                      ssl_cert_file=cert, ssl_key_file=key)
    result = fharness.run('ceilometer-export-dbsync', '--config-file', conf)
    assert result.returncode == 0, result.stderr
    rcv = harness.Receiver(conf, port, str(tmp_path / 'receiver.log'))
    rcv.start(up=lambda: _up(rcv, cert))
    return rcv


def test_publisher_over_https(tmp_path, make_db_url, ceilometer_27,
                              certificate):
    db_url = make_db_url('postgresql')
    cert, key = certificate
    rcv = _tls_running(tmp_path, db_url, cert, key)
    try:
        assert _https(rcv, '/healthcheck', cert) == (200, b'up\n')
        # Plain HTTP on the TLS port gets no answer.
        try:
            answered = rcv.post(json.dumps(samples.make(1)).encode())[0]
        except OSError:
            answered = None
        assert answered != 200
        url = rcv.url().replace('http://', 'https://') + '?verify_ssl=False'
        published, log = harness.publish(ceilometer_27, url,
                                         [samples.make(6)])
        assert 'Status Code' not in log, log
    finally:
        assert rcv.stop() == 0, rcv.log()
    found = {r['message_id'] for r in harness.rows(db_url, 'samples')}
    assert found == {s['id'] for s in published}


def test_a_silent_tls_client_delays_new_connections(tmp_path, make_db_url,
                                                    certificate):
    """cheroot makes the TLS handshake in its accept loop: a client that
    connects and says nothing holds every new connection back (up to the
    30 s socket timeout). Documented: use a TLS-terminating proxy for
    anything but a trusted network."""
    db_url = make_db_url('sqlite')
    cert, key = certificate
    rcv = _tls_running(tmp_path, db_url, cert, key)
    try:
        with socket.create_connection(('127.0.0.1', rcv.port)):
            started = time.monotonic()
            with pytest.raises(OSError):
                context = ssl.create_default_context(cafile=cert)
                with socket.create_connection(('127.0.0.1', rcv.port),
                                              timeout=2) as raw:
                    with context.wrap_socket(raw,
                                             server_hostname='127.0.0.1'):
                        pass
            assert time.monotonic() - started >= 2
    finally:
        assert rcv.stop() == 0, rcv.log()
