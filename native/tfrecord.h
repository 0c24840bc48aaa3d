// NAS-Bench-101 TFRecord files: CRC32C, the record payload parser and the streaming
// ingest into columns. Plain C++ (no N-API; addon.cc wraps it).
//
// TFRecord framing, per record:
//   uint64 length (little endian) | uint32 masked CRC32C(length bytes) |
//   payload (length bytes)        | uint32 masked CRC32C(payload)
// mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8.
// Each NAS-Bench-101 payload is UTF-8 JSON [module_hash, epochs, adjacency, operations,
// metrics], metrics = base64(protobuf ModelMetrics).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace nasrank {

// ---- CRC32C (crc32c.cc) --------------------------------------------------------------
// Castagnoli CRC, chained like zlib's crc32: crc32c(crc32c(0, a), b) == crc32c(0, a ++ b).
// crc32c() uses the SSE4.2 crc32 instruction when the CPU has it (checked at run time; the
// binary itself targets baseline x86-64), else slicing-by-8 tables.
uint32_t crc32c(uint32_t crc, const uint8_t* data, size_t n);
uint32_t crc32c_portable(uint32_t crc, const uint8_t* data, size_t n);
bool crc32c_hardware_available();
// Only valid when crc32c_hardware_available(); otherwise falls back to the tables.
uint32_t crc32c_hardware(uint32_t crc, const uint8_t* data, size_t n);
inline uint32_t crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

// ---- errors -------------------------------------------------------------------------
enum class ErrorKind {
  Io,            // cannot open / read the file
  Empty,         // the file has no bytes
  Framing,       // length CRC mismatch: not a TFRecord file, or corrupt framing
  Crc,           // payload CRC mismatch
  Truncated,     // the file ends inside a record
  TooLarge,      // a record longer than the limit
  Json,          // payload is not the expected JSON array
  Base64,        // metrics is not valid base64
  Protobuf,      // metrics is not a valid ModelMetrics protobuf
  Record,        // hash / epochs / adjacency / operations invalid
  Metric,        // a metric missing, non-finite or out of range
  Inconsistent,  // two records of one hash disagree on the cell
  Limit,         // too many epoch budgets or repeats
  Cancelled      // the progress callback asked to stop
};
const char* error_code(ErrorKind kind);  // "ERR_TFRECORD_CRC", ...

struct ParseError {
  ErrorKind kind = ErrorKind::Json;
  std::string message;
};

// ---- one NAS-Bench-101 record ---------------------------------------------------------
// nasrank op codes (the contract): 0 input, 1 conv1x1-bn-relu, 2 conv3x3-bn-relu,
// 3 maxpool3x3, 4 output; 255 beyond the cell's vertices.
constexpr int kNb101MaxVertices = 7;
constexpr int kNb101RunValues = 9;
// Per-run values, in this order (names as the nasbench API's data_point keys).
enum Nb101Value {
  kTotalTime = 0,
  kHalfwayTrainingTime,
  kHalfwayTrainAccuracy,
  kHalfwayValidationAccuracy,
  kHalfwayTestAccuracy,
  kFinalTrainingTime,
  kFinalTrainAccuracy,
  kFinalValidationAccuracy,
  kFinalTestAccuracy
};
extern const char* const kNb101ValueNames[kNb101RunValues];

struct Nb101Record {
  uint8_t hash[16];
  uint8_t vertices;
  // Upper-triangle bits of the 7x7 matrix: edge i->j (i<j) is bit i*7 - i*(i+1)/2 + (j-i-1).
  uint32_t adjacency;
  uint8_t ops[kNb101MaxVertices];
  uint32_t epochs;
  int32_t trainable_parameters;
  double values[kNb101RunValues];
};

// Bit index of edge i->j (i < j) in the packed adjacency.
constexpr int nb101_edge_bit(int i, int j) { return i * 7 - i * (i + 1) / 2 + (j - i - 1); }

// Strict parser of one payload; reuses its scratch buffers between calls.
class Nb101PayloadParser {
 public:
  // True on success; else *error describes what is wrong (positions are payload bytes).
  bool Parse(const uint8_t* data, size_t n, Nb101Record* out, ParseError* error);

 private:
  std::string scratch_[5];
  std::vector<uint8_t> proto_;
};

// ---- streaming ingest -------------------------------------------------------------------
struct IngestOptions {
  std::string path;
  bool lenient = false;             // skip (and count) bad records instead of failing
  size_t chunk_bytes = 8u << 20;    // read size; memory stays O(chunk + largest record)
  uint64_t max_record_bytes = 64u << 20;
  size_t max_reported = 100;        // bad records described in detail (all are counted)
  int threads = 1;                  // payloads parsed in parallel; results do not depend on it
};

struct IngestProgress {
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  uint64_t records = 0;  // accepted
  uint64_t skipped = 0;  // bad records / regions (lenient mode)
};

struct BadRecord {
  uint64_t offset;
  ErrorKind kind;
  std::string message;
};

// Thrown by ingest_nb101 (strict mode: the first bad record; any mode: I/O errors).
class IngestFailure : public std::runtime_error {
 public:
  IngestFailure(ErrorKind kind, bool has_offset, uint64_t offset, const std::string& message)
      : std::runtime_error(message), kind(kind), has_offset(has_offset), offset(offset) {}
  ErrorKind kind;
  bool has_offset;
  uint64_t offset;
};

// One (epochs, repeat) run slot: a column per value, NaN where a cell has no such run.
struct Nb101Slot {
  uint32_t epochs = 0;
  uint32_t repeat = 0;
  std::vector<double> values[kNb101RunValues];
};

// The whole file, one row per unique hash, rows sorted by hash (bytes ascending).
struct Nb101Ingest {
  size_t cells = 0;
  std::vector<uint8_t> hash;        // cells * 16
  std::vector<uint8_t> vertices;    // cells
  std::vector<uint32_t> adjacency;  // cells
  std::vector<uint8_t> ops;         // cells * 7
  std::vector<int32_t> trainable_parameters;
  std::vector<double> first_offset;  // byte offset of the first record of each cell
  std::vector<uint32_t> runs;        // records per cell
  std::vector<Nb101Slot> slots;      // sorted by (epochs, repeat)
  uint64_t file_bytes = 0;
  uint64_t records = 0;        // accepted records
  uint64_t skipped = 0;        // bad records or unreadable regions (lenient)
  uint64_t skipped_bytes = 0;  // bytes they covered
  std::vector<BadRecord> bad;  // the first max_reported of them
  bool hardware_crc = false;
};

// Reads the whole file. Throws IngestFailure. `progress` is called every few MB; return
// false from it to cancel (IngestFailure with ErrorKind::Cancelled).
void ingest_nb101(const IngestOptions& options, Nb101Ingest* out,
                  const std::function<bool(const IngestProgress&)>& progress);

}  // namespace nasrank
