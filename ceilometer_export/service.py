"""Build a validated configuration for one command.

Each command gets its own ``ConfigOpts`` (no global CONF at import time),
with every option registered from ``opts.list_opts()``. Everything is
checked before any work starts, so a mistake is reported once, by name,
with exit code 2 rather than as a traceback half-way through a pass.
"""

import contextlib
import dataclasses
import glob
from importlib import metadata
import io
import os
import re
import stat

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_log import log

from ceilometer_export import errors
from ceilometer_export import mappings
from ceilometer_export import opts
from ceilometer_export import timeutil

PROJECT = 'ceilometer-export'
MAPPING_PREFIX = 'mapping:'
LOG = log.getLogger(__name__)
# Option names whose value is a secret in any section: the product's own
# secret options and keystoneauth's.
_SECRET_NAMES = frozenset(('password', 'token', 'connection', 'backend_url',
                           'application_credential_secret'))


def version() -> str:
    try:
        return metadata.version(PROJECT)
    except metadata.PackageNotFoundError:
        return 'unknown'


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


def parse(argv, cli_opts=(), description=None) -> cfg.ConfigOpts:
    """A new ConfigOpts from argv and the config files it names.

    Raises ConfigError (one line) for anything wrong in them, including
    option values oslo.config and argparse reject on the command line.
    """
    conf = new_conf(cli_opts)
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            conf(argv, project=PROJECT, description=description,
                 default_config_files=[], version=version())
    except cfg.Error as exc:
        raise errors.ConfigError(_oslo_message(exc)) from None
    except SystemExit as exc:
        if not exc.code:    # --help, --version
            raise
        raise errors.ConfigError(_usage_message(captured.getvalue())) \
            from None
    if not (conf.log_file or conf.log_dir or conf.use_journal
            or conf.log_config_append):
        # oslo.log would fall back to stdout, which carries the commands'
        # output. With a log file, use_stderr stays as configured.
        conf.set_override('use_stderr', True)
    # Every script: a typo is never ignored, and no silent SQLite file.
    _reject_unknown_options(_read_sections(conf))
    if not conf.database.connection:
        raise errors.ConfigError(
            '[database] connection: required, there is no default (e.g. '
            'postgresql+psycopg2://USER:PASS@HOST/DB or '
            'sqlite:////var/lib/ceilometer-export/export.sqlite)')
    return conf


def prepare_service(argv, cli_opts=(), description=None) -> cfg.ConfigOpts:
    """parse(), then logging; warns about config files others can read."""
    conf = parse(argv, cli_opts, description)
    log.setup(conf, PROJECT)
    for path in _config_files(conf):
        _warn_if_readable(path)
    return conf


def _usage_message(text):
    """argparse's or oslo.config's complaint, without the usage lines."""
    lines = [line for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else 'invalid command line'
    return re.sub(r'^\S+: error: ', '', last.strip())


def _is_secret(name, value):
    if name not in _SECRET_NAMES or not value:
        return False
    if name in ('connection', 'backend_url'):
        # Only URLs with a password in them.
        return bool(re.search(r'://[^/]*:[^/]*@', value))
    return True


def _warn_if_readable(path):
    try:
        mode = os.stat(path).st_mode
        parsed = {}
        cfg.ConfigParser(path, parsed).parse()
    except (OSError, cfg.ParseError):
        return
    if not mode & stat.S_IROTH:
        return
    secrets = ['[%s] %s' % (section, name)
               for section, options in parsed.items()
               for name, values in options.items()
               if _is_secret(name, values[-1])]
    if secrets:
        LOG.warning('%s holds secrets (%s) and is readable by every user '
                    '(mode %04o): chmod o-rwx it', path, ', '.join(secrets),
                    stat.S_IMODE(mode))


def load_settings(conf):
    """Validate every option and the mapping sections."""
    sections = _read_sections(conf)
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
