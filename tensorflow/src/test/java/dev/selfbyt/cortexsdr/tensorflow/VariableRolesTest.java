package dev.selfbyt.cortexsdr.tensorflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.protobuf.ByteString;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Roles from graphs with resource variables (TF2's kind, read through {@code ReadVariableOp}),
 * built with TF Java; the checkpoint key tied to its variable through a {@code SaveV2} node, as
 * object-based checkpoints name variables ({@code layer/.ATTRIBUTES/VARIABLE_VALUE}).
 */
class VariableRolesTest {
  @Test
  void resourceVariablesTransposedMatMulAndResourceGather() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      var ids = tf.withName("ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      var w = tf.withName("w").varHandleOp(TFloat32.class, Shape.of(3, 4)); // [N, K], used transposed
      var table = tf.withName("table").varHandleOp(TFloat32.class, Shape.of(100, 3));
      var y = tf.linalg.matMul(x, tf.readVariableOp(w, TFloat32.class), MatMul.transposeB(true));
      tf.math.add(y, tf.resourceGather(table, ids, TFloat32.class));
      g = graph.toGraphDef();
    }
    g = g.toBuilder()
        .addNode(NodeDef.newBuilder().setName("names").setOp("Const").putAttr("value", AttrValue.newBuilder()
            .setTensor(TensorProto.newBuilder().setDtype(DataType.DT_STRING)
                .addStringVal(ByteString.copyFromUtf8("dense/.ATTRIBUTES/VARIABLE_VALUE"))).build()))
        .addNode(NodeDef.newBuilder().setName("read_for_save").setOp("ReadVariableOp").addInput("w"))
        .addNode(NodeDef.newBuilder().setName("save").setOp("SaveV2").addInput("prefix").addInput("names")
            .addInput("slices").addInput("read_for_save"))
        .build();
    Map<String, VariableRoles.Use> uses = VariableRoles.of(g, Set.of("dense/.ATTRIBUTES/VARIABLE_VALUE", "table"));
    VariableRoles.Use dense = uses.get("dense/.ATTRIBUTES/VARIABLE_VALUE");
    assertEquals(TensorRole.MATMUL_WEIGHT, dense.role());
    assertEquals(1, dense.axis()); // transpose_b: K is the last axis
    assertNull(dense.activation()); // GPTQ here takes [K, N] weights only
    assertEquals(TensorRole.EMBEDDING, uses.get("table").role());
    assertEquals(java.util.List.of(100L, 3L), java.util.Arrays.stream(uses.get("table").declaredShape()).boxed().toList());
  }
}
