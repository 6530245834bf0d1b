"""systemd's notification protocol (sd_notify), by hand.

A datagram of ``KEY=VALUE`` lines sent to the AF_UNIX socket named by
``$NOTIFY_SOCKET`` (a path, or an abstract name written with a leading
'@'). Only the main process sends: the variables are removed from the
environment so that children never inherit them, and a forked child's
notifier stays silent. Without ``$NOTIFY_SOCKET`` every call does nothing.
"""

import os
import socket
import time

from oslo_log import log

LOG = log.getLogger(__name__)
_VARIABLES = ('NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID')


class Notifier(object):

    def __init__(self, environ=os.environ):
        values = {name: environ.pop(name, None) for name in _VARIABLES}
        self._pid = os.getpid()
        self._address = _address(values['NOTIFY_SOCKET'])
        self.watchdog_seconds = _watchdog(values['WATCHDOG_USEC'],
                                          values['WATCHDOG_PID'])
        self._socket = None
        if self._address is not None:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM
                                         | socket.SOCK_CLOEXEC)

    def send(self, *fields) -> bool:
        """Send ('KEY', value) pairs as one message; True when sent."""
        if self._socket is None or os.getpid() != self._pid:
            return False
        text = '\n'.join('%s=%s' % (key, _one_line(value))
                         for key, value in fields)
        try:
            self._socket.sendto(text.encode('utf-8'), self._address)
        except OSError as exc:
            # systemd gone or the socket full: never fatal to the export.
            LOG.debug('sd_notify %r failed: %s', text, exc)
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send(('READY', 1), ('STATUS', status))

    def reloading(self) -> bool:
        # MONOTONIC_USEC lets Type=notify-reload match the reload to us.
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send(('RELOADING', 1), ('MONOTONIC_USEC', usec))

    def stopping(self) -> bool:
        return self.send(('STOPPING', 1), ('STATUS', 'stopping'))

    def watchdog(self) -> bool:
        return self.send(('WATCHDOG', 1))

    def status(self, text: str) -> bool:
        return self.send(('STATUS', text))


def _address(value):
    if not value:
        return None
    if value.startswith('@'):
        return '\0' + value[1:]
    return value


def _watchdog(usec, pid):
    """The watchdog period in seconds, when it is meant for this process."""
    if not usec:
        return None
    if pid and pid != str(os.getpid()):
        return None
    try:
        seconds = int(usec) / 1e6
    except ValueError:
        LOG.warning('ignoring WATCHDOG_USEC=%r: not a number', usec)
        return None
    return seconds if seconds > 0 else None


def _one_line(value):
    return ' '.join(str(value).split())
