/* Study store under concurrency and crashes: threads sharing a handle, forked
 * processes claiming the same configurations, and workers killed with SIGKILL
 * between claim and finish, right after a finish, and at random moments. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "qsearch/log.h"
#include "qsearch/rng.h"
#include "qsearch/study.h"
#include "study_util.h"

/* ---- threads sharing one handle ---- */

typedef struct {
    qs_study *s;
    int start, n, claimed, errors;
} thread_job;

static void *thread_worker(void *arg)
{
    thread_job *j = arg;
    for (int i = 0; i < j->n; i++) {
        uint64_t k = (uint64_t)((j->start + i) % j->n);
        char choices[64];
        choices_of(k, choices, sizeof choices);
        qs_error err;
        int64_t number;
        int claimed;
        if (qs_study_claim(j->s, hash_of(k), choices, j->start, &number, &claimed, &err) != QS_OK) {
            j->errors++;
            continue;
        }
        if (!claimed)
            continue;
        j->claimed++;
        qs_trial_result r = {.state = QS_TRIAL_COMPLETE, .values_json = "[1]", .duration_s = -1};
        if (qs_study_finish(j->s, number, &r, &err) != QS_OK)
            j->errors++;
    }
    return NULL;
}

static void test_threads_share_handle(void)
{
    char path[600];
    path_in(path, sizeof path, "threads.db");
    qs_study *s = open_ok(path);
    if (!s)
        return;
    enum { N = 120 };
    thread_job jobs[2] = {{s, 0, N, 0, 0}, {s, N / 2, N, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, thread_worker, &jobs[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK_INT(jobs[0].errors + jobs[1].errors, 0);
    CHECK_INT(jobs[0].claimed + jobs[1].claimed, N);
    qs_study_counts c;
    qs_error err;
    CHECK_INT(qs_study_count(s, &c, &err), QS_OK);
    CHECK_INT(c.complete, N);
    CHECK_INT(c.total, N);
    qs_study_close(s);
}

/* ---- processes ---- */

/* Child: claims configurations k = start, start+step, ... (mod n) and finishes each
 * it wins, reporting each finished hash on fd (8 bytes) after finish returns.
 * Exits with 0 on success. Never returns. */
static void child_worker(const char *path, int n, int start, int step, int fd, int stop_after,
                         long eval_ns)
{
    qs_error err;
    qs_study *s = NULL;
    if (qs_study_open(path, &s, &err) != QS_OK) {
        fprintf(stderr, "child %d: %s\n", (int)getpid(), err.msg);
        _exit(3);
    }
    const uint64_t ready = 0; /* no configuration hashes to 0 */
    if (stop_after < 0 && write(fd, &ready, sizeof ready) != (ssize_t)sizeof ready)
        _exit(5);
    int done_count = 0;
    for (int i = 0; i < n; i++) {
        uint64_t k = (uint64_t)((start + (int64_t)i * step) % n);
        char choices[64];
        choices_of(k, choices, sizeof choices);
        int64_t number;
        int claimed;
        if (qs_study_claim(s, hash_of(k), choices, 0, &number, &claimed, &err) != QS_OK) {
            fprintf(stderr, "child %d: %s\n", (int)getpid(), err.msg);
            _exit(4);
        }
        if (!claimed)
            continue;
        if (stop_after >= 0 && done_count == stop_after) {
            /* Between claim and finish: tell the parent which trial, then wait to die. */
            int64_t msg = number;
            if (write(fd, &msg, sizeof msg) != (ssize_t)sizeof msg)
                _exit(5);
            for (;;)
                pause();
        }
        if (eval_ns > 0) { /* stands in for evaluating the configuration */
            struct timespec ts = {0, eval_ns};
            nanosleep(&ts, NULL);
        }
        qs_trial_result r = result_complete((double)k);
        if (qs_study_finish(s, number, &r, &err) != QS_OK) {
            fprintf(stderr, "child %d: %s\n", (int)getpid(), err.msg);
            _exit(6);
        }
        done_count++;
        uint64_t h = hash_of(k);
        if (stop_after < 0 && write(fd, &h, sizeof h) != (ssize_t)sizeof h)
            _exit(5);
    }
    qs_study_close(s);
    _exit(0);
}

static pid_t spawn(const char *path, int n, int start, int step, int fd_w, int fd_r, int stop,
                   long eval_ns)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd_r);
        child_worker(path, n, start, step, fd_w, stop, eval_ns);
    }
    return pid;
}

/* Checks the final state: trial numbers are dense, and every configuration
 * 0..n-1 has exactly one non-stale trial, and it is complete. */
static void check_all_complete_once(const char *path, int n)
{
    qs_study *s = open_ok(path);
    if (!s)
        return;
    static trial_list l;
    list_trials(s, &l);
    int *seen = calloc((size_t)n, sizeof *seen);
    int bad = 0;
    for (int i = 0; i < l.n; i++) {
        if (l.number[i] != i)
            bad++; /* numbers are dense and ordered */
        if (l.stale[i])
            continue;
        int k = -1;
        for (int j = 0; j < n; j++)
            if (hash_of((uint64_t)j) == l.hash[i])
                k = j;
        if (k < 0 || l.state[i] != QS_TRIAL_COMPLETE)
            bad++;
        else
            seen[k]++;
    }
    for (int k = 0; k < n; k++)
        if (seen[k] != 1)
            bad++;
    CHECK_INT(bad, 0);
    free(seen);
    qs_study_close(s);
}

/* Several processes open the same new file at once: one creates the study, the
 * others wait for it; all then claim the same configuration, and one wins. */
static void test_concurrent_create(void)
{
    enum { ROUNDS = 10, PROCS = 6 };
    int failures = 0, wins_ok = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char path[600], name[32];
        snprintf(name, sizeof name, "create%d.db", round);
        path_in(path, sizeof path, name);
        pid_t pid[PROCS];
        for (int i = 0; i < PROCS; i++) {
            fflush(NULL);
            pid[i] = fork();
            if (pid[i] == 0) {
                qs_error err;
                qs_study *s = NULL;
                int64_t number;
                int claimed = 0;
                if (qs_study_open(path, &s, &err) != QS_OK ||
                    qs_study_claim(s, 42, "[4, 2]", i, &number, &claimed, &err) != QS_OK) {
                    fprintf(stderr, "child %d: %s\n", i, err.msg);
                    _exit(3);
                }
                /* Finished before exiting: a running trial of a dead process would
                 * (rightly) be reclaimed by the next process to open the study. */
                qs_trial_result r = result_complete(1);
                if (claimed && qs_study_finish(s, number, &r, &err) != QS_OK) {
                    fprintf(stderr, "child %d: %s\n", i, err.msg);
                    _exit(3);
                }
                qs_study_close(s);
                _exit(claimed ? 10 : 11);
            }
        }
        int wins = 0;
        for (int i = 0; i < PROCS; i++) {
            int status = -1;
            waitpid(pid[i], &status, 0);
            if (!WIFEXITED(status) || (WEXITSTATUS(status) != 10 && WEXITSTATUS(status) != 11))
                failures++;
            else
                wins += WEXITSTATUS(status) == 10;
        }
        wins_ok += wins == 1;
    }
    CHECK_INT(failures, 0);
    CHECK_INT(wins_ok, ROUNDS);
}

static void test_two_processes_claim(void)
{
    char path[600];
    path_in(path, sizeof path, "procs.db");
    /* No study yet: the workers race to create it. */
    enum { N = 300 };
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    /* Three workers walk the same configurations in different orders. */
    pid_t p[3] = {spawn(path, N, 0, 1, fds[1], fds[0], -1, 0),
                  spawn(path, N, N / 2, 1, fds[1], fds[0], -1, 0),
                  spawn(path, N, N - 1, N - 1, fds[1], fds[0], -1, 0)};
    close(fds[1]);
    int reported = 0;
    uint64_t h;
    while (read(fds[0], &h, sizeof h) == (ssize_t)sizeof h)
        reported += h != 0;
    close(fds[0]);
    for (int i = 0; i < 3; i++) {
        int status = -1;
        waitpid(p[i], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_INT(reported, N);
    check_all_complete_once(path, N);
}

static void log_to_buffer(void *ctx, const char *msg)
{
    snprintf(ctx, 512, "%s", msg);
}

static void test_kill_between_claim_and_finish(void)
{
    char path[600];
    path_in(path, sizeof path, "kill1.db");
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    pid_t pid = spawn(path, 20, 0, 1, fds[1], fds[0], 5, 0);
    close(fds[1]);
    int64_t running = -1;
    CHECK_INT(read(fds[0], &running, sizeof running), (ssize_t)sizeof running);
    close(fds[0]);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    CHECK_INT(running, 5);

    char logged[512] = "";
    qs_log_set(log_to_buffer, logged);
    qs_study *s = open_ok(path);
    qs_log_set(NULL, NULL);
    CHECK_CONTAINS(logged, "trial 5: stale: worker pid");
    CHECK_CONTAINS(logged, "claimed again");
    if (!s)
        return;
    qs_error err;
    qs_study_counts c;
    CHECK_INT(qs_study_count(s, &c, &err), QS_OK);
    CHECK_INT(c.complete, 5);
    CHECK_INT(c.running, 0);
    CHECK_INT(c.stale, 1);
    full_list l = {.n = 0};
    int found;
    CHECK_INT(qs_study_trial(s, running, collect_full, &l, &found, &err), QS_OK);
    CHECK_INT(l.rec[0].state, QS_TRIAL_FAILED);
    CHECK_INT(l.rec[0].stale, 1);
    CHECK_CONTAINS(l.error[0], "is gone");
    /* Its configuration (k = 5) is claimable again; finished ones are not. */
    int64_t number;
    int claimed;
    char choices[64];
    choices_of(5, choices, sizeof choices);
    CHECK_INT(qs_study_claim(s, hash_of(5), choices, 0, &number, &claimed, &err), QS_OK);
    CHECK_INT(claimed, 1);
    CHECK_INT(number, 6);
    choices_of(4, choices, sizeof choices);
    CHECK_INT(qs_study_claim(s, hash_of(4), choices, 0, &number, &claimed, &err), QS_OK);
    CHECK_INT(claimed, 0);
    qs_study_close(s);
}

/* Kills a worker at random moments (between and inside claims and finishes),
 * several times, then finishes the rest: every trial the worker reported as
 * finished is there exactly once, and every configuration ends complete once. */
static void test_kill_at_random_moments(void)
{
    char path[600];
    path_in(path, sizeof path, "kill2.db");
    enum { N = 1000, ROUNDS = 8 };
    qs_rng rng;
    qs_rng_seed(&rng, 2024);
    static uint64_t reported[N * ROUNDS];
    int n_reported = 0, killed = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        CHECK_INT(pipe(fds), 0);
        /* Odd rounds spend most of a trial "evaluating" (kills land between claim and
         * finish); even rounds only talk to SQLite (kills land inside commits). */
        pid_t pid = spawn(path, N, 0, 1, fds[1], fds[0], -1, round % 2 ? 150000 : 0);
        close(fds[1]);
        uint64_t h = 1;
        CHECK_INT(read(fds[0], &h, sizeof h), (ssize_t)sizeof h); /* the worker is ready */
        CHECK(h == 0);
        struct timespec ts = {0, (long)(300000 + qs_rng_below(&rng, 5000000))};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        killed += WIFSIGNALED(status);
        while (n_reported < N * ROUNDS && read(fds[0], &h, sizeof h) == (ssize_t)sizeof h)
            reported[n_reported++] = h;
        close(fds[0]);
    }
    CHECK(killed >= ROUNDS / 2); /* most rounds must really interrupt the worker */

    qs_study *s = open_ok(path);
    if (!s)
        return;
    static trial_list l;
    list_trials(s, &l);
    int bad = 0;
    for (int i = 0; i < n_reported; i++) {
        int copies = 0;
        for (int j = 0; j < l.n; j++)
            copies += l.hash[j] == reported[i] && l.state[j] == QS_TRIAL_COMPLETE;
        bad += copies != 1;
    }
    CHECK_INT(bad, 0);
    qs_study_counts c;
    qs_error err;
    CHECK_INT(qs_study_count(s, &c, &err), QS_OK);
    CHECK_INT(c.running, 0);
    CHECK(c.complete >= n_reported);
    qs_study_close(s);

    /* One more worker finishes the remaining configurations. */
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    pid_t pid = spawn(path, N, 0, 1, fds[1], fds[0], -1, 0);
    close(fds[1]);
    uint64_t h;
    while (read(fds[0], &h, sizeof h) == (ssize_t)sizeof h)
        ;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    check_all_complete_once(path, N);
    fprintf(stderr,
            "       (%d kills; %d trials reported finished before them, %lld complete, "
            "%lld stale)\n",
            killed, n_reported, (long long)c.complete, (long long)c.stale);
}

int main(void)
{
    if (make_tmpdir("study-kill") != 0)
        return 1;
    RUN(test_threads_share_handle);
    RUN(test_concurrent_create);
    RUN(test_two_processes_claim);
    RUN(test_kill_between_claim_and_finish);
    RUN(test_kill_at_random_moments);
    remove_tmpdir();
    return qs_test_summary();
}
