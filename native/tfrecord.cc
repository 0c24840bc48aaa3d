// NAS-Bench-101 TFRecord reader: a strict parser for the fixed payload shape
// (JSON [string, int, string, string, string], base64, protobuf ModelMetrics), all reads
// bounds-checked, and a streaming ingest that reads the file in chunks (memory O(chunk +
// largest record) for the input) and pivots records into one row per unique hash.
#include "tfrecord.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string_view>
#include <filesystem>
#include <system_error>

#include "parallel.h"

#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#define NASRANK_JSON_SSE2 1
#include <emmintrin.h>
#endif

namespace nasrank {

const char* const kNb101ValueNames[kNb101RunValues] = {
    "total_time",
    "halfway_training_time",
    "halfway_train_accuracy",
    "halfway_validation_accuracy",
    "halfway_test_accuracy",
    "final_training_time",
    "final_train_accuracy",
    "final_validation_accuracy",
    "final_test_accuracy"};

const char* error_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Io: return "ERR_TFRECORD_IO";
    case ErrorKind::Empty: return "ERR_TFRECORD_EMPTY";
    case ErrorKind::Framing: return "ERR_TFRECORD_FRAMING";
    case ErrorKind::Crc: return "ERR_TFRECORD_CRC";
    case ErrorKind::Truncated: return "ERR_TFRECORD_TRUNCATED";
    case ErrorKind::TooLarge: return "ERR_TFRECORD_TOO_LARGE";
    case ErrorKind::Json: return "ERR_NB101_JSON";
    case ErrorKind::Base64: return "ERR_NB101_BASE64";
    case ErrorKind::Protobuf: return "ERR_NB101_PROTOBUF";
    case ErrorKind::Record: return "ERR_NB101_RECORD";
    case ErrorKind::Metric: return "ERR_NB101_METRIC";
    case ErrorKind::Inconsistent: return "ERR_NB101_INCONSISTENT";
    case ErrorKind::Limit: return "ERR_NB101_LIMIT";
    case ErrorKind::Cancelled: return "ERR_CANCELLED";
  }
  return "ERR_UNKNOWN";
}

namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string num(uint64_t v) { return std::to_string(v); }

// How a byte reads in a message: 'x' for printable ASCII, else 0xNN.
std::string show_byte(uint8_t c) {
  if (c >= 0x20 && c < 0x7F) {
    if (c == '\'') return "\"'\"";
    return std::string("'") + static_cast<char>(c) + "'";
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

std::string show_double(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

bool fail(ParseError* e, ErrorKind kind, std::string message) {
  e->kind = kind;
  e->message = std::move(message);
  return false;
}

// ---- JSON ---------------------------------------------------------------------------

struct Json {
  const uint8_t* p;
  size_t n;
  size_t i = 0;

  void ws() {
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) ++i;
  }
  std::string found() const { return i < n ? show_byte(p[i]) : std::string("the end of the payload"); }
  std::string at() const { return " at payload byte " + num(i); }

  bool expect(char c, const char* what, ParseError* e) {
    ws();
    if (i < n && p[i] == static_cast<uint8_t>(c)) {
      ++i;
      return true;
    }
    return fail(e, ErrorKind::Json, std::string("JSON: expected ") + what + at() + ", found " + found() +
                                        " (payload must be [module_hash, epochs, adjacency, operations, metrics])");
  }

  static int hexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool hex4(uint32_t* v, ParseError* e) {
    if (i + 4 > n) return fail(e, ErrorKind::Json, "JSON: truncated \\u escape" + at());
    uint32_t x = 0;
    for (int k = 0; k < 4; ++k) {
      int h = hexval(p[i + k]);
      if (h < 0) return fail(e, ErrorKind::Json, "JSON: invalid \\u escape" + at());
      x = x * 16 + static_cast<uint32_t>(h);
    }
    i += 4;
    *v = x;
    return true;
  }

  static void put_utf8(std::string* out, uint32_t cp) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // A JSON string; *out views the payload when it has no escapes, else scratch.
  bool string(const char* name, std::string_view* out, std::string* scratch, ParseError* e) {
    ws();
    if (i >= n || p[i] != '"') {
      return fail(e, ErrorKind::Json, std::string("JSON: expected a string (") + name + ")" + at() + ", found " + found() +
                                          " (payload must be [module_hash, epochs, adjacency, operations, metrics])");
    }
    size_t start = ++i;
#ifdef NASRANK_JSON_SSE2
    // 16 bytes at a time: stop at '"', '\\' or a control character (baseline x86-64 has SSE2).
    {
      const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1F);
      while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
        hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));  // v <= 0x1F (unsigned)
        int bits = _mm_movemask_epi8(hit);
        if (bits) {
          i += static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(bits)));
          break;
        }
        i += 16;
      }
    }
#endif
    while (i < n && p[i] != '"' && p[i] != '\\' && p[i] >= 0x20) ++i;
    if (i < n && p[i] == '"') {
      *out = std::string_view(reinterpret_cast<const char*>(p + start), i - start);
      ++i;
      return true;
    }
    scratch->assign(reinterpret_cast<const char*>(p + start), i - start);
    for (;;) {
      if (i >= n) return fail(e, ErrorKind::Json, std::string("JSON: unterminated string (") + name + ") starting at payload byte " + num(start - 1));
      uint8_t c = p[i];
      if (c == '"') {
        ++i;
        break;
      }
      if (c < 0x20) return fail(e, ErrorKind::Json, std::string("JSON: unescaped control character ") + show_byte(c) + " in a string (" + name + ")" + at());
      if (c != '\\') {
        scratch->push_back(static_cast<char>(c));
        ++i;
        continue;
      }
      if (++i >= n) return fail(e, ErrorKind::Json, std::string("JSON: unterminated string (") + name + ")" + at());
      uint8_t esc = p[i++];
      switch (esc) {
        case '"': scratch->push_back('"'); break;
        case '\\': scratch->push_back('\\'); break;
        case '/': scratch->push_back('/'); break;
        case 'b': scratch->push_back('\b'); break;
        case 'f': scratch->push_back('\f'); break;
        case 'n': scratch->push_back('\n'); break;
        case 'r': scratch->push_back('\r'); break;
        case 't': scratch->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!hex4(&cp, e)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t lo;
            if (i + 2 > n || p[i] != '\\' || p[i + 1] != 'u') return fail(e, ErrorKind::Json, "JSON: unpaired surrogate in a \\u escape" + at());
            i += 2;
            if (!hex4(&lo, e)) return false;
            if (lo < 0xDC00 || lo >= 0xE000) return fail(e, ErrorKind::Json, "JSON: unpaired surrogate in a \\u escape" + at());
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return fail(e, ErrorKind::Json, "JSON: unpaired surrogate in a \\u escape" + at());
          }
          put_utf8(scratch, cp);
          break;
        }
        default:
          --i;
          return fail(e, ErrorKind::Json, std::string("JSON: invalid escape \\") + static_cast<char>(esc >= 0x20 && esc < 0x7F ? esc : '?') + " in a string (" + name + ")" + at());
      }
    }
    *out = std::string_view(*scratch);
    return true;
  }

  // A JSON integer literal (no fraction, no exponent), 0 <= value <= limit.
  bool integer(const char* name, uint64_t limit, uint64_t* out, ParseError* e) {
    ws();
    size_t start = i;
    if (i < n && p[i] == '-') return fail(e, ErrorKind::Record, std::string(name) + " must be a positive integer, got a negative number" + at());
    if (i >= n || p[i] < '0' || p[i] > '9') {
      return fail(e, ErrorKind::Json, std::string("JSON: expected an integer (") + name + ")" + at() + ", found " + found() +
                                          " (payload must be [module_hash, epochs, adjacency, operations, metrics])");
    }
    if (p[i] == '0' && i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '9') return fail(e, ErrorKind::Json, std::string("JSON: number with a leading zero (") + name + ")" + at());
    uint64_t v = 0;
    bool overflow = false;
    while (i < n && p[i] >= '0' && p[i] <= '9') {
      if (v > (UINT64_MAX - 9) / 10) overflow = true;
      else v = v * 10 + (p[i] - '0');
      ++i;
    }
    if (i < n && (p[i] == '.' || p[i] == 'e' || p[i] == 'E')) {
      return fail(e, ErrorKind::Record, std::string(name) + " must be an integer literal, found " + show_byte(p[i]) + " at payload byte " + num(i));
    }
    if (overflow || v > limit) {
      return fail(e, ErrorKind::Record, std::string(name) + " " + std::string(reinterpret_cast<const char*>(p + start), std::min<size_t>(i - start, 24)) +
                                            " is out of range (at most " + num(limit) + ")");
    }
    *out = v;
    return true;
  }
};

// ---- base64 ---------------------------------------------------------------------------

struct Base64Table {
  uint8_t v[256];
  Base64Table() {
    std::memset(v, 0xFF, sizeof v);
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int k = 0; k < 64; ++k) v[static_cast<uint8_t>(a[k])] = static_cast<uint8_t>(k);
  }
};

const Base64Table& b64() {
  static const Base64Table t;
  return t;
}

// Standard alphabet with '=' padding, length a multiple of 4 (what Python's b64encode writes).
bool base64_decode(std::string_view s, std::vector<uint8_t>* out, ParseError* e) {
  const uint8_t* v = b64().v;
  size_t n = s.size();
  if (n % 4 != 0) return fail(e, ErrorKind::Base64, "metrics is not valid base64: its length " + num(n) + " is not a multiple of 4");
  size_t pad = 0;
  if (n >= 1 && s[n - 1] == '=') pad = (n >= 2 && s[n - 2] == '=') ? 2 : 1;
  out->resize(n / 4 * 3 - pad);
  uint8_t* o = out->data();
  const uint8_t* in = reinterpret_cast<const uint8_t*>(s.data());
  size_t full = pad ? n - 4 : n;
  for (size_t k = 0; k < full; k += 4) {
    uint32_t a = v[in[k]], b = v[in[k + 1]], c = v[in[k + 2]], d = v[in[k + 3]];
    if ((a | b | c | d) & 0x80) {
      for (size_t q = k; q < k + 4; ++q) {
        if (v[in[q]] == 0xFF) return fail(e, ErrorKind::Base64, "metrics is not valid base64: character " + show_byte(in[q]) + " at position " + num(q));
      }
    }
    uint32_t x = (a << 18) | (b << 12) | (c << 6) | d;
    *o++ = static_cast<uint8_t>(x >> 16);
    *o++ = static_cast<uint8_t>(x >> 8);
    *o++ = static_cast<uint8_t>(x);
  }
  if (pad) {
    size_t k = n - 4;
    size_t data_chars = 4 - pad;
    uint32_t x = 0;
    for (size_t q = 0; q < 4; ++q) {
      uint8_t c = in[k + q];
      if (q < data_chars) {
        if (v[c] == 0xFF) return fail(e, ErrorKind::Base64, "metrics is not valid base64: character " + show_byte(c) + " at position " + num(k + q));
        x |= static_cast<uint32_t>(v[c]) << (18 - 6 * q);
      } else if (c != '=') {
        return fail(e, ErrorKind::Base64, "metrics is not valid base64: character " + show_byte(c) + " at position " + num(k + q));
      }
    }
    *o++ = static_cast<uint8_t>(x >> 16);
    if (pad == 1) *o++ = static_cast<uint8_t>(x >> 8);
  }
  return true;
}

// ---- protobuf ---------------------------------------------------------------------------

const char* wire_name(uint32_t w) {
  switch (w) {
    case 0: return "0 (varint)";
    case 1: return "1 (64-bit)";
    case 2: return "2 (length-delimited)";
    case 3: return "3 (start group)";
    case 4: return "4 (end group)";
    case 5: return "5 (32-bit)";
    default: return "invalid";
  }
}

struct Proto {
  const uint8_t* base;  // start of the whole ModelMetrics message (positions are relative)
  const uint8_t* p;
  const uint8_t* end;

  std::string at(const uint8_t* q) const { return " at metrics byte " + num(static_cast<size_t>(q - base)); }

  bool varint(uint64_t* v, ParseError* e) {
    const uint8_t* start = p;
    uint64_t x = 0;
    for (int k = 0; k < 10; ++k) {
      if (p >= end) return fail(e, ErrorKind::Protobuf, "protobuf: truncated varint" + at(start));
      uint8_t b = *p++;
      x |= static_cast<uint64_t>(b & 0x7F) << (7 * k);
      if (!(b & 0x80)) {
        if (k == 9 && b > 1) return fail(e, ErrorKind::Protobuf, "protobuf: varint overflows 64 bits" + at(start));
        *v = x;
        return true;
      }
    }
    return fail(e, ErrorKind::Protobuf, "protobuf: varint longer than 10 bytes" + at(start));
  }

  bool tag(uint32_t* field, uint32_t* wire, ParseError* e) {
    const uint8_t* start = p;
    uint64_t t;
    if (!varint(&t, e)) return false;
    *wire = static_cast<uint32_t>(t & 7);
    uint64_t f = t >> 3;
    if (f == 0 || f > 0x1FFFFFFF) return fail(e, ErrorKind::Protobuf, "protobuf: invalid field number " + num(f) + at(start));
    if (*wire > 5) return fail(e, ErrorKind::Protobuf, "protobuf: invalid wire type " + num(*wire) + " for field " + num(f) + at(start));
    *field = static_cast<uint32_t>(f);
    return true;
  }

  bool fixed64(double* v, ParseError* e) {
    if (end - p < 8) return fail(e, ErrorKind::Protobuf, "protobuf: truncated 64-bit value" + at(p));
    uint64_t bits = 0;
    for (int k = 7; k >= 0; --k) bits = (bits << 8) | p[k];
    std::memcpy(v, &bits, 8);
    p += 8;
    return true;
  }

  bool length(uint64_t* len, ParseError* e) {
    const uint8_t* start = p;
    if (!varint(len, e)) return false;
    if (*len > static_cast<uint64_t>(end - p)) {
      return fail(e, ErrorKind::Protobuf, "protobuf: length " + num(*len) + at(start) + " runs past the end of its message (" +
                                              num(static_cast<size_t>(end - p)) + " bytes left)");
    }
    return true;
  }

  // Skips the value of an unknown field (groups included, nested up to 32 deep).
  bool skip(uint32_t field, uint32_t wire, int depth, ParseError* e) {
    const uint8_t* start = p;
    switch (wire) {
      case 0: {
        uint64_t v;
        return varint(&v, e);
      }
      case 1:
        if (end - p < 8) return fail(e, ErrorKind::Protobuf, "protobuf: truncated 64-bit value" + at(start));
        p += 8;
        return true;
      case 5:
        if (end - p < 4) return fail(e, ErrorKind::Protobuf, "protobuf: truncated 32-bit value" + at(start));
        p += 4;
        return true;
      case 2: {
        uint64_t len;
        if (!length(&len, e)) return false;
        p += len;
        return true;
      }
      case 3: {
        if (depth >= 32) return fail(e, ErrorKind::Protobuf, "protobuf: groups nested too deeply" + at(start));
        for (;;) {
          if (p >= end) return fail(e, ErrorKind::Protobuf, "protobuf: unterminated group (field " + num(field) + ")" + at(start));
          uint32_t f, w;
          if (!tag(&f, &w, e)) return false;
          if (w == 4) {
            if (f != field) return fail(e, ErrorKind::Protobuf, "protobuf: end group for field " + num(f) + " closes group " + num(field) + at(p));
            return true;
          }
          if (!skip(f, w, depth + 1, e)) return false;
        }
      }
      case 4:
        return fail(e, ErrorKind::Protobuf, "protobuf: unexpected end group (field " + num(field) + ")" + at(start));
      default:
        return fail(e, ErrorKind::Protobuf, "protobuf: invalid wire type " + num(wire) + at(start));
    }
  }
};

inline int ctz64(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_ctzll(x);
#else
  int n = 0;
  while (!(x & 1)) { x >>= 1; ++n; }
  return n;
#endif
}

// Per V: the digit positions on or below the diagonal, and the packed bit of each position.
struct AdjacencyTables {
  uint64_t lower[8] = {};
  uint8_t bit[8][49] = {};
  AdjacencyTables() {
    for (int V = 2; V <= 7; ++V) {
      for (int i = 0; i < V; ++i) {
        for (int j = 0; j < V; ++j) {
          int k = i * V + j;
          if (j <= i) lower[V] |= uint64_t(1) << k;
          else bit[V][k] = static_cast<uint8_t>(nb101_edge_bit(i, j));
        }
      }
    }
  }
};

const AdjacencyTables& adjacency_tables() {
  static const AdjacencyTables tables;
  return tables;
}

const char* const kEvalFieldNames[7] = {"", "current_epoch", "training_time", "train_accuracy", "validation_accuracy", "test_accuracy", "checkpoint_path"};
const char* const kEvalNames[3] = {"start", "halfway", "final"};

struct Evaluation {
  double v[6];  // index = field number (1..5); read only where has[] is set
  bool has[6];
};

bool wrong_wire(ParseError* e, const Proto& pb, const uint8_t* at, const char* message, uint32_t field, const char* name, uint32_t wire,
                const char* expected) {
  return fail(e, ErrorKind::Protobuf, std::string("protobuf: ") + message + " field " + num(field) + " (" + name + ") has wire type " +
                                          wire_name(wire) + ", expected " + expected + pb.at(at));
}

bool parse_evaluation(Proto pb, size_t index, Evaluation* out, ParseError* e) {
  std::memset(out->has, 0, sizeof out->has);
  while (pb.p < pb.end) {
    const uint8_t* start = pb.p;
    uint32_t field, wire;
    if (!pb.tag(&field, &wire, e)) return false;
    if (field >= 1 && field <= 5) {
      if (wire != 1) return wrong_wire(e, pb, start, "EvaluationData", field, kEvalFieldNames[field], wire, "1 (64-bit double)");
      double v;
      if (!pb.fixed64(&v, e)) return false;
      if (!std::isfinite(v)) {
        return fail(e, ErrorKind::Metric, std::string("non-finite ") + kEvalFieldNames[field] + " (" + show_double(v) + ") in evaluation " + num(index) +
                                              (index < 3 ? std::string(" (") + kEvalNames[index] + ")" : std::string()));
      }
      out->v[field] = v;
      out->has[field] = true;
    } else if (field == 6) {
      if (wire != 2) return wrong_wire(e, pb, start, "EvaluationData", field, "checkpoint_path", wire, "2 (length-delimited)");
      uint64_t len;
      if (!pb.length(&len, e)) return false;
      pb.p += len;
    } else if (wire == 4) {
      return fail(e, ErrorKind::Protobuf, "protobuf: unexpected end group (field " + num(field) + ")" + pb.at(start));
    } else if (!pb.skip(field, wire, 0, e)) {
      return false;
    }
  }
  return true;
}

// Equality of n >= 4 bytes by (overlapping) word loads: no library call per label.
inline bool same_bytes(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    uint64_t x0, y0, x1, y1;
    std::memcpy(&x0, a, 8);
    std::memcpy(&y0, b, 8);
    std::memcpy(&x1, a + n - 8, 8);
    std::memcpy(&y1, b + n - 8, 8);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  uint32_t x0, y0, x1, y1;
  std::memcpy(&x0, a, 4);
  std::memcpy(&y0, b, 4);
  std::memcpy(&x1, a + n - 4, 4);
  std::memcpy(&y1, b + n - 4, 4);
  return ((x0 ^ y0) | (x1 ^ y1)) == 0;
}

std::string show_text(std::string_view s) {
  std::string out = "'";
  for (size_t k = 0; k < s.size() && k < 40; ++k) {
    unsigned char c = static_cast<unsigned char>(s[k]);
    if (c >= 0x20 && c < 0x7F) out.push_back(static_cast<char>(c));
    else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > 40) out += "...";
  return out + "'";
}

}  // namespace

bool Nb101PayloadParser::Parse(const uint8_t* data, size_t n, Nb101Record* rec, ParseError* e) {
  Json js{data, n};
  std::string_view hash, adjacency, operations, metrics;
  uint64_t epochs = 0;
  if (!js.expect('[', "'['", e)) return false;
  if (!js.string("module_hash", &hash, &scratch_[0], e)) return false;
  if (!js.expect(',', "',' after module_hash", e)) return false;
  if (!js.integer("epochs", 1000000, &epochs, e)) return false;
  if (!js.expect(',', "',' after epochs", e)) return false;
  if (!js.string("adjacency", &adjacency, &scratch_[2], e)) return false;
  if (!js.expect(',', "',' after adjacency", e)) return false;
  if (!js.string("operations", &operations, &scratch_[3], e)) return false;
  if (!js.expect(',', "',' after operations", e)) return false;
  if (!js.string("metrics", &metrics, &scratch_[4], e)) return false;
  if (!js.expect(']', "']' (the array has exactly 5 elements)", e)) return false;
  js.ws();
  if (js.i != n) return fail(e, ErrorKind::Json, "JSON: unexpected " + js.found() + " after the array" + js.at());

  // module_hash: 32 hex digits -> 16 bytes.
  if (hash.size() != 32) return fail(e, ErrorKind::Record, "module_hash " + show_text(hash) + " has " + num(hash.size()) + " characters; expected 32 hex digits");
  for (size_t k = 0; k < 16; ++k) {
    int hi = Json::hexval(static_cast<uint8_t>(hash[2 * k])), lo = Json::hexval(static_cast<uint8_t>(hash[2 * k + 1]));
    if (hi < 0 || lo < 0) return fail(e, ErrorKind::Record, "module_hash " + show_text(hash) + " is not hexadecimal");
    rec->hash[k] = static_cast<uint8_t>(hi * 16 + lo);
  }
  if (epochs < 1) return fail(e, ErrorKind::Record, "epochs must be at least 1, got 0");
  rec->epochs = static_cast<uint32_t>(epochs);

  // adjacency: V*V digits, row-major, strictly upper-triangular.
  int V = 0;
  for (int v = 2; v <= kNb101MaxVertices; ++v) {
    if (adjacency.size() == static_cast<size_t>(v * v)) V = v;
  }
  if (V == 0) {
    return fail(e, ErrorKind::Record, "adjacency has " + num(adjacency.size()) + " digits; expected V*V digits for V in 2..7 (4, 9, 16, 25, 36 or 49)");
  }
  uint32_t bits = 0;
  const char* digits = adjacency.data();
  {
    // Masks over the V*V digit positions: which are '1', which are not a digit 0/1.
    const AdjacencyTables& T = adjacency_tables();
    const size_t L = adjacency.size();
    uint64_t ones = 0, bad = 0;
#ifdef NASRANK_JSON_SSE2
    alignas(16) char buf[64] = {};
    std::memcpy(buf, digits, L);
    const __m128i zero = _mm_set1_epi8('0'), one = _mm_set1_epi8('1');
    for (size_t off = 0; off < L; off += 16) {
      __m128i v = _mm_load_si128(reinterpret_cast<const __m128i*>(buf + off));
      uint64_t is1 = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, one)));
      uint64_t is0 = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)));
      ones |= is1 << off;
      bad |= (~(is0 | is1) & 0xFFFFu) << off;
    }
#else
    for (size_t k = 0; k < L; ++k) {
      if (digits[k] == '1') ones |= uint64_t(1) << k;
      else if (digits[k] != '0') bad |= uint64_t(1) << k;
    }
#endif
    const uint64_t valid = L == 64 ? ~uint64_t(0) : (uint64_t(1) << L) - 1;
    ones &= valid;
    bad &= valid;
    if (bad) {
      size_t k = static_cast<size_t>(ctz64(bad));
      return fail(e, ErrorKind::Record, "adjacency digit " + num(k) + " is " + show_byte(static_cast<uint8_t>(digits[k])) + "; expected 0 or 1");
    }
    if (uint64_t low = ones & T.lower[V]) {
      size_t k = static_cast<size_t>(ctz64(low));
      return fail(e, ErrorKind::Record, "adjacency has an edge " + num(k / V) + "->" + num(k % V) +
                                            " on or below the diagonal; the matrix must be strictly upper-triangular");
    }
    for (uint64_t m = ones; m; m &= m - 1) bits |= 1u << T.bit[V][ctz64(m)];
  }
  rec->vertices = static_cast<uint8_t>(V);
  rec->adjacency = bits;

  // operations: V comma-separated labels, input first, output last.
  std::memset(rec->ops, 255, sizeof rec->ops);
  size_t count = 0;
  {
    // Each label is recognised from its first letter and checked whole, so the text is not
    // scanned for commas byte by byte; anything else falls back to splitting at the comma.
    const char* d = operations.data();
    const size_t L = operations.size();
    size_t k = 0;
    for (;;) {
      int code = -1;
      size_t len = 0;
      if (k < L) {
        switch (d[k]) {
          case 'i': len = 5; code = L - k >= 5 && same_bytes(d + k, "input", 5) ? 0 : -1; break;
          case 'o': len = 6; code = L - k >= 6 && same_bytes(d + k, "output", 6) ? 4 : -1; break;
          case 'm': len = 10; code = L - k >= 10 && same_bytes(d + k, "maxpool3x3", 10) ? 3 : -1; break;
          case 'c':
            len = 15;
            if (L - k >= 15) code = same_bytes(d + k, "conv1x1-bn-relu", 15) ? 1 : same_bytes(d + k, "conv3x3-bn-relu", 15) ? 2 : -1;
            break;
          default: break;
        }
        if (code >= 0 && k + len < L && d[k + len] != ',') code = -1;  // a longer, unknown label
      }
      if (count >= static_cast<size_t>(V)) {
        size_t total = static_cast<size_t>(std::count(operations.begin(), operations.end(), ',')) + 1;
        return fail(e, ErrorKind::Record, "operations has " + num(total) + " labels but adjacency has " + num(static_cast<size_t>(V)) + " vertices");
      }
      if (code < 0) {
        size_t end = k;
        while (end < L && d[end] != ',') ++end;
        return fail(e, ErrorKind::Record, "unknown operation label " + show_text(operations.substr(k, end - k)) + " at position " + num(count) +
                                              " (known: input, conv1x1-bn-relu, conv3x3-bn-relu, maxpool3x3, output)");
      }
      rec->ops[count++] = static_cast<uint8_t>(code);
      k += len;
      if (k == L) break;
      ++k;  // the comma
    }
  }
  if (count != static_cast<size_t>(V)) {
    return fail(e, ErrorKind::Record, "operations has " + num(count) + " labels but adjacency has " + num(static_cast<size_t>(V)) + " vertices");
  }
  if (rec->ops[0] != 0) return fail(e, ErrorKind::Record, "operation 0 must be 'input'");
  if (rec->ops[V - 1] != 4) return fail(e, ErrorKind::Record, "the last operation (" + num(static_cast<size_t>(V - 1)) + ") must be 'output'");
  for (int v = 1; v < V - 1; ++v) {
    if (rec->ops[v] == 0 || rec->ops[v] == 4) {
      return fail(e, ErrorKind::Record, "operation " + num(static_cast<size_t>(v)) + " is '" + (rec->ops[v] == 0 ? "input" : "output") +
                                            "'; only the first vertex is the input and only the last the output");
    }
  }

  // metrics: base64 of ModelMetrics.
  if (!base64_decode(metrics, &proto_, e)) return false;
  Proto pb{proto_.data(), proto_.data(), proto_.data() + proto_.size()};
  Evaluation evals[3], extra;
  size_t n_evals = 0;
  bool has_params = false, has_time = false;
  int32_t params = 0;
  double total_time = 0;
  while (pb.p < pb.end) {
    const uint8_t* start_tag = pb.p;
    uint32_t field, wire;
    if (!pb.tag(&field, &wire, e)) return false;
    if (field == 1) {
      if (wire != 2) return wrong_wire(e, pb, start_tag, "ModelMetrics", field, "evaluation_data", wire, "2 (length-delimited)");
      uint64_t len;
      if (!pb.length(&len, e)) return false;
      Proto sub{pb.base, pb.p, pb.p + len};
      if (!parse_evaluation(sub, n_evals, n_evals < 3 ? &evals[n_evals] : &extra, e)) return false;
      ++n_evals;
      pb.p += len;
    } else if (field == 2) {
      if (wire != 0) return wrong_wire(e, pb, start_tag, "ModelMetrics", field, "trainable_parameters", wire, "0 (varint)");
      uint64_t v;
      if (!pb.varint(&v, e)) return false;
      params = static_cast<int32_t>(static_cast<uint32_t>(v));  // int32 semantics: low 32 bits
      has_params = true;
    } else if (field == 3) {
      if (wire != 1) return wrong_wire(e, pb, start_tag, "ModelMetrics", field, "total_time", wire, "1 (64-bit double)");
      if (!pb.fixed64(&total_time, e)) return false;
      if (!std::isfinite(total_time)) return fail(e, ErrorKind::Metric, "non-finite total_time (" + show_double(total_time) + ")");
      has_time = true;
    } else if (wire == 4) {
      return fail(e, ErrorKind::Protobuf, "protobuf: unexpected end group (field " + num(field) + ")" + pb.at(start_tag));
    } else if (!pb.skip(field, wire, 0, e)) {
      return false;
    }
  }
  if (n_evals != 3) {
    return fail(e, ErrorKind::Metric, "metrics has " + num(n_evals) + " evaluation_data entries; expected 3 (start, halfway, final)");
  }
  if (!has_params) return fail(e, ErrorKind::Metric, "metrics has no trainable_parameters");
  if (params < 0) return fail(e, ErrorKind::Metric, "trainable_parameters is negative (" + std::to_string(params) + ")");
  if (!has_time) return fail(e, ErrorKind::Metric, "metrics has no total_time");
  for (int k = 1; k <= 2; ++k) {
    for (int f = 2; f <= 5; ++f) {
      if (!evals[k].has[f]) return fail(e, ErrorKind::Metric, std::string("evaluation ") + num(static_cast<size_t>(k)) + " (" + kEvalNames[k] + ") has no " + kEvalFieldNames[f]);
    }
  }
  rec->trainable_parameters = params;
  rec->values[kTotalTime] = total_time;
  for (int k = 1; k <= 2; ++k) {
    double* v = rec->values + (k == 1 ? kHalfwayTrainingTime : kFinalTrainingTime);
    v[0] = evals[k].v[2];
    v[1] = evals[k].v[3];
    v[2] = evals[k].v[4];
    v[3] = evals[k].v[5];
  }
  return true;
}

// ---- streaming ingest -------------------------------------------------------------------

namespace {

class ChunkReader {
 public:
  ChunkReader(std::FILE* f, size_t chunk) : f_(f), chunk_(std::max<size_t>(chunk, 64)) { buf_.resize(chunk_); }

  // Makes at least n bytes available at Data(); false when the file ends first.
  bool Ensure(uint64_t n) {
    if (end_ - pos_ >= n) return true;
    return Fill(n);
  }
  const uint8_t* Data() const { return buf_.data() + pos_; }
  size_t Available() const { return end_ - pos_; }
  uint64_t Offset() const { return offset_; }
  void Advance(size_t n) {
    pos_ += n;
    offset_ += n;
  }
  // Skips n bytes (some maybe not read yet); false if the file ends first.
  bool Skip(uint64_t n) {
    while (n > 0) {
      if (Available() == 0 && !Fill(1)) return false;
      size_t step = static_cast<size_t>(std::min<uint64_t>(n, Available()));
      Advance(step);
      n -= step;
    }
    return true;
  }

 private:
  bool Fill(uint64_t need) {
    if (pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    if (need > buf_.size()) buf_.resize(static_cast<size_t>(need));
    else if (buf_.size() > 2 * chunk_ && need <= chunk_ && end_ <= chunk_) buf_.resize(chunk_), buf_.shrink_to_fit();
    while (end_ < need && !eof_) {
      size_t want = buf_.size() - end_;
      size_t got = std::fread(buf_.data() + end_, 1, want, f_);
      end_ += got;
      if (got < want) {
        if (std::ferror(f_)) {
          throw IngestFailure(ErrorKind::Io, true, offset_ + end_, std::string("read error: ") + std::strerror(errno));
        }
        eof_ = true;
      }
    }
    return end_ >= need;
  }

  std::FILE* f_;
  size_t chunk_;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0, end_ = 0;
  uint64_t offset_ = 0;
  bool eof_ = false;
};

inline uint64_t le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int k = 7; k >= 0; --k) v = (v << 8) | p[k];
  return v;
}
inline uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

std::string hex_hash(const uint8_t* h) {
  static const char* digits = "0123456789abcdef";
  std::string s(32, '0');
  for (int k = 0; k < 16; ++k) {
    s[2 * k] = digits[h[k] >> 4];
    s[2 * k + 1] = digits[h[k] & 15];
  }
  return s;
}

constexpr size_t kMaxEpochBudgets = 16;
constexpr uint32_t kMaxRepeats = 255;

// Accumulates accepted records into one row per unique hash.
class Pivot {
 public:
  explicit Pivot(Nb101Ingest* out) : out_(out) {
    for (auto& row : slot_of_) std::fill(std::begin(row), std::end(row), -1);
  }

  // Checks that the record can be added; on failure fills *e and changes nothing.
  bool Add(const Nb101Record& r, uint64_t offset, ParseError* e) {
    uint32_t cell = Find(r.hash);
    if (cell != kNone) {
      uint8_t* ops = &out_->ops[cell * 7];
      if (out_->vertices[cell] != r.vertices || out_->adjacency[cell] != r.adjacency || std::memcmp(ops, r.ops, 7) != 0) {
        return fail(e, ErrorKind::Inconsistent, "module_hash " + hex_hash(r.hash) + " was read before (record at byte offset " +
                                                    num(static_cast<uint64_t>(out_->first_offset[cell])) + ") with a different adjacency or operations");
      }
      if (out_->trainable_parameters[cell] != r.trainable_parameters) {
        return fail(e, ErrorKind::Inconsistent, "module_hash " + hex_hash(r.hash) + " has trainable_parameters " + std::to_string(r.trainable_parameters) +
                                                    " here but " + std::to_string(out_->trainable_parameters[cell]) + " in the record at byte offset " +
                                                    num(static_cast<uint64_t>(out_->first_offset[cell])));
      }
    }
    size_t ep = std::find(epochs_.begin(), epochs_.end(), r.epochs) - epochs_.begin();
    if (ep == epochs_.size() && epochs_.size() >= kMaxEpochBudgets) {
      return fail(e, ErrorKind::Limit, "epochs " + num(r.epochs) + " would be the " + num(kMaxEpochBudgets + 1) + "th distinct epoch budget (at most " +
                                           num(kMaxEpochBudgets) + " are supported)");
    }
    uint32_t repeat = cell == kNone ? 0 : repeats_[static_cast<size_t>(cell) * kMaxEpochBudgets + ep];
    if (repeat >= kMaxRepeats) {
      return fail(e, ErrorKind::Limit, "module_hash " + hex_hash(r.hash) + " has more than " + num(kMaxRepeats) + " records with epochs " + num(r.epochs));
    }
    // Commit.
    if (ep == epochs_.size()) epochs_.push_back(r.epochs);
    if (cell == kNone) cell = Insert(r, offset);
    repeats_[static_cast<size_t>(cell) * kMaxEpochBudgets + ep] = static_cast<uint8_t>(repeat + 1);
    out_->runs[cell] += 1;
    int slot = slot_of_[ep][repeat];
    if (slot < 0) {
      slot = static_cast<int>(out_->slots.size());
      slot_of_[ep][repeat] = slot;
      out_->slots.emplace_back();
      Nb101Slot& s = out_->slots.back();
      s.epochs = r.epochs;
      s.repeat = repeat;
      for (auto& col : s.values) col.assign(capacity_, std::nan(""));
    }
    Nb101Slot& s = out_->slots[static_cast<size_t>(slot)];
    for (int k = 0; k < kNb101RunValues; ++k) s.values[k][cell] = r.values[k];
    return true;
  }

  // Sorts rows by hash and slots by (epochs, repeat); trims every column to `cells`.
  void Finish(int threads) {
    size_t n = out_->cells;
    // Sort by the hash as two big-endian 64-bit words (byte order), row index last.
    struct Key {
      uint64_t hi, lo;
      uint32_t row;
    };
    std::vector<Key> keys(n);
    const uint8_t* h = out_->hash.data();
    for (size_t i = 0; i < n; ++i) {
      uint64_t hi = 0, lo = 0;
      for (int k = 0; k < 8; ++k) hi = (hi << 8) | h[16 * i + k];  // big-endian loads (bswap)
      for (int k = 8; k < 16; ++k) lo = (lo << 8) | h[16 * i + k];
      keys[i] = Key{hi, lo, static_cast<uint32_t>(i)};
    }
    std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) { return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo; });
    std::vector<uint32_t> perm(n);
    for (size_t i = 0; i < n; ++i) perm[i] = keys[i].row;
    std::vector<Key>().swap(keys);
    // Every column is gathered independently: spread them over the threads.
    std::vector<std::function<void()>> jobs;
    jobs.push_back([&] { Gather(&out_->hash, perm, 16); });
    jobs.push_back([&] { Gather(&out_->vertices, perm, 1); });
    jobs.push_back([&] { Gather(&out_->adjacency, perm, 1); });
    jobs.push_back([&] { Gather(&out_->ops, perm, 7); });
    jobs.push_back([&] { Gather(&out_->trainable_parameters, perm, 1); });
    jobs.push_back([&] { Gather(&out_->first_offset, perm, 1); });
    jobs.push_back([&] { Gather(&out_->runs, perm, 1); });
    for (auto& slot : out_->slots) {
      for (auto& col : slot.values) jobs.push_back([this, &col, &perm] { Gather(&col, perm, 1); });
    }
    parallel_items(jobs.size(), threads, [&](size_t j) { jobs[j](); });
    std::sort(out_->slots.begin(), out_->slots.end(),
              [](const Nb101Slot& a, const Nb101Slot& b) { return a.epochs != b.epochs ? a.epochs < b.epochs : a.repeat < b.repeat; });
    std::vector<uint32_t>().swap(table_);
    std::vector<uint8_t>().swap(repeats_);
  }

 private:
  static constexpr uint32_t kNone = 0xFFFFFFFFu;

  static bool Same16(const uint8_t* a, const uint8_t* b) {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&a1, a + 8, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&b1, b + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }

  static uint64_t Mix(const uint8_t* k) {
    uint64_t a, b;
    std::memcpy(&a, k, 8);
    std::memcpy(&b, k + 8, 8);
    uint64_t x = a ^ (b * 0x9E3779B97F4A7C15ull);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
  }

  uint32_t Find(const uint8_t* key) const {
    if (table_.empty()) return kNone;
    size_t mask = table_.size() - 1;
    for (size_t i = Mix(key) & mask;; i = (i + 1) & mask) {
      uint32_t v = table_[i];
      if (v == 0) return kNone;
      if (Same16(&out_->hash[(v - 1) * size_t(16)], key)) return v - 1;
    }
  }

  void Place(uint32_t cell) {
    size_t mask = table_.size() - 1;
    size_t i = Mix(&out_->hash[cell * size_t(16)]) & mask;
    while (table_[i] != 0) i = (i + 1) & mask;
    table_[i] = cell + 1;
  }

  uint32_t Insert(const Nb101Record& r, uint64_t offset) {
    size_t cell = out_->cells;
    if (cell == capacity_) Grow();
    std::memcpy(&out_->hash[cell * 16], r.hash, 16);
    out_->vertices[cell] = r.vertices;
    out_->adjacency[cell] = r.adjacency;
    std::memcpy(&out_->ops[cell * 7], r.ops, 7);
    out_->trainable_parameters[cell] = r.trainable_parameters;
    out_->first_offset[cell] = static_cast<double>(offset);
    out_->runs[cell] = 0;
    out_->cells = cell + 1;
    if (2 * out_->cells > table_.size()) {
      table_.assign(std::max<size_t>(1024, table_.size() * 2), 0);
      for (uint32_t c = 0; c < out_->cells; ++c) Place(c);
    } else {
      Place(static_cast<uint32_t>(cell));
    }
    return static_cast<uint32_t>(cell);
  }

  void Grow() {
    size_t cap = std::max<size_t>(1024, capacity_ * 2);
    if (cap > 0xFFFFFFF0u) throw IngestFailure(ErrorKind::Limit, false, 0, "more than 4 billion distinct hashes");
    out_->hash.resize(cap * 16);
    out_->vertices.resize(cap);
    out_->adjacency.resize(cap);
    out_->ops.resize(cap * 7, 255);
    out_->trainable_parameters.resize(cap);
    out_->first_offset.resize(cap);
    out_->runs.resize(cap);
    repeats_.resize(cap * kMaxEpochBudgets, 0);
    for (auto& s : out_->slots) {
      for (auto& col : s.values) col.resize(cap, std::nan(""));
    }
    capacity_ = cap;
  }

  template <class T>
  void Gather(std::vector<T>* v, const std::vector<uint32_t>& perm, size_t stride) {
    std::vector<T> out(perm.size() * stride);
    for (size_t i = 0; i < perm.size(); ++i) {
      const T* src = v->data() + size_t(perm[i]) * stride;
      std::copy(src, src + stride, out.data() + i * stride);
    }
    v->swap(out);
  }

  Nb101Ingest* out_;
  size_t capacity_ = 0;
  std::vector<uint32_t> table_;   // open addressing: cell + 1, 0 = empty
  std::vector<uint8_t> repeats_;  // cell * kMaxEpochBudgets + epoch index -> records so far
  std::vector<uint32_t> epochs_;  // distinct epoch budgets in order of appearance
  int slot_of_[kMaxEpochBudgets][kMaxRepeats + 1];
};

struct FileCloser {
  std::FILE* f;
  ~FileCloser() {
    if (f) std::fclose(f);
  }
};

}  // namespace

void ingest_nb101(const IngestOptions& options, Nb101Ingest* out, const std::function<bool(const IngestProgress&)>& progress) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status st = fs::status(options.path, ec);
  if (ec || !fs::exists(st)) throw IngestFailure(ErrorKind::Io, false, 0, "cannot open: " + (ec ? ec.message() : std::string("No such file or directory")));
  if (fs::is_directory(st)) throw IngestFailure(ErrorKind::Io, false, 0, "is a directory, not a TFRecord file");
  uint64_t total = 0;
  if (fs::is_regular_file(st)) {
    total = static_cast<uint64_t>(fs::file_size(options.path, ec));
    if (ec) throw IngestFailure(ErrorKind::Io, false, 0, "cannot read the file size: " + ec.message());
    if (total == 0) throw IngestFailure(ErrorKind::Empty, false, 0, "the file is empty (0 bytes): no TFRecord records");
  }
  std::FILE* f = std::fopen(options.path.c_str(), "rb");
  if (!f) throw IngestFailure(ErrorKind::Io, false, 0, std::string("cannot open: ") + std::strerror(errno));
  FileCloser closer{f};
  std::setvbuf(f, nullptr, _IONBF, 0);  // ChunkReader does the buffering

  *out = Nb101Ingest();
  out->file_bytes = total;
  out->hardware_crc = crc32c_hardware_available();
  ChunkReader in(f, options.chunk_bytes);
  Nb101PayloadParser parser;
  Pivot pivot(out);
  Nb101Record rec;
  ParseError perr;
  IngestProgress prog;
  prog.bytes_total = total;
  uint64_t next_report = 0;
  // Report every chunk (at most every 4 MiB): frequent enough for a smooth bar, cheap.
  const uint64_t kReportEvery = std::min<uint64_t>(options.chunk_bytes, 4u << 20);

  auto report = [&](bool force) {
    uint64_t at = in.Offset();
    if (!force && at < next_report) return;
    next_report = at + kReportEvery;
    prog.bytes_done = at;
    prog.records = out->records;
    prog.skipped = out->skipped;
    if (progress && !progress(prog)) throw IngestFailure(ErrorKind::Cancelled, true, at, "cancelled");
  };
  // A bad record or region [offset, offset + bytes): fatal unless lenient.
  auto bad = [&](ErrorKind kind, uint64_t offset, uint64_t bytes, const std::string& message) {
    if (!options.lenient) throw IngestFailure(kind, true, offset, message);
    out->skipped += 1;
    out->skipped_bytes += bytes;
    if (out->bad.size() < options.max_reported) out->bad.push_back(BadRecord{offset, kind, message});
  };
  // After a framing error at `start` (lenient): scan forward byte by byte for the next
  // position whose length CRC and payload CRC both check out.
  auto resync = [&](uint64_t start, ErrorKind kind, const std::string& why) {
    in.Advance(1);
    for (;;) {
      report(false);
      if (!in.Ensure(12)) {
        uint64_t end = in.Offset() + in.Available();
        bad(kind, start, end - start, why + "; skipped " + num(end - start) + " bytes to the end of the file (no further valid record)");
        in.Advance(in.Available());
        return;
      }
      const uint8_t* p = in.Data();
      uint64_t len = le64(p);
      if (crc32c_mask(crc32c(0, p, 8)) == le32(p + 8) && len <= options.max_record_bytes && in.Ensure(12 + len + 4)) {
        p = in.Data();
        if (crc32c_mask(crc32c(0, p + 12, static_cast<size_t>(len))) == le32(p + 12 + len)) {
          uint64_t at = in.Offset();
          bad(kind, start, at - start, why + "; skipped " + num(at - start) + " bytes to the next valid record at byte offset " + num(at));
          return;
        }
      }
      in.Advance(1);
    }
  };

  // Records that lie wholly inside the buffer are taken in batches: framing checked in file
  // order, payloads (CRC + parse) in parallel, then added to the pivot in file order, so the
  // result and the first error reported are the same for any thread count. Everything else
  // (a record crossing the buffer end, framing errors, truncation) goes one record at a time.
  struct Frame {
    size_t pos;
    uint64_t len;
  };
  enum : uint8_t { kOk = 0, kBadCrc = 1, kBadPayload = 2 };
  std::vector<Frame> frames;
  std::vector<Nb101Record> parsed;
  std::vector<ParseError> errors;
  std::vector<uint8_t> status;
  std::vector<uint32_t> crcs;
  const int threads = std::max(1, options.threads);
  std::vector<Nb101PayloadParser> parsers(static_cast<size_t>(threads));
  constexpr size_t kMaxBatch = 1u << 16;

  for (;;) {
    report(false);
    // ---- batch path ----
    const uint8_t* base = in.Data();
    size_t avail = in.Available(), pos = 0;
    frames.clear();
    while (frames.size() < kMaxBatch && avail - pos >= 16) {
      const uint8_t* p = base + pos;
      uint64_t len = le64(p);
      if (len > options.max_record_bytes || avail - pos - 16 < len) break;
      if (crc32c_mask(crc32c(0, p, 8)) != le32(p + 8)) break;
      frames.push_back(Frame{pos, len});
      pos += static_cast<size_t>(16 + len);
    }
    if (!frames.empty()) {
      size_t n = frames.size();
      if (parsed.size() < n) {
        parsed.resize(n);
        errors.resize(n);
        status.resize(n);
        crcs.resize(n);
      }
      size_t chunks = n < 64 ? 1 : static_cast<size_t>(threads);
      parallel_chunks(n, chunks, threads, [&](size_t c, size_t b, size_t e) {
        Nb101PayloadParser& parser_c = parsers[c];
        for (size_t k = b; k < e; ++k) {
          const uint8_t* payload = base + frames[k].pos + 12;
          size_t len = static_cast<size_t>(frames[k].len);
          crcs[k] = crc32c_mask(crc32c(0, payload, len));
          if (crcs[k] != le32(payload + len)) status[k] = kBadCrc;
          else status[k] = parser_c.Parse(payload, len, &parsed[k], &errors[k]) ? kOk : kBadPayload;
        }
      });
      uint64_t at = in.Offset();
      for (size_t k = 0; k < n; ++k) {
        uint64_t off = at + frames[k].pos, len = frames[k].len;
        if (status[k] == kBadCrc) {
          bad(ErrorKind::Crc, off, 16 + len,
              "payload CRC mismatch (stored " + hex32(le32(base + frames[k].pos + 12 + len)) + ", computed " + hex32(crcs[k]) + " over " + num(len) +
                  " payload bytes): the record is corrupt");
        } else if (status[k] == kBadPayload) {
          bad(errors[k].kind, off, 16 + len, errors[k].message);
        } else if (!pivot.Add(parsed[k], off, &perr)) {
          bad(perr.kind, off, 16 + len, perr.message);
        } else {
          out->records += 1;
        }
      }
      in.Advance(pos);
      continue;
    }

    // ---- one record at a time ----
    if (!in.Ensure(1)) break;  // clean end of file
    uint64_t off = in.Offset();
    if (!in.Ensure(12)) {
      size_t left = in.Available();
      bad(ErrorKind::Truncated, off, left,
          "the file ends inside a record header: " + num(left) + " of its 12 bytes (length + length CRC) are present (truncated file?)");
      in.Advance(left);
      break;
    }
    const uint8_t* p = in.Data();
    uint64_t len = le64(p);
    uint32_t stored = le32(p + 8), computed = crc32c_mask(crc32c(0, p, 8));
    if (stored != computed) {
      std::string why = "length CRC mismatch (stored " + hex32(stored) + ", computed " + hex32(computed) +
                        "): not a TFRecord file, or its framing is corrupt";
      if (!options.lenient) throw IngestFailure(ErrorKind::Framing, true, off, why);
      resync(off, ErrorKind::Framing, why);
      continue;
    }
    if (len > options.max_record_bytes) {
      std::string why = "the record declares " + num(len) + " payload bytes, more than the limit of " + num(options.max_record_bytes) + " bytes";
      if (!options.lenient) throw IngestFailure(ErrorKind::TooLarge, true, off, why);
      if (!in.Skip(12 + len + 4)) {
        bad(ErrorKind::TooLarge, off, in.Offset() - off, why + "; the file ends inside it");
        break;
      }
      bad(ErrorKind::TooLarge, off, 12 + len + 4, why);
      continue;
    }
    if (!in.Ensure(12 + len + 4)) {
      size_t left = in.Available();
      bad(ErrorKind::Truncated, off, left,
          "the file ends inside the record: it declares " + num(len) + " payload bytes (" + num(12 + len + 4) + " bytes with framing) but only " +
              num(left) + " bytes remain (truncated file?)");
      in.Advance(left);
      break;
    }
    p = in.Data();
    const uint8_t* payload = p + 12;
    stored = le32(payload + len);
    computed = crc32c_mask(crc32c(0, payload, static_cast<size_t>(len)));
    if (stored != computed) {
      bad(ErrorKind::Crc, off, 12 + len + 4,
          "payload CRC mismatch (stored " + hex32(stored) + ", computed " + hex32(computed) + " over " + num(len) + " payload bytes): the record is corrupt");
      in.Advance(static_cast<size_t>(12 + len + 4));
      continue;
    }
    if (!parser.Parse(payload, static_cast<size_t>(len), &rec, &perr) || !pivot.Add(rec, off, &perr)) {
      bad(perr.kind, off, 12 + len + 4, perr.message);
      in.Advance(static_cast<size_t>(12 + len + 4));
      continue;
    }
    out->records += 1;
    in.Advance(static_cast<size_t>(12 + len + 4));
  }
  if (total == 0) out->file_bytes = in.Offset();
  if (in.Offset() == 0) throw IngestFailure(ErrorKind::Empty, false, 0, "the file is empty (0 bytes): no TFRecord records");
  pivot.Finish(threads);
  report(true);
}

}  // namespace nasrank
