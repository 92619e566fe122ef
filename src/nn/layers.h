/* Internal float kernels of the nn module (pure: const inputs, caller-owned
 * outputs and scratch, no malloc, no I/O, no globals). Row-major throughout.
 * Tests include this header to check each layer on its own. */
#ifndef QSEARCH_NN_LAYERS_H
#define QSEARCH_NN_LAYERS_H

#include <stddef.h>
#include <stdint.h>

/* c[n][N] = a[n][K] . b[K][N] (+ bias[N] if not NULL). */
void qs_nn_gemm_nn(const float *a, const float *b, const float *bias, float *c,
                   size_t n, size_t K, size_t N);
/* c[N][K] = a[n][N]^T . b[n][K] (overwrites c). */
void qs_nn_gemm_tn(const float *a, const float *b, float *c, size_t n, size_t N, size_t K);
/* Scalar twins of the two above (the reference the tests compare against). */
void qs_nn_gemm_nn_ref(const float *a, const float *b, const float *bias, float *c,
                       size_t n, size_t K, size_t N);
void qs_nn_gemm_tn_ref(const float *a, const float *b, float *c, size_t n, size_t N, size_t K);

/* wt[in][out] = w[out][in]^T. */
void qs_nn_transpose(const float *w, size_t out, size_t in, float *wt);

/* Linear: y[n][out] = x[n][in] . w[out][in]^T + b[out]; wt: [in][out] scratch. */
void qs_nn_linear_forward(const float *x, size_t n, size_t in, size_t out, const float *w,
                          const float *b, float *y, float *wt);
/* Linear backward: dw[out][in], db[out] overwritten; dx[n][in] written unless NULL. */
void qs_nn_linear_backward(const float *x, const float *dy, size_t n, size_t in, size_t out,
                           const float *w, float *dx, float *dw, float *db);

/* BatchNorm1d eval: y = (x - mean) / sqrt(var + eps) * gamma + beta, per feature.
 * x, y [n][f] (may alias); scale, shift: [f] scratch. */
void qs_nn_bn_eval(const float *x, size_t n, size_t f, const float *gamma, const float *beta,
                   const float *mean, const float *var, float eps, float *y, float *scale,
                   float *shift);
/* BatchNorm1d train forward with batch statistics: writes xhat [n][f],
 * invstd [f] = 1/sqrt(biased var + eps), y [n][f], batch mean [f] and biased
 * variance [f]. */
void qs_nn_bn_train_forward(const float *x, size_t n, size_t f, const float *gamma,
                            const float *beta, float eps, float *xhat, float *invstd, float *y,
                            float *mean, float *var);
/* BatchNorm1d train backward: dgamma, dbeta [f] overwritten; dx [n][f] unless NULL. */
void qs_nn_bn_backward(const float *xhat, const float *invstd, const float *gamma,
                       const float *dy, size_t n, size_t f, float *dx, float *dgamma,
                       float *dbeta);

/* ReLU: y = max(x, 0) over count values, NaN kept (x, y must not overlap). */
void qs_nn_relu_forward(const float *x, size_t count, float *y);
/* ReLU backward from its output y: dx = y > 0 ? dy : 0 (no overlaps). */
void qs_nn_relu_backward(const float *y, const float *dy, size_t count, float *dx);

/* Softmax cross-entropy over logits [n][c]: returns the summed loss (double),
 * *correct gets the argmax hits; dlogits [n][c] (unless NULL) receives
 * (softmax - onehot) * grad_scale. */
double qs_nn_softmax_xent(const float *logits, const int32_t *y, size_t n, size_t c,
                          float grad_scale, float *dlogits, size_t *correct);

/* One torch.optim.Adam update of n parameters p with gradient grad and moments
 * m, v: g = grad + wd p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g g;
 * p -= step_size m / (sqrt(v) / bc2_sqrt + eps). Vector paths (AVX-512, AVX2)
 * are bit-identical to the scalar _ref twin. */
void qs_nn_adam_update(float *p, const float *grad, float *m, float *v, size_t n,
                       float step_size, float bc2_sqrt, float b1, float b2, float eps, float wd);
void qs_nn_adam_update_ref(float *p, const float *grad, float *m, float *v, size_t n,
                           float step_size, float bc2_sqrt, float b1, float b2, float eps,
                           float wd);

#endif
