"""Console scripts. Each is a thin ``main()``: parse, build, run, and turn
the documented errors into the documented exit codes."""

import sys

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def fail(prog, exc, code):
    """One line on stderr, no traceback."""
    print('%s: error: %s' % (prog, exc), file=sys.stderr)
    return code
