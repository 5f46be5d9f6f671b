/**
 * Publishing {@code .cai} models into DJL repositories and Maven artifacts.
 *
 * <ul>
 *   <li>{@link dev.selfbyt.cortexsdr.zoo.publish.Publication} is what to publish: coordinates
 *       (group, artifact, version, application, name), properties to filter on, the translator
 *       arguments, and the files (the {@code .cai}, a tokenizer, any other).
 *   <li>{@link dev.selfbyt.cortexsdr.zoo.publish.RepositoryPublisher} adds one to a repository
 *       folder: files first (in content-addressed folders), then {@code metadata.json} and the
 *       repository's {@code index.json}, each through a temporary file and a rename, all under
 *       a lock (a file lock between processes, a JVM lock between threads), so that readers
 *       and concurrent publishers never see a half-written repository.
 *   <li>{@link dev.selfbyt.cortexsdr.zoo.publish.MavenArtifactWriter} writes the same as a Maven
 *       artifact: a jar holding a one-model repository under {@code cortexsdr-zoo/} (where the
 *       zoo looks on the classpath), and its pom.
 * </ul>
 */
package dev.selfbyt.cortexsdr.zoo.publish;
