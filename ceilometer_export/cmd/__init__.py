"""Console scripts. Each is a thin ``main()``: parse, build, run, and turn
the documented errors into the documented exit codes."""

import os
import sys
import typing

from ceilometer_export import errors

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def guarded(prog: str, body: typing.Callable[[], int]) -> int:
    """Run a script's body; documented errors become exit codes.

    ConfigError (bad configuration or usage): 2; any other ExportError
    (database, API, coordination): 1; both one line on stderr. A reader
    that closes our stdout early (``| head``) ends the script quietly.
    """
    try:
        return body()
    except errors.ConfigError as exc:
        return fail(prog, exc, EXIT_USAGE)
    except errors.Interrupted:
        return EXIT_OK      # a stop asked for while waiting: logged there
    except errors.ExportError as exc:
        return fail(prog, exc, EXIT_FAILED)
    except BrokenPipeError:
        # Python would report the failed flush of stdout again at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def fail(prog, exc, code):
    """One line on stderr, no traceback."""
    print('%s: error: %s' % (prog, exc), file=sys.stderr)
    return code


def table(columns, rows, max_width=None):
    """Rows (dicts) as aligned text columns; None shows as '-'."""
    def cell(value):
        text = '-' if value is None else str(value)
        if max_width and len(text) > max_width:
            return text[:max_width - 3] + '...'
        return text
    grid = [list(columns)] + [[cell(r[c]) for c in columns] for r in rows]
    widths = [max(len(line[i]) for line in grid)
              for i in range(len(columns))]
    return '\n'.join('  '.join(v.ljust(w) for v, w in zip(line, widths))
                     .rstrip() for line in grid)
