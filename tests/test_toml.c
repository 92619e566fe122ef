/* TOML 1.0 parser: valid documents with exact values, invalid ones with their
 * line:column, lookups and typed errors, JSON forms, writer round trips.
 * `test_toml --decode` reads TOML on stdin and prints toml-test's tagged JSON
 * (a toml-test decoder; used by tests/toml_peer.py); `--encode` prints the
 * canonical TOML instead. Both exit 1 with the message on stderr for an
 * invalid document. */
#include <jansson.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "qsearch/toml.h"

/* ---- helpers ---- */

static qs_toml_doc *parse(const char *text)
{
    qs_toml_doc *doc = NULL;
    qs_error err;
    if (qs_toml_parse_string(text, strlen(text), "t.toml", &doc, &err) != QS_OK) {
        fprintf(stderr, "unexpected parse error: %s\n", err.msg);
        return NULL;
    }
    return doc;
}

static const qs_toml_value *at(const qs_toml_doc *doc, const char *path)
{
    return doc ? qs_toml_find(doc->root, path) : NULL;
}

static int64_t int_at(const qs_toml_doc *doc, const char *path)
{
    const qs_toml_value *v = at(doc, path);
    return v && v->type == QS_TOML_INTEGER ? v->u.i : INT64_C(-424242);
}

static double float_at(const qs_toml_doc *doc, const char *path)
{
    const qs_toml_value *v = at(doc, path);
    return v && v->type == QS_TOML_FLOAT ? v->u.f : -424242.0;
}

static const char *str_at(const qs_toml_doc *doc, const char *path)
{
    const qs_toml_value *v = at(doc, path);
    return v && v->type == QS_TOML_STRING ? v->u.s.ptr : NULL;
}

static int type_at(const qs_toml_doc *doc, const char *path)
{
    const qs_toml_value *v = at(doc, path);
    return v ? (int)v->type : -1;
}

static const char *dt_at(const qs_toml_doc *doc, const char *path, char *buf)
{
    const qs_toml_value *v = at(doc, path);
    if (!v)
        return NULL;
    qs_toml_datetime_str(v, buf, 64);
    return buf;
}

/* Trees equal: same types and values; table keys compared as sets. */
static int same_tree(const qs_toml_value *a, const qs_toml_value *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case QS_TOML_STRING:
        return a->u.s.len == b->u.s.len && memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0;
    case QS_TOML_INTEGER: return a->u.i == b->u.i;
    case QS_TOML_FLOAT:
        return (isnan(a->u.f) && isnan(b->u.f)) ||
               (a->u.f == b->u.f && signbit(a->u.f) == signbit(b->u.f));
    case QS_TOML_BOOLEAN: return a->u.b == b->u.b;
    case QS_TOML_ARRAY:
        if (a->u.arr.len != b->u.arr.len)
            return 0;
        for (size_t i = 0; i < a->u.arr.len; i++)
            if (!same_tree(a->u.arr.items[i], b->u.arr.items[i]))
                return 0;
        return 1;
    case QS_TOML_TABLE:
        if (a->u.tab.len != b->u.tab.len)
            return 0;
        for (size_t i = 0; i < a->u.tab.len; i++) {
            const qs_toml_entry *e = &a->u.tab.items[i];
            const qs_toml_value *o = qs_toml_table_getn(b, e->key, e->key_len);
            if (!o || !same_tree(e->value, o))
                return 0;
        }
        return 1;
    default: {
        const qs_toml_datetime *x = &a->u.dt, *y = &b->u.dt;
        return x->year == y->year && x->month == y->month && x->day == y->day &&
               x->hour == y->hour && x->minute == y->minute && x->second == y->second &&
               x->nanosecond == y->nanosecond && x->offset_minutes == y->offset_minutes;
    }
    }
}

/* Parses text, which must fail with "t.toml:LINE:COL: ...needle...". */
static void expect_error(int idx, const char *text, size_t len, int line, int col,
                         const char *needle)
{
    qs_toml_doc *doc = NULL;
    qs_error err;
    qs_error_clear(&err);
    qs_status st = qs_toml_parse_string(text, len, "t.toml", &doc, &err);
    char want[64];
    snprintf(want, sizeof want, "t.toml:%d:%d: ", line, col);
    if (st != QS_ERR_INPUT || strncmp(err.msg, want, strlen(want)) != 0 ||
        !strstr(err.msg, needle) || doc) {
        fprintf(stderr, "invalid case %d: want \"%s...%s\", got status %d \"%s\"\n", idx, want,
                needle, (int)st, err.msg);
        qs_test_failed_checks++;
    }
    qs_toml_free(doc);
}

/* ---- valid documents ---- */

static void test_basic_strings(void)
{
    qs_toml_doc *d = parse("esc = \"b\\bt\\tn\\nf\\fr\\rq\\\"s\\\\\"\n"
                           "uni = \"\\u00E9\\u20AC\\U0001F600\"\n"
                           "nul = \"a\\u0000b\"\n"
                           "raw = \"caf\xC3\xA9 \ttab\"\n"
                           "empty = \"\"\n"
                           "hash = \"# not a comment\"\n");
    CHECK(d != NULL);
    CHECK_STR(str_at(d, "esc"), "b\bt\tn\nf\fr\rq\"s\\");
    CHECK_STR(str_at(d, "uni"), "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    const qs_toml_value *nul = at(d, "nul");
    CHECK(nul && nul->u.s.len == 3 && memcmp(nul->u.s.ptr, "a\0b", 3) == 0);
    CHECK_STR(str_at(d, "raw"), "caf\xC3\xA9 \ttab");
    CHECK_STR(str_at(d, "empty"), "");
    CHECK_STR(str_at(d, "hash"), "# not a comment");
    qs_toml_free(d);
}

static void test_multiline_and_literal_strings(void)
{
    qs_toml_doc *d = parse("lit = 'C:\\Users\\x\\n'\n"
                           "ml = \"\"\"\nfirst\n  second\"\"\"\n"
                           "fold = \"\"\"The quick \\\n    brown \\\n\n   fox.\\\n\"\"\"\n"
                           "quotes = \"\"\"a \"quoted\" \"\"word\"\" here\"\"\"\"\"\n"
                           "mllit = '''\nno \\escapes\n''here'''''\n"
                           "crlf = \"\"\"x\r\ny\"\"\"\n"
                           "ws_bs = \"\"\"a\\   \t\n  b\"\"\"\n"
                           "one = \"\"\"\"\"\"\"\n");
    CHECK(d != NULL);
    CHECK_STR(str_at(d, "lit"), "C:\\Users\\x\\n");
    CHECK_STR(str_at(d, "ml"), "first\n  second");
    CHECK_STR(str_at(d, "fold"), "The quick brown fox.");
    CHECK_STR(str_at(d, "quotes"), "a \"quoted\" \"\"word\"\" here\"\"");
    CHECK_STR(str_at(d, "mllit"), "no \\escapes\n''here''");
    CHECK_STR(str_at(d, "crlf"), "x\ny");
    CHECK_STR(str_at(d, "ws_bs"), "ab");
    CHECK_STR(str_at(d, "one"), "\"");
    qs_toml_free(d);
}

static void test_integers(void)
{
    qs_toml_doc *d =
        parse("a = 42\nb = +17\nc = -5\nd = 0\ne = +0\nf = -0\ng = 1_000_000\nh = 5_3_4\n"
              "hex = 0xDEADbeef\nhexu = 0xdead_BEEF\noct = 0o755\nbin = 0b1101_0110\n"
              "max = 9223372036854775807\nmin = -9223372036854775808\n"
              "hmax = 0x7FFFFFFFFFFFFFFF\nz = 0x0\nzo = 0o0\n");
    CHECK(d != NULL);
    CHECK_INT(int_at(d, "a"), 42);
    CHECK_INT(int_at(d, "b"), 17);
    CHECK_INT(int_at(d, "c"), -5);
    CHECK_INT(int_at(d, "d"), 0);
    CHECK_INT(int_at(d, "e"), 0);
    CHECK_INT(int_at(d, "f"), 0);
    CHECK_INT(int_at(d, "g"), 1000000);
    CHECK_INT(int_at(d, "h"), 534);
    CHECK_INT(int_at(d, "hex"), 0xDEADBEEF);
    CHECK_INT(int_at(d, "hexu"), 0xDEADBEEF);
    CHECK_INT(int_at(d, "oct"), 0755);
    CHECK_INT(int_at(d, "bin"), 0xD6);
    CHECK(int_at(d, "max") == INT64_MAX);
    CHECK(int_at(d, "min") == INT64_MIN);
    CHECK(int_at(d, "hmax") == INT64_MAX);
    CHECK_INT(int_at(d, "z"), 0);
    CHECK_INT(int_at(d, "zo"), 0);
    qs_toml_free(d);
}

static void test_floats(void)
{
    qs_toml_doc *d =
        parse("a = 1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\ne = 1e06\nf = -2E-2\ng = 6.626e-34\n"
              "h = 224_617.445_991\ni = 0.0\nj = -0.0\nk = +1.5\nl = 1e1_0\nm = 0e0\n"
              "pi = inf\nppi = +inf\nni = -inf\nn = nan\npn = +nan\nnn = -nan\n"
              "big = 1.7976931348623157e308\ntiny = 5e-324\n");
    CHECK(d != NULL);
    CHECK(float_at(d, "a") == 1.0);
    CHECK(float_at(d, "b") == 3.1415);
    CHECK(float_at(d, "c") == -0.01);
    CHECK(float_at(d, "d") == 5e22);
    CHECK(float_at(d, "e") == 1e6);
    CHECK(float_at(d, "f") == -2e-2);
    CHECK(float_at(d, "g") == 6.626e-34);
    CHECK(float_at(d, "h") == 224617.445991);
    CHECK(float_at(d, "i") == 0.0 && !signbit(float_at(d, "i")));
    CHECK(float_at(d, "j") == 0.0 && signbit(float_at(d, "j")));
    CHECK(float_at(d, "k") == 1.5);
    CHECK(float_at(d, "l") == 1e10);
    CHECK(float_at(d, "m") == 0.0);
    CHECK(isinf(float_at(d, "pi")) && float_at(d, "pi") > 0);
    CHECK(isinf(float_at(d, "ppi")) && float_at(d, "ppi") > 0);
    CHECK(isinf(float_at(d, "ni")) && float_at(d, "ni") < 0);
    CHECK(isnan(float_at(d, "n")) && isnan(float_at(d, "pn")) && isnan(float_at(d, "nn")));
    CHECK(signbit(float_at(d, "nn")) && !signbit(float_at(d, "n")));
    CHECK(float_at(d, "big") == 1.7976931348623157e308);
    CHECK(float_at(d, "tiny") == 5e-324);
    CHECK_INT(type_at(d, "a"), QS_TOML_FLOAT);
    qs_toml_free(d);
    /* long numbers (beyond any fixed buffer) */
    char text[1400] = "x = 0.";
    memset(text + 6, '0', 600);
    strcpy(text + 606, "1e600\ny = 00");
    expect_error(0, text, strlen(text), 2, 5, "leading zeros");
    strcpy(text + 606, "1e600\ny = 1");
    for (int i = 0; i < 300; i++)
        strcat(text, "_0");
    strcat(text, "\n");
    expect_error(0, text, strlen(text), 2, 5, "integer out of range");
    strcpy(text + 606, "1e600\n");
    d = parse(text);
    CHECK(d && float_at(d, "x") == 1e-1);
    qs_toml_free(d);
}

static void test_booleans_and_comments(void)
{
    qs_toml_doc *d = parse("# leading comment\r\n\r\nt = true # trailing\r\n"
                           "f = false\t#\ttab comment \xC3\xA9\r\n   \t\n# last, no newline");
    CHECK(d != NULL);
    CHECK_INT(type_at(d, "t"), QS_TOML_BOOLEAN);
    CHECK(at(d, "t") && at(d, "t")->u.b == 1);
    CHECK(at(d, "f") && at(d, "f")->u.b == 0);
    CHECK(d && d->root->u.tab.len == 2);
    qs_toml_free(d);
    d = parse("");
    CHECK(d && d->root->type == QS_TOML_TABLE && d->root->u.tab.len == 0);
    qs_toml_free(d);
}

static void test_datetimes(void)
{
    char b[64];
    qs_toml_doc *d = parse("odt1 = 1979-05-27T07:32:00Z\nodt2 = 1979-05-27T00:32:00-07:00\n"
                           "odt3 = 1979-05-27T00:32:00.999999+05:30\nodt4 = 1979-05-27 07:32:00z\n"
                           "odt5 = 1979-05-27t07:32:00.5+00:00\n"
                           "ldt1 = 1979-05-27T07:32:00\nldt2 = 1979-05-27 00:32:00.999999\n"
                           "ld = 1979-05-27\nlt1 = 07:32:00\nlt2 = 00:32:00.999999\n"
                           "leap = 2000-02-29\nleap24 = 2024-02-29T23:59:59\n"
                           "trunc = 00:00:00.1234567891234\nend = 1999-12-31T23:59:59.000Z\n");
    CHECK(d != NULL);
    CHECK_INT(type_at(d, "odt1"), QS_TOML_OFFSET_DATETIME);
    CHECK_STR(dt_at(d, "odt1", b), "1979-05-27T07:32:00Z");
    CHECK_STR(dt_at(d, "odt2", b), "1979-05-27T00:32:00-07:00");
    CHECK(at(d, "odt2") && at(d, "odt2")->u.dt.offset_minutes == -420);
    CHECK_STR(dt_at(d, "odt3", b), "1979-05-27T00:32:00.999999+05:30");
    CHECK(at(d, "odt3") && at(d, "odt3")->u.dt.nanosecond == 999999000);
    CHECK_STR(dt_at(d, "odt4", b), "1979-05-27T07:32:00Z");
    CHECK_STR(dt_at(d, "odt5", b), "1979-05-27T07:32:00.5+00:00");
    CHECK_INT(type_at(d, "ldt1"), QS_TOML_LOCAL_DATETIME);
    CHECK_STR(dt_at(d, "ldt1", b), "1979-05-27T07:32:00");
    CHECK_STR(dt_at(d, "ldt2", b), "1979-05-27T00:32:00.999999");
    CHECK_INT(type_at(d, "ld"), QS_TOML_LOCAL_DATE);
    CHECK_STR(dt_at(d, "ld", b), "1979-05-27");
    CHECK(at(d, "ld") && at(d, "ld")->u.dt.year == 1979 && at(d, "ld")->u.dt.month == 5 &&
          at(d, "ld")->u.dt.day == 27);
    CHECK_INT(type_at(d, "lt1"), QS_TOML_LOCAL_TIME);
    CHECK_STR(dt_at(d, "lt1", b), "07:32:00");
    CHECK_STR(dt_at(d, "lt2", b), "00:32:00.999999");
    CHECK_STR(dt_at(d, "leap", b), "2000-02-29");
    CHECK_STR(dt_at(d, "leap24", b), "2024-02-29T23:59:59");
    CHECK_STR(dt_at(d, "trunc", b), "00:00:00.123456789");
    CHECK(at(d, "trunc") && at(d, "trunc")->u.dt.nanosecond == 123456789);
    CHECK_STR(dt_at(d, "end", b), "1999-12-31T23:59:59.000Z");
    qs_toml_free(d);
}

static void test_arrays(void)
{
    qs_toml_doc *d =
        parse("ints = [1, 2, 3]\nempty = []\nnested = [[1, 2], [\"a\", 'b'], [[]]]\n"
              "mixed = [1, 2.5, \"x\", true, 1979-05-27, {k = 1}, [0]]\n"
              "multi = [\n  1, # one\n  2,\n  # comment line\n  3,   # trailing comma next\n]\n"
              "crlf = [\r\n 1,\r\n 2\r\n]\n");
    CHECK(d != NULL);
    const qs_toml_value *a = at(d, "ints");
    CHECK(a && a->type == QS_TOML_ARRAY && a->u.arr.len == 3 && a->u.arr.items[2]->u.i == 3);
    CHECK(at(d, "empty") && at(d, "empty")->u.arr.len == 0);
    const qs_toml_value *n = at(d, "nested");
    CHECK(n && n->u.arr.len == 3 && n->u.arr.items[1]->u.arr.items[1]->type == QS_TOML_STRING);
    CHECK(n && n->u.arr.items[2]->u.arr.items[0]->type == QS_TOML_ARRAY);
    const qs_toml_value *m = at(d, "mixed");
    static const qs_toml_type want[] = {QS_TOML_INTEGER, QS_TOML_FLOAT,      QS_TOML_STRING,
                                        QS_TOML_BOOLEAN, QS_TOML_LOCAL_DATE, QS_TOML_TABLE,
                                        QS_TOML_ARRAY};
    CHECK(m && m->u.arr.len == 7);
    for (size_t i = 0; m && i < 7 && i < m->u.arr.len; i++)
        CHECK_INT(m->u.arr.items[i]->type, want[i]);
    const qs_toml_value *ml = at(d, "multi");
    CHECK(ml && ml->u.arr.len == 3 && ml->u.arr.items[1]->u.i == 2);
    CHECK(at(d, "crlf") && at(d, "crlf")->u.arr.len == 2);
    CHECK(m && m->u.arr.items[0]->parent == m);
    qs_toml_free(d);
}

static void test_tables_and_keys(void)
{
    qs_toml_doc *d =
        parse("top = 0\n"
              "bare_key-1 = 1\n\"quoted key\" = 2\n'lit.key' = 3\n\"\" = 4\n1234 = 5\n"
              "site.\"google.com\" = true\nphysical . color = \"orange\"\n"
              "[x.y.z.w]  # super-tables x, x.y, x.y.z implied\nv = 1\n"
              "[x]        # and defined afterwards\nu = 2\n"
              "[ j . \"\xCA\x9E\" . 'l' ]\nk = 3\n"
              "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n"
              "[fruit.apple.texture]\nsmooth = true\n"
              "[inl]\npoint = { x = 1, y = 2 }\nnest = { a.b = 1, a.c = { d = [] } }\n");
    CHECK(d != NULL);
    CHECK_INT(int_at(d, "bare_key-1"), 1);
    CHECK_INT(int_at(d, "\"quoted key\""), 2);
    CHECK_INT(int_at(d, "'lit.key'"), 3);
    CHECK_INT(int_at(d, "\"\""), 4);
    CHECK_INT(int_at(d, "1234"), 5);
    CHECK(at(d, "site.\"google.com\"") && at(d, "site.\"google.com\"")->u.b);
    CHECK_STR(str_at(d, "physical.color"), "orange");
    CHECK_INT(int_at(d, "x.y.z.w.v"), 1);
    CHECK_INT(int_at(d, "x.u"), 2);
    CHECK_INT(int_at(d, "j.\"\xCA\x9E\".l.k"), 3);
    CHECK_STR(str_at(d, "fruit.apple.color"), "red");
    CHECK(at(d, "fruit.apple.taste.sweet") && at(d, "fruit.apple.taste.sweet")->u.b);
    CHECK(at(d, "fruit.apple.texture.smooth") != NULL);
    CHECK_INT(int_at(d, "inl.point.y"), 2);
    CHECK_INT(int_at(d, "inl.nest.a.b"), 1);
    CHECK_INT(type_at(d, "inl.nest.a.c.d"), QS_TOML_ARRAY);
    /* keys in document order */
    const qs_toml_value *r = d ? d->root : NULL;
    CHECK(r && r->u.tab.len == 12);
    if (r && r->u.tab.len == 12) {
        CHECK_STR(r->u.tab.items[0].key, "top");
        CHECK_STR(r->u.tab.items[2].key, "quoted key");
        CHECK_STR(r->u.tab.items[4].key, "");
        CHECK_STR(r->u.tab.items[8].key, "x");
        CHECK_STR(r->u.tab.items[11].key, "inl");
    }
    /* positions: keys and values; an implicit table takes its header's position once defined */
    const qs_toml_value *x = at(d, "x");
    CHECK(x && x->line == 11 && x->col == 2);
    const qs_toml_value *u = at(d, "x.u");
    CHECK(u && u->line == 12 && u->col == 5);
    CHECK(r && r->u.tab.len > 2 && r->u.tab.items[2].line == 3 && r->u.tab.items[2].col == 1);
    const qs_toml_value *col = at(d, "physical.color");
    CHECK(col && col->line == 8 && col->col == 20);
    qs_toml_free(d);
}

static void test_arrays_of_tables(void)
{
    qs_toml_doc *d = parse("[[fruits]]\nname = \"apple\"\n"
                           "[fruits.physical]\ncolor = \"red\"\nshape = \"round\"\n"
                           "[[fruits.varieties]]\nname = \"red delicious\"\n"
                           "[[fruits.varieties]]\nname = \"granny smith\"\n"
                           "[[fruits]]\nname = \"banana\"\n"
                           "[[fruits.varieties]]\nname = \"plantain\"\n"
                           "[[empty]]\n[[empty]]\n"
                           "[[products]]\nname = \"Hammer\"\nsku = 738594937\n"
                           "[[products]]  # empty table in the array\n"
                           "[[products]]\nname = \"Nail\"\ncolor = \"gray\"\n"
                           "static = [ { name = \"x\" }, { name = \"y\", tags = [] } ]\n");
    CHECK(d != NULL);
    const qs_toml_value *f = at(d, "fruits");
    CHECK(f && f->type == QS_TOML_ARRAY && f->u.arr.len == 2);
    if (f && f->u.arr.len == 2) {
        const qs_toml_value *apple = f->u.arr.items[0], *banana = f->u.arr.items[1];
        CHECK_STR(qs_toml_find(apple, "physical.color")->u.s.ptr, "red");
        const qs_toml_value *v = qs_toml_table_get(apple, "varieties");
        CHECK(v && v->u.arr.len == 2);
        CHECK_STR(qs_toml_find(v->u.arr.items[1], "name")->u.s.ptr, "granny smith");
        v = qs_toml_table_get(banana, "varieties");
        CHECK(v && v->u.arr.len == 1);
        char path[128];
        qs_toml_path_str(qs_toml_find(v->u.arr.items[0], "name"), path, sizeof path);
        CHECK_STR(path, "fruits[1].varieties[0].name");
    }
    CHECK(at(d, "empty") && at(d, "empty")->u.arr.len == 2);
    const qs_toml_value *p = at(d, "products");
    CHECK(p && p->u.arr.len == 3 && p->u.arr.items[1]->u.tab.len == 0);
    CHECK(p && p->u.arr.len == 3 && qs_toml_find(p->u.arr.items[2], "color") != NULL);
    const qs_toml_value *s = at(d, "products");
    CHECK(s && qs_toml_table_get(s->u.arr.items[2], "static") != NULL);
    qs_toml_free(d);
}

/* An example document in the manner of the TOML spec's front page. */
static void test_spec_style_example(void)
{
    static const char *doc =
        "# A document describing a small observatory.\n\n"
        "title = \"Observatory settings\"\n\n"
        "[keeper]\nname = \"Ada Byron\"\nsince = 1843-07-01T09:30:00+01:00\n\n"
        "[archive]\nhost = \"10.1.2.3\"\nports = [ 9001, 9001, 9002 ]\n"
        "quota_mb = 12_000\nonline = true\nlimits = { soft = 0.8, hard = 0.95 }\n\n"
        "[telescopes]\n\n  [telescopes.north]\n  lens = \"refractor\"\n  aperture = 0.3\n\n"
        "  [telescopes.south]\n  lens = \"reflector\"\n  aperture = 1.2e0\n\n"
        "[targets]\nlists = [ [ \"vega\", \"deneb\" ], [ 1, 2 ] ]\n"
        "names = [\n  \"m31\",\n  \"m42\",\n]\n";
    qs_toml_doc *d = parse(doc);
    CHECK(d != NULL);
    char b[64];
    CHECK_STR(str_at(d, "title"), "Observatory settings");
    CHECK_STR(dt_at(d, "keeper.since", b), "1843-07-01T09:30:00+01:00");
    CHECK_INT(int_at(d, "archive.quota_mb"), 12000);
    CHECK(at(d, "archive.ports") && at(d, "archive.ports")->u.arr.items[2]->u.i == 9002);
    CHECK(float_at(d, "archive.limits.hard") == 0.95);
    CHECK(float_at(d, "telescopes.south.aperture") == 1.2);
    CHECK_STR(str_at(d, "telescopes.north.lens"), "refractor");
    CHECK(at(d, "targets.names") && at(d, "targets.names")->u.arr.len == 2);
    qs_toml_free(d);
}

static const char *mase_doc =
    "# MASE lab 3 search config\n"
    "[search.search_space]\nname = \"graph/quantize/mixed_precision_ptq\"\n\n"
    "[search.search_space.setup]\nby = \"name\"\n\n"
    "[search.search_space.seed.default.config]\n# the only choice can be NA\nname = [\"NA\"]\n\n"
    "[search.search_space.seed.seq_blocks_2.config]\nname = [\"integer\"]\n"
    "data_in_width = [4, 8]\ndata_in_frac_width = [\"NA\"]\n"
    "weight_width = [2, 4, 8]\nweight_frac_width = [\"NA\"]\n"
    "bias_width = [2, 4, 8]\nbias_frac_width = [\"NA\"]\n\n"
    "[search.strategy]\nname = \"optuna\"\neval_mode = true\n\n"
    "[search.strategy.sw_runner.basic_evaluation]\nnum_samples = 512\n\n"
    "[search.strategy.hw_runner.average_bitwidth]\ncompare_to = 32\n\n"
    "[search.strategy.setup]\nn_jobs = 1\nn_trials = 20\ntimeout = 20000\n"
    "sampler = \"tpe\"\nsum_scaled_metrics = true\ndirection = \"maximize\"\n\n"
    "[search.strategy.metrics]\naccuracy.scale = 1.0\naccuracy.direction = \"maximize\"\n"
    "average_bitwidth.scale = 0.2\naverage_bitwidth.direction = \"minimize\"\n";

static void test_mase_config(void)
{
    qs_toml_doc *d = parse(mase_doc);
    CHECK(d != NULL);
    if (!d)
        return;
    qs_error err;
    const char *s = NULL;
    int64_t n = 0;
    double x = 0;
    int b = 0;
    const qs_toml_value *setup = NULL, *arr = NULL;
    CHECK_INT(qs_toml_get_string(d->root, "search.search_space.setup.by", &s, &err), QS_OK);
    CHECK_STR(s, "name");
    static const char *const keys[] = {"search", "strategy", "setup"};
    setup = qs_toml_path_get(d->root, keys, 3);
    CHECK(setup && setup->type == QS_TOML_TABLE);
    CHECK_INT(qs_toml_get_int(setup, "n_trials", &n, &err), QS_OK);
    CHECK_INT(n, 20);
    CHECK_INT(qs_toml_get_bool(setup, "sum_scaled_metrics", &b, &err), QS_OK);
    CHECK_INT(b, 1);
    CHECK_INT(
        qs_toml_get_float(d->root, "search.strategy.metrics.average_bitwidth.scale", &x, &err),
        QS_OK);
    CHECK(x == 0.2);
    CHECK_INT(qs_toml_get_float(setup, "n_trials", &x, &err), QS_OK); /* ints convert */
    CHECK(x == 20.0);
    CHECK_INT(qs_toml_get_array(
                  d->root, "search.search_space.seed.seq_blocks_2.config.weight_width", &arr, &err),
              QS_OK);
    CHECK(arr && arr->u.arr.len == 3 && arr->u.arr.items[2]->u.i == 8);
    CHECK(str_at(d, "search.search_space.seed.default.config.name") == NULL); /* an array */
    const qs_toml_value *na = at(d, "search.search_space.seed.default.config.name");
    CHECK(na && na->u.arr.len == 1 && strcmp(na->u.arr.items[0]->u.s.ptr, "NA") == 0);
    CHECK_INT(int_at(d, "search.strategy.hw_runner.average_bitwidth.compare_to"), 32);
    CHECK_STR(str_at(d, "search.strategy.metrics.accuracy.direction"), "maximize");
    /* typed errors name file:line:col and the full key path */
    CHECK_INT(qs_toml_get_int(setup, "sampler", &n, &err), QS_ERR_INPUT);
    CHECK_STR(err.msg,
              "t.toml:35:11: search.strategy.setup.sampler: expected an integer, got a string");
    CHECK_INT(qs_toml_get_string(setup, "n_trials", &s, &err), QS_ERR_INPUT);
    CHECK_STR(err.msg,
              "t.toml:33:12: search.strategy.setup.n_trials: expected a string, got an integer");
    CHECK_INT(qs_toml_get_int(setup, "n_epochs", &n, &err), QS_ERR_INPUT);
    CHECK_STR(err.msg, "t.toml:31:18: search.strategy.setup: missing key 'n_epochs'");
    CHECK_INT(qs_toml_get_int_range(setup, "n_trials", 1, 10, &n, &err), QS_ERR_INPUT);
    CHECK_STR(err.msg, "t.toml:33:12: search.strategy.setup.n_trials: must be 1..10, got 20");
    CHECK_INT(qs_toml_get_table(d->root, "search.strategy.name", &setup, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "search.strategy.name: expected a table, got a string");
    CHECK_INT(qs_toml_get_bool(d->root, "nothing", &b, &err), QS_ERR_INPUT);
    CHECK_STR(err.msg, "t.toml: missing key 'nothing'");
    qs_toml_free(d);
}

static void test_lookups(void)
{
    qs_toml_doc *d = parse("a.\"b.c\".'d e' = 1\n\"q\\\"k\" = 2\nz = \"a\\u0000b\"\n"
                           "[[t]]\n[t.\"x y\"]\nw = [10, {deep = \"v\"}]\n");
    CHECK(d != NULL);
    CHECK_INT(int_at(d, "a.\"b.c\".'d e'"), 1);
    CHECK_INT(int_at(d, " a . \"b.c\" . 'd e' "), 1);
    CHECK_INT(int_at(d, "\"q\\\"k\""), 2);
    CHECK(at(d, "a.b") == NULL);
    CHECK(at(d, "a.") == NULL);
    CHECK(at(d, "a..b") == NULL);
    CHECK(at(d, "\"unterminated") == NULL);
    CHECK(at(d, "a.\"b.c\".'d e'.more") == NULL);
    static const char *const keys[] = {"a", "b.c", "d e"};
    CHECK(d && qs_toml_path_get(d->root, keys, 3) == at(d, "a.\"b.c\".'d e'"));
    CHECK(d && qs_toml_table_get(d->root, "q\"k") != NULL);
    CHECK(qs_toml_table_get(NULL, "x") == NULL);
    char path[256];
    const qs_toml_value *deep = NULL;
    const qs_toml_value *w =
        d ? qs_toml_find(d->root->u.tab.items[3].value->u.arr.items[0], "\"x y\".w") : NULL;
    CHECK(w && w->u.arr.len == 2);
    if (w && w->u.arr.len == 2)
        deep = qs_toml_table_get(w->u.arr.items[1], "deep");
    CHECK(deep != NULL);
    qs_toml_path_str(deep, path, sizeof path);
    CHECK_STR(path, "t[0].\"x y\".w[1].deep");
    qs_toml_path_str(at(d, "a.\"b.c\".'d e'"), path, sizeof path);
    CHECK_STR(path, "a.\"b.c\".\"d e\"");
    CHECK_INT(qs_toml_path_str(deep, path, 4), 20); /* snprintf-like length, truncated buffer */
    CHECK_STR(path, "t[0");
    qs_error err;
    const char *s;
    CHECK_INT(qs_toml_as_string(at(d, "z"), &s, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "t.toml:3:5: z: string contains a NUL character");
    CHECK_INT(qs_toml_error_at(&err, deep, "must be one of %s", "a, b"), QS_ERR_INPUT);
    CHECK_STR(err.msg, "t.toml:6:18: t[0].\"x y\".w[1].deep: must be one of a, b");
    CHECK_STR(qs_toml_type_name(QS_TOML_LOCAL_DATETIME), "local date-time");
    qs_toml_free(d);
}

static void test_json(void)
{
    qs_toml_doc *d = parse("i = 42\nf = 2.5\nin = -inf\nn = nan\nb = true\ns = \"x\\ny\"\n"
                           "dt = 1979-05-27T07:32:00-08:00\nlt = 07:32:00.25\n"
                           "a = [1, \"two\"]\n[t]\nk = {v = 1}\n");
    CHECK(d != NULL);
    if (!d)
        return;
    json_t *j = qs_toml_to_json(d->root);
    char *txt = json_dumps(j, JSON_COMPACT);
    CHECK_STR(txt, "{\"i\":42,\"f\":2.5,\"in\":\"-inf\",\"n\":\"nan\",\"b\":true,\"s\":\"x\\ny\","
                   "\"dt\":\"1979-05-27T07:32:00-08:00\",\"lt\":\"07:32:00.25\",\"a\":[1,\"two\"],"
                   "\"t\":{\"k\":{\"v\":1}}}");
    free(txt);
    json_decref(j);
    j = qs_toml_to_tagged_json(d->root);
    txt = json_dumps(j, JSON_COMPACT);
    CHECK_CONTAINS(txt, "\"i\":{\"type\":\"integer\",\"value\":\"42\"}");
    CHECK_CONTAINS(txt, "\"f\":{\"type\":\"float\",\"value\":\"2.5\"}");
    CHECK_CONTAINS(txt, "\"in\":{\"type\":\"float\",\"value\":\"-inf\"}");
    CHECK_CONTAINS(txt, "\"n\":{\"type\":\"float\",\"value\":\"nan\"}");
    CHECK_CONTAINS(txt, "\"b\":{\"type\":\"bool\",\"value\":\"true\"}");
    CHECK_CONTAINS(txt, "\"dt\":{\"type\":\"datetime\",\"value\":\"1979-05-27T07:32:00-08:00\"}");
    CHECK_CONTAINS(txt, "\"lt\":{\"type\":\"time-local\",\"value\":\"07:32:00.25\"}");
    CHECK_CONTAINS(
        txt,
        "\"a\":[{\"type\":\"integer\",\"value\":\"1\"},{\"type\":\"string\",\"value\":\"two\"}]");
    CHECK_CONTAINS(txt, "\"t\":{\"k\":{\"v\":{\"type\":\"integer\",\"value\":\"1\"}}}");
    free(txt);
    json_decref(j);
    qs_toml_free(d);
}

/* write -> parse gives the same tree, and writing again gives the same text. */
static void check_roundtrip(const char *text)
{
    qs_toml_doc *d = parse(text);
    CHECK(d != NULL);
    if (!d)
        return;
    size_t len;
    char *out = qs_toml_write_string(d->root, &len);
    CHECK(out != NULL && strlen(out) == len);
    qs_toml_doc *d2 = NULL;
    qs_error err;
    if (qs_toml_parse_string(out, len, "out.toml", &d2, &err) != QS_OK) {
        fprintf(stderr, "written TOML does not parse: %s\n---\n%s---\n", err.msg, out);
        qs_test_failed_checks++;
    } else {
        CHECK(same_tree(d->root, d2->root));
        char *out2 = qs_toml_write_string(d2->root, NULL);
        CHECK_STR(out2, out);
        free(out2);
    }
    free(out);
    qs_toml_free(d2);
    qs_toml_free(d);
}

static void test_roundtrip(void)
{
    check_roundtrip(mase_doc);
    check_roundtrip("a.b.c = 1\nd = 2\n[e]\nf.g = 'h'\n[[e.i]]\n[[e.i]]\nj = 1\n[e.i.k]\nl = []\n");
    check_roundtrip("s = \"tab\\t nl\\n q\\\" bs\\\\ nul\\u0000 del\\u007F \xC3\xA9 \\U0001F600\"\n"
                    "\"key with \\\"quotes\\\"\" = 1\n\"\" = 2\n'\\' = 3\nml = '''\nx\n'''\n");
    check_roundtrip("f = [0.1, 1e300, -0.0, 5e-324, inf, -inf, nan, 1.0, 100.0, 123456789012.5]\n"
                    "i = [0, -1, 9223372036854775807, -9223372036854775808, 0xff]\n");
    check_roundtrip("d = [1979-05-27T07:32:00Z, 1979-05-27T07:32:00.123-08:00, 1979-05-27T07:32:00,"
                    " 1979-05-27, 07:32:00.5]\n");
    check_roundtrip("a = { b = { c = [1, { d = 2 }] }, e.f = 3 }\nempty = {}\n[t]\n[u.v]\n[w]\nx = "
                    "[[], [[]]]\n");
    check_roundtrip("[[a]]\nb = 1\n[[a.c]]\nd = 1\n[a.e]\n[[a]]\n[[a]]\nb = 3\n");
    check_roundtrip("");
    /* the writer emits plain keys first: dotted tables become [sections] */
    qs_toml_doc *d = parse("x.y = 1\nz = 2\n");
    char *out = d ? qs_toml_write_string(d->root, NULL) : NULL;
    CHECK_STR(out, "z = 2\n\n[x]\ny = 1\n");
    free(out);
    qs_toml_free(d);
    d = parse("a = 1.5\nb = 1e20\nc = 3.0\n");
    char path[] = "/tmp/qs_toml_write_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w+") : NULL;
    qs_error err;
    CHECK(f && d && qs_toml_write(d->root, f, &err) == QS_OK);
    if (f) {
        char buf[128] = {0};
        rewind(f);
        CHECK(fread(buf, 1, sizeof buf - 1, f) > 0);
        CHECK_STR(buf, "a = 1.5\nb = 1e+20\nc = 3.0\n");
        fclose(f);
    }
    unlink(path);
    qs_toml_free(d);
}

static void test_files(void)
{
    char path[] = "/tmp/qs_toml_file_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *text = "\xEF\xBB\xBF# BOM first\nk = 1\n[t]\nk = 2\nk = 3\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    qs_toml_doc *d = NULL;
    qs_error err;
    CHECK_INT(qs_toml_parse_file(path, &d, &err), QS_ERR_INPUT);
    char want[128];
    snprintf(want, sizeof want, "%s:5:1: duplicate key 'k' (first defined at 4:1)", path);
    CHECK_STR(err.msg, want);
    CHECK(d == NULL);
    fd = open(path, O_WRONLY | O_TRUNC);
    text = "\xEF\xBB\xBFk = 1 # with BOM\n";
    CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    if (fd >= 0)
        close(fd);
    CHECK_INT(qs_toml_parse_file(path, &d, &err), QS_OK);
    CHECK(d && d->root->u.tab.len == 1 && strcmp(d->name, path) == 0);
    CHECK(d && d->root->u.tab.items[0].value->file == d->name);
    CHECK(d && d->root->u.tab.items[0].col == 1);
    qs_toml_free(d);
    unlink(path);
    CHECK_INT(qs_toml_parse_file("/nonexistent/q.toml", &d, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "/nonexistent/q.toml: cannot open");
    qs_toml_free(NULL);
}

/* Tables of 16+ keys are indexed: lookups and duplicate checks must still be exact. */
static void test_large_tables(void)
{
    char *text = malloc(200 * 32);
    CHECK(text != NULL);
    if (!text)
        return;
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        n += (size_t)sprintf(text + n, "k%d = %d\n", i, i * 3);
    n += (size_t)sprintf(text + n, "\"nul\\u0000key\" = -1\n");
    qs_toml_doc *d = parse(text);
    CHECK(d && d->root->u.tab.len == 201);
    int all = 1;
    for (int i = 0; i < 200; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        all &=
            d && qs_toml_table_get(d->root, key) && qs_toml_table_get(d->root, key)->u.i == i * 3;
    }
    CHECK(all);
    CHECK(d && qs_toml_table_get(d->root, "k200") == NULL);
    CHECK(d && qs_toml_table_getn(d->root, "nul\0key", 7) != NULL);
    CHECK(d && qs_toml_table_get(d->root, "nul") == NULL);
    qs_toml_free(d);
    sprintf(text + n, "k150 = 0\n");
    expect_error(0, text, strlen(text), 202, 1, "duplicate key 'k150' (first defined at 151:1)");
    free(text);
}

static void test_nesting_limit(void)
{
    char buf[700];
    int n = 0;
    n += sprintf(buf + n, "a = ");
    for (int i = 0; i < 128; i++)
        buf[n++] = '[';
    for (int i = 0; i < 128; i++)
        buf[n++] = ']';
    buf[n] = '\0';
    qs_toml_doc *d = parse(buf);
    CHECK(d != NULL);
    qs_toml_free(d);
    n = sprintf(buf, "a = ");
    for (int i = 0; i < 300; i++)
        buf[n++] = '[';
    buf[n] = '\0';
    expect_error(0, buf, strlen(buf), 1, 5 + 128, "nest deeper than 128");
    /* key parts count too: 127 parts + 1 array is fine, 128 parts + an array is not */
    n = 0;
    for (int i = 0; i < 127; i++)
        n += sprintf(buf + n, "%sa", i ? "." : "");
    sprintf(buf + n, " = [1]\n");
    d = parse(buf);
    CHECK(d != NULL);
    qs_toml_free(d);
    sprintf(buf + n, ".b = [[1]]\n");
    expect_error(0, buf, strlen(buf), 1, 2 * 128 + 4, "nest deeper than 128");
    sprintf(buf + n, ".b.c = 1\n");
    expect_error(0, buf, strlen(buf), 1, 2 * 128 + 1, "nest deeper than 128");
    n = sprintf(buf, "[");
    for (int i = 0; i < 129; i++)
        n += sprintf(buf + n, "%sa", i ? "." : "");
    sprintf(buf + n, "]\n");
    expect_error(0, buf, strlen(buf), 1, 2 + 2 * 128, "a table header of more than 128 keys");
}

/* ---- invalid documents: each with the line:column of its error ---- */

typedef struct {
    const char *text;
    int line, col;
    const char *needle;
} bad_doc;

static const bad_doc bad_docs[] = {
    /* strings */
    {"s = \"abc", 1, 5, "unterminated string"},
    {"s = \"abc\nt = 1\n", 1, 9, "newline in a single-line string"},
    {"s = \"\\q\"", 1, 6, "invalid escape sequence '\\q'"},
    {"s = \"\\x41\"", 1, 6, "invalid escape sequence '\\x'"},
    {"s = \"\\e\"", 1, 6, "invalid escape"},
    {"s = \"\\u12\"", 1, 6, "\\u needs 4 hexadecimal digits"},
    {"s = \"\\uD800\"", 1, 6, "not a Unicode scalar value"},
    {"s = \"\\U00110000\"", 1, 6, "not a Unicode scalar value"},
    {"s = \"\"\"abc\n", 1, 5, "unterminated string"},
    {"s = '''a''''''\n", 1, 9, "too many quotes"},
    {"s = \"\"\"a\"\"\"\"\"\"\n", 1, 9, "too many quotes"},
    {"s = 'a\nb'\n", 1, 7, "newline in a single-line string"},
    {"s = \"a\x01\"\n", 1, 7, "control character U+0001"},
    {"s = 'a\x1f'\n", 1, 7, "control character U+001F"},
    {"s = \"line \\  \"\n", 1, 11, "invalid escape sequence '\\ '"},
    {"s = \"\"\"a\\ b\"\"\"\n", 1, 9, "invalid escape sequence '\\ '"},
    {"s = \"end\\\n\"\n", 1, 9, "backslash at the end of a line"},
    {"\"\"\"key\"\"\" = 1\n", 1, 1, "a multi-line string cannot be a key"},
    {"a = 1\rb = 2\n", 1, 6, "carriage return not followed by a line feed"},
    {"a = \"\xff\"\n", 1, 6, "invalid UTF-8 byte 0xFF"},
    {"a = \"\xc0\x80\"\n", 1, 6, "invalid UTF-8 byte 0xC0"},
    {"a = \"\xed\xa0\x80\"\n", 1, 6, "invalid UTF-8 byte 0xED"},
    {"a = \"\xe2\x82\"\n", 1, 6, "invalid UTF-8"},
    {"# a\x7f\n", 1, 4, "control character U+007F"},
    {"a = 1 # \x0b\n", 1, 9, "control character U+000B"},
    /* integers */
    {"a = 01\n", 1, 5, "leading zeros"},
    {"a = -012\n", 1, 5, "leading zeros"},
    {"a = 1__2\n", 1, 5, "'_' must be between digits"},
    {"a = 1_\n", 1, 5, "'_' must be between digits"},
    {"a = _1\n", 1, 5, "invalid value"},
    {"a = +0x10\n", 1, 5, "sign is not allowed"},
    {"a = 0x\n", 1, 5, "invalid hexadecimal integer"},
    {"a = 0xG1\n", 1, 5, "invalid hexadecimal integer"},
    {"a = 0o8\n", 1, 5, "invalid octal integer"},
    {"a = 0b102\n", 1, 5, "invalid binary integer"},
    {"a = 0x_1\n", 1, 5, "invalid hexadecimal integer"},
    {"a = 9223372036854775808\n", 1, 5, "out of range"},
    {"a = -9223372036854775809\n", 1, 5, "out of range"},
    {"a = 0x8000000000000000\n", 1, 5, "out of range"},
    {"a = 0X10\n", 1, 5, "invalid number"},
    {"a = 1 2\n", 1, 7, "expected a newline after a value"},
    {"a = 1x\n", 1, 5, "invalid number"},
    {"a = 1 x\n", 1, 7, "expected a newline after a value"},
    {"a = 1,\n", 1, 6, "expected a newline after a value"},
    {"a = true1\n", 1, 5, "invalid value"},
    {"a = \"x\"y\n", 1, 8, "expected a newline"},
    /* floats */
    {"a = 1.\n", 1, 5, "a digit must follow '.'"},
    {"a = .5\n", 1, 5, "invalid value"},
    {"a = 1.e5\n", 1, 5, "a digit must follow '.'"},
    {"a = 1e\n", 1, 5, "a digit must follow the exponent"},
    {"a = 1e_5\n", 1, 5, "'_' must be between digits"},
    {"a = 1._5\n", 1, 5, "'_' must be between digits"},
    {"a = 01.5\n", 1, 5, "leading zeros"},
    {"a = 1.5_\n", 1, 5, "'_' must be between digits"},
    {"a = infinity\n", 1, 5, "invalid value"},
    {"a = NaN\n", 1, 5, "invalid value"},
    {"a = 1.2.3\n", 1, 5, "invalid number"},
    /* booleans and bare words */
    {"a = True\n", 1, 5, "invalid value"},
    {"a = truee\n", 1, 5, "invalid value"},
    {"a = hello\n", 1, 5, "strings must be quoted"},
    /* dates and times */
    {"d = 2023-13-01\n", 1, 10, "month 13 out of range 1..12"},
    {"d = 2023-00-01\n", 1, 10, "month 0 out of range"},
    {"d = 2023-02-29\n", 1, 13, "day 29 out of range 1..28"},
    {"d = 1900-02-29\n", 1, 13, "day 29 out of range 1..28"},
    {"d = 2023-04-31\n", 1, 13, "day 31 out of range 1..30"},
    {"d = 2023-01-00\n", 1, 13, "day 0 out of range"},
    {"d = 2023-01-01T24:00:00\n", 1, 16, "hour 24 out of range 0..23"},
    {"d = 2023-01-01T23:60:00\n", 1, 19, "minute 60 out of range"},
    {"d = 2023-01-01T23:59:60\n", 1, 22, "second 60 out of range"},
    {"t = 07:32\n", 1, 5, "invalid time"},
    {"t = 7:32:00\n", 1, 6, "invalid character after a value"},
    {"d = 2023-01-01T07:32:00+25:00\n", 1, 25, "offset hour 25 out of range"},
    {"d = 2023-01-01T07:32:00-07:60\n", 1, 28, "offset minute 60"},
    {"d = 2023-01-01T07:32:00+0700\n", 1, 24, "invalid time offset"},
    {"d = 2023-01-01T07:32:00.\n", 1, 25, "a digit must follow '.'"},
    {"d = 2023-1-01\n", 1, 5, "invalid date"},
    {"d = 2023-01-01X\n", 1, 15, "invalid character in a date or time"},
    {"d = 2023-01-01T07:32\n", 1, 16, "invalid time"},
    {"d = 12023-01-01\n", 1, 5, "invalid number"},
    /* keys, duplicate keys, tables */
    {"a = 1\na = 2\n", 2, 1, "duplicate key 'a' (first defined at 1:1)"},
    {"a.b = 1\na.b = 2\n", 2, 3, "duplicate key 'b'"},
    {"\"a\" = 1\n'a' = 2\n", 2, 1, "duplicate key 'a'"},
    {"a = 1\na.b = 2\n", 2, 1, "cannot add keys to 'a': already defined as a value"},
    {"[a]\n[a]\n", 2, 2, "table 'a' defined twice (first at 1:2)"},
    {"[a.b]\nc = 1\n[a]\nb = 1\n", 4, 1, "duplicate key 'b'"},
    {"[a]\nb.c = 1\n[a.b]\n", 3, 4, "already defined as a table by dotted keys"},
    {"a.b = 1\n[a]\n", 2, 2, "already defined as a table by dotted keys"},
    {"a = {x = 1}\na.y = 2\n", 2, 1, "cannot add keys to 'a': already defined as an inline table"},
    {"a = {x = 1}\n[a]\n", 2, 2, "cannot define table 'a': already defined as an inline table"},
    {"a = {x = 1}\n[a.b]\n", 2, 2, "cannot extend 'a': already defined as an inline table"},
    {"a = [1]\n[[a]]\n", 2, 3,
     "cannot define 'a' as an array of tables: already defined as an array"},
    {"a = [{x = 1}]\n[a.b]\n", 2, 2, "cannot extend 'a': already defined as an array"},
    {"[[a]]\n[a]\n", 2, 2, "already defined as an array of tables"},
    {"[a]\n[[a]]\n", 2, 3, "already defined as a table"},
    {"a = 1\n[a]\n", 2, 2, "cannot define table 'a': already defined as a value"},
    {"a = 1\n[a.b]\n", 2, 2, "cannot extend 'a'"},
    {"[a.b.c]\nz = 1\n[a]\nb.c.t = 2\n", 4, 3, "cannot add keys to 'c'"},
    {"[[t]]\nx.y = 1\n[t.x]\n", 3, 4, "by dotted keys"},
    {"a = {x = 1, x = 2}\n", 1, 13, "duplicate key 'x'"},
    {"a = {x = 1,}\n", 1, 12, "trailing comma in an inline table"},
    {"a = {x = 1\n}\n", 1, 11, "newline in an inline table"},
    {"a = {\nx = 1}\n", 1, 6, "newline in an inline table"},
    {"a = {x = 1 y = 2}\n", 1, 12, "expected ',' or '}' in an inline table"},
    {"a = {x.y = 1, x = 2}\n", 1, 15, "duplicate key 'x'"},
    {"a = {x = {y = 1}, x.z = 2}\n", 1, 19, "cannot add keys to 'x'"},
    {"a = {x = 1", 1, 11, "unterminated inline table"},
    {"[a] b = 1\n", 1, 5, "expected a newline after a table header"},
    {"[a\n", 1, 3, "expected ']' to close the table header"},
    {"[[a]\n", 1, 4, "expected ']]'"},
    {"[[a] ]\n", 1, 4, "expected ']]'"},
    {"[]\n", 1, 2, "expected a key"},
    {"[a.]\n", 1, 4, "expected a key"},
    {"[a]]\n", 1, 4, "expected a newline"},
    {"a b = 1\n", 1, 3, "expected '=' after the key"},
    {"a\n", 1, 2, "expected '=' after the key"},
    {"= 1\n", 1, 1, "expected a key before '='"},
    {"a =\n", 1, 4, "expected a value"},
    {"a = # c\n", 1, 5, "expected a value"},
    {"a..b = 1\n", 1, 3, "invalid character '.' in a key"},
    {"\xc3\xa9 = 1\n", 1, 1, "invalid character"},
    {"a = [1, 2", 1, 10, "unterminated array"},
    {"a = [1 2]\n", 1, 8, "expected ',' or ']' in an array"},
    {"a = [,]\n", 1, 6, "expected a value"},
    {"a = [1,,2]\n", 1, 8, "expected a value"},
    {"a = [1]]\n", 1, 8, "expected a newline"},
    {"k = \"\xc3\xa9\" x\n", 1, 9, "expected a newline"},
    {"# comment\n  [a]\n  b = 1\n  b = 2\n", 4, 3, "duplicate key 'b' (first defined at 3:3)"},
    {"x = 1\r\ny = 2\r\nx = 3\r\n", 3, 1, "duplicate key 'x'"},
};

static void test_invalid_documents(void)
{
    size_t n = sizeof bad_docs / sizeof bad_docs[0];
    CHECK(n >= 60);
    for (size_t i = 0; i < n; i++)
        expect_error((int)i + 1, bad_docs[i].text, strlen(bad_docs[i].text), bad_docs[i].line,
                     bad_docs[i].col, bad_docs[i].needle);
    /* a NUL byte in the input (the length, not a terminator, ends the text) */
    expect_error(-1, "a = 1\n\0b = 2\n", 13, 2, 1, "control character U+0000");
    expect_error(-2, "a = \"x\0\"\n", 9, 1, 7, "control character U+0000");
}

/* ---- toml-test decoder mode ---- */

static int decode_main(int encode)
{
    size_t cap = 1 << 16, len = 0, got;
    char *text = malloc(cap);
    while (text && (got = fread(text + len, 1, cap - len, stdin)) > 0) {
        len += got;
        if (len == cap) {
            char *q = realloc(text, cap *= 2);
            if (!q)
                free(text);
            text = q;
        }
    }
    if (!text)
        return 3;
    qs_toml_doc *doc;
    qs_error err;
    if (qs_toml_parse_string(text, len, "<stdin>", &doc, &err) != QS_OK) {
        fprintf(stderr, "%s\n", err.msg);
        free(text);
        return 1;
    }
    free(text);
    if (encode) {
        qs_toml_write(doc->root, stdout, &err);
    } else {
        json_t *j = qs_toml_to_tagged_json(doc->root);
        json_dumpf(j, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
        printf("\n");
        json_decref(j);
    }
    qs_toml_free(doc);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--decode") == 0)
        return decode_main(0);
    if (argc > 1 && strcmp(argv[1], "--encode") == 0)
        return decode_main(1);
    RUN(test_basic_strings);
    RUN(test_multiline_and_literal_strings);
    RUN(test_integers);
    RUN(test_floats);
    RUN(test_booleans_and_comments);
    RUN(test_datetimes);
    RUN(test_arrays);
    RUN(test_tables_and_keys);
    RUN(test_arrays_of_tables);
    RUN(test_spec_style_example);
    RUN(test_mase_config);
    RUN(test_lookups);
    RUN(test_json);
    RUN(test_roundtrip);
    RUN(test_files);
    RUN(test_large_tables);
    RUN(test_nesting_limit);
    RUN(test_invalid_documents);
    return qs_test_summary();
}
