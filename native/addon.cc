// The only file that knows N-API. Every exported function validates its arguments here
// (the TypeScript layer validates too, but the addon must be safe to call directly), then
// runs a plain C++ kernel either inline or, when the last argument is `true`, on the libuv
// thread pool, resolving a Promise.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels.h"
#include "parallel.h"
#include "scratch.h"

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
  out.Set("cpu", cpu);
  auto scratch = Napi::Object::New(env);
  scratch.Set("cachedBytes", static_cast<double>(nasrank::scratch_cached_bytes()));
  scratch.Set("limitBytes", static_cast<double>(nasrank::scratch_cache_limit()));
  out.Set("scratch", scratch);
  return out;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  double n = ReadFinite(info, 0, "setThreads", "threads");
  if (n < 1 || n > 1024 || std::floor(n) != n) ThrowRange(info.Env(), "setThreads: threads must be an integer in [1, 1024], got " + std::to_string(n));
  nasrank::set_thread_count(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value SetScratchLimit(const Napi::CallbackInfo& info) {
  double bytes = ReadFinite(info, 0, "setScratchLimit", "bytes");
  if (bytes < 0 || bytes > 9007199254740991.0 || std::floor(bytes) != bytes) {
    ThrowRange(info.Env(), "setScratchLimit: bytes must be a non-negative integer, got " + std::to_string(bytes));
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("setScratchLimit", Napi::Function::New(env, SetScratchLimit, "setScratchLimit"));
  exports.Set("releaseScratch", Napi::Function::New(env, ReleaseScratch, "releaseScratch"));
  exports.Set("kendallTau", Napi::Function::New(env, KendallTau, "kendallTau"));
  exports.Set("spearman", Napi::Function::New(env, Spearman, "spearman"));
  exports.Set("pearson", Napi::Function::New(env, Pearson, "pearson"));
  exports.Set("pairwiseRankLoss", Napi::Function::New(env, PairwiseRankLoss, "pairwiseRankLoss"));
  exports.Set("tripletRankLoss", Napi::Function::New(env, TripletRankLoss, "tripletRankLoss"));
  exports.Set("pairwiseLogLoss", Napi::Function::New(env, PairwiseLogLoss, "pairwiseLogLoss"));
  exports.Set("sampleEfficiencyGain", Napi::Function::New(env, SampleEfficiencyGain, "sampleEfficiencyGain"));
  return exports;
}

}  // namespace

NODE_API_MODULE(nasrank, Init)
