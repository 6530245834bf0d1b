"""What a SIGHUP changes, and what only a restart can.

A reload applies the mappings (added, removed, changed), ``[export]
poll_interval``, ``lookback`` and ``start_time``, and the log level
(``[DEFAULT] debug``) from the next pass on. Every other changed option is
named in a warning: the process runs on with its old value until it is
restarted. Values are compared, never printed (some are secrets).
"""

import logging

from oslo_config import cfg
from oslo_log import log

LOG = log.getLogger(__name__)
APPLIED = frozenset([('export', 'poll_interval'), ('export', 'lookback'),
                     ('export', 'start_time'), ('DEFAULT', 'debug'),
                     ('DEFAULT', 'config_file'), ('DEFAULT', 'config_dir')])
# Groups whose changes are only ever taken at start-up.
RESTART_GROUPS = ('database', 'metrics', 'coordination')


def log_changes(old_conf, new_conf, old_mappings, new_mappings) -> None:
    """Log the mapping changes and the options that need a restart."""
    added, removed, changed = mapping_changes(old_mappings, new_mappings)
    LOG.info('configuration reloaded; from the next pass: %d mappings '
             '(added: %s; removed: %s; changed: %s), poll_interval %d s',
             len(new_mappings), ', '.join(added) or '-',
             ', '.join(removed) or '-', ', '.join(changed) or '-',
             new_conf.export.poll_interval)
    for group, name in restart_needed(old_conf, new_conf):
        LOG.warning('[%s] %s changed: takes effect after a restart '
                    '(the running value is kept)', group, name)


def mapping_changes(old_mappings, new_mappings) -> tuple:
    """(added, removed, changed) mapping names, each sorted."""
    old = {m.name: m for m in old_mappings}
    new = {m.name: m for m in new_mappings}
    return (sorted(set(new) - set(old)), sorted(set(old) - set(new)),
            sorted(n for n in set(old) & set(new)
                   if _differs(old[n], new[n])))


def _differs(a, b):
    return (a.query.fingerprint() != b.query.fingerprint()
            or tuple(a.meters) != tuple(b.meters))


def restart_needed(old_conf, new_conf) -> list:
    """(group, option) pairs whose value changed and is not applied."""
    found = []
    for group in _groups(old_conf):
        for name, value in _values(old_conf, group).items():
            if (group, name) in APPLIED:
                continue
            if _values(new_conf, group).get(name, value) != value:
                found.append((group, name))
    # The groups that need a restart first, as the operator reads them.
    found.sort(key=lambda pair: (pair[0] not in RESTART_GROUPS, pair))
    return found


def _groups(conf):
    return ['DEFAULT'] + sorted(g for g in conf if _is_group(conf, g))


def _is_group(conf, name):
    try:
        return hasattr(conf[name], 'keys')
    except (cfg.Error, ValueError):
        return False


def _values(conf, group):
    section = conf if group == 'DEFAULT' else conf[group]
    values = {}
    for name in section:
        try:
            value = section[name]
        except (cfg.Error, ValueError):   # compared as None
            value = None
        if not hasattr(value, 'keys'):
            values[name] = value
    return values


def apply_log_level(conf) -> None:
    """[DEFAULT] debug, as oslo.log sets it at start-up."""
    level = logging.DEBUG if conf.debug else logging.INFO
    logging.getLogger().setLevel(level)
