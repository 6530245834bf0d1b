"""Running the real exporter against the bundled simulator.

Config files are written exactly as an operator would write them; the
exporter authenticates with keystoneauth1 and reads through
python-ceilometerclient over HTTP.
"""

import os
import subprocess
import sys
import textwrap

import sqlalchemy as sa

from ceilometer_export.store import schema
from ceilometer_export import timeutil

ADMIN_PASSWORD = 'secret'


def write_config(path, sim, db_url, mappings, auth='password',
                 password=ADMIN_PASSWORD, credentials=None, **sections):
    """Write an ini file; ``sections`` maps 'section' -> {option: value}.

    ``credentials`` replaces the [service_credentials] built for ``sim``
    (e.g. the real upstream API's token credentials).
    """
    creds = credentials or {
        'password': {'auth_type': 'password',
                     'auth_url': sim.keystone_url + '/v3',
                     'username': 'admin', 'password': password,
                     'project_name': 'admin',
                     'user_domain_name': 'Default',
                     'project_domain_name': 'Default'},
        'v2password': {'auth_type': 'v2password',
                       'auth_url': sim.keystone_url + '/v2.0',
                       'username': 'admin', 'password': password,
                       'tenant_name': 'admin'},
    }[auth]
    body = {'service_credentials': creds,
            'database': {'connection': db_url},
            'ceilometer': {'max_retries': '2', 'retry_delay': '0.05',
                           'max_retry_delay': '0.1'}}
    for name, options in sections.items():
        body.setdefault(name, {}).update(options)
    for name, (query, meters) in mappings.items():
        body['mapping:%s' % name] = {'query': query, 'meters': meters}
    lines = []
    for section, options in body.items():
        lines.append('[%s]' % section)
        lines.extend('%s = %s' % kv for kv in options.items())
        lines.append('')
    path.write_text('\n'.join(lines))
    # As an operator should: it holds passwords (others get a warning).
    path.chmod(0o600)
    return str(path)


def script(name):
    """Path of a console script installed beside this Python."""
    return os.path.join(os.path.dirname(sys.executable), name)


def run(name, *args, timeout=120, **kwargs):
    """A console script as a separate process, as a user runs it."""
    return subprocess.run([script(name)] + list(args), capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def configure(path, sim, db_url, mappings, **kwargs):
    """write_config, then ceilometer-export-dbsync on it (must succeed)."""
    conf = write_config(path, sim, db_url, mappings, **kwargs)
    result = run('ceilometer-export-dbsync', '--config-file', conf)
    assert result.returncode == 0, result.stderr
    return conf


def start(name, *args, **kwargs):
    """A console script started in the background."""
    return subprocess.Popen([script(name)] + list(args), **kwargs)


def exported(db_url):
    """{message_id: row} of the samples table, in the API's field form."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(schema.samples)).mappings().all()
    finally:
        engine.dispose()
    return {r['message_id']: _api_form(r) for r in rows}


def _api_form(row):
    out = {k: row[k] for k in ('message_id', 'counter_name', 'counter_type',
                               'counter_unit', 'counter_volume', 'user_id',
                               'project_id', 'resource_id', 'source',
                               'resource_metadata')}
    out['timestamp'] = timeutil.format_api(row['timestamp'])
    out['recorded_at'] = (row['recorded_at'] and
                          timeutil.format_api(row['recorded_at']))
    return out


def expected(sim, meters=None, where=None):
    """{message_id: sample} the simulator serves, optionally filtered."""
    found = {}
    for s in sim.samples():
        if meters is not None and s['counter_name'] not in meters:
            continue
        if where is not None and not where(s):
            continue
        found[s['message_id']] = {k: s[k] for k in (
            'message_id', 'counter_name', 'counter_type', 'counter_unit',
            'counter_volume', 'user_id', 'project_id', 'resource_id',
            'source', 'resource_metadata', 'timestamp', 'recorded_at')}
    return found


def checkpoints(db_url):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(schema.export_checkpoints))
            return {(r.mapping, r.meter): r for r in rows}
    finally:
        engine.dispose()


def dedent(text):
    return textwrap.dedent(text).lstrip()
