package dev.selfbyt.cortexsdr.zoo;

import java.util.regex.Pattern;

/**
 * What a path inside a zoo repository may look like: relative, segments of letters, digits and
 * {@code . _ + -} that do not start with a dot (so no {@code ..}, no hidden files), separated by
 * single slashes. Anything else (an absolute path or URL, a backslash, a percent escape) is refused,
 * so that no name read from a repository can point outside it or outside DJL's cache.
 */
public final class RepoPath {
  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,127}");

  private RepoPath() {}

  /** Whether {@code s} is one safe path segment. */
  public static boolean isSegment(String s) {
    return s != null && SEGMENT.matcher(s).matches();
  }

  /**
   * Returns {@code path} if it is a safe relative path (one or more segments), else throws.
   *
   * @param where the file or URL the path was read from, for the message
   * @param what what the path names ("uri of file 'model'"), for the message
   */
  public static String check(String path, String where, String what) throws ZooIntegrityException {
    if (path == null || path.isEmpty()) {
      throw new ZooIntegrityException(ZooIntegrityException.Reason.PATH_ESCAPE, where, what + " is missing");
    }
    for (String s : path.split("/", -1)) {
      if (!isSegment(s)) {
        throw new ZooIntegrityException(ZooIntegrityException.Reason.PATH_ESCAPE, where, what + " '" + path
            + "' is not a plain relative path inside the repository (segment '" + s + "': use letters, digits and"
            + " . _ + -, no '..', no leading '/' or '.', no URL)");
      }
    }
    return path;
  }

  /** Returns {@code segment} if it is one safe segment (no slash), else throws. */
  public static String checkSegment(String segment, String where, String what) throws ZooIntegrityException {
    if (!isSegment(segment)) {
      throw new ZooIntegrityException(ZooIntegrityException.Reason.PATH_ESCAPE, where, what + " '" + segment
          + "' is not a plain name (letters, digits and . _ + -, not starting with '.', no '/')");
    }
    return segment;
  }

  /** The repository path of a group id: {@code com.example.models} becomes {@code com/example/models}. */
  public static String ofGroup(String groupId) {
    return groupId.replace('.', '/');
  }
}
