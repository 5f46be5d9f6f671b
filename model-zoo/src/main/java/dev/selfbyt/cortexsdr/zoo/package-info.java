/**
 * A DJL model zoo for {@code .cai} models: group {@value
 * dev.selfbyt.cortexsdr.zoo.CortexSdrModelZoo#GROUP_ID}, engine {@code CortexSDR}, models found in
 * DJL repositories (DJL's {@code metadata.json} format) on the classpath, in folders and over
 * http(s), every file checked by size and sha256 before DJL sees it.
 *
 * <pre>{@code
 * Criteria<String, float[]> criteria = Criteria.builder()
 *     .setTypes(String.class, float[].class)
 *     .optApplication(Application.NLP.TEXT_EMBEDDING)
 *     .optEngine("CortexSDR")
 *     .optFilter("quantization", "int8")
 *     .build();                                     // or .optModelUrls("djl://dev.selfbyt.cortexsdr.zoo/all-minilm-l6-v2")
 * try (ZooModel<String, float[]> model = criteria.loadModel();
 *      Predictor<String, float[]> p = model.newPredictor()) {
 *   float[] embedding = p.predict("Call me Ishmael.");
 * }
 * }</pre>
 *
 * <p>Design:
 *
 * <ul>
 *   <li>{@link dev.selfbyt.cortexsdr.zoo.CortexSdrZooProvider} registers {@link
 *       dev.selfbyt.cortexsdr.zoo.CortexSdrModelZoo} through {@code META-INF/services}; the zoo holds
 *       one DJL {@code BaseModelLoader} per artifact id, over one {@link
 *       dev.selfbyt.cortexsdr.zoo.ZooRepository} that reads the locations named by the system
 *       property {@code dev.selfbyt.cortexsdr.zoo.repositories} and every zoo jar on the classpath.
 *   <li>{@link dev.selfbyt.cortexsdr.zoo.ZooRepository} is a DJL {@code Repository} over several
 *       {@link dev.selfbyt.cortexsdr.zoo.ZooSource}s (a folder, a classpath prefix or a jar, an
 *       http(s) URL); it merges the artifacts each source lists for a model, and prepares one into
 *       DJL's cache through a temporary folder that is renamed into place only once every file
 *       matched its declared size and sha256 ({@link dev.selfbyt.cortexsdr.zoo.VerifiedCopy}).
 *   <li>{@link dev.selfbyt.cortexsdr.zoo.ZooMetadata} reads and checks a {@code metadata.json}
 *       (paths that stay inside the repository, sizes under the limit, a sha256 for every file)
 *       before handing DJL its {@code Metadata}; {@link dev.selfbyt.cortexsdr.zoo.RepoPath} is the
 *       one rule for what a path in a repository may look like.
 *   <li>{@link dev.selfbyt.cortexsdr.zoo.HttpSource} fetches with redirects followed only to the
 *       same host, and with {@code ai.djl.offline=true} only from loopback addresses.
 *   <li>{@link dev.selfbyt.cortexsdr.zoo.ZooIntegrityException} is every refusal (hash, size,
 *       path, redirect), an {@code IOException} naming the URL and the cause.
 *   <li>{@link dev.selfbyt.cortexsdr.zoo.DjlUrlRepositoryFactory} answers {@code djl://} URLs:
 *       this zoo's group from its repositories, every other group as DJL does.
 * </ul>
 *
 * <p>Publishing lives in {@link dev.selfbyt.cortexsdr.zoo.publish}.
 */
package dev.selfbyt.cortexsdr.zoo;
