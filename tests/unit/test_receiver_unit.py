"""The receiver's systemd unit agrees with the code's bounds."""

import configparser
import pathlib

from ceilometer_export import opts
from ceilometer_export.receiver import process

UNIT = (pathlib.Path(__file__).parents[2] / 'etc' / 'systemd'
        / 'ceilometer-export-receiver.service')


def _service():
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read(UNIT)
    return parser['Service']


def _default(name):
    return next(o.default for o in opts.EXPORT_OPTS if o.name == name)


def test_notify_watchdog_and_stop_bounds():
    service = _service()
    assert service['Type'] == 'notify'
    assert service['NotifyAccess'] == 'main'
    assert 'kill -HUP' in service['ExecReload']
    # A transaction is seen stuck after STALLED_AFTER; the watchdog must
    # leave room for the last promise and a beat.
    assert int(service['WatchdogSec']) > 2 * process.STALLED_AFTER
    assert int(service['TimeoutStopSec']) > _default('stop_timeout')
    assert service['RestartPreventExitStatus'] == '2'
    assert service['TimeoutStartSec'] == 'infinity'
