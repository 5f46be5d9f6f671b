package dev.selfbyt.cortexsdr.zoo;

import ai.djl.util.Utils;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * A repository over http(s). Redirects are followed (at most five) only when they stay on the same
 * scheme, host and port; a redirect elsewhere is a {@link ZooIntegrityException} ({@code REDIRECT}),
 * since the metadata's hashes vouch for the repository, not for wherever it points. A Content-Length
 * above what the caller accepts is refused before the body is read.
 *
 * <p>With {@code ai.djl.offline=true} (or {@code DJL_OFFLINE}) only loopback hosts ({@code localhost},
 * {@code 127.0.0.0/8}, {@code ::1}) are contacted: offline means no network, and a server on this
 * machine is not the network. DJL's own {@code Utils.openUrl} refuses every http URL in offline
 * mode; this source does not go through it.
 */
public final class HttpSource extends ZooSource {
  private static final int MAX_REDIRECTS = 5;
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .followRedirects(HttpClient.Redirect.NEVER)
      .connectTimeout(Duration.ofSeconds(15))
      .build();

  private final URI base;

  HttpSource(URI base) {
    this.base = base;
  }

  @Override
  public String describe(String path) {
    return base.resolve(path).toString();
  }

  @Override
  public InputStream open(String path, long maxBytes) throws IOException {
    URI uri = base.resolve(path);
    checkOffline(uri);
    for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
      HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).GET().build();
      HttpResponse<InputStream> resp;
      try {
        resp = CLIENT.send(req, HttpResponse.BodyHandlers.ofInputStream());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException(uri + ": interrupted");
      }
      int code = resp.statusCode();
      if (code == 200) {
        long length = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
        if (length > maxBytes) {
          resp.body().close();
          throw new ZooIntegrityException(ZooIntegrityException.Reason.TOO_LARGE, uri.toString(), "the server sends "
              + length + " bytes, more than the " + maxBytes + " expected");
        }
        return resp.body();
      }
      resp.body().close();
      if (code == 404 || code == 410) {
        return null;
      }
      if (code == 301 || code == 302 || code == 303 || code == 307 || code == 308) {
        String location = resp.headers().firstValue("Location").orElseThrow(() ->
            new IOException(describe(path) + ": redirect " + code + " without a Location"));
        URI next = uri.resolve(location);
        if (!sameOrigin(uri, next)) {
          throw new ZooIntegrityException(ZooIntegrityException.Reason.REDIRECT, describe(path), "redirected to "
              + next + ", another host; the zoo follows redirects only within the repository's host (publish the"
              + " repository at its final address)");
        }
        uri = next;
        continue;
      }
      throw new IOException(uri + ": http status " + code);
    }
    throw new IOException(describe(path) + ": more than " + MAX_REDIRECTS + " redirects");
  }

  private static boolean sameOrigin(URI a, URI b) {
    return a.getScheme().equalsIgnoreCase(Objects.toString(b.getScheme(), ""))
        && a.getHost() != null && a.getHost().equalsIgnoreCase(Objects.toString(b.getHost(), ""))
        && port(a) == port(b);
  }

  private static int port(URI u) {
    return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }

  private static void checkOffline(URI uri) throws ZooIntegrityException {
    if (Utils.isOfflineMode() && !isLoopback(uri.getHost())) {
      throw new ZooIntegrityException(ZooIntegrityException.Reason.OFFLINE, uri.toString(), "not fetched: DJL is in "
          + "offline mode (ai.djl.offline=true or DJL_OFFLINE), which lets the zoo reach only loopback hosts");
    }
  }

  /** Whether {@code host} is this machine, decided without a DNS lookup. */
  static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    if (h.equals("localhost")) {
      return true;
    }
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.matches("[0-9.]+") || h.contains(":")) { // an address literal: no name lookup happens
      try {
        return InetAddress.getByName(h).isLoopbackAddress();
      } catch (java.net.UnknownHostException e) {
        return false;
      }
    }
    return false;
  }
}
