// JSON and JSON-graph rows of the benchmark suite: one C++ program, compiled once against
// the reference's headers (no rpath), run by ci/bench.sh on the reference's libtvm_ffi.so
// and on ours (LD_LIBRARY_PATH) in its A/B rounds, so both sides do the same work through
// the same C++ entry points. Its command line and output are bench/c/harness.h's:
//
//   json_bench [--smoke]        every row: "row<TAB>median ns per op<TAB>batches"
//   json_bench --count ROW N    ROW's operation N times after one warm-up (for callgrind)
//   json_bench --list           the row names
//
// Rows:
//   json_parse_10mb      tvm::ffi::json::Parse of a 10 MB document
//   json_stringify_10mb  tvm::ffi::json::Stringify of the parsed document
//   graph_roundtrip      ffi.ToJSONGraphString then ffi.FromJSONGraphString of a value
//                        with shared subtrees (the graph text is about 10 MB)
#include <tvm/ffi/any.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/extra/json.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/string.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace ffi = tvm::ffi;

namespace {

// A deterministic document of about `bytes` bytes: records with strings (some escaped,
// some non-ASCII), integers, floats, booleans, nulls and nested arrays and objects.
std::string MakeDocument(size_t bytes) {
  std::string out = "[";
  uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int i = 0; out.size() < bytes; ++i) {
    if (i != 0) out += ",";
    char buf[512];
    std::snprintf(
        buf, sizeof(buf),
        R"({"id":%d,"name":"record number %d","tag":"t%d","score":%.6f,"ratio":%.17g,)"
        R"("flags":[true,false,null],"counts":[%d,%d,%d,%d],"note":"line\nbreak \"quoted\" \u00e9\u4e2d",)"
        R"("nested":{"a":{"b":[%lld,-%lld,{"c":"deep"}]},"empty":{},"list":[]}})",
        i, i, static_cast<int>(next() % 16), static_cast<double>(next() % 100000) / 7.0,
        static_cast<double>(next() % 1000003) * 1e-3, static_cast<int>(next() % 1000),
        static_cast<int>(next() % 1000), static_cast<int>(next() % 1000),
        static_cast<int>(next() % 1000), static_cast<long long>(next() % 1000000000),
        static_cast<long long>(next() % 1000000000));
    out += buf;
  }
  out += "]";
  return out;
}

// The documents' sizes in MiB: 10 and 2, a tenth of that with --smoke (which only checks
// that every row runs).
size_t doc_mib_tenths = 100;

const std::string& Document() {
  static const std::string doc = MakeDocument(doc_mib_tenths * (1 << 20) / 10);
  return doc;
}

ffi::String document_text;
ffi::Any parsed;
ffi::Any graph_value;
ffi::Function to_graph;
ffi::Function from_graph;

int SetupParse() {
  document_text = ffi::String(Document());
  return 0;
}

void RunParse(long n) {
  for (long i = 0; i < n; ++i) {
    ffi::Any v = ffi::json::Parse(document_text);
    if (v == nullptr) std::abort();
  }
}

int SetupStringify() {
  SetupParse();
  parsed = ffi::json::Parse(document_text);
  return 0;
}

void RunStringify(long n) {
  for (long i = 0; i < n; ++i) {
    ffi::String s = ffi::json::Stringify(parsed);
    if (s.size() < Document().size() / 2) std::abort();
  }
}

int SetupGraph() {
  auto t = ffi::Function::GetGlobal("ffi.ToJSONGraphString");
  auto f = ffi::Function::GetGlobal("ffi.FromJSONGraphString");
  if (!t.has_value() || !f.has_value()) return 1;
  to_graph = *t;
  from_graph = *f;
  // The records, each reached twice (once directly, once through a shared sub-array), so
  // the graph shares nodes: about 10 MB of graph text.
  ffi::Array<ffi::Any> records =
      ffi::json::Parse(ffi::String(MakeDocument(doc_mib_tenths * (1 << 20) / 50))).cast<ffi::Array<ffi::Any>>();
  ffi::Array<ffi::Any> shared;
  for (size_t i = 0; i < records.size(); i += 2) shared.push_back(records[i]);
  graph_value = ffi::Array<ffi::Any>{records, shared, shared};
  return 0;
}

void RunGraph(long n) {
  for (long i = 0; i < n; ++i) {
    ffi::String text = to_graph(graph_value, nullptr).cast<ffi::String>();
    ffi::Any back = from_graph(text);
    if (back == nullptr) std::abort();
  }
}

struct Row {
  const char* name;
  int (*setup)();
  void (*run)(long);
};

const Row kRows[] = {
    {"json_parse_10mb", SetupParse, RunParse},
    {"json_stringify_10mb", SetupStringify, RunStringify},
    {"graph_roundtrip", SetupGraph, RunGraph},
};

double NowNs() {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
    for (const Row& row : kRows) std::printf("%s\n", row.name);
    return 0;
  }
  if (argc == 4 && std::strcmp(argv[1], "--count") == 0) {
    for (const Row& row : kRows) {
      if (std::strcmp(row.name, argv[2]) != 0) continue;
      if (row.setup() != 0) return 3;
      row.run(1);
      row.run(std::atol(argv[3]));
      return 0;
    }
    std::fprintf(stderr, "unknown row %s\n", argv[2]);
    return 2;
  }
  bool smoke = argc == 2 && std::strcmp(argv[1], "--smoke") == 0;
  if (smoke) doc_mib_tenths = 10;
  if (argc != 1 && !smoke) {
    std::fprintf(stderr, "usage: %s [--smoke | --list | --count ROW N]\n", argv[0]);
    return 2;
  }
  try {
    for (const Row& row : kRows) {
      if (row.setup() != 0) {
        std::printf("%s\tn/a\t0\n", row.name);
        continue;
      }
      row.run(1);  // warm-up
      int batches = smoke ? 1 : 7;
      std::vector<double> samples;
      for (int b = 0; b < batches; ++b) {
        double t0 = NowNs();
        row.run(1);
        samples.push_back(NowNs() - t0);
      }
      std::sort(samples.begin(), samples.end());
      std::printf("%s\t%.3f\t%d\n", row.name, samples[samples.size() / 2], batches);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
