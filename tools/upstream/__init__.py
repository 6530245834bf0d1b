"""The real upstream Ceilometer, run by tests (see tools/upstream_ceilometer.py)."""
