"""Differential test of qsearch's TOML parser against Python's tomllib.

Usage: /usr/bin/python3 tests/toml_peer.py DECODER [--seed N] [--random N] [--mutants N]

DECODER is `test_toml` built from tests/test_toml.c: with --decode it reads
TOML on stdin and prints toml-test's tagged JSON, or exits 1 with
"FILE:LINE:COL: message" on stderr. Documents: a fixed corpus, seeded random
valid documents, and seeded single-edit mutants of those (which are mostly
invalid). For each, both parsers must agree on accept/reject, and on the
exact typed values when they accept. Known, intended differences:
  - integers outside int64: TOML 1.0 requires an error; tomllib accepts them;
  - fractional seconds: compared at tomllib's microsecond precision;
  - (not generated here) year 0000 and a leading BOM: qsearch accepts both
    (RFC 3339 and toml-test allow them), tomllib rejects them.
Prints one line per disagreement, a line per group, and a last line
"N passed, N failed" counting the 3 groups.
"""
import datetime
import json
import math
import random
import subprocess
import sys
import tomllib

CORPUS = [
    'a = 1\nb = "two"\nc = 3.5\nd = true\n',
    's = "\\b\\t\\n\\f\\r\\"\\\\\\u00e9\\U0001F600"\n',
    'ml = """\nline one\n  line two \\\n   joined"""\nlit = \'C:\\path\'\n',
    "ml = '''\nraw \\n ''quoted'' '''\n",
    'i = [0, +1, -1, 1_000, 0xff, 0o17, 0b101, 9223372036854775807, -9223372036854775808]\n',
    'f = [0.0, -0.0, 1e10, 1E-10, 6.02e+23, 1_2.3_4, inf, -inf, +inf]\n',
    'n = nan\nm = -nan\n',
    'dt = [1979-05-27T07:32:00Z, 1979-05-27 07:32:00.123456-07:00, 1979-05-27T07:32:00,'
    ' 1979-05-27, 07:32:00, 00:00:00.5]\n',
    'frac = 1979-05-27T07:32:00.123456789Z\n',
    '[a.b.c]\nx = 1\n[a]\ny = 2\n[a.b]\nz = 3\n',
    '[[fruit]]\nname = "apple"\n[fruit.physical]\ncolor = "red"\n[[fruit.variety]]\nname = "x"\n'
    '[[fruit]]\nname = "banana"\n[[fruit.variety]]\nname = "y"\n',
    'a.b.c = 1\na.d = 2\n[e]\nf.g = 3\n',
    'inline = { a = 1, b.c = [1, { d = 2 }], e = {} }\n',
    '"quoted key" = 1\n\'lit key\' = 2\n"" = 3\n"a.b" = 4\n',
    '[a.b.c]\n[a]\nb.d = 1\n',
    '[fruit]\napple.color = "red"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true\n',
    'x = [\n  1,\n  # c\n  2,\n]\n',
    'a = 1\r\nb = """x\r\ny"""\r\n',
    'big = 9223372036854775808\n',
    'a = 1\na = 2\n',
    '[a]\n[a]\n',
    'a.b = 1\n[a]\n',
    '[a]\nb.c = 1\n[a.b]\n',
    'a = {x = 1}\na.y = 2\n',
    'a = [1]\n[[a]]\n',
    '[[a]]\n[a]\n',
    '[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n',
    'a = {x = 1,}\n',
    'a = {x = 1\n}\n',
    's = "\\e"\n',
    's = "\\uD800"\n',
    'n = 01\n',
    'n = 1__0\n',
    'n = -0x1\n',
    'f = 1.\n',
    'f = .1\n',
    'd = 2023-02-29\n',
    'd = 2024-02-29\n',
    't = 24:00:00\n',
    't = 23:59:60\n',
    't = 12:30\n',
    'd = 1979-05-27T07:32:00+24:00\n',
    '# \x7f\n',
    'a = "\x01"\n',
    'a = 1\rb = 2\n',
    "s = '''a''''''\n",
    's = """a"""""\n',
    '[]\n',
    '[a.]\n',
    'a = [1 2]\n',
    '= 1\n',
    'a b = 1\n',
]

# ---- random valid documents ----

def rand_digits(r, n, base_chars='0123456789'):
    return ''.join(r.choice(base_chars) for _ in range(n))


def with_underscores(r, digits):
    if len(digits) < 2 or r.random() < 0.6:
        return digits
    out = digits[0]
    for c in digits[1:]:
        if r.random() < 0.3:
            out += '_'
        out += c
    return out


def gen_int(r):
    kind = r.randrange(6)
    if kind == 0:
        return r.choice(['0', '+0', '-0', '9223372036854775807', '-9223372036854775808'])
    if kind == 1:
        return '0x' + with_underscores(r, rand_digits(r, r.randint(1, 15), '0123456789abcdefABCDEF'))
    if kind == 2:
        return '0o' + with_underscores(r, rand_digits(r, r.randint(1, 20), '01234567'))
    if kind == 3:
        return '0b' + with_underscores(r, rand_digits(r, r.randint(1, 60), '01'))
    head = r.choice('123456789') + rand_digits(r, r.randint(0, 17))
    return r.choice(['', '+', '-']) + with_underscores(r, head)


def gen_float(r):
    kind = r.randrange(5)
    if kind == 0:
        return r.choice(['', '+', '-']) + r.choice(['inf', 'nan'])
    ip = r.choice(['0', r.choice('123456789') + rand_digits(r, r.randint(0, 6))])
    s = r.choice(['', '+', '-']) + with_underscores(r, ip)
    if kind in (1, 2):
        s += '.' + with_underscores(r, rand_digits(r, r.randint(1, 8)))
    if kind in (2, 3, 4):
        s += r.choice('eE') + r.choice(['', '+', '-']) + rand_digits(r, r.randint(1, 3))
    return s


def gen_string(r):
    pieces = ['a', 'Z', ' ', 'é', '€', '😀', '#', '=', '[', '{', ',', "'", '\t']
    escapes = ['\\n', '\\t', '\\"', '\\\\', '\\b', '\\f', '\\r', '\\u00E9', '\\U0001F600', '\\u0000']
    kind = r.randrange(4)
    body = ''.join(r.choice(pieces) for _ in range(r.randint(0, 8)))
    if kind == 0:
        esc = ''.join(r.choice(pieces + escapes) for _ in range(r.randint(0, 8)))
        return '"' + esc.replace("'", "'") + '"'
    if kind == 1:
        return "'" + body.replace("'", '') + "'"
    if kind == 2:
        inner = ''.join(r.choice(pieces + escapes + ['\n', '""', '\\\n   ']) for _ in range(r.randint(0, 8)))
        return '"""' + r.choice(['', '\n']) + inner + '"""'
    inner = ''.join(r.choice(pieces + ['\n', "''", '\\']) for _ in range(r.randint(0, 8)))
    return "'''" + r.choice(['', '\n']) + inner.replace("'''", '') + "'''"


def gen_datetime(r):
    y, mo = r.randint(1, 9999), r.randint(1, 12)
    dmax = [31, 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28, 31, 30, 31, 30,
            31, 31, 30, 31, 30, 31][mo - 1]
    date = f'{y:04d}-{mo:02d}-{r.randint(1, dmax):02d}'
    time = f'{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}'
    if r.random() < 0.4:
        time += '.' + rand_digits(r, r.randint(1, 9))
    off = r.choice(['Z', 'z', f'{r.choice("+-")}{r.randint(0, 23):02d}:{r.randint(0, 59):02d}'])
    kind = r.randrange(4)
    if kind == 0:
        return date
    if kind == 1:
        return time
    sep = r.choice(['T', 't', ' '])
    return date + sep + time + (off if kind == 2 else '')


class Gen:
    def __init__(self, r):
        self.r = r
        self.n = 0

    def key(self):
        self.n += 1
        k = self.r.choice(['k', 'key_', 'a-b', 'Q']) + str(self.n)
        form = self.r.randrange(4)
        if form == 1:
            return f'"{k} é\\t"'
        if form == 2:
            return f"'{k}.x'"
        return k

    def value(self, depth=0):
        r = self.r
        kind = r.randrange(8 if depth < 3 else 6)
        if kind == 0:
            return gen_int(r)
        if kind == 1:
            return gen_float(r)
        if kind == 2:
            return gen_string(r)
        if kind == 3:
            return r.choice(['true', 'false'])
        if kind in (4, 5):
            return gen_datetime(r) if kind == 4 else gen_string(r)
        if kind == 6:
            items = [self.value(depth + 1) for _ in range(r.randint(0, 4))]
            sep = r.choice([', ', ',\n  ', ' , ', ', # c\n'])
            return '[' + sep.join(items) + (r.choice(['', ',']) if items else '') + ']'
        pairs = [f'{self.dotted()} = {self.value(depth + 1)}' for _ in range(r.randint(0, 3))]
        return '{' + ', '.join(pairs) + '}'

    def dotted(self):
        parts = [self.key() for _ in range(self.r.choice([1, 1, 1, 2, 3]))]
        return self.r.choice(['.', ' . ']).join(parts)

    def doc(self):
        r = self.r
        lines = []
        for _ in range(r.randint(0, 4)):
            lines.append(f'{self.dotted()} = {self.value()}' + r.choice(['', ' # c', '\t']))
        for _ in range(r.randint(0, 4)):
            name = self.dotted()
            if r.random() < 0.3:
                for _ in range(r.randint(1, 3)):
                    lines.append(f'[[{name}]]')
                    for _ in range(r.randint(0, 3)):
                        lines.append(f'{self.dotted()} = {self.value()}')
                    if r.random() < 0.5:
                        lines.append(f'[{name}.{self.key()}]')
                        lines.append(f'{self.key()} = {self.value()}')
            else:
                lines.append(r.choice(['', '  ']) + f'[{name}]' + r.choice(['', ' # t']))
                for _ in range(r.randint(0, 4)):
                    lines.append(f'{self.dotted()} = {self.value()}')
        nl = '\r\n' if r.random() < 0.2 else '\n'
        return nl.join(lines) + r.choice(['', nl])


ALPHABET = list('"\'\\=[]{},.#_+-:0123456789abefnxoTZ \t\n\r') + ['\x00', '\x7f', 'é', '\ud800x']


def mutate(r, text):
    i = r.randrange(len(text) + 1)
    op = r.randrange(3)
    c = r.choice(ALPHABET)
    if c == '\ud800x':
        return None  # not encodable: skip
    if op == 0 or not text:
        return text[:i] + c + text[i:]
    i = min(i, len(text) - 1)
    return text[:i] + ('' if op == 1 else c) + text[i + 1:]


# ---- comparison ----

def parse_rfc3339(s):
    date = time = None
    tz = None
    if len(s) >= 10 and s[4] == '-':
        y, mo, d = int(s[0:4]), int(s[5:7]), int(s[8:10])
        date = datetime.date(y, mo, d)
        s = s[11:]
    if s:
        h, mi, se = int(s[0:2]), int(s[3:5]), int(s[6:8])
        rest = s[8:]
        us = 0
        if rest.startswith('.'):
            j = 1
            while j < len(rest) and rest[j].isdigit():
                j += 1
            us = int(rest[1:j][:6].ljust(6, '0'))
            rest = rest[j:]
        if rest == 'Z':
            tz = datetime.timezone.utc
        elif rest:
            sign = -1 if rest[0] == '-' else 1
            tz = datetime.timezone(sign * datetime.timedelta(hours=int(rest[1:3]), minutes=int(rest[4:6])))
        time = datetime.time(h, mi, se, us)
    if date and time:
        return datetime.datetime.combine(date, time).replace(tzinfo=tz)
    return date if date else time


def from_tagged(j):
    if isinstance(j, list):
        return [from_tagged(x) for x in j]
    if set(j) == {'type', 'value'} and isinstance(j['value'], str):
        t, v = j['type'], j['value']
        if t == 'string':
            return v
        if t == 'integer':
            return int(v)
        if t == 'float':
            return float(v)
        if t == 'bool':
            return v == 'true'
        return parse_rfc3339(v)
    return {k: from_tagged(x) for k, x in j.items()}


def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, datetime.datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    return a == b


def has_big_int(v):
    if isinstance(v, dict):
        return any(has_big_int(x) for x in v.values())
    if isinstance(v, list):
        return any(has_big_int(x) for x in v)
    return type(v) is int and not -2**63 <= v < 2**63


def check(decoder, text):
    """Returns None when the parsers agree, else a description."""
    data = text.encode('utf-8', 'surrogatepass')
    try:
        want = tomllib.loads(data.decode('utf-8'))
        want_err = None
        if has_big_int(want):
            want, want_err = None, 'integer out of int64 range (TOML 1.0: must be rejected)'
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        want, want_err = None, str(e)
    r = subprocess.run([decoder, '--decode'], input=data, capture_output=True, timeout=20)
    if r.returncode not in (0, 1):
        return f'decoder crashed (exit {r.returncode}): {r.stderr.decode(errors="replace")[:200]}'
    if r.returncode == 1:
        msg = r.stderr.decode(errors='replace').strip()
        if not msg.startswith('<stdin>:') or len(msg.split(':')) < 4:
            return f'error without FILE:LINE:COL: {msg}'
        return None if want_err else f'qsearch rejects, tomllib accepts: {msg}'
    if want_err:
        return f'qsearch accepts, tomllib rejects: {want_err}'
    got = from_tagged(json.loads(r.stdout))
    return None if same(got, want) else f'values differ: qsearch {got!r} vs tomllib {want!r}'


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    decoder = args[0]
    opts = {'--seed': 1, '--random': 150, '--mutants': 500}
    for i in range(1, len(args) - 1, 2):
        opts[args[i]] = int(args[i + 1])
    r = random.Random(opts['--seed'])
    docs = [('corpus', t) for t in CORPUS]
    gen = Gen(r)
    valid = [gen.doc() for _ in range(opts['--random'])]
    docs += [('random', t) for t in valid]
    for _ in range(opts['--mutants']):
        m = mutate(r, r.choice(valid))
        if m is not None:
            docs.append(('mutant', m))
    # one test per group (corpus, random, mutant): it passes when every document agrees
    groups = {}
    for kind, text in docs:
        problem = check(decoder, text)
        agree, total = groups.get(kind, (0, 0))
        groups[kind] = (agree + (problem is None), total + 1)
        if problem:
            print(f'{kind} document {text!r}: {problem}', file=sys.stderr)
    for kind, (agree, total) in groups.items():
        print(f'  {"ok  " if agree == total else "FAIL"} {kind}: {agree}/{total} documents agree',
              file=sys.stderr)
    passed = sum(1 for a, t in groups.values() if a == t)
    failed = len(groups) - passed
    print(f'{passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
