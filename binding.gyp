{
  "targets": [
    {
      "target_name": "nasrank",
      "sources": [
        "native/addon.cc",
        "native/parallel.cc",
        "native/sort.cc",
        "native/correlation.cc",
        "native/kendall.cc",
        "native/comparator.cc",
        "native/controller.cc",
        "native/scratch.cc",
        "native/pairwise.cc",
        "native/triplet.cc",
        "native/logloss.cc",
        "native/gain.cc",
        "native/images.cc",
        "native/md5.cc",
        "native/nb101.cc",
        "native/renas.cc",
        "native/gcn.cc",
        "native/crc32c.cc",
        "native/tfrecord.cc",
        "native/forest.cc",
        "native/agnet.cc",
        "native/cuda_stub.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NASRANK_SOURCE_DIGEST=\"<!(node scripts/native-digest.js)\"",
        "NASRANK_BUILD_SYSTEM=\"node-gyp\""
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-pthread"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } }
    }
  ]
}
