/**
 * Real models and real text for end-to-end measurements: {@link
 * dev.selfbyt.cortexsdr.it.models.RealModel} (the BERT-family encoders shipped in Maven jars, with
 * ONNX Runtime's int8 twins), {@link dev.selfbyt.cortexsdr.it.models.MobyDick} (sentences from the
 * npm dataset the build unpacks), {@link dev.selfbyt.cortexsdr.it.models.Embedder} (tokenize, run in
 * ONNX Runtime, pool), and {@link dev.selfbyt.cortexsdr.it.models.ModelReport}, the README's main
 * job and the source of the real-model tables in docs/benchmarks.md.
 */
package dev.selfbyt.cortexsdr.it.models;
