// The only file that knows N-API. Every exported function validates its arguments here
// (the TypeScript layer validates too, but the addon must be safe to call directly), then
// runs a plain C++ kernel either inline or, when the last argument is `true`, on the libuv
// thread pool, resolving a Promise.
#include <napi.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "agnet.h"
#include "images.h"
#include "kernels.h"
#include "md5.h"
#include "nb101.h"
#include "parallel.h"
#include "scratch.h"
#include "tfrecord.h"

#ifndef NASRANK_SOURCE_DIGEST
#define NASRANK_SOURCE_DIGEST "unknown"
#endif
#ifndef NASRANK_BUILD_SYSTEM
#define NASRANK_BUILD_SYSTEM "unknown"
#endif

namespace {

using nasrank::LossSums;
using nasrank::Phi;

constexpr const char* kVersion = "0.1.0";
// Kernels index with uint32 permutations; larger inputs are refused up front.
constexpr size_t kMaxLength = 0xFFFFFFFEu;

[[noreturn]] void ThrowType(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}
[[noreturn]] void ThrowRange(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, msg);
}

// A number for a message: integers as integers ("4294967296", not "4294967296.000000"),
// other values in the shortest form that reads back to the same double.
std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (std::floor(v) == v && std::fabs(v) < 9.2e18) return std::to_string(static_cast<long long>(v));
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

// A read-only view of a typed-array argument. Arguments are read in two phases so that no
// user code (a getter, a Proxy trap) can run between taking a data pointer and the kernel
// reading it: first every JS value is fetched (object properties included), then data
// pointers are taken (TakeTyped) and the contents checked. A view owns a copy when the
// array lives in a SharedArrayBuffer (another thread may rewrite it between the checks
// and the kernel's reads) and when the work runs asynchronously (Own()).
template <class T>
struct View {
  const T* data = nullptr;
  size_t size = 0;
  std::vector<T> owned;
  View() = default;
  View(const View& o) : data(o.data), size(o.size), owned(o.owned) { Rebind(); }
  View(View&& o) noexcept : data(o.data), size(o.size), owned(std::move(o.owned)) { Rebind(); }
  View& operator=(const View& o) {
    data = o.data;
    size = o.size;
    owned = o.owned;
    Rebind();
    return *this;
  }
  View& operator=(View&& o) noexcept {
    data = o.data;
    size = o.size;
    owned = std::move(o.owned);
    Rebind();
    return *this;
  }
  void Own() {
    if (!owned.empty() || size == 0) return;
    owned.assign(data, data + size);
    data = owned.data();
  }

 private:
  void Rebind() {
    if (!owned.empty()) data = owned.data();
  }
};
using Vec = View<double>;

// Phase two of reading an argument: the typed array's data, refused when its buffer is
// detached (a detached array reads as length 0, which would pass as an empty input) and
// copied when it is shared.
struct TypedData {
  void* data = nullptr;
  size_t length = 0;
  bool shared = false;  // in a SharedArrayBuffer
};

// A typed array of exactly `type`: its data, refused when detached.
TypedData TypedArrayData(Napi::Env env, Napi::Value v, napi_typedarray_type type, const std::string& fn, const std::string& name, const char* type_name) {
  if (v.IsEmpty() || !v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    ThrowType(env, fn + ": " + name + (type_name[0] == 'I' ? " must be an " : " must be a ") + type_name);
  }
  napi_typedarray_type actual;
  size_t offset = 0;
  napi_value buffer = nullptr;
  TypedData out;
  if (napi_get_typedarray_info(env, v, &actual, &out.length, &out.data, &buffer, &offset) != napi_ok) throw Napi::Error::New(env);
  bool plain = false;
  if (napi_is_arraybuffer(env, buffer, &plain) != napi_ok) throw Napi::Error::New(env);
  if (plain) {
    bool detached = false;
    if (napi_is_detached_arraybuffer(env, buffer, &detached) != napi_ok) throw Napi::Error::New(env);
    if (detached) ThrowType(env, fn + ": " + name + " is detached (its ArrayBuffer was transferred)");
  }
  out.shared = !plain;
  return out;
}

template <class T>
View<T> TakeTyped(Napi::Env env, Napi::Value v, napi_typedarray_type type, const std::string& fn, const std::string& name, const char* type_name) {
  TypedData d = TypedArrayData(env, v, type, fn, name, type_name);
  View<T> out;
  out.data = static_cast<const T*>(d.data);
  out.size = d.length;
  if (d.shared) out.Own();  // SharedArrayBuffer
  return out;
}

// Where a kernel's memory comes from when allocation fails: the size named in the error.
std::string OutOfMemory(const std::string& fn, const std::string& size) {
  return fn + ": out of memory" + (size.empty() ? std::string() : " (" + size + ")");
}

Vec ReadVec(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  Napi::Env env = info.Env();
  Vec v = TakeTyped<double>(env, index < info.Length() ? info[index] : env.Undefined(), napi_float64_array, fn, name, "Float64Array");
  if (v.size > kMaxLength) ThrowRange(env, std::string(fn) + ": " + name + " is too long (" + std::to_string(v.size) + " elements)");
  for (size_t i = 0; i < v.size; ++i) {
    if (!std::isfinite(v.data[i])) {
      ThrowRange(env, std::string(fn) + ": " + name + "[" + std::to_string(i) + "] is " +
                          (std::isnan(v.data[i]) ? "NaN" : "infinite") + "; values must be finite");
    }
  }
  return v;
}

void RequireSameLength(Napi::Env env, const char* fn, const char* a, const Vec& va, const char* b, const Vec& vb) {
  if (va.size != vb.size) {
    ThrowRange(env, std::string(fn) + ": " + b + " has length " + std::to_string(vb.size) + " but " + a +
                        " has length " + std::to_string(va.size) + "; they must be equal");
  }
}

std::string ReadString(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  if (index >= info.Length() || !info[index].IsString()) ThrowType(info.Env(), std::string(fn) + ": " + name + " must be a string");
  return info[index].As<Napi::String>().Utf8Value();
}

double ReadFinite(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  if (index >= info.Length() || !info[index].IsNumber()) ThrowType(info.Env(), std::string(fn) + ": " + name + " must be a number");
  double v = info[index].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v)) ThrowRange(info.Env(), std::string(fn) + ": " + name + " must be finite, got " + Num(v));
  return v;
}

bool ReadBool(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  if (index >= info.Length() || !info[index].IsBoolean()) ThrowType(info.Env(), std::string(fn) + ": " + name + " must be a boolean");
  return info[index].As<Napi::Boolean>().Value();
}

// The trailing `async` flag is optional and defaults to false.
bool ReadAsync(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  return index < info.Length() && !info[index].IsUndefined() && ReadBool(info, index, fn, "async");
}

Napi::Float64Array ToFloat64Array(Napi::Env env, const std::vector<double>& v) {
  auto arr = Napi::Float64Array::New(env, v.size());
  if (!v.empty()) std::memcpy(arr.Data(), v.data(), v.size() * sizeof(double));
  return arr;
}

// Hands a kernel's output buffer to JS without copying; V8 frees it with the array.
Napi::Float64Array AdoptFloat64Array(Napi::Env env, std::unique_ptr<double[]> data, size_t length) {
  if (length == 0) return Napi::Float64Array::New(env, 0);
  double* raw = data.release();
  auto buffer = Napi::ArrayBuffer::New(env, raw, length * sizeof(double),
                                       [](Napi::Env, void* p) { delete[] static_cast<double*>(p); });
  return Napi::Float64Array::New(env, length, buffer, 0);
}

// ---- jobs: kernel work separated from argument parsing and result building ----------

struct Job {
  virtual ~Job() = default;
  virtual void Execute() = 0;                      // no N-API calls: may run off-thread
  virtual Napi::Value Result(Napi::Env env) = 0;   // on the main thread
  // For error messages: the public function and the size of its work ("n = 1000000").
  std::string fn, size;
};

// A kernel failure as a JS error naming the function and the size: allocation failures are
// RangeErrors ("out of memory"), anything else an Error with the C++ message.
struct Failure {
  bool oom = false;
  std::string message;
};
Failure Describe(const Job& job, const std::exception* e) {
  if (dynamic_cast<const std::bad_alloc*>(e) || dynamic_cast<const std::length_error*>(e)) return {true, OutOfMemory(job.fn, job.size)};
  std::string what = e ? e->what() : "unknown native exception";
  if (dynamic_cast<const std::system_error*>(e)) what = "could not start threads (" + what + ")";
  return {false, job.fn + ": " + what + (job.size.empty() ? std::string() : " (" + job.size + ")")};
}
Napi::Error ToJs(Napi::Env env, const Failure& f) {
  return f.oom ? static_cast<Napi::Error>(Napi::RangeError::New(env, f.message)) : Napi::Error::New(env, f.message);
}

// Settles a promise, or does nothing when that is impossible: when the environment is being
// torn down (a worker thread terminated while the work ran) no JS can run, and an exception
// escaping a completion callback would abort the whole process.
void Settle(const Napi::Promise::Deferred& deferred, bool resolve, napi_value value) {
  try {
    if (resolve) deferred.Resolve(value);
    else deferred.Reject(value);
  } catch (...) {
  }
}

class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, std::unique_ptr<Job> job)
      : Napi::AsyncWorker(env, "nasrank"), job_(std::move(job)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      job_->Execute();
    } catch (const std::exception& e) {
      failure_ = Describe(*job_, &e);
      SetError(failure_.message);
    } catch (...) {
      failure_ = Describe(*job_, nullptr);
      SetError(failure_.message);
    }
  }
  // Replaces AsyncWorker's, which lets a Napi::Error escape (std::terminate) when the
  // environment can no longer run JS. Nothing here throws: every N-API failure is caught.
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    if (status != napi_cancelled) {
      try {
        Napi::HandleScope scope(env);
        if (failure_.message.empty()) {
          try {
            Settle(deferred_, true, job_->Result(env));
          } catch (const Napi::Error& e) {
            Settle(deferred_, false, e.Value());
          } catch (const std::exception& e) {
            Settle(deferred_, false, ToJs(env, Describe(*job_, &e)).Value());
          }
        } else {
          Settle(deferred_, false, ToJs(env, failure_).Value());
        }
      } catch (...) {
        // The environment is going away: there is no one left to tell.
      }
    }
    try {
      job_.reset();  // drops references to JS values while the environment still exists
    } catch (...) {
    }
    Destroy();
  }

 private:
  std::unique_ptr<Job> job_;
  Napi::Promise::Deferred deferred_;
  Failure failure_;
};

Napi::Value Run(Napi::Env env, std::unique_ptr<Job> job, bool async) {
  if (!async) {
    try {
      job->Execute();
    } catch (const std::exception& e) {
      throw ToJs(env, Describe(*job, &e));
    }
    return job->Result(env);
  }
  auto* worker = new JobWorker(env, std::move(job));  // deletes itself in OnWorkComplete
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// Every export runs inside this guard: a C++ exception from argument reading (std::bad_alloc
// copying an input, say) becomes a JS error naming the function instead of escaping N-API.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  const char* fn = static_cast<const char*>(info.Data());
  auto inputs = [&]() {
    size_t elements = 0;
    for (size_t k = 0; k < info.Length(); ++k) {
      if (info[k].IsTypedArray()) elements += info[k].As<Napi::TypedArray>().ElementLength();
    }
    return elements ? "inputs of " + std::to_string(elements) + " elements" : std::string();
  };
  try {
    return F(info);
  } catch (const Napi::Error& e) {
    // V8 failing to allocate an output buffer says only "Array buffer allocation failed".
    std::string message;
    try {
      message = e.Message();
    } catch (...) {
    }
    if (message.rfind(fn, 0) != 0 && message.find("allocation failed") != std::string::npos) {
      throw Napi::RangeError::New(info.Env(), OutOfMemory(fn, inputs()));
    }
    throw;
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(info.Env(), OutOfMemory(fn, inputs()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string(fn) + ": " + e.what());
  }
}

// ---- info ----------------------------------------------------------------------------

bool CpuHas(const char* feature) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (std::strcmp(feature, "avx2") == 0) return __builtin_cpu_supports("avx2");
  if (std::strcmp(feature, "sse4.2") == 0) return __builtin_cpu_supports("sse4.2");
  if (std::strcmp(feature, "avx512f") == 0) return __builtin_cpu_supports("avx512f");
#else
  (void)feature;
#endif
  return false;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("version", kVersion);
  out.Set("sourceDigest", NASRANK_SOURCE_DIGEST);
  out.Set("buildSystem", NASRANK_BUILD_SYSTEM);
#ifdef NASRANK_WITH_CUDA
  out.Set("cuda", true);
#else
  out.Set("cuda", false);
#endif
  bool device = false;
  try {
    device = nasrank::cuda_available();
  } catch (const std::exception&) {
    device = false;
  }
  out.Set("cudaDevice", device);
  out.Set("threads", nasrank::thread_count());
  auto cpu = Napi::Object::New(env);
  cpu.Set("avx2", CpuHas("avx2"));
  cpu.Set("sse42", CpuHas("sse4.2"));
  cpu.Set("avx512f", CpuHas("avx512f"));
  out.Set("cpu", cpu);
  auto scratch = Napi::Object::New(env);
  scratch.Set("cachedBytes", static_cast<double>(nasrank::scratch_cached_bytes()));
  scratch.Set("limitBytes", static_cast<double>(nasrank::scratch_cache_limit()));
  out.Set("scratch", scratch);
  return out;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  double n = ReadFinite(info, 0, "setThreads", "threads");
  if (n < 1 || n > nasrank::kMaxThreads || std::floor(n) != n) {
    ThrowRange(info.Env(), "setThreads: threads must be an integer in [1, " + std::to_string(nasrank::kMaxThreads) + "], got " + Num(n));
  }
  nasrank::set_thread_count(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value SetScratchLimit(const Napi::CallbackInfo& info) {
  double bytes = ReadFinite(info, 0, "setScratchLimit", "bytes");
  if (bytes < 0 || bytes > 9007199254740991.0 || std::floor(bytes) != bytes) {
    ThrowRange(info.Env(), "setScratchLimit: bytes must be a non-negative integer, got " + Num(bytes));
  }
  nasrank::set_scratch_cache_limit(static_cast<size_t>(bytes));
  return info.Env().Undefined();
}

Napi::Value ReleaseScratch(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(nasrank::release_scratch()));
}

// ---- correlations ----------------------------------------------------------------------

enum class Correlation { Kendall, Spearman, Pearson };

struct CorrelationJob : Job {
  Correlation kind;
  nasrank::TauVariant variant = nasrank::TauVariant::B;
  Vec x, y;
  int threads = 1;
  double value = 0;
  void Execute() override {
    switch (kind) {
      case Correlation::Kendall: value = nasrank::kendall_tau(x.data, y.data, x.size, variant, threads); break;
      case Correlation::Spearman: value = nasrank::spearman(x.data, y.data, x.size, threads); break;
      case Correlation::Pearson: value = nasrank::pearson(x.data, y.data, x.size); break;
    }
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, value); }
};

Napi::Value RunCorrelation(const Napi::CallbackInfo& info, Correlation kind, const char* fn, size_t async_index) {
  Napi::Env env = info.Env();
  auto job = std::make_unique<CorrelationJob>();
  job->kind = kind;
  job->x = ReadVec(info, 0, fn, "x");
  job->y = ReadVec(info, 1, fn, "y");
  RequireSameLength(env, fn, "x", job->x, "y", job->y);
  if (job->x.size < 2) ThrowRange(env, std::string(fn) + ": x and y need at least 2 elements, got " + std::to_string(job->x.size));
  job->threads = nasrank::thread_count();
  bool async = ReadAsync(info, async_index, fn);
  if (async) {
    job->x.Own();
    job->y.Own();
  }
  if (kind == Correlation::Kendall) {
    std::string variant = ReadString(info, 2, fn, "variant");
    if (variant == "b") job->variant = nasrank::TauVariant::B;
    else if (variant == "a") job->variant = nasrank::TauVariant::A;
    else ThrowType(env, std::string(fn) + ": variant must be 'a' or 'b', got '" + variant + "'");
  }
  job->fn = fn;
  job->size = "n = " + std::to_string(job->x.size);
  return Run(env, std::move(job), async);
}

Napi::Value KendallTau(const Napi::CallbackInfo& info) { return RunCorrelation(info, Correlation::Kendall, "kendallTau", 3); }
Napi::Value Spearman(const Napi::CallbackInfo& info) { return RunCorrelation(info, Correlation::Spearman, "spearman", 2); }
Napi::Value Pearson(const Napi::CallbackInfo& info) { return RunCorrelation(info, Correlation::Pearson, "pearson", 2); }

// ---- ranking losses ------------------------------------------------------------------

Phi ReadPhi(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  std::string phi = ReadString(info, index, fn, "phi");
  if (phi == "hinge") return Phi::Hinge;
  if (phi == "logistic") return Phi::Logistic;
  if (phi == "exp") return Phi::Exp;
  ThrowType(info.Env(), std::string(fn) + ": phi must be 'hinge', 'logistic' or 'exp', got '" + phi + "'");
}

bool ReadMean(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  std::string r = ReadString(info, index, fn, "reduction");
  if (r == "mean") return true;
  if (r == "sum") return false;
  ThrowType(info.Env(), std::string(fn) + ": reduction must be 'mean' or 'sum', got '" + r + "'");
}

enum class Algorithm { Fast, Brute, Cuda };

Algorithm ReadAlgorithm(const Napi::CallbackInfo& info, size_t algo_index, size_t device_index, const char* fn) {
  Napi::Env env = info.Env();
  std::string algorithm = ReadString(info, algo_index, fn, "algorithm");
  std::string device = ReadString(info, device_index, fn, "device");
  if (algorithm != "fast" && algorithm != "brute") ThrowType(env, std::string(fn) + ": algorithm must be 'fast' or 'brute', got '" + algorithm + "'");
  if (device == "cpu") return algorithm == "fast" ? Algorithm::Fast : Algorithm::Brute;
  if (device != "cuda") ThrowType(env, std::string(fn) + ": device must be 'cpu' or 'cuda', got '" + device + "'");
#ifndef NASRANK_WITH_CUDA
  throw Napi::Error::New(env, std::string(fn) + ": device 'cuda' requested but this addon was built without CUDA (build it with `npm run build:cuda` on a machine with nvcc)");
#else
  if (algorithm != "brute") ThrowType(env, std::string(fn) + ": device 'cuda' runs the exhaustive kernel; pass algorithm: 'brute'");
  return Algorithm::Cuda;
#endif
}

struct RankLossJob : Job {
  bool triplet = false;
  Vec values, target;  // values: pred (pairwise) or dist (triplet)
  Phi phi = Phi::Hinge;
  double margin = 1;
  bool mean = true;
  Algorithm algorithm = Algorithm::Fast;
  int threads = 1;
  LossSums sums;
  // Every kernel overwrites all of grad, so it is neither zeroed here nor copied into a
  // JS-owned buffer afterwards (the triplet gradient is n*n doubles: 128 MB at n = 4096).
  std::unique_ptr<double[]> grad_storage;
  void Execute() override {
    size_t n = target.size;
    grad_storage.reset(new double[values.size]);
    double* grad = grad_storage.get();
    if (triplet) {
      switch (algorithm) {
        case Algorithm::Fast: sums = nasrank::triplet_rank_loss(values.data, target.data, n, phi, margin, grad, threads); break;
        case Algorithm::Brute: sums = nasrank::triplet_rank_loss_brute(values.data, target.data, n, phi, margin, grad, threads); break;
        case Algorithm::Cuda: sums = nasrank::cuda_triplet_rank_loss(values.data, target.data, n, phi, margin, grad); break;
      }
    } else {
      switch (algorithm) {
        case Algorithm::Fast: sums = nasrank::pairwise_rank_loss(values.data, target.data, n, phi, margin, grad, threads); break;
        case Algorithm::Brute: sums = nasrank::pairwise_rank_loss_brute(values.data, target.data, n, phi, margin, grad, threads); break;
        case Algorithm::Cuda: sums = nasrank::cuda_pairwise_rank_loss(values.data, target.data, n, phi, margin, grad); break;
      }
    }
    // 'mean' averages over the comparable terms; with none, the loss is 0, not NaN.
    if (mean) {
      double scale = sums.comparable == 0 ? 0.0 : 1.0 / static_cast<double>(sums.comparable);
      sums.loss = sums.comparable == 0 ? 0.0 : sums.loss / static_cast<double>(sums.comparable);
      for (size_t k = 0; k < values.size; ++k) grad[k] *= scale;
    }
  }
  Napi::Value Result(Napi::Env env) override {
    auto out = Napi::Object::New(env);
    out.Set("loss", sums.loss);
    out.Set("grad", AdoptFloat64Array(env, std::move(grad_storage), values.size));
    out.Set("comparable", static_cast<double>(sums.comparable));
    return out;
  }
};

// (values, target, phi, margin, reduction, algorithm, device, async)
Napi::Value RunRankLoss(const Napi::CallbackInfo& info, bool triplet, const char* fn) {
  Napi::Env env = info.Env();
  auto job = std::make_unique<RankLossJob>();
  job->triplet = triplet;
  job->values = ReadVec(info, 0, fn, triplet ? "dist" : "pred");
  job->target = ReadVec(info, 1, fn, "target");
  size_t n = job->target.size;
  if (triplet) {
    if (n > 65535) ThrowRange(env, std::string(fn) + ": target has " + std::to_string(n) + " elements; at most 65535 are supported (dist would have n*n entries)");
    if (job->values.size != n * n) {
      ThrowRange(env, std::string(fn) + ": dist has length " + std::to_string(job->values.size) + " but target has " + std::to_string(n) +
                          " elements; dist must be the n*n = " + std::to_string(n * n) + " row-major distance matrix");
    }
  } else {
    RequireSameLength(env, fn, "pred", job->values, "target", job->target);
  }
  job->phi = ReadPhi(info, 2, fn);
  job->margin = ReadFinite(info, 3, fn, "margin");
  job->mean = ReadMean(info, 4, fn);
  job->algorithm = ReadAlgorithm(info, 5, 6, fn);
  job->threads = nasrank::thread_count();
  bool async = ReadAsync(info, 7, fn);
  if (async) {
    job->values.Own();
    job->target.Own();
  }
  job->fn = fn;
  job->size = "n = " + std::to_string(job->target.size) + (triplet ? ", dist of n*n" : "");
  return Run(env, std::move(job), async);
}

Napi::Value PairwiseRankLoss(const Napi::CallbackInfo& info) { return RunRankLoss(info, false, "pairwiseRankLoss"); }
Napi::Value TripletRankLoss(const Napi::CallbackInfo& info) { return RunRankLoss(info, true, "tripletRankLoss"); }

// ---- pairwise cross-entropy ------------------------------------------------------------

struct LogLossJob : Job {
  Vec a, b, label;
  bool mean = true;
  double loss = 0;
  std::vector<double> grad_a, grad_b;
  void Execute() override {
    size_t n = a.size;
    grad_a.assign(n, 0.0);
    grad_b.assign(n, 0.0);
    loss = nasrank::pairwise_log_loss(a.data, b.data, label.data, n, grad_a.data(), grad_b.data());
    if (mean) {
      double scale = n == 0 ? 0.0 : 1.0 / static_cast<double>(n);
      loss *= scale;
      for (size_t k = 0; k < n; ++k) {
        grad_a[k] *= scale;
        grad_b[k] *= scale;
      }
    }
  }
  Napi::Value Result(Napi::Env env) override {
    auto out = Napi::Object::New(env);
    out.Set("loss", loss);
    out.Set("gradA", ToFloat64Array(env, grad_a));
    out.Set("gradB", ToFloat64Array(env, grad_b));
    return out;
  }
};

// (scoreA, scoreB, label, reduction, async)
Napi::Value PairwiseLogLoss(const Napi::CallbackInfo& info) {
  const char* fn = "pairwiseLogLoss";
  Napi::Env env = info.Env();
  auto job = std::make_unique<LogLossJob>();
  job->a = ReadVec(info, 0, fn, "scoreA");
  job->b = ReadVec(info, 1, fn, "scoreB");
  job->label = ReadVec(info, 2, fn, "label");
  RequireSameLength(env, fn, "scoreA", job->a, "scoreB", job->b);
  RequireSameLength(env, fn, "scoreA", job->a, "label", job->label);
  for (size_t k = 0; k < job->label.size; ++k) {
    double y = job->label.data[k];
    if (y < 0 || y > 1) ThrowRange(env, std::string(fn) + ": label[" + std::to_string(k) + "] is " + Num(y) + "; labels must lie in [0, 1]");
  }
  job->mean = ReadMean(info, 3, fn);
  bool async = ReadAsync(info, 4, fn);
  if (async) {
    job->a.Own();
    job->b.Own();
    job->label.Own();
  }
  job->fn = fn;
  job->size = "n = " + std::to_string(job->a.size);
  return Run(env, std::move(job), async);
}

// ---- sample-efficiency gain ------------------------------------------------------------

struct GainJob : Job {
  Vec space, candidates, targets, subset;
  bool has_subset = false;
  bool higher_is_better = false;
  std::vector<double> m_space, m_cand, m_subset;
  // Sorted keys of each set, made once by the validation (main thread) and used again here.
  std::vector<uint64_t> k_space, k_cand, k_subset;
  void Execute() override {
    size_t t = targets.size;
    m_space.assign(t, 0);
    m_cand.assign(t, 0);
    nasrank::count_reaching_sorted(k_space.data(), k_space.size(), targets.data, t, higher_is_better, m_space.data());
    nasrank::count_reaching_sorted(k_cand.data(), k_cand.size(), targets.data, t, higher_is_better, m_cand.data());
    if (has_subset) {
      m_subset.assign(t, 0);
      nasrank::count_reaching_sorted(k_subset.data(), k_subset.size(), targets.data, t, higher_is_better, m_subset.data());
    }
  }
  // E[tau] = (K + 1) / (M + 1): expected uniform draws without replacement from a set of
  // K architectures, M of which reach the target, until the first one that does.
  static std::vector<double> ExpectedTrials(size_t k, const std::vector<double>& m) {
    std::vector<double> e(m.size());
    for (size_t i = 0; i < m.size(); ++i) e[i] = (static_cast<double>(k) + 1.0) / (m[i] + 1.0);
    return e;
  }
  static std::vector<double> GainDb(const std::vector<double>& from, const std::vector<double>& to) {
    std::vector<double> g(from.size());
    for (size_t i = 0; i < from.size(); ++i) g[i] = 10.0 * std::log10(from[i] / to[i]);
    return g;
  }
  Napi::Value Result(Napi::Env env) override {
    auto e_space = ExpectedTrials(space.size, m_space);
    auto e_cand = ExpectedTrials(candidates.size, m_cand);
    auto out = Napi::Object::New(env);
    out.Set("reachingSpace", ToFloat64Array(env, m_space));
    out.Set("reachingCandidates", ToFloat64Array(env, m_cand));
    out.Set("expectedTrialsSpace", ToFloat64Array(env, e_space));
    out.Set("expectedTrialsCandidates", ToFloat64Array(env, e_cand));
    out.Set("gainDb", ToFloat64Array(env, GainDb(e_space, e_cand)));
    if (has_subset) {
      auto e_sub = ExpectedTrials(subset.size, m_subset);
      out.Set("reachingSubset", ToFloat64Array(env, m_subset));
      out.Set("expectedTrialsSubset", ToFloat64Array(env, e_sub));
      out.Set("subsetGainDb", ToFloat64Array(env, GainDb(e_space, e_sub)));
      out.Set("predictorGainDb", ToFloat64Array(env, GainDb(e_sub, e_cand)));
    }
    return out;
  }
};

void RequireSubMultiset(Napi::Env env, const char* fn, const char* sub_name, const Vec& sub, const std::vector<uint64_t>& sub_keys,
                        const char* super_name, const std::vector<uint64_t>& super_keys) {
  size_t missing = 0;
  if (!nasrank::is_sub_multiset_sorted(sub.data, sub_keys.data(), sub.size, super_keys.data(), super_keys.size(), &missing)) {
    ThrowRange(env, std::string(fn) + ": " + sub_name + "[" + std::to_string(missing) + "] = " + Num(sub.data[missing]) +
                        " does not occur in " + super_name + " (often enough); " + sub_name + " must be a subset of " + super_name);
  }
}

// (space, candidates, targets, subset | null, higherIsBetter, async)
Napi::Value SampleEfficiencyGain(const Napi::CallbackInfo& info) {
  const char* fn = "sampleEfficiencyGain";
  Napi::Env env = info.Env();
  auto job = std::make_unique<GainJob>();
  job->space = ReadVec(info, 0, fn, "space");
  job->candidates = ReadVec(info, 1, fn, "candidates");
  job->targets = ReadVec(info, 2, fn, "targets");
  if (job->space.size == 0) ThrowRange(env, std::string(fn) + ": space must not be empty");
  if (job->candidates.size == 0) ThrowRange(env, std::string(fn) + ": candidates must not be empty");
  job->has_subset = info.Length() > 3 && !info[3].IsNull() && !info[3].IsUndefined();
  nasrank::sorted_keys(job->space.data, job->space.size, job->k_space);
  nasrank::sorted_keys(job->candidates.data, job->candidates.size, job->k_cand);
  if (job->has_subset) {
    job->subset = ReadVec(info, 3, fn, "subset");
    nasrank::sorted_keys(job->subset.data, job->subset.size, job->k_subset);
    RequireSubMultiset(env, fn, "subset", job->subset, job->k_subset, "space", job->k_space);
    RequireSubMultiset(env, fn, "candidates", job->candidates, job->k_cand, "subset", job->k_subset);
  } else {
    RequireSubMultiset(env, fn, "candidates", job->candidates, job->k_cand, "space", job->k_space);
  }
  job->higher_is_better = ReadBool(info, 4, fn, "higherIsBetter");
  bool async = ReadAsync(info, 5, fn);
  if (async) {
    job->space.Own();
    job->candidates.Own();
    job->targets.Own();
    if (job->has_subset) job->subset.Own();
  }
  job->fn = fn;
  job->size = "space of " + std::to_string(job->space.size) + ", " + std::to_string(job->targets.size) + " targets";
  return Run(env, std::move(job), async);
}

// ---- NAS-Bench-101 ---------------------------------------------------------------------

namespace nb101 = nasrank::nb101;

// A typed-array argument of one exact type, as a view (copied by the caller when needed).
template <class T>
View<T> ReadTyped(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name, napi_typedarray_type type, const char* type_name) {
  return TakeTyped<T>(info.Env(), index < info.Length() ? info[index] : info.Env().Undefined(), type, fn, name, type_name);
}

// The columnar Nb101Cells (vertices: Uint8Array, adjacency: Uint32Array, ops: Uint8Array of
// 7 per cell) at info[index..index+2], copied and checked cell by cell: every cell must be
// pruned and valid, so kernels never meet a malformed graph.
std::vector<nb101::Cell> ReadCells(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  Napi::Env env = info.Env();
  auto vertices = ReadTyped<uint8_t>(info, index, fn, "cells.vertices", napi_uint8_array, "Uint8Array");
  auto adjacency = ReadTyped<uint32_t>(info, index + 1, fn, "cells.adjacency", napi_uint32_array, "Uint32Array");
  auto ops = ReadTyped<uint8_t>(info, index + 2, fn, "cells.ops", napi_uint8_array, "Uint8Array");
  size_t n = vertices.size;
  if (n > kMaxLength) ThrowRange(env, std::string(fn) + ": too many cells (" + std::to_string(n) + ")");
  if (adjacency.size != n) {
    ThrowRange(env, std::string(fn) + ": cells.adjacency has length " + std::to_string(adjacency.size) + " but cells.vertices has " + std::to_string(n) + "; they must be equal");
  }
  if (ops.size != n * nb101::kMaxVertices) {
    ThrowRange(env, std::string(fn) + ": cells.ops has length " + std::to_string(ops.size) + " but must be 7 * count = " + std::to_string(n * nb101::kMaxVertices));
  }
  std::vector<nb101::Cell> cells(n);
  // Copy and check in parallel; report the first bad cell (the same one for any thread count).
  const size_t chunks = n < 16384 ? 1 : 64;
  std::vector<size_t> first_bad(chunks, n);
  nasrank::parallel_chunks(n, chunks, nasrank::thread_count(), [&](size_t chunk, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      nb101::Cell& c = cells[i];
      c.v = vertices.data[i];
      c.adj = adjacency.data[i];
      std::memcpy(c.ops, ops.data + i * nb101::kMaxVertices, nb101::kMaxVertices);
      if (first_bad[chunk] == n && !nb101::check_cell(c).ok()) first_bad[chunk] = i;
    }
  });
  for (size_t bad : first_bad) {
    if (bad == n) continue;
    nb101::Verdict verdict = nb101::check_cell(cells[bad]);
    ThrowRange(env, std::string(fn) + ": cells[" + std::to_string(bad) + "] is not a valid pruned cell (rule '" + nb101::rule_name(verdict.rule) + "'): " + verdict.detail);
  }
  return cells;
}

// An output ArrayBuffer allocated on the main thread and kept alive by a reference, so a
// worker thread can fill it without an extra copy (the encodings can be gigabytes).
struct OutBuffer {
  Napi::Reference<Napi::ArrayBuffer> ref;
  void* data = nullptr;
  void Allocate(Napi::Env env, size_t bytes) {
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
    data = buffer.Data();
    ref = Napi::Persistent(buffer);
  }
  Napi::ArrayBuffer Value() const { return ref.Value(); }
};

uint64_t ReadSeed(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  double seed = ReadFinite(info, index, fn, "seed");
  if (seed < 0 || seed > 9007199254740991.0 || std::floor(seed) != seed) {
    ThrowRange(info.Env(), std::string(fn) + ": seed must be an integer in [0, 2^53 - 1], got " + Num(seed));
  }
  return static_cast<uint64_t>(seed);
}

// (matrix: Uint8Array v*v row-major, ops: Uint8Array v op codes, withHash = true) ->
// { rule, detail, vertices, adjacency, ops: Uint8Array(7), hash } (cell and hash only when
// valid; hash only when asked for)
Napi::Value Nb101Analyze(const Napi::CallbackInfo& info) {
  const char* fn = "nb101Analyze";
  Napi::Env env = info.Env();
  auto matrix = ReadTyped<uint8_t>(info, 0, fn, "matrix", napi_uint8_array, "Uint8Array");
  auto ops = ReadTyped<uint8_t>(info, 1, fn, "ops", napi_uint8_array, "Uint8Array");
  size_t v = ops.size;
  if (matrix.size != v * v) {
    ThrowRange(env, std::string(fn) + ": matrix has length " + std::to_string(matrix.size) + " but ops has " + std::to_string(v) + " entries; matrix must hold v * v = " + std::to_string(v * v));
  }
  bool with_hash = info.Length() < 3 || info[2].IsUndefined() || ReadBool(info, 2, fn, "withHash");
  nb101::Cell cell;
  nb101::Verdict verdict = v > 64 ? nb101::Verdict{nb101::Rule::Shape, "the matrix has " + std::to_string(v) + " vertices; a cell has 2 to 7"}
                                  : nb101::analyze(static_cast<int>(v), matrix.data, ops.data, &cell);
  auto out = Napi::Object::New(env);
  out.Set("rule", nb101::rule_name(verdict.rule));
  out.Set("detail", verdict.detail);
  if (verdict.ok()) {
    out.Set("vertices", static_cast<double>(cell.v));
    out.Set("adjacency", static_cast<double>(cell.adj));
    auto pruned_ops = Napi::Uint8Array::New(env, nb101::kMaxVertices);
    std::memcpy(pruned_ops.Data(), cell.ops, nb101::kMaxVertices);
    out.Set("ops", pruned_ops);
    if (with_hash) {
      uint8_t digest[16];
      char hex[32];
      nb101::module_hash(cell, digest);
      nasrank::hex32(digest, hex);
      out.Set("hash", std::string(hex, 32));
    }
  }
  return out;
}

struct Nb101EnumerateJob : Job {
  int threads = 1;
  nb101::Enumeration result;
  void Execute() override { result = nb101::enumerate(threads); }
  Napi::Value Result(Napi::Env env) override {
    size_t n = result.cells.size();
    auto vertices = Napi::Uint8Array::New(env, n);
    auto adjacency = Napi::Uint32Array::New(env, n);
    auto ops = Napi::Uint8Array::New(env, n * nb101::kMaxVertices);
    auto hash = Napi::Uint8Array::New(env, n * 16);
    for (size_t i = 0; i < n; ++i) {
      vertices[i] = result.cells[i].v;
      adjacency[i] = result.cells[i].adj;
      std::memcpy(ops.Data() + i * nb101::kMaxVertices, result.cells[i].ops, nb101::kMaxVertices);
    }
    if (n) std::memcpy(hash.Data(), result.hashes.data(), n * 16);
    auto out = Napi::Object::New(env);
    out.Set("count", static_cast<double>(n));
    out.Set("vertices", vertices);
    out.Set("adjacency", adjacency);
    out.Set("ops", ops);
    out.Set("hash", hash);
    out.Set("labelledGraphs", static_cast<double>(result.labelled_graphs));
    return out;
  }
};

// (async) -> { count, vertices, adjacency, ops, hash, labelledGraphs }
Napi::Value Nb101Enumerate(const Napi::CallbackInfo& info) {
  auto job = std::make_unique<Nb101EnumerateJob>();
  job->threads = nasrank::thread_count();
  job->fn = "nb101Enumerate";
  job->size = "all NAS-Bench-101 cells";
  return Run(info.Env(), std::move(job), ReadAsync(info, 0, "nb101Enumerate"));
}

struct Nb101HashJob : Job {
  std::vector<nb101::Cell> cells;
  OutBuffer out;
  int threads = 1;
  void Execute() override {
    uint8_t* dst = static_cast<uint8_t*>(out.data);
    size_t n = cells.size();
    nasrank::parallel_chunks(n, n < 4096 ? 1 : 64, threads, [&](size_t, size_t begin, size_t end) {
      nb101::module_hashes(cells.data() + begin, end - begin, dst + 16 * begin);
    });
  }
  Napi::Value Result(Napi::Env env) override {
    return Napi::Uint8Array::New(env, cells.size() * 16, out.Value(), 0);
  }
};

// (vertices, adjacency, ops, async) -> Uint8Array(count * 16) of raw MD5 module hashes
Napi::Value Nb101HashCells(const Napi::CallbackInfo& info) {
  const char* fn = "nb101HashCells";
  auto job = std::make_unique<Nb101HashJob>();
  job->cells = ReadCells(info, 0, fn);
  job->threads = nasrank::thread_count();
  job->out.Allocate(info.Env(), job->cells.size() * 16);
  job->fn = fn;
  job->size = std::to_string(job->cells.size()) + " cells";
  return Run(info.Env(), std::move(job), ReadAsync(info, 3, fn));
}

struct Nb101CostJob : Job {
  std::vector<nb101::Cell> cells;
  bool per_vertex = false;
  OutBuffer params, flops, vparams, vflops;
  int threads = 1;
  void Execute() override {
    size_t n = cells.size();
    constexpr size_t kStride = nb101::kCells * nb101::kMaxVertices;
    double* p = static_cast<double*>(params.data);
    double* f = static_cast<double*>(flops.data);
    double* vp = per_vertex ? static_cast<double*>(vparams.data) : nullptr;
    double* vf = per_vertex ? static_cast<double*>(vflops.data) : nullptr;
    nasrank::parallel_chunks(n, n < 8192 ? 1 : 64, threads, [&](size_t, size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        nb101::cell_cost(cells[i], vp ? vp + i * kStride : nullptr, vf ? vf + i * kStride : nullptr, p + i, f + i);
      }
    });
  }
  Napi::Value Result(Napi::Env env) override {
    size_t n = cells.size();
    auto out = Napi::Object::New(env);
    out.Set("params", Napi::Float64Array::New(env, n, params.Value(), 0));
    out.Set("flops", Napi::Float64Array::New(env, n, flops.Value(), 0));
    if (per_vertex) {
      size_t m = n * nb101::kCells * nb101::kMaxVertices;
      out.Set("vertexParams", Napi::Float64Array::New(env, m, vparams.Value(), 0));
      out.Set("vertexFlops", Napi::Float64Array::New(env, m, vflops.Value(), 0));
    }
    return out;
  }
};

// (vertices, adjacency, ops, perVertex, async) ->
// { params, flops: Float64Array(count), vertexParams?, vertexFlops?: Float64Array(count*9*7) }
Napi::Value Nb101Cost(const Napi::CallbackInfo& info) {
  const char* fn = "nb101Cost";
  Napi::Env env = info.Env();
  auto job = std::make_unique<Nb101CostJob>();
  job->cells = ReadCells(info, 0, fn);
  job->per_vertex = ReadBool(info, 3, fn, "perVertex");
  job->threads = nasrank::thread_count();
  size_t n = job->cells.size();
  job->params.Allocate(env, n * sizeof(double));
  job->flops.Allocate(env, n * sizeof(double));
  if (job->per_vertex) {
    size_t bytes = n * nb101::kCells * nb101::kMaxVertices * sizeof(double);
    job->vparams.Allocate(env, bytes);
    job->vflops.Allocate(env, bytes);
  }
  job->fn = fn;
  job->size = std::to_string(job->cells.size()) + " cells";
  return Run(env, std::move(job), ReadAsync(info, 4, fn));
}

// Selected cells: all of them, or indices into them (each checked against the count).
std::vector<uint32_t> ReadIndices(const Napi::CallbackInfo& info, size_t index, const char* fn, size_t count) {
  std::vector<uint32_t> out;
  if (index < info.Length() && !info[index].IsNull() && !info[index].IsUndefined()) {
    auto indices = ReadTyped<uint32_t>(info, index, fn, "indices", napi_uint32_array, "Uint32Array");
    out.assign(indices.data, indices.data + indices.size);
    for (size_t k = 0; k < out.size(); ++k) {
      if (out[k] >= count) {
        ThrowRange(info.Env(), std::string(fn) + ": indices[" + std::to_string(k) + "] is " + std::to_string(out[k]) + " but there are only " + std::to_string(count) + " cells");
      }
    }
  } else {
    out.resize(count);
    for (size_t k = 0; k < count; ++k) out[k] = static_cast<uint32_t>(k);
  }
  return out;
}

struct RenasJob : Job {
  std::vector<nb101::Cell> cells;
  std::vector<uint32_t> indices;
  nb101::RenasOptions options;
  bool order_only = false;  // renasOrder: the vertex order instead of the tensor
  OutBuffer out;
  int threads = 1;
  void Execute() override {
    size_t n = indices.size();
    size_t stride = order_only ? nb101::kMaxVertices : static_cast<size_t>(options.channels) * 49;
    nasrank::parallel_chunks(n, n < 2048 ? 1 : 64, threads, [&](size_t, size_t begin, size_t end) {
      for (size_t k = begin; k < end; ++k) {
        const nb101::Cell& cell = cells[indices[k]];
        if (order_only) {
          nb101::renas_order(cell, options.augment, options.seed_lo, options.seed_hi, indices[k], static_cast<uint8_t*>(out.data) + k * stride);
        } else {
          nb101::renas_encode(cell, options, indices[k], static_cast<float*>(out.data) + k * stride);
        }
      }
    });
  }
  Napi::Value Result(Napi::Env env) override {
    size_t n = indices.size();
    if (order_only) return Napi::Uint8Array::New(env, n * nb101::kMaxVertices, out.Value(), 0);
    return Napi::Float32Array::New(env, n * static_cast<size_t>(options.channels) * 49, out.Value(), 0);
  }
};

// (vertices, adjacency, ops, indices | null, channels 1|19, layout 'nchw'|'nhwc', augment,
//  seed, flopsScale, paramsScale, async) -> Float32Array(count * channels * 49)
Napi::Value RenasEncode(const Napi::CallbackInfo& info) {
  const char* fn = "renasEncode";
  Napi::Env env = info.Env();
  auto job = std::make_unique<RenasJob>();
  job->cells = ReadCells(info, 0, fn);
  job->indices = ReadIndices(info, 3, fn, job->cells.size());
  double channels = ReadFinite(info, 4, fn, "channels");
  if (channels != 1 && channels != 19) ThrowRange(env, std::string(fn) + ": channels must be 1 or 19, got " + Num(channels));
  job->options.channels = static_cast<int>(channels);
  std::string layout = ReadString(info, 5, fn, "layout");
  if (layout != "nchw" && layout != "nhwc") ThrowType(env, std::string(fn) + ": layout must be 'nchw' or 'nhwc', got '" + layout + "'");
  job->options.nhwc = layout == "nhwc";
  job->options.augment = ReadBool(info, 6, fn, "augment");
  uint64_t seed = ReadSeed(info, 7, fn);
  job->options.seed_lo = static_cast<uint32_t>(seed);
  job->options.seed_hi = static_cast<uint32_t>(seed >> 32);
  job->options.flops_scale = ReadFinite(info, 8, fn, "flopsScale");
  job->options.params_scale = ReadFinite(info, 9, fn, "paramsScale");
  job->threads = nasrank::thread_count();
  size_t floats = job->indices.size() * static_cast<size_t>(job->options.channels) * 49;
  if (floats > (size_t{1} << 32) - 1) {
    ThrowRange(env, std::string(fn) + ": the encoding would hold " + std::to_string(floats) + " floats, more than a Float32Array can; encode in batches (indices)");
  }
  job->out.Allocate(env, floats * sizeof(float));
  job->fn = fn;
  job->size = std::to_string(job->indices.size()) + " cells";
  return Run(env, std::move(job), ReadAsync(info, 10, fn));
}

// (vertices, adjacency, ops, indices | null, augment, seed) -> Uint8Array(count * 7):
// the original vertex at every padded position (255 for padding), as renasEncode uses.
Napi::Value RenasOrder(const Napi::CallbackInfo& info) {
  const char* fn = "renasOrder";
  Napi::Env env = info.Env();
  auto job = std::make_unique<RenasJob>();
  job->order_only = true;
  job->cells = ReadCells(info, 0, fn);
  job->indices = ReadIndices(info, 3, fn, job->cells.size());
  job->options.augment = ReadBool(info, 4, fn, "augment");
  uint64_t seed = ReadSeed(info, 5, fn);
  job->options.seed_lo = static_cast<uint32_t>(seed);
  job->options.seed_hi = static_cast<uint32_t>(seed >> 32);
  job->threads = nasrank::thread_count();
  job->out.Allocate(env, job->indices.size() * nb101::kMaxVertices);
  job->fn = fn;
  job->size = std::to_string(job->indices.size()) + " cells";
  return Run(env, std::move(job), false);
}

// ---- GCN scoring and the CTNAS comparator head -----------------------------------------

// A read-only view of a Float32Array (copied when the work runs asynchronously).
using F32 = View<float>;

std::string Join(const std::string& a, const std::string& b) { return a + "." + b; }
std::string At(const std::string& a, size_t i) { return a + "[" + std::to_string(i) + "]"; }

Napi::Object ReadObject(Napi::Env env, Napi::Value v, const char* fn, const std::string& name) {
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction()) ThrowType(env, std::string(fn) + ": " + name + " must be an object");
  return v.As<Napi::Object>();
}

// Phase one of reading an object argument: every property it has for us, fetched once.
// Get() may run user code (a getter, a Proxy trap), so all of them run here, before any
// data pointer is taken; later phases read only these values.
class Props {
 public:
  Props() = default;
  Props(Napi::Object obj, std::initializer_list<const char*> keys) {
    for (const char* key : keys) values_.emplace_back(key, obj.Get(key));
  }
  Napi::Value Get(const char* key) const {
    for (const auto& [k, v] : values_) {
      if (std::strcmp(k, key) == 0) return v;
    }
    return Napi::Value();
  }

 private:
  std::vector<std::pair<const char*, Napi::Value>> values_;
};

// A Float32Array whose every element is finite.
F32 ReadF32(Napi::Env env, Napi::Value v, const char* fn, const std::string& name) {
  F32 out = TakeTyped<float>(env, v, napi_float32_array, fn, name, "Float32Array");
  for (size_t i = 0; i < out.size; ++i) {
    if (!std::isfinite(out.data[i])) {
      ThrowRange(env, std::string(fn) + ": " + At(name, i) + " is " + (std::isnan(out.data[i]) ? "NaN" : "infinite") + "; values must be finite");
    }
  }
  return out;
}

size_t ReadIntProp(Napi::Env env, const Props& obj, const char* key, const char* fn, const std::string& name, double lo, double hi) {
  Napi::Value v = obj.Get(key);
  std::string path = Join(name, key);
  if (v.IsEmpty() || !v.IsNumber()) ThrowType(env, std::string(fn) + ": " + path + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < lo || d > hi) {
    ThrowRange(env, std::string(fn) + ": " + path + " must be an integer in [" + std::to_string(static_cast<long long>(lo)) + ", " +
                        std::to_string(static_cast<long long>(hi)) + "], got " + Num(d));
  }
  return static_cast<size_t>(d);
}

void RequireLength(Napi::Env env, const char* fn, const std::string& name, const F32& v, size_t want, const std::string& why) {
  if (v.size != want) {
    ThrowRange(env, std::string(fn) + ": " + name + " has length " + std::to_string(v.size) + " but must have " + std::to_string(want) + " (" + why + ")");
  }
}

int ReadThreads(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  if (index >= info.Length() || info[index].IsUndefined()) return nasrank::thread_count();
  double n = ReadFinite(info, index, fn, "threads");
  if (n < 1 || n > nasrank::kMaxThreads || std::floor(n) != n) {
    ThrowRange(info.Env(), std::string(fn) + ": threads must be an integer in [1, " + std::to_string(nasrank::kMaxThreads) + "], got " + Num(n));
  }
  return static_cast<int>(n);
}

bool ReadDeviceCuda(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  Napi::Env env = info.Env();
  std::string device = ReadString(info, index, fn, "device");
  if (device == "cpu") return false;
  if (device != "cuda") ThrowType(env, std::string(fn) + ": device must be 'cpu' or 'cuda', got '" + device + "'");
#ifndef NASRANK_WITH_CUDA
  throw Napi::Error::New(env, std::string(fn) + ": device 'cuda' requested but this addon was built without CUDA (build it with `npm run build:cuda` on a machine with nvcc)");
#else
  return true;
#endif
}

// Dense layers {w, b}[] chained from `in`: layer l has out = b.length and w.length = in*out.
struct DenseLayers {
  std::vector<F32> w, b;
  std::vector<nasrank::GcnDense> dense;
  void Own() {
    for (auto& x : w) x.Own();
    for (auto& x : b) x.Own();
    for (size_t l = 0; l < dense.size(); ++l) {
      dense[l].w = w[l].data;
      dense[l].b = b[l].data;
    }
  }
};

constexpr size_t kMaxWidth = 1u << 16;

// Phase one of dense layers: the array's {w, b} objects and their fields.
std::vector<Props> FetchDenseLayers(Napi::Env env, Napi::Value v, const char* fn, const std::string& name, bool allow_empty, const char* what) {
  if (v.IsEmpty() || !v.IsArray()) ThrowType(env, std::string(fn) + ": " + name + " must be " + what);
  auto arr = v.As<Napi::Array>();
  size_t n = arr.Length();
  if (n == 0 && !allow_empty) ThrowRange(env, std::string(fn) + ": " + name + " must hold at least one layer");
  if (n > 1024) ThrowRange(env, std::string(fn) + ": " + name + " has " + std::to_string(n) + " layers; at most 1024 are supported");
  std::vector<Props> layers;
  for (size_t l = 0; l < n; ++l) {
    Napi::Object layer = ReadObject(env, arr.Get(static_cast<uint32_t>(l)), fn, At(name, l));
    layers.emplace_back(layer, std::initializer_list<const char*>{"b", "w"});
  }
  return layers;
}

DenseLayers ReadDenseLayers(Napi::Env env, const std::vector<Props>& layers, const char* fn, const std::string& name, size_t in, const std::string& in_what) {
  size_t n = layers.size();
  DenseLayers out;
  for (size_t l = 0; l < n; ++l) {
    std::string lname = At(name, l);
    const Props& layer = layers[l];
    F32 b = ReadF32(env, layer.Get("b"), fn, Join(lname, "b"));
    if (b.size == 0 || b.size > kMaxWidth) ThrowRange(env, std::string(fn) + ": " + Join(lname, "b") + " has length " + std::to_string(b.size) + "; a layer's width (its bias length) must be in [1, " + std::to_string(kMaxWidth) + "]");
    F32 w = ReadF32(env, layer.Get("w"), fn, Join(lname, "w"));
    RequireLength(env, fn, Join(lname, "w"), w, in * b.size,
                  "input width " + std::to_string(in) + " (" + (l == 0 ? in_what : Join(At(name, l - 1), "b.length")) + ") x output width " +
                      std::to_string(b.size) + " (" + Join(lname, "b.length") + "), row-major");
    out.w.push_back(std::move(w));
    out.b.push_back(std::move(b));
    nasrank::GcnDense d;
    d.w = out.w.back().data;
    d.b = out.b.back().data;
    d.in = in;
    d.out = out.b.back().size;
    out.dense.push_back(d);
    in = d.out;
  }
  // push_back may have moved earlier views (an owned copy keeps its buffer, but be exact).
  for (size_t l = 0; l < n; ++l) {
    out.dense[l].w = out.w[l].data;
    out.dense[l].b = out.b[l].data;
  }
  return out;
}

// graphs: {count, vertices, features, adjacency, x, mask}, checked against the contract.
struct GraphsIn {
  F32 adjacency, x, mask;
  nasrank::GcnGraphs view;
  void Own() {
    adjacency.Own();
    x.Own();
    mask.Own();
    view.adjacency = adjacency.data;
    view.x = x.data;
    view.mask = mask.data;
  }
};

// Phase one of graphs.
Props FetchGraphs(Napi::Env env, Napi::Value v, const char* fn, const std::string& name) {
  return Props(ReadObject(env, v, fn, name), {"count", "vertices", "features", "mask", "x", "adjacency"});
}

GraphsIn ReadGraphs(Napi::Env env, const Props& obj, const char* fn, const std::string& name) {
  GraphsIn g;
  size_t count = ReadIntProp(env, obj, "count", fn, name, 0, 4294967295.0);
  size_t V = ReadIntProp(env, obj, "vertices", fn, name, 1, 1024);
  size_t F = ReadIntProp(env, obj, "features", fn, name, 1, static_cast<double>(kMaxWidth));
  g.mask = ReadF32(env, obj.Get("mask"), fn, Join(name, "mask"));
  RequireLength(env, fn, Join(name, "mask"), g.mask, count * V, "count x vertices");
  g.x = ReadF32(env, obj.Get("x"), fn, Join(name, "x"));
  RequireLength(env, fn, Join(name, "x"), g.x, count * V * F, "count x vertices x features");
  g.adjacency = ReadF32(env, obj.Get("adjacency"), fn, Join(name, "adjacency"));
  RequireLength(env, fn, Join(name, "adjacency"), g.adjacency, count * V * V, "count x vertices x vertices");
  for (size_t i = 0; i < g.mask.size; ++i) {
    float m = g.mask.data[i];
    if (m != 0.0f && m != 1.0f) ThrowRange(env, std::string(fn) + ": " + At(Join(name, "mask"), i) + " is " + Num(m) + "; mask entries must be 0 (padding) or 1 (real vertex)");
  }
  for (size_t gi = 0; gi < count; ++gi) {
    const float* mask = g.mask.data + gi * V;
    const float* adj = g.adjacency.data + gi * V * V;
    for (size_t i = 0; i < V; ++i) {
      for (size_t j = 0; j < V; ++j) {
        float a = adj[i * V + j];
        if (a == 0.0f) continue;
        size_t idx = gi * V * V + i * V + j;
        if (a < 0.0f) ThrowRange(env, std::string(fn) + ": " + At(Join(name, "adjacency"), idx) + " is " + Num(a) + "; adjacency entries must be non-negative");
        if (mask[i] == 0.0f || mask[j] == 0.0f) {
          size_t pad = mask[i] == 0.0f ? i : j;
          ThrowRange(env, std::string(fn) + ": " + At(Join(name, "adjacency"), idx) + " (graph " + std::to_string(gi) + ", edge " + std::to_string(i) + " -> " +
                              std::to_string(j) + ") is " + Num(a) + " but vertex " + std::to_string(pad) + " is padding (" +
                              At(Join(name, "mask"), gi * V + pad) + " = 0); padded vertices must have zero rows and columns");
        }
      }
    }
  }
  g.view.count = count;
  g.view.vertices = V;
  g.view.features = F;
  g.view.adjacency = g.adjacency.data;
  g.view.x = g.x.data;
  g.view.mask = g.mask.data;
  return g;  // (moving GraphsIn keeps the views' buffers: owned copies move with their storage)
}

// A GraphBatch checked and copied into native memory once (gcnGraphsHold): gcnScore /
// gcnEmbed (sync or async) from it neither check nor copy the batch again, and an async call
// keeps it alive by a share. The copy is immutable: later changes to the arrays it was made
// from do not reach it (passing those arrays themselves is checked as usual).
struct HeldGraphs {
  GraphsIn g;
};
using HeldGraphsPtr = std::shared_ptr<const HeldGraphs>;
// Marks the externals gcnGraphsHold made, so no other value passes for one.
constexpr napi_type_tag kHeldGraphsTag = {0x6e617372616e6b67ULL, 0x726170687368ULL};

// The held batch if v is a gcnGraphsHold handle, else null.
HeldGraphsPtr HeldGraphsOf(Napi::Value v) {
  if (v.IsEmpty() || !v.IsExternal()) return nullptr;
  auto ext = v.As<Napi::External<HeldGraphsPtr>>();
  if (!ext.CheckTypeTag(&kHeldGraphsTag)) return nullptr;
  return *ext.Data();
}

// (graphs) -> {handle, count, vertices, features}: graphs checked (as gcnScore checks them)
// and copied once; handle is opaque.
Napi::Value GcnGraphsHold(const Napi::CallbackInfo& info) {
  const char* fn = "gcnGraphsHold";
  Napi::Env env = info.Env();
  const Props graphs = FetchGraphs(env, info.Length() > 0 ? info[0] : env.Undefined(), fn, "graphs");
  auto held = std::make_shared<HeldGraphs>();
  held->g = ReadGraphs(env, graphs, fn, "graphs");
  held->g.Own();
  const nasrank::GcnGraphs view = held->g.view;
  auto handle = Napi::External<HeldGraphsPtr>::New(env, new HeldGraphsPtr(std::move(held)), [](Napi::Env, HeldGraphsPtr* h) { delete h; });
  handle.TypeTag(&kHeldGraphsTag);
  // The shape as read (once) and checked, beside the handle.
  Napi::Object out = Napi::Object::New(env);
  out.Set("handle", handle);
  out.Set("count", Napi::Number::New(env, static_cast<double>(view.count)));
  out.Set("vertices", Napi::Number::New(env, static_cast<double>(view.vertices)));
  out.Set("features", Napi::Number::New(env, static_cast<double>(view.features)));
  return out;
}

// Optional (norm, pool) strings at index, index + 1: 'sym' (default) | 'row', 'real' (default) | 'all'.
nasrank::GcnVariant ReadGcnVariant(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  Napi::Env env = info.Env();
  nasrank::GcnVariant v;
  if (index < info.Length() && !info[index].IsUndefined()) {
    std::string norm = ReadString(info, index, fn, "norm");
    if (norm != "sym" && norm != "row") ThrowRange(env, std::string(fn) + ": norm must be 'sym' or 'row', got '" + norm + "'");
    v.norm_row = norm == "row";
  }
  if (index + 1 < info.Length() && !info[index + 1].IsUndefined()) {
    std::string pool = ReadString(info, index + 1, fn, "pool");
    if (pool != "real" && pool != "all") ThrowRange(env, std::string(fn) + ": pool must be 'real' or 'all', got '" + pool + "'");
    v.pool_all = pool == "all";
  }
  return v;
}

// The output typed array is created on the main thread before the work starts and kept
// alive by a reference, so a large result (e.g. embeddings of a whole space) is written in
// place instead of being copied at the end.
struct GcnJob : Job {
  GraphsIn graphs;
  HeldGraphsPtr held;  // graphs.view points into it when the caller passed a held batch
  DenseLayers layers;
  F32 fc_w, fc_b;
  bool score = true, cuda = false, dedup = true;
  nasrank::GcnVariant variant;
  int threads = 1;
  Napi::Reference<Napi::Value> out_ref;
  float* embed = nullptr;
  double* scores = nullptr;
  void Execute() override {
    const float* w = score ? fc_w.data : nullptr;
    float b = score ? fc_b.data[0] : 0.0f;
    if (cuda) nasrank::cuda_gcn_forward(graphs.view, layers.dense.data(), layers.dense.size(), w, b, embed, scores, variant);
    else nasrank::gcn_forward(graphs.view, layers.dense.data(), layers.dense.size(), w, b, embed, scores, threads, dedup, variant);
  }
  Napi::Value Result(Napi::Env) override { return out_ref.Value(); }
};

// (graphs, weights, threads, device, dedup, async); score: weights.fc is required.
Napi::Value RunGcn(const Napi::CallbackInfo& info, bool score, const char* fn) {
  Napi::Env env = info.Env();
  auto job = std::make_unique<GcnJob>();
  job->score = score;
  // Phase one: every property read (user code may run); phase two: data pointers.
  job->held = HeldGraphsOf(info.Length() > 0 ? info[0] : env.Undefined());
  const Props graphs = job->held ? Props() : FetchGraphs(env, info.Length() > 0 ? info[0] : env.Undefined(), fn, "graphs");
  const Props weights(ReadObject(env, info.Length() > 1 ? info[1] : env.Undefined(), fn, "weights"), {"layers", "fc"});
  const std::vector<Props> layers = FetchDenseLayers(env, weights.Get("layers"), fn, "weights.layers", false, "an array of {w, b} layers");
  const Props fc = score ? Props(ReadObject(env, weights.Get("fc"), fn, "weights.fc"), {"w", "b"}) : Props();
  if (job->held)
    job->graphs.view = job->held->g.view;  // checked and copied when it was held
  else
    job->graphs = ReadGraphs(env, graphs, fn, "graphs");
  job->layers = ReadDenseLayers(env, layers, fn, "weights.layers", job->graphs.view.features, "graphs.features");
  const size_t H = job->layers.dense.back().out;
  if (score) {
    job->fc_w = ReadF32(env, fc.Get("w"), fn, "weights.fc.w");
    RequireLength(env, fn, "weights.fc.w", job->fc_w, H, "the last layer's width");
    job->fc_b = ReadF32(env, fc.Get("b"), fn, "weights.fc.b");
    RequireLength(env, fn, "weights.fc.b", job->fc_b, 1, "one score");
  }
  job->threads = ReadThreads(info, 2, fn);
  job->cuda = ReadDeviceCuda(info, 3, fn);
  job->dedup = info.Length() <= 4 || info[4].IsUndefined() || ReadBool(info, 4, fn, "dedup");
  bool async = ReadAsync(info, 5, fn);
  job->variant = ReadGcnVariant(info, 6, fn);
  const size_t count = job->graphs.view.count;
  if (score) {
    auto out = Napi::Float64Array::New(env, count);
    job->scores = out.Data();
    job->out_ref = Napi::Persistent(static_cast<Napi::Value>(out));
  } else {
    auto out = Napi::Float32Array::New(env, count * H);
    job->embed = out.Data();
    job->out_ref = Napi::Persistent(static_cast<Napi::Value>(out));
  }
  if (async) {
    if (!job->held) job->graphs.Own();
    job->layers.Own();
    job->fc_w.Own();
    job->fc_b.Own();
  }
  job->fn = fn;
  job->size = std::to_string(job->graphs.view.count) + " graphs";
  return Run(env, std::move(job), async);
}

Napi::Value GcnScore(const Napi::CallbackInfo& info) { return RunGcn(info, true, "gcnScore"); }
Napi::Value GcnEmbed(const Napi::CallbackInfo& info) { return RunGcn(info, false, "gcnEmbed"); }

// ---- the ranking GCN in float64: gcnTrain, gcnScoreGrad --------------------------------

// A Float64Array of finite values, copied.
std::vector<double> ReadF64Copy(Napi::Env env, Napi::Value v, const char* fn, const std::string& name) {
  View<double> view = TakeTyped<double>(env, v, napi_float64_array, fn, name, "Float64Array");
  for (size_t i = 0; i < view.size; ++i)
    if (!std::isfinite(view.data[i])) ThrowRange(env, std::string(fn) + ": " + At(name, i) + " is " + (std::isnan(view.data[i]) ? "NaN" : "infinite") + "; values must be finite");
  return std::vector<double>(view.data, view.data + view.size);
}

// params: {layers: [{w, b?}], fc, fcBias?, norm?, pool?}; owned copies plus the kernel's view.
struct RankParamsIn {
  std::vector<std::vector<double>> w, b;
  std::vector<double> fc;
  nasrank::RankGcnParams view;
  void Bind() {
    view.w.clear();
    view.b.clear();
    for (auto& x : w) view.w.push_back(x.data());
    for (auto& x : b) view.b.push_back(x.data());
    view.fc = fc.data();
  }
};

// Phase one of params: every property read (user code may run) before any data is taken.
struct RankParamsProps {
  Props obj;
  std::vector<Props> layers;
};

RankParamsProps FetchRankParams(Napi::Env env, Napi::Value v, const char* fn) {
  RankParamsProps pp;
  pp.obj = Props(ReadObject(env, v, fn, "params"), {"layers", "fc", "fcBias", "norm", "pool"});
  Napi::Value layers_v = pp.obj.Get("layers");
  if (layers_v.IsEmpty() || !layers_v.IsArray()) ThrowType(env, std::string(fn) + ": params.layers must be an array of {w, b?} layers");
  auto arr = layers_v.As<Napi::Array>();
  const size_t n = arr.Length();
  if (n == 0 || n > 1024) ThrowRange(env, std::string(fn) + ": params.layers must hold 1 to 1024 layers, got " + std::to_string(n));
  for (size_t l = 0; l < n; ++l) pp.layers.emplace_back(ReadObject(env, arr.Get(static_cast<uint32_t>(l)), fn, At("params.layers", l)), std::initializer_list<const char*>{"w", "b"});
  return pp;
}

// Phase two of params: the data, checked and copied.
RankParamsIn ReadRankParams(Napi::Env env, const RankParamsProps& pp, const char* fn, size_t vertices, size_t features) {
  const Props& obj = pp.obj;
  const std::vector<Props>& layer_props = pp.layers;
  const size_t n = layer_props.size();
  Napi::Value norm_v = obj.Get("norm"), pool_v = obj.Get("pool"), fcb_v = obj.Get("fcBias");
  RankParamsIn p;
  p.view.vertices = vertices;
  p.view.features = features;
  p.view.dims.push_back(features);
  size_t in = features;
  bool with_bias = false;
  for (size_t l = 0; l < n; ++l) {
    const std::string name = At("params.layers", l);
    std::vector<double> w = ReadF64Copy(env, layer_props[l].Get("w"), fn, Join(name, "w"));
    if (w.empty() || w.size() % in != 0 || w.size() / in > kMaxWidth)
      ThrowRange(env, std::string(fn) + ": " + Join(name, "w") + " has length " + std::to_string(w.size()) + "; it must be input width " + std::to_string(in) + " x an output width in [1, " + std::to_string(kMaxWidth) + "], row-major");
    const size_t out = w.size() / in;
    Napi::Value bv = layer_props[l].Get("b");
    const bool has_b = !(bv.IsEmpty() || bv.IsUndefined() || bv.IsNull());
    if (l == 0) with_bias = has_b;
    else if (has_b != with_bias) ThrowType(env, std::string(fn) + ": " + Join(name, "b") + (with_bias ? " is missing" : " is set") + "; either every layer has a bias or none");
    if (has_b) {
      std::vector<double> b = ReadF64Copy(env, bv, fn, Join(name, "b"));
      if (b.size() != out) ThrowRange(env, std::string(fn) + ": " + Join(name, "b") + " has length " + std::to_string(b.size()) + " but the layer's output width is " + std::to_string(out));
      p.b.push_back(std::move(b));
    }
    p.w.push_back(std::move(w));
    p.view.dims.push_back(out);
    in = out;
  }
  p.fc = ReadF64Copy(env, obj.Get("fc"), fn, "params.fc");
  if (p.fc.size() != in) ThrowRange(env, std::string(fn) + ": params.fc has length " + std::to_string(p.fc.size()) + " but the last layer's width is " + std::to_string(in));
  if (!(fcb_v.IsEmpty() || fcb_v.IsUndefined())) {
    if (!fcb_v.IsNumber() || !std::isfinite(fcb_v.As<Napi::Number>().DoubleValue())) ThrowType(env, std::string(fn) + ": params.fcBias must be a finite number");
    p.view.fc_b = fcb_v.As<Napi::Number>().DoubleValue();
  }
  if (!(norm_v.IsEmpty() || norm_v.IsUndefined())) {
    std::string norm = norm_v.IsString() ? norm_v.As<Napi::String>().Utf8Value() : "";
    if (norm != "sym" && norm != "row") ThrowRange(env, std::string(fn) + ": params.norm must be 'sym' or 'row'");
    p.view.variant.norm_row = norm == "row";
  }
  if (!(pool_v.IsEmpty() || pool_v.IsUndefined())) {
    std::string pool = pool_v.IsString() ? pool_v.As<Napi::String>().Utf8Value() : "";
    if (pool != "real" && pool != "all") ThrowRange(env, std::string(fn) + ": params.pool must be 'real' or 'all'");
    p.view.variant.pool_all = pool == "all";
  }
  p.Bind();
  return p;
}

Napi::Object RankParamsOut(Napi::Env env, RankParamsIn& p) {
  auto out = Napi::Object::New(env);
  auto layers = Napi::Array::New(env, p.w.size());
  for (size_t l = 0; l < p.w.size(); ++l) {
    auto layer = Napi::Object::New(env);
    layer.Set("w", ToFloat64Array(env, p.w[l]));
    if (!p.b.empty()) layer.Set("b", ToFloat64Array(env, p.b[l]));
    layers.Set(static_cast<uint32_t>(l), layer);
  }
  out.Set("layers", layers);
  out.Set("fc", ToFloat64Array(env, p.fc));
  return out;
}

struct GcnTrainJob : Job {
  GraphsIn graphs;
  std::vector<uint32_t> idx;
  std::vector<double> acc, losses;
  RankParamsIn params;
  nasrank::RankTrainSettings settings;
  int threads = 1;
  const volatile int32_t* abort = nullptr;
  Napi::Reference<Napi::Value> abort_ref;
  void Execute() override {
    params.Bind();
    nasrank::gcn_train(graphs.view, idx.data(), idx.size(), acc.data(), params.view, settings, losses.data(), threads, abort);
  }
  Napi::Value Result(Napi::Env env) override {
    auto out = RankParamsOut(env, params);
    out.Set("losses", ToFloat64Array(env, losses));
    return out;
  }
};

// (graphs, indices: Uint32Array, acc: Float64Array, params, settings {epochs, lr, momentum, ties},
//  threads, abort: Int32Array | undefined, async) -> {layers, fc, losses}. A non-zero abort[0]
// stops training before the next epoch (the call fails with "aborted").
Napi::Value GcnTrain(const Napi::CallbackInfo& info) {
  const char* fn = "gcnTrain";
  Napi::Env env = info.Env();
  auto job = std::make_unique<GcnTrainJob>();
  // Phase one: every property read (user code may run); phase two: data.
  const Props graphs = FetchGraphs(env, info.Length() > 0 ? info[0] : env.Undefined(), fn, "graphs");
  const RankParamsProps params = FetchRankParams(env, info.Length() > 3 ? info[3] : env.Undefined(), fn);
  const Props settings(ReadObject(env, info.Length() > 4 ? info[4] : env.Undefined(), fn, "settings"), {"epochs", "lr", "momentum", "ties"});
  job->graphs = ReadGraphs(env, graphs, fn, "graphs");
  job->graphs.Own();
  job->idx = ReadIndices(info, 1, fn, job->graphs.view.count);
  job->acc = ReadF64Copy(env, info.Length() > 2 ? info[2] : env.Undefined(), fn, "acc");
  if (job->acc.size() != job->idx.size()) ThrowRange(env, std::string(fn) + ": acc has length " + std::to_string(job->acc.size()) + " but there are " + std::to_string(job->idx.size()) + " graphs (indices)");
  if (job->idx.size() < 2) ThrowRange(env, std::string(fn) + ": the pairwise loss needs at least 2 graphs, got " + std::to_string(job->idx.size()));
  job->params = ReadRankParams(env, params, fn, job->graphs.view.vertices, job->graphs.view.features);
  job->settings.epochs = ReadIntProp(env, settings, "epochs", fn, "settings", 0, 1e9);
  auto num = [&](const char* key, double lo, bool lo_open, double hi, bool hi_open) {
    Napi::Value v = settings.Get(key);
    double x = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    bool ok = std::isfinite(x) && (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
    if (!ok) ThrowRange(env, std::string(fn) + ": settings." + key + " must be a number in " + (lo_open ? "(" : "[") + Num(lo) + ", " + Num(hi) + (hi_open ? ")" : "]"));
    return x;
  };
  job->settings.lr = num("lr", 0, true, 1e300, false);
  job->settings.momentum = num("momentum", 0, false, 1, true);
  Napi::Value ties = settings.Get("ties");
  std::string t = ties.IsString() ? ties.As<Napi::String>().Utf8Value() : "";
  if (t != "positive" && t != "ignore") ThrowRange(env, std::string(fn) + ": settings.ties must be 'positive' or 'ignore'");
  job->settings.ties_ignore = t == "ignore";
  job->threads = ReadThreads(info, 5, fn);
  if (info.Length() > 6 && !info[6].IsUndefined()) {
    Napi::Value a = info[6];
    if (!a.IsTypedArray() || a.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array || a.As<Napi::TypedArray>().ElementLength() < 1)
      ThrowType(env, std::string(fn) + ": abort must be an Int32Array of length >= 1 (on a SharedArrayBuffer to abort an async call)");
    job->abort = reinterpret_cast<const volatile int32_t*>(a.As<Napi::Int32Array>().Data());
    job->abort_ref = Napi::Persistent(a);
  }
  bool async = ReadAsync(info, 7, fn);
  job->losses.assign(job->settings.epochs, 0.0);
  job->fn = fn;
  job->size = std::to_string(job->idx.size()) + " graphs";
  return Run(env, std::move(job), async);
}

struct RankPairLossJob : Job {
  Vec f, acc;
  bool ties_ignore = false;
  std::vector<double> grad;
  double loss = 0.0;
  size_t pairs = 0;
  void Execute() override {
    grad.assign(f.size, 0.0);
    loss = nasrank::ordered_pair_loss(f.data, acc.data, f.size, ties_ignore, grad.data(), &pairs);
  }
  Napi::Value Result(Napi::Env env) override {
    auto out = Napi::Object::New(env);
    out.Set("loss", loss);
    out.Set("grad", ToFloat64Array(env, grad));
    out.Set("pairs", static_cast<double>(pairs));
    return out;
  }
};

// (f, acc, ties: 'positive' | 'ignore', async) -> {loss, grad, pairs}: gcnTrain's loss.
Napi::Value RankPairLoss(const Napi::CallbackInfo& info) {
  const char* fn = "rankPairLoss";
  Napi::Env env = info.Env();
  auto job = std::make_unique<RankPairLossJob>();
  job->f = ReadVec(info, 0, fn, "f");
  job->acc = ReadVec(info, 1, fn, "acc");
  RequireSameLength(env, fn, "f", job->f, "acc", job->acc);
  if (job->f.size < 2) ThrowRange(env, std::string(fn) + ": the pairwise loss needs at least 2 architectures, got " + std::to_string(job->f.size));
  std::string ties = ReadString(info, 2, fn, "ties");
  if (ties != "positive" && ties != "ignore") ThrowRange(env, std::string(fn) + ": ties must be 'positive' or 'ignore', got '" + ties + "'");
  job->ties_ignore = ties == "ignore";
  bool async = ReadAsync(info, 3, fn);
  if (async) {
    job->f.Own();
    job->acc.Own();
  }
  job->fn = fn;
  job->size = "n = " + std::to_string(job->f.size);
  return Run(env, std::move(job), async);
}

struct GcnScoreGradJob : Job {
  GraphsIn graphs;
  RankParamsIn params;
  int threads = 1;
  bool float32 = true, dedup = true;
  std::vector<double> f, dA, dX;
  void Execute() override {
    params.Bind();
    nasrank::gcn_score_grad(graphs.view, params.view, f.data(), dA.data(), dX.data(), threads, float32, dedup);
  }
  Napi::Value Result(Napi::Env env) override {
    auto out = Napi::Object::New(env);
    out.Set("f", ToFloat64Array(env, f));
    out.Set("dA", ToFloat64Array(env, dA));
    out.Set("dX", ToFloat64Array(env, dX));
    return out;
  }
};

// (graphs, params, threads, async, precision 'float32' | 'float64' (default float32), dedup
// (default true)) -> {f, dA, dX}.
Napi::Value GcnScoreGrad(const Napi::CallbackInfo& info) {
  const char* fn = "gcnScoreGrad";
  Napi::Env env = info.Env();
  auto job = std::make_unique<GcnScoreGradJob>();
  const Props graphs = FetchGraphs(env, info.Length() > 0 ? info[0] : env.Undefined(), fn, "graphs");
  const RankParamsProps params = FetchRankParams(env, info.Length() > 1 ? info[1] : env.Undefined(), fn);
  job->graphs = ReadGraphs(env, graphs, fn, "graphs");
  job->graphs.Own();
  job->params = ReadRankParams(env, params, fn, job->graphs.view.vertices, job->graphs.view.features);
  job->threads = ReadThreads(info, 2, fn);
  bool async = ReadAsync(info, 3, fn);
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    const std::string precision = ReadString(info, 4, fn, "precision");
    if (precision != "float64" && precision != "float32") ThrowRange(env, std::string(fn) + ": precision must be 'float64' or 'float32', got '" + precision + "'");
    job->float32 = precision == "float32";
  }
  if (info.Length() > 5 && !info[5].IsUndefined()) job->dedup = ReadBool(info, 5, fn, "dedup");
  const size_t n = job->graphs.view.count, V = job->graphs.view.vertices, F = job->graphs.view.features;
  job->f.assign(n, 0.0);
  job->dA.assign(n * V * V, 0.0);
  job->dX.assign(n * V * F, 0.0);
  job->fn = fn;
  job->size = std::to_string(n) + " graphs";
  return Run(env, std::move(job), async);
}

struct ComparatorJob : Job {
  F32 a, b;
  size_t count_a = 0, count_b = 0, dim = 0;
  DenseLayers hidden;
  F32 out_w, out_b;
  int threads = 1;
  Napi::Reference<Napi::Value> out_ref;
  double* prob = nullptr;
  void Execute() override {
    nasrank::comparator_head(a.data, count_a, b.data, count_b, dim, hidden.dense.data(), hidden.dense.size(), out_w.data, out_b.data[0], prob, threads);
  }
  Napi::Value Result(Napi::Env) override { return out_ref.Value(); }
};

// (embA, embB, head, threads, async); head = {layers: {w, b}[], out: {w, b}}. The embedding
// width is implied by the head: layers[0].w is (2*dim) x layers[0].b.length, or out.w has
// 2*dim entries when there is no hidden layer.
Napi::Value ComparatorProbability(const Napi::CallbackInfo& info) {
  const char* fn = "comparatorProbability";
  Napi::Env env = info.Env();
  auto job = std::make_unique<ComparatorJob>();
  // Phase one: the head's properties (user code may run); phase two: data pointers.
  const Props head(ReadObject(env, info.Length() > 2 ? info[2] : env.Undefined(), fn, "head"), {"layers", "out"});
  const std::vector<Props> layers = FetchDenseLayers(env, head.Get("layers"), fn, "head.layers", true, "an array of {w, b} layers (possibly empty)");
  const Props out(ReadObject(env, head.Get("out"), fn, "head.out"), {"w", "b"});
  job->a = ReadF32(env, info.Length() > 0 ? info[0] : env.Undefined(), fn, "embA");
  job->b = ReadF32(env, info.Length() > 1 ? info[1] : env.Undefined(), fn, "embB");
  size_t in2 = 0;  // 2 * dim
  if (!layers.empty()) {
    F32 w = ReadF32(env, layers[0].Get("w"), fn, "head.layers[0].w");
    F32 b = ReadF32(env, layers[0].Get("b"), fn, "head.layers[0].b");
    if (b.size == 0) ThrowRange(env, std::string(fn) + ": head.layers[0].b must not be empty");
    if (w.size % (2 * b.size) != 0 || w.size == 0) {
      ThrowRange(env, std::string(fn) + ": head.layers[0].w has length " + std::to_string(w.size) + "; it must be (2 x embedding width) x " +
                          std::to_string(b.size) + " (head.layers[0].b.length)");
    }
    in2 = w.size / b.size;
  } else {
    F32 w = ReadF32(env, out.Get("w"), fn, "head.out.w");
    if (w.size == 0 || w.size % 2 != 0) ThrowRange(env, std::string(fn) + ": head.out.w has length " + std::to_string(w.size) + "; without hidden layers it must have 2 x embedding width entries");
    in2 = w.size;
  }
  job->dim = in2 / 2;
  job->hidden = ReadDenseLayers(env, layers, fn, "head.layers", in2, "2 x embedding width");
  job->out_w = ReadF32(env, out.Get("w"), fn, "head.out.w");
  size_t last = job->hidden.dense.empty() ? in2 : job->hidden.dense.back().out;
  RequireLength(env, fn, "head.out.w", job->out_w, last, job->hidden.dense.empty() ? "2 x embedding width" : "the last hidden layer's width");
  job->out_b = ReadF32(env, out.Get("b"), fn, "head.out.b");
  RequireLength(env, fn, "head.out.b", job->out_b, 1, "one logit");
  for (auto [name, v] : {std::make_pair("embA", &job->a), std::make_pair("embB", &job->b)}) {
    if (v->size % job->dim != 0) {
      ThrowRange(env, std::string(fn) + ": " + name + " has length " + std::to_string(v->size) + ", not a multiple of the embedding width " +
                          std::to_string(job->dim) + " implied by head");
    }
  }
  job->count_a = job->a.size / job->dim;
  job->count_b = job->b.size / job->dim;
  if (job->count_a != job->count_b && job->count_a != 1 && job->count_b != 1) {
    ThrowRange(env, std::string(fn) + ": embA holds " + std::to_string(job->count_a) + " embeddings and embB " + std::to_string(job->count_b) +
                        "; the counts must be equal, or one of them 1 (compared against every embedding of the other)");
  }
  job->threads = ReadThreads(info, 3, fn);
  bool async = ReadAsync(info, 4, fn);
  size_t count = (job->count_a == 0 || job->count_b == 0) ? 0 : std::max(job->count_a, job->count_b);
  auto result = Napi::Float64Array::New(env, count);
  job->prob = result.Data();
  job->out_ref = Napi::Persistent(static_cast<Napi::Value>(result));
  if (async) {
    job->a.Own();
    job->b.Own();
    job->hidden.Own();
    job->out_w.Own();
    job->out_b.Own();
  }
  job->fn = fn;
  job->size = std::to_string(job->count_a) + " x " + std::to_string(job->count_b) + " embeddings";
  return Run(env, std::move(job), async);
}

// ---- TFRecord / NAS-Bench-101 ------------------------------------------------------------

// A Uint8Array argument (Buffer included), borrowed for a synchronous call.
using Bytes = View<uint8_t>;

Bytes ReadBytes(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  return ReadTyped<uint8_t>(info, index, fn, name, napi_uint8_array, "Uint8Array or Buffer");
}

// (data, crc, impl): impl 'auto' (SSE4.2 when present), 'portable' (tables) or 'hardware'.
Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  const char* fn = "crc32c";
  Bytes b = ReadBytes(info, 0, fn, "data");
  double init = 0;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    init = ReadFinite(info, 1, fn, "crc");
    if (init < 0 || init > 4294967295.0 || std::floor(init) != init) ThrowRange(info.Env(), std::string(fn) + ": crc must be an integer in [0, 2^32), got " + Num(init));
  }
  std::string impl = info.Length() > 2 && !info[2].IsUndefined() ? ReadString(info, 2, fn, "impl") : "auto";
  uint32_t crc = static_cast<uint32_t>(init);
  uint32_t out;
  if (impl == "auto") out = nasrank::crc32c(crc, b.data, b.size);
  else if (impl == "portable") out = nasrank::crc32c_portable(crc, b.data, b.size);
  else if (impl == "hardware") {
    if (!nasrank::crc32c_hardware_available()) throw Napi::Error::New(info.Env(), std::string(fn) + ": impl 'hardware' requested but this CPU has no SSE4.2 crc32 instruction");
    out = nasrank::crc32c_hardware(crc, b.data, b.size);
  } else {
    ThrowType(info.Env(), std::string(fn) + ": impl must be 'auto', 'portable' or 'hardware', got '" + impl + "'");
  }
  return Napi::Number::New(info.Env(), out);
}

// ---- MIP trainer batches ---------------------------------------------------------------

// (images: Uint8Array n·side·side·channels, side, channels, idx: Int32Array, image, mean: Float64Array(channels),
//  std: Float64Array(channels), draws: Int32Array(5·count) | null, cutout, threads?) -> Float32Array NHWC.
// lib/bpe/images.ts `prepareBatch` (the reference is `prepareBatchJs`); every value is checked here.
Napi::Value ImageBatch(const Napi::CallbackInfo& info) {
  const char* fn = "imageBatch";
  Napi::Env env = info.Env();
  auto whole = [&](size_t index, const char* name, double lo, double hi) {
    double v = ReadFinite(info, index, fn, name);
    if (std::floor(v) != v || v < lo || v > hi) ThrowRange(env, std::string(fn) + ": " + name + " must be an integer in [" + Num(lo) + ", " + Num(hi) + "], got " + Num(v));
    return static_cast<size_t>(v);
  };
  const size_t side = whole(1, "side", 1, 65536);
  const size_t channels = whole(2, "channels", 1, 4096);
  const size_t image = whole(4, "image", 1, static_cast<double>(side));
  if (side % image != 0) ThrowRange(env, std::string(fn) + ": image " + std::to_string(image) + " does not divide the side " + std::to_string(side) + " (area resize needs a whole factor)");
  const size_t cutout = whole(8, "cutout", 0, static_cast<double>(image));
  const bool augment = info.Length() > 7 && !info[7].IsNull() && !info[7].IsUndefined();
  if (cutout > 0 && !augment) ThrowRange(env, std::string(fn) + ": cutout " + std::to_string(cutout) + " needs draws (cutout is training augmentation)");
  int threads = ReadThreads(info, 9, fn);
  auto images = ReadTyped<uint8_t>(info, 0, fn, "images", napi_uint8_array, "Uint8Array");
  auto idx = ReadTyped<int32_t>(info, 3, fn, "idx", napi_int32_array, "Int32Array");
  Vec mean = ReadVec(info, 5, fn, "mean");
  Vec sd = ReadVec(info, 6, fn, "std");
  const size_t per = side * side * channels;
  if (images.size % per != 0) ThrowRange(env, std::string(fn) + ": images has length " + std::to_string(images.size) + ", not a multiple of side·side·channels = " + std::to_string(per));
  const size_t n = images.size / per;
  if (mean.size != channels) ThrowRange(env, std::string(fn) + ": mean has length " + std::to_string(mean.size) + " but must have one value per channel (" + std::to_string(channels) + ")");
  if (sd.size != channels) ThrowRange(env, std::string(fn) + ": std has length " + std::to_string(sd.size) + " but must have one value per channel (" + std::to_string(channels) + ")");
  for (size_t ch = 0; ch < channels; ++ch) {
    if (!(sd.data[ch] > 0)) ThrowRange(env, std::string(fn) + ": std[" + std::to_string(ch) + "] is " + Num(sd.data[ch]) + "; it must be > 0");
  }
  for (size_t b = 0; b < idx.size; ++b) {
    if (idx.data[b] < 0 || static_cast<size_t>(idx.data[b]) >= n) ThrowRange(env, std::string(fn) + ": idx[" + std::to_string(b) + "] is " + std::to_string(idx.data[b]) + ", not an image index in [0, " + std::to_string(n) + ")");
  }
  View<int32_t> draws;
  if (augment) {
    draws = ReadTyped<int32_t>(info, 7, fn, "draws", napi_int32_array, "Int32Array");
    if (draws.size != 5 * idx.size) ThrowRange(env, std::string(fn) + ": draws has length " + std::to_string(draws.size) + " but must have 5 per image (" + std::to_string(5 * idx.size) + ")");
    const long pad = static_cast<long>(image / 8);
    const char* what[5] = {"crop y", "crop x", "flip", "cutout y", "cutout x"};
    for (size_t b = 0; b < idx.size; ++b) {
      for (int k = 0; k < 5; ++k) {
        const long v = draws.data[5 * b + k];
        const long hi = k < 2 ? 2 * pad : k == 2 ? 1 : cutout > 0 ? static_cast<long>(image) - 1 : 0;
        if (v < 0 || v > hi) ThrowRange(env, std::string(fn) + ": draws[" + std::to_string(5 * b + k) + "] (" + what[k] + " of image " + std::to_string(b) + ") is " + std::to_string(v) + ", not in [0, " + std::to_string(hi) + "]");
      }
    }
  }
  const size_t count = idx.size;
  if (count > 0 && image * image * channels > kMaxLength / count) ThrowRange(env, std::string(fn) + ": the batch (" + std::to_string(count) + " images of " + std::to_string(image * image * channels) + " values) is too large");
  auto out = Napi::Float32Array::New(env, count * image * image * channels);
  nasrank::image_batch(images.data, side, channels, idx.data, count, image, mean.data, sd.data, augment ? draws.data : nullptr, cutout, out.Data(), threads);
  return out;
}

Napi::Error MakeRecordError(Napi::Env env, nasrank::ErrorKind kind, bool has_offset, uint64_t offset, const std::string& reason) {
  std::string message = has_offset ? "record at byte offset " + std::to_string(offset) + ": " + reason : reason;
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", nasrank::error_code(kind));
  err.Set("reason", reason);
  if (has_offset) err.Set("offset", static_cast<double>(offset));
  return err;
}

Napi::Object RecordToObject(Napi::Env env, const nasrank::Nb101Record& r) {
  static const char* digits = "0123456789abcdef";
  std::string hex(32, '0');
  for (int k = 0; k < 16; ++k) {
    hex[2 * k] = digits[r.hash[k] >> 4];
    hex[2 * k + 1] = digits[r.hash[k] & 15];
  }
  auto out = Napi::Object::New(env);
  out.Set("hash", hex);
  out.Set("epochs", static_cast<double>(r.epochs));
  out.Set("vertices", static_cast<double>(r.vertices));
  out.Set("adjacency", static_cast<double>(r.adjacency));
  auto ops = Napi::Uint8Array::New(env, nasrank::kNb101MaxVertices);
  std::memcpy(ops.Data(), r.ops, nasrank::kNb101MaxVertices);
  out.Set("ops", ops);
  out.Set("trainableParameters", static_cast<double>(r.trainable_parameters));
  auto values = Napi::Object::New(env);
  for (int k = 0; k < nasrank::kNb101RunValues; ++k) values.Set(nasrank::kNb101ValueNames[k], r.values[k]);
  out.Set("values", values);
  return out;
}

// (payload): parses one NAS-Bench-101 record payload (tests and tools; the ingest does this
// natively for every record).
Napi::Value Nb101ParsePayload(const Napi::CallbackInfo& info) {
  Bytes b = ReadBytes(info, 0, "nb101ParsePayload", "payload");
  nasrank::Nb101PayloadParser parser;
  nasrank::Nb101Record rec;
  nasrank::ParseError err;
  if (!parser.Parse(b.data, b.size, &rec, &err)) throw MakeRecordError(info.Env(), err.kind, false, 0, err.message);
  return RecordToObject(info.Env(), rec);
}

// Hands a vector to JS without copying (an external ArrayBuffer that frees it), or copies
// where external buffers are not allowed.
template <class T>
Napi::ArrayBuffer ToArrayBuffer(Napi::Env env, std::vector<T>&& v) {
  size_t bytes = v.size() * sizeof(T);
  if (bytes == 0) return Napi::ArrayBuffer::New(env, 0);
  auto* owned = new std::vector<T>(std::move(v));
  napi_value result;
  napi_status status = napi_create_external_arraybuffer(
      env, owned->data(), bytes,
      [](napi_env e, void*, void* hint) {
        auto* vec = static_cast<std::vector<T>*>(hint);
        int64_t change;
        napi_adjust_external_memory(e, -static_cast<int64_t>(vec->size() * sizeof(T)), &change);
        delete vec;
      },
      owned, &result);
  if (status == napi_ok) {
    int64_t change;
    napi_adjust_external_memory(env, static_cast<int64_t>(bytes), &change);
    return Napi::ArrayBuffer(env, result);
  }
  auto copy = Napi::ArrayBuffer::New(env, bytes);
  std::memcpy(copy.Data(), owned->data(), bytes);
  delete owned;
  return copy;
}

template <class T, class Array>
Array ToTyped(Napi::Env env, std::vector<T>&& v) {
  size_t n = v.size();
  return Array::New(env, n, ToArrayBuffer(env, std::move(v)), 0);
}

// ---- regression random forest ----------------------------------------------------------

// An Int32Array argument property (a view).
using I32 = View<int32_t>;

I32 ReadI32(Napi::Env env, Napi::Value v, const char* fn, const std::string& name) {
  return TakeTyped<int32_t>(env, v, napi_int32_array, fn, name, "Int32Array");
}

Vec ReadF64Prop(Napi::Env env, Napi::Value v, const char* fn, const std::string& name) {
  return TakeTyped<double>(env, v, napi_float64_array, fn, name, "Float64Array");
}

// Rows of a row-major Float32Array x with `columns` columns; x.length must be rows * columns.
size_t ReadColumns(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  double c = ReadFinite(info, index, fn, "columns");
  if (c < 1 || c > 2147483647.0 || std::floor(c) != c) ThrowRange(info.Env(), std::string(fn) + ": columns must be an integer in [1, 2^31 - 1], got " + Num(c));
  return static_cast<size_t>(c);
}

struct ForestFitJob : Job {
  F32 x;
  Vec y;
  size_t rows = 0, cols = 0;
  nasrank::ForestParams params;
  int threads = 1;
  nasrank::FlatForest forest;
  void Execute() override {
    nasrank::forest_fit(x.data, rows, cols, y.data, params, threads, forest);
    std::vector<float>().swap(x.owned);
  }
  Napi::Value Result(Napi::Env env) override {
    auto out = Napi::Object::New(env);
    out.Set("sizes", ToTyped<int32_t, Napi::Int32Array>(env, std::move(forest.sizes)));
    out.Set("feature", ToTyped<int32_t, Napi::Int32Array>(env, std::move(forest.feature)));
    out.Set("threshold", ToTyped<double, Napi::Float64Array>(env, std::move(forest.threshold)));
    out.Set("left", ToTyped<int32_t, Napi::Int32Array>(env, std::move(forest.left)));
    out.Set("right", ToTyped<int32_t, Napi::Int32Array>(env, std::move(forest.right)));
    out.Set("value", ToTyped<double, Napi::Float64Array>(env, std::move(forest.value)));
    out.Set("samples", ToTyped<int32_t, Napi::Int32Array>(env, std::move(forest.samples)));
    return out;
  }
};

// (x: Float32Array rows*columns row-major, y: Float64Array rows, columns, params:
// { trees, maxFeatures, minSamplesSplit, minSamplesLeaf, maxDepth (0 = unlimited), bootstrap,
// seed }, threads?, async?) -> { sizes, feature, threshold, left, right, value, samples }
Napi::Value ForestFit(const Napi::CallbackInfo& info) {
  const char* fn = "forestFit";
  Napi::Env env = info.Env();
  auto job = std::make_unique<ForestFitJob>();
  // Phase one: params' properties (user code may run) before any data pointer is taken.
  const Props p(ReadObject(env, info.Length() > 3 ? info[3] : env.Undefined(), fn, "params"),
                {"trees", "maxFeatures", "minSamplesSplit", "minSamplesLeaf", "maxDepth", "bootstrap", "seed"});
  job->x = ReadF32(env, info.Length() > 0 ? info[0] : env.Undefined(), fn, "x");
  job->y = ReadVec(info, 1, fn, "y");
  job->cols = ReadColumns(info, 2, fn);
  job->rows = job->y.size;
  if (job->rows < 1) ThrowRange(env, std::string(fn) + ": y must have at least one row");
  if (job->rows > (size_t{1} << 30)) ThrowRange(env, std::string(fn) + ": too many rows (" + std::to_string(job->rows) + ", at most 2^30)");
  if (job->x.size / job->cols != job->rows || job->x.size % job->cols != 0) {
    ThrowRange(env, std::string(fn) + ": x has length " + std::to_string(job->x.size) + " but y has " + std::to_string(job->rows) +
                        " rows of " + std::to_string(job->cols) + " columns (" + std::to_string(job->rows * job->cols) + " values); they must match");
  }
  nasrank::ForestParams& params = job->params;
  params.trees = ReadIntProp(env, p, "trees", fn, "params", 1, 1e6);
  params.max_features = ReadIntProp(env, p, "maxFeatures", fn, "params", 1, static_cast<double>(job->cols));
  params.min_samples_split = ReadIntProp(env, p, "minSamplesSplit", fn, "params", 2, 2147483647.0);
  params.min_samples_leaf = ReadIntProp(env, p, "minSamplesLeaf", fn, "params", 1, 2147483647.0);
  params.max_depth = ReadIntProp(env, p, "maxDepth", fn, "params", 0, 2147483647.0);
  Napi::Value bootstrap = p.Get("bootstrap");
  if (bootstrap.IsEmpty() || !bootstrap.IsBoolean()) ThrowType(env, std::string(fn) + ": params.bootstrap must be a boolean");
  params.bootstrap = bootstrap.As<Napi::Boolean>().Value();
  params.seed = ReadIntProp(env, p, "seed", fn, "params", 0, 9007199254740991.0);
  job->threads = ReadThreads(info, 4, fn);
  bool async = ReadAsync(info, 5, fn);
  if (async) {
    job->x.Own();
    job->y.Own();
  }
  job->fn = fn;
  job->size = std::to_string(job->rows) + " rows x " + std::to_string(job->cols) + " columns, " + std::to_string(job->params.trees) + " trees";
  return Run(env, std::move(job), async);
}

// The node arrays of a flat forest { sizes, feature, threshold, left, right, value } (views
// into the JS arrays), checked over `cols` features: no input can make a traversal escape.
// The checked node arrays (views, or copies of shared ones) the ForestView points into.
struct ForestArgs {
  I32 sizes, feature, left, right;
  Vec threshold, value;
  nasrank::ForestView View() const {
    nasrank::ForestView view;
    view.trees = sizes.size;
    view.nodes = feature.size;
    view.sizes = sizes.data;
    view.feature = feature.data;
    view.left = left.data;
    view.right = right.data;
    view.threshold = threshold.data;
    view.value = value.data;
    return view;
  }
};

ForestArgs ReadForest(Napi::Env env, Napi::Value v, size_t cols, const char* fn) {
  // Phase one: all six properties (getters may run); phase two: data pointers.
  const Props f(ReadObject(env, v, fn, "forest"), {"sizes", "feature", "left", "right", "threshold", "value"});
  ForestArgs out;
  out.sizes = ReadI32(env, f.Get("sizes"), fn, "forest.sizes");
  out.feature = ReadI32(env, f.Get("feature"), fn, "forest.feature");
  out.left = ReadI32(env, f.Get("left"), fn, "forest.left");
  out.right = ReadI32(env, f.Get("right"), fn, "forest.right");
  out.threshold = ReadF64Prop(env, f.Get("threshold"), fn, "forest.threshold");
  out.value = ReadF64Prop(env, f.Get("value"), fn, "forest.value");
  if (out.sizes.size < 1) ThrowRange(env, std::string(fn) + ": forest.sizes is empty; a forest has at least one tree");
  const size_t nodes = out.feature.size;
  const std::pair<const char*, size_t> lengths[] = {{"forest.left", out.left.size}, {"forest.right", out.right.size},
                                                    {"forest.threshold", out.threshold.size}, {"forest.value", out.value.size}};
  for (const auto& [name, size] : lengths) {
    if (size != nodes) ThrowRange(env, std::string(fn) + ": " + name + " has length " + std::to_string(size) + " but forest.feature has " + std::to_string(nodes) + "; they must be equal");
  }
  std::string bad = nasrank::forest_check(out.View(), cols);
  if (!bad.empty()) ThrowRange(env, std::string(fn) + ": forest is malformed: " + bad);
  return out;
}

// A checked forest copied into native memory (forestHold, or an async prediction of flat
// arrays): predictions from it copy nothing, and an async one keeps it alive by a share.
struct HeldForest {
  size_t cols = 0;
  std::vector<int32_t> sizes, feature, left, right;
  std::vector<double> threshold, value;
  HeldForest(const nasrank::ForestView& v, size_t columns)
      : cols(columns), sizes(v.sizes, v.sizes + v.trees), feature(v.feature, v.feature + v.nodes),
        left(v.left, v.left + v.nodes), right(v.right, v.right + v.nodes),
        threshold(v.threshold, v.threshold + v.nodes), value(v.value, v.value + v.nodes) {}
  nasrank::ForestView View() const {
    nasrank::ForestView v;
    v.trees = sizes.size();
    v.nodes = feature.size();
    v.sizes = sizes.data();
    v.feature = feature.data();
    v.left = left.data();
    v.right = right.data();
    v.threshold = threshold.data();
    v.value = value.data();
    return v;
  }
};
using HeldPtr = std::shared_ptr<const HeldForest>;
// Marks the externals forestHold made, so no other value passes for one.
constexpr napi_type_tag kHeldForestTag = {0x6e617372616e6b66ULL, 0x6f72657374686c64ULL};

// (forest: { sizes, feature, threshold, left, right, value }, columns) -> an opaque handle
// for forestPredict: the forest checked and copied once.
Napi::Value ForestHold(const Napi::CallbackInfo& info) {
  const char* fn = "forestHold";
  Napi::Env env = info.Env();
  const size_t cols = ReadColumns(info, 1, fn);
  const ForestArgs forest = ReadForest(env, info.Length() > 0 ? info[0] : env.Undefined(), cols, fn);
  auto handle = Napi::External<HeldPtr>::New(env, new HeldPtr(std::make_shared<const HeldForest>(forest.View(), cols)),
                                             [](Napi::Env, HeldPtr* held) { delete held; });
  handle.TypeTag(&kHeldForestTag);
  return handle;
}

struct ForestPredictJob : Job {
  nasrank::ForestView forest;
  HeldPtr held;      // owns forest's arrays when they are not the caller's
  ForestArgs args;   // the caller's arrays (copies of shared ones) for a synchronous call
  F32 x;
  size_t rows = 0, cols = 0;
  bool median = false;
  int threads = 1;
  Napi::Reference<Napi::Value> out_ref;
  double* out = nullptr;
  void Execute() override { nasrank::forest_predict(forest, x.data, rows, cols, median, out, threads); }
  Napi::Value Result(Napi::Env) override { return out_ref.Value(); }
};

// (forest: { sizes, feature, threshold, left, right, value } or a forestHold handle,
// x: Float32Array rows*columns, columns, selection: 'mean' | 'median', threads?, async?)
// -> Float64Array(rows). Flat arrays are checked first (a loaded file may be corrupt) and,
// for async work, copied; a held forest was checked and copied when it was made.
Napi::Value ForestPredict(const Napi::CallbackInfo& info) {
  const char* fn = "forestPredict";
  Napi::Env env = info.Env();
  auto job = std::make_unique<ForestPredictJob>();
  job->cols = ReadColumns(info, 2, fn);
  Napi::Value f = info.Length() > 0 ? info[0] : env.Undefined();
  const bool held = f.IsExternal() && f.As<Napi::External<HeldPtr>>().CheckTypeTag(&kHeldForestTag);
  if (held) {
    job->held = *f.As<Napi::External<HeldPtr>>().Data();
    if (job->held->cols != job->cols) ThrowRange(env, std::string(fn) + ": columns is " + std::to_string(job->cols) + " but the held forest has " + std::to_string(job->held->cols));
    job->forest = job->held->View();
  } else {
    job->args = ReadForest(env, f, job->cols, fn);
    job->forest = job->args.View();
  }
  job->x = ReadF32(env, info.Length() > 1 ? info[1] : env.Undefined(), fn, "x");
  if (job->x.size % job->cols != 0) {
    ThrowRange(env, std::string(fn) + ": x has length " + std::to_string(job->x.size) + ", not a multiple of columns = " + std::to_string(job->cols));
  }
  job->rows = job->x.size / job->cols;
  std::string selection = ReadString(info, 3, fn, "selection");
  if (selection != "mean" && selection != "median") ThrowType(env, std::string(fn) + ": selection must be 'mean' or 'median', got '" + selection + "'");
  job->median = selection == "median";
  job->threads = ReadThreads(info, 4, fn);
  bool async = ReadAsync(info, 5, fn);
  auto out = Napi::Float64Array::New(env, job->rows);
  job->out = out.Data();
  job->out_ref = Napi::Persistent(static_cast<Napi::Value>(out));
  if (async) {
    if (!held) {
      job->held = std::make_shared<const HeldForest>(job->forest, job->cols);
      job->forest = job->held->View();
    }
    job->x.Own();
  }
  job->fn = fn;
  job->size = std::to_string(job->rows) + " rows";
  return Run(env, std::move(job), async);
}

class IngestWorker : public Napi::AsyncProgressWorker<nasrank::IngestProgress> {
 public:
  IngestWorker(Napi::Env env, nasrank::IngestOptions options, Napi::Value on_progress)
      : Napi::AsyncProgressWorker<nasrank::IngestProgress>(env, "nasrank:nb101Ingest"),
        options_(std::move(options)),
        deferred_(Napi::Promise::Deferred::New(env)) {
    if (on_progress.IsFunction()) progress_ = Napi::Persistent(on_progress.As<Napi::Function>());
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute(const ExecutionProgress& progress) override {
    try {
      bool report = !progress_.IsEmpty();
      nasrank::ingest_nb101(options_, &result_, [&](const nasrank::IngestProgress& p) {
        if (report) progress.Send(&p, 1);
        return !cancel_.load();
      });
    } catch (const nasrank::IngestFailure& f) {
      failed_ = true;
      kind_ = f.kind;
      has_offset_ = f.has_offset;
      offset_ = f.offset;
      reason_ = f.what();
    } catch (const std::bad_alloc&) {
      failed_ = true;
      kind_ = nasrank::ErrorKind::Limit;
      reason_ = "out of memory";
    } catch (const std::exception& e) {
      failed_ = true;
      kind_ = nasrank::ErrorKind::Io;
      reason_ = e.what();
    }
  }

  void OnProgress(const nasrank::IngestProgress* data, size_t count) override {
    try {
      Progress(data, count);
    } catch (...) {
      cancel_ = true;  // no JS can run any more (the environment is going away)
    }
  }
  void Progress(const nasrank::IngestProgress* data, size_t count) {
    if (data == nullptr || count == 0 || progress_.IsEmpty() || cancel_.load()) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    auto p = Napi::Object::New(env);
    p.Set("bytesDone", static_cast<double>(data->bytes_done));
    p.Set("bytesTotal", static_cast<double>(data->bytes_total));
    p.Set("records", static_cast<double>(data->records));
    p.Set("skipped", static_cast<double>(data->skipped));
    try {
      progress_.Call({p});
    } catch (const Napi::Error& e) {
      // The callback threw (e.g. an abort): stop reading and reject with its error.
      cancel_ = true;
      try {
        progress_error_ = Napi::Reference<Napi::Value>::New(e.Value(), 1);
      } catch (...) {
      }
    }
  }

  // Completion never throws: when the environment is torn down (a terminated worker
  // thread) N-API calls fail, and an exception escaping here would abort the process.
  void OnOK() override {
    try {
      Complete();
    } catch (...) {
    }
  }
  void OnError(const Napi::Error& e) override { Settle(deferred_, false, e.Value()); }

 private:
  void Complete() {
    Napi::Env env = Env();
    if (!progress_error_.IsEmpty()) {
      deferred_.Reject(progress_error_.Value());
      return;
    }
    if (failed_) {
      deferred_.Reject(MakeRecordError(env, kind_, has_offset_, offset_, reason_).Value());
      return;
    }
    try {
      deferred_.Resolve(BuildResult(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const std::bad_alloc&) {
      deferred_.Reject(Napi::RangeError::New(env, OutOfMemory("nb101Ingest", std::to_string(result_.cells) + " cells")).Value());
    }
  }

  Napi::Value BuildResult(Napi::Env env) {
    nasrank::Nb101Ingest& r = result_;
    auto out = Napi::Object::New(env);
    out.Set("cells", static_cast<double>(r.cells));
    out.Set("fileBytes", static_cast<double>(r.file_bytes));
    out.Set("records", static_cast<double>(r.records));
    out.Set("skipped", static_cast<double>(r.skipped));
    out.Set("skippedBytes", static_cast<double>(r.skipped_bytes));
    out.Set("hardwareCrc", r.hardware_crc);
    out.Set("hash", ToTyped<uint8_t, Napi::Uint8Array>(env, std::move(r.hash)));
    out.Set("vertices", ToTyped<uint8_t, Napi::Uint8Array>(env, std::move(r.vertices)));
    out.Set("adjacency", ToTyped<uint32_t, Napi::Uint32Array>(env, std::move(r.adjacency)));
    out.Set("ops", ToTyped<uint8_t, Napi::Uint8Array>(env, std::move(r.ops)));
    out.Set("trainableParameters", ToTyped<int32_t, Napi::Int32Array>(env, std::move(r.trainable_parameters)));
    out.Set("firstOffset", ToTyped<double, Napi::Float64Array>(env, std::move(r.first_offset)));
    out.Set("runs", ToTyped<uint32_t, Napi::Uint32Array>(env, std::move(r.runs)));
    auto names = Napi::Array::New(env, nasrank::kNb101RunValues);
    for (int k = 0; k < nasrank::kNb101RunValues; ++k) names.Set(static_cast<uint32_t>(k), nasrank::kNb101ValueNames[k]);
    out.Set("valueNames", names);
    auto slots = Napi::Array::New(env, r.slots.size());
    for (size_t s = 0; s < r.slots.size(); ++s) {
      auto slot = Napi::Object::New(env);
      slot.Set("epochs", static_cast<double>(r.slots[s].epochs));
      slot.Set("repeat", static_cast<double>(r.slots[s].repeat));
      auto values = Napi::Array::New(env, nasrank::kNb101RunValues);
      for (int k = 0; k < nasrank::kNb101RunValues; ++k) {
        values.Set(static_cast<uint32_t>(k), ToTyped<double, Napi::Float64Array>(env, std::move(r.slots[s].values[k])));
      }
      slot.Set("values", values);
      slots.Set(static_cast<uint32_t>(s), slot);
    }
    out.Set("slots", slots);
    auto bad = Napi::Array::New(env, r.bad.size());
    for (size_t k = 0; k < r.bad.size(); ++k) {
      auto b = Napi::Object::New(env);
      b.Set("offset", static_cast<double>(r.bad[k].offset));
      b.Set("code", nasrank::error_code(r.bad[k].kind));
      b.Set("message", r.bad[k].message);
      bad.Set(static_cast<uint32_t>(k), b);
    }
    out.Set("bad", bad);
    return out;
  }

  nasrank::IngestOptions options_;
  Napi::Promise::Deferred deferred_;
  Napi::FunctionReference progress_;
  Napi::Reference<Napi::Value> progress_error_;
  std::atomic<bool> cancel_{false};
  nasrank::Nb101Ingest result_;
  bool failed_ = false;
  nasrank::ErrorKind kind_ = nasrank::ErrorKind::Io;
  bool has_offset_ = false;
  uint64_t offset_ = 0;
  std::string reason_;
};

// (path, lenient, chunkBytes, maxRecordBytes, onProgress | null) -> Promise
Napi::Value Nb101Ingest(const Napi::CallbackInfo& info) {
  const char* fn = "nb101Ingest";
  Napi::Env env = info.Env();
  nasrank::IngestOptions options;
  options.path = ReadString(info, 0, fn, "path");
  if (options.path.empty()) ThrowType(env, std::string(fn) + ": path must not be empty");
  if (options.path.find('\0') != std::string::npos) ThrowType(env, std::string(fn) + ": path must not contain NUL characters");
  options.lenient = ReadBool(info, 1, fn, "lenient");
  double chunk = ReadFinite(info, 2, fn, "chunkBytes");
  if (chunk < 64 || chunk > (1u << 30) || std::floor(chunk) != chunk) ThrowRange(env, std::string(fn) + ": chunkBytes must be an integer in [64, 2^30], got " + Num(chunk));
  options.chunk_bytes = static_cast<size_t>(chunk);
  double max_record = ReadFinite(info, 3, fn, "maxRecordBytes");
  if (max_record < 1 || max_record > 4294967296.0 || std::floor(max_record) != max_record) {
    ThrowRange(env, std::string(fn) + ": maxRecordBytes must be an integer in [1, 2^32], got " + Num(max_record));
  }
  options.max_record_bytes = static_cast<uint64_t>(max_record);
  options.threads = nasrank::thread_count();
  Napi::Value on_progress = info.Length() > 4 ? info[4] : env.Null();
  if (!on_progress.IsNull() && !on_progress.IsUndefined() && !on_progress.IsFunction()) ThrowType(env, std::string(fn) + ": onProgress must be a function or null");
  auto* worker = new IngestWorker(env, std::move(options), on_progress);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// ---- CTNAS comparator, linear head -----------------------------------------------------

struct LinearComparatorJob : Job {
  Vec u, v, truth;
  double bias = 0;
  bool kendall = false, code_ties = false;
  int threads = 1;
  std::unique_ptr<double[]> means;
  nasrank::ComparatorKendallCounts counts;
  void Execute() override {
    if (kendall) {
      counts = nasrank::comparator_kendall(u.data, v.data, u.size, bias, truth.data, code_ties, threads);
    } else {
      means.reset(new double[u.size > 0 ? u.size : 1]);
      nasrank::comparator_row_means(u.data, v.data, u.size, bias, means.get(), threads);
    }
  }
  Napi::Value Result(Napi::Env env) override {
    if (!kendall) return AdoptFloat64Array(env, std::move(means), u.size);
    Napi::Object o = Napi::Object::New(env);
    o.Set("concordant", Napi::Number::New(env, static_cast<double>(counts.concordant)));
    o.Set("discordant", Napi::Number::New(env, static_cast<double>(counts.discordant)));
    o.Set("zero", Napi::Number::New(env, static_cast<double>(counts.zero)));
    return o;
  }
};

// comparatorRowMeans(u, v, bias, threads, async) and
// comparatorKendallCounts(u, v, bias, truth, ties, threads, async).
Napi::Value RunLinearComparator(const Napi::CallbackInfo& info, bool kendall) {
  const char* fn = kendall ? "comparatorKendallCounts" : "comparatorRowMeans";
  Napi::Env env = info.Env();
  auto job = std::make_unique<LinearComparatorJob>();
  job->kendall = kendall;
  job->u = ReadVec(info, 0, fn, "u");
  job->v = ReadVec(info, 1, fn, "v");
  RequireSameLength(env, fn, "u", job->u, "v", job->v);
  job->bias = ReadFinite(info, 2, fn, "bias");
  size_t next = 3;
  if (kendall) {
    job->truth = ReadVec(info, 3, fn, "truth");
    RequireSameLength(env, fn, "u", job->u, "truth", job->truth);
    if (job->u.size < 2) ThrowRange(env, std::string(fn) + ": needs at least 2 architectures, got " + std::to_string(job->u.size));
    std::string ties = ReadString(info, 4, fn, "ties");
    if (ties == "code") job->code_ties = true;
    else if (ties != "paper") ThrowType(env, std::string(fn) + ": ties must be 'paper' or 'code', got '" + ties + "'");
    next = 5;
  } else if (job->u.size == 0) {
    ThrowRange(env, std::string(fn) + ": the candidate set is empty (u and v have length 0)");
  }
  job->threads = ReadThreads(info, next, fn);
  bool async = ReadAsync(info, next + 1, fn);
  if (async) {
    job->u.Own();
    job->v.Own();
    if (kendall) job->truth.Own();
  }
  job->fn = fn;
  job->size = "n = " + std::to_string(job->u.size);
  return Run(env, std::move(job), async);
}

Napi::Value ComparatorRowMeans(const Napi::CallbackInfo& info) { return RunLinearComparator(info, false); }
Napi::Value ComparatorKendallCounts(const Napi::CallbackInfo& info) { return RunLinearComparator(info, true); }

// ---- CTNAS controller ------------------------------------------------------------------
// Synchronous (an iteration is tens of microseconds). The controller's state arrays (params,
// grad, Adam's m and v, the cache) are written in place: each must be a Float64Array of the
// exact length, and no two may share memory.

struct MutableF64 {
  double* data = nullptr;
  size_t size = 0;
  const char* name = "";
};

MutableF64 ReadMutableF64(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  Napi::Env env = info.Env();
  // Written in place, so a SharedArrayBuffer is used as is (not copied as inputs are).
  TypedData d = TypedArrayData(env, index < info.Length() ? info[index] : env.Undefined(), napi_float64_array, fn, name, "Float64Array");
  MutableF64 out;
  out.data = static_cast<double*>(d.data);
  out.size = d.length;
  out.name = name;
  return out;
}

void RequireLength(Napi::Env env, const char* fn, const char* name, size_t got, size_t want, const std::string& why) {
  if (got != want) {
    ThrowRange(env, std::string(fn) + ": " + name + " has length " + std::to_string(got) + " but must have " + std::to_string(want) + " (" + why + ")");
  }
}

void RequireDisjoint(Napi::Env env, const char* fn, std::initializer_list<const MutableF64*> arrays) {
  for (auto a = arrays.begin(); a != arrays.end(); ++a) {
    for (auto b = a + 1; b != arrays.end(); ++b) {
      const double* a0 = (*a)->data; const double* a1 = a0 + (*a)->size;
      const double* b0 = (*b)->data; const double* b1 = b0 + (*b)->size;
      if ((*a)->size > 0 && (*b)->size > 0 && a0 < b1 && b0 < a1) {
        ThrowRange(env, std::string(fn) + ": " + (*a)->name + " and " + (*b)->name + " share memory; they must be separate arrays");
      }
    }
  }
}

size_t ReadCount(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name, double lo, double hi) {
  double x = ReadFinite(info, index, fn, name);
  if (std::floor(x) != x || x < lo || x > hi) {
    ThrowRange(info.Env(), std::string(fn) + ": " + name + " must be an integer in [" + Num(lo) + ", " + Num(hi) + "], got " + Num(x));
  }
  return static_cast<size_t>(x);
}

// Shape of a controller call: hidden, choices at info[i], info[i+1].
struct ControllerShape {
  size_t hidden = 0, choices = 0, params = 0;
};

ControllerShape ReadControllerShape(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  ControllerShape s;
  s.hidden = ReadCount(info, index, fn, "hidden", 1, 4096);
  s.choices = ReadCount(info, index + 1, fn, "choices", 2, 255);
  s.params = nasrank::controller_param_count(s.hidden, s.choices);
  return s;
}

void CheckDraws(Napi::Env env, const char* fn, const Vec& draws) {
  for (size_t k = 0; k < draws.size; ++k) {
    if (!(draws.data[k] >= 0 && draws.data[k] < 1)) {
      ThrowRange(env, std::string(fn) + ": draws[" + std::to_string(k) + "] must be in [0, 1), got " + Num(draws.data[k]));
    }
  }
}

void CheckOps(Napi::Env env, const char* fn, const char* name, const View<uint8_t>& ops, size_t choices) {
  for (size_t t = 0; t < ops.size; ++t) {
    if (ops.data[t] >= choices) {
      ThrowRange(env, std::string(fn) + ": " + name + "[" + std::to_string(t) + "] is " + std::to_string(ops.data[t]) +
                          "; decisions must be < choices (" + std::to_string(choices) + ")");
    }
  }
}

// controllerSample(params, hidden, choices, draws | null, forced | null, opsOut, cacheOut)
//   → { logProb, entropy }. steps = opsOut.length; draws (Float64Array in [0, 1)) or forced
//   (Uint8Array of decisions) has that length.
Napi::Value ControllerSample(const Napi::CallbackInfo& info) {
  const char* fn = "controllerSample";
  Napi::Env env = info.Env();
  ControllerShape s = ReadControllerShape(info, 1, fn);
  const bool have_draws = info.Length() > 3 && !info[3].IsNull() && !info[3].IsUndefined();
  const bool have_forced = info.Length() > 4 && !info[4].IsNull() && !info[4].IsUndefined();
  if (have_draws == have_forced) ThrowType(env, std::string(fn) + ": give exactly one of draws (Float64Array) and forced (Uint8Array)");
  Vec params = ReadVec(info, 0, fn, "params");
  RequireLength(env, fn, "params", params.size, s.params, "the controller's parameter count for hidden " + std::to_string(s.hidden) + ", choices " + std::to_string(s.choices));
  View<uint8_t> ops_view = ReadTyped<uint8_t>(info, 5, fn, "opsOut", napi_uint8_array, "Uint8Array");
  const size_t steps = ops_view.size;
  if (steps == 0) ThrowRange(env, std::string(fn) + ": opsOut is empty; it holds one decision per step");
  if (ops_view.data == nullptr || !ops_view.owned.empty()) ThrowType(env, std::string(fn) + ": opsOut must not live in a SharedArrayBuffer");
  MutableF64 cache = ReadMutableF64(info, 6, fn, "cacheOut");
  RequireLength(env, fn, "cacheOut", cache.size, steps * (10 * s.hidden + s.choices), "steps × (10·hidden + choices)");
  Vec draws;
  View<uint8_t> forced;
  if (have_draws) {
    draws = ReadVec(info, 3, fn, "draws");
    RequireLength(env, fn, "draws", draws.size, steps, "one per step, as opsOut");
    CheckDraws(env, fn, draws);
  } else {
    forced = ReadTyped<uint8_t>(info, 4, fn, "forced", napi_uint8_array, "Uint8Array");
    RequireLength(env, fn, "forced", forced.size, steps, "one per step, as opsOut");
    CheckOps(env, fn, "forced", forced, s.choices);
  }
  // The outputs must not overlap an input (the kernel would read what it writes).
  auto overlaps = [](const void* a, size_t an, const void* b, size_t bn) {
    const char* a0 = static_cast<const char*>(a);
    const char* b0 = static_cast<const char*>(b);
    return an > 0 && bn > 0 && a0 < b0 + bn && b0 < a0 + an;
  };
  const size_t pb = params.size * sizeof(double), cb = cache.size * sizeof(double);
  if (overlaps(params.data, pb, cache.data, cb) || overlaps(params.data, pb, ops_view.data, steps) || overlaps(cache.data, cb, ops_view.data, steps) ||
      (have_draws && (overlaps(draws.data, draws.size * sizeof(double), cache.data, cb) || overlaps(draws.data, draws.size * sizeof(double), ops_view.data, steps))) ||
      (!have_draws && (overlaps(forced.data, steps, cache.data, cb) || overlaps(forced.data, steps, ops_view.data, steps)))) {
    ThrowRange(env, std::string(fn) + ": opsOut and cacheOut must not share memory with each other or with params, draws or forced");
  }
  uint8_t* ops = const_cast<uint8_t*>(ops_view.data);
  auto r = nasrank::controller_sample(params.data, s.hidden, s.choices, steps, have_draws ? draws.data : nullptr,
                                      have_draws ? nullptr : forced.data, ops, cache.data);
  if (!std::isfinite(r.log_prob) || !std::isfinite(r.entropy)) {
    ThrowRange(env, std::string(fn) + ": log π is " + Num(r.log_prob) + " and the entropy " + Num(r.entropy) + "; the parameters drive the softmax out of range");
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("logProb", Napi::Number::New(env, r.log_prob));
  o.Set("entropy", Napi::Number::New(env, r.entropy));
  return o;
}

// controllerBackward(params, grad, hidden, choices, ops, cache, coefLogProb, coefEntropy):
// grad += ∂(−coefLogProb·log π − coefEntropy·H)/∂params of the sample (ops, cache).
// controllerStep(params, grad, m, v, hidden, choices, ops, cache, coefLogProb, coefEntropy,
//                step, lr, beta1, beta2, weightDecay, eps): grad ← that gradient, then one
// Adam update of params (m, v updated; step ≥ 1 is the bias-correction count after this step).
Napi::Value RunControllerBackward(const Napi::CallbackInfo& info, bool adam) {
  const char* fn = adam ? "controllerStep" : "controllerBackward";
  Napi::Env env = info.Env();
  const size_t at = adam ? 4 : 2;  // index of hidden
  ControllerShape s = ReadControllerShape(info, at, fn);
  const double coef_lp = ReadFinite(info, at + 4, fn, "coefLogProb");
  const double coef_ent = ReadFinite(info, at + 5, fn, "coefEntropy");
  double step = 0, lr = 0, beta1 = 0, beta2 = 0, wd = 0, eps = 0;
  if (adam) {
    step = static_cast<double>(ReadCount(info, 10, fn, "step", 1, 9007199254740991.0));
    lr = ReadFinite(info, 11, fn, "lr");
    beta1 = ReadFinite(info, 12, fn, "beta1");
    beta2 = ReadFinite(info, 13, fn, "beta2");
    wd = ReadFinite(info, 14, fn, "weightDecay");
    eps = ReadFinite(info, 15, fn, "eps");
    if (!(lr > 0)) ThrowRange(env, std::string(fn) + ": lr must be > 0, got " + Num(lr));
    if (!(beta1 >= 0 && beta1 < 1)) ThrowRange(env, std::string(fn) + ": beta1 must be in [0, 1), got " + Num(beta1));
    if (!(beta2 >= 0 && beta2 < 1)) ThrowRange(env, std::string(fn) + ": beta2 must be in [0, 1), got " + Num(beta2));
    if (!(wd >= 0)) ThrowRange(env, std::string(fn) + ": weightDecay must be ≥ 0, got " + Num(wd));
    if (!(eps > 0)) ThrowRange(env, std::string(fn) + ": eps must be > 0, got " + Num(eps));
  }
  MutableF64 params = ReadMutableF64(info, 0, fn, "params");
  MutableF64 grad = ReadMutableF64(info, 1, fn, "grad");
  MutableF64 m, v;
  const std::string why = "the controller's parameter count for hidden " + std::to_string(s.hidden) + ", choices " + std::to_string(s.choices);
  RequireLength(env, fn, "params", params.size, s.params, why);
  RequireLength(env, fn, "grad", grad.size, s.params, why);
  if (adam) {
    m = ReadMutableF64(info, 2, fn, "m");
    v = ReadMutableF64(info, 3, fn, "v");
    RequireLength(env, fn, "m", m.size, s.params, why);
    RequireLength(env, fn, "v", v.size, s.params, why);
  }
  View<uint8_t> ops = ReadTyped<uint8_t>(info, at + 2, fn, "ops", napi_uint8_array, "Uint8Array");
  const size_t steps = ops.size;
  if (steps == 0) ThrowRange(env, std::string(fn) + ": ops is empty; it holds one decision per step");
  CheckOps(env, fn, "ops", ops, s.choices);
  MutableF64 cache = ReadMutableF64(info, at + 3, fn, "cache");
  RequireLength(env, fn, "cache", cache.size, steps * (10 * s.hidden + s.choices), "steps × (10·hidden + choices), from controllerSample");
  if (adam) RequireDisjoint(env, fn, {&params, &grad, &m, &v, &cache});
  else RequireDisjoint(env, fn, {&params, &grad, &cache});
  if (adam) std::fill(grad.data, grad.data + grad.size, 0.0);
  nasrank::controller_backward(params.data, grad.data, s.hidden, s.choices, steps, ops.data, cache.data, coef_lp, coef_ent);
  if (adam) {
    // Checked after the update instead of element by element before it: a non-finite
    // parameter, gradient or moment leaves a non-finite parameter.
    if (!nasrank::adam_update(params.data, grad.data, m.data, v.data, s.params, step, lr, beta1, beta2, wd, eps)) ThrowRange(env, std::string(fn) + ": a parameter became non-finite (check the reward and the learning rate)");
  }
  return env.Undefined();
}

Napi::Value ControllerBackward(const Napi::CallbackInfo& info) { return RunControllerBackward(info, false); }
Napi::Value ControllerStep(const Napi::CallbackInfo& info) { return RunControllerBackward(info, true); }

// controllerSampleMany(params, hidden, choices, steps, draws) → Uint8Array n × steps, n =
// draws.length / steps; draws step-major (draws[t·n + k]).
Napi::Value ControllerSampleMany(const Napi::CallbackInfo& info) {
  const char* fn = "controllerSampleMany";
  Napi::Env env = info.Env();
  ControllerShape s = ReadControllerShape(info, 1, fn);
  const size_t steps = ReadCount(info, 3, fn, "steps", 1, 4096);
  Vec params = ReadVec(info, 0, fn, "params");
  RequireLength(env, fn, "params", params.size, s.params, "the controller's parameter count for hidden " + std::to_string(s.hidden) + ", choices " + std::to_string(s.choices));
  Vec draws = ReadVec(info, 4, fn, "draws");
  if (draws.size % steps != 0) ThrowRange(env, std::string(fn) + ": draws has length " + std::to_string(draws.size) + ", not a multiple of steps (" + std::to_string(steps) + ")");
  CheckDraws(env, fn, draws);
  const size_t n = draws.size / steps;
  auto out = Napi::Uint8Array::New(env, n * steps);
  nasrank::controller_sample_many(params.data, s.hidden, s.choices, steps, n, draws.data, out.Data());
  return out;
}

// ---- CTNAS NB-101 controller -----------------------------------------------------------
// As the NB-201 one: synchronous, state arrays written in place (exact lengths, no sharing).
// The parameters are not scanned for non-finite values (34k of them per call); a non-finite
// log π or entropy is refused after the pass instead.

size_t ReadNb101Hidden(const Napi::CallbackInfo& info, size_t index, const char* fn) { return ReadCount(info, index, fn, "hidden", 1, 4096); }

std::string Nb101ParamsWhy(size_t hidden) { return "the NB-101 controller's parameter count for hidden " + std::to_string(hidden); }

// A Uint8Array of the 18 decisions, checked by the code's rules.
View<uint8_t> ReadNb101Seq(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  Napi::Env env = info.Env();
  View<uint8_t> seq = ReadTyped<uint8_t>(info, index, fn, name, napi_uint8_array, "Uint8Array");
  RequireLength(env, fn, name, seq.size, 18, "the 18 decisions of the code's arch_seq");
  const std::string bad = nasrank::nb101_controller_check_seq(seq.data);
  if (!bad.empty()) ThrowRange(env, std::string(fn) + ": " + name + bad);
  return seq;
}

bool Overlaps(const void* a, size_t an, const void* b, size_t bn) {
  const char* a0 = static_cast<const char*>(a);
  const char* b0 = static_cast<const char*>(b);
  return an > 0 && bn > 0 && a0 < b0 + bn && b0 < a0 + an;
}

// nb101ControllerSample(params, hidden, draws | null, forced | null, seqOut, cacheOut)
//   → { logProb, entropy }. draws: Float64Array(18) in [0, 1); forced: Uint8Array(18), a valid
//   sequence (seq[0] = n in 1..5); seqOut: Uint8Array(18); cacheOut: Float64Array(18·(16·hidden + 7)).
Napi::Value Nb101ControllerSample(const Napi::CallbackInfo& info) {
  const char* fn = "nb101ControllerSample";
  Napi::Env env = info.Env();
  const size_t H = ReadNb101Hidden(info, 1, fn);
  const bool have_draws = info.Length() > 2 && !info[2].IsNull() && !info[2].IsUndefined();
  const bool have_forced = info.Length() > 3 && !info[3].IsNull() && !info[3].IsUndefined();
  if (have_draws == have_forced) ThrowType(env, std::string(fn) + ": give exactly one of draws (Float64Array) and forced (Uint8Array)");
  Vec params = TakeTyped<double>(env, info[0], napi_float64_array, fn, "params", "Float64Array");
  RequireLength(env, fn, "params", params.size, nasrank::nb101_controller_param_count(H), Nb101ParamsWhy(H));
  View<uint8_t> seq_view = ReadTyped<uint8_t>(info, 4, fn, "seqOut", napi_uint8_array, "Uint8Array");
  RequireLength(env, fn, "seqOut", seq_view.size, 18, "one decision per step");
  if (seq_view.data == nullptr || !seq_view.owned.empty()) ThrowType(env, std::string(fn) + ": seqOut must not live in a SharedArrayBuffer");
  MutableF64 cache = ReadMutableF64(info, 5, fn, "cacheOut");
  RequireLength(env, fn, "cacheOut", cache.size, 18 * nasrank::nb101_controller_stride(H), "18 × (16·hidden + 7)");
  Vec draws;
  View<uint8_t> forced;
  if (have_draws) {
    draws = ReadVec(info, 2, fn, "draws");
    RequireLength(env, fn, "draws", draws.size, 18, "one per step");
    CheckDraws(env, fn, draws);
  } else {
    forced = ReadNb101Seq(info, 3, fn, "forced");
  }
  const size_t pb = params.size * sizeof(double), cb = cache.size * sizeof(double);
  if (Overlaps(params.data, pb, cache.data, cb) || Overlaps(params.data, pb, seq_view.data, 18) || Overlaps(cache.data, cb, seq_view.data, 18) ||
      (have_draws && (Overlaps(draws.data, 18 * sizeof(double), cache.data, cb) || Overlaps(draws.data, 18 * sizeof(double), seq_view.data, 18))) ||
      (!have_draws && (Overlaps(forced.data, 18, cache.data, cb) || Overlaps(forced.data, 18, seq_view.data, 18)))) {
    ThrowRange(env, std::string(fn) + ": seqOut and cacheOut must not share memory with each other or with params, draws or forced");
  }
  uint8_t* seq = const_cast<uint8_t*>(seq_view.data);
  auto r = nasrank::nb101_controller_sample(params.data, H, have_draws ? draws.data : nullptr, have_draws ? nullptr : forced.data, seq, cache.data);
  if (!std::isfinite(r.log_prob) || !std::isfinite(r.entropy)) {
    ThrowRange(env, std::string(fn) + ": log π is " + Num(r.log_prob) + " and the entropy " + Num(r.entropy) + "; the parameters are non-finite or drive the softmax out of range");
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("logProb", Napi::Number::New(env, r.log_prob));
  o.Set("entropy", Napi::Number::New(env, r.entropy));
  return o;
}

// nb101ControllerBackward(params, grad, hidden, seq, cache, coefLogProb, coefEntropy): grad +=
// ∂(−coefLogProb·log π − coefEntropy·H)/∂params of the sample (seq, cache from nb101ControllerSample).
// nb101ControllerStep(params, grad, m, v, hidden, seq, cache, coefLogProb, coefEntropy, step, lr,
//                     beta1, beta2, weightDecay, eps): grad ← that gradient, then one Adam update.
Napi::Value RunNb101ControllerBackward(const Napi::CallbackInfo& info, bool adam) {
  const char* fn = adam ? "nb101ControllerStep" : "nb101ControllerBackward";
  Napi::Env env = info.Env();
  const size_t at = adam ? 4 : 2;  // index of hidden
  const size_t H = ReadNb101Hidden(info, at, fn);
  const size_t count = nasrank::nb101_controller_param_count(H);
  const double coef_lp = ReadFinite(info, at + 3, fn, "coefLogProb");
  const double coef_ent = ReadFinite(info, at + 4, fn, "coefEntropy");
  double step = 0, lr = 0, beta1 = 0, beta2 = 0, wd = 0, eps = 0;
  if (adam) {
    step = static_cast<double>(ReadCount(info, 9, fn, "step", 1, 9007199254740991.0));
    lr = ReadFinite(info, 10, fn, "lr");
    beta1 = ReadFinite(info, 11, fn, "beta1");
    beta2 = ReadFinite(info, 12, fn, "beta2");
    wd = ReadFinite(info, 13, fn, "weightDecay");
    eps = ReadFinite(info, 14, fn, "eps");
    if (!(lr > 0)) ThrowRange(env, std::string(fn) + ": lr must be > 0, got " + Num(lr));
    if (!(beta1 >= 0 && beta1 < 1)) ThrowRange(env, std::string(fn) + ": beta1 must be in [0, 1), got " + Num(beta1));
    if (!(beta2 >= 0 && beta2 < 1)) ThrowRange(env, std::string(fn) + ": beta2 must be in [0, 1), got " + Num(beta2));
    if (!(wd >= 0)) ThrowRange(env, std::string(fn) + ": weightDecay must be ≥ 0, got " + Num(wd));
    if (!(eps > 0)) ThrowRange(env, std::string(fn) + ": eps must be > 0, got " + Num(eps));
  }
  MutableF64 params = ReadMutableF64(info, 0, fn, "params");
  MutableF64 grad = ReadMutableF64(info, 1, fn, "grad");
  MutableF64 m, v;
  const std::string why = Nb101ParamsWhy(H);
  RequireLength(env, fn, "params", params.size, count, why);
  RequireLength(env, fn, "grad", grad.size, count, why);
  if (adam) {
    m = ReadMutableF64(info, 2, fn, "m");
    v = ReadMutableF64(info, 3, fn, "v");
    RequireLength(env, fn, "m", m.size, count, why);
    RequireLength(env, fn, "v", v.size, count, why);
  }
  View<uint8_t> seq = ReadNb101Seq(info, at + 1, fn, "seq");
  MutableF64 cache = ReadMutableF64(info, at + 2, fn, "cache");
  RequireLength(env, fn, "cache", cache.size, 18 * nasrank::nb101_controller_stride(H), "18 × (16·hidden + 7), from nb101ControllerSample");
  if (adam) RequireDisjoint(env, fn, {&params, &grad, &m, &v, &cache});
  else RequireDisjoint(env, fn, {&params, &grad, &cache});
  if (adam) std::fill(grad.data, grad.data + grad.size, 0.0);
  nasrank::nb101_controller_backward(params.data, grad.data, H, seq.data, cache.data, coef_lp, coef_ent);
  if (adam) {
    if (!nasrank::adam_update(params.data, grad.data, m.data, v.data, count, step, lr, beta1, beta2, wd, eps)) ThrowRange(env, std::string(fn) + ": a parameter became non-finite (check the reward and the learning rate)");
  }
  return env.Undefined();
}

Napi::Value Nb101ControllerBackward(const Napi::CallbackInfo& info) { return RunNb101ControllerBackward(info, false); }
Napi::Value Nb101ControllerStep(const Napi::CallbackInfo& info) { return RunNb101ControllerBackward(info, true); }

// nb101ControllerSampleMany(params, hidden, draws) → { seqs: Uint8Array(18n), logProb, entropy:
// Float64Array(n) }, n = draws.length / 18; draws sample-major (sample k's 18 draws in a row).
Napi::Value Nb101ControllerSampleMany(const Napi::CallbackInfo& info) {
  const char* fn = "nb101ControllerSampleMany";
  Napi::Env env = info.Env();
  const size_t H = ReadNb101Hidden(info, 1, fn);
  Vec params = TakeTyped<double>(env, info[0], napi_float64_array, fn, "params", "Float64Array");
  RequireLength(env, fn, "params", params.size, nasrank::nb101_controller_param_count(H), Nb101ParamsWhy(H));
  Vec draws = ReadVec(info, 2, fn, "draws");
  if (draws.size % 18 != 0) ThrowRange(env, std::string(fn) + ": draws has length " + std::to_string(draws.size) + ", not a multiple of 18 (one per decision)");
  CheckDraws(env, fn, draws);
  const size_t n = draws.size / 18;
  auto seqs = Napi::Uint8Array::New(env, n * 18);
  auto lp = Napi::Float64Array::New(env, n);
  auto ent = Napi::Float64Array::New(env, n);
  nasrank::nb101_controller_sample_many(params.data, H, n, draws.data, seqs.Data(), lp.Data(), ent.Data());
  for (size_t k = 0; k < n; ++k) {
    if (!std::isfinite(lp.Data()[k]) || !std::isfinite(ent.Data()[k])) {
      ThrowRange(env, std::string(fn) + ": log π of sample " + std::to_string(k) + " is " + Num(lp.Data()[k]) + "; the parameters are non-finite or drive the softmax out of range");
    }
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("seqs", seqs);
  o.Set("logProb", lp);
  o.Set("entropy", ent);
  return o;
}

// ---- AG-Net generator (agnet.cc) ----------------------------------------------------------

nasrank::AgNetDims ReadAgNetDims(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  nasrank::AgNetDims d;
  double nodes = ReadFinite(info, index, fn, "nodes");
  double classes = ReadFinite(info, index + 1, fn, "classes");
  if (nodes < 3 || nodes > 32 || std::floor(nodes) != nodes) ThrowRange(info.Env(), std::string(fn) + ": nodes must be an integer in [3, 32], got " + Num(nodes));
  if (classes < 3 || classes > 64 || std::floor(classes) != classes) ThrowRange(info.Env(), std::string(fn) + ": classes must be an integer in [3, 64], got " + Num(classes));
  d.nodes = static_cast<int>(nodes);
  d.classes = static_cast<int>(classes);
  return d;
}

// The flat parameters (finite, the generator's count) and z (finite, rows × 32, rows >= 1).
size_t ReadAgNetInputs(const Napi::CallbackInfo& info, const char* fn, const nasrank::AgNetDims& d, Vec& params, Vec& z) {
  Napi::Env env = info.Env();
  params = ReadVec(info, 0, fn, "params");
  const size_t P = nasrank::agnet_param_count(d);
  if (params.size != P) {
    ThrowRange(env, std::string(fn) + ": params has length " + std::to_string(params.size) + " but the generator for " + std::to_string(d.nodes) + " nodes × " +
                        std::to_string(d.classes) + " classes has " + std::to_string(P) + " parameters");
  }
  z = ReadVec(info, 3, fn, "z");
  if (z.size == 0 || z.size % 32 != 0) ThrowRange(env, std::string(fn) + ": z must hold rows × 32 values (rows >= 1), got length " + std::to_string(z.size));
  return z.size / 32;
}

// A Float64Array written in place (not in a SharedArrayBuffer).
double* Writable(Napi::Env env, Vec& v, const char* fn, const std::string& name) {
  if (!v.owned.empty()) ThrowType(env, std::string(fn) + ": " + name + " must not live in a SharedArrayBuffer (it is updated in place)");
  return const_cast<double*>(v.data);
}

struct AgNetForwardJob : Job {
  nasrank::AgNetDims dims;
  Vec params, z;
  size_t rows = 0;
  int threads = 1;
  std::unique_ptr<double[]> out;
  void Execute() override {
    out.reset(new double[rows * dims.length()]);
    nasrank::agnet_forward(dims, params.data, z.data, rows, out.get(), threads);
  }
  Napi::Value Result(Napi::Env env) override { return AdoptFloat64Array(env, std::move(out), rows * dims.length()); }
};

// (params, nodes, classes, z, threads, async) -> out [rows × length].
Napi::Value AgNetForward(const Napi::CallbackInfo& info) {
  const char* fn = "agnetForward";
  Napi::Env env = info.Env();
  auto job = std::make_unique<AgNetForwardJob>();
  job->dims = ReadAgNetDims(info, 1, fn);
  job->rows = ReadAgNetInputs(info, fn, job->dims, job->params, job->z);
  job->threads = ReadThreads(info, 4, fn);
  bool async = ReadAsync(info, 5, fn);
  if (async) {
    job->params.Own();
    job->z.Own();
  }
  job->fn = fn;
  job->size = "rows = " + std::to_string(job->rows);
  return Run(env, std::move(job), async);
}

// (params, nodes, classes, z, target | null, dout | null, adam | null, threads) ->
// {out, ce, bce, grad}: target {classes: Uint8Array, edges: Uint8Array, weights: Float64Array,
// ceScale}; adam {m, v, step, lr, beta1, beta2, eps, weightDecay} updates params, m and v in
// place (and grad is then absent). Synchronous: it writes into its arguments.
Napi::Value AgNetTrainStep(const Napi::CallbackInfo& info) {
  const char* fn = "agnetTrainStep";
  Napi::Env env = info.Env();
  nasrank::AgNetDims dims = ReadAgNetDims(info, 1, fn);
  Napi::Value target_v = info.Length() > 4 ? info[4] : env.Undefined();
  Napi::Value dout_v = info.Length() > 5 ? info[5] : env.Undefined();
  Napi::Value adam_v = info.Length() > 6 ? info[6] : env.Undefined();
  const bool has_target = !target_v.IsNull() && !target_v.IsUndefined();
  const bool has_dout = !dout_v.IsNull() && !dout_v.IsUndefined();
  const bool has_adam = !adam_v.IsNull() && !adam_v.IsUndefined();
  Props target_p, adam_p;
  if (has_target) target_p = Props(ReadObject(env, target_v, fn, "target"), {"classes", "edges", "weights", "ceScale"});
  if (has_adam) adam_p = Props(ReadObject(env, adam_v, fn, "adam"), {"m", "v", "step", "lr", "beta1", "beta2", "eps", "weightDecay"});
  int threads = ReadThreads(info, 7, fn);
  auto num = [&](const Props& p, const char* key, const std::string& name) {
    Napi::Value v = p.Get(key);
    if (v.IsEmpty() || !v.IsNumber()) ThrowType(env, std::string(fn) + ": " + name + "." + key + " must be a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d)) ThrowRange(env, std::string(fn) + ": " + name + "." + key + " must be finite, got " + Num(d));
    return d;
  };
  // Phase two: data pointers.
  Vec params, z;
  const size_t rows = ReadAgNetInputs(info, fn, dims, params, z);
  const size_t P = params.size, D = dims.length();
  const int M = dims.nodes, C = dims.classes, E = dims.edges();
  View<uint8_t> classes, edges;
  Vec weights, dout, m, v;
  nasrank::AgNetTarget target;
  if (has_target) {
    classes = TakeTyped<uint8_t>(env, target_p.Get("classes"), napi_uint8_array, fn, "target.classes", "Uint8Array");
    edges = TakeTyped<uint8_t>(env, target_p.Get("edges"), napi_uint8_array, fn, "target.edges", "Uint8Array");
    weights = TakeTyped<double>(env, target_p.Get("weights"), napi_float64_array, fn, "target.weights", "Float64Array");
    if (classes.size != rows * M) ThrowRange(env, std::string(fn) + ": target.classes has length " + std::to_string(classes.size) + " but must have rows × nodes = " + std::to_string(rows * M));
    if (edges.size != rows * E) ThrowRange(env, std::string(fn) + ": target.edges has length " + std::to_string(edges.size) + " but must have rows × edges = " + std::to_string(rows * E));
    if (weights.size != rows) ThrowRange(env, std::string(fn) + ": target.weights has length " + std::to_string(weights.size) + " but must have one per row (" + std::to_string(rows) + ")");
    for (size_t i = 0; i < classes.size; ++i)
      if (classes.data[i] >= C) ThrowRange(env, std::string(fn) + ": target.classes[" + std::to_string(i) + "] is " + std::to_string(classes.data[i]) + "; classes must be < " + std::to_string(C));
    for (size_t i = 0; i < edges.size; ++i)
      if (edges.data[i] > 1) ThrowRange(env, std::string(fn) + ": target.edges[" + std::to_string(i) + "] is " + std::to_string(edges.data[i]) + "; edge bits must be 0 or 1");
    for (size_t i = 0; i < weights.size; ++i)
      if (!std::isfinite(weights.data[i])) ThrowRange(env, std::string(fn) + ": target.weights[" + std::to_string(i) + "] is not finite");
    target.classes = classes.data;
    target.edges = edges.data;
    target.weights = weights.data;
    target.ce_scale = num(target_p, "ceScale", "target");
  }
  if (has_dout) {
    dout = ReadVec(info, 5, fn, "dout");
    if (dout.size != rows * D) ThrowRange(env, std::string(fn) + ": dout has length " + std::to_string(dout.size) + " but must have rows × length = " + std::to_string(rows * D));
  }
  nasrank::AgNetAdam adam;
  double* params_w = nullptr;
  if (has_adam) {
    m = TakeTyped<double>(env, adam_p.Get("m"), napi_float64_array, fn, "adam.m", "Float64Array");
    v = TakeTyped<double>(env, adam_p.Get("v"), napi_float64_array, fn, "adam.v", "Float64Array");
    if (m.size != P || v.size != P) ThrowRange(env, std::string(fn) + ": adam.m and adam.v must have one value per parameter (" + std::to_string(P) + ")");
    adam.step = num(adam_p, "step", "adam");
    if (adam.step < 0 || std::floor(adam.step) != adam.step) ThrowRange(env, std::string(fn) + ": adam.step must be an integer >= 0, got " + Num(adam.step));
    adam.lr = num(adam_p, "lr", "adam");
    adam.beta1 = num(adam_p, "beta1", "adam");
    adam.beta2 = num(adam_p, "beta2", "adam");
    adam.eps = num(adam_p, "eps", "adam");
    adam.weight_decay = num(adam_p, "weightDecay", "adam");
    if (adam.lr < 0 || !(adam.beta1 >= 0 && adam.beta1 < 1) || !(adam.beta2 >= 0 && adam.beta2 < 1) || !(adam.eps > 0) || adam.weight_decay < 0) {
      ThrowRange(env, std::string(fn) + ": adam needs lr >= 0, beta1 and beta2 in [0, 1), eps > 0 and weightDecay >= 0");
    }
    for (size_t i = 0; i < P; ++i)
      if (!std::isfinite(m.data[i]) || !std::isfinite(v.data[i]) || v.data[i] < 0) ThrowRange(env, std::string(fn) + ": adam.m/adam.v[" + std::to_string(i) + "] must be finite (v >= 0)");
    params_w = Writable(env, params, fn, "params");
    adam.m = Writable(env, m, fn, "adam.m");
    adam.v = Writable(env, v, fn, "adam.v");
  }
  std::vector<double> out(rows * D), ce(has_target ? rows : 0), bce(has_target ? rows : 0), grad(P);
  try {
    nasrank::agnet_gradient(dims, params.data, z.data, rows, has_target ? &target : nullptr, has_dout ? dout.data : nullptr, out.data(),
                            has_target ? ce.data() : nullptr, has_target ? bce.data() : nullptr, grad.data(), threads);
    if (has_adam) nasrank::agnet_adam(params_w, grad.data(), P, adam);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(fn) + ": " + e.what());
  }
  auto result = Napi::Object::New(env);
  result.Set("out", ToFloat64Array(env, out));
  if (has_target) {
    result.Set("ce", ToFloat64Array(env, ce));
    result.Set("bce", ToFloat64Array(env, bce));
  }
  if (!has_adam) result.Set("grad", ToFloat64Array(env, grad));
  return result;
}

// (params, nodes, classes, z, state: Uint32Array(4), edgeRule 'sample' | 'threshold',
//  decode {dag: Uint8Array(E), classOps: Int32Array(C), base, input, output}, seen: Uint8Array | null, threads)
// -> {out, length, classes, edges, index, fresh}. state and seen are updated in place.
Napi::Value AgNetGenerate(const Napi::CallbackInfo& info) {
  const char* fn = "agnetGenerate";
  Napi::Env env = info.Env();
  nasrank::AgNetDims dims = ReadAgNetDims(info, 1, fn);
  std::string rule = ReadString(info, 5, fn, "edgeRule");
  if (rule != "sample" && rule != "threshold") ThrowRange(env, std::string(fn) + ": edgeRule must be 'sample' or 'threshold', got '" + rule + "'");
  Props dec(ReadObject(env, info.Length() > 6 ? info[6] : env.Undefined(), fn, "decode"), {"dag", "classOps", "base", "input", "output"});
  Napi::Value seen_v = info.Length() > 7 ? info[7] : env.Undefined();
  const bool has_seen = !seen_v.IsNull() && !seen_v.IsUndefined();
  int threads = ReadThreads(info, 8, fn);
  const int M = dims.nodes, C = dims.classes, E = dims.edges();
  size_t base = ReadIntProp(env, dec, "base", fn, "decode", 1, 64);
  size_t input = ReadIntProp(env, dec, "input", fn, "decode", 0, C - 1);
  size_t output = ReadIntProp(env, dec, "output", fn, "decode", 0, C - 1);
  double space = std::pow(static_cast<double>(base), M - 2);
  if (space > 1e9) ThrowRange(env, std::string(fn) + ": decode.base^(nodes − 2) must be at most 1e9, got " + Num(space));
  Vec params, z;
  const size_t rows = ReadAgNetInputs(info, fn, dims, params, z);
  auto state = ReadTyped<uint32_t>(info, 4, fn, "state", napi_uint32_array, "Uint32Array");
  if (state.size != 4 || !state.owned.empty()) ThrowRange(env, std::string(fn) + ": state must be a Uint32Array of 4 words (not shared)");
  auto dag = TakeTyped<uint8_t>(env, dec.Get("dag"), napi_uint8_array, fn, "decode.dag", "Uint8Array");
  auto ops = TakeTyped<int32_t>(env, dec.Get("classOps"), napi_int32_array, fn, "decode.classOps", "Int32Array");
  if (dag.size != static_cast<size_t>(E)) ThrowRange(env, std::string(fn) + ": decode.dag has length " + std::to_string(dag.size) + " but must have one bit per edge slot (" + std::to_string(E) + ")");
  if (ops.size != static_cast<size_t>(C)) ThrowRange(env, std::string(fn) + ": decode.classOps has length " + std::to_string(ops.size) + " but must have one op code per class (" + std::to_string(C) + ")");
  for (size_t i = 0; i < ops.size; ++i)
    if (ops.data[i] < -1 || ops.data[i] >= static_cast<int32_t>(base)) ThrowRange(env, std::string(fn) + ": decode.classOps[" + std::to_string(i) + "] must be −1 or an op code in [0, base)");
  View<uint8_t> seen;
  if (has_seen) {
    seen = TakeTyped<uint8_t>(env, seen_v, napi_uint8_array, fn, "seen", "Uint8Array");
    if (seen.size != static_cast<size_t>(space) || !seen.owned.empty()) ThrowRange(env, std::string(fn) + ": seen must be a Uint8Array of base^(nodes − 2) = " + Num(space) + " flags (not shared)");
  }
  const size_t D = dims.length();
  nasrank::AgNetDecode decode;
  decode.dag = dag.data;
  decode.class_ops = ops.data;
  decode.base = static_cast<int>(base);
  decode.input = static_cast<int>(input);
  decode.output = static_cast<int>(output);
  std::vector<double> out(rows * D);
  auto length = Napi::Int32Array::New(env, rows);
  auto classes = Napi::Uint8Array::New(env, rows * M);
  auto edges = Napi::Uint8Array::New(env, rows * E);
  auto index = Napi::Int32Array::New(env, rows);
  auto fresh = Napi::Uint8Array::New(env, rows);
  try {
    nasrank::agnet_generate(dims, params.data, z.data, rows, const_cast<uint32_t*>(state.data), rule == "threshold", decode,
                            has_seen ? const_cast<uint8_t*>(seen.data) : nullptr, out.data(), length.Data(), classes.Data(), edges.Data(),
                            index.Data(), fresh.Data(), threads);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(fn) + ": " + e.what());
  }
  auto result = Napi::Object::New(env);
  result.Set("out", ToFloat64Array(env, out));
  result.Set("length", length);
  result.Set("classes", classes);
  result.Set("edges", edges);
  result.Set("index", index);
  result.Set("fresh", fresh);
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Guarded<Info>, "info", const_cast<char*>("info")));
  exports.Set("setThreads", Napi::Function::New(env, Guarded<SetThreads>, "setThreads", const_cast<char*>("setThreads")));
  exports.Set("setScratchLimit", Napi::Function::New(env, Guarded<SetScratchLimit>, "setScratchLimit", const_cast<char*>("setScratchLimit")));
  exports.Set("releaseScratch", Napi::Function::New(env, Guarded<ReleaseScratch>, "releaseScratch", const_cast<char*>("releaseScratch")));
  exports.Set("kendallTau", Napi::Function::New(env, Guarded<KendallTau>, "kendallTau", const_cast<char*>("kendallTau")));
  exports.Set("spearman", Napi::Function::New(env, Guarded<Spearman>, "spearman", const_cast<char*>("spearman")));
  exports.Set("pearson", Napi::Function::New(env, Guarded<Pearson>, "pearson", const_cast<char*>("pearson")));
  exports.Set("pairwiseRankLoss", Napi::Function::New(env, Guarded<PairwiseRankLoss>, "pairwiseRankLoss", const_cast<char*>("pairwiseRankLoss")));
  exports.Set("tripletRankLoss", Napi::Function::New(env, Guarded<TripletRankLoss>, "tripletRankLoss", const_cast<char*>("tripletRankLoss")));
  exports.Set("pairwiseLogLoss", Napi::Function::New(env, Guarded<PairwiseLogLoss>, "pairwiseLogLoss", const_cast<char*>("pairwiseLogLoss")));
  exports.Set("sampleEfficiencyGain", Napi::Function::New(env, Guarded<SampleEfficiencyGain>, "sampleEfficiencyGain", const_cast<char*>("sampleEfficiencyGain")));
  exports.Set("nb101Analyze", Napi::Function::New(env, Guarded<Nb101Analyze>, "nb101Analyze", const_cast<char*>("nb101Analyze")));
  exports.Set("nb101Enumerate", Napi::Function::New(env, Guarded<Nb101Enumerate>, "nb101Enumerate", const_cast<char*>("nb101Enumerate")));
  exports.Set("nb101HashCells", Napi::Function::New(env, Guarded<Nb101HashCells>, "nb101HashCells", const_cast<char*>("nb101HashCells")));
  exports.Set("nb101Cost", Napi::Function::New(env, Guarded<Nb101Cost>, "nb101Cost", const_cast<char*>("nb101Cost")));
  exports.Set("renasEncode", Napi::Function::New(env, Guarded<RenasEncode>, "renasEncode", const_cast<char*>("renasEncode")));
  exports.Set("renasOrder", Napi::Function::New(env, Guarded<RenasOrder>, "renasOrder", const_cast<char*>("renasOrder")));
  exports.Set("gcnScore", Napi::Function::New(env, Guarded<GcnScore>, "gcnScore", const_cast<char*>("gcnScore")));
  exports.Set("gcnGraphsHold", Napi::Function::New(env, Guarded<GcnGraphsHold>, "gcnGraphsHold", const_cast<char*>("gcnGraphsHold")));
  exports.Set("gcnEmbed", Napi::Function::New(env, Guarded<GcnEmbed>, "gcnEmbed", const_cast<char*>("gcnEmbed")));
  exports.Set("gcnTrain", Napi::Function::New(env, Guarded<GcnTrain>, "gcnTrain", const_cast<char*>("gcnTrain")));
  exports.Set("gcnScoreGrad", Napi::Function::New(env, Guarded<GcnScoreGrad>, "gcnScoreGrad", const_cast<char*>("gcnScoreGrad")));
  exports.Set("rankPairLoss", Napi::Function::New(env, Guarded<RankPairLoss>, "rankPairLoss", const_cast<char*>("rankPairLoss")));
  exports.Set("comparatorProbability", Napi::Function::New(env, Guarded<ComparatorProbability>, "comparatorProbability", const_cast<char*>("comparatorProbability")));
  exports.Set("controllerSample", Napi::Function::New(env, Guarded<ControllerSample>, "controllerSample", const_cast<char*>("controllerSample")));
  exports.Set("controllerBackward", Napi::Function::New(env, Guarded<ControllerBackward>, "controllerBackward", const_cast<char*>("controllerBackward")));
  exports.Set("controllerStep", Napi::Function::New(env, Guarded<ControllerStep>, "controllerStep", const_cast<char*>("controllerStep")));
  exports.Set("controllerSampleMany", Napi::Function::New(env, Guarded<ControllerSampleMany>, "controllerSampleMany", const_cast<char*>("controllerSampleMany")));
  exports.Set("nb101ControllerSample", Napi::Function::New(env, Guarded<Nb101ControllerSample>, "nb101ControllerSample", const_cast<char*>("nb101ControllerSample")));
  exports.Set("nb101ControllerBackward", Napi::Function::New(env, Guarded<Nb101ControllerBackward>, "nb101ControllerBackward", const_cast<char*>("nb101ControllerBackward")));
  exports.Set("nb101ControllerStep", Napi::Function::New(env, Guarded<Nb101ControllerStep>, "nb101ControllerStep", const_cast<char*>("nb101ControllerStep")));
  exports.Set("nb101ControllerSampleMany", Napi::Function::New(env, Guarded<Nb101ControllerSampleMany>, "nb101ControllerSampleMany", const_cast<char*>("nb101ControllerSampleMany")));
  exports.Set("comparatorRowMeans", Napi::Function::New(env, Guarded<ComparatorRowMeans>, "comparatorRowMeans", const_cast<char*>("comparatorRowMeans")));
  exports.Set("comparatorKendallCounts", Napi::Function::New(env, Guarded<ComparatorKendallCounts>, "comparatorKendallCounts", const_cast<char*>("comparatorKendallCounts")));
  exports.Set("crc32c", Napi::Function::New(env, Guarded<Crc32c>, "crc32c", const_cast<char*>("crc32c")));
  exports.Set("imageBatch", Napi::Function::New(env, Guarded<ImageBatch>, "imageBatch", const_cast<char*>("imageBatch")));
  exports.Set("nb101ParsePayload", Napi::Function::New(env, Guarded<Nb101ParsePayload>, "nb101ParsePayload", const_cast<char*>("nb101ParsePayload")));
  exports.Set("forestFit", Napi::Function::New(env, Guarded<ForestFit>, "forestFit", const_cast<char*>("forestFit")));
  exports.Set("forestPredict", Napi::Function::New(env, Guarded<ForestPredict>, "forestPredict", const_cast<char*>("forestPredict")));
  exports.Set("forestHold", Napi::Function::New(env, Guarded<ForestHold>, "forestHold", const_cast<char*>("forestHold")));
  exports.Set("agnetForward", Napi::Function::New(env, Guarded<AgNetForward>, "agnetForward", const_cast<char*>("agnetForward")));
  exports.Set("agnetTrainStep", Napi::Function::New(env, Guarded<AgNetTrainStep>, "agnetTrainStep", const_cast<char*>("agnetTrainStep")));
  exports.Set("agnetGenerate", Napi::Function::New(env, Guarded<AgNetGenerate>, "agnetGenerate", const_cast<char*>("agnetGenerate")));
  exports.Set("nb101Ingest", Napi::Function::New(env, Guarded<Nb101Ingest>, "nb101Ingest", const_cast<char*>("nb101Ingest")));
  return exports;
}

}  // namespace

NODE_API_MODULE(nasrank, Init)
