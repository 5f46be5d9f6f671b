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
import org.junit.jupiter.api.DynamicTest;
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
}
