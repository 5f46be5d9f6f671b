#!/usr/bin/env bash
# Builds libcortexsdr_ops.so for linux-x86_64 and, when a compiler for it is present,
# linux-aarch64. Run by Maven (generate-resources): build.sh <target dir> <classes dir>.
# The ONNX Runtime C API headers come from the npm package below, unpacked into the target dir:
# they are never committed.
set -euo pipefail
src="$(cd "$(dirname "$0")" && pwd)"
target="$1"
classes="$2"
npm_pkg="com.github.asus4.onnxruntime@0.4.9"
need_api=29   # ONNX Runtime 1.29.0, pinned in the parent pom

hdr="$target/ort-headers"
if [ ! -f "$hdr/onnxruntime_c_api.h" ]; then
  mkdir -p "$target/npm" "$hdr"
  tgz=$(cd "$target/npm" && npm pack --silent "$npm_pkg" | tail -1)
  # one copy of the headers (the package holds the same ones for several platforms)
  tar -xzf "$target/npm/$tgz" -C "$target/npm" --wildcards '*/ios-arm64/onnxruntime.framework/Headers/*.h'
  cp "$(find "$target/npm" -path '*ios-arm64/onnxruntime.framework/Headers' -type d | head -1)"/*.h "$hdr/"
  rm -f "$target/npm/$tgz"
fi
api=$(sed -n 's/^#define ORT_API_VERSION \([0-9]*\).*/\1/p' "$hdr/onnxruntime_c_api.h")
if [ -z "$api" ] || [ "$api" -lt "$need_api" ]; then
  echo "ONNX Runtime C API headers from $npm_pkg are version '${api}', $need_api or newer is needed" >&2
  exit 1
fi
echo "ONNX Runtime C API headers: version $api (from $npm_pkg)"

flags=(-O3 -std=gnu11 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror -I"$hdr")
host=$(uname -m)
build() { # arch compiler [extra flags]
  local arch=$1 cc=$2
  shift 2
  local out="$classes/native/linux-$arch"
  mkdir -p "$out"
  "$cc" "${flags[@]}" "$@" "$src/sdr_matmul.c" -o "$out/libcortexsdr_ops.so" -lpthread
  echo "built $out/libcortexsdr_ops.so with $cc ($($cc -dumpversion))"
}
for arch in x86_64 aarch64; do
  if [ "$host" = "$arch" ]; then
    build "$arch" gcc
  elif command -v "$arch-linux-gnu-gcc" >/dev/null 2>&1; then
    build "$arch" "$arch-linux-gnu-gcc"
  else
    echo "skipping linux-$arch: no $arch-linux-gnu-gcc (Debian: apt-get install gcc-${arch//_/-}-linux-gnu)"
  fi
done
