"""Database URLs: documented drivers, and passwords never shown."""

import pytest

from ceilometer_export import errors
from ceilometer_export.store import engine


@pytest.mark.parametrize('given,driver', [
    ('postgresql://u:p@h/db', 'postgresql+psycopg2'),
    ('postgresql+psycopg2://u:p@h/db', 'postgresql+psycopg2'),
    ('mysql://u:p@h/db', 'mysql+pymysql'),
    ('mysql+pymysql://u:p@h/db', 'mysql+pymysql'),
    ('sqlite:////tmp/x.sqlite', 'sqlite'),
])
def test_urls_without_driver_mean_the_shipped_drivers(given, driver):
    assert engine.parse_url(given).drivername == driver


def test_mysql_gets_utf8mb4():
    assert engine.parse_url('mysql://u@h/db').query['charset'] == 'utf8mb4'


def test_safe_url_masks_the_password():
    url = engine.parse_url('postgresql://u:Pa55word@h/db')
    assert 'Pa55word' not in engine.safe(url)


@pytest.mark.parametrize('given,shown', [
    ('mysql+pymysql://root:sec@ret9@127.0.0.1/db',
     'mysql+pymysql://***@127.0.0.1/db'),
    ('postgresql://u:a:b/c@h:5432/db?x=1', 'postgresql://***@h:5432/db?x=1'),
    ('postgresql://u:p%40q@h/db', 'postgresql://***@h/db'),
    ('sqlite:////var/lib/x.sqlite', 'sqlite:////var/lib/x.sqlite'),
])
def test_everything_between_scheme_and_host_is_masked(given, shown):
    assert engine.safe(given) == shown


@pytest.mark.parametrize('bad', ['not a url', 'postgresql://u:Pa55word@h:x/db',
                                 'oracle://u:Pa55word@h/db'])
def test_bad_urls_are_config_errors_without_the_password(bad):
    with pytest.raises(errors.ConfigError) as info:
        engine.make_engine(bad)
    assert 'Pa55word' not in str(info.value)
    assert '[database] connection' in str(info.value)
