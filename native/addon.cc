// The only file that knows N-API. Every exported function validates its arguments here
// (the TypeScript layer validates too, but the addon must be safe to call directly), then
// runs a plain C++ kernel either inline or, when the last argument is `true`, on the libuv
// thread pool, resolving a Promise.
#include <napi.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels.h"
#include "parallel.h"
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

// A read-only view of a Float64Array argument, or an owned copy when the work runs
// asynchronously (the caller may mutate or drop its array meanwhile).
struct Vec {
  const double* data = nullptr;
  size_t size = 0;
  std::vector<double> owned;
  void Own() {
    owned.assign(data, data + size);
    data = owned.data();
  }
};

Vec ReadVec(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  Napi::Env env = info.Env();
  if (index >= info.Length() || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    ThrowType(env, std::string(fn) + ": " + name + " must be a Float64Array");
  }
  auto arr = info[index].As<Napi::Float64Array>();
  Vec v;
  v.data = arr.Data();
  v.size = arr.ElementLength();
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
  if (!std::isfinite(v)) ThrowRange(info.Env(), std::string(fn) + ": " + name + " must be finite, got " + std::to_string(v));
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

// ---- jobs: kernel work separated from argument parsing and result building ----------

struct Job {
  virtual ~Job() = default;
  virtual void Execute() = 0;                      // no N-API calls: may run off-thread
  virtual Napi::Value Result(Napi::Env env) = 0;   // on the main thread
};

class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, std::unique_ptr<Job> job)
      : Napi::AsyncWorker(env, "nasrank"), job_(std::move(job)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      job_->Execute();
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(job_->Result(Env())); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::unique_ptr<Job> job_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value Run(Napi::Env env, std::unique_ptr<Job> job, bool async) {
  if (!async) {
    try {
      job->Execute();
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    return job->Result(env);
  }
  auto* worker = new JobWorker(env, std::move(job));  // deleted by N-API after OnOK/OnError
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// ---- info ----------------------------------------------------------------------------

bool CpuHas(const char* feature) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (std::strcmp(feature, "avx2") == 0) return __builtin_cpu_supports("avx2");
  if (std::strcmp(feature, "avx512f") == 0) return __builtin_cpu_supports("avx512f");
  if (std::strcmp(feature, "sse4.2") == 0) return __builtin_cpu_supports("sse4.2");
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
  cpu.Set("avx512f", CpuHas("avx512f"));
  cpu.Set("sse42", CpuHas("sse4.2"));
  out.Set("cpu", cpu);
  return out;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  double n = ReadFinite(info, 0, "setThreads", "threads");
  if (n < 1 || n > 1024 || std::floor(n) != n) ThrowRange(info.Env(), "setThreads: threads must be an integer in [1, 1024], got " + std::to_string(n));
  nasrank::set_thread_count(static_cast<int>(n));
  return info.Env().Undefined();
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
  std::vector<double> grad;
  void Execute() override {
    size_t n = target.size;
    grad.assign(values.size, 0.0);
    if (triplet) {
      switch (algorithm) {
        case Algorithm::Fast: sums = nasrank::triplet_rank_loss(values.data, target.data, n, phi, margin, grad.data(), threads); break;
        case Algorithm::Brute: sums = nasrank::triplet_rank_loss_brute(values.data, target.data, n, phi, margin, grad.data(), threads); break;
        case Algorithm::Cuda: sums = nasrank::cuda_triplet_rank_loss(values.data, target.data, n, phi, margin, grad.data()); break;
      }
    } else {
      switch (algorithm) {
        case Algorithm::Fast: sums = nasrank::pairwise_rank_loss(values.data, target.data, n, phi, margin, grad.data(), threads); break;
        case Algorithm::Brute: sums = nasrank::pairwise_rank_loss_brute(values.data, target.data, n, phi, margin, grad.data(), threads); break;
        case Algorithm::Cuda: sums = nasrank::cuda_pairwise_rank_loss(values.data, target.data, n, phi, margin, grad.data()); break;
      }
    }
    // 'mean' averages over the comparable terms; with none, the loss is 0, not NaN.
    if (mean) {
      double scale = sums.comparable == 0 ? 0.0 : 1.0 / static_cast<double>(sums.comparable);
      sums.loss = sums.comparable == 0 ? 0.0 : sums.loss / static_cast<double>(sums.comparable);
      for (double& g : grad) g *= scale;
    }
  }
  Napi::Value Result(Napi::Env env) override {
    auto out = Napi::Object::New(env);
    out.Set("loss", sums.loss);
    out.Set("grad", ToFloat64Array(env, grad));
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
    if (y < 0 || y > 1) ThrowRange(env, std::string(fn) + ": label[" + std::to_string(k) + "] is " + std::to_string(y) + "; labels must lie in [0, 1]");
  }
  job->mean = ReadMean(info, 3, fn);
  bool async = ReadAsync(info, 4, fn);
  if (async) {
    job->a.Own();
    job->b.Own();
    job->label.Own();
  }
  return Run(env, std::move(job), async);
}

// ---- sample-efficiency gain ------------------------------------------------------------

struct GainJob : Job {
  Vec space, candidates, targets, subset;
  bool has_subset = false;
  bool higher_is_better = false;
  std::vector<double> m_space, m_cand, m_subset;
  void Execute() override {
    size_t t = targets.size;
    m_space.assign(t, 0);
    m_cand.assign(t, 0);
    nasrank::count_reaching(space.data, space.size, targets.data, t, higher_is_better, m_space.data());
    nasrank::count_reaching(candidates.data, candidates.size, targets.data, t, higher_is_better, m_cand.data());
    if (has_subset) {
      m_subset.assign(t, 0);
      nasrank::count_reaching(subset.data, subset.size, targets.data, t, higher_is_better, m_subset.data());
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

void RequireSubMultiset(Napi::Env env, const char* fn, const char* sub_name, const Vec& sub, const char* super_name, const Vec& super) {
  size_t missing = 0;
  if (!nasrank::is_sub_multiset(sub.data, sub.size, super.data, super.size, &missing)) {
    ThrowRange(env, std::string(fn) + ": " + sub_name + "[" + std::to_string(missing) + "] = " + std::to_string(sub.data[missing]) +
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
  if (job->has_subset) {
    job->subset = ReadVec(info, 3, fn, "subset");
    RequireSubMultiset(env, fn, "subset", job->subset, "space", job->space);
    RequireSubMultiset(env, fn, "candidates", job->candidates, "subset", job->subset);
  } else {
    RequireSubMultiset(env, fn, "candidates", job->candidates, "space", job->space);
  }
  job->higher_is_better = ReadBool(info, 4, fn, "higherIsBetter");
  bool async = ReadAsync(info, 5, fn);
  if (async) {
    job->space.Own();
    job->candidates.Own();
    job->targets.Own();
    if (job->has_subset) job->subset.Own();
  }
  return Run(env, std::move(job), async);
}

// ---- TFRecord / NAS-Bench-101 ------------------------------------------------------------

// A Uint8Array argument (Buffer included), borrowed for a synchronous call.
struct Bytes {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

Bytes ReadBytes(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  if (index >= info.Length() || !info[index].IsTypedArray() || info[index].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(info.Env(), std::string(fn) + ": " + name + " must be a Uint8Array or Buffer");
  }
  auto arr = info[index].As<Napi::Uint8Array>();
  return Bytes{arr.Data(), arr.ElementLength()};
}

// (data, crc, impl): impl 'auto' (SSE4.2 when present), 'portable' (tables) or 'hardware'.
Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  const char* fn = "crc32c";
  Bytes b = ReadBytes(info, 0, fn, "data");
  double init = 0;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    init = ReadFinite(info, 1, fn, "crc");
    if (init < 0 || init > 4294967295.0 || std::floor(init) != init) ThrowRange(info.Env(), std::string(fn) + ": crc must be an integer in [0, 2^32), got " + std::to_string(init));
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
      progress_error_ = Napi::Reference<Napi::Value>::New(e.Value(), 1);
    }
  }

  void OnOK() override {
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
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
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
  if (chunk < 64 || chunk > (1u << 30) || std::floor(chunk) != chunk) ThrowRange(env, std::string(fn) + ": chunkBytes must be an integer in [64, 2^30], got " + std::to_string(chunk));
  options.chunk_bytes = static_cast<size_t>(chunk);
  double max_record = ReadFinite(info, 3, fn, "maxRecordBytes");
  if (max_record < 1 || max_record > 4294967296.0 || std::floor(max_record) != max_record) {
    ThrowRange(env, std::string(fn) + ": maxRecordBytes must be an integer in [1, 2^32], got " + std::to_string(max_record));
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("kendallTau", Napi::Function::New(env, KendallTau, "kendallTau"));
  exports.Set("spearman", Napi::Function::New(env, Spearman, "spearman"));
  exports.Set("pearson", Napi::Function::New(env, Pearson, "pearson"));
  exports.Set("pairwiseRankLoss", Napi::Function::New(env, PairwiseRankLoss, "pairwiseRankLoss"));
  exports.Set("tripletRankLoss", Napi::Function::New(env, TripletRankLoss, "tripletRankLoss"));
  exports.Set("pairwiseLogLoss", Napi::Function::New(env, PairwiseLogLoss, "pairwiseLogLoss"));
  exports.Set("sampleEfficiencyGain", Napi::Function::New(env, SampleEfficiencyGain, "sampleEfficiencyGain"));
  exports.Set("crc32c", Napi::Function::New(env, Crc32c, "crc32c"));
  exports.Set("nb101ParsePayload", Napi::Function::New(env, Nb101ParsePayload, "nb101ParsePayload"));
  exports.Set("nb101Ingest", Napi::Function::New(env, Nb101Ingest, "nb101Ingest"));
  return exports;
}

}  // namespace

NODE_API_MODULE(nasrank, Init)
