/* One training pass of the plain LSTM classifier (the notebook's model: one unidirectional layer,
 * a linear head on the last step) over one part of a batch, for CPU training.
 * lstm_desktop/core/kernel_step.py builds this file with the system C compiler and calls
 * plain_part through ctypes, which releases the GIL: the parts of a batch run at once, one per core.
 *
 * Why: at this size (32 rows, 28 steps, 128 units) oneDNN's LSTM spends about a third of its time
 * outside its matrix products, and the Python around it makes the two halves of a batch queue for
 * the GIL. Here each time step is one sgemm (MKL's own, from torch's library) plus one vectorised
 * pass over the gates, and the weight gradients are three large products at the end.
 *
 * Layout: time-major, row-major. Gates in PyTorch's order i, f, g, o. h0 = c0 = 0.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

typedef void (*sgemm_t)(const char*, const char*, const int*, const int*, const int*, const float*,
                        const float*, const int*, const float*, const int*, const float*, float*, const int*);
typedef int (*set_threads_t)(int);

static inline float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }
static inline float tanh_(float x) { return 2.0f * sigm(2.0f * x) - 1.0f; }

static void cell_forward(int H, float* restrict g, const float* restrict c_prev, float* restrict c,
                         float* restrict h) {
    float* restrict gi = g;
    float* restrict gf = g + H;
    float* restrict gg = g + 2 * H;
    float* restrict go = g + 3 * H;
    for (int j = 0; j < H; j++) {
        float i = sigm(gi[j]), f = sigm(gf[j]), z = tanh_(gg[j]), o = sigm(go[j]);
        float cc = i * z + f * c_prev[j];
        gi[j] = i;
        gf[j] = f;
        gg[j] = z;
        go[j] = o;
        c[j] = cc;
        h[j] = o * tanh_(cc);
    }
}

/* gates [T][B][4H]: x W_ih^T + b on entry, the activated gates on exit (kept for the backward).
 * c, h [T][B][H]: cell and hidden states. zeros [B][H]: the state before t = 0. */
static void forward_loop(sgemm_t sgemm, int T, int B, int H, const float* w_hh, float* gates, float* c,
                         float* h, const float* zeros) {
    const int G = 4 * H;
    const size_t BH = (size_t)B * H;
    const float one = 1.0f;
    for (int t = 0; t < T; t++) {
        float* gt = gates + (size_t)t * B * G;
        if (t > 0)  /* gates_t += h_{t-1} W_hh^T */
            sgemm("T", "N", &G, &B, &H, &one, w_hh, &H, h + (t - 1) * BH, &H, &one, gt, &G);
        const float* c_prev = t > 0 ? c + (t - 1) * BH : zeros;
        for (int b = 0; b < B; b++)
            cell_forward(H, gt + (size_t)b * G, c_prev + (size_t)b * H, c + t * BH + (size_t)b * H,
                         h + t * BH + (size_t)b * H);
    }
}

static void cell_backward(int H, const float* restrict g, const float* restrict c, const float* restrict c_prev,
                          const float* restrict dh, float* restrict dc, float* restrict d) {
    const float* restrict gi = g;
    const float* restrict gf = g + H;
    const float* restrict gg = g + 2 * H;
    const float* restrict go = g + 3 * H;
    float* restrict di = d;
    float* restrict df = d + H;
    float* restrict dz = d + 2 * H;
    float* restrict d_o = d + 3 * H;
    for (int j = 0; j < H; j++) {
        float i = gi[j], f = gf[j], z = gg[j], o = go[j];
        float tc = tanh_(c[j]);
        float dcc = dh[j] * o * (1.0f - tc * tc) + dc[j];
        di[j] = dcc * z * i * (1.0f - i);
        df[j] = dcc * c_prev[j] * f * (1.0f - f);
        dz[j] = dcc * i * (1.0f - z * z);
        d_o[j] = dh[j] * tc * o * (1.0f - o);
        dc[j] = dcc * f;
    }
}

/* dh_last [B][H]: gradient of the last step's hidden state (the head reads only that step).
 * Writes dgates [T][B][4H], the gradient of the gates before activation. work: [2][B][H] scratch. */
static void backward_loop(sgemm_t sgemm, int T, int B, int H, const float* w_hh, const float* gates,
                          const float* c, const float* dh_last, float* dgates, float* work, const float* zeros) {
    const int G = 4 * H;
    const size_t BH = (size_t)B * H;
    const float one = 1.0f, zero = 0.0f;
    float* dh = work;
    float* dc = work + BH;
    memcpy(dh, dh_last, sizeof(float) * BH);
    memset(dc, 0, sizeof(float) * BH);
    for (int t = T - 1; t >= 0; t--) {
        const float* c_prev = t > 0 ? c + (t - 1) * BH : zeros;
        for (int b = 0; b < B; b++)
            cell_backward(H, gates + ((size_t)t * B + b) * G, c + t * BH + (size_t)b * H, c_prev + (size_t)b * H,
                          dh + (size_t)b * H, dc + (size_t)b * H, dgates + ((size_t)t * B + b) * G);
        if (t > 0)  /* dh_{t-1} = dgates_t W_hh */
            sgemm("N", "N", &H, &B, &G, &one, w_hh, &H, dgates + (size_t)t * B * G, &G, &zero, dh, &H);
    }
}

/* One part of a batch for the plain classifier (one LSTM layer, a linear head on the last step,
 * summed cross-entropy over n): the loss, the correct count and every parameter's gradient.
 *
 * x [B][T][I] (batch-first, as stored); y [B] labels. Weights as nn.LSTM / nn.Linear hold them.
 * Scratch: xt [T][B][I], gates and dgates [T][B][4H], c and h [T][B][H], logits [B][K],
 * work [3][B][H], zeros [B][H]. Outputs: d_w_ih [4H][I], d_w_hh [4H][H], d_b [4H] (for both
 * biases), d_w_fc [K][H], d_b_fc [K], result [2] = (loss, correct).
 * set_threads: MKL_Set_Num_Threads_Local (or NULL), so that MKL stays on this thread while the
 * other parts use the other cores. */
void plain_part(sgemm_t sgemm, set_threads_t set_threads, int T, int B, int I, int H, int K, float n,
                const float* x, const long long* y, const float* w_ih, const float* w_hh, const float* b_ih,
                const float* b_hh, const float* w_fc, const float* b_fc,
                float* xt, float* gates, float* dgates, float* c, float* h, float* logits, float* work,
                const float* zeros, float* d_w_ih, float* d_w_hh, float* d_b, float* d_w_fc, float* d_b_fc,
                float* result) {
    int previous = set_threads ? set_threads(1) : 0;
    const int G = 4 * H, TB = T * B, TB1 = (T - 1) * B;
    const float one = 1.0f, zero = 0.0f;
    for (int t = 0; t < T; t++)  /* time-major copy of x, and the gates start as the biases */
        for (int b = 0; b < B; b++) {
            memcpy(xt + ((size_t)t * B + b) * I, x + ((size_t)b * T + t) * I, sizeof(float) * I);
            float* restrict g = gates + ((size_t)t * B + b) * G;
            for (int k = 0; k < G; k++) g[k] = b_ih[k] + b_hh[k];
        }
    sgemm("T", "N", &G, &TB, &I, &one, w_ih, &I, xt, &I, &one, gates, &G);  /* += x W_ih^T */
    forward_loop(sgemm, T, B, H, w_hh, gates, c, h, zeros);

    const float* h_last = h + (size_t)(T - 1) * B * H;
    for (int b = 0; b < B; b++) memcpy(logits + (size_t)b * K, b_fc, sizeof(float) * K);
    sgemm("T", "N", &K, &B, &H, &one, w_fc, &H, h_last, &H, &one, logits, &K);
    double loss = 0.0;
    int correct = 0;
    for (int b = 0; b < B; b++) {  /* softmax cross-entropy; logits become d loss / d logits */
        float* restrict l = logits + (size_t)b * K;
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
    sgemm("N", "T", &H, &K, &B, &one, h_last, &H, logits, &K, &zero, d_w_fc, &H);  /* dlogits^T h_last */
    for (int k = 0; k < K; k++) {
        float s = 0.0f;
        for (int b = 0; b < B; b++) s += logits[(size_t)b * K + k];
        d_b_fc[k] = s;
    }
    float* dh_last = work + 2 * (size_t)B * H;  /* after backward_loop's dh and dc */
    sgemm("N", "N", &H, &B, &K, &one, w_fc, &H, logits, &K, &zero, dh_last, &H);  /* dlogits W_fc */

    backward_loop(sgemm, T, B, H, w_hh, gates, c, dh_last, dgates, work, zeros);
    if (T > 1)  /* d W_hh = sum over t >= 1 of dgates_t^T h_{t-1}: one product, time-major rows line up */
        sgemm("N", "T", &H, &G, &TB1, &one, h, &H, dgates + (size_t)B * G, &G, &zero, d_w_hh, &H);
    else
        memset(d_w_hh, 0, sizeof(float) * G * H);
    sgemm("N", "T", &I, &G, &TB, &one, xt, &I, dgates, &G, &zero, d_w_ih, &I);  /* dgates^T x */
    memset(d_b, 0, sizeof(float) * G);
    for (int r = 0; r < TB; r++) {
        const float* restrict d = dgates + (size_t)r * G;
        for (int k = 0; k < G; k++) d_b[k] += d[k];
    }
    result[0] = (float)(loss / n);
    result[1] = (float)correct;
    if (set_threads) set_threads(previous);
}
