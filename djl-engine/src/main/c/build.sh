#!/usr/bin/env bash
# Builds libcortexsdr_kernels.so (the DJL engine's native kernels, JNI) for linux-x86_64 and, when a
# compiler for it is present, linux-aarch64, as onnx-ops/src/main/c/build.sh builds its library.
# Run by Maven (generate-resources): build.sh <classes dir> <java.home>. The JNI headers come from
# the JDK that runs the build (<java.home>/include): they are never committed.
set -euo pipefail
src="$(cd "$(dirname "$0")" && pwd)"
classes="$1"
jdk="$2"
if [ ! -f "$jdk/include/jni.h" ] && [ -f "$jdk/../include/jni.h" ]; then
  jdk="$jdk/.."  # java.home of a JRE inside a JDK
fi
if [ ! -f "$jdk/include/jni.h" ]; then
  echo "no JNI headers under $jdk/include: build with a JDK (not a JRE)" >&2
  exit 1
fi
# -fno-math-errno / -fno-trapping-math: no errno from sqrt, so loops vectorize; IEEE results unchanged
flags=(-O3 -std=gnu11 -fPIC -shared -fvisibility=hidden -fno-math-errno -fno-trapping-math
       -Wall -Wextra -Werror -I"$jdk/include" -I"$jdk/include/linux")
host=$(uname -m)
build() { # arch compiler
  local arch=$1 cc=$2
  local out="$classes/native/linux-$arch"
  mkdir -p "$out"
  "$cc" "${flags[@]}" "$src/cortexsdr_kernels.c" "$src/fused_ops.c" -o "$out/libcortexsdr_kernels.so" -lm
  echo "built $out/libcortexsdr_kernels.so with $cc ($($cc -dumpversion))"
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
