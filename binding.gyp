# The berth_sys N-API addon (src/sys/native): AF_PACKET sockets, TCP socket options, UDP with the received TTL.
# Built by scripts/build-addon.mjs (the package's "install" script) through node-gyp.
{
  "targets": [
    {
      "target_name": "berth_sys",
      "sources": [
        "src/sys/native/addon.cc",
        "src/sys/native/common.cc",
        "src/sys/native/packet.cc",
        "src/sys/native/tcp.cc",
        "src/sys/native/udp.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
