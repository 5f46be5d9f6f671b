package dev.selfbyt.cortexsdr.core.format;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import dev.selfbyt.cortexsdr.core.codec.MalformedPayloadException;
import dev.selfbyt.cortexsdr.core.codec.SdrCodec;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code .cai} files (valid checksums) the fuzzer (branch fuzz-load, CaiReaderFuzzIT) found
 * exhausting memory, kept in {@code fuzz-regressions/}: opening, verifying and reading each fails
 * with one {@link CaiException} naming the file, allocating neither heap nor direct memory for
 * what the file merely declares.
 */
class FuzzRegressionTest {
  private static long heapAllocatedByThisThread() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
  }

  private static long directMemoryUsed() {
    return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
  }

  @TestFactory
  Stream<DynamicTest> mutatedFilesFailWithACaiExceptionWithinBoundedMemory() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(Path.of("src/test/resources/fuzz-regressions"))) {
      files = s.filter(p -> p.toString().endsWith(".cai")).sorted().toList();
    }
    assertFalse(files.isEmpty());
    return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> {
      long heap = heapAllocatedByThisThread();
      long direct = directMemoryUsed();
      boolean refused = false;
      try (CaiReader cai = CaiReader.open(f)) {
        cai.verify();
        for (CaiEntry e : cai.entries()) {
          cai.read(e.name());
        }
      } catch (CaiException expected) {
        refused = true;
        assertTrue(expected.getMessage().startsWith(f.toString()), expected.getMessage());
      }
      assertTrue(refused, "each of these files is damaged");
      long grewHeap = heapAllocatedByThisThread() - heap;
      long grewDirect = directMemoryUsed() - direct;
      assertTrue(grewHeap < 64 << 20 && grewDirect < 64 << 20, "allocated " + grewHeap + " heap bytes, "
          + grewDirect + " direct bytes");
    }));
  }

  /**
   * Found by replaying the long fuzz run's findings after the hostile-files fixes (FindingReplay,
   * LoaderFuzzIT#ortSession): an SDR weight with quantized values whose payload ends before its
   * position section (empty, or cut inside a varint). {@code CaiReader.read} names it, but the ONNX
   * rewriters call {@link SdrCodec#unpackQuantized} on the stored payload directly, and it threw a
   * raw {@code BufferUnderflowException}; it now throws {@link MalformedPayloadException}.
   */
  @Test
  void sdrUnpackQuantizedOfACutPayloadThrowsMalformedPayloadException() throws IOException {
    for (String file : new String[] {"ortSession-BufferUnderflowException-1034f0abddc3.cai",
        "ortSession-BufferUnderflowException-b722430719ff.cai"}) {
      int refused = 0;
      try (CaiReader cai = CaiReader.open(Path.of("src/test/resources/fuzz-regressions", file))) {
        for (CaiEntry e : cai.entries()) {
          CaiReader.StoredTensor st;
          try {
            st = cai.readStored(e.name());
          } catch (CaiException otherDamage) {
            continue;
          }
          if (st.codec() instanceof SdrCodec sdr && sdr.valueCodec() != null) {
            try {
              sdr.unpackQuantized(e.info(), st.payload()); // anything but this exception fails the test
            } catch (MalformedPayloadException expected) {
              refused++;
            }
          }
        }
      }
      assertTrue(refused >= 1, file + " holds a cut SDR payload");
    }
  }
}
