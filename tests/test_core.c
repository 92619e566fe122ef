/* Core: status messages, rng determinism and ranges, arena alignment and reset,
 * file-system helpers (mkdirs, read, atomic writes). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "qsearch/arena.h"
#include "qsearch/fs.h"
#include "qsearch/rng.h"
#include "qsearch/status.h"

static void test_status(void)
{
    qs_error err;
    qs_error_clear(&err);
    CHECK_STR(err.msg, "");
    CHECK_INT(qs_error_set(&err, QS_ERR_INPUT, "key %s", "weight_width"), QS_ERR_INPUT);
    qs_error_prefix(&err, "%s:%d", "q.toml", 7);
    CHECK_STR(err.msg, "q.toml:7: key weight_width");
    CHECK_INT(qs_status_exit_code(QS_ERR_INPUT), 2);
    CHECK_INT(qs_status_exit_code(QS_ERR_USAGE), 2);
    CHECK_INT(qs_status_exit_code(QS_ERR_NOMEM), 1);
    CHECK_INT(qs_status_exit_code(QS_OK), 0);
    CHECK_INT(qs_error_set(NULL, QS_ERR_IO, "ignored"), QS_ERR_IO);
}

static void test_rng_deterministic(void)
{
    qs_rng a, b;
    qs_rng_seed(&a, 42);
    qs_rng_seed(&b, 42);
    int same = 1;
    for (int i = 0; i < 1000; i++)
        same &= qs_rng_u64(&a) == qs_rng_u64(&b);
    CHECK(same);
    qs_rng_seed(&b, 43);
    CHECK(qs_rng_u64(&a) != qs_rng_u64(&b));
}

static void test_rng_ranges(void)
{
    qs_rng r;
    qs_rng_seed(&r, 0);
    double sum = 0, sumsq = 0;
    int counts[7] = {0};
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = qs_rng_uniform(&r);
        CHECK(u >= 0.0 && u < 1.0);
        counts[qs_rng_below(&r, 7)]++;
        double z = qs_rng_normal(&r);
        sum += z;
        sumsq += z * z;
    }
    for (int k = 0; k < 7; k++)
        CHECK_NEAR(counts[k] / (double)n, 1.0 / 7, 0.005);
    CHECK_NEAR(sum / n, 0.0, 0.01);
    CHECK_NEAR(sumsq / n, 1.0, 0.02);
}

static void test_shuffle_is_permutation(void)
{
    qs_rng r;
    qs_rng_seed(&r, 7);
    size_t idx[100];
    int seen[100] = {0};
    for (size_t i = 0; i < 100; i++)
        idx[i] = i;
    qs_rng_shuffle(&r, idx, 100);
    int moved = 0;
    for (size_t i = 0; i < 100; i++) {
        seen[idx[i]]++;
        moved += idx[i] != i;
    }
    for (size_t i = 0; i < 100; i++)
        CHECK_INT(seen[i], 1);
    CHECK(moved > 50);
}

static void test_arena(void)
{
    qs_arena a;
    qs_error err;
    CHECK_INT(qs_arena_init(&a, 1000, &err), QS_OK);
    void *p = qs_arena_alloc(&a, 10);
    void *q = qs_arena_alloc(&a, 100);
    CHECK(p && q);
    CHECK((uintptr_t)p % 64 == 0 && (uintptr_t)q % 64 == 0);
    CHECK(qs_arena_alloc(&a, 5000) == NULL);
    qs_arena_reset(&a);
    CHECK(qs_arena_alloc(&a, 10) == p);
    unsigned char *z = qs_arena_calloc(&a, 64);
    CHECK(z && z[0] == 0 && z[63] == 0);
    qs_arena_free(&a);
    qs_arena_free(&a);
    qs_arena_free(NULL);
}

static void test_fs(void)
{
    char dir[256], file[300], blocked[320];
    const char *tmp = getenv("QS_TEST_TMP");
    snprintf(dir, sizeof dir, "%s/fs-test/a/b/c", tmp ? tmp : "/tmp");
    qs_error err;
    CHECK_INT(qs_fs_mkdirs(dir, &err), QS_OK);
    CHECK_INT(qs_fs_mkdirs(dir, &err), QS_OK); /* exists: fine */
    snprintf(file, sizeof file, "%s/t.txt", dir);
    FILE *f = fopen(file, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    for (int i = 0; i < 2000; i++) /* larger than the first buffer */
        fputs("0123456789", f);
    fclose(f);
    char *text = NULL;
    size_t len = 0;
    CHECK_INT(qs_fs_read_text(file, &text, &len, &err), QS_OK);
    CHECK_INT(len, 20000);
    CHECK(text && text[len] == '\0' && text[19999] == '9');
    free(text);
    CHECK_INT(qs_fs_read_text("/nonexistent/q.toml", &text, NULL, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "/nonexistent/q.toml");
    snprintf(blocked, sizeof blocked, "%s/x", file); /* a file in the way */
    CHECK_INT(qs_fs_mkdirs(blocked, &err), QS_ERR_IO);
}

/* Number of entries in dir whose name contains ".tmp." (left-over temporaries). */
static int count_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    return n;
}

static void test_fs_write_atomic(void)
{
    char dir[256], file[300], missing[300], sub[300];
    const char *tmp = getenv("QS_TEST_TMP");
    snprintf(dir, sizeof dir, "%s/fs-atomic", tmp ? tmp : "/tmp");
    qs_error err;
    CHECK_INT(qs_fs_mkdirs(dir, &err), QS_OK);
    snprintf(file, sizeof file, "%s/a.txt", dir);
    CHECK_INT(qs_fs_write_atomic(file, "old", 3, &err), QS_OK);
    CHECK_INT(qs_fs_write_atomic(file, "hello\n", 6, &err), QS_OK); /* replaces */
    char *text = NULL;
    size_t len = 0;
    CHECK_INT(qs_fs_read_text(file, &text, &len, &err), QS_OK);
    CHECK_STR(text ? text : "", "hello\n");
    free(text);
    CHECK_INT(qs_fs_write_atomic(file, NULL, 0, &err), QS_OK); /* empty file */
    struct stat sb;
    CHECK(stat(file, &sb) == 0 && sb.st_size == 0);
    CHECK_INT(count_tmp(dir), 0);

    /* a directory that does not exist: QS_ERR_IO naming the path, nothing created */
    snprintf(missing, sizeof missing, "%s/no-such-dir/b.txt", dir);
    CHECK_INT(qs_fs_write_atomic(missing, "x", 1, &err), QS_ERR_IO);
    CHECK_CONTAINS(err.msg, missing);
    CHECK(access(missing, F_OK) != 0);

    /* the rename fails (a non-empty directory is in the way): the temporary is removed */
    snprintf(sub, sizeof sub, "%s/busy", dir);
    CHECK_INT(qs_fs_mkdirs(sub, &err), QS_OK);
    snprintf(missing, sizeof missing, "%s/busy/keep", dir);
    CHECK_INT(qs_fs_write_atomic(missing, "k", 1, &err), QS_OK);
    CHECK_INT(qs_fs_write_atomic(sub, "x", 1, &err), QS_ERR_IO);
    CHECK_CONTAINS(err.msg, sub);
    CHECK(stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode));
    CHECK_INT(count_tmp(dir), 0);

    /* streaming: commit puts the file in place, abort leaves nothing */
    qs_fs_atomic w;
    snprintf(file, sizeof file, "%s/s.csv", dir);
    CHECK_INT(qs_fs_atomic_open(&w, file, &err), QS_OK);
    CHECK_INT(count_tmp(dir), 1);
    CHECK(access(file, F_OK) != 0); /* not there before the commit */
    fprintf(w.f, "a,b\n%d,%d\n", 1, 2);
    CHECK_INT(qs_fs_atomic_commit(&w, &err), QS_OK);
    CHECK(w.f == NULL && w.path == NULL && w.tmp == NULL);
    CHECK_INT(qs_fs_read_text(file, &text, NULL, &err), QS_OK);
    CHECK_STR(text ? text : "", "a,b\n1,2\n");
    free(text);
    snprintf(file, sizeof file, "%s/gone.csv", dir);
    CHECK_INT(qs_fs_atomic_open(&w, file, &err), QS_OK);
    fputs("partial", w.f);
    qs_fs_atomic_abort(&w);
    qs_fs_atomic_abort(&w); /* released: harmless */
    CHECK(access(file, F_OK) != 0);
    CHECK_INT(count_tmp(dir), 0);
    CHECK_INT(qs_fs_atomic_commit(&w, &err), QS_ERR_INTERNAL); /* not open */
    snprintf(missing, sizeof missing, "%s/no-such-dir/c.csv", dir);
    CHECK_INT(qs_fs_atomic_open(&w, missing, &err), QS_ERR_IO);
    CHECK_CONTAINS(err.msg, missing);
    CHECK(w.f == NULL);
    qs_fs_atomic_abort(&w);
    qs_fs_atomic_abort(NULL);
}

int main(void)
{
    RUN(test_status);
    RUN(test_rng_deterministic);
    RUN(test_rng_ranges);
    RUN(test_shuffle_is_permutation);
    RUN(test_arena);
    RUN(test_fs);
    RUN(test_fs_write_atomic);
    return qs_test_summary();
}
