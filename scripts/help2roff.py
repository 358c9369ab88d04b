#!/usr/bin/env python3
"""Write a man page from a program's own --help text (mlpd(8), mlp-worker(1)).

Usage: help2roff.py PROGRAM SECTION "one-line description" [SEE ALSO...]

The page is the program's --help output verbatim (mlpd's comes from its
settings table, mlp-worker's from its usage text), so it cannot drift from
what the program accepts; meson builds it from the built binaries.
"""
import os
import subprocess
import sys


def esc(line):
    line = line.replace('\\', '\\e').replace('-', '\\-')
    return '\\&' + line if line.startswith(('.', "'")) else line


def main():
    prog, section, what = sys.argv[1], sys.argv[2], sys.argv[3]
    name = os.path.basename(prog)
    text = subprocess.run([prog, '--help'], capture_output=True, text=True, check=True).stdout
    lines = text.rstrip('\n').split('\n')
    synopsis = lines[0][len('usage: '):] if lines[0].startswith('usage: ') else name
    out = ['.TH %s %s "" "mlpsweep" "%s"' % (name.upper(), section,
                                              'System Administration' if section == '8' else 'User Commands'),
           '.SH NAME', '%s \\- %s' % (esc(name), esc(what)),
           '.SH SYNOPSIS', esc(synopsis),
           '.SH DESCRIPTION', '.nf'] + [esc(l) for l in lines[1:]] + ['.fi']
    if len(sys.argv) > 4:
        out += ['.SH SEE ALSO', ',\n'.join('.BR %s (%s)' % tuple(s.split('.')) for s in sys.argv[4:])]
    sys.stdout.write('\n'.join(out) + '\n')


main()
