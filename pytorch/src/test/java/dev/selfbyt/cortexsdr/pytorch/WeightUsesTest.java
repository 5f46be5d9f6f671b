package dev.selfbyt.cortexsdr.pytorch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Roles from how TorchScript code uses an attribute: operators and argument positions, never names. */
class WeightUsesTest {
  private static final String TRACED = String.join("\n",
      "class Block(Module):",
      "  __parameters__ = [\"a\", \"b\", ]",
      "  a : Tensor",
      "  b : Tensor",
      "  c : Tensor",
      "  inner : __torch__.m.Inner",
      "  def forward(self: __torch__.m.Block,",
      "    x: Tensor) -> Tensor:",
      "    inner = self.inner",
      "    q = inner.q",
      "    b = self.b",
      "    a = self.a",
      "    y = torch.add(self.c, torch.matmul(torch.linear(x, a, b), q))",
      "    return torch._convolution(y, self.k, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, False, False, True, True)",
      "");

  private static final String SCRIPTED = String.join("\n",
      "class Conv(Module):",
      "  def forward(self: __torch__.m.Conv,",
      "    input: Tensor) -> Tensor:",
      "    weight = self.kernel",
      "    _0 = (self)._conv_forward(input, weight, self.shift, )",
      "    return _0",
      "  def _conv_forward(self: __torch__.m.Conv,",
      "    input: Tensor,",
      "    weight: Tensor,",
      "    bias: Optional[Tensor]) -> Tensor:",
      "    return torch.conv2d(input, weight, bias, [1, 1], [1, 1], [1, 1])",
      "class Table(Module):",
      "  def forward(self: __torch__.m.Table,",
      "    input: Tensor) -> Tensor:",
      "    _0 = __torch__.f.lookup",
      "    rows = self.rows",
      "    return _0(input, rows, None, )",
      "");

  private static final String FUNCTIONS = String.join("\n",
      "def lookup(input: Tensor,",
      "    weight: Tensor,",
      "    padding_idx: Optional[int]=None) -> Tensor:",
      "  _1 = torch.embedding(weight, input, -1, False, False)",
      "  return _1",
      "");

  @Test
  void operatorsAndArgumentPositionsGiveRolesAndAxes() {
    WeightUses u = WeightUses.parse(Map.of("__torch__.m", TRACED));
    assertEquals(new WeightUses.Role(TensorRole.MATMUL_WEIGHT, 1), u.role("__torch__.m.Block", "a", 2), "linear weight [out, in]");
    assertEquals(TensorRole.BIAS, u.role("__torch__.m.Block", "b", 1).role());
    assertEquals(new WeightUses.Role(TensorRole.MATMUL_WEIGHT, 0), u.role("__torch__.m.Block", "inner.q", 2),
        "matmul right-hand side [K, N], reached through a submodule");
    assertEquals(TensorRole.BIAS, u.role("__torch__.m.Block", "c", 1).role(), "a vector added is a bias");
    assertEquals(TensorRole.OTHER, u.role("__torch__.m.Block", "c", 3).role(), "a tensor added is nothing known");
    assertEquals(new WeightUses.Role(TensorRole.CONV_WEIGHT, 1), u.role("__torch__.m.Block", "k", 4));
    assertEquals(TensorRole.OTHER, u.role("__torch__.m.Block", "unused", 2).role());
  }

  @Test
  void weightsAreFollowedIntoMethodsAndFunctions() {
    WeightUses u = WeightUses.parse(Map.of("__torch__.m", SCRIPTED, "__torch__.f", FUNCTIONS));
    assertEquals(new WeightUses.Role(TensorRole.CONV_WEIGHT, 1), u.role("__torch__.m.Conv", "kernel", 4));
    assertEquals(TensorRole.BIAS, u.role("__torch__.m.Conv", "shift", 1).role());
    assertEquals(new WeightUses.Role(TensorRole.EMBEDDING, -1), u.role("__torch__.m.Table", "rows", 2));
  }
}
