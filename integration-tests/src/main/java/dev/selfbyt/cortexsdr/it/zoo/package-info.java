/**
 * The project's own model zoo, built by the build with no network: {@link
 * dev.selfbyt.cortexsdr.it.zoo.ProjectZoo} compresses all-MiniLM-L6-v2 and bge-small-en-v1.5 from
 * their Maven jars (int8, and int4 calibrated with GPTQ on Moby-Dick sentences), publishes them into
 * a repository folder, packs it as a jar repository and writes each variant as a Maven artifact;
 * {@link dev.selfbyt.cortexsdr.it.zoo.ZooLoadBench} times {@code loadModel()} to the first
 * embedding from the zoo against DJL's OnnxRuntime engine on the fp32 model.
 */
package dev.selfbyt.cortexsdr.it.zoo;
