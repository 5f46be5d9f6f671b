package dev.selfbyt.cortexsdr.djl.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.selfbyt.cortexsdr.djl.kernel.DenseRows;
import java.util.Arrays;
import java.util.Map;

/**
 * Recurrent layers as ONNX defines them: LSTM (gates i, o, f, c; peepholes, clip, coupled input
 * and forget gate) and GRU (gates z, r, h; the reset gate before or after the recurrent product),
 * forward, reverse or bidirectional, batch-first or not, with per-sequence lengths. The input
 * projection of every time step is one product with the weight {@code W [dirs, gates*H, I]} as
 * stored (quantized or sparse ones used from their codes); the recurrent weight is decoded once
 * per call. Only the default activations (sigmoid and tanh) are supported, as PyTorch and
 * TensorFlow export them.
 */
final class RecurrentOps {
  private RecurrentOps() {}

  static void register(Map<String, Ops.Factory> ops) {
    ops.put("LSTM", (a, n, o) -> recurrent(a, n, true));
    ops.put("GRU", (a, n, o) -> recurrent(a, n, false));
  }

  /** The attributes of one LSTM or GRU node. */
  record Spec(boolean lstm, int hidden, int dirs, boolean reverse, float clip, boolean inputForget,
      boolean linearBeforeReset, boolean batchFirst) {
    int gates() {
      return lstm ? 4 : 3;
    }
  }

  private static Ops.Op recurrent(Attrs a, NodeProto n, boolean lstm) {
    String op = lstm ? "LSTM" : "GRU";
    String direction = a.s("direction", "forward");
    if (!direction.equals("forward") && !direction.equals("reverse") && !direction.equals("bidirectional")) {
      throw new IllegalArgumentException(op + " node " + n.getName() + ": direction '" + direction + "'");
    }
    AttributeProto acts = a.get("activations");
    if (acts != null) {
      String[] dflt = lstm ? new String[] {"Sigmoid", "Tanh", "Tanh"} : new String[] {"Sigmoid", "Tanh"};
      for (int i = 0; i < acts.getStringsCount(); i++) {
        if (!acts.getStrings(i).toStringUtf8().equalsIgnoreCase(dflt[i % dflt.length])) {
          throw new IllegalArgumentException(op + " node " + n.getName() + ": activation "
              + acts.getStrings(i).toStringUtf8() + " is not supported (only " + String.join(", ", dflt) + ")");
        }
      }
    }
    long hidden = a.i("hidden_size", 0);
    Spec spec = new Spec(lstm, (int) hidden, direction.equals("bidirectional") ? 2 : 1, direction.equals("reverse"),
        a.f("clip", 0f), a.i("input_forget", 0) != 0, a.i("linear_before_reset", 0) != 0, a.i("layout", 0) != 0);
    return in -> run(spec, n.getName(), in, n.getOutputCount());
  }

  /** Inputs X, W, R, B, sequence_lens, initial_h, (LSTM) initial_c, P; outputs Y, Y_h, (LSTM) Y_c. */
  static Value[] run(Spec sp, String node, Value[] in, int outputs) {
    String op = sp.lstm() ? "LSTM" : "GRU";
    Value xv = in[0];
    Value w = in[1];
    Value r = in[2];
    long[] xs = xv.shapeRef();
    if (xs.length != 3 || w.rank() != 3 || r.rank() != 3) {
      throw new IllegalArgumentException(op + " node " + node + ": X " + Arrays.toString(xs) + ", W "
          + Arrays.toString(w.shapeRef()) + " and R " + Arrays.toString(r.shapeRef()) + " must be 3-D");
    }
    int seq = (int) (sp.batchFirst() ? xs[1] : xs[0]);
    int batch = (int) (sp.batchFirst() ? xs[0] : xs[1]);
    int inSize = (int) xs[2];
    int h = sp.hidden() > 0 ? sp.hidden() : (int) r.dim(2);
    int g = sp.gates();
    int dirs = sp.dirs();
    if (w.dim(0) != dirs || w.dim(1) != (long) g * h || w.dim(2) != inSize || r.dim(0) != dirs
        || r.dim(1) != (long) g * h || r.dim(2) != h) {
      throw new IllegalArgumentException(op + " node " + node + ": W " + Arrays.toString(w.shapeRef()) + " and R "
          + Arrays.toString(r.shapeRef()) + " do not fit " + dirs + " direction(s), hidden size " + h + " and input "
          + Arrays.toString(xs));
    }
    float[] bias = in.length > 3 && in[3] != null ? in[3].floats() : null;
    long[] lens = in.length > 4 && in[4] != null ? in[4].longs() : null;
    float[] h0 = in.length > 5 && in[5] != null ? batchMajor(in[5], sp, dirs, batch, h) : null;
    float[] c0 = sp.lstm() && in.length > 6 && in[6] != null ? batchMajor(in[6], sp, dirs, batch, h) : null;
    float[] peep = sp.lstm() && in.length > 7 && in[7] != null ? in[7].floats() : null;
    // X as [seq * batch, I] in time-major order
    float[] x = xv.floats();
    if (sp.batchFirst()) {
      x = ShapeOps.transpose(xv, new long[] {1, 0, 2}).floats();
    }
    // input projections of every step and direction at once: [seq * batch, dirs * g * h]
    int cols = dirs * g * h;
    float[] xw = new float[seq * batch * cols];
    ProductOps.multiplyByRows(x, seq * batch, w, inSize, cols, xw);
    float[] rAll = r.floats();
    float[] y = new float[seq * dirs * batch * h];
    float[] yh = new float[dirs * batch * h];
    float[] yc = new float[dirs * batch * h];
    for (int d = 0; d < dirs; d++) {
      boolean back = sp.reverse() || d == 1;
      DenseRows rd = new DenseRows(Arrays.copyOfRange(rAll, d * g * h * h, (d + 1) * g * h * h), g * h, h);
      float[] hPrev = new float[batch * h];
      float[] cPrev = new float[batch * h];
      if (h0 != null) {
        System.arraycopy(h0, d * batch * h, hPrev, 0, batch * h);
      }
      if (c0 != null) {
        System.arraycopy(c0, d * batch * h, cPrev, 0, batch * h);
      }
      float[] hr = new float[batch * g * h];
      float[] gate = new float[g * h];
      for (int step = 0; step < seq; step++) {
        recurrent(hPrev, batch, rd.data(), g * h, h, hr);
        float[] hNext = hPrev.clone();
        float[] cNext = cPrev.clone();
        for (int b = 0; b < batch; b++) {
          int len = lens == null ? seq : (int) lens[b];
          if (step >= len) {
            continue; // past this sequence's end: state kept, output left zero
          }
          int t = back ? len - 1 - step : step;
          int xo = (t * batch + b) * cols + d * g * h;
          int ho = b * g * h;
          if (sp.lstm()) {
            lstmCell(sp, h, xw, xo, hr, ho, bias, d, peep, cPrev, b * h, gate, hNext, cNext);
          } else {
            gruCell(sp, h, xw, xo, hr, ho, bias, d, hPrev, b * h, rd, hNext);
          }
          System.arraycopy(hNext, b * h, y, ((t * dirs + d) * batch + b) * h, h);
        }
        hPrev = hNext;
        cPrev = cNext;
      }
      System.arraycopy(hPrev, 0, yh, d * batch * h, batch * h);
      System.arraycopy(cPrev, 0, yc, d * batch * h, batch * h);
    }
    Value[] out = new Value[outputs];
    Value yv = Value.ofFloats(new long[] {seq, dirs, batch, h}, y);
    Value yhv = Value.ofFloats(new long[] {dirs, batch, h}, yh);
    Value ycv = Value.ofFloats(new long[] {dirs, batch, h}, yc);
    if (sp.batchFirst()) {
      yv = ShapeOps.transpose(yv, new long[] {2, 0, 1, 3});
      yhv = ShapeOps.transpose(yhv, new long[] {1, 0, 2});
      ycv = ShapeOps.transpose(ycv, new long[] {1, 0, 2});
    }
    Value[] all = {yv, yhv, ycv};
    for (int i = 0; i < outputs && i < (sp.lstm() ? 3 : 2); i++) {
      out[i] = all[i];
    }
    return out;
  }

  /**
   * {@code hr[b, k] = sum_j h[b, j] * r[k, j]}: the recurrent product of one step, a few rows by a
   * small matrix, as plain dot products (a tiled product costs more in setup than it saves here).
   */
  private static void recurrent(float[] h, int batch, float[] r, int rows, int hidden, float[] hr) {
    for (int b = 0; b < batch; b++) {
      int ho = b * hidden;
      for (int k = 0; k < rows; k++) {
        int ro = k * hidden;
        float acc = 0f;
        for (int j = 0; j < hidden; j++) {
          acc += h[ho + j] * r[ro + j];
        }
        hr[b * rows + k] = acc;
      }
    }
  }

  /** An initial state {@code [dirs, batch, H]} (or batch-first {@code [batch, dirs, H]}) as direction-major floats. */
  private static float[] batchMajor(Value v, Spec sp, int dirs, int batch, int h) {
    Value t = sp.batchFirst() ? ShapeOps.transpose(v, new long[] {1, 0, 2}) : v;
    if (t.size() != dirs * batch * h) {
      throw new IllegalArgumentException("initial state " + Arrays.toString(v.shapeRef()) + " is not [" + dirs + ", "
          + batch + ", " + h + "]");
    }
    return t.floats();
  }

  private static float sigmoid(float v) {
    return (float) (1.0 / (1.0 + Math.exp(-v)));
  }

  private static float clip(float v, float c) {
    return c > 0 ? Math.max(-c, Math.min(c, v)) : v;
  }

  private static void lstmCell(Spec sp, int h, float[] xw, int xo, float[] hr, int ho, float[] bias, int d,
      float[] peep, float[] cPrev, int so, float[] gate, float[] hNext, float[] cNext) {
    int bw = d * 8 * h;
    for (int k = 0; k < 4 * h; k++) {
      float v = xw[xo + k] + hr[ho + k];
      if (bias != null) {
        v += bias[bw + k] + bias[bw + 4 * h + k];
      }
      gate[k] = v;
    }
    int po = d * 3 * h;
    for (int j = 0; j < h; j++) {
      float c = cPrev[so + j];
      float iv = gate[j] + (peep == null ? 0f : peep[po + j] * c);
      float fv = gate[2 * h + j] + (peep == null ? 0f : peep[po + 2 * h + j] * c);
      float i = sigmoid(clip(iv, sp.clip()));
      float f = sp.inputForget() ? 1f - i : sigmoid(clip(fv, sp.clip()));
      float cc = (float) Math.tanh(clip(gate[3 * h + j], sp.clip()));
      float cNew = f * c + i * cc;
      float ov = gate[h + j] + (peep == null ? 0f : peep[po + h + j] * cNew);
      float o = sigmoid(clip(ov, sp.clip()));
      cNext[so + j] = cNew;
      hNext[so + j] = o * (float) Math.tanh(cNew);
    }
  }

  private static void gruCell(Spec sp, int h, float[] xw, int xo, float[] hr, int ho, float[] bias, int d,
      float[] hPrev, int so, DenseRows rd, float[] hNext) {
    int bw = d * 6 * h;
    float[] z = new float[h];
    float[] rg = new float[h];
    for (int j = 0; j < h; j++) {
      float zv = xw[xo + j] + hr[ho + j] + (bias == null ? 0f : bias[bw + j] + bias[bw + 3 * h + j]);
      float rv = xw[xo + h + j] + hr[ho + h + j] + (bias == null ? 0f : bias[bw + h + j] + bias[bw + 4 * h + j]);
      z[j] = sigmoid(clip(zv, sp.clip()));
      rg[j] = sigmoid(clip(rv, sp.clip()));
    }
    float[] rec = new float[h];
    if (sp.linearBeforeReset()) {
      for (int j = 0; j < h; j++) {
        rec[j] = rg[j] * (hr[ho + 2 * h + j] + (bias == null ? 0f : bias[bw + 5 * h + j]));
      }
    } else {
      // (r * h_prev) times the candidate rows of R, plus its bias
      float[] rh = new float[h];
      for (int j = 0; j < h; j++) {
        rh[j] = rg[j] * hPrev[so + j];
      }
      float[] rows = rd.data(); // [3H, H]: the candidate's rows start at 2H
      for (int j = 0; j < h; j++) {
        double acc = bias == null ? 0 : bias[bw + 5 * h + j];
        for (int k = 0, ro = (2 * h + j) * h; k < h; k++) {
          acc += rh[k] * rows[ro + k];
        }
        rec[j] = (float) acc;
      }
    }
    for (int j = 0; j < h; j++) {
      float cand = (float) Math.tanh(clip(xw[xo + 2 * h + j] + (bias == null ? 0f : bias[bw + 2 * h + j]) + rec[j],
          sp.clip()));
      hNext[so + j] = (1 - z[j]) * cand + z[j] * hPrev[so + j];
    }
  }
}
