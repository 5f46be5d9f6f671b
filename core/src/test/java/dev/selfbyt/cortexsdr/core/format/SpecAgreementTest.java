package dev.selfbyt.cortexsdr.core.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.codec.CodecId;
import dev.selfbyt.cortexsdr.core.codec.Codecs;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.RawCodec;
import dev.selfbyt.cortexsdr.core.codec.RleCodec;
import dev.selfbyt.cortexsdr.core.codec.SdrCodec;
import dev.selfbyt.cortexsdr.core.codec.TieredQuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The spec (docs/cai-format.md, section 7) and the reader agree: the dtype, role and codec tables
 * list exactly the codes the reader's enums accept, with the same names, sizes and params
 * versions. Editing one without the other fails here.
 */
class SpecAgreementTest {
  static final Path SPEC = Path.of("../docs/cai-format.md");

  /** The rows (cells trimmed, backticks dropped) of the table whose header starts with {@code firstColumn}. */
  static List<String[]> table(String firstColumn) throws IOException {
    List<String> lines = Files.readAllLines(SPEC);
    List<String[]> rows = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith("| " + firstColumn + " ")) {
        for (int j = i + 2; j < lines.size() && lines.get(j).startsWith("|"); j++) {
          String[] cells = lines.get(j).substring(1).split("\\|");
          for (int k = 0; k < cells.length; k++) {
            cells[k] = cells[k].replace("`", "").trim();
          }
          rows.add(cells);
        }
        return rows;
      }
    }
    throw new AssertionError(SPEC + " has no table headed '" + firstColumn + "'");
  }

  @Test
  void everyDTypeTheReaderAcceptsIsInTheSpecAndNoOther() throws IOException {
    List<String[]> rows = table("dtype code");
    assertEquals(DType.values().length, rows.size(), "dtype rows in the spec");
    for (String[] r : rows) {
      DType t = DType.fromCode(Integer.parseInt(r[0]));
      assertTrue(t != null, "the spec lists dtype code " + r[0] + " but the reader refuses it");
      assertEquals(t.name().toLowerCase(Locale.ROOT), r[1], "dtype " + r[0]);
      assertEquals(t.size(), Integer.parseInt(r[2]), "bytes of " + r[1]);
      assertEquals(t.isFloating(), r[3].equals("yes"), "floating " + r[1]);
    }
    for (int code = 0; code < 256; code++) {
      final int c = code;
      if (rows.stream().noneMatch(r -> Integer.parseInt(r[0]) == c)) {
        assertNull(DType.fromCode(c), "the reader accepts dtype code " + c + " the spec does not list");
      }
    }
  }

  @Test
  void rolesAgree() throws IOException {
    List<String[]> rows = table("role code");
    assertEquals(TensorRole.values().length, rows.size());
    for (String[] r : rows) {
      TensorRole role = TensorRole.valueOf(r[1]);
      assertEquals(role.code(), Integer.parseInt(r[0]), r[1]);
    }
  }

  @Test
  void codecsAndTheirParamsVersionsAgree() throws IOException {
    List<String[]> rows = table("codec id");
    assertEquals(CodecId.values().length, rows.size());
    for (String[] r : rows) {
      CodecId id = CodecId.fromCode(Integer.parseInt(r[0]));
      assertTrue(id != null, "codec id " + r[0]);
      assertEquals(id.name().toLowerCase(Locale.ROOT), r[1]);
      String version = switch (id) {
        case QUANT -> Integer.toString(QuantCodec.PARAMS_VERSION_CURRENT);
        case SDR -> Integer.toString(SdrCodec.PARAMS_VERSION_CURRENT);
        case TIERED -> Integer.toString(TieredQuantCodec.PARAMS_VERSION_CURRENT);
        case CODEBOOK -> Integer.toString(dev.selfbyt.cortexsdr.core.codec.CodebookQuantCodec.PARAMS_VERSION_CURRENT);
        case ENTROPY -> Integer.toString(dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec.PARAMS_VERSION_CURRENT);
        default -> "none";
      };
      assertEquals(version, r[3], "params version of " + r[1]);
      boolean lossless = switch (id) {
        case RAW -> RawCodec.plain().isLossless();
        case RLE -> RleCodec.INSTANCE.isLossless();
        case QUANT -> QuantCodec.perTensor(8, true).isLossless();
        case SDR -> SdrCodec.builder().build().isLossless();
        case TIERED -> TieredQuantCodec.of(java.util.List.of(QuantCodec.perChannel(4, false))).isLossless();
        case CODEBOOK -> dev.selfbyt.cortexsdr.core.codec.CodebookQuantCodec.blockwise(3, 32).isLossless();
        case ENTROPY -> dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec.of(0.58).isLossless();
      };
      assertEquals(lossless, r[2].equals("yes"), "lossless " + r[1]);
    }
    // the params version is the first params byte, as the spec says
    assertEquals(QuantCodec.PARAMS_VERSION_CURRENT, QuantCodec.blockwise(4, false, 32).withSuperScales().params()[0]);
    assertEquals(QuantCodec.PARAMS_VERSION_START, QuantCodec.perTensor(8, true).params()[0], "version 1 suffices");
    assertEquals(SdrCodec.PARAMS_VERSION_CURRENT, SdrCodec.builder().build().params()[0]);
    assertEquals(CodecId.QUANT, Codecs.fromStored(CodecId.QUANT, QuantCodec.perTensor(8, true).params()).id());
  }
}
