package dev.selfbyt.cortexsdr.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDArrayIndexer;
import ai.djl.ndarray.internal.NDArrayEx;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.recurrent.RNN;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps;
import java.util.List;

/**
 * The operators DJL's {@code ai.djl.nn} blocks reach through {@link NDArray#getNDArrayInternal()}
 * (activations, convolution, linear, layer and batch norm, pooling, embedding, concat/stack,
 * where), run on a {@link CaiNDArray} with the graph executor's own operators ({@link ValueOps}),
 * so a DJL block's forward pass and the matching ONNX node compute the same numbers. A quantized or
 * sparse weight given to {@link #linear}, {@link #convolution} or {@link #embedding} is used as
 * stored. Training-only paths (optimizer updates, dropout and batch norm in training mode),
 * recurrent layers, 1-D/3-D convolution and pooling and the image operators go to DJL's alternative
 * engine (PyTorch when present), as the rest of {@link CaiNDArray} does; without one they throw
 * {@link UnsupportedOperationException}.
 */
final class CaiNDArrayEx implements NDArrayEx {
  private final CaiNDArray array;

  CaiNDArrayEx(CaiNDArray array) {
    this.array = array;
  }

  private NDArrayEx alt() {
    return array.alternativeEx();
  }

  private CaiNDArray wrap(Value v) {
    return array.getManager() instanceof CaiNDManager m ? array.result(v, m)
        : array.result(v, CaiNDManager.getSystemManager());
  }

  private Value v(NDArray a) {
    if (a == null) {
      return null;
    }
    if (a instanceof CaiNDArray c) {
      return c.value();
    }
    return ((CaiNDManager) array.getManager()).from(a).value();
  }

  private static int[] ints(Shape s, int rank, int dflt, String what) {
    if (s == null || s.dimension() == 0) {
      int[] r = new int[rank];
      java.util.Arrays.fill(r, dflt);
      return r;
    }
    if (s.dimension() != rank) {
      throw new IllegalArgumentException(what + " " + s + " must have " + rank + " dimensions");
    }
    int[] r = new int[rank];
    for (int i = 0; i < rank; i++) {
      r[i] = (int) s.get(i);
    }
    return r;
  }

  private static int[] symmetricPads(Shape padding) {
    int[] p = ints(padding, 2, 0, "padding");
    return new int[] {p[0], p[1], p[0], p[1]};
  }

  // ---- activations ----

  @Override
  public NDArray relu() {
    return wrap(ValueOps.unary(ValueOps.Unary.RELU, array.value()));
  }

  @Override
  public NDArray sigmoid() {
    return wrap(ValueOps.unary(ValueOps.Unary.SIGMOID, array.value()));
  }

  @Override
  public NDArray tanh() {
    return wrap(ValueOps.unary(ValueOps.Unary.TANH, array.value()));
  }

  @Override
  public NDArray gelu() {
    return wrap(ValueOps.gelu(array.value()));
  }

  /** {@code log(1 + exp(x))}, computed without overflow. */
  @Override
  public NDArray softPlus() {
    return wrap(ElementWise.map(array.value(), x -> Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))));
  }

  @Override
  public NDArray softSign() {
    return wrap(ElementWise.map(array.value(), x -> x / (1 + Math.abs(x))));
  }

  @Override
  public NDArray leakyRelu(float alpha) {
    return wrap(ElementWise.map(array.value(), x -> x >= 0 ? x : alpha * x));
  }

  @Override
  public NDArray elu(float alpha) {
    return wrap(ElementWise.map(array.value(), x -> x > 0 ? x : alpha * Math.expm1(x)));
  }

  /** SELU with PyTorch's constants. */
  @Override
  public NDArray selu() {
    double alpha = 1.6732632423543772848170429916717;
    double scale = 1.0507009873554804934193349852946;
    return wrap(ElementWise.map(array.value(), x -> scale * (x > 0 ? x : alpha * Math.expm1(x))));
  }

  // ---- pooling (2-D, NCHW) ----

  @Override
  public NDArray maxPool(Shape kernelShape, Shape stride, Shape padding, boolean ceilMode) {
    if (array.getShape().dimension() != 4) {
      return alt().maxPool(kernelShape, stride, padding, ceilMode);
    }
    int[] k = ints(kernelShape, 2, 1, "kernel");
    return wrap(ValueOps.pool2d(array.value(), k, ints(stride, 2, 1, "stride"), symmetricPads(padding), ceilMode,
        false, false));
  }

  @Override
  public NDArray avgPool(Shape kernelShape, Shape stride, Shape padding, boolean ceilMode, boolean countIncludePad) {
    if (array.getShape().dimension() != 4) {
      return alt().avgPool(kernelShape, stride, padding, ceilMode, countIncludePad);
    }
    int[] k = ints(kernelShape, 2, 1, "kernel");
    return wrap(ValueOps.pool2d(array.value(), k, ints(stride, 2, 1, "stride"), symmetricPads(padding), ceilMode,
        true, countIncludePad));
  }

  /** The maximum over every spatial axis: {@code [N, C, ...]} to {@code [N, C]}. */
  @Override
  public NDArray globalMaxPool() {
    Value x = array.value();
    if (x.rank() < 3) {
      throw new IllegalArgumentException("globalMaxPool needs [N, C, ...], got " + array.getShape());
    }
    Value flat = ValueOps.reshape(x, new long[] {x.dim(0), x.dim(1), -1});
    Value m = ValueOps.pool2d(ValueOps.unsqueeze(flat, new long[] {2}), new int[] {1, (int) flat.dim(2)},
        new int[] {1, 1}, new int[4], false, false, false);
    return wrap(ValueOps.reshape(m, new long[] {x.dim(0), x.dim(1)}));
  }

  /** The mean over every spatial axis: {@code [N, C, ...]} to {@code [N, C]}. */
  @Override
  public NDArray globalAvgPool() {
    Value x = array.value();
    if (x.rank() < 3) {
      throw new IllegalArgumentException("globalAvgPool needs [N, C, ...], got " + array.getShape());
    }
    long[] axes = new long[x.rank() - 2];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = i + 2;
    }
    return wrap(ValueOps.reduce(x, axes, false, true));
  }

  @Override
  public NDArray lpPool(float normType, Shape kernelShape, Shape stride, Shape padding, boolean ceilMode) {
    return alt().lpPool(normType, kernelShape, stride, padding, ceilMode);
  }

  @Override
  public NDArray globalLpPool(float normType) {
    return alt().globalLpPool(normType);
  }

  // ---- layers ----

  /** 2-D convolution here (a quantized or sparse weight used from its codes); 1-D and 3-D go to the alternative engine. */
  @Override
  public NDList convolution(NDArray input, NDArray weight, NDArray bias, Shape stride, Shape padding, Shape dilation,
      int groups) {
    if (input.getShape().dimension() != 4) {
      return alt().convolution(input, weight, bias, stride, padding, dilation, groups);
    }
    return new NDList(wrap(ValueOps.conv2d(v(input), v(weight), v(bias), ints(stride, 2, 1, "stride"),
        symmetricPads(padding), ints(dilation, 2, 1, "dilation"), groups)));
  }

  @Override
  public NDList deconvolution(NDArray input, NDArray weight, NDArray bias, Shape stride, Shape padding,
      Shape outPadding, Shape dilation, int groups) {
    return alt().deconvolution(input, weight, bias, stride, padding, outPadding, dilation, groups);
  }

  /** {@code input [..., in]} times {@code weight [out, in]} transposed plus bias; a compressed weight is used as stored. */
  @Override
  public NDList linear(NDArray input, NDArray weight, NDArray bias) {
    return new NDList(wrap(ValueOps.linear(v(input), v(weight), v(bias))));
  }

  /** Rows of {@code weight} picked by {@code input} (a quantized table decodes only those rows' fibers). */
  @Override
  public NDList embedding(NDArray input, NDArray weight, SparseFormat sparseFormat) {
    return new NDList(wrap(ValueOps.gather(v(weight), v(input), 0)));
  }

  @Override
  public NDList prelu(NDArray input, NDArray alpha) {
    return alt().prelu(input, alpha);
  }

  /** Identity at inference; training-mode dropout goes to the alternative engine. */
  @Override
  public NDList dropout(NDArray input, float rate, boolean training) {
    if (!training) {
      return new NDList(input);
    }
    return alt().dropout(input, rate, training);
  }

  /** Normalizes over the last {@code normalizedShape.dimension()} axes; null gamma/beta count as ones/zeros. */
  @Override
  public NDList layerNorm(NDArray input, Shape normalizedShape, NDArray gamma, NDArray beta, float eps) {
    Value x = v(input);
    int axis = x.rank() - normalizedShape.dimension();
    Shape tail = input.getShape().slice(axis);
    if (axis < 0 || !tail.equals(normalizedShape)) {
      throw new IllegalArgumentException("layerNorm: normalized shape " + normalizedShape + " is not the end of input "
          + input.getShape());
    }
    Value g = gamma != null ? v(gamma) : Value.ofFloats(new long[0], new float[] {1f});
    return new NDList(wrap(ValueOps.layerNorm(x, g, v(beta), axis, eps)));
  }

  /** Inference batch norm with the running statistics; training mode goes to the alternative engine. */
  @Override
  public NDList batchNorm(NDArray input, NDArray runningMean, NDArray runningVar, NDArray gamma, NDArray beta,
      int axis, float momentum, float eps, boolean training) {
    if (training) {
      return alt().batchNorm(input, runningMean, runningVar, gamma, beta, axis, momentum, eps, training);
    }
    return new NDList(wrap(ValueOps.batchNorm(v(input), v(gamma), v(beta), v(runningMean), v(runningVar), axis,
        eps)));
  }

  @Override
  public NDList rnn(NDArray input, NDArray state, NDList params, boolean hasBiases, int numLayers,
      RNN.Activation activation, double dropRate, boolean training, boolean bidirectional, boolean batchFirst) {
    return alt().rnn(input, state, params, hasBiases, numLayers, activation, dropRate, training, bidirectional,
        batchFirst);
  }

  @Override
  public NDList gru(NDArray input, NDArray state, NDList params, boolean hasBiases, int numLayers, double dropRate,
      boolean training, boolean bidirectional, boolean batchFirst) {
    return alt().gru(input, state, params, hasBiases, numLayers, dropRate, training, bidirectional, batchFirst);
  }

  @Override
  public NDList lstm(NDArray input, NDList states, NDList params, boolean hasBiases, int numLayers, double dropRate,
      boolean training, boolean bidirectional, boolean batchFirst) {
    return alt().lstm(input, states, params, hasBiases, numLayers, dropRate, training, bidirectional, batchFirst);
  }

  // ---- joins and selection ----

  /** {@code condition ? this : other}, broadcast. */
  @Override
  public NDArray where(NDArray condition, NDArray other) {
    return wrap(ValueOps.where(v(condition), array.value(), v(other)));
  }

  /** This array followed by {@code arrays} along {@code axis}. */
  @Override
  public NDArray concat(NDList arrays, int axis) {
    Value[] parts = new Value[arrays.size() + 1];
    parts[0] = array.value();
    for (int i = 0; i < arrays.size(); i++) {
      parts[i + 1] = v(arrays.get(i));
    }
    int ax = axis < 0 ? axis + parts[0].rank() : axis;
    return wrap(ValueOps.concat(parts, ax));
  }

  /** This array and {@code arrays} stacked along a new axis {@code axis}. */
  @Override
  public NDArray stack(NDList arrays, int axis) {
    Value first = array.value();
    long ax = axis < 0 ? axis + first.rank() + 1 : axis;
    Value[] parts = new Value[arrays.size() + 1];
    parts[0] = ValueOps.unsqueeze(first, new long[] {ax});
    for (int i = 0; i < arrays.size(); i++) {
      parts[i + 1] = ValueOps.unsqueeze(v(arrays.get(i)), new long[] {ax});
    }
    return wrap(ValueOps.concat(parts, (int) ax));
  }

  @Override
  public NDArrayIndexer getIndexer(NDManager manager) {
    return new CaiNDArrayIndexer(manager instanceof CaiNDManager m ? m : (CaiNDManager) array.getManager());
  }

  @Override
  public NDArray getArray() {
    return array;
  }

  // ---- reversed arithmetic (this is the right operand) ----

  @Override
  public NDArray rdivi(NDArray b) {
    return wrap(ValueOps.binary(ValueOps.Binary.DIV, v(b), array.value()));
  }

  @Override
  public NDArray rmodi(NDArray b) {
    return wrap(ElementWise.mod(v(b), array.value()));
  }

  @Override
  public NDArray rpowi(Number n) {
    return wrap(ValueOps.binary(ValueOps.Binary.POW, Value.ofFloats(new long[0], new float[] {n.floatValue()}), array.value()));
  }

  // ---- training and image operators: the alternative engine ----

  @Override
  public void adadeltaUpdate(NDList inputs, NDList weights, float weightDecay, float rescaleGrad, float clipGrad,
      float rho, float epsilon) {
    alt().adadeltaUpdate(inputs, weights, weightDecay, rescaleGrad, clipGrad, rho, epsilon);
  }

  @Override
  public void adagradUpdate(NDList inputs, NDList weights, float learningRate, float weightDecay, float rescaleGrad,
      float clipGrad, float epsilon) {
    alt().adagradUpdate(inputs, weights, learningRate, weightDecay, rescaleGrad, clipGrad, epsilon);
  }

  @Override
  public void adamUpdate(NDList inputs, NDList weights, float learningRate, float learningRateBiasCorrection,
      float weightDecay, float rescaleGrad, float clipGrad, float beta1, float beta2, float epsilon, boolean lazyUpdate,
      boolean adamw) {
    alt().adamUpdate(inputs, weights, learningRate, learningRateBiasCorrection, weightDecay, rescaleGrad, clipGrad,
        beta1, beta2, epsilon, lazyUpdate, adamw);
  }

  @Override
  public void nagUpdate(NDList inputs, NDList weights, float learningRate, float weightDecay, float rescaleGrad,
      float clipGrad, float momentum) {
    alt().nagUpdate(inputs, weights, learningRate, weightDecay, rescaleGrad, clipGrad, momentum);
  }

  @Override
  public void rmspropUpdate(NDList inputs, NDList weights, float learningRate, float weightDecay, float rescaleGrad,
      float clipGrad, float rho, float momentum, float epsilon, boolean centered) {
    alt().rmspropUpdate(inputs, weights, learningRate, weightDecay, rescaleGrad, clipGrad, rho, momentum, epsilon,
        centered);
  }

  @Override
  public void sgdUpdate(NDList inputs, NDList weights, float learningRate, float weightDecay, float rescaleGrad,
      float clipGrad, float momentum, boolean lazyUpdate) {
    alt().sgdUpdate(inputs, weights, learningRate, weightDecay, rescaleGrad, clipGrad, momentum, lazyUpdate);
  }

  /** Nearest, bilinear or area resizing of {@code [N, C, H, W]} ({@link ImageOps}); bicubic goes to the alternative engine. */
  @Override
  public NDArray interpolation(long[] size, int mode, boolean alignCorners) {
    if (!ImageOps.supports(mode)) {
      return alt().interpolation(size, mode, alignCorners);
    }
    return wrap(ImageOps.interpolate(array.value(), size, mode, alignCorners));
  }

  /** {@code NDImageUtils.resize} of an {@code [H, W, C]} image to float32 ({@link ImageOps}); bicubic goes to the alternative engine. */
  @Override
  public NDArray resize(int width, int height, int interpolation) {
    if (!ImageOps.supports(interpolation)) {
      return alt().resize(width, height, interpolation);
    }
    return wrap(ImageOps.resizeHwc(array.value(), width, height, interpolation));
  }

  @Override
  public NDArray randomFlipLeftRight() {
    return alt().randomFlipLeftRight();
  }

  @Override
  public NDArray randomFlipTopBottom() {
    return alt().randomFlipTopBottom();
  }

  @Override
  public NDArray randomBrightness(float brightness) {
    return alt().randomBrightness(brightness);
  }

  @Override
  public NDArray randomHue(float hue) {
    return alt().randomHue(hue);
  }

  @Override
  public NDArray randomColorJitter(float brightness, float contrast, float saturation, float hue) {
    return alt().randomColorJitter(brightness, contrast, saturation, hue);
  }

  @Override
  public NDList multiBoxTarget(NDList inputs, float iouThreshold, float ignoreThreshold, float negativeMiningRatio,
      float negativeMiningThreshold, int minNegativeSamples) {
    return alt().multiBoxTarget(inputs, iouThreshold, ignoreThreshold, negativeMiningRatio, negativeMiningThreshold,
        minNegativeSamples);
  }

  @Override
  public NDList multiBoxPrior(List<Float> sizes, List<Float> ratios, List<Float> steps, List<Float> offsets,
      boolean clip) {
    return alt().multiBoxPrior(sizes, ratios, steps, offsets, clip);
  }

  @Override
  public NDList multiBoxDetection(NDList inputs, boolean clip, float threshold, int backgroundId, float nmsThreshold,
      boolean forceSuppress, int nmsTopK) {
    return alt().multiBoxDetection(inputs, clip, threshold, backgroundId, nmsThreshold, forceSuppress, nmsTopK);
  }
}
