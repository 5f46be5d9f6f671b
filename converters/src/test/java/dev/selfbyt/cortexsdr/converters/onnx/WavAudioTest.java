package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.format.CaiException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 16-bit PCM wav read, mixed to mono, resampled and chunked; other encodings refused. */
class WavAudioTest {
  @TempDir Path dir;

  /** A canonical 44-byte-header wav of {@code frames} frames of {@code channels} channels. */
  static byte[] wav(int rate, int channels, int bits, int format, short[] samples) {
    int data = samples.length * 2;
    ByteBuffer b = ByteBuffer.allocate(44 + data).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes()).putInt(36 + data).put("WAVE".getBytes());
    b.put("fmt ".getBytes()).putInt(16).putShort((short) format).putShort((short) channels).putInt(rate)
        .putInt(rate * channels * bits / 8).putShort((short) (channels * bits / 8)).putShort((short) bits);
    b.put("data".getBytes()).putInt(data);
    for (short s : samples) {
      b.putShort(s);
    }
    return b.array();
  }

  @Test
  void readsResamplesAndChunks() throws Exception {
    short[] stereo = new short[2 * 800]; // 0.1 s at 8 kHz, left a ramp, right silent
    for (int i = 0; i < 800; i++) {
      stereo[2 * i] = (short) (i * 16);
    }
    Path f = dir.resolve("a.wav");
    Files.write(f, wav(8000, 2, 16, 1, stereo));
    WavAudio.Audio a = WavAudio.read(f);
    assertEquals(8000, a.rate());
    assertEquals(800, a.samples().length);
    assertEquals(100 * 16 / 32768f / 2, a.samples()[100], 1e-6); // mixed to mono
    float[] up = WavAudio.resample(a, 16000);
    assertEquals(1600, up.length);
    assertEquals((a.samples()[100] + a.samples()[101]) / 2, up[201], 1e-6); // halfway between
    List<float[]> chunks = WavAudio.chunks(up, 512);
    assertEquals(3, chunks.size()); // 1600 = 3 x 512 + 64: the last 64 are under half a chunk
    assertEquals(512, chunks.get(2).length);
  }

  @Test
  void refusesOtherEncodings() throws Exception {
    Path f = dir.resolve("b.wav");
    Files.write(f, wav(8000, 1, 8, 1, new short[4]));
    String m = assertThrows(CaiException.class, () -> WavAudio.read(f)).getMessage();
    assertTrue(m.contains("16-bit PCM") && m.contains("b.wav"), m);
    Files.write(f, wav(8000, 1, 32, 3, new short[4]));
    m = assertThrows(CaiException.class, () -> WavAudio.read(f)).getMessage();
    assertTrue(m.contains("format 3"), m);
    Files.write(f, "RIFF....AVI LIST".getBytes());
    m = assertThrows(CaiException.class, () -> WavAudio.read(f)).getMessage();
    assertTrue(m.contains("not a RIFF/WAVE"), m);
  }
}
