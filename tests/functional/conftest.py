"""Fixtures for functional tests: a throwaway database per test on every
backend, real servers only.

PostgreSQL and MariaDB URLs come from CEILOMETER_EXPORT_TEST_PG_URL and
CEILOMETER_EXPORT_TEST_MYSQL_URL (defaults: the local servers). A test is
skipped only when its server is really unreachable, with the reason.
"""

import os
import uuid

import pytest
import sqlalchemy as sa

from tests.functional import privatepg

PG_URL = os.environ.get('CEILOMETER_EXPORT_TEST_PG_URL',
                        'postgresql+psycopg2://postgres@127.0.0.1:5432/test')
MYSQL_URL = os.environ.get('CEILOMETER_EXPORT_TEST_MYSQL_URL',
                           'mysql+pymysql://root@127.0.0.1:3306/test')
BACKENDS = ('sqlite', 'postgresql', 'mysql')


def _server_url(backend):
    return sa.engine.make_url(PG_URL if backend == 'postgresql'
                              else MYSQL_URL)


def _admin_engine(backend):
    url = _server_url(backend)
    try:
        engine = sa.create_engine(url, isolation_level='AUTOCOMMIT')
        engine.connect().close()
    except sa.exc.OperationalError as exc:
        reason = ('%s server unreachable at %s: %s'
                  % (backend, url.render_as_string(hide_password=True),
                     str(exc).splitlines()[0]))
        # CI has every server: there a skip would hide a broken setup.
        if os.environ.get('CEILOMETER_EXPORT_REQUIRE_DATABASES'):
            pytest.fail(reason)
        pytest.skip(reason)
    return engine


@pytest.fixture
def make_db_url(tmp_path):
    """Factory: a fresh empty database URL on the given backend."""
    created = []

    def make(backend):
        name = 'cetest_%s' % uuid.uuid4().hex[:12]
        if backend == 'sqlite':
            return 'sqlite:///%s' % (tmp_path / (name + '.sqlite'))
        engine = _admin_engine(backend)
        with engine.connect() as conn:
            conn.execute(sa.text('CREATE DATABASE %s' % name))
        created.append((engine, name))
        return _server_url(backend).set(database=name).render_as_string(
            hide_password=False)

    yield make
    for engine, name in created:
        with engine.connect() as conn:
            if engine.dialect.name == 'postgresql':
                conn.execute(sa.text(
                    'SELECT pg_terminate_backend(pid) FROM '
                    'pg_stat_activity WHERE datname = :n AND '
                    'pid <> pg_backend_pid()'), {'n': name})
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % name))
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request, make_db_url):
    """A fresh empty database on each backend in turn."""
    return make_db_url(request.param)


@pytest.fixture
def private_pg():
    """A private PostgreSQL server (not started yet); removed afterwards."""
    server = privatepg.PrivatePostgres()
    yield server
    server.remove()
