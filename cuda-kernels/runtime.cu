// Library, error, device, stream, event and memory functions of metaprune.h.
#include "common.cuh"
#include <cstdio>
#include <cstring>

namespace {
thread_local char g_msg[512] = "no error";
thread_local int g_cuda = 0;
bool g_sync = false;
}

namespace mp {
int set_error(const char *fn, cudaError_t e) {
    g_cuda = (int) e;
    std::snprintf(g_msg, sizeof g_msg, "%s: %s (CUDA error %d): %s", fn, cudaGetErrorName(e), (int) e,
                  cudaGetErrorString(e));
    if (e == cudaErrorInsufficientDriver) return MP_ERR_DRIVER;
    if (e == cudaErrorNoDevice) return MP_ERR_NO_DEVICE;
    return MP_ERR_CUDA;
}
int set_invalid(const char *fn, const char *what) {
    g_cuda = 0;
    std::snprintf(g_msg, sizeof g_msg, "%s: invalid argument: %s", fn, what);
    return MP_ERR_INVALID_ARGUMENT;
}
int check_launch(const char *fn) {
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess && g_sync) e = cudaDeviceSynchronize();
    return e == cudaSuccess ? MP_OK : set_error(fn, e);
}
}  // namespace mp

extern "C" {
int mp_abi_version(void) { return MP_ABI_VERSION; }
const char *mp_last_error(void) { return g_msg; }
int mp_last_cuda_error(void) { return g_cuda; }
int mp_set_sync_check(int on) { g_sync = on != 0; return MP_OK; }

int mp_device_count(int *count) {
    MP_REQUIRE(count, "mp_device_count", "count is NULL");
    *count = 0;
    cudaError_t e = cudaGetDeviceCount(count);
    if (e != cudaSuccess) { *count = 0; return mp::set_error("mp_device_count", e); }
    return MP_OK;
}
int mp_set_device(int device) { MP_CUDA("mp_set_device", cudaSetDevice(device)); return MP_OK; }
int mp_device_info(int device, char *buf, int len, int *major, int *minor, int *sms, int64_t *total_mem) {
    cudaDeviceProp p;
    MP_CUDA("mp_device_info", cudaGetDeviceProperties(&p, device));
    if (buf && len > 0) { std::strncpy(buf, p.name, (size_t) len - 1); buf[len - 1] = 0; }
    if (major) *major = p.major;
    if (minor) *minor = p.minor;
    if (sms) *sms = p.multiProcessorCount;
    if (total_mem) *total_mem = (int64_t) p.totalGlobalMem;
    return MP_OK;
}
int mp_runtime_version(int *runtime, int *driver) {
    MP_CUDA("mp_runtime_version", cudaRuntimeGetVersion(runtime));
    MP_CUDA("mp_runtime_version", cudaDriverGetVersion(driver));
    return MP_OK;
}

int mp_stream_create(mp_stream *s) {
    cudaStream_t c;
    MP_CUDA("mp_stream_create", cudaStreamCreateWithFlags(&c, cudaStreamNonBlocking));
    *s = reinterpret_cast<mp_stream>(c);
    return MP_OK;
}
int mp_stream_destroy(mp_stream s) { MP_CUDA("mp_stream_destroy", cudaStreamDestroy(MP_STREAM(s))); return MP_OK; }
int mp_stream_synchronize(mp_stream s) {
    MP_CUDA("mp_stream_synchronize", cudaStreamSynchronize(MP_STREAM(s)));
    return MP_OK;
}
int mp_device_synchronize(void) { MP_CUDA("mp_device_synchronize", cudaDeviceSynchronize()); return MP_OK; }
int mp_event_create(mp_event *ev) {
    cudaEvent_t e;
    MP_CUDA("mp_event_create", cudaEventCreate(&e));
    *ev = reinterpret_cast<mp_event>(e);
    return MP_OK;
}
int mp_event_destroy(mp_event ev) {
    MP_CUDA("mp_event_destroy", cudaEventDestroy(reinterpret_cast<cudaEvent_t>(ev)));
    return MP_OK;
}
int mp_event_record(mp_event ev, mp_stream s) {
    MP_CUDA("mp_event_record", cudaEventRecord(reinterpret_cast<cudaEvent_t>(ev), MP_STREAM(s)));
    return MP_OK;
}
int mp_event_elapsed_ms(mp_event a, mp_event b, float *ms) {
    MP_CUDA("mp_event_elapsed_ms", cudaEventSynchronize(reinterpret_cast<cudaEvent_t>(b)));
    MP_CUDA("mp_event_elapsed_ms",
            cudaEventElapsedTime(ms, reinterpret_cast<cudaEvent_t>(a), reinterpret_cast<cudaEvent_t>(b)));
    return MP_OK;
}

int mp_malloc(void **p, size_t bytes) {
    MP_REQUIRE(p, "mp_malloc", "pointer is NULL");
    MP_CUDA("mp_malloc", cudaMalloc(p, bytes == 0 ? 4 : bytes));
    return MP_OK;
}
int mp_free(void *p) { MP_CUDA("mp_free", cudaFree(p)); return MP_OK; }
int mp_memset(void *p, int v, size_t bytes, mp_stream s) {
    MP_CUDA("mp_memset", cudaMemsetAsync(p, v, bytes, MP_STREAM(s)));
    return MP_OK;
}
int mp_memset2d(void *p, size_t pitch, int v, size_t width, size_t height, mp_stream s) {
    MP_REQUIRE(width <= pitch, "mp_memset2d", "width exceeds the pitch");
    if (width == 0 || height == 0) {
        return MP_OK;
    }
    MP_CUDA("mp_memset2d", cudaMemset2DAsync(p, pitch, v, width, height, MP_STREAM(s)));
    return MP_OK;
}
int mp_memcpy_htod(void *d, const void *h, size_t bytes) {
    MP_CUDA("mp_memcpy_htod", cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice));
    return MP_OK;
}
int mp_memcpy_dtoh(void *h, const void *d, size_t bytes) {
    MP_CUDA("mp_memcpy_dtoh", cudaMemcpy(h, d, bytes, cudaMemcpyDeviceToHost));
    return MP_OK;
}
int mp_memcpy2d_dtoh(void *h, size_t dpitch, const void *d, size_t spitch, size_t width, size_t height) {
    MP_CUDA("mp_memcpy2d_dtoh", cudaMemcpy2D(h, dpitch, d, spitch, width, height, cudaMemcpyDeviceToHost));
    return MP_OK;
}
int mp_memcpy_dtod(void *d, const void *s, size_t bytes, mp_stream st) {
    MP_CUDA("mp_memcpy_dtod", cudaMemcpyAsync(d, s, bytes, cudaMemcpyDeviceToDevice, MP_STREAM(st)));
    return MP_OK;
}
int mp_memcpy2d_dtod(void *d, size_t dpitch, const void *s, size_t spitch, size_t width, size_t height,
                     mp_stream st) {
    MP_REQUIRE(width <= dpitch && width <= spitch, "mp_memcpy2d_dtod", "width exceeds a pitch");
    if (width == 0 || height == 0) {
        return MP_OK;
    }
    MP_CUDA("mp_memcpy2d_dtod",
            cudaMemcpy2DAsync(d, dpitch, s, spitch, width, height, cudaMemcpyDeviceToDevice, MP_STREAM(st)));
    return MP_OK;
}
}  // extern "C"
