"""A fake systemd notification socket and helpers to drive the real daemon
with real signals, waiting on conditions with deadlines (never sleeps)."""

import os
import socket
import subprocess
import threading
import time
import uuid

from tests.functional import harness


class NotifySocket(object):
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET; keeps
    every message with the monotonic time it arrived."""

    def __init__(self, tmp_path=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if tmp_path is None:
            name = 'ce-test-%s' % uuid.uuid4().hex
            self.sock.bind('\0' + name)
            self.address = '@' + name          # abstract, systemd's form
        else:
            self.address = str(tmp_path / 'notify.sock')
            self.sock.bind(self.address)
        self.sock.settimeout(0.1)
        self.messages = []     # (monotonic time, {key: value})
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self):
        while not self._closed:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            fields = dict(line.split('=', 1)
                          for line in data.decode().splitlines())
            with self._lock:
                self.messages.append((time.monotonic(), fields))

    def env(self, watchdog_usec=None):
        env = dict(os.environ, NOTIFY_SOCKET=self.address)
        if watchdog_usec:
            env['WATCHDOG_USEC'] = str(watchdog_usec)
        return env

    def snapshot(self):
        with self._lock:
            return list(self.messages)

    def wait_for(self, key, value=None, after=0, timeout=30):
        """The first message at index >= after holding key (=value);
        returns its index."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, (_, fields) in enumerate(self.snapshot()):
                if i >= after and key in fields and (
                        value is None or fields[key] == value):
                    return i
            time.sleep(0.02)    # polling interval, not a wait on timing
        raise AssertionError('no %s=%s within %s s; got %s'
                             % (key, value, timeout, self.snapshot()))

    def close(self):
        self._closed = True
        self.sock.close()


def start_daemon(conf, *args, env=None):
    return harness.start('ceilometer-export', '--config-file', conf, *args,
                         stderr=subprocess.PIPE, text=True, env=env)


def wait_until(condition, timeout=30, what='condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)    # polling interval
    raise AssertionError('%s not met within %s s' % (what, timeout))


class LogReader(object):
    """Collects a process's stderr lines as they come."""

    def __init__(self, proc):
        self.lines = []
        self._thread = threading.Thread(target=self._read, args=(proc,),
                                        daemon=True)
        self._thread.start()

    def _read(self, proc):
        for line in proc.stderr:
            self.lines.append(line)

    def text(self):
        return ''.join(self.lines)

    def wait_for(self, needle, timeout=30, count=1):
        return wait_until(lambda: self.text().count(needle) >= count,
                          timeout, repr(needle))

    def join(self, timeout=10):
        self._thread.join(timeout)
