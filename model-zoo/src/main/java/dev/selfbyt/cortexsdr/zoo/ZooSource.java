package dev.selfbyt.cortexsdr.zoo;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One place a repository's files are read from: a folder ({@code file:} URL or path), a jar or
 * classpath folder ({@code jar:file:/x.jar!/prefix/}, or {@code jar:///prefix} for every classpath
 * entry holding {@code prefix/index.json}), or an http(s) URL ({@link HttpSource}). Paths handed to
 * a source have passed {@link RepoPath#check}.
 */
public abstract class ZooSource {
  /** Where the zoo looks on the classpath: every {@code cortexsdr-zoo/index.json} is a repository. */
  public static final String CLASSPATH_PREFIX = "cortexsdr-zoo";

  /** The location of {@code path} in this source, for messages and the cache key. */
  public abstract String describe(String path);

  /**
   * Opens {@code path}, or returns null when the source does not hold it.
   *
   * @param maxBytes the most bytes the caller will accept; a source that knows the size before
   *     reading (an http Content-Length) refuses a larger file at once
   */
  public abstract InputStream open(String path, long maxBytes) throws IOException;

  /** The paths of the {@code metadata.json} files found by walking the source (a folder; others list none). */
  List<String> walkMetadata() throws IOException {
    return List.of();
  }

  /** Reads a small file whole (metadata, index), or returns null when absent. */
  byte[] readSmall(String path, long maxBytes) throws IOException {
    try (InputStream in = open(path, maxBytes)) {
      if (in == null) {
        return null;
      }
      byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
      if (b.length > maxBytes) {
        throw new ZooIntegrityException(ZooIntegrityException.Reason.TOO_LARGE, describe(path),
            "larger than " + maxBytes + " bytes, the limit for a metadata file");
      }
      return b;
    }
  }

  @Override
  public String toString() {
    return describe("");
  }

  /**
   * The sources a location names: a path or {@code file:} URL (a folder), {@code jar:///prefix}
   * (each classpath entry of {@code loader} holding {@code prefix/index.json}), {@code
   * jar:file:...!/prefix} (one jar), {@code http://} or {@code https://}.
   */
  public static List<ZooSource> parse(String location, ClassLoader loader) throws IOException {
    String loc = location.trim();
    if (loc.startsWith("jar:///") || loc.equals("classpath")) {
      String prefix = loc.equals("classpath") ? CLASSPATH_PREFIX : stripSlashes(loc.substring("jar:///".length()));
      List<ZooSource> out = new ArrayList<>();
      for (URL u : Collections.list(loader.getResources(prefix + "/index.json"))) {
        String s = u.toString();
        out.add(new UrlSource(s.substring(0, s.length() - "index.json".length())));
      }
      if (out.isEmpty() && !loc.equals("classpath")) {
        throw new IOException(location + ": no classpath entry holds " + prefix + "/index.json (put the zoo jar on the "
            + "classpath, or name the jar itself as jar:file:/path/to.jar!/" + prefix + ")");
      }
      return out;
    }
    if (loc.startsWith("jar:")) {
      return List.of(new UrlSource(loc.endsWith("/") ? loc : loc + "/"));
    }
    if (loc.startsWith("http://") || loc.startsWith("https://")) {
      return List.of(new HttpSource(URI.create(loc.endsWith("/") ? loc : loc + "/")));
    }
    Path dir = loc.startsWith("file:") ? Path.of(URI.create(loc)) : Path.of(loc);
    if (!Files.isDirectory(dir)) {
      throw new java.io.FileNotFoundException(location + ": not a folder (a repository is the folder that "
          + "`cortexsdr publish --repo` wrote)");
    }
    return List.of(new FolderSource(dir));
  }

  private static String stripSlashes(String s) {
    String r = s;
    while (r.endsWith("/")) {
      r = r.substring(0, r.length() - 1);
    }
    return r;
  }

  /** A repository in a folder. */
  static final class FolderSource extends ZooSource {
    private final Path root;

    FolderSource(Path root) {
      this.root = root.toAbsolutePath().normalize();
    }

    @Override
    public String describe(String path) {
      return root.resolve(path).toUri().toString();
    }

    @Override
    public InputStream open(String path, long maxBytes) throws IOException {
      Path f = root.resolve(path);
      if (!Files.isRegularFile(f)) {
        return null;
      }
      return Files.newInputStream(f);
    }

    @Override
    List<String> walkMetadata() throws IOException {
      Path models = root.resolve("model");
      if (!Files.isDirectory(models)) {
        return List.of();
      }
      try (var s = Files.walk(models, 12)) {
        return s.filter(p -> p.getFileName().toString().equals("metadata.json") && Files.isRegularFile(p))
            .map(p -> root.relativize(p).toString().replace(java.io.File.separatorChar, '/')).sorted().toList();
      }
    }
  }

  /** A repository read through URLs: a jar ({@code jar:file:...!/prefix/}) or a classpath folder. */
  static final class UrlSource extends ZooSource {
    private final String base;

    UrlSource(String base) {
      this.base = base;
    }

    @Override
    public String describe(String path) {
      return base + path;
    }

    @Override
    public InputStream open(String path, long maxBytes) throws IOException {
      java.net.URLConnection c = URI.create(base + path).toURL().openConnection();
      c.setUseCaches(false); // no shared JarFile kept open (and locked on Windows) after the read
      try {
        return c.getInputStream();
      } catch (java.io.FileNotFoundException | java.nio.file.NoSuchFileException e) {
        return null;
      }
    }
  }
}
