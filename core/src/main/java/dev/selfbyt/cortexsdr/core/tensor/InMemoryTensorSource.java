package dev.selfbyt.cortexsdr.core.tensor;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link TensorSource} over tensors already in memory, for tests and programs that build
 * weights themselves. Build one with {@link #builder(String)}:
 *
 * <pre>{@code
 * TensorSource src = InMemoryTensorSource.builder("example")
 *     .graph(graphBytes)
 *     .add(new TensorInfo("fc.weight", DType.FLOAT32, new long[] {256, 128},
 *          TensorRole.MATMUL_WEIGHT, 1), floats)
 *     .build();
 * }</pre>
 */
public final class InMemoryTensorSource implements TensorSource {
  private final String format;
  private final byte[] graph;
  private final Map<String, String> metadata;
  private final Map<String, TensorData> tensors;

  private InMemoryTensorSource(Builder b) {
    this.format = b.format;
    this.graph = b.graph;
    this.metadata = Map.copyOf(b.metadata);
    this.tensors = new LinkedHashMap<>(b.tensors);
  }

  public static Builder builder(String format) {
    return new Builder(format);
  }

  @Override
  public String format() {
    return format;
  }

  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public byte[] graph() {
    return graph.clone();
  }

  @Override
  public List<TensorInfo> tensors() {
    List<TensorInfo> out = new ArrayList<>();
    tensors.values().forEach(t -> out.add(t.info()));
    return out;
  }

  @Override
  public TensorData read(TensorInfo tensor) {
    TensorData d = tensors.get(tensor.name());
    if (d == null) {
      throw new IllegalArgumentException("no tensor named '" + tensor.name() + "'");
    }
    // a fresh view per call: TensorData is not thread-safe
    return TensorData.ofBytes(d.info(), d.bytes());
  }

  /** Collects tensors in insertion order. */
  public static final class Builder {
    private final String format;
    private byte[] graph = new byte[0];
    private final Map<String, String> metadata = new HashMap<>();
    private final Map<String, TensorData> tensors = new LinkedHashMap<>();

    private Builder(String format) {
      this.format = format;
    }

    public Builder graph(byte[] graph) {
      this.graph = graph.clone();
      return this;
    }

    public Builder metadata(String key, String value) {
      metadata.put(key, value);
      return this;
    }

    public Builder add(TensorInfo info, float[] values) {
      return put(TensorData.ofFloats(info, values.clone()));
    }

    public Builder add(TensorInfo info, ByteBuffer littleEndianBytes) {
      ByteBuffer copy = ByteBuffer.allocate(littleEndianBytes.remaining());
      copy.put(littleEndianBytes.duplicate()).flip();
      return put(TensorData.ofBytes(info, copy));
    }

    private Builder put(TensorData d) {
      if (tensors.putIfAbsent(d.info().name(), d) != null) {
        throw new IllegalArgumentException("duplicate tensor name '" + d.info().name() + "'");
      }
      // materialize the bytes once so that concurrent reads only ever see immutable state
      d.bytes();
      return this;
    }

    public InMemoryTensorSource build() {
      return new InMemoryTensorSource(this);
    }
  }
}
