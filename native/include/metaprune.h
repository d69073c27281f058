/*
 * metaprune.h: the one C ABI of MetaPrune's native path (libmetaprune_cuda).
 *
 * Conventions
 *  - Every function returns an mp_status; MP_OK is 0. On failure mp_last_error() returns a
 *    thread-local message "<function>: <CUDA error name>: <CUDA error string>".
 *  - float32 throughout. Pointers named d_* are device memory; h_* are host memory.
 *  - Activations are NHWC, rows of `c` channels `ld` floats apart (ld >= c: channel views).
 *  - Convolution weights are OIHW [cOutMax, cInMax/groups, kh, kw]; a kernel uses the leading
 *    [cOut, cIn/groups] block ("sliced"); w_ci_max is the weight's second dimension.
 *  - Kernels are asynchronous on the given stream (NULL = the default stream); memcpy to the host
 *    synchronises. accumulate != 0 adds into gradients instead of overwriting them.
 *  - MP_CRITICAL marks calls that are short and may take Java heap memory (FFM critical downcalls).
 *
 * This header is parsed by bindings-gen (a C subset: #define integer constants, opaque handle
 * typedefs, enum-free prototypes over int, int64_t, size_t, float, pointers and handles).
 */
#ifndef METAPRUNE_H
#define METAPRUNE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MP_CRITICAL
#define MP_API __attribute__((visibility("default")))

#define MP_ABI_VERSION 2

/* status codes */
#define MP_OK 0
#define MP_ERR_CUDA 1
#define MP_ERR_INVALID_ARGUMENT 2
#define MP_ERR_NO_DEVICE 3
#define MP_ERR_DRIVER 4

typedef struct mp_stream_s *mp_stream;
typedef struct mp_event_s *mp_event;

/* ---- library, errors and devices ---------------------------------------------------------- */
MP_API MP_CRITICAL int mp_abi_version(void);
MP_API MP_CRITICAL const char *mp_last_error(void);
MP_API MP_CRITICAL int mp_last_cuda_error(void);
/* count of devices; MP_ERR_NO_DEVICE / MP_ERR_DRIVER with the reason in mp_last_error() */
MP_API MP_CRITICAL int mp_device_count(int *count);
MP_API int mp_set_device(int device);
/* name into buf (NUL-terminated, at most len bytes), compute capability, multiprocessors, bytes */
MP_API MP_CRITICAL int mp_device_info(int device, char *buf, int len, int *major, int *minor, int *sms,
                                      int64_t *total_mem);
MP_API int mp_runtime_version(int *runtime, int *driver);
/* a slow checking mode: synchronise after each kernel so that an error names its kernel */
MP_API MP_CRITICAL int mp_set_sync_check(int on);

/* ---- streams and events ------------------------------------------------------------------- */
MP_API int mp_stream_create(mp_stream *stream);
MP_API int mp_stream_destroy(mp_stream stream);
MP_API int mp_stream_synchronize(mp_stream stream);
MP_API int mp_device_synchronize(void);
MP_API int mp_event_create(mp_event *event);
MP_API int mp_event_destroy(mp_event event);
MP_API int mp_event_record(mp_event event, mp_stream stream);
MP_API int mp_event_elapsed_ms(mp_event start, mp_event end, float *ms);

/* ---- device memory ------------------------------------------------------------------------ */
MP_API int mp_malloc(void **d_ptr, size_t bytes);
MP_API int mp_free(void *d_ptr);
MP_API int mp_memset(void *d_ptr, int value, size_t bytes, mp_stream stream);
/* height rows of width bytes, pitch bytes apart, set to the byte value (zeroing a view; since ABI 2) */
MP_API int mp_memset2d(void *d_ptr, size_t pitch, int value, size_t width, size_t height, mp_stream stream);
MP_API MP_CRITICAL int mp_memcpy_htod(void *d_dst, const void *h_src, size_t bytes);
MP_API MP_CRITICAL int mp_memcpy_dtoh(void *h_dst, const void *d_src, size_t bytes);
/* rows of width bytes: device rows spitch bytes apart to host rows dpitch bytes apart */
MP_API MP_CRITICAL int mp_memcpy2d_dtoh(void *h_dst, size_t dpitch, const void *d_src, size_t spitch, size_t width,
                                        size_t height);
MP_API int mp_memcpy_dtod(void *d_dst, const void *d_src, size_t bytes, mp_stream stream);
/* rows of width bytes, device to device: source rows spitch bytes apart to destination rows dpitch bytes apart
   (a copy between channel views; since ABI 2) */
MP_API int mp_memcpy2d_dtod(void *d_dst, size_t dpitch, const void *d_src, size_t spitch, size_t width, size_t height,
                            mp_stream stream);

/* ---- GEMM (row-major): C[m,n] = alpha * op(A) op(B) + beta * C ------------------------------ */
MP_API int mp_gemm(mp_stream stream, int trans_a, int trans_b, int m, int n, int k, float alpha,
                   const float *d_a, int lda, const float *d_b, int ldb, float beta, float *d_c, int ldc);

/* ---- sliced 1x1 convolution over p = N*H*W positions ---------------------------------------- */
/* y[p, :c_out] = x[p, :c_in] * W[:c_out, :c_in]^T (+ bias); W rows are w_ci_max apart */
MP_API int mp_conv1x1_forward(mp_stream stream, int p, int c_in, int c_out, const float *d_x, int ldx,
                              const float *d_w, int w_ci_max, const float *d_bias, float *d_y, int ldy);
/* dx[p, :c_in] = dy[p, :c_out] * W[:c_out, :c_in] */
MP_API int mp_conv1x1_backward_input(mp_stream stream, int p, int c_in, int c_out, const float *d_dy, int lddy,
                                     const float *d_w, int w_ci_max, float *d_dx, int lddx);
/* dW[:c_out, :c_in] (+)= dy^T x; dbias (+)= column sums of dy (may be NULL) */
MP_API int mp_conv1x1_backward_weight(mp_stream stream, int p, int c_in, int c_out, const float *d_x, int ldx,
                                      const float *d_dy, int lddy, float *d_dw, int w_ci_max, float *d_dbias,
                                      int accumulate);

/* ---- depthwise k x k (k = 3 in MobileNets), stride 1 or 2 ----------------------------------- */
MP_API int mp_depthwise_forward(mp_stream stream, int n, int h, int w, int c, const float *d_x, int ldx,
                                const float *d_w, int k, int stride, int pad, const float *d_bias, float *d_y,
                                int ho, int wo, int ldy);
MP_API int mp_depthwise_backward_input(mp_stream stream, int n, int h, int w, int c, const float *d_dy, int lddy,
                                       const float *d_w, int k, int stride, int pad, float *d_dx, int ho, int wo,
                                       int lddx);
MP_API int mp_depthwise_backward_weight(mp_stream stream, int n, int h, int w, int c, const float *d_x, int ldx,
                                        const float *d_dy, int lddy, float *d_dw, float *d_dbias, int k, int stride,
                                        int pad, int ho, int wo, int accumulate);

/* ---- general convolution (implicit GEMM; groups allowed) ------------------------------------ */
MP_API int mp_conv2d_forward(mp_stream stream, int n, int h, int w, int c_in, const float *d_x, int ldx,
                             const float *d_w, int w_ci_max, int c_out, int kh, int kw, int sh, int sw, int ph,
                             int pw, int groups, const float *d_bias, float *d_y, int ho, int wo, int ldy);
MP_API int mp_conv2d_backward_input(mp_stream stream, int n, int h, int w, int c_in, float *d_dx, int lddx,
                                    const float *d_w, int w_ci_max, int c_out, int kh, int kw, int sh, int sw,
                                    int ph, int pw, int groups, const float *d_dy, int ho, int wo, int lddy);
MP_API int mp_conv2d_backward_weight(mp_stream stream, int n, int h, int w, int c_in, const float *d_x, int ldx,
                                     float *d_dw, int w_ci_max, int c_out, int kh, int kw, int sh, int sw, int ph,
                                     int pw, int groups, const float *d_dy, int ho, int wo, int lddy,
                                     float *d_dbias, int accumulate);

/* ---- BatchNorm over rows x c (per channel); gamma/beta NULL = affine-free ------------------- */
MP_API int mp_batchnorm_train_forward(mp_stream stream, int rows, int c, const float *d_x, int ldx,
                                      const float *d_gamma, const float *d_beta, float *d_y, int ldy,
                                      float *d_save_mean, float *d_save_invstd, float *d_run_mean,
                                      float *d_run_var, float average_factor, float eps);
MP_API int mp_batchnorm_inference_forward(mp_stream stream, int rows, int c, const float *d_x, int ldx,
                                          const float *d_gamma, const float *d_beta, const float *d_run_mean,
                                          const float *d_run_var, float eps, float *d_y, int ldy);
MP_API int mp_batchnorm_backward(mp_stream stream, int rows, int c, const float *d_x, int ldx, const float *d_dy,
                                 int lddy, const float *d_gamma, const float *d_save_mean,
                                 const float *d_save_invstd, float *d_dx, int lddx, float *d_dgamma,
                                 float *d_dbeta, int accumulate);

/* ---- element-wise over rows x c ---------------------------------------------------------- */
/* kind: 0 = ReLU, 1 = ReLU6 */
MP_API int mp_activation_forward(mp_stream stream, int kind, int rows, int c, const float *d_x, int ldx, float *d_y,
                                 int ldy);
MP_API int mp_activation_backward(mp_stream stream, int kind, int rows, int c, const float *d_x, int ldx,
                                  const float *d_dy, int lddy, float *d_dx, int lddx);
MP_API int mp_add(mp_stream stream, int rows, int c, const float *d_a, int lda, const float *d_b, int ldb, float *d_y,
                  int ldy);

/* ---- pooling ----------------------------------------------------------------------------- */
/* argmax: index of the maximum relative to d_x (row-major with ldx) */
MP_API int mp_maxpool_forward(mp_stream stream, int n, int h, int w, int c, const float *d_x, int ldx, float *d_y,
                              int ldy, int *d_argmax, int ho, int wo, int k, int stride, int pad);
/* dx (n*h*w rows, lddx) is zeroed, then dx[argmax[i]] += dy[i] */
MP_API int mp_maxpool_backward(mp_stream stream, int n, int h, int w, int c, const float *d_dy, int lddy,
                               const int *d_argmax, int ho, int wo, float *d_dx, int lddx);
MP_API int mp_global_avgpool_forward(mp_stream stream, int n, int hw, int c, const float *d_x, int ldx, float *d_y,
                                     int ldy);
MP_API int mp_global_avgpool_backward(mp_stream stream, int n, int hw, int c, const float *d_dy, int lddy,
                                      float *d_dx, int lddx);

/* ---- loss and optimiser ------------------------------------------------------------------ */
/* mean softmax cross-entropy with label smoothing; d_loss: one float; d_dlogits may be NULL */
MP_API int mp_softmax_cross_entropy(mp_stream stream, int n, int k, const float *d_logits, int ldz,
                                    const int *d_labels, float smoothing, float *d_loss, float *d_dlogits,
                                    int ldg);
MP_API int mp_sgd_step(mp_stream stream, int64_t count, float *d_param, const float *d_grad, float *d_buf, float lr,
                       float momentum, float weight_decay, int nesterov);

/* ---- PruningNet weight generator: FC(enc->hidden) ReLU FC(hidden->rows) --------------------- */
/* h[hidden] = relu(W1 enc + b1); also pre-activation */
MP_API int mp_generator_hidden(mp_stream stream, int enc_dim, int hidden, const float *d_w1, const float *d_b1,
                               const float *d_enc, float *d_pre, float *d_h);
/* out[o, i, :] for o < co, i < ci (kk = kh*kw consecutive rows each) = W2[r] . h + b2[r];
   the output keeps the [out_max, in_max, kk] layout (rows outside the crop are not written) */
MP_API int mp_generator_forward(mp_stream stream, int hidden, int in_max, int kk, int co, int ci, const float *d_w2,
                                const float *d_b2, const float *d_h, float *d_out);
/* backward over the crop fused with SGD on W2/b2 rows of the crop; dh[hidden] = sum_r g_r W2_old[r]
   (d_dh is overwritten); then call mp_generator_hidden_backward for W1/b1 */
MP_API int mp_generator_backward_sgd(mp_stream stream, int hidden, int in_max, int kk, int co, int ci,
                                     float *d_w2, float *d_b2, float *d_mw2, float *d_mb2, const float *d_h,
                                     const float *d_dout, float *d_dh, float lr, float momentum,
                                     float weight_decay, int nesterov);
/* the rows outside the crop (o >= co or i >= ci): PyTorch's SGD step with a zero gradient on W2/b2 and their momentum
   (momentum and weight decay still move them); with mp_generator_backward_sgd on the crop, the step of the whole
   generator (since ABI 2) */
MP_API int mp_generator_decay_outside(mp_stream stream, int hidden, int out_max, int in_max, int kk, int co, int ci,
                                      float *d_w2, float *d_b2, float *d_mw2, float *d_mb2, float lr, float momentum,
                                      float weight_decay, int nesterov);
MP_API int mp_generator_hidden_backward_sgd(mp_stream stream, int enc_dim, int hidden, float *d_w1, float *d_b1,
                                            float *d_mw1, float *d_mb1, const float *d_enc, const float *d_pre,
                                            const float *d_dh, float lr, float momentum, float weight_decay,
                                            int nesterov);

#ifdef __cplusplus
}
#endif
#endif
