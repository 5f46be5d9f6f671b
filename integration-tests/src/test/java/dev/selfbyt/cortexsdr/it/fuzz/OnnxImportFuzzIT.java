package dev.selfbyt.cortexsdr.it.fuzz;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.ByteString;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing of the ONNX importer: {@code OnnxModelReader.open}, then every tensor
 * read, on mutations of {@link FuzzSeeds#graphModel()}. The input edits the protobuf's fields
 * (initializer dims, data type, raw and typed data, external data entries and locations,
 * initializers moved into Constant nodes or into {@code If} branches, names) and then, sometimes,
 * the serialized bytes.
 * Expected: success or an {@code IOException} ({@code OnnxFormatException} is a {@code
 * CaiException}) naming the problem.
 */
class OnnxImportFuzzIT {
  private static final Path FOLDER;

  static {
    try {
      FOLDER = Files.createTempDirectory("onnx-fuzz");
      // external data a mutated model may point at: inside the folder, and a name outside it
      Files.write(FOLDER.resolve("w.bin"), new byte[4096]);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FuzzTest(maxDuration = "12s")
  void mutatedOnnx(FuzzedDataProvider data) throws Exception {
    ModelProto.Builder m = ModelProto.parseFrom(FuzzSeeds.onnx()).toBuilder();
    int edits = data.consumeInt(1, 4);
    for (int i = 0; i < edits && data.remainingBytes() > 0; i++) {
      edit(m.getGraphBuilder(), data);
    }
    byte[] bytes = m.build().toByteArray();
    if (data.consumeInt(0, 7) == 0) {
      bytes = CaiMutator.editBytes(bytes, data);
    }
    Path p = place(bytes);
    FuzzHarness.run("mutatedOnnx", bytes, "onnx", () -> readAll(p));
  }

  /** Writes a model into the folder whose {@code w.bin} its external data may point at. */
  static Path place(byte[] bytes) throws IOException {
    Path p = FOLDER.resolve(Thread.currentThread().getId() + "-model.onnx");
    Files.write(p, bytes);
    return p;
  }

  static void readAll(Path p) throws Exception {
    try (OnnxModelReader r = OnnxModelReader.open(p)) {
      r.metadata();
      r.graph();
      for (TensorInfo t : r.tensors()) {
        try {
          TensorData d = r.read(t);
          FuzzHarness.check(d.bytes().remaining() == t.byteSize(), p, t.name(), "read " + d.bytes().remaining()
              + " bytes, shape says " + t.byteSize());
        } catch (CaiException expected) {
          // a damaged tensor is named; the others stay readable
          FuzzHarness.expected(expected);
        }
      }
    } catch (CaiException expected) {
      // not a readable ONNX model, named as such
      FuzzHarness.expected(expected);
    }
  }

  private static void edit(GraphProto.Builder g, FuzzedDataProvider d) {
    if (g.getInitializerCount() == 0) {
      return;
    }
    int k = d.consumeInt(0, g.getInitializerCount() - 1);
    TensorProto.Builder t = g.getInitializerBuilder(k);
    switch (d.consumeInt(0, 12)) {
      case 0 -> {
        if (t.getDimsCount() > 0) {
          int i = d.consumeInt(0, t.getDimsCount() - 1);
          t.setDims(i, CaiMutator.interesting(d, t.getDims(i)));
        }
      }
      case 1 -> t.addDims(CaiMutator.interesting(d, 1));
      case 2 -> t.setDataType(d.consumeInt(0, 25));
      case 3 -> t.setRawData(ByteString.copyFrom(CaiMutator.editBytes(t.getRawData().toByteArray(), d)));
      case 4 -> t.clearRawData();
      case 5 -> {
        t.clearRawData();
        int n = d.consumeInt(0, 64);
        for (int i = 0; i < n; i++) {
          t.addFloatData(d.consumeFloat());
        }
      }
      case 6 -> {
        t.clearRawData();
        t.addInt64Data(d.consumeLong()).addInt32Data(d.consumeInt());
      }
      case 7 -> {
        String[] locations = {"w.bin", "missing.bin", "../w.bin", "/etc/hostname", "sub/../w.bin", "", ".", "w.bin\0x"};
        t.clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
            .addExternalData(entry("location", d.consumeBoolean() ? locations[d.consumeInt(0, locations.length - 1)]
                : d.consumeString(12)));
        if (d.consumeBoolean()) {
          t.addExternalData(entry("offset", Long.toString(CaiMutator.interesting(d, 0))));
        }
        if (d.consumeBoolean()) {
          t.addExternalData(entry("length", Long.toString(CaiMutator.interesting(d, 4096))));
        }
      }
      case 8 -> t.setDataLocation(d.consumeBoolean() ? TensorProto.DataLocation.EXTERNAL : TensorProto.DataLocation.DEFAULT);
      case 9 -> { // the initializer becomes a Constant node's value
        TensorProto v = t.build();
        g.removeInitializer(k);
        g.addNode(NodeProto.newBuilder().setOpType("Constant").addOutput(v.getName()).setName("c_" + v.getName())
            .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                .setT(v.toBuilder().clearName())));
      }
      case 10 -> t.setName(d.consumeBoolean() ? g.getInitializer(d.consumeInt(0, g.getInitializerCount() - 1))
          .getName() : d.consumeString(8));
      case 11 -> { // the initializer moves into an If branch (a control-flow subgraph), maybe nested deeper
        TensorProto v = t.build();
        g.removeInitializer(k);
        GraphProto.Builder branch = GraphProto.newBuilder().setName("b").addInitializer(v)
            .addOutput(ai.onnx.proto.OnnxMl.ValueInfoProto.newBuilder().setName(v.getName()));
        NodeProto.Builder node = NodeProto.newBuilder().setOpType("If").addInput("c").addOutput("if_" + v.getName())
            .setName(d.consumeBoolean() ? "" : d.consumeString(6));
        for (String a : new String[] {"then_branch", "else_branch"}) {
          node.addAttribute(AttributeProto.newBuilder().setName(a).setType(AttributeProto.AttributeType.GRAPH)
              .setG(branch));
        }
        if (d.consumeBoolean() && g.getNodeCount() > 0) {
          // into the first subgraph-holding node's first graph, when there is one
          for (int n = 0; n < g.getNodeCount(); n++) {
            NodeProto.Builder host = g.getNodeBuilder(n);
            if (host.getAttributeCount() > 0 && host.getAttribute(0).hasG()) {
              host.getAttributeBuilder(0).getGBuilder().addNode(node);
              return;
            }
          }
        }
        g.addNode(node);
      }
      default -> g.addInitializer(t.build());
    }
  }

  private static StringStringEntryProto entry(String k, String v) {
    return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
  }
}
