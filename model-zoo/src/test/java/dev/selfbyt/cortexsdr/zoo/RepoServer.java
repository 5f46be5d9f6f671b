package dev.selfbyt.cortexsdr.zoo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A static file server on loopback for the zoo's http tests: serves {@code root} under {@code
 * /repo/}, counts the requests for each path, and lets a test replace what one path answers (a
 * redirect, a connection cut mid-body).
 */
final class RepoServer implements AutoCloseable {
  /** What a path answers instead of its file. */
  interface Answer {
    void answer(HttpExchange ex, Path file) throws IOException;
  }

  private final HttpServer server;
  private final Path root;
  final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
  final Map<String, Answer> answers = new ConcurrentHashMap<>();

  RepoServer(Path root) throws IOException {
    this.root = root;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  /** The repository's URL. */
  String url() {
    return base() + "/repo/";
  }

  String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Requests seen for paths ending in {@code suffix}. */
  int requestsEndingWith(String suffix) {
    return requests.entrySet().stream().filter(e -> e.getKey().endsWith(suffix)).mapToInt(e -> e.getValue().get())
        .sum();
  }

  private void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    requests.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
    try (ex) {
      Path file = path.startsWith("/repo/") ? root.resolve(path.substring("/repo/".length())).normalize() : null;
      for (Map.Entry<String, Answer> a : answers.entrySet()) {
        if (path.startsWith(a.getKey())) {
          a.getValue().answer(ex, file);
          return;
        }
      }
      if (file == null || !file.startsWith(root) || !Files.isRegularFile(file)) {
        ex.sendResponseHeaders(404, -1);
        return;
      }
      ex.sendResponseHeaders(200, Files.size(file));
      try (InputStream in = Files.newInputStream(file); OutputStream out = ex.getResponseBody()) {
        in.transferTo(out);
      }
    }
  }

  /** Answers with a redirect to {@code location}. */
  static Answer redirect(String location) {
    return (ex, file) -> {
      ex.getResponseHeaders().set("Location", location);
      ex.sendResponseHeaders(302, -1);
    };
  }

  /** Declares the whole file, sends half, and drops the connection. */
  static Answer cutHalfway() {
    return (ex, file) -> {
      long size = Files.size(file);
      ex.sendResponseHeaders(200, size);
      OutputStream out = ex.getResponseBody();
      try (InputStream in = Files.newInputStream(file)) {
        out.write(in.readNBytes((int) (size / 2)));
      }
      out.flush();
      throw new IOException("connection cut by the test"); // the server drops the connection short of its length
    };
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
