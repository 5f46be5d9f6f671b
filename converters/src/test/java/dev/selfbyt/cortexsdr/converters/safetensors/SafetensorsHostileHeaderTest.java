package dev.selfbyt.cortexsdr.converters.safetensors;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Hostile headers are refused when the file is opened, before anything of a declared size is
 * allocated, with the file, the tensor and the cause.
 */
class SafetensorsHostileHeaderTest {
  @TempDir Path dir;

  private Path write(String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    Path p = dir.resolve("bad.safetensors");
    Files.write(p, b.array());
    return p;
  }

  @ParameterizedTest(name = "{2}")
  @CsvSource(delimiter = '|', value = {
      "{'w':{'dtype':'F32','shape':[2],'data_offsets':[0,16]}}|8|data_offsets [0, 16] out of range",
      "{'a':{'dtype':'F32','shape':[2],'data_offsets':[0,8]},'b':{'dtype':'F32','shape':[2],'data_offsets':[4,12]}}|12|overlap tensor 'a'",
      "{'w':{'dtype':'F32','shape':[4611686018427387904,4],'data_offsets':[0,8]}}|8|more bytes than fit 63 bits",
      "{'w':{'dtype':'F32','shape':[3],'data_offsets':[0,8]}}|8|needs 12 bytes, data_offsets [0, 8] hold 8",
      "{'w':{'dtype':'Q4','shape':[2],'data_offsets':[0,8]}}|8|unknown dtype 'Q4'",
      "{'w':{'dtype':'F32','shape':[2],'data_offsets':[0,8]}|8|header is not valid JSON",
      "{'w':{'dtype':'F32','shape':[-2],'data_offsets':[0,8]}}|8|sizes must be non-negative integers",
      "{'w':{'dtype':'F32','shape':[2],'data_offsets':[8,16]}}|16|bytes 0 to 8 of the data belong to no tensor",
      "{'w':{'dtype':'F32','shape':[2],'data_offsets':[0,8]}}|12|extra bytes at the end",
      "{'w':{'dtype':'F32','shape':[2],'data_offsets':[0,99999999999999999999]}}|8|header is not valid JSON",
      "{'__metadata__':{'n':1},'w':{'dtype':'F32','shape':[2],'data_offsets':[0,8]}}|8|is not a string",
  })
  void refused(String header, int data, String cause) throws IOException {
    Path p = write(header.replace('\'', '"'), data);
    SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsReader.open(p));
    assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(cause), e.getMessage());
  }

  @Test
  void aHeaderLongerThanTheFileIsRefusedWithoutAllocatingIt() throws IOException {
    Path p = dir.resolve("huge.safetensors");
    ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(Long.MAX_VALUE - 3).put("{\"w\":".getBytes(StandardCharsets.UTF_8));
    Files.write(p, b.array());
    SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsReader.open(p));
    assertTrue(e.getMessage().contains("does not fit the file (64 bytes)"), e.getMessage());
  }

  @Test
  void theTensorIsNamed() throws IOException {
    Path p = write("{\"ok\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        + "\"fc.weight\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[4,8]}}", 8);
    SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsReader.open(p));
    assertTrue(e.getMessage().startsWith(p + ": tensor 'fc.weight'") || e.getMessage().contains("fc.weight"),
        e.getMessage());
  }
}
