package dev.selfbyt.cortexsdr.it.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import java.util.List;

/**
 * Coverage-guided fuzzing of {@code CaiReader}: open, read every tensor (stored and decoded),
 * verify. Two targets:
 *
 * <ul>
 *   <li>{@link #mutatedFields}: structure-aware, the input is a program of field edits to one of
 *       {@link FuzzSeeds#reader()}'s valid files ({@link CaiMutator}), written back with every
 *       checksum recomputed, so mutations reach the directory, codec params and payload decoders;
 *   <li>{@link #repairedBytes}: libFuzzer's own byte mutations of whole files, checksums repaired
 *       where they can be found ({@link ChecksumRepair}); its corpus holds real {@code .cai} files.
 * </ul>
 *
 * In a normal build ({@code mvn verify}) both run as regression tests on the committed corpus in
 * {@code src/test/resources/.../CaiReaderFuzzITInputs}; with {@code JAZZER_FUZZ=1} Jazzer fuzzes
 * (see docs/reliability.md for the commands).
 */
class CaiReaderFuzzIT {
  @FuzzTest(maxDuration = "12s")
  void mutatedFields(FuzzedDataProvider data) throws Exception {
    List<CaiImage> seeds = FuzzSeeds.reader();
    CaiImage seed = seeds.get(data.consumeInt(0, seeds.size() - 1));
    byte[] file = CaiMutator.mutate(seed, data, 6).toBytes();
    run("mutatedFields", file);
  }

  @FuzzTest(maxDuration = "12s")
  void repairedBytes(byte[] input) throws Exception {
    run("repairedBytes", ChecksumRepair.repair(input));
  }

  private static void run(String target, byte[] file) throws Exception {
    Path p = FuzzHarness.write("reader.cai", file);
    FuzzHarness.run(target, file, "cai", () -> FuzzHarness.readEverything(p));
  }
}
