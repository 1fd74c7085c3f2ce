/* One training pass of an LSTMClassifier (any variant) over one part of a batch, for CPU training:
 * stacked layers, both directions, dropout between layers and before the head (masks drawn in torch
 * and passed in), the last-step or attention-pooled summary, the linear head and cross-entropy.
 * The result is the part's loss and correct count and every parameter's gradient.
 *
 * lstm_desktop/core/kernel_step.py builds this file with recurrent.c and calls net_part through
 * ctypes, which releases the GIL: the parts of a batch run at once, one per core.
 *
 * dims (int[DIM_COUNT]) describe the part (the last: MKL threads inside it); p (void*[]) holds, in order: sgemm, MKL's
 * set-threads-local (or NULL), x [B][T][I] batch-first, y [B] int64, result [2] = (loss / n, correct),
 * the workspace (net_workspace floats), the W weights in model.parameters() order (per layer and
 * direction w_ih, w_hh, b_ih, b_hh; attention W1, b1, w2; head W, b), the W gradients in the same
 * order, then the dropout masks: one [B][T][DH] per layer but the last, and a [B][DH] head mask.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

typedef void (*sgemm_t)(const char*, const char*, const int*, const int*, const int*, const float*,
                        const float*, const int*, const float*, const int*, const float*, float*, const int*);
typedef int (*set_threads_t)(int);

int gate_count(int cell, int H);
void tanh_bias_rows(float* v, const float* bias, size_t rows, int cols);
void layer_forward(sgemm_t sgemm, int cell, int T, int B, int Din, int H, int DH, int d, const float* inp,
                   const float* w_ih, const float* w_hh, const float* b_ih, const float* b_hh, float* gates,
                   float* aux, float* out, const float* zeros, float* bias);
void layer_backward(sgemm_t sgemm, int cell, int T, int B, int Din, int H, int DH, int d, const float* inp,
                    const float* w_ih, const float* w_hh, const float* gates, const float* aux, const float* out,
                    float* dout, float* dgates, float* daux, float* dc, const float* zeros, float* din,
                    int accumulate, float* d_w_ih, float* d_w_hh, float* d_b_ih, float* d_b_hh, float* wt);

enum { DIM_T, DIM_B, DIM_I, DIM_H, DIM_LAYERS, DIM_DIRS, DIM_ATTN, DIM_A, DIM_K, DIM_DROP, DIM_HEAD_DROP,
       DIM_CELL, DIM_THREADS, DIM_COUNT };
enum { P_SGEMM, P_SET_THREADS, P_X, P_Y, P_RESULT, P_WORK, P_WEIGHTS };
#define MAX_LAYERS 16

int net_abi(void) { return 1000 * DIM_COUNT + P_WEIGHTS; }  /* checked by kernel_step.py */
int net_max_layers(void) { return MAX_LAYERS; }

typedef struct {
    float *xt, *dgates, *daux, *da, *db, *dc, *zeros, *bias, *wt, *u, *du, *acc, *alpha, *summary, *sdrop, *dsum,
        *logits;
    float *out[MAX_LAYERS], *masked[MAX_LAYERS], *gates[MAX_LAYERS][2], *aux[MAX_LAYERS][2];
} Work;

/* Carves the workspace (base may be NULL to count); every buffer starts on a 64-byte boundary. */
static size_t layout(const int* dims, float* base, Work* w) {
    const size_t T = dims[DIM_T], B = dims[DIM_B], H = dims[DIM_H], L = dims[DIM_LAYERS];
    const size_t D = dims[DIM_DIRS], A = dims[DIM_A], K = dims[DIM_K], TB = T * B, DH = D * H;
    const int cell = dims[DIM_CELL];
    const size_t G = gate_count(cell, (int)H);
    const size_t aux = cell == 0 ? 2 * H : cell == 1 ? G : 0;  /* LSTM: c and tanh(c) */
    size_t at = 0;
#define TAKE(field, count) do { (field) = base ? base + at : NULL; at += ((count) + 15) / 16 * 16; } while (0)
    TAKE(w->xt, TB * dims[DIM_I]);
    TAKE(w->dgates, TB * G);
    TAKE(w->daux, cell == 1 ? TB * G : 0);
    TAKE(w->da, TB * DH);
    TAKE(w->db, TB * DH);
    TAKE(w->dc, B * H);
    TAKE(w->zeros, B * H);
    TAKE(w->bias, G);
    TAKE(w->wt, G * (L > 1 && DH > (size_t)dims[DIM_I] ? DH : (size_t)dims[DIM_I]));
    TAKE(w->u, dims[DIM_ATTN] ? TB * A : 0);
    TAKE(w->du, dims[DIM_ATTN] ? TB * A : 0);
    TAKE(w->acc, dims[DIM_ATTN] ? 4 * A : 0);
    TAKE(w->alpha, TB);
    TAKE(w->summary, B * DH);
    TAKE(w->sdrop, B * DH);
    TAKE(w->dsum, B * DH);
    TAKE(w->logits, B * K);
    for (size_t l = 0; l < L; l++) {
        TAKE(w->out[l], TB * DH);
        TAKE(w->masked[l], dims[DIM_DROP] && l + 1 < L ? TB * DH : 0);
        for (size_t d = 0; d < D; d++) {
            TAKE(w->gates[l][d], TB * G);
            TAKE(w->aux[l][d], TB * aux);
        }
    }
#undef TAKE
    return at;
}

long long net_workspace(const int* dims) {
    Work w;
    return (long long)layout(dims, NULL, &w);
}

/* The summary before the head: the last step's h (both directions' final states when bidirectional),
 * or attention pooling: u = tanh(out W1^T + b1), scores = u w2, alpha = softmax over time. */
static void summarize(sgemm_t sgemm, const int* dims, const float* out, const float* w1, const float* b1,
                      const float* w2, Work* w) {
    const int T = dims[DIM_T], B = dims[DIM_B], H = dims[DIM_H], F = dims[DIM_DIRS] * H, A = dims[DIM_A];
    const int TB = T * B;
    const float one = 1.0f;
    if (!dims[DIM_ATTN]) {
        for (int b = 0; b < B; b++) {
            memcpy(w->summary + (size_t)b * F, out + ((size_t)(T - 1) * B + b) * F, sizeof(float) * H);
            if (dims[DIM_DIRS] == 2)  /* the backward direction ends at t = 0 */
                memcpy(w->summary + (size_t)b * F + H, out + (size_t)b * F + H, sizeof(float) * H);
        }
        return;
    }
    const float zero = 0.0f;
    sgemm("T", "N", &A, &TB, &F, &one, w1, &F, out, &F, &zero, w->u, &A);
    tanh_bias_rows(w->u, b1, (size_t)TB, A);
    for (int r = 0; r < TB; r++) {
        const float* restrict u = w->u + (size_t)r * A;
        float s = 0.0f;
        for (int a = 0; a < A; a++) s += u[a] * w2[a];
        w->alpha[(size_t)(r % B) * T + r / B] = s;  /* alpha [B][T] holds the scores for now */
    }
    memset(w->summary, 0, sizeof(float) * (size_t)B * F);
    for (int b = 0; b < B; b++) {
        float* restrict al = w->alpha + (size_t)b * T;
        float top = al[0];
        for (int t = 1; t < T; t++) top = al[t] > top ? al[t] : top;
        float sum = 0.0f;
        for (int t = 0; t < T; t++) { al[t] = expf(al[t] - top); sum += al[t]; }
        float* restrict sm = w->summary + (size_t)b * F;
        for (int t = 0; t < T; t++) {
            al[t] /= sum;
            const float* restrict o = out + ((size_t)t * B + b) * F;
            for (int f = 0; f < F; f++) sm[f] += al[t] * o[f];
        }
    }
}

/* d summary -> d out [T][B][F] (written, not added), and the attention weights' gradients. */
static void summarize_backward(sgemm_t sgemm, const int* dims, const float* out, const float* w1,
                               const float* w2, float* dout, float* d_w1, float* d_b1, float* d_w2, Work* w) {
    const int T = dims[DIM_T], B = dims[DIM_B], H = dims[DIM_H], F = dims[DIM_DIRS] * H, A = dims[DIM_A];
    const int TB = T * B;
    const float one = 1.0f, zero = 0.0f;
    if (!dims[DIM_ATTN]) {
        memset(dout, 0, sizeof(float) * (size_t)TB * F);
        for (int b = 0; b < B; b++) {
            memcpy(dout + ((size_t)(T - 1) * B + b) * F, w->dsum + (size_t)b * F, sizeof(float) * H);
            if (dims[DIM_DIRS] == 2)
                memcpy(dout + (size_t)b * F + H, w->dsum + (size_t)b * F + H, sizeof(float) * H);
        }
        return;
    }
    /* d score_t = alpha_t (out_t - summary) . d summary: it sums to zero over t, so the sums that
     * follow cancel; they are taken in double (small: T x B x A). */
    double* acc = (double*)w->acc;  /* [2][A]: d w2, d b1 */
    memset(acc, 0, sizeof(double) * 2 * (size_t)A);
    for (int b = 0; b < B; b++) {
        const float* restrict ds = w->dsum + (size_t)b * F;
        const float* restrict sm = w->summary + (size_t)b * F;
        for (int t = 0; t < T; t++) {
            const size_t r = (size_t)t * B + b;
            const float* restrict o = out + r * F;
            float* restrict d = dout + r * F;
            const float al = w->alpha[(size_t)b * T + t];
            double g = 0.0;  /* a vector reduction (-fopenmp-simd): scalar, this loop was half of net_part */
#pragma omp simd reduction(+:g)
            for (int f = 0; f < F; f++) { g += (double)(o[f] - sm[f]) * ds[f]; d[f] = al * ds[f]; }
            const double dscore = al * g;
            const float* restrict u = w->u + r * A;
            float* restrict du = w->du + r * A;
            for (int a = 0; a < A; a++) {
                const double v = dscore * w2[a] * (1.0f - u[a] * u[a]);
                acc[a] += dscore * u[a];
                acc[A + a] += v;
                du[a] = (float)v;
            }
        }
    }
    for (int a = 0; a < A; a++) { d_w2[a] = (float)acc[a]; d_b1[a] = (float)acc[A + a]; }
    sgemm("N", "T", &F, &A, &TB, &one, out, &F, w->du, &A, &zero, d_w1, &F);  /* du^T out */
    sgemm("N", "N", &F, &TB, &A, &one, w1, &F, w->du, &A, &one, dout, &F);  /* += du W1 */
}

/* Linear head and summed cross-entropy over n; logits become d loss / d logits. (loss, correct). */
static void head(sgemm_t sgemm, const int* dims, float n, const long long* y, const float* w_fc,
                 const float* b_fc, float* d_w_fc, float* d_b_fc, Work* w, float* result) {
    const int B = dims[DIM_B], F = dims[DIM_DIRS] * dims[DIM_H], K = dims[DIM_K];
    const float one = 1.0f, zero = 0.0f;
    for (int b = 0; b < B; b++) memcpy(w->logits + (size_t)b * K, b_fc, sizeof(float) * K);
    sgemm("T", "N", &K, &B, &F, &one, w_fc, &F, w->sdrop, &F, &one, w->logits, &K);
    double loss = 0.0;
    int correct = 0;
    for (int b = 0; b < B; b++) {  /* log-sum-exp after the max: stable for any finite logits */
        float* restrict l = w->logits + (size_t)b * K;
        int best = 0;
        float top = l[0];
        for (int k = 1; k < K; k++) if (l[k] > top) { top = l[k]; best = k; }
        double sum = 0.0;
        for (int k = 0; k < K; k++) sum += exp((double)(l[k] - top));
        loss += log(sum) + top - l[y[b]];
        correct += best == y[b];
        for (int k = 0; k < K; k++) l[k] = (float)(exp((double)(l[k] - top)) / sum) / n;
        l[y[b]] -= 1.0f / n;
    }
    sgemm("N", "T", &F, &K, &B, &one, w->sdrop, &F, w->logits, &K, &zero, d_w_fc, &F);
    memset(d_b_fc, 0, sizeof(float) * K);
    for (int b = 0; b < B; b++)
        for (int k = 0; k < K; k++) d_b_fc[k] += w->logits[(size_t)b * K + k];
    sgemm("N", "N", &F, &B, &K, &one, w_fc, &F, w->logits, &K, &zero, w->sdrop, &F);  /* d sdrop */
    result[0] = (float)(loss / n);
    result[1] = (float)correct;
}

/* a [T][B][F] time-major times mask [B][T][F] batch-first, into dst (may be a). */
static void apply_mask(int T, int B, int F, const float* a, const float* mask, float* dst) {
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++) {
            const float* restrict s = a + ((size_t)t * B + b) * F;
            const float* restrict m = mask + ((size_t)b * T + t) * F;
            float* d = dst + ((size_t)t * B + b) * F;
            for (int f = 0; f < F; f++) d[f] = s[f] * m[f];
        }
}

void net_part(const int* dims, float n, void* const* p) {
    sgemm_t sgemm = (sgemm_t)p[P_SGEMM];
    set_threads_t set_threads = (set_threads_t)p[P_SET_THREADS];
    /* MKL's threads inside this part: 1 when every core runs a part of its own; more when there are more
     * cores than parts worth making (a small batch on many cores: the gate products are shared out) */
    const int threads = dims[DIM_THREADS] > 0 ? dims[DIM_THREADS] : 1;
    int previous = set_threads ? set_threads(threads) : 0;
    const int T = dims[DIM_T], B = dims[DIM_B], I = dims[DIM_I], H = dims[DIM_H], L = dims[DIM_LAYERS];
    const int D = dims[DIM_DIRS], DH = D * H, cell = dims[DIM_CELL], drop = dims[DIM_DROP];
    const int W = 4 * L * D + (dims[DIM_ATTN] ? 3 : 0) + 2;
    float* const* weights = (float* const*)(p + P_WEIGHTS);
    float* const* grads = weights + W;
    float* const* masks = grads + W;
    const float* x = p[P_X];
    Work w;
    layout(dims, p[P_WORK], &w);
    memset(w.zeros, 0, sizeof(float) * (size_t)B * H);
    for (int t = 0; t < T; t++)  /* time-major copy of x */
        for (int b = 0; b < B; b++)
            memcpy(w.xt + ((size_t)t * B + b) * I, x + ((size_t)b * T + t) * I, sizeof(float) * I);

    for (int l = 0; l < L; l++) {
        const float* inp = l == 0 ? w.xt : drop ? w.masked[l - 1] : w.out[l - 1];
        for (int d = 0; d < D; d++) {
            float* const* lw = weights + 4 * (l * D + d);
            layer_forward(sgemm, cell, T, B, l == 0 ? I : DH, H, DH, d, inp, lw[0], lw[1], lw[2], lw[3],
                          w.gates[l][d], w.aux[l][d], w.out[l], w.zeros, w.bias);
        }
        if (drop && l + 1 < L) apply_mask(T, B, DH, w.out[l], masks[l], w.masked[l]);
    }
    const float* top = w.out[L - 1];
    float* const* aw = weights + 4 * L * D;  /* attention (if any), then the head */
    float* const* ag = grads + 4 * L * D;
    const int attn = dims[DIM_ATTN];  /* the table has attention entries only when there is attention */
    summarize(sgemm, dims, top, attn ? aw[0] : NULL, attn ? aw[1] : NULL, attn ? aw[2] : NULL, &w);
    const float* head_mask = drop && dims[DIM_HEAD_DROP] ? masks[L - 1] : dims[DIM_HEAD_DROP] ? masks[0] : NULL;
    for (size_t k = 0; k < (size_t)B * DH; k++) w.sdrop[k] = head_mask ? w.summary[k] * head_mask[k] : w.summary[k];
    const int hi = attn ? 3 : 0;
    head(sgemm, dims, n, p[P_Y], aw[hi], aw[hi + 1], ag[hi], ag[hi + 1], &w, p[P_RESULT]);
    for (size_t k = 0; k < (size_t)B * DH; k++) w.dsum[k] = head_mask ? w.sdrop[k] * head_mask[k] : w.sdrop[k];

    float *dcur = w.da, *dnext = w.db;
    summarize_backward(sgemm, dims, top, attn ? aw[0] : NULL, attn ? aw[2] : NULL, dcur, attn ? ag[0] : NULL,
                       attn ? ag[1] : NULL, attn ? ag[2] : NULL, &w);
    for (int l = L - 1; l >= 0; l--) {
        const float* inp = l == 0 ? w.xt : drop ? w.masked[l - 1] : w.out[l - 1];
        for (int d = 0; d < D; d++) {
            float* const* lw = weights + 4 * (l * D + d);
            float* const* lg = grads + 4 * (l * D + d);
            layer_backward(sgemm, cell, T, B, l == 0 ? I : DH, H, DH, d, inp, lw[0], lw[1], w.gates[l][d],
                           w.aux[l][d], w.out[l], dcur, w.dgates, w.daux, w.dc, w.zeros, l > 0 ? dnext : NULL,
                           d > 0, lg[0], lg[1], lg[2], lg[3], w.wt);
        }
        if (l > 0) {
            if (drop) apply_mask(T, B, DH, dnext, masks[l - 1], dnext);
            float* swap = dcur;
            dcur = dnext;
            dnext = swap;
        }
    }
    if (set_threads) set_threads(previous);
}
