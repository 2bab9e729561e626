/* Fused float32 CPU kernels for sampling: one pass over memory where torch needs several.
 *
 * hepgen.models.kernels loads this library with ctypes (which releases the GIL during a call,
 * so sampling workers run them in parallel); the Python module object exists only so that
 * setuptools builds and installs it like any extension.
 *
 *   hepgen_bias_act      out = [out +] act(in + bias)        MLP layers, act = ReLU or ELU
 *   hepgen_rqs_inverse   x = f^-1(y) of rational-quadratic splines (Durkan et al.,
 *                        arXiv:1906.04032), the parametrisation of hepgen/models/rqs.py
 *
 * Loops run over blocks of LANES values with the same arithmetic in every lane, so that the
 * compiler turns them into SIMD code; on x86-64 each kernel is compiled for AVX-512, AVX2 and
 * baseline SSE2, and the loader picks the best the CPU has.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MULTIVERSIONED __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MULTIVERSIONED
#endif

#define LANES 16
#define MAX_BINS 64

/* exp(x) for float32 (Cephes' expf polynomial, about 1 ulp): x = n ln2 + r, |r| <= ln2 / 2,
 * exp(x) = 2^n exp(r). Saturates to 0 below -87.3 and to +inf above 88.3 (2^n must stay a
 * finite float; the kernels take exp of values below 7 only); NaN stays NaN. */
static inline __attribute__((always_inline)) float exp_f32(float x) {
    float c = x < -87.3f ? -87.3f : x;
    c = c > 88.3f ? 88.3f : c;
    float fn = (c * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round(c / ln2) */
    float r = c - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)fn + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float y = p * scale;
    y = x < -87.3f ? 0.0f : y;
    y = x > 88.3f ? __builtin_inff() : y;
    return x == x ? y : x;
}

/* out[i, j] = (residual ? out[i, j] : 0) + act(in[i, j] + bias[j]) for i < rows, j < cols, with
 * act = ReLU (activation 0) or ELU (activation 1: v for v > 0, exp(v) - 1 otherwise, absolute
 * error about 6e-8 near 0); in and out are row-major (rows, cols) and may be the same array
 * (not otherwise overlapping). */
MULTIVERSIONED
void hepgen_bias_act(float *out, const float *in, const float *bias, int64_t rows, int64_t cols,
                     int activation, int residual) {
    for (int64_t i = 0; i < rows; ++i) {
        float *o = out + i * cols;
        const float *v = in + i * cols;
        if (activation == 1) {
            for (int64_t j = 0; j < cols; ++j) {
                float a = v[j] + bias[j];
                float e = exp_f32(a < 0.0f ? a : 0.0f) - 1.0f;
                float y = a > 0.0f || a != a ? a : e; /* NaN stays NaN */
                o[j] = residual ? o[j] + y : y;
            }
        } else {
            for (int64_t j = 0; j < cols; ++j) {
                float a = v[j] + bias[j];
                float y = a > 0.0f || a != a ? a : 0.0f; /* NaN stays NaN */
                o[j] = residual ? o[j] + y : y;
            }
        }
    }
}

static inline __attribute__((always_inline)) float squash(float raw, float inverse_limit) {
    /* zuko's bound on |raw|: raw / (1 + |raw| / limit) */
    float m = raw * inverse_limit;
    return raw / ((m < 0.0f ? -m : m) + 1.0f);
}

/* Inverse of `count` monotonic rational-quadratic splines on [-bound, bound] (identity outside):
 * x[i] = f_i^-1(y[i]), where spline i has the unconstrained parameters params[i, 0 : 3K - 1]
 * (K bin widths, K bin heights, K - 1 interior log-derivatives; `scale` = -log(min slope):
 * widths and heights are exp(raw squashed to |raw| < scale / 2), derivatives exp(raw squashed
 * to |raw| < scale)).
 * The same arithmetic as hepgen.models.rqs.Spline.inverse, in float32. x may alias y.
 * Returns 0, or -1 (and writes nothing) unless 2 <= bins <= MAX_BINS. */
MULTIVERSIONED
int hepgen_rqs_inverse(float *x, const float *y, const float *params, int64_t count, int bins,
                        double bound_, double scale) {
    if (bins < 2 || bins > MAX_BINS) return -1;
    const int width = 3 * bins - 1;
    const float bound = (float)bound_;
    const float size_limit = (float)(2.0 / scale), deriv_limit = (float)(1.0 / scale);
    float p[3 * MAX_BINS - 1][LANES]; /* parameters of LANES splines, one row per parameter */
    float cum[2][MAX_BINS][LANES];    /* cumulative bin widths (0) and heights (1) */
    float yy[LANES];
    int32_t k[LANES];
    for (int64_t start = 0; start < count; start += LANES) {
        int64_t n = count - start < LANES ? count - start : LANES;
        if (n == LANES) { /* a whole block: one strided (gather) load per parameter */
            const float *block = params + start * width;
            for (int q = 0; q < width; ++q)
                for (int l = 0; l < LANES; ++l) p[q][l] = block[l * width + q];
            for (int l = 0; l < LANES; ++l) yy[l] = y[start + l];
        } else { /* the last, partial block: its missing lanes repeat the first spline */
            for (int l = 0; l < LANES; ++l) {
                int64_t i = start + (l < n ? l : 0);
                yy[l] = y[i];
                for (int q = 0; q < width; ++q) p[q][l] = params[i * width + q];
            }
        }
        for (int row = 0; row < 2; ++row) {
            for (int l = 0; l < LANES; ++l) cum[row][0][l] = 0.0f;
            for (int q = 0; q < bins; ++q) {
                const float *raw = p[row * bins + q];
                float *c = cum[row][q];
                const float *before = cum[row][q > 0 ? q - 1 : 0];
                for (int l = 0; l < LANES; ++l) {
                    float size = exp_f32(squash(raw[l], size_limit));
                    c[l] = (q > 0 ? before[l] : 0.0f) + size;
                }
            }
        }
        const float *total_w = cum[0][bins - 1], *total_h = cum[1][bins - 1];
        for (int l = 0; l < LANES; ++l) k[l] = 0;
        for (int q = 0; q < bins; ++q) {
            const float *c = cum[1][q];
            for (int l = 0; l < LANES; ++l) {
                float u = (yy[l] + bound) * (0.5f / bound) * total_h[l];
                k[l] += c[l] < u ? 1 : 0;
            }
        }
        float w0[LANES], w1[LANES], h0[LANES], h1[LANES], r0[LANES], r1[LANES];
        for (int l = 0; l < LANES; ++l) w0[l] = w1[l] = h0[l] = h1[l] = r0[l] = r1[l] = 0.0f;
        for (int q = 0; q < bins; ++q) {
            const float *cw = cum[0][q], *ch = cum[1][q];
            const float *raw = q < bins - 1 ? p[2 * bins + q] : p[2 * bins];
            for (int l = 0; l < LANES; ++l) {
                int kl = k[l] < bins - 1 ? k[l] : bins - 1;
                int hit_right = kl == q, hit_left = kl == q + 1;
                w1[l] = hit_right ? cw[l] : w1[l];
                h1[l] = hit_right ? ch[l] : h1[l];
                w0[l] = hit_left ? cw[l] : w0[l];
                h0[l] = hit_left ? ch[l] : h0[l];
                r0[l] = hit_left && q < bins - 1 ? raw[l] : r0[l];
                r1[l] = hit_right && q < bins - 1 ? raw[l] : r1[l];
            }
        }
        float out[LANES];
        for (int l = 0; l < LANES; ++l) {
            float u = (yy[l] + bound) * (0.5f / bound) * total_h[l];
            int inside = u > 0.0f && k[l] < bins;
            float x0 = w0[l] / total_w[l] * (2.0f * bound) - bound;
            float y0 = h0[l] / total_h[l] * (2.0f * bound) - bound;
            float x1 = w1[l] / total_w[l] * (2.0f * bound) - bound;
            float y1 = h1[l] / total_h[l] * (2.0f * bound) - bound;
            float d0 = exp_f32(squash(r0[l], deriv_limit)), d1 = exp_f32(squash(r1[l], deriv_limit));
            float height = y1 - y0, s = height / (x1 - x0);
            float dy = inside ? yy[l] - y0 : 0.0f;
            float curvature = d0 + d1 - 2.0f * s;
            float a = height * (s - d0) + dy * curvature;
            float b = height * d0 - dy * curvature;
            float c = -s * dy;
            float disc = b * b - 4.0f * a * c;
            float z = 2.0f * c / (-b - __builtin_sqrtf(disc > 0.0f ? disc : 0.0f));
            out[l] = inside ? x0 + z * (x1 - x0) : yy[l];
        }
        for (int l = 0; l < n; ++l) x[start + l] = out[l];
    }
    return 0;
}

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
