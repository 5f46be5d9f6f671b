package dev.selfbyt.cortexsdr.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrayAdapter;
import ai.djl.ndarray.NDManager;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps;

/**
 * The element-wise half of {@link CaiNDArray}'s extra operators: rounding, sign and square,
 * trigonometry, logarithms, NaN/infinity tests, logic, {@code mod} and {@code logSoftmax} ({@link
 * ElementWise}), and the in-place operators ({@code addi}, {@code muli}, ...: the result replaces
 * the array's values in its type). Each method turns the arrays into executor {@link Value}s, calls
 * its family and wraps the result; none goes to DJL's alternative engine. This class only exists
 * to keep {@link CaiNDArray} short; use {@link CaiNDArray}.
 */
public abstract class CaiNDArrayMath extends NDArrayAdapter {
  CaiNDArrayMath(NDManager manager, NDManager alternativeManager, String uid) {
    super(manager, alternativeManager, null, null, uid);
  }

  /** The executor value behind this array. */
  public abstract Value value();

  /** A result of an operator on this array alone (a float16 array gives float16 results). */
  abstract CaiNDArray result(Value v);

  /** A result of an operator on this array and {@code other} (float16 only when both are). */
  abstract CaiNDArray result(Value v, NDArray other);

  /** {@code a} as an executor value (copied from another engine when needed). */
  abstract Value operand(NDArray a);

  /** Replaces this array's values (the in-place operators and {@code set}). */
  abstract void replaceValue(Value v);

  private NDArray inPlace(NDArray computed) {
    Value v = ((CaiNDArray) computed).value();
    Value mine = value();
    replaceValue(v.dtype() == mine.dtype() ? v : ValueOps.cast(v, mine.dtype()));
    return this;
  }

  // ---- element-wise ----

  @Override
  public NDArray floor() {
    return result(ElementWise.floor(value()));
  }

  @Override
  public NDArray ceil() {
    return result(ElementWise.ceil(value()));
  }

  @Override
  public NDArray round() {
    return result(ElementWise.round(value()));
  }

  @Override
  public NDArray trunc() {
    return result(ElementWise.trunc(value()));
  }

  @Override
  public NDArray sign() {
    return result(ElementWise.sign(value()));
  }

  @Override
  public NDArray square() {
    return result(ElementWise.square(value()));
  }

  @Override
  public NDArray cbrt() {
    return result(ElementWise.map(value(), Math::cbrt));
  }

  @Override
  public NDArray sin() {
    return result(ElementWise.map(value(), Math::sin));
  }

  @Override
  public NDArray cos() {
    return result(ElementWise.map(value(), Math::cos));
  }

  @Override
  public NDArray tan() {
    return result(ElementWise.map(value(), Math::tan));
  }

  @Override
  public NDArray asin() {
    return result(ElementWise.map(value(), Math::asin));
  }

  @Override
  public NDArray acos() {
    return result(ElementWise.map(value(), Math::acos));
  }

  @Override
  public NDArray atan() {
    return result(ElementWise.map(value(), Math::atan));
  }

  @Override
  public NDArray sinh() {
    return result(ElementWise.map(value(), Math::sinh));
  }

  @Override
  public NDArray cosh() {
    return result(ElementWise.map(value(), Math::cosh));
  }

  @Override
  public NDArray asinh() {
    return result(ElementWise.map(value(), x -> Math.log(x + Math.sqrt(x * x + 1))));
  }

  @Override
  public NDArray acosh() {
    return result(ElementWise.map(value(), x -> Math.log(x + Math.sqrt(x * x - 1))));
  }

  @Override
  public NDArray atanh() {
    return result(ElementWise.map(value(), x -> 0.5 * Math.log((1 + x) / (1 - x))));
  }

  @Override
  public NDArray log10() {
    return result(ElementWise.map(value(), Math::log10));
  }

  @Override
  public NDArray log2() {
    return result(ElementWise.map(value(), x -> Math.log(x) / Math.log(2)));
  }

  @Override
  public NDArray toDegrees() {
    return result(ElementWise.map(value(), Math::toDegrees));
  }

  @Override
  public NDArray toRadians() {
    return result(ElementWise.map(value(), Math::toRadians));
  }

  @Override
  public NDArray atan2(NDArray other) {
    return result(ElementWise.binary(value(), operand(other), Math::atan2), other);
  }

  @Override
  public NDArray isNaN() {
    return result(ElementWise.test(value(), Double::isNaN));
  }

  @Override
  public NDArray isInfinite() {
    return result(ElementWise.test(value(), Double::isInfinite));
  }

  @Override
  public NDArray logicalAnd(NDArray other) {
    return result(ElementWise.logical(value(), operand(other), "and"));
  }

  @Override
  public NDArray logicalOr(NDArray other) {
    return result(ElementWise.logical(value(), operand(other), "or"));
  }

  @Override
  public NDArray logicalXor(NDArray other) {
    return result(ElementWise.logical(value(), operand(other), "xor"));
  }

  @Override
  public NDArray logicalNot() {
    return result(ElementWise.logicalNot(value()));
  }

  @Override
  public NDArray mod(Number n) {
    return result(ElementWise.mod(value(), scalarLike(n)));
  }

  @Override
  public NDArray mod(NDArray other) {
    return result(ElementWise.mod(value(), operand(other)), other);
  }

  @Override
  public NDArray erfinv() {
    return result(ElementWise.map(value(), ElementWise::erfinv));
  }

  @Override
  public NDArray gammaln() {
    return result(ElementWise.map(value(), ElementWise::logGamma));
  }

  @Override
  public NDArray xlogy(NDArray other) {
    return result(ElementWise.xlogy(value(), operand(other)), other);
  }

  @Override
  public NDArray logSoftmax(int axis) {
    return result(ElementWise.logSoftmax(value(), axis));
  }

  /** A scalar of this array's kind: integer for an integer array and an integer number. */
  Value scalarLike(Number n) {
    Value v = value();
    if (v.isFloating() || n instanceof Float || n instanceof Double) {
      return Value.ofFloats(new long[0], new float[] {n.floatValue()});
    }
    return Value.ofLongs(v.dtype(), new long[0], new long[] {n.longValue()});
  }

  // ---- in place: the result replaces this array's values, in its type ----

  @Override
  public NDArray addi(Number n) {
    return inPlace(add(n));
  }

  @Override
  public NDArray addi(NDArray other) {
    return inPlace(add(other));
  }

  @Override
  public NDArray subi(Number n) {
    return inPlace(sub(n));
  }

  @Override
  public NDArray subi(NDArray other) {
    return inPlace(sub(other));
  }

  @Override
  public NDArray muli(Number n) {
    return inPlace(mul(n));
  }

  @Override
  public NDArray muli(NDArray other) {
    return inPlace(mul(other));
  }

  @Override
  public NDArray divi(Number n) {
    return inPlace(div(n));
  }

  @Override
  public NDArray divi(NDArray other) {
    return inPlace(div(other));
  }

  @Override
  public NDArray modi(Number n) {
    return inPlace(mod(n));
  }

  @Override
  public NDArray modi(NDArray other) {
    return inPlace(mod(other));
  }

  @Override
  public NDArray powi(Number n) {
    return inPlace(pow(n));
  }

  @Override
  public NDArray powi(NDArray other) {
    return inPlace(pow(other));
  }

  @Override
  public NDArray negi() {
    return inPlace(neg());
  }

  @Override
  public NDArray signi() {
    return inPlace(sign());
  }

}
