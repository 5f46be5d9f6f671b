package dev.selfbyt.cortexsdr.converters.onnx;

import dev.selfbyt.cortexsdr.core.format.CaiException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * 16-bit PCM {@code .wav} audio as calibration input: read (RIFF/WAVE, format 1 or
 * WAVE_FORMAT_EXTENSIBLE with a PCM subformat, any channel count mixed down to mono), scaled to
 * [-1, 1), resampled to the model's rate (linear interpolation: calibration needs activations of
 * the right statistics, not studio quality) and cut into chunks of the model's input length.
 * Other encodings are refused with the file and the cause.
 */
public final class WavAudio {
  /** Mono samples in [-1, 1) and their rate. */
  public record Audio(float[] samples, int rate) {}

  private WavAudio() {}

  /** Reads a 16-bit PCM wav file. */
  public static Audio read(Path file) throws IOException {
    byte[] b = Files.readAllBytes(file);
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    if (b.length < 12 || bb.getInt(0) != 0x46464952 || bb.getInt(8) != 0x45564157) { // "RIFF", "WAVE"
      throw new CaiException(file.toString(), null, "not a RIFF/WAVE file");
    }
    int channels = -1;
    int rate = -1;
    int bits = -1;
    int pos = 12;
    while (pos + 8 <= b.length) {
      int id = bb.getInt(pos);
      long len = Integer.toUnsignedLong(bb.getInt(pos + 4));
      int body = pos + 8;
      if (body + len > b.length) {
        len = b.length - body; // a truncated last chunk: what is there
      }
      if (id == 0x20746d66) { // "fmt "
        if (len < 16) {
          throw new CaiException(file.toString(), null, "fmt chunk of " + len + " bytes is too short");
        }
        int format = Short.toUnsignedInt(bb.getShort(body));
        channels = Short.toUnsignedInt(bb.getShort(body + 2));
        rate = bb.getInt(body + 4);
        bits = Short.toUnsignedInt(bb.getShort(body + 14));
        if (format == 0xFFFE && len >= 26) {
          format = Short.toUnsignedInt(bb.getShort(body + 24)); // the subformat GUID's first two bytes
        }
        if (format != 1 || bits != 16) {
          throw new CaiException(file.toString(), null, "only 16-bit PCM wav is read; this one is format " + format
              + ", " + bits + " bits: convert it (e.g. sox in.wav -b 16 -e signed-integer out.wav)");
        }
        if (channels < 1 || rate < 1) {
          throw new CaiException(file.toString(), null, "fmt chunk says " + channels + " channels at " + rate + " Hz");
        }
      } else if (id == 0x61746164) { // "data"
        if (channels < 0) {
          throw new CaiException(file.toString(), null, "data chunk before the fmt chunk");
        }
        int frames = (int) (len / (2L * channels));
        float[] mono = new float[frames];
        for (int i = 0; i < frames; i++) {
          float sum = 0;
          for (int c = 0; c < channels; c++) {
            sum += bb.getShort(body + 2 * (i * channels + c)) / 32768f;
          }
          mono[i] = sum / channels;
        }
        if (frames == 0) {
          throw new CaiException(file.toString(), null, "the wav file has no samples");
        }
        return new Audio(mono, rate);
      }
      pos = (int) (body + len + (len & 1)); // chunks are padded to even sizes
    }
    throw new CaiException(file.toString(), null, channels < 0 ? "no fmt chunk" : "no data chunk");
  }

  /** {@code a} at {@code rate}, by linear interpolation. */
  public static float[] resample(Audio a, int rate) {
    if (a.rate() == rate) {
      return a.samples();
    }
    int n = (int) Math.max(1, (long) a.samples().length * rate / a.rate());
    float[] out = new float[n];
    double step = (double) a.rate() / rate;
    for (int i = 0; i < n; i++) {
      double x = i * step;
      int j = (int) x;
      double t = x - j;
      float p = a.samples()[Math.min(j, a.samples().length - 1)];
      float q = a.samples()[Math.min(j + 1, a.samples().length - 1)];
      out[i] = (float) (p + (q - p) * t);
    }
    return out;
  }

  /** Chunks of {@code length} samples; the last one zero-padded, dropped when under half full. */
  public static List<float[]> chunks(float[] samples, int length) {
    List<float[]> out = new ArrayList<>();
    for (int start = 0; start < samples.length; start += length) {
      int n = Math.min(length, samples.length - start);
      if (n < length && n * 2 < length && !out.isEmpty()) {
        break;
      }
      float[] c = new float[length];
      System.arraycopy(samples, start, c, 0, n);
      out.add(c);
    }
    return out;
  }
}
