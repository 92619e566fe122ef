/* A small XML well-formedness checker for the report tests: elements nest and
 * match, attributes are quoted and unique-looking, text and attribute values
 * hold only valid entity references and no '<', comments, <?...?> and a
 * DOCTYPE are skipped. Not a validating parser; enough to catch broken SVG/HTML. */
#ifndef QSEARCH_TEST_XML_CHECK_H
#define QSEARCH_TEST_XML_CHECK_H

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int xml_name_char(int c) { return isalnum(c) || c == '-' || c == '_' || c == ':' || c == '.' || c >= 0x80; }

/* Skips an entity reference at s (after '&'); returns its length or 0 if invalid. */
static size_t xml_entity(const char *s)
{
    static const char *const named[] = {"amp;", "lt;", "gt;", "quot;", "apos;"};
    for (size_t i = 0; i < 5; i++)
        if (strncmp(s, named[i], strlen(named[i])) == 0)
            return strlen(named[i]);
    if (s[0] != '#')
        return 0;
    size_t i = 1;
    int hex = s[1] == 'x';
    i += (size_t)hex;
    size_t d = i;
    while (hex ? isxdigit((unsigned char)s[i]) : isdigit((unsigned char)s[i]))
        i++;
    return i > d && s[i] == ';' ? i + 1 : 0;
}

/* Returns 1 when doc is well-formed with one root element; else 0 and a message in why. */
static int xml_well_formed(const char *doc, char *why, size_t cap)
{
    const char *stack[256];
    size_t stack_len[256], depth = 0, roots = 0;
    const char *p = doc;
#define XML_FAIL(...) do { snprintf(why, cap, __VA_ARGS__); return 0; } while (0)
    while (*p) {
        if (*p != '<') {
            if (*p == '&') {
                size_t n = xml_entity(p + 1);
                if (!n)
                    XML_FAIL("offset %ld: bad entity reference", (long)(p - doc));
                p += n + 1;
                continue;
            }
            if (depth == 0 && !isspace((unsigned char)*p))
                XML_FAIL("offset %ld: text outside the root element", (long)(p - doc));
            p++;
            continue;
        }
        if (strncmp(p, "<!--", 4) == 0) {
            const char *e = strstr(p + 4, "-->");
            if (!e)
                XML_FAIL("offset %ld: unterminated comment", (long)(p - doc));
            p = e + 3;
        } else if (strncmp(p, "<?", 2) == 0) {
            const char *e = strstr(p, "?>");
            if (!e)
                XML_FAIL("offset %ld: unterminated processing instruction", (long)(p - doc));
            p = e + 2;
        } else if (strncmp(p, "<!DOCTYPE", 9) == 0) {
            const char *e = strchr(p, '>');
            if (!e || depth)
                XML_FAIL("offset %ld: bad DOCTYPE", (long)(p - doc));
            p = e + 1;
        } else if (p[1] == '/') {
            const char *n = p + 2, *e = n;
            while (xml_name_char((unsigned char)*e))
                e++;
            if (!depth || (size_t)(e - n) != stack_len[depth - 1] || strncmp(n, stack[depth - 1], (size_t)(e - n)) != 0)
                XML_FAIL("offset %ld: closing tag </%.*s> does not match <%.*s>", (long)(p - doc), (int)(e - n), n,
                         depth ? (int)stack_len[depth - 1] : 0, depth ? stack[depth - 1] : "");
            while (isspace((unsigned char)*e))
                e++;
            if (*e != '>')
                XML_FAIL("offset %ld: bad closing tag", (long)(p - doc));
            depth--;
            p = e + 1;
        } else {
            const char *n = p + 1, *e = n;
            if (!isalpha((unsigned char)*n) && *n != '_')
                XML_FAIL("offset %ld: bad element name", (long)(p - doc));
            while (xml_name_char((unsigned char)*e))
                e++;
            size_t nl = (size_t)(e - n);
            for (;;) { /* attributes */
                const char *s = e;
                while (isspace((unsigned char)*e))
                    e++;
                if (*e == '>' || (e[0] == '/' && e[1] == '>'))
                    break;
                if (e == s || !xml_name_char((unsigned char)*e))
                    XML_FAIL("offset %ld: bad attribute in <%.*s>", (long)(e - doc), (int)nl, n);
                while (xml_name_char((unsigned char)*e))
                    e++;
                if (*e++ != '=' || (*e != '"' && *e != '\''))
                    XML_FAIL("offset %ld: attribute without a quoted value in <%.*s>", (long)(e - doc), (int)nl, n);
                char q = *e++;
                while (*e && *e != q) {
                    if (*e == '<')
                        XML_FAIL("offset %ld: '<' in an attribute value", (long)(e - doc));
                    if (*e == '&') {
                        size_t k = xml_entity(e + 1);
                        if (!k)
                            XML_FAIL("offset %ld: bad entity in an attribute value", (long)(e - doc));
                        e += k;
                    }
                    e++;
                }
                if (!*e)
                    XML_FAIL("offset %ld: unterminated attribute value", (long)(e - doc));
                e++;
            }
            if (depth == 0 && roots++)
                XML_FAIL("offset %ld: a second root element", (long)(p - doc));
            if (*e == '/') {
                p = e + 2;
            } else {
                if (depth == 256)
                    XML_FAIL("nesting deeper than 256");
                stack[depth] = n;
                stack_len[depth++] = nl;
                p = e + 1;
            }
        }
    }
    if (depth)
        XML_FAIL("end of document inside <%.*s>", (int)stack_len[depth - 1], stack[depth - 1]);
    if (!roots)
        XML_FAIL("no root element");
#undef XML_FAIL
    return 1;
}

#endif
