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
