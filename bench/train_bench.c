/* qsearch side of bench/train_compare.sh: trains ARCH on the .npy splits in DIR
 * (train_x/_y, val_x/_y, test_x/_y) with the default recipe and prints one JSON
 * document with the test accuracy and the training wall time, like
 * bench/train_torch.py does for PyTorch.
 *   train_bench DIR ARCH [EPOCHS [SEED]] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "qsearch/npy.h"
#include "qsearch/train.h"

static int load_split(const char *dir, const char *name, qs_npy_array *x, qs_npy_array *y,
                      qs_split *s)
{
    char px[1024], py[1024];
    qs_error err;
    snprintf(px, sizeof px, "%s/%s_x.npy", dir, name);
    snprintf(py, sizeof py, "%s/%s_y.npy", dir, name);
    if (qs_npy_read(px, x, &err) != QS_OK || qs_npy_read(py, y, &err) != QS_OK) {
        fprintf(stderr, "train_bench: %s\n", err.msg);
        return 0;
    }
    if (x->dtype != QS_NPY_F32 || x->ndim != 2 || y->dtype != QS_NPY_I32 || y->shape[0] != x->shape[0]) {
        fprintf(stderr, "train_bench: %s: want float32 [n, f] and int [n]\n", name);
        return 0;
    }
    s->n = x->shape[0];
    s->x = x->data;
    s->y = y->data;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: train_bench DIR ARCH [EPOCHS [SEED]]\n");
        return 2;
    }
    qs_npy_array a[6];
    qs_split tr, va, te;
    if (!load_split(argv[1], "train", &a[0], &a[1], &tr) || !load_split(argv[1], "val", &a[2], &a[3], &va) ||
        !load_split(argv[1], "test", &a[4], &a[5], &te))
        return 2;
    size_t classes = 0;
    const qs_split *all[] = {&tr, &va, &te};
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < all[k]->n; i++)
            if ((size_t)all[k]->y[i] + 1 > classes)
                classes = (size_t)all[k]->y[i] + 1;
    qs_train_options o;
    qs_train_options_default(&o);
    o.log_every_epoch = 0;
    if (argc > 3)
        o.epochs = atoi(argv[3]);
    if (argc > 4)
        o.seed = strtoull(argv[4], NULL, 10);
    qs_error err;
    qs_model *m = NULL;
    qs_train_result r;
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    if (qs_model_build(&m, argv[2], a[0].shape[1], classes, o.seed, &err) != QS_OK ||
        qs_train(m, &tr, &va, &o, &r, &err) != QS_OK) {
        fprintf(stderr, "train_bench: %s\n", err.msg);
        return 1;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) * 1e-9;
    float *logits = malloc(te.n * classes * sizeof *logits);
    qs_model_forward_alloc(m, te.x, te.n, logits, &err);
    size_t hits = 0;
    qs_cross_entropy(logits, te.y, te.n, classes, &hits);
    printf("{\"peer\": \"qsearch\", \"arch\": \"%s\", \"threads\": 1, \"epochs\": %d, \"lr\": %g, "
           "\"batch\": %zu, \"seed\": %llu, \"train_samples\": %zu, \"test_samples\": %zu, "
           "\"test_accuracy\": %.6f, \"final_loss\": %.6f, \"final_val_acc\": %.6f, "
           "\"train_seconds\": %.4f, \"train_cpu_seconds\": %.4f}\n",
           argv[2], o.epochs, o.lr, o.batch, (unsigned long long)o.seed, tr.n, te.n,
           (double)hits / (double)te.n, r.history[o.epochs - 1].loss, r.history[o.epochs - 1].val_acc,
           r.wall_seconds, cpu);
    free(logits);
    qs_train_result_free(&r);
    qs_model_delete(m);
    for (int k = 0; k < 6; k++)
        qs_npy_free(&a[k]);
    return 0;
}
