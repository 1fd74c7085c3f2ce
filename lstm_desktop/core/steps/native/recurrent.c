/* One recurrent layer, one direction, forward and backward over a part of a batch: the time loop
 * that every variant of the classifier repeats per layer and direction (network.c drives it).
 *
 * Each time step is one sgemm (MKL's own, from torch's library) plus one vectorised pass over the
 * gates; the weight gradients are a few large products after the loop. Cells: LSTM (gates i, f, g, o),
 * GRU (r, z, n) and the plain tanh RNN, in PyTorch's gate order and with PyTorch's maths.
 *
 * Numerics: built without -ffast-math. sigmoid and tanh are written in the stable forms (exp of a
 * non-positive number only) with a polynomial exp that the compiler vectorises, so they saturate to
 * exactly 0/1 and -1/1 and pass NaN through, as PyTorch does.
 *
 * Layout: time-major, row-major. A layer's output is [T][B][DH] (DH = directions x H) and direction
 * d writes its h at column d*H, so the next layer and the head read both directions as one matrix.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

typedef void (*sgemm_t)(const char*, const char*, const int*, const int*, const int*, const float*,
                        const float*, const int*, const float*, const int*, const float*, float*, const int*);

enum { CELL_LSTM = 0, CELL_GRU = 1, CELL_RNN = 2 };

/* e^x for x <= 0 (or NaN, passed through): Cephes' expf polynomial, ~1 ulp, branch-free.
 * Below -87 it is 0 (PyTorch's is a denormal there, or 0 from -104): sigmoid(-inf) must be exactly
 * 0, or a saturated gate's gradient times an infinite input would be inf instead of NaN. */
static inline float exp_nonpos(float v) {
    float x = v < -87.0f ? -87.0f : v;  /* keeps the polynomial in the normal range */
    float fn = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - fn * 0.693359375f;
    r = r + fn * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    float safe = fn == fn ? fn : 0.0f;  /* NaN: p is NaN already; keep the int conversion defined */
    int bits = ((int)safe + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return v < -87.0f ? 0.0f : p * scale;
}

static inline float sigm(float x) {
    float e = exp_nonpos(-fabsf(x));
    float s = 1.0f / (1.0f + e);
    return x >= 0.0f ? s : e * s;
}

static inline float tanh_(float x) {
    float a = fabsf(x);
    float e = exp_nonpos(-2.0f * a);
    float big = 1.0f - 2.0f * e / (1.0f + e);  /* one rounding near 1, where 1 - tanh^2 needs it */
    float z = a * a;  /* small |x|: Cephes' tanhf polynomial, no cancellation in 1 - e */
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z
                    + 1.33314422036e-1f) * z - 3.33332819422e-1f) * z * a + a;
    return copysignf(a < 0.625f ? small : big, x);
}

/* ---- cells: one row of H units ---- */

/* g: the pre-activations without bias on entry (bias: b_ih + b_hh), the activated gates on exit. */
static void lstm_forward(int H, float* restrict g, const float* restrict bias, const float* restrict c_prev,
                         float* restrict c, float* restrict tc, float* restrict h) {
    for (int j = 0; j < H; j++) {
        float i = sigm(g[j] + bias[j]), f = sigm(g[H + j] + bias[H + j]);
        float z = tanh_(g[2 * H + j] + bias[2 * H + j]), o = sigm(g[3 * H + j] + bias[3 * H + j]);
        float cc = i * z + f * c_prev[j];
        g[j] = i;
        g[H + j] = f;
        g[2 * H + j] = z;
        g[3 * H + j] = o;
        c[j] = cc;
        tc[j] = tanh_(cc);  /* kept: the backward needs it too */
        h[j] = o * tc[j];
    }
}

static void lstm_backward(int H, const float* restrict g, const float* restrict tcs, const float* restrict c_prev,
                          const float* restrict dh, float* restrict dc, float* restrict d) {
    for (int j = 0; j < H; j++) {
        float i = g[j], f = g[H + j], z = g[2 * H + j], o = g[3 * H + j];
        float tc = tcs[j];
        float dcc = dh[j] * o * (1.0f - tc * tc) + dc[j];
        d[j] = dcc * z * i * (1.0f - i);
        d[H + j] = dcc * c_prev[j] * f * (1.0f - f);
        d[2 * H + j] = dcc * i * (1.0f - z * z);
        d[3 * H + j] = dh[j] * tc * o * (1.0f - o);
        dc[j] = dcc * f;
    }
}

/* g: x W_ih^T + b_ih on entry, (r, z, n) on exit; a: h_prev W_hh^T + b_hh (kept: n reads a_n). */
static void gru_forward(int H, float* restrict g, const float* restrict a, const float* restrict h_prev,
                        float* restrict h) {
    for (int j = 0; j < H; j++) {
        float r = sigm(g[j] + a[j]), z = sigm(g[H + j] + a[H + j]);
        float n = tanh_(g[2 * H + j] + r * a[2 * H + j]);
        g[j] = r;
        g[H + j] = z;
        g[2 * H + j] = n;
        h[j] = (1.0f - z) * n + z * h_prev[j];
    }
}

/* dgx, dgh: gradients of the input and hidden pre-activations; dh_prev += the direct z path. */
static void gru_backward(int H, const float* restrict g, const float* restrict a, const float* restrict h_prev,
                         const float* restrict dh, float* restrict dh_prev, float* restrict dgx,
                         float* restrict dgh) {
    for (int j = 0; j < H; j++) {
        float r = g[j], z = g[H + j], n = g[2 * H + j];
        float dn = dh[j] * (1.0f - z) * (1.0f - n * n);
        float dz = dh[j] * (h_prev[j] - n) * z * (1.0f - z);
        float dr = dn * a[2 * H + j] * r * (1.0f - r);
        dgx[j] = dr;
        dgx[H + j] = dz;
        dgx[2 * H + j] = dn;
        dgh[j] = dr;
        dgh[H + j] = dz;
        dgh[2 * H + j] = dn * r;
        if (dh_prev) dh_prev[j] += dh[j] * z;
    }
}

static void rnn_forward(int H, float* restrict g, const float* restrict bias, float* restrict h) {
    for (int j = 0; j < H; j++) {
        float v = tanh_(g[j] + bias[j]);
        g[j] = v;
        h[j] = v;
    }
}

static void rnn_backward(int H, const float* restrict g, const float* restrict dh, float* restrict d) {
    for (int j = 0; j < H; j++) d[j] = dh[j] * (1.0f - g[j] * g[j]);
}

/* v[r][k] = tanh(v[r][k] + bias[k]) over rows x cols: the attention layer's activation, with the
 * same stable tanh; the bias is added here, where the row is in cache, not filled in before the product. */
void tanh_bias_rows(float* restrict v, const float* restrict bias, size_t rows, int cols) {
    for (size_t r = 0; r < rows; r++) {
        float* restrict row = v + r * (size_t)cols;
        for (int k = 0; k < cols; k++) row[k] = tanh_(row[k] + bias[k]);
    }
}

int gate_count(int cell, int H) { return cell == CELL_LSTM ? 4 * H : cell == CELL_GRU ? 3 * H : H; }

/* ---- one layer, one direction ---- */

/* inp [T*B][Din]. gates [T][B][G]: activated gates (kept for the backward). bias [G]: scratch.
 * aux: LSTM c and tanh(c), [2][T][B][H],
 * GRU hidden pre-activations [T][B][3H], RNN unused. out: the layer's [T][B][DH]; direction d runs
 * on reversed time when d == 1 and writes column d*H. zeros [B][H]: the state before the first step. */
void layer_forward(sgemm_t sgemm, int cell, int T, int B, int Din, int H, int DH, int d, const float* inp,
                   const float* w_ih, const float* w_hh, const float* b_ih, const float* b_hh, float* gates,
                   float* aux, float* out, const float* zeros, float* bias) {
    const int G = gate_count(cell, H), TB = T * B;
    const float one = 1.0f, zero = 0.0f;
    if (cell == CELL_GRU) {  /* GRU keeps b_ih in g (b_hh goes with the hidden product, inside r) */
        for (int r = 0; r < TB; r++) memcpy(gates + (size_t)r * G, b_ih, sizeof(float) * G);
    } else {  /* LSTM, RNN: the gate pass adds b_ih + b_hh (filling TB x G first: 20% of this function) */
        for (int k = 0; k < G; k++) bias[k] = b_ih[k] + b_hh[k];
    }
    const float beta = cell == CELL_GRU ? one : zero;
    sgemm("T", "N", &G, &TB, &Din, &one, w_ih, &Din, inp, &Din, &beta, gates, &G);  /* x W_ih^T */
    float* hd = out + (size_t)d * H;
    for (int s = 0; s < T; s++) {
        const int t = d ? T - 1 - s : s, tp = d ? t + 1 : t - 1;
        float* gt = gates + (size_t)t * B * G;
        const float* h_prev = s > 0 ? hd + (size_t)tp * B * DH : NULL;
        if (cell == CELL_GRU) {
            float* at = aux + (size_t)t * B * G;
            for (int b = 0; b < B; b++) memcpy(at + (size_t)b * G, b_hh, sizeof(float) * G);
            if (h_prev) sgemm("T", "N", &G, &B, &H, &one, w_hh, &H, h_prev, &DH, &one, at, &G);
            for (int b = 0; b < B; b++)
                gru_forward(H, gt + (size_t)b * G, at + (size_t)b * G,
                            h_prev ? h_prev + (size_t)b * DH : zeros + (size_t)b * H, hd + ((size_t)t * B + b) * DH);
            continue;
        }
        if (h_prev) sgemm("T", "N", &G, &B, &H, &one, w_hh, &H, h_prev, &DH, &one, gt, &G);  /* += h W_hh^T */
        for (int b = 0; b < B; b++) {
            float* h = hd + ((size_t)t * B + b) * DH;
            if (cell == CELL_RNN) { rnn_forward(H, gt + (size_t)b * G, bias, h); continue; }
            const float* c_prev = s > 0 ? aux + ((size_t)tp * B + b) * H : zeros + (size_t)b * H;
            lstm_forward(H, gt + (size_t)b * G, bias, c_prev, aux + ((size_t)t * B + b) * H,
                         aux + ((size_t)TB + (size_t)t * B + b) * H, h);
        }
    }
}

static void column_sums(int rows, int cols, const float* m, float* sums) {
    memset(sums, 0, sizeof(float) * cols);
    for (int r = 0; r < rows; r++) {
        const float* restrict row = m + (size_t)r * cols;
        for (int k = 0; k < cols; k++) sums[k] += row[k];
    }
}

/* dout [T][B][DH]: the gradient of this layer's output on entry; the recurrent terms are added into
 * it in place as the loop goes back in time (direction d touches only its own columns).
 * dgates [T][B][G] (and daux, GRU) scratch; dc [B][H] scratch. din [T*B][Din] (NULL for the first
 * layer) gets dgates W_ih, added to what is there when accumulate is set (the second direction).
 * wt [Din][G] scratch. */
void layer_backward(sgemm_t sgemm, int cell, int T, int B, int Din, int H, int DH, int d, const float* inp,
                    const float* w_ih, const float* w_hh, const float* gates, const float* aux, const float* out,
                    float* dout, float* dgates, float* daux, float* dc, const float* zeros, float* din,
                    int accumulate, float* d_w_ih, float* d_w_hh, float* d_b_ih, float* d_b_hh, float* wt) {
    const int G = gate_count(cell, H), TB = T * B, TB1 = (T - 1) * B;
    const float one = 1.0f, zero = 0.0f;
    const float* hd = out + (size_t)d * H;
    float* dhd = dout + (size_t)d * H;
    float* drec = cell == CELL_GRU ? daux : dgates;  /* what multiplies W_hh on the way back */
    memset(dc, 0, sizeof(float) * (size_t)B * H);
    for (int s = T - 1; s >= 0; s--) {
        const int t = d ? T - 1 - s : s, tp = d ? t + 1 : t - 1;
        const size_t row = (size_t)t * B;
        for (int b = 0; b < B; b++) {
            const float* dh = dhd + (row + b) * DH;
            float* dg = dgates + (row + b) * G;
            if (cell == CELL_LSTM) {
                const float* c_prev = s > 0 ? aux + ((size_t)tp * B + b) * H : zeros + (size_t)b * H;
                lstm_backward(H, gates + (row + b) * G, aux + ((size_t)TB + row + b) * H, c_prev, dh, dc + (size_t)b * H,
                              dg);
            } else if (cell == CELL_GRU) {
                const float* h_prev = s > 0 ? hd + ((size_t)tp * B + b) * DH : zeros + (size_t)b * H;
                float* dh_prev = s > 0 ? dhd + ((size_t)tp * B + b) * DH : NULL;
                gru_backward(H, gates + (row + b) * G, aux + (row + b) * G, h_prev, dh, dh_prev, dg,
                             daux + (row + b) * G);
            } else {
                rnn_backward(H, gates + (row + b) * G, dh, dg);
            }
        }
        if (s > 0)  /* dh_prev += drec_t W_hh */
            sgemm("N", "N", &H, &B, &G, &one, w_hh, &H, drec + row * G, &G, &one, dhd + (size_t)tp * B * DH, &DH);
    }
    if (T > 1) {  /* d W_hh = sum over steps after the first of drec_t^T h_prev: one product */
        const float* h_rows = d ? hd + (size_t)B * DH : hd;
        const float* d_rows = d ? drec : drec + (size_t)B * G;
        sgemm("N", "T", &H, &G, &TB1, &one, h_rows, &DH, d_rows, &G, &zero, d_w_hh, &H);
    } else {
        memset(d_w_hh, 0, sizeof(float) * (size_t)G * H);
    }
    /* d W_ih = dgates^T x, taken as its transpose [Din][G] and turned: with G, not Din, as the
     * product's first dimension, MKL ran it 1.5x faster for Din = 28 (an MNIST row). */
    sgemm("N", "T", &G, &Din, &TB, &one, dgates, &G, inp, &Din, &zero, wt, &G);
    for (int g = 0; g < G; g++)
        for (int i = 0; i < Din; i++) d_w_ih[(size_t)g * Din + i] = wt[(size_t)i * G + g];
    column_sums(TB, G, dgates, d_b_ih);
    if (cell == CELL_GRU) column_sums(TB, G, daux, d_b_hh);
    else memcpy(d_b_hh, d_b_ih, sizeof(float) * G);
    if (din) {
        const float beta = accumulate ? 1.0f : 0.0f;
        sgemm("N", "N", &Din, &TB, &G, &one, w_ih, &Din, dgates, &G, &beta, din, &Din);
    }
}
