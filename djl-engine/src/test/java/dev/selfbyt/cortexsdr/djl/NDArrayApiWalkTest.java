package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link NDArrayApiWalk} over DJL's NDArray API and writes the coverage table to {@code
 * target/ndarray-api-walk.md} (the table in {@code docs/djl-operators.md}). The operators DJL's
 * text, image-classification and object-detection translators call, and the ones issue 12 names,
 * must run on CortexSDR itself: a call that goes to the alternative engine (the tokenizers' Rust
 * engine is on the test classpath) or throws fails the test.
 */
class NDArrayApiWalkTest {
  /** Calls that must run in CortexSDR. */
  static final List<String> REQUIRED = List.of(
      // issue 12's list
      "norm()", "norm(boolean)", "norm(int[])", "norm(int[],boolean)", "norm(int,int[],boolean)",
      "sort()", "sort(int)", "argSort()", "argSort(int)", "argSort(int,boolean)", "topK(int,int)",
      "topK(int,int,boolean,boolean)", "oneHot(int)", "oneHot(int,DataType)", "oneHot(int,float,float,DataType)",
      "booleanMask(NDArray)", "booleanMask(NDArray,int)", "logSoftmax(int)", "cumSum()", "cumSum(int)",
      "NDArrays.where(NDArray,NDArray,NDArray)", "erf()", "clip(Number,Number)", "pow(Number)", "pow(NDArray)",
      "gather(NDArray,int)", "gatherNd(NDArray)", "take(NDArray)", "take(NDManager,NDArray)",
      "sum()", "sum(int[])", "sum(int[],boolean)", "mean()", "mean(int[])", "mean(int[],boolean)",
      "max()", "max(int[])", "max(int[],boolean)", "min()", "min(int[])", "min(int[],boolean)",
      "prod()", "prod(int[])", "prod(int[],boolean)", "argMax()", "argMax(int)", "argMin()", "argMin(int)",
      "toType(FLOAT16)", "NDManager.create(Shape,DataType FLOAT16)",
      // what DJL 0.36's translators (nlp, cv, huggingface) call besides
      "get(NDIndex)", "get(String,Object[])", "get(NDManager,NDIndex)", "get(long[])", "getLong(long[])",
      "getFloat(long[])", "set(NDIndex,NDArray)", "set(NDIndex,Number)", "set(NDIndex,Function)",
      "setScalar(NDIndex,Number)", "set(NDArray,Number)", "addi(NDArray)", "addi(Number)", "subi(NDArray)",
      "subi(Number)", "muli(NDArray)", "muli(Number)", "divi(NDArray)", "divi(Number)", "repeat(long)",
      "repeat(int,long)", "tile(long)", "tile(int,long)", "flatten()", "flatten(int,int)", "flip(int[])",
      "round()", "floor()", "ceil()", "square()", "split(long)", "split(long,int)", "split(long[],int)",
      "concat(NDArray,int)", "stack(NDArray,int)", "squeeze()", "swapAxes(int,int)", "maximum(Number)",
      "NDArrayEx.toTensor() [uint8 HWC image]", "NDArrayEx.normalize(float[],float[])",
      "NDArrayEx.resize(int,int,int) [HWC]", "NDArrayEx.interpolation(long[],int,boolean)",
      "NDArrayEx.crop(int,int,int,int)", "NDArrayEx.sigmoid()", "NDArrays.concat(NDList,int)",
      "NDArrays.stack(NDList)", "toArray()", "toLongArray()", "toIntArray()", "toBooleanArray()",
      "logicalAnd(NDArray)", "logicalOr(NDArray)", "logicalNot()", "any()", "all()", "isNaN()", "isInfinite()",
      "nonzero()", "countNonzero()", "mod(Number)", "sign()", "exp()", "log()", "sqrt()", "abs()", "neg()");

  @Test
  void djlsNdArrayApiRunsOnCortexSdr() throws IOException {
    List<NDArrayApiWalk.Row> rows;
    try (NDManager m = NDManager.newBaseManager("CortexSDR")) {
      rows = new NDArrayApiWalk(m).walk();
    }
    String table = NDArrayApiWalk.markdown(rows);
    Path out = Path.of("target", "ndarray-api-walk.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, table);
    System.out.println(table.lines().limit(4).collect(Collectors.joining("\n")) + "\n(table: " + out + ")");
    Map<String, NDArrayApiWalk.Row> bySignature = rows.stream()
        .collect(Collectors.toMap(NDArrayApiWalk.Row::call, r -> r, (a, b) -> a));
    List<String> notHere = REQUIRED.stream()
        .filter(s -> bySignature.get(s) == null || bySignature.get(s).outcome() != NDArrayApiWalk.Outcome.CORTEXSDR)
        .map(s -> s + " -> " + (bySignature.get(s) == null ? "not walked"
            : bySignature.get(s).outcome().label + " " + bySignature.get(s).detail()))
        .toList();
    assertEquals(List.of(), notHere, "operators that must run on CortexSDR");
    List<String> wrongType = rows.stream().filter(r -> r.outcome() == NDArrayApiWalk.Outcome.WRONG_TYPE)
        .map(NDArrayApiWalk.Row::call).toList();
    assertEquals(List.of(), wrongType, "arrays that report another data type than the one asked for");
  }
}
