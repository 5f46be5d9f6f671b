#!/usr/bin/env bash
# Fuzzes one Jazzer target in a plain JVM, so several targets can run side by side for a long run
# (docs/reliability.md). Build first: mvn -B -ntp -pl integration-tests -am package -DskipTests
#   integration-tests/fuzz-target.sh 'CaiReaderFuzzIT#mutatedFields(com.code_intelligence.jazzer.api.FuzzedDataProvider)' 3600
# Findings: the mutated file under <work>/target/fuzz-findings, the fuzzer's input beside the
# corpus; libFuzzer's "Done N runs in S second(s)" line at the end gives the executions.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
method=$1
seconds=$2
name=${method%%(*}
work=${3:-$here/target/fuzz-long/${name//#/-}}
m2=${M2_REPO:-$HOME/.m2/repository}
jars=(
  "$m2/com/code-intelligence/jazzer-junit/0.24.0/jazzer-junit-0.24.0.jar"
  "$m2/com/code-intelligence/jazzer-api/0.24.0/jazzer-api-0.24.0.jar"
  "$m2/com/code-intelligence/jazzer/0.24.0/jazzer-0.24.0.jar"
  "$m2/org/junit/platform/junit-platform-console-standalone/1.14.1/junit-platform-console-standalone-1.14.1.jar"
)
[ -f "${jars[3]}" ] || mvn -B -ntp -q dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.1
mkdir -p "$work/lib"
# a copy of the build, so that rebuilding while a long run goes on does not pull classes from under it
rm -rf "$work/lib/test-classes"
cp -r "$here/target/test-classes" "$work/lib/test-classes"
cp "$here/target/benchmarks.jar" "$work/lib/benchmarks.jar"
cp="$work/lib/test-classes:$work/lib/benchmarks.jar:$(IFS=:; echo "${jars[*]}")"
cd "$work"
JAZZER_FUZZ=1 exec java -Xmx512m -XX:MaxDirectMemorySize=512m -Dai.djl.offline=true \
  -Djazzer.internal.basedir="$work" \
  -Djazzer.instrument='dev.selfbyt.cortexsdr.**' -Djazzer.instrumentation_excludes='dev.selfbyt.cortexsdr.it.fuzz.**' \
  -Djazzer.keep_going="${KEEP_GOING:-1000}" \
  -Djazzer.internal.arg.0=fake_argv0 -Djazzer.internal.arg.1=-max_total_time="$seconds" \
  -Djazzer.internal.arg.2=-timeout=10 \
  -cp "$cp" org.junit.platform.console.ConsoleLauncher --disable-banner --details=summary \
  --select-method "dev.selfbyt.cortexsdr.it.fuzz.$method"
