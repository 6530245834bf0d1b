"""Build a validated configuration for one command.

Each command gets its own ``ConfigOpts`` (no global CONF at import time),
with every option registered from ``opts.list_opts()``. Everything is
checked before any work starts, so a mistake is reported once, by name,
with exit code 2 rather than as a traceback half-way through a pass.
"""

import dataclasses
import glob
import os

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_log import log

from ceilometer_export import errors
from ceilometer_export import mappings
from ceilometer_export import opts
from ceilometer_export import timeutil

PROJECT = 'ceilometer-export'
MAPPING_PREFIX = 'mapping:'


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the configuration files say, checked and typed."""
    conf: cfg.ConfigOpts
    mappings: tuple
    start_time: object   # naive UTC datetime or None


def new_conf(cli_opts=()):
    conf = cfg.ConfigOpts()
    log.register_options(conf)
    # stdout belongs to the commands' output (status, stats, json); under
    # systemd both streams reach the journal anyway.
    log.set_defaults(default_log_levels=log.get_default_log_levels()
                     + ['alembic=WARN'])
    conf.set_default('use_stderr', True)
    for group, group_opts in opts.list_opts():
        if group != opts.CREDENTIALS_GROUP:
            conf.register_opts(group_opts, group=group)
    # keystoneauth registers the plugin's own options once auth_type is
    # known; registering the password plugin's here would clash with it.
    ks_loading.register_auth_conf_options(conf, opts.CREDENTIALS_GROUP)
    ks_loading.register_session_conf_options(conf, opts.CREDENTIALS_GROUP)
    opts.set_credentials_defaults(conf)
    conf.register_opts(opts.CREDENTIALS_EXTRA_OPTS, opts.CREDENTIALS_GROUP)
    conf.register_cli_opts(list(cli_opts))
    return conf


def prepare_service(argv, cli_opts=(), description=None):
    """Parse argv and the config files; set up logging.

    Raises ConfigError for anything wrong in the files or the options.
    """
    conf = new_conf(cli_opts)
    try:
        conf(argv, project=PROJECT, description=description,
             default_config_files=[])
    except cfg.Error as exc:
        raise errors.ConfigError(_oslo_message(exc)) from None
    except SystemExit as exc:
        # oslo.config has printed why a command-line value is invalid and
        # exits 1 (argparse itself exits 2): a usage error is 2 everywhere.
        if exc.code == 1:
            raise SystemExit(2) from None
        raise
    log.setup(conf, PROJECT)
    return conf


def load_settings(conf):
    """Validate every option and the mapping sections."""
    sections = _read_sections(conf)
    _reject_unknown_options(sections)
    _check_values(conf)
    found = _mappings(sections)
    if conf.ceilometer.query_mode == 'simple':
        for mapping in found:
            try:
                mapping.query.simple_q()
            except mappings.MappingError as exc:
                raise errors.ConfigError(
                    '%s (with [ceilometer] query_mode = simple)' % exc
                ) from None
    return Settings(conf=conf, mappings=found, start_time=_start_time(conf))


def _oslo_message(exc):
    # oslo.config messages can span lines; the contract is one line.
    return ' '.join(str(exc).split())


def _config_files(conf):
    files = list(conf.config_file or [])
    for directory in conf.config_dir or []:
        files.extend(sorted(glob.glob(os.path.join(directory, '*.conf'))))
    return files


def _read_sections(conf):
    """{section: {option: value}} merged over the files, later wins."""
    merged = {}
    for path in _config_files(conf):
        parsed = {}
        try:
            cfg.ConfigParser(path, parsed).parse()
        except (cfg.ParseError, OSError) as exc:
            raise errors.ConfigError(_oslo_message(exc)) from None
        for section, options in parsed.items():
            target = merged.setdefault(section, {})
            for name, values in options.items():
                target[name] = values[-1]
    return merged


def _reject_unknown_options(sections):
    for group in opts.STRICT_GROUPS:
        known = opts.all_option_names(group)
        for name in sections.get(group, {}):
            if name not in known:
                raise errors.ConfigError(
                    '[%s] %s: unknown option (known: %s)'
                    % (group, name, ', '.join(sorted(known))))


def _check_values(conf):
    # oslo.config converts lazily; touching each option makes a bad value
    # fail here, at start-up, with its section and name.
    for group, group_opts in opts.list_opts():
        for opt in group_opts:
            try:
                getattr(conf[group], opt.dest)
            except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
                continue
            except (ValueError, cfg.Error) as exc:
                raise errors.ConfigError(
                    '[%s] %s: %s' % (group, opt.dest, _oslo_message(exc))
                ) from None


def _start_time(conf):
    if not conf.export.start_time:
        return None
    try:
        return timeutil.parse_user(conf.export.start_time)
    except ValueError as exc:
        raise errors.ConfigError('[export] start_time: %s' % exc) from None


def _mappings(sections):
    found = []
    for section, options in sections.items():
        if not section.startswith(MAPPING_PREFIX):
            continue
        name = section[len(MAPPING_PREFIX):]
        try:
            found.append(mappings.parse_mapping(name, options))
        except mappings.MappingError as exc:
            raise errors.ConfigError(str(exc)) from None
    if not found:
        raise errors.ConfigError(
            'no [mapping:NAME] section: nothing to export (add one with '
            '"query" and "meters")')
    return tuple(found)


def select_mappings(settings, names):
    """The mappings named on the command line, in config order."""
    if not names:
        return settings.mappings
    known = {m.name for m in settings.mappings}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise errors.ConfigError(
            '--mapping %s: no such [mapping:%s] section (configured: %s)'
            % (unknown[0], unknown[0], ', '.join(sorted(known))))
    return tuple(m for m in settings.mappings if m.name in names)
